using Specialist.Benchmarks;
using Specialist.Models;

namespace Specialist.Tests.Benchmarks;

/// <summary><c>bench model</c> end to end on the tiny built-in shape, with short sequences so it runs in seconds.</summary>
public class ModelBenchmarkTests
{
    [Fact]
    public void Measures_training_and_decoding_in_both_dtypes()
    {
        var result = ModelBenchmark.Run("tiny", trainSteps: 1, batch: 2, sourceLength: 16, targetLength: 16, newTokens: 8);

        Assert.True(result.Parameters > 1_000_000, $"tiny has {result.Parameters} parameters");
        Assert.True(result.GemmPeakGflops > 0 && result.Bf16GemmPeakGflops > 0);
        Assert.True(result.TrainTokensPerSecond > 0 && result.MixedTrainTokensPerSecond > 0 && result.Mfu > 0);
        // fp32 then bf16 weights, each at batch 1 and 8, with and without the cache, every case generating tokens.
        Assert.Equal(
            [.. from dtype in new[] { "fp32", "bf16" } from batch in new[] { 1, 8 } from cache in new[] { true, false } select (dtype, batch, cache)],
            result.Decode.Select(d => (d.Dtype, d.Batch, d.Cache)).ToList());
        Assert.All(result.Decode, d => Assert.True(d.TokensPerSecond > 0 && d.NewTokens == 8, $"{d}"));

        // The cached step's profile counts exactly the weights a cached step multiplies: per decoder block self-attention
        // q, k, v, o, cross-attention q and o (its keys and values are cached), the feed-forward pair; then the output layer.
        var c = (T5Config)StudentModel.ResolveConfig("tiny");
        long inner = c.NumHeads * c.DKv;
        var weights = c.NumDecoderLayers * (6 * c.DModel * inner + (c.FeedForwardProj == T5Config.GatedGelu ? 3 : 2) * c.DModel * c.DFf) + (long)c.VocabSize * c.DModel;
        Assert.Equal(["fp32", "bf16"], result.CachedStep.Select(p => p.Dtype));
        Assert.Equal(4 * weights / 1e6, result.CachedStep[0].WeightMegabytes, 6);
        Assert.Equal(2 * weights / 1e6, result.CachedStep[1].WeightMegabytes, 6);
        Assert.All(result.CachedStep, p => Assert.True(p.WeightMatvecMs > 0 && p.StreamGbPerSecond > 0 && p.RatioCeiling > 0, $"{p}"));
    }
}
