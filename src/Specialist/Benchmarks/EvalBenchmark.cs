using System.Diagnostics;
using Specialist.Data;
using Specialist.Evaluation;
using Specialist.Models;
using Specialist.Prompts;
using Specialist.Tokenization;

namespace Specialist.Benchmarks;

/// <summary>Evaluation speed of one model shape at one batch size.</summary>
/// <param name="Config">The model config name.</param>
/// <param name="Parameters">Its parameter count.</param>
/// <param name="Batch">Problems decoded together.</param>
/// <param name="Problems">Problems timed.</param>
/// <param name="MeanPromptTokens">Mean query length in T5 tokens.</param>
/// <param name="NewTokens">Tokens generated per problem (forced, see <see cref="EvalBenchmark"/>).</param>
/// <param name="Seconds">Wall time of the whole evaluation: rendering, tokenizing, decoding, scoring.</param>
/// <param name="ProblemsPerSecond">Problems / seconds.</param>
public sealed record EvalBenchmarkFigure(string Config, long Parameters, int Batch, int Problems, double MeanPromptTokens, int NewTokens, double Seconds, double ProblemsPerSecond);

/// <summary>What <see cref="EvalBenchmark.Run"/> measured.</summary>
/// <param name="Threads">libtorch intra-op threads.</param>
/// <param name="Prompt">The query used: the 4-shot math prompt over the first GSM8K test problems.</param>
/// <param name="Figures">One per (config, batch).</param>
public sealed record EvalBenchmarkResult(int Threads, string Prompt, IReadOnlyList<EvalBenchmarkFigure> Figures);

/// <summary>
/// <c>specialist bench eval</c>: problems per second of <see cref="SetEvaluator"/> with randomly initialised models of
/// real shapes on real queries (4-shot GSM8K test, METHOD.md §6), greedy, 128 new tokens. A random model would stop
/// at end-of-sequence at random, so every problem is made to generate exactly 128 tokens (end-of-sequence suppressed
/// until then), the length a trained model's chain of thought typically reaches.
/// </summary>
public static class EvalBenchmark
{
    /// <summary>The model shapes measured: the test-sized model and T5-small's shape.</summary>
    public static IReadOnlyList<string> DefaultConfigs { get; } = ["tiny", "t5-small"];

    /// <summary>The batch sizes measured.</summary>
    public static IReadOnlyList<int> DefaultBatches { get; } = [1, 16];

    /// <summary>Runs every (config, batch) case on max(4, batch) problems, after a short warm-up.</summary>
    public static EvalBenchmarkResult Run(string dataRoot, IReadOnlyList<string>? configs = null, IReadOnlyList<int>? batches = null, int newTokens = 128, Action<string>? progress = null)
    {
        TorchRuntime.EnsureLoaded();
        var tokenizer = Tokenizers.Load(Path.Combine(dataRoot, "tokenizers", "t5", Tokenizers.SentencePieceFileName));
        var queries = new EvaluationQueries(dataRoot, MathPromptStyle.FourShot);
        var allProblems = ProblemSets.Load("gsm8k-test", new DataOptions(dataRoot));
        var figures = new List<EvalBenchmarkFigure>();
        foreach (var configName in configs ?? DefaultConfigs)
        {
            var config = T5Config.Resolve(configName);
            TorchSharp.torch.manual_seed(0);
            using var model = StudentModel.Create(config);
            foreach (var batch in batches ?? DefaultBatches)
            {
                var problems = allProblems.Take(Math.Max(4, batch)).ToList();
                var options = new GenerationOptions { BatchSize = batch, MaxNewTokens = newTokens, MinNewTokens = newTokens };
                progress?.Invoke($"{configName}: batch {batch}, {problems.Count} problems, {newTokens} new tokens each");
                SetEvaluator.Evaluate(new ModelAnswerSource(model, StudentEncoding.T5(tokenizer), options with { MaxNewTokens = 4, MinNewTokens = 4 }), "warm-up", problems.Take(batch).ToList(), queries);
                var started = Stopwatch.GetTimestamp();
                SetEvaluator.Evaluate(new ModelAnswerSource(model, StudentEncoding.T5(tokenizer), options), "gsm8k-test", problems, queries);
                var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
                var promptTokens = problems.Average(p => tokenizer.Encode(queries.Render(p)).Ids.Count);
                figures.Add(new EvalBenchmarkFigure(configName, model.ParameterCount, batch, problems.Count, promptTokens, newTokens, seconds, problems.Count / seconds));
            }
        }
        return new EvalBenchmarkResult(TorchSharp.torch.get_num_threads(), "4-shot math (prompt_simple_4_cases.txt), first GSM8K test problems", figures);
    }
}
