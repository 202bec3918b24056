using System.Globalization;
using System.Text.Json.Nodes;
using Spectre.Console;
using Specialist.Answers;
using Specialist.Benchmarks;
using Specialist.Data;
using Specialist.Evaluation;
using Specialist.Models;
using Specialist.Pipeline;
using Specialist.Prompts;
using Specialist.Teachers;

namespace Specialist.Cli.Commands;

/// <summary>
/// <c>specialist eval (--model DIR | --endpoint URL --model NAME) --sets A,B,... --out DIR ...</c>: CoT accuracy of a
/// model folder or an OpenAI-compatible endpoint on math sets and BIG-Bench Hard; resumable.
/// </summary>
internal static class EvalCommand
{
    private static readonly string Usage =
        "usage: specialist eval (--model DIR | --endpoint URL --model NAME) --sets gsm8k-test,multiarith-test,asdiv-test,svamp-test,bbh --out DIR\n" +
        $"         [--prompt 4shot|zeroshot|teacher] [--bbh-mode cot|ao] [--limit N] [--batch-size {E.BatchSize}] [--max-new-tokens {E.MaxNewTokens}]\n" +
        $"         [--dtype fp32|bf16|fp16] [--device cpu|cuda|cuda:N] [--strict] [--api completions|chat] [--concurrency {T.Concurrency}] [--timeout {T.Timeout.ToString(CultureInfo.InvariantCulture)}]\n" +
        $"         [--max-retries {T.MaxRetries}] [--data-root DIR] [--json]\n" +
        $"  Queries as METHOD.md §6 (default --prompt {E.Prompt}, --bbh-mode {BbhAnswerScorer.ModeName(E.BbhMode)}); a model folder decodes greedily, an endpoint at temperature 0\n" +
        "  (its key is read from $OPENAI_API_KEY); --device says where a model folder runs (cuda needs the CUDA build, README \"Devices\").\n" +
        "  Use asdiv-test and svamp-test, not the whole asdiv and svamp: those hold the\n" +
        "  asdiv-dev and svamp-dev subsets that training selects checkpoints on. --limit N takes the first N problems of each set, and of each task for bbh.\n" +
        "  Writes DIR/predictions.jsonl (a line per answer, flushed as each batch finishes) and DIR/results.json (accuracy with\n" +
        "  95 % Wilson intervals per set, BBH per task file and the mean over its 23 tasks, the settings and the code's commit).\n" +
        "  Answers already in DIR for the same problem, query, model and decoding are reused: running again resumes.\n" +
        "  --strict refuses a model folder whose weights hold NaN or infinity (by default a warning).\n" +
        "  --json prints {\"sets\": {SET: {\"accuracy\", \"correct\", \"total\", \"ci95\"}}, \"bbh_mean\", \"decoded\", \"reused\"}.";

    /// <summary>The defaults, which live in the library: the evaluation's (<see cref="RunEvaluation.Defaults"/>) and, for an endpoint, the teacher client's (<see cref="RunTeacher.Defaults"/>).</summary>
    private static RunEvaluation E => RunEvaluation.Defaults;

    private static RunTeacher T => RunTeacher.Defaults;

    public static int Run(string[] args)
    {
        var parsed = CommandArgs.Parse(args, "json", "help", "strict");
        if (parsed.Flag("help"))
        {
            Console.WriteLine(Usage);
            return 0;
        }
        var modelName = parsed.Require("model");
        var endpoint = parsed.Get("endpoint");
        var sets = parsed.Require("sets").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var outFolder = parsed.Require("out");
        var prompt = parsed.Get("prompt") ?? E.Prompt;
        _ = parsed.Get("prompt", prompt, EvaluationQueries.ParseStyle); // an unknown name is a usage error
        var bbhMode = parsed.Get("bbh-mode", BbhAnswerScorer.ModeName(E.BbhMode), BbhAnswerScorer.ParseMode);
        var limit = parsed.GetInt("limit");
        var batchSize = parsed.GetInt("batch-size", E.BatchSize);
        var maxNewTokens = parsed.GetInt("max-new-tokens", E.MaxNewTokens);
        var dtypeName = parsed.Get("dtype");
        var deviceName = parsed.Get("device");
        var api = parsed.Get("api", AnnotationConfig.ApiName(T.Api), AnnotationConfig.ParseApi);
        var concurrency = parsed.GetInt("concurrency", T.Concurrency);
        var timeout = parsed.GetDouble("timeout", T.Timeout);
        var maxRetries = parsed.GetInt("max-retries", T.MaxRetries);
        var endpointOnly = Given(parsed, "api", "concurrency", "timeout", "max-retries");
        var folderOnly = Given(parsed, "batch-size", "dtype", "device");
        var strict = parsed.Flag("strict");
        if (strict) folderOnly.Add("--strict");
        var dataRoot = DataRoot.Resolve(parsed.Get("data-root"));
        var json = parsed.Flag("json");
        parsed.EnsureAllUsed();
        if (sets.Length == 0) throw new UsageException("--sets names no set");
        if (limit is < 1) throw new UsageException("--limit must be at least 1");
        if (maxNewTokens < 1 || batchSize < 1) throw new UsageException("--max-new-tokens and --batch-size must be at least 1");

        EvaluatedModel model;
        if (endpoint is null)
        {
            if (endpointOnly.Count > 0) throw new UsageException($"{string.Join(", ", endpointOnly)} apply to --endpoint only");
            model = EvaluatedModel.FromFolder(modelName, batchSize, maxNewTokens, T5Checkpoint.ParseDType(dtypeName ?? E.Dtype),
                TorchRuntime.ResolveDevice(deviceName ?? TorchRuntime.DefaultDeviceName), strict ? null : CliApp.Warn);
        }
        else
        {
            if (folderOnly.Count > 0) throw new UsageException($"{string.Join(", ", folderOnly)} apply to a model folder, not --endpoint (use --concurrency)");
            if (concurrency < 1 || maxRetries < 0 || !(timeout > 0)) throw new UsageException("--concurrency must be at least 1, --max-retries at least 0 and --timeout positive");
            var options = new TeacherClientOptions(TeacherClientOptions.ParseEndpoint(endpoint), Environment.GetEnvironmentVariable("OPENAI_API_KEY"),
                TimeSpan.FromSeconds(timeout), maxRetries);
            model = EvaluatedModel.FromEndpoint(options, modelName, api, maxNewTokens, concurrency);
        }

        EvaluationOutcome outcome;
        using (model)
            outcome = EvaluationRun.Run(model, new EvaluationRequest(sets, dataRoot, prompt, bbhMode, limit, outFolder),
                message => Console.Error.WriteLine("eval: " + message));
        var results = outcome.Results;
        if (json)
        {
            Console.WriteLine(new JsonObject
            {
                ["sets"] = EvaluationResults.AccuracyTable(results.Sets),
                ["bbh_mean"] = results.BbhMean?.Value,
                ["bbh_mean_is"] = results.BbhMean?.Description,
                ["decoded"] = outcome.Decoded,
                ["reused"] = outcome.Reused,
                ["out"] = Path.GetFullPath(outFolder),
            }.ToJsonString());
            return 0;
        }
        AnsiConsole.Write(AccuracyTable("set", results.Sets));
        if (results.BbhTasks is { } tasks)
        {
            var bbh = AccuracyTable("BBH task", tasks);
            bbh.AddRow(Markup.Escape(results.BbhMean!.Description), "", Percent(results.BbhMean.Value), "");
            AnsiConsole.Write(bbh);
        }
        Console.WriteLine($"decoded {outcome.Decoded}, reused {outcome.Reused}; wrote {Path.Combine(Path.GetFullPath(outFolder), EvaluationResults.FileName)}");
        return 0;
    }

    /// <summary><c>specialist bench eval</c>: problems per second of evaluation (<see cref="EvalBenchmark"/>).</summary>
    public static int Benchmark(string[] args)
    {
        var parsed = CommandArgs.Parse(args, "json");
        var configs = parsed.Get("configs")?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? [.. EvalBenchmark.DefaultConfigs];
        var batchesText = parsed.Get("batches");
        var newTokens = parsed.GetInt("new-tokens", 128);
        var dataRoot = DataRoot.Resolve(parsed.Get("data-root"));
        var json = parsed.Flag("json");
        parsed.EnsureAllUsed();
        var batches = batchesText is null ? [.. EvalBenchmark.DefaultBatches]
            : batchesText.Split(',').Select(b => int.TryParse(b, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n > 0 ? n
                : throw new UsageException($"--batches: '{b}' is not a positive integer")).ToList();
        if (newTokens < 1) throw new UsageException("--new-tokens must be at least 1");
        var result = EvalBenchmark.Run(dataRoot, configs, batches, newTokens, m => Console.Error.WriteLine("bench eval: " + m));
        if (json)
        {
            Console.WriteLine(System.Text.Json.JsonSerializer.Serialize(result, new System.Text.Json.JsonSerializerOptions { PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower }));
            return 0;
        }
        var table = new Table().AddColumns("config", "parameters", "batch", "problems", "prompt tokens", "new tokens", "seconds", "problems/s");
        foreach (var column in table.Columns.Skip(1)) column.RightAligned();
        foreach (var f in result.Figures)
            table.AddRow(f.Config, $"{f.Parameters / 1e6:F1}M", Count(f.Batch), Count(f.Problems), f.MeanPromptTokens.ToString("F0", CultureInfo.InvariantCulture),
                Count(f.NewTokens), f.Seconds.ToString("F2", CultureInfo.InvariantCulture), f.ProblemsPerSecond.ToString("F3", CultureInfo.InvariantCulture));
        AnsiConsole.Write(table);
        Console.WriteLine($"{result.Threads} threads; {result.Prompt}; greedy, end-of-sequence suppressed until {newTokens} tokens");
        return 0;
    }

    /// <summary>The named options that were given, as <c>--name</c>.</summary>
    private static List<string> Given(CommandArgs parsed, params string[] names) =>
        [.. names.Where(n => parsed.Get(n) is not null).Select(n => "--" + n)];

    private static Table AccuracyTable(string what, IReadOnlyDictionary<string, SetAccuracy> rows)
    {
        var table = new Table().AddColumns(what, "correct", "accuracy", "95% CI");
        foreach (var column in table.Columns.Skip(1)) column.RightAligned();
        foreach (var (name, a) in rows)
            table.AddRow(Markup.Escape(name), $"{a.Correct}/{a.Total}", Percent(a.Accuracy), $"{Percent(a.Ci95.Lo)}..{Percent(a.Ci95.Hi)}");
        return table;
    }

    private static string Count(int n) => n.ToString(CultureInfo.InvariantCulture);

    private static string Percent(double fraction) => (100 * fraction).ToString("F1", CultureInfo.InvariantCulture) + "%";
}
