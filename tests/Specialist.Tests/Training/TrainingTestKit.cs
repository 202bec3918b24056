using System.Diagnostics;
using System.Text.Json.Nodes;
using Specialist.Data;
using Specialist.Tests.Alignment;

namespace Specialist.Tests.Training;

/// <summary>
/// What the training tests train: a tiny student made by <c>model init --config tiny</c> with the real T5 tokenizer, a
/// gold distillation set and a store-built one (real annotation store, sparse teacher top-k) made by
/// <c>distill-set build</c>, each built once per test run and only read afterwards.
/// </summary>
internal static class TrainingTestKit
{
    private static readonly Lazy<string> LazyStudent = new(() =>
    {
        var dir = Path.Combine(TestPaths.NewTempDir(), "tiny-student");
        Check(CliRunner.Run("model", "init", "--config", "tiny", "--tokenizer", TestPaths.T5SpieceModel, "--out", dir, "--seed", "3"));
        return dir;
    });

    private static readonly Lazy<string> LazyGoldSet = new(() =>
    {
        var dir = Path.Combine(TestPaths.NewTempDir(), "gold-set");
        Check(CliRunner.Run("distill-set", "build", "--gold", "gsm8k-train", "--student", Student, "--out", dir,
            "--formats", "ic-cot,zs-ao", "--batch-size", "ic-cot=2,zs-ao=2", "--data-root", TestPaths.DataRoot));
        return dir;
    });

    private static readonly Lazy<string> LazyStore = new(() =>
    {
        var train = ProblemSets.Load("gsm8k-train", new DataOptions(TestPaths.DataRoot));
        return StoreKit.Create([.. train.Skip(300).Take(24)], q => 1 + q % 3).Path;
    });

    private static readonly Lazy<string> LazyStoreSet = new(() => BuildStoreSet(Student));

    private static readonly Lazy<string> LazyDecoderOnlyStoreSet = new(() => BuildStoreSet(DecoderOnlyStudent));

    private static string BuildStoreSet(string student)
    {
        var dir = Path.Combine(TestPaths.NewTempDir(), "store-set");
        Check(CliRunner.Run("distill-set", "build", "--store", LazyStore.Value, "--student", student, "--out", dir,
            "--formats", "zs-cot,ic-ao", "--batch-size", "zs-cot=2,ic-ao=2", "--data-root", TestPaths.DataRoot));
        return dir;
    }

    private static readonly Lazy<string> LazyDecoderOnlyStudent = new(() =>
    {
        var temp = TestPaths.NewTempDir();
        var config = Path.Combine(temp, "qwen2-tiny.json");
        File.WriteAllText(config, DecoderOnlyConfig(vocabSize: 32128, hidden: 64, intermediate: 128, layers: 2).ToJsonString());
        var dir = Path.Combine(temp, "qwen2-student");
        Check(CliRunner.Run("model", "init", "--config", config, "--tokenizer", TestPaths.T5SpieceModel, "--out", dir, "--seed", "3"));
        return dir;
    });

    /// <summary>
    /// A Qwen2-shaped config.json (4 query heads, 2 key/value heads, tied embeddings) for a tokenizer of T5's special
    /// ids: end of sequence 1, padding 0.
    /// </summary>
    public static JsonObject DecoderOnlyConfig(int vocabSize, int hidden, int intermediate, int layers) => new()
    {
        ["model_type"] = "qwen2", ["vocab_size"] = vocabSize, ["hidden_size"] = hidden, ["intermediate_size"] = intermediate,
        ["num_hidden_layers"] = layers, ["num_attention_heads"] = 4, ["num_key_value_heads"] = 2, ["max_position_embeddings"] = 512,
        ["rope_theta"] = 10000.0, ["tie_word_embeddings"] = true, ["eos_token_id"] = 1, ["pad_token_id"] = 0,
    };

    public static string Student => LazyStudent.Value;

    /// <summary>
    /// A random Qwen2-shaped decoder-only student with T5's tokenizer (made by <c>model init --config qwen2.json</c>): its
    /// sets hold the same texts as <see cref="Student"/>'s, its prompts without T5's appended end of sequence.
    /// </summary>
    public static string DecoderOnlyStudent => LazyDecoderOnlyStudent.Value;

    /// <summary>GSM8K's gold rationales (one-hot targets), in-context CoT and zero-shot answer-only, micro-batches of 2.</summary>
    public static string GoldSet => LazyGoldSet.Value;

    /// <summary>24 GSM8K questions' teacher chains of thought with top-k targets, zero-shot CoT and in-context answer-only, micro-batches of 2.</summary>
    public static string StoreSet => LazyStoreSet.Value;

    /// <summary><see cref="StoreSet"/>'s store and options, built for <see cref="DecoderOnlyStudent"/>.</summary>
    public static string DecoderOnlyStoreSet => LazyDecoderOnlyStoreSet.Value;

    /// <summary>Options for quick runs: short sequences, a high rate (the tiny student starts far off), small evaluations, one thread.</summary>
    public static string[] QuickOptions(string data, string run) =>
    [
        "--student", Student, "--data", data, "--out", run, "--data-root", TestPaths.DataRoot,
        "--lr", "5e-3", "--max-source-len", "64", "--max-target-len", "48", "--eval-limit", "8", "--eval-max-new-tokens", "16",
        "--threads", "1", // a tiny model gains nothing from more, and a busy machine loses much
    ];

    public static void Check(CliRunner.Result result) => Assert.True(result.ExitCode == 0, result.ToString());

    public static List<JsonNode> Metrics(string run, string kind) =>
        [.. File.ReadLines(Path.Combine(run, "metrics.jsonl")).Select(l => JsonNode.Parse(l)!).Where(n => n["kind"]!.GetValue<string>() == kind)];

    public static List<(long Step, double Loss)> Losses(string run) =>
        [.. Metrics(run, "train").Select(n => (n["step"]!.GetValue<long>(), n["loss"]!.GetValue<double>()))];

    /// <summary>Starts <c>specialist</c> as a child process (output discarded), for tests that signal or kill it.</summary>
    public static Process StartCli(params string[] args)
    {
        var process = Process.Start(CliRunner.StartInfo(args, null))!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    /// <summary>Waits until the run has logged optimiser step <paramref name="step"/> (or the process ended).</summary>
    public static void WaitForStep(string run, long step, Process process)
    {
        var metrics = Path.Combine(run, "metrics.jsonl");
        var deadline = Stopwatch.StartNew();
        while (!process.HasExited)
        {
            if (File.Exists(metrics) && LoggedSteps(metrics) >= step) return;
            if (deadline.Elapsed > TimeSpan.FromMinutes(5)) throw new TimeoutException($"{run} did not reach step {step}");
            Thread.Sleep(50);
        }
        throw new InvalidOperationException($"the run ended (exit {process.ExitCode}) before step {step}");
    }

    private static long LoggedSteps(string metrics)
    {
        using var stream = new FileStream(metrics, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        long last = 0;
        while (reader.ReadLine() is { } line)
        {
            try { last = Math.Max(last, JsonNode.Parse(line)?["step"]?.GetValue<long>() ?? 0); }
            catch (System.Text.Json.JsonException) { } // a line being written
        }
        return last;
    }
}
