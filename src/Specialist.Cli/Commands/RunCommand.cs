using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Spectre.Console;
using Specialist.Evaluation;
using Specialist.Pipeline;
using Specialist.Reports;

namespace Specialist.Cli.Commands;

/// <summary>
/// <c>specialist run [--profile quick|default|full] [--out DIR] [--seed S | --seeds S1,S2,…]</c>: the whole pipeline on
/// the built-in miniature world (<see cref="MiniatureRun"/>), with a progress line per stage and the phenomena at the
/// end, once per seed with the aggregate verdict counts when there are several (<see cref="MultiSeedRun"/>); and
/// <c>specialist run --config FILE [--out DIR]</c>: the pipeline on a real student, teacher and data root
/// (<see cref="ConfiguredRun"/>), with the accuracy before and after at the end.
/// </summary>
internal static class RunCommand
{
    private const string Usage =
        "usage: specialist run [--profile quick|default|full] [--out DIR] [--seed S | --seeds S1,S2,...] [--json]\n" +
        "       specialist run --config FILE [--out DIR] [--json]\n" +
        "  The paper in miniature, offline: synthetic math and BBH-like tasks, a teacher T5 trained from scratch (cached in\n" +
        "  ~/.cache/specialist, or $SPECIALIST_CACHE), served on 127.0.0.1 and annotated over HTTP, alignment to the student\n" +
        "  tokenizer, three student sizes trained as generalists and specialized (distribution matching; sample matching,\n" +
        "  zero-shot formats only, generic replay and an equal-compute control on one size), evaluation and a report with the\n" +
        "  paper's six phenomena.\n" +
        "  --profile  quick (~1 min, a smoke test), default (~23 min on 2 cores, ~14 with the teacher cached), full (bigger, longer)\n" +
        "  --out      the run folder (default: runs/<profile>); every stage writes there: world/ (sets, prompts, tokenizers),\n" +
        "             annotate/ (annotations.db, teacher-eval/), distill/ (distillation sets), students/ (training runs),\n" +
        "             eval/ (results.json, predictions.jsonl), report/ (report.md, phenomena.json, figures), stages.json (timings)\n" +
        "  --seed     the run seed (default 0): the students, their data order and the annotation sampling; the world's\n" +
        "             problems and the teacher are the same for every seed\n" +
        "  --seeds    several seeds, e.g. 0,1,2 (not with --seed; the full profile runs 0,1,2 when neither is given): one\n" +
        "             complete run folder per seed, OUT/seed-N/ (the same folder --seed N --out OUT/seed-N makes, so each\n" +
        "             reuses the other's stages), then OUT/report/: report.md and phenomena.json with every figure as\n" +
        "             mean ± sd over the seeds, each phenomenon's verdict count, and figures with error bars\n" +
        "  --config   a real run instead (docs/run-config.md): a JSON file naming the student checkpoint, the teacher endpoint\n" +
        "             (key from $OPENAI_API_KEY), the data root and each stage's settings; stages annotate, align, train, eval\n" +
        "             (before and after) and report; --out replaces the file's out; --profile, --seed and --seeds do not apply\n" +
        "  Running the same command again skips the stages that finished and resumes interrupted annotation and training.";

    public static async Task<int> RunAsync(string[] args)
    {
        var parsed = CommandArgs.Parse(args, "json", "help");
        if (parsed.Flag("help"))
        {
            Console.WriteLine(Usage);
            return 0;
        }
        if (parsed.Get("config") is { } configPath) return await RunConfigured(parsed, configPath);
        var profile = parsed.Get("profile", "default", RunProfile.Parse);
        var output = parsed.Get("out") ?? Path.Combine("runs", profile.Name);
        var seedText = parsed.Get("seed");
        var several = parsed.Get("seeds", MultiSeedRun.ParseSeeds);
        if (seedText is not null && several is not null)
            throw new UsageException("--seed and --seeds exclude each other: --seed S runs one seed, --seeds S1,S2,... several");
        ulong seed = 0;
        if (seedText is not null && !ulong.TryParse(seedText, NumberStyles.None, CultureInfo.InvariantCulture, out seed))
            throw new UsageException($"option --seed: '{seedText}' is not a non-negative integer");
        var json = parsed.Flag("json");
        parsed.EnsureAllUsed();
        if (seedText is null && several is null)
        {
            if (profile.Seeds.Count == 1) seed = profile.Seeds[0];
            else several = profile.Seeds;
        }
        if (several is not null) return await RunSeeds(profile, output, several, json);

        var summary = await Interruptible($"--out {output}", (display, stop) => MiniatureRun.RunAsync(new RunOptions(profile, output, seed), display.Report, stop));
        if (summary is null) return 130;
        if (json)
        {
            Console.WriteLine(new JsonObject
            {
                ["out"] = summary.OutputFolder,
                ["report"] = summary.ReportPath,
                ["phenomena"] = summary.PhenomenaPath,
                ["teacher"] = summary.TeacherFolder,
                ["teacher_cached"] = summary.TeacherCached,
                ["stages"] = StagesJson(summary.Timings),
                ["verdicts"] = new JsonObject([.. summary.Phenomena.Select(p => KeyValuePair.Create(p.Id, (JsonNode?)p.VerdictText))]),
            }.ToJsonString());
            return 0;
        }
        AnsiConsole.Write(StagesTable(summary.Timings));
        Console.WriteLine(TeacherLine(summary));
        foreach (var p in summary.Phenomena)
            Console.WriteLine($"{p.Id} {p.VerdictText,-12} {p.Title}");
        Console.WriteLine($"report: {summary.ReportPath}");
        Console.WriteLine($"numbers: {summary.PhenomenaPath}");
        return 0;
    }

    /// <summary><c>run [--profile P] --seeds S1,S2,… [--out DIR] [--json]</c>: each seed's progress, then a table of the seeds and the verdict counts.</summary>
    private static async Task<int> RunSeeds(RunProfile profile, string output, IReadOnlyList<ulong> seeds, bool json)
    {
        var summary = await Interruptible($"--profile {profile.Name} --seeds {string.Join(",", seeds)} --out {output}",
            (display, stop) => MultiSeedRun.RunAsync(new MultiSeedOptions(profile, output, seeds), (seed, e) => display.Report(e with { Stage = $"seed {seed} {e.Stage}" }), stop));
        if (summary is null) return 130;
        if (json)
        {
            Console.WriteLine(new JsonObject
            {
                ["out"] = summary.OutputFolder,
                ["report"] = summary.ReportPath,
                ["phenomena"] = summary.PhenomenaPath,
                ["seeds"] = new JsonObject([.. seeds.Zip(summary.Runs, (seed, run) => KeyValuePair.Create(seed.ToString(CultureInfo.InvariantCulture), (JsonNode?)new JsonObject
                {
                    ["out"] = run.OutputFolder,
                    ["stages"] = StagesJson(run.Timings),
                }))]),
                ["verdicts"] = new JsonObject([.. summary.Phenomena.Select(p => KeyValuePair.Create(p.Id,
                    (JsonNode?)new JsonObject([.. p.Counts.Select(c => KeyValuePair.Create(c.Key, (JsonNode?)c.Value))])))]),
            }.ToJsonString());
            return 0;
        }
        for (var i = 0; i < seeds.Count; i++)
        {
            var run = summary.Runs[i];
            var observed = summary.Phenomena.Where(p => p.ObservedIn(i)).Select(p => p.Id).ToList();
            Console.WriteLine($"seed {seeds[i]}: {run.OutputFolder}, {run.Timings.Count(t => !t.Reused)} stages run, {run.Timings.Count(t => t.Reused)} reused; " +
                              $"observed: {(observed.Count > 0 ? string.Join(", ", observed) : "none")}");
        }
        Console.WriteLine(TeacherLine(summary.Runs[0]));
        foreach (var p in summary.Phenomena)
            Console.WriteLine($"{p.Id} {p.Summary}: {p.Title}");
        Console.WriteLine($"report: {summary.ReportPath}");
        Console.WriteLine($"numbers: {summary.PhenomenaPath}");
        return 0;
    }

    private static string TeacherLine(RunSummary run) => run.TeacherCached
        ? $"teacher: reused the cached teacher {run.TeacherFolder}"
        : $"teacher: trained and cached in {run.TeacherFolder} (the next run reuses it)";

    /// <summary><c>run --config FILE [--out DIR] [--json]</c>.</summary>
    private static async Task<int> RunConfigured(CommandArgs parsed, string configPath)
    {
        var miniatureOnly = new[] { "profile", "seed", "seeds" }.Where(name => parsed.Get(name) is not null).Select(name => "--" + name).ToList();
        if (miniatureOnly.Count > 0)
            throw new UsageException($"{string.Join(" and ", miniatureOnly)} {(miniatureOnly.Count == 1 ? "applies" : "apply")} to the miniature run only; with --config every setting comes from the file");
        var output = parsed.Get("out");
        var json = parsed.Flag("json");
        parsed.EnsureAllUsed();
        var config = RunConfig.ReadFile(configPath, output);

        var summary = await Interruptible($"--config {configPath}{(output is null ? "" : $" --out {output}")}",
            (display, stop) => Task.Run(() => ConfiguredRun.Run(config, display.Report, stop)));
        if (summary is null) return 130;
        if (json)
        {
            static JsonObject Results(EvaluationResults r) => new()
            {
                ["sets"] = EvaluationResults.AccuracyTable(r.Sets),
                ["math_mean"] = r.MathMean,
                ["bbh_mean"] = r.BbhMean?.Value,
            };
            Console.WriteLine(new JsonObject
            {
                ["out"] = summary.OutputFolder,
                ["report"] = summary.ReportPath,
                ["stages"] = StagesJson(summary.Timings),
                ["before"] = Results(summary.Before),
                ["after"] = Results(summary.After),
            }.ToJsonString());
            return 0;
        }
        AnsiConsole.Write(StagesTable(summary.Timings));
        var accuracy = new Table().AddColumns("set", "before", "after");
        accuracy.Columns[1].RightAligned();
        accuracy.Columns[2].RightAligned();
        static string Percent(double? value) => value is { } v ? (100 * v).ToString("F1", CultureInfo.InvariantCulture) + " %" : "-";
        foreach (var set in summary.Before.Sets.Keys.Union(summary.After.Sets.Keys))
            accuracy.AddRow(Markup.Escape(set), Percent(summary.Before.Sets.GetValueOrDefault(set)?.Accuracy), Percent(summary.After.Sets.GetValueOrDefault(set)?.Accuracy));
        accuracy.AddRow("math mean", Percent(summary.Before.MathMean), Percent(summary.After.MathMean));
        if (summary.Before.BbhMean is not null || summary.After.BbhMean is not null)
            accuracy.AddRow(Markup.Escape($"BBH {(summary.After.BbhMean ?? summary.Before.BbhMean)!.Description}"), Percent(summary.Before.BbhMean?.Value), Percent(summary.After.BbhMean?.Value));
        AnsiConsole.Write(accuracy);
        Console.WriteLine($"report: {summary.ReportPath}");
        return 0;
    }

    /// <summary>
    /// Runs <paramref name="work"/> with progress on stderr; SIGINT and SIGTERM ask it to stop after the current step.
    /// Null when it stopped so, after saying how to continue (<paramref name="again"/>: the options that name the run).
    /// </summary>
    private static async Task<T?> Interruptible<T>(string again, Func<StageDisplay, CancellationToken, Task<T>> work) where T : class
    {
        using var stop = new StopSignals("run: stopping after the current training steps (signal again to quit at once; run the same command again to continue)");
        var display = new StageDisplay();
        T result;
        try
        {
            result = await work(display, stop.Token);
        }
        catch (OperationCanceledException) when (stop.Requested)
        {
            display.Finish();
            Console.Error.WriteLine($"run: interrupted; continue with the same command ({again})");
            return null;
        }
        display.Finish();
        return result;
    }

    private static JsonObject StagesJson(IReadOnlyList<StageTiming> timings) =>
        new([.. timings.Select(t => KeyValuePair.Create(t.Stage, (JsonNode?)new JsonObject { ["seconds"] = t.Seconds, ["reused"] = t.Reused }))]);

    private static Table StagesTable(IReadOnlyList<StageTiming> timings)
    {
        var table = new Table().AddColumns("stage", "seconds", "");
        table.Columns[1].RightAligned();
        foreach (var t in timings)
            table.AddRow(t.Stage, t.Seconds.ToString("F1", CultureInfo.InvariantCulture), t.Reused ? "done in an earlier run" : "");
        return table;
    }

    /// <summary>
    /// Progress on stderr: on a terminal one line per stage redrawn in place (message, percent, ETA); otherwise every
    /// message on its own line, prefixed with its stage.
    /// </summary>
    private sealed class StageDisplay
    {
        private readonly bool _terminal = !Console.IsErrorRedirected;
        private readonly Lock _lock = new();
        private bool _open;

        public void Report(RunEvent e)
        {
            lock (_lock)
            {
                var percent = e.Fraction is { } f ? string.Create(CultureInfo.InvariantCulture, $" [{100 * f,3:F0} %]") : "";
                var eta = e.Eta is { } t ? $" ETA {(int)t.TotalMinutes:D2}:{t.Seconds:D2}" : "";
                var line = $"{e.Stage}{percent}{eta} {e.Message}";
                if (!_terminal)
                {
                    Console.Error.WriteLine("run: " + line);
                    return;
                }
                var width = Math.Max(40, Console.WindowWidth - 1);
                Console.Error.Write("\r" + (line.Length > width ? line[..width] : line) + "\u001b[K");
                _open = true;
                if (e.Fraction is 1 || e.Message.StartsWith("finished", StringComparison.Ordinal)) EndLine();
            }
        }

        public void Finish()
        {
            lock (_lock) EndLine();
        }

        private void EndLine()
        {
            if (!_open) return;
            Console.Error.WriteLine();
            _open = false;
        }
    }
}
