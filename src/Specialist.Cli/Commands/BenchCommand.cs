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

    /// <summary>Writes a benchmark's figures as one JSON object, with the load readings (<see cref="MachineLoad.AddTo"/>).</summary>
    internal static void WriteJson<T>(T result, MachineLoad load) =>
        Console.WriteLine(load.AddTo(JsonSerializer.SerializeToNode(result, Json)!.AsObject()).ToJsonString());

    /// <summary>Writes the load readings after a benchmark's text figures, and the under-load line when they were taken under load.</summary>
    internal static void WriteLoad(MachineLoad load)
    {
        Console.WriteLine(load.Summary);
        if (load.Warning is { } warning) Console.WriteLine(warning);
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
            var stop = MachineLoad.Start();
            var result = await ProgressDisplay.RunAsync("bench serve", json, display => ServeBenchmark.RunAsync(modelDir, requests, concurrency, maxTokens, display.Log));
            var load = stop();
            if (json)
            {
                WriteJson(result, load);
                return;
            }
            Console.WriteLine($"{result.Model}: batched {result.Batched.RequestsPerSecond:F2} requests/s, unbatched {result.Unbatched.RequestsPerSecond:F2} requests/s ({result.Speedup:F1}x)");
            WriteLoad(load);
        }
        finally
        {
            if (temp is not null) Directory.Delete(temp, recursive: true);
        }
    }

    private static Command Model()
    {
        var config = CliOptions.Text("--config", "NAME|config.json", "the model's config: a T5 name, or a config.json of model_type t5, llama or qwen2", "t5-small");
        var steps = CliOptions.Int("--steps", "N", "training steps timed in fp32 and as many in bf16 mixed precision, in turn", 5);
        var trainOnly = CliOptions.Flag("--train-only", "time training only, no decoding");
        var json = CliOptions.Json();
        var command = new Command("model", "training (fp32 and bf16 mixed) and decoding speed of a random model, MFU, peak memory") { config, steps, trainOnly, json };
        command.SetAction(parsed => Model(parsed.GetValue(config)!, parsed.GetValue(steps), !parsed.GetValue(trainOnly), parsed.GetValue(json)));
        return command;
    }

    private static void Model(string config, int steps, bool decode, bool json)
    {
        if (steps < 1) throw new UsageException("--steps must be at least 1");
        var stop = MachineLoad.Start();
        var result = ProgressDisplay.Run("bench model", json, display => ModelBenchmark.Run(config, trainSteps: steps, decode: decode, progress: display.Log));
        var load = stop();
        if (json)
        {
            WriteJson(result, load);
            return;
        }
        var table = new Table().AddColumns("figure", "value");
        void Row(string name, string value) => table.AddRow(name, value);
        Row("config", $"{result.Config} ({result.Parameters / 1e6:F1}M parameters, {result.Threads} threads)");
        Row("GEMM peak", $"fp32 {result.GemmPeakGflops:F1} GFLOP/s, bf16 {result.Bf16GemmPeakGflops:F1} GFLOP/s");
        Row("training, fp32", $"{result.TrainTokensPerSecond:F0} tokens/s, {result.TrainGflops:F1} GFLOP/s, MFU {100 * result.Mfu:F1} %");
        Row("training, bf16 mixed", $"{result.MixedTrainTokensPerSecond:F0} tokens/s ({result.MixedSpeedup:F2}x fp32, steps in turn)");
        foreach (var d in result.Decode)
            Row($"decode {d.Dtype} batch {d.Batch} {(d.Cache ? "cached" : "uncached")}", $"{d.TokensPerSecond:F1} tokens/s");
        foreach (var p in result.CachedStep)
            Row($"cached {p.Dtype} step, batch 1", $"{p.CachedStepMs:F2} ms: weight products {p.WeightMatvecMs:F2} ms ({100 * p.MatvecShare:F0} %, {p.WeightMegabytes:F1} MB at {p.MatvecGbPerSecond:F1} GB/s); "
                + $"memory reads {p.StreamGbPerSecond:F1} GB/s, so at least {p.FloorMs:F2} ms a step: cached / uncached at most {p.RatioCeiling:F2}x");
        Row("peak RSS", $"{result.PeakRssMb.ToString("F0", CultureInfo.InvariantCulture)} MB");
        AnsiConsole.Write(table);
        WriteLoad(load);
    }
}
