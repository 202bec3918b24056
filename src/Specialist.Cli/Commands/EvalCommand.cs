using System.CommandLine;
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
    /// <summary>The defaults, which live in the library: the evaluation's (<see cref="RunEvaluation.Defaults"/>) and, for an endpoint, the teacher client's (<see cref="RunTeacher.Defaults"/>).</summary>
    private static RunEvaluation E => RunEvaluation.Defaults;

    private static RunTeacher T => RunTeacher.Defaults;

    public static Command Create()
    {
        var model = CliOptions.Text("--model", "DIR|NAME", "a model folder, or with --endpoint the endpoint's model name", required: true);
        var endpoint = CliOptions.Text("--endpoint", "URL", "an OpenAI-compatible endpoint, decoded at temperature 0 (its key is read from $OPENAI_API_KEY)");
        var sets = CliOptions.Text("--sets", "A,B,...",
            $"the sets, e.g. {string.Join(",", E.Sets)}. Use asdiv-test and svamp-test, not the whole asdiv and svamp: those hold the asdiv-dev and " +
            "svamp-dev subsets that training selects checkpoints on", required: true);
        var output = CliOptions.Text("--out", "DIR",
            "writes DIR/predictions.jsonl (a line per answer, flushed as each batch finishes) and DIR/results.json (accuracy with 95 % Wilson " +
            "intervals per set, BBH per task file and the mean over its 23 tasks, the settings and the code's commit). Answers already in DIR " +
            "for the same problem, query, model and decoding are reused: running again resumes", required: true);
        var prompt = new ParsedOption<MathPromptStyle>("--prompt", EvaluationQueries.ParseStyle, "4shot|zeroshot|teacher", "the queries' prompt (METHOD.md §6)", E.Prompt);
        var bbhMode = new ParsedOption<BbhMode>("--bbh-mode", BbhAnswerScorer.ParseMode, "cot|ao", "BBH queries with chain of thought or answer only",
            BbhAnswerScorer.ModeName(E.BbhMode));
        var limit = CliOptions.OptionalInt("--limit", "N", "the first N problems of each set, and of each task for bbh");
        var batchSize = CliOptions.Int("--batch-size", "N", "problems decoded together (a model folder)", E.BatchSize);
        var maxNewTokens = CliOptions.Int("--max-new-tokens", "N", "the longest answer, in tokens", E.MaxNewTokens);
        var dtype = new ParsedOption<TorchSharp.torch.ScalarType>("--dtype", T5Checkpoint.ParseDType, "fp32|bf16|fp16", "the weights' type in memory (a model folder)", E.Dtype);
        var device = CliOptions.Text("--device", "cpu|cuda|cuda:N", "where a model folder runs; cuda needs the CUDA build (README \"Devices\")", TorchRuntime.DefaultDeviceName);
        var strict = CliOptions.Flag("--strict", "refuse a model folder whose weights hold NaN or infinity (by default a warning)");
        var api = new ParsedOption<TeacherApi>("--api", AnnotationConfig.ParseApi, "completions|chat", "the endpoint's API", AnnotationConfig.ApiName(T.Api));
        var concurrency = CliOptions.Int("--concurrency", "N", "requests in flight at once (an endpoint)", T.Concurrency);
        var timeout = CliOptions.Number("--timeout", "SECONDS", "a request's time limit (an endpoint)", T.Timeout);
        var maxRetries = CliOptions.Int("--max-retries", "N", "retries of a failed request (an endpoint)", T.MaxRetries);
        var json = CliOptions.Json("{\"sets\": {SET: {\"accuracy\", \"correct\", \"total\", \"ci95\"}}, \"bbh_mean\", \"decoded\", \"reused\"}");
        var command = new Command("eval", "CoT accuracy of a model folder (greedy) or endpoint on math sets and BBH, with 95 % intervals; resumable")
        {
            model, endpoint, sets, output, prompt, bbhMode, limit, batchSize, maxNewTokens, dtype, device, strict, api, concurrency, timeout, maxRetries, json,
        };
        var data = new DataArgs(command, customSet: false);
        command.SetAction(parsed =>
        {
            var setNames = parsed.GetValue(sets)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var limitValue = parsed.GetValue(limit);
            var maxTokens = parsed.GetValue(maxNewTokens);
            if (setNames.Length == 0) throw new UsageException("--sets names no set");
            if (limitValue is < 1) throw new UsageException("--limit must be at least 1");
            if (maxTokens < 1 || parsed.GetValue(batchSize) < 1) throw new UsageException("--max-new-tokens and --batch-size must be at least 1");
            EvaluatedModel evaluated;
            if (parsed.GetValue(endpoint) is not { } url)
            {
                var endpointOnly = parsed.GivenNames(api, concurrency, timeout, maxRetries);
                if (endpointOnly.Count > 0) throw new UsageException($"{string.Join(", ", endpointOnly)} apply to --endpoint only");
                evaluated = EvaluatedModel.FromFolder(parsed.GetValue(model)!, parsed.GetValue(batchSize), maxTokens, dtype.Read(parsed),
                    TorchRuntime.ResolveDevice(parsed.GetValue(device)!), parsed.GetValue(strict) ? null : CliApp.Warn);
            }
            else
            {
                var folderOnly = parsed.GivenNames(batchSize, dtype, device, strict);
                if (folderOnly.Count > 0) throw new UsageException($"{string.Join(", ", folderOnly)} apply to a model folder, not --endpoint (use --concurrency)");
                if (parsed.GetValue(concurrency) < 1 || parsed.GetValue(maxRetries) < 0 || !(parsed.GetValue(timeout) > 0))
                    throw new UsageException("--concurrency must be at least 1, --max-retries at least 0 and --timeout positive");
                var options = new TeacherClientOptions(TeacherClientOptions.ParseEndpoint(url), Environment.GetEnvironmentVariable("OPENAI_API_KEY"),
                    TimeSpan.FromSeconds(parsed.GetValue(timeout)), parsed.GetValue(maxRetries));
                evaluated = EvaluatedModel.FromEndpoint(options, parsed.GetValue(model)!, api.Read(parsed), maxTokens, parsed.GetValue(concurrency));
            }
            var outFolder = parsed.GetValue(output)!;
            Print(evaluated, new EvaluationRequest(setNames, data.Root(parsed), parsed.GetValue(prompt)!, bbhMode.Read(parsed), limitValue, outFolder),
                parsed.GetValue(json));
        });
        return command;
    }

    /// <summary>Evaluates <paramref name="model"/> and prints the accuracy per set.</summary>
    private static void Print(EvaluatedModel model, EvaluationRequest request, bool json)
    {
        var outFolder = request.OutputFolder;
        EvaluationOutcome outcome;
        using (model)
            outcome = ProgressDisplay.Run("eval", json, display => EvaluationRun.Run(model, request, display.Log));
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
            return;
        }
        AnsiConsole.Write(AccuracyTable("set", results.Sets));
        if (results.BbhTasks is { } tasks)
        {
            var bbh = AccuracyTable("BBH task", tasks);
            bbh.AddRow(Markup.Escape(results.BbhMean!.Description), "", Percent(results.BbhMean.Value), "");
            AnsiConsole.Write(bbh);
        }
        Console.WriteLine($"decoded {outcome.Decoded}, reused {outcome.Reused}; wrote {Path.Combine(Path.GetFullPath(outFolder), EvaluationResults.FileName)}");
    }

    /// <summary><c>specialist bench eval</c>: problems per second of evaluation (<see cref="EvalBenchmark"/>).</summary>
    public static Command Benchmark()
    {
        var configs = CliOptions.Text("--configs", "A,B", "the model configs", string.Join(",", EvalBenchmark.DefaultConfigs));
        var batches = CliOptions.Text("--batches", "1,16", "the batch sizes", string.Join(",", EvalBenchmark.DefaultBatches));
        var newTokens = CliOptions.Int("--new-tokens", "N", "tokens decoded per problem", 128);
        var json = CliOptions.Json();
        var command = new Command("eval", "problems/s of evaluation per model config and batch size") { configs, batches, newTokens, json };
        var data = new DataArgs(command, customSet: false);
        command.SetAction(parsed => Benchmark(data.Root(parsed), parsed.GetValue(configs)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
            parsed.GetValue(batches)!, parsed.GetValue(newTokens), parsed.GetValue(json)));
        return command;
    }

    private static void Benchmark(string dataRoot, IReadOnlyList<string> configs, string batchesText, int newTokens, bool json)
    {
        var batches = batchesText.Split(',').Select(b => int.TryParse(b, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n > 0 ? n
            : throw new UsageException($"--batches: '{b}' is not a positive integer")).ToList();
        if (newTokens < 1) throw new UsageException("--new-tokens must be at least 1");
        var stop = MachineLoad.Start();
        var result = ProgressDisplay.Run("bench eval", json, display => EvalBenchmark.Run(dataRoot, configs, batches, newTokens, display.Log));
        var load = stop();
        if (json)
        {
            BenchCommand.WriteJson(result, load);
            return;
        }
        var table = new Table().AddColumns("config", "parameters", "batch", "problems", "prompt tokens", "new tokens", "seconds", "problems/s");
        foreach (var column in table.Columns.Skip(1)) column.RightAligned();
        foreach (var f in result.Figures)
            table.AddRow(f.Config, $"{f.Parameters / 1e6:F1}M", Count(f.Batch), Count(f.Problems), f.MeanPromptTokens.ToString("F0", CultureInfo.InvariantCulture),
                Count(f.NewTokens), f.Seconds.ToString("F2", CultureInfo.InvariantCulture), f.ProblemsPerSecond.ToString("F3", CultureInfo.InvariantCulture));
        AnsiConsole.Write(table);
        Console.WriteLine($"{result.Threads} threads; {result.Prompt}; greedy, end-of-sequence suppressed until {newTokens} tokens");
        BenchCommand.WriteLoad(load);
    }

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
