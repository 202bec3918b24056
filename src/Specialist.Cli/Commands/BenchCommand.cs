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

    public static int Run(string[] args)
    {
        if (args.Length == 0 || args[0] is "--help" or "-h")
        {
            Console.WriteLine("usage: specialist bench model [--config NAME|config.json (t5, llama or qwen2)] [--steps N] [--json]");
            Console.WriteLine("       specialist bench eval [--configs tiny,t5-small] [--batches 1,16] [--new-tokens 128] [--data-root DIR] [--json]");
            Console.WriteLine("       specialist bench serve (--model DIR | --config NAME [--data-root DIR]) [--requests 128] [--concurrency 32] [--max-tokens 32] [--json]");
            Console.WriteLine("       specialist bench align [--data-root DIR] [--student-tokenizer spiece.model] [--teacher gpt2] [--json]");
            Console.WriteLine("       specialist bench train [--configs tiny,flan-t5-small] [--steps 5] [--memory-steps 500] [--data-root DIR] [--json]");
            return args.Length == 0 ? 2 : 0;
        }
        return args[0] switch
        {
            "model" => Model(args[1..]),
            "eval" => EvalCommand.Benchmark(args[1..]),
            "train" => TrainCommand.Benchmark(args[1..]),
            "serve" => Serve(args[1..]),
            "align" => Align(args[1..]),
            _ => throw new UsageException($"unknown benchmark '{args[0]}'"),
        };
    }

    /// <summary>Requests/s of <c>serve</c> with and without batching concurrent requests (a random model of --config when no --model is given).</summary>
    private static int Serve(string[] args)
    {
        var a = CommandArgs.Parse(args, "json");
        var modelDir = a.Get("model");
        var config = a.Get("config") ?? "t5-small";
        var root = Specialist.Data.DataRoot.Resolve(a.Get("data-root"));
        var requests = a.GetInt("requests", 128);
        var concurrency = a.GetInt("concurrency", 32);
        var maxTokens = a.GetInt("max-tokens", 32);
        var json = a.Flag("json");
        a.EnsureAllUsed();
        string? temp = null;
        if (modelDir is null)
        {
            temp = modelDir = Path.Combine(Path.GetTempPath(), "specialist-bench-serve-" + Guid.NewGuid().ToString("N")[..8]);
            T5Checkpoint.WriteRandom(T5Config.Resolve(config), modelDir, Path.Combine(root, "tokenizers", "t5", "spiece.model"), seed: 0);
        }
        try
        {
            var result = ServeBenchmark.RunAsync(modelDir, requests, concurrency, maxTokens, m => Console.Error.WriteLine($"bench serve: {m}")).GetAwaiter().GetResult();
            if (json) Console.WriteLine(JsonSerializer.Serialize(result, Json));
            else Console.WriteLine($"{result.Model}: batched {result.Batched.RequestsPerSecond:F2} requests/s, unbatched {result.Unbatched.RequestsPerSecond:F2} requests/s ({result.Speedup:F1}x)");
            return 0;
        }
        finally
        {
            if (temp is not null) Directory.Delete(temp, recursive: true);
        }
    }

    /// <summary>Alignment samples/s, <c>paper</c> and <c>fast</c>, on GSM8K-length chains of thought with the real T5 tokenizer.</summary>
    private static int Align(string[] args)
    {
        var a = CommandArgs.Parse(args, "json");
        var root = Specialist.Data.DataRoot.Resolve(a.Get("data-root"));
        var student = a.Get("student-tokenizer") ?? Path.Combine(root, "tokenizers", "t5", "spiece.model");
        var teacher = a.Get("teacher") ?? "gpt2";
        var json = a.Flag("json");
        a.EnsureAllUsed();
        var result = AlignBenchmark.Run(root, student, teacher, progress: m => Console.Error.WriteLine($"bench align: {m}"));
        if (json) Console.WriteLine(JsonSerializer.Serialize(result, Json));
        else Console.WriteLine($"fast {result.FastSamplesPerSecond:F0} samples/s (align only {result.FastAlignOnlySamplesPerSecond:F0}), paper {result.PaperSamplesPerSecond:F0} samples/s, {result.Samples} samples");
        return 0;
    }

    private static int Model(string[] args)
    {
        var a = CommandArgs.Parse(args, "json");
        var config = a.Get("config") ?? "t5-small";
        var steps = a.GetInt("steps", 5);
        var json = a.Flag("json");
        a.EnsureAllUsed();
        var result = ModelBenchmark.Run(config, trainSteps: steps, progress: m => Console.Error.WriteLine($"bench model: {m}"));
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(result, Json));
            return 0;
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
        return 0;
    }
}
