using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Spectre.Console;
using Specialist.Benchmarks;
using Specialist.Models;

namespace Specialist.Cli.Commands;

/// <summary><c>specialist bench model|...</c>: the speed and memory benchmarks whose figures BENCHMARKS.md records.</summary>
internal static class BenchCommand
{
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static Command Create()
    {
        var command = new Command("bench", "benchmarks: 'bench model' (training and decoding speed, MFU), eval, serve, align, train")
        {
            Model(), EvalCommand.Benchmark(), ServeBench(), AlignCommand.Benchmark(), TrainCommand.Benchmark(),
        };
        command.SetAction(CliApp.MissingSubcommand);
        return command;
    }

    /// <summary>Requests/s of <c>serve</c> with and without batching concurrent requests (a random model of --config when no --model is given).</summary>
    private static Command ServeBench()
    {
        var model = CliOptions.Text("--model", "DIR", "the model folder to serve (default: a random model of --config)");
        var config = CliOptions.Text("--config", "NAME", "the random model's config, without --model", "t5-small");
        var requests = CliOptions.Int("--requests", "N", "requests sent", 128);
        var concurrency = CliOptions.Int("--concurrency", "N", "requests in flight at once", 32);
        var maxTokens = CliOptions.Int("--max-tokens", "N", "tokens generated per request", 32);
        var json = CliOptions.Json();
        var command = new Command("serve", "requests/s of serve, with and without batching") { model, config, requests, concurrency, maxTokens, json };
        var data = new DataArgs(command, customSet: false);
        command.SetAction((parsed, _) => ServeAsync(parsed.GetValue(model), parsed.GetValue(config)!, data.Root(parsed), parsed.GetValue(requests), parsed.GetValue(concurrency),
            parsed.GetValue(maxTokens), parsed.GetValue(json)));
        return command;
    }

    private static async Task ServeAsync(string? modelDir, string config, string root, int requests, int concurrency, int maxTokens, bool json)
    {
        string? temp = null;
        if (modelDir is null)
        {
            temp = modelDir = Path.Combine(Path.GetTempPath(), "specialist-bench-serve-" + Guid.NewGuid().ToString("N")[..8]);
            T5Checkpoint.WriteRandom(T5Config.Resolve(config), modelDir, Path.Combine(root, "tokenizers", "t5", "spiece.model"), seed: 0);
        }
        try
        {
            var result = await ProgressDisplay.RunAsync("bench serve", json, display => ServeBenchmark.RunAsync(modelDir, requests, concurrency, maxTokens, display.Log));
            if (json) Console.WriteLine(JsonSerializer.Serialize(result, Json));
            else Console.WriteLine($"{result.Model}: batched {result.Batched.RequestsPerSecond:F2} requests/s, unbatched {result.Unbatched.RequestsPerSecond:F2} requests/s ({result.Speedup:F1}x)");
        }
        finally
        {
            if (temp is not null) Directory.Delete(temp, recursive: true);
        }
    }

    private static Command Model()
    {
        var config = CliOptions.Text("--config", "NAME|config.json", "the model's config: a T5 name, or a config.json of model_type t5, llama or qwen2", "t5-small");
        var steps = CliOptions.Int("--steps", "N", "training steps timed", 5);
        var json = CliOptions.Json();
        var command = new Command("model", "training and decoding speed of a random model, MFU, peak memory") { config, steps, json };
        command.SetAction(parsed => Model(parsed.GetValue(config)!, parsed.GetValue(steps), parsed.GetValue(json)));
        return command;
    }

    private static void Model(string config, int steps, bool json)
    {
        var result = ProgressDisplay.Run("bench model", json, display => ModelBenchmark.Run(config, trainSteps: steps, progress: display.Log));
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(result, Json));
            return;
        }
        var table = new Table().AddColumns("figure", "value");
        void Row(string name, string value) => table.AddRow(name, value);
        Row("config", $"{result.Config} ({result.Parameters / 1e6:F1}M parameters, {result.Threads} threads)");
        Row("fp32 GEMM peak", $"{result.GemmPeakGflops:F1} GFLOP/s");
        Row("training", $"{result.TrainTokensPerSecond:F0} tokens/s, {result.TrainGflops:F1} GFLOP/s, MFU {100 * result.Mfu:F1} %");
        foreach (var d in result.Decode)
            Row($"decode batch {d.Batch} {(d.Cache ? "cached" : "uncached")}", $"{d.TokensPerSecond:F1} tokens/s");
        Row("peak RSS", $"{result.PeakRssMb.ToString("F0", CultureInfo.InvariantCulture)} MB");
        AnsiConsole.Write(table);
    }
}
