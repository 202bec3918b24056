using System.CommandLine;
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
internal sealed class RunCommand
{
    private readonly ParsedOption<RunProfile> _profile = new("--profile", RunProfile.Parse, string.Join('|', RunProfile.Names),
        "the paper in miniature, offline: synthetic math and BBH-like tasks, a teacher T5 trained from scratch (cached in ~/.cache/specialist, " +
        "or $SPECIALIST_CACHE), served on 127.0.0.1 and annotated over HTTP, alignment to the student tokenizer, three student sizes trained as " +
        "generalists and specialized (distribution matching; sample matching, zero-shot formats only, generic replay and an equal-compute control " +
        "on one size), evaluation and a report with the paper's six phenomena; quick (~1 min, a smoke test), default (~24 min on 2 cores, ~19 " +
        "with the teacher cached), full (bigger, longer)", RunProfile.Default.Name);
    private readonly Option<string> _out = CliOptions.Text("--out", "DIR",
        "the run folder (default: runs/<profile>); every stage writes there: world/ (sets, prompts, tokenizers), annotate/ (annotations.db, " +
        "teacher-eval/), distill/ (distillation sets), students/ (training runs), eval/ (results.json, predictions.jsonl), report/ (report.md, " +
        "phenomena.json, figures), stages.json (timings); with --config it replaces the file's out. Running the same command again skips the " +
        "stages that finished and resumes interrupted annotation and training");
    private readonly Option<ulong> _seed = CliOptions.Seed(
        "the run seed: the students, their data order and the annotation sampling; the world's problems and the teacher are the same for every seed", 0);
    private readonly ParsedOption<IReadOnlyList<ulong>> _seeds = new("--seeds", MultiSeedRun.ParseSeeds, "S1,S2,...",
        "several seeds, e.g. 0,1,2 (not with --seed; the full profile runs 0,1,2 when neither is given): one complete run folder per seed, " +
        "OUT/seed-N/ (the same folder --seed N --out OUT/seed-N makes, so each reuses the other's stages), then OUT/report/: report.md and " +
        "phenomena.json with every figure as mean ± sd over the seeds, each phenomenon's verdict count, and figures with error bars");
    private readonly Option<bool> _decoderOnly = CliOptions.Flag("--decoder-only",
        "also train and specialize a decoder-only (Qwen2-shaped) student per size, matched in parameters to the T5 sizes, and compare the two families " +
        "before and after specialization (its own P1 and P3 in the report); about doubles the students' training time; the full profile has it on");
    private readonly Option<string> _config = CliOptions.Text("--config", "FILE",
        "a real run instead (docs/run-config.md): a JSON file naming the student checkpoint, the teacher endpoint (key from $OPENAI_API_KEY), " +
        "the data root and each stage's settings; stages annotate, align, train, eval (before and after) and report; --profile, --seed and " +
        "--seeds do not apply");
    private readonly Option<bool> _json = CliOptions.Json();

    public Command Command { get; }

    public RunCommand()
    {
        Command = new Command("run",
            "the whole pipeline; with no options the built-in miniature world: teacher, students, the paper's six phenomena")
        {
            _profile, _out, _seed, _seeds, _decoderOnly, _config, _json,
        };
        Command.SetAction((parsed, _) => RunAsync(parsed));
    }

    private async Task<int> RunAsync(ParseResult parsed)
    {
        var json = parsed.GetValue(_json);
        if (parsed.GetValue(_config) is { } configPath) return await RunConfigured(parsed, configPath, json);
        var profile = _profile.Read(parsed);
        if (parsed.GetValue(_decoderOnly)) profile = profile with { DecoderOnlyFamily = true };
        var output = parsed.GetValue(_out) ?? Path.Combine("runs", profile.Name);
        var seedGiven = parsed.Given(_seed);
        var several = _seeds.ReadOrNull(parsed);
        if (seedGiven && several is not null)
            throw new UsageException("--seed and --seeds exclude each other: --seed S runs one seed, --seeds S1,S2,... several");
        var seed = parsed.GetValue(_seed);
        if (!seedGiven && several is null)
        {
            if (profile.Seeds.Count == 1) seed = profile.Seeds[0];
            else several = profile.Seeds;
        }
        if (several is not null) return await RunSeeds(profile, output, several, json);

        var summary = await Interruptible($"--out {output}", json, (report, stop) => MiniatureRun.RunAsync(new RunOptions(profile, output, seed), report, stop));
        if (summary is null) return CliApp.InterruptedExitCode;
        if (json)
        {
            var result = ResultFiles(summary.OutputFolder, summary.ReportPath, summary.PhenomenaPath);
            result["teacher"] = summary.TeacherFolder;
            result["teacher_cached"] = summary.TeacherCached;
            result["stages"] = StagesJson(summary.Timings);
            result["verdicts"] = new JsonObject([.. summary.Phenomena.Select(p => KeyValuePair.Create(p.Id, (JsonNode?)p.VerdictText))]);
            Console.WriteLine(result.ToJsonString());
            return 0;
        }
        AnsiConsole.Write(StagesTable(summary.Timings));
        Console.WriteLine(TeacherLine(summary));
        foreach (var p in summary.Phenomena)
            Console.WriteLine($"{p.Id} {p.VerdictText,-12} {p.Title}");
        PrintReportPaths(summary.ReportPath, summary.PhenomenaPath);
        return 0;
    }

    /// <summary><c>run [--profile P] --seeds S1,S2,… [--out DIR] [--json]</c>: each seed's progress, then a table of the seeds and the verdict counts.</summary>
    private static async Task<int> RunSeeds(RunProfile profile, string output, IReadOnlyList<ulong> seeds, bool json)
    {
        var summary = await Interruptible($"--profile {profile.Name} --seeds {string.Join(",", seeds)} --out {output}", json,
            (report, stop) => MultiSeedRun.RunAsync(new MultiSeedOptions(profile, output, seeds), (seed, e) => report(e with { Stage = $"seed {seed} {e.Stage}" }), stop));
        if (summary is null) return CliApp.InterruptedExitCode;
        if (json)
        {
            var result = ResultFiles(summary.OutputFolder, summary.ReportPath, summary.PhenomenaPath);
            result["seeds"] = new JsonObject([.. seeds.Zip(summary.Runs, (seed, run) => KeyValuePair.Create(seed.ToString(CultureInfo.InvariantCulture), (JsonNode?)new JsonObject
            {
                ["out"] = run.OutputFolder,
                ["stages"] = StagesJson(run.Timings),
            }))]);
            result["verdicts"] = new JsonObject([.. summary.Phenomena.Select(p => KeyValuePair.Create(p.Id,
                (JsonNode?)new JsonObject([.. p.Counts.Select(c => KeyValuePair.Create(c.Key, (JsonNode?)c.Value))])))]);
            Console.WriteLine(result.ToJsonString());
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
        PrintReportPaths(summary.ReportPath, summary.PhenomenaPath);
        return 0;
    }

    /// <summary>The files every run's <c>--json</c> result names first: the run folder, the report and the phenomena.</summary>
    private static JsonObject ResultFiles(string output, string report, string phenomena) =>
        new() { ["out"] = output, ["report"] = report, ["phenomena"] = phenomena };

    private static void PrintReportPaths(string report, string phenomena)
    {
        Console.WriteLine($"report: {report}");
        Console.WriteLine($"numbers: {phenomena}");
    }

    private static string TeacherLine(RunSummary run) => run.TeacherCached
        ? $"teacher: reused the cached teacher {run.TeacherFolder}"
        : $"teacher: trained and cached in {run.TeacherFolder} (the next run reuses it)";

    /// <summary><c>run --config FILE [--out DIR] [--json]</c>.</summary>
    private async Task<int> RunConfigured(ParseResult parsed, string configPath, bool json)
    {
        var miniatureOnly = parsed.GivenNames(_profile, _seed, _seeds, _decoderOnly);
        if (miniatureOnly.Count > 0)
            throw new UsageException($"{string.Join(" and ", miniatureOnly)} {(miniatureOnly.Count == 1 ? "applies" : "apply")} to the miniature run only; with --config every setting comes from the file");
        var output = parsed.GetValue(_out);
        var config = RunConfig.ReadFile(configPath, output);

        var summary = await Interruptible($"--config {configPath}{(output is null ? "" : $" --out {output}")}", json,
            (report, stop) => Task.Run(() => ConfiguredRun.Run(config, report, stop)));
        if (summary is null) return CliApp.InterruptedExitCode;
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
    /// Runs <paramref name="work"/> with its stages' progress on the display; SIGINT and SIGTERM ask it to stop after the
    /// current step. Null when it stopped so, after saying how to continue (<paramref name="again"/>: the options that name the run).
    /// </summary>
    private static async Task<T?> Interruptible<T>(string again, bool json, Func<Action<RunEvent>, CancellationToken, Task<T>> work) where T : class
    {
        using var stop = new StopSignals("run: stopping after the current training steps (signal again to quit at once; run the same command again to continue)");
        try
        {
            return await ProgressDisplay.RunAsync("run", json, display => work(e => display.Report(e.Stage, e.Message, e.Fraction, e.Eta), stop.Token));
        }
        catch (OperationCanceledException) when (stop.Requested)
        {
            Console.Error.WriteLine($"run: interrupted; continue with the same command ({again})");
            return null;
        }
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
}
