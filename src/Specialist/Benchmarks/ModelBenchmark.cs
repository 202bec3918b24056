using System.Diagnostics;
using Specialist.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Specialist.Benchmarks;

/// <summary>What <see cref="ModelBenchmark.Run"/> measured.</summary>
/// <param name="Config">The model config name.</param>
/// <param name="Parameters">Parameter count.</param>
/// <param name="Threads">libtorch intra-op threads.</param>
/// <param name="GemmPeakGflops">fp32 GEMM throughput of this machine, measured in the same run (best of square matmuls).</param>
/// <param name="Bf16GemmPeakGflops">The same in bf16 (AMX-BF16 where the CPU has it).</param>
/// <param name="TrainTokensPerSecond">Source + target tokens per second of forward + backward + AdamW, fp32.</param>
/// <param name="MixedTrainTokensPerSecond">The same with bf16 mixed precision (<c>train --dtype bf16</c>: fp32 weights and
/// optimiser, bf16 matrix multiplies), its steps interleaved with the fp32 ones so both see the same machine.</param>
/// <param name="TrainGflops">Achieved model FLOP/s of training (matmul FLOPs counted analytically, see <see cref="ModelBenchmark.TrainingFlopsPerStep(T5Config, int, int, int)"/> and its decoder-only overload).</param>
/// <param name="Mfu">TrainGflops / GemmPeakGflops.</param>
/// <param name="Decode">Generated tokens per second per (weights' dtype, batch, cache) case: fp32, then the same
/// weights cast to bf16 (<c>generate/eval --dtype bf16</c>).</param>
/// <param name="CachedStep">Per weights' dtype, where a cached batch-1 decoding step's time goes (empty without decoding).</param>
/// <param name="PeakRssMb">Peak resident memory of the process (VmHWM).</param>
public sealed record ModelBenchmarkResult(
    string Config, long Parameters, int Threads, double GemmPeakGflops, double Bf16GemmPeakGflops,
    double TrainTokensPerSecond, double TrainGflops, double Mfu, double MixedTrainTokensPerSecond,
    IReadOnlyList<DecodeFigure> Decode, IReadOnlyList<CachedStepProfile> CachedStep, double PeakRssMb)
{
    /// <summary>bf16 mixed-precision training tokens/s over fp32's.</summary>
    public double MixedSpeedup => TrainTokensPerSecond > 0 ? MixedTrainTokensPerSecond / TrainTokensPerSecond : 0;
}

/// <summary>Decoding speed with the weights in <paramref name="Dtype"/> (fp32 or bf16) at one batch size, with or without the KV cache.</summary>
public sealed record DecodeFigure(string Dtype, int Batch, bool Cache, int NewTokens, double TokensPerSecond);

/// <summary>
/// Where the time of a cached batch-1 decoding step goes, measured beside it in the same process: the step multiplies
/// each weight it uses by one vector, so it must read them all from memory once. <see cref="WeightMatvecMs"/> times
/// those products alone (the model's own weight tensors, in the step's order); <see cref="StreamGbPerSecond"/> is this
/// machine's memory read bandwidth (summing a tensor far larger than the caches). Their ratio bounds the cache's gain:
/// no cached step can take less than <see cref="FloorMs"/>, so cached ÷ uncached can reach at most <see cref="RatioCeiling"/>.
/// </summary>
/// <param name="Dtype">The weights' dtype (fp32, bf16).</param>
/// <param name="WeightMegabytes">Bytes of the weights one cached step multiplies (decoder projections and feed-forward,
/// not the cached cross-attention keys and values; the output layer), in MB.</param>
/// <param name="WeightMatvecMs">Those weights times one vector each, one after another: the best of repeated passes.</param>
/// <param name="StreamGbPerSecond">Read bandwidth: a 512 MB tensor summed, best of five.</param>
/// <param name="CachedStepMs">One cached step at batch 1 (1 / the cached batch-1 tokens/s).</param>
/// <param name="UncachedStepMs">One uncached step at batch 1, averaged over the new tokens (1 / the uncached batch-1 tokens/s).</param>
public sealed record CachedStepProfile(string Dtype, double WeightMegabytes, double WeightMatvecMs, double StreamGbPerSecond, double CachedStepMs, double UncachedStepMs)
{
    /// <summary>The bandwidth the weight products reach, GB/s.</summary>
    public double MatvecGbPerSecond => WeightMegabytes / WeightMatvecMs;
    /// <summary>The share of the cached step spent in the weight products.</summary>
    public double MatvecShare => WeightMatvecMs / CachedStepMs;
    /// <summary>The least time a cached step can take: its weights read once at <see cref="StreamGbPerSecond"/>.</summary>
    public double FloorMs => WeightMegabytes / StreamGbPerSecond;
    /// <summary>The largest cached ÷ uncached ratio this machine allows at this length: the uncached step over <see cref="FloorMs"/>.</summary>
    public double RatioCeiling => UncachedStepMs / FloorMs;
}

/// <summary>
/// <c>specialist bench model</c>: training and decoding speed of a student shape (a built-in T5, or a T5, Llama or
/// Qwen2 config.json) on this machine, and the model FLOP utilisation (MFU) of training against this machine's own fp32
/// GEMM peak, measured in the same run. A decoder-only model trains on source and target as one sequence, as the
/// training recipe does. Training is timed in fp32 and in bf16 mixed precision, step by step in turn.
/// </summary>
public static class ModelBenchmark
{
    /// <summary>
    /// Runs the benchmark: training batch 8 × (128 source + 128 target) tokens; decoding 128 new tokens at batch 1 and 8,
    /// with fp32 and with bf16 weights (not when <paramref name="decode"/> is false: <see cref="ModelBenchmarkResult.Decode"/> is then empty).
    /// </summary>
    public static ModelBenchmarkResult Run(string configName, int trainSteps = 5, int batch = 8, int sourceLength = 128, int targetLength = 128, int newTokens = 128,
        bool decode = true, Action<string>? progress = null)
    {
        TorchRuntime.EnsureLoaded();
        var config = StudentModel.ResolveConfig(configName);
        torch.manual_seed(0);
        using var model = StudentModel.Create(config);

        progress?.Invoke("measuring the fp32 and bf16 GEMM peaks");
        var peak = GemmPeakGflops();
        var bf16Peak = GemmPeakGflops(ScalarType.BFloat16);

        progress?.Invoke($"training {trainSteps} steps in fp32 and {trainSteps} in bf16 mixed precision, in turn");
        var (stepSeconds, mixedStepSeconds) = TrainStepSeconds(model, trainSteps, batch, sourceLength, targetLength);
        var trainTokensPerSecond = batch * (sourceLength + targetLength) / stepSeconds;
        var flops = config switch
        {
            T5Config t5 => TrainingFlopsPerStep(t5, batch, sourceLength, targetLength),
            LlamaConfig llama => TrainingFlopsPerStep(llama, batch, sourceLength + targetLength),
            _ => throw new ArgumentException($"no FLOP count for {config.ModelType}"),
        };
        var trainGflops = flops / stepSeconds / 1e9;

        var decoding = new List<DecodeFigure>();
        var profiles = new List<CachedStepProfile>();
        var stream = decode ? StreamGbPerSecond() : 0;
        // fp32 first; then the same weights as bf16, as generate and eval load them with --dtype bf16 (no buffer of
        // either family depends on the dtype: casting the module is loading it as bf16).
        foreach (var (dtype, name) in decode ? [(ScalarType.Float32, "fp32"), (ScalarType.BFloat16, "bf16")] : Array.Empty<(ScalarType, string)>())
        {
            model.Module.to(dtype);
            foreach (var decodeBatch in new[] { 1, 8 })
                foreach (var cache in new[] { true, false })
                {
                    progress?.Invoke($"decoding {name}, batch {decodeBatch}, {(cache ? "with" : "without")} cache");
                    decoding.Add(new DecodeFigure(name, decodeBatch, cache, newTokens, DecodeTokensPerSecond(model, decodeBatch, cache, sourceLength, newTokens)));
                }
            progress?.Invoke($"profiling a cached {name} step: its weight products alone");
            var weights = CachedStepWeights(model);
            double StepMs(bool cache) => 1000 / decoding.Single(d => d.Dtype == name && d.Batch == 1 && d.Cache == cache).TokensPerSecond;
            profiles.Add(new CachedStepProfile(name, weights.Sum(w => w.numel() * w.element_size()) / 1e6, WeightMatvecMs(weights), stream, StepMs(true), StepMs(false)));
        }
        return new ModelBenchmarkResult(configName, model.ParameterCount, torch.get_num_threads(), peak, bf16Peak,
            trainTokensPerSecond, trainGflops, trainGflops / peak, batch * (sourceLength + targetLength) / mixedStepSeconds, decoding, profiles, PeakRssMegabytes());
    }

    /// <summary>
    /// Matmul FLOPs of one training step (forward + backward = 3 × forward; 2 FLOPs per multiply-add): attention
    /// projections, attention scores and values, feed-forward and the LM head, encoder over the source and decoder
    /// over the target tokens. Norms, softmax and the optimiser are not counted, as usual for MFU.
    /// </summary>
    public static double TrainingFlopsPerStep(T5Config c, int batch, int sourceLength, int targetLength)
    {
        double inner = c.NumHeads * c.DKv;
        double ffn = (c.FeedForwardProj == T5Config.GatedGelu ? 3.0 : 2.0) * c.DModel * c.DFf;
        double encoderPerToken = c.NumLayers * (4 * c.DModel * inner + 2 * sourceLength * inner + ffn);
        double decoderPerToken = c.NumDecoderLayers * (4 * c.DModel * inner + 2 * targetLength * inner
                                                       + 2 * c.DModel * inner + 2 * sourceLength * inner + ffn)
                                 + (double)c.DModel * c.VocabSize;
        double crossKeysValuesPerSourceToken = c.NumDecoderLayers * 2 * c.DModel * inner;
        double forwardMacs = batch * (sourceLength * (encoderPerToken + crossKeysValuesPerSourceToken) + targetLength * decoderPerToken);
        return 3 * 2 * forwardMacs;
    }

    /// <summary>
    /// Matmul FLOPs of one training step of a decoder-only model over sequences of <paramref name="length"/> tokens,
    /// counted as <see cref="TrainingFlopsPerStep(T5Config, int, int, int)"/> counts them: q, k, v and o projections
    /// (k and v of the key/value heads only), attention scores and values, the SwiGLU MLP and the LM head.
    /// </summary>
    public static double TrainingFlopsPerStep(LlamaConfig c, int batch, int length)
    {
        double q = (double)c.NumAttentionHeads * c.HeadDim, kv = (double)c.NumKeyValueHeads * c.HeadDim;
        double perToken = c.NumHiddenLayers * (2 * c.HiddenSize * q + 2 * c.HiddenSize * kv + 2 * length * q + 3.0 * c.HiddenSize * c.IntermediateSize)
                          + (double)c.HiddenSize * c.VocabSize;
        return 3 * 2 * batch * length * perToken;
    }

    /// <summary>The median step time in fp32 and in bf16 mixed precision, the steps alternating between the two.</summary>
    private static (double Fp32, double Mixed) TrainStepSeconds(StudentModel model, int steps, int batch, int sourceLength, int targetLength)
    {
        var config = model.Config;
        model.Module.train();
        using var optimizer = optim.AdamW(model.Module.parameters(), lr: 1e-4);
        double Step(ScalarType? matmulType)
        {
            using var scope = NewDisposeScope();
            model.MatmulType = matmulType;
            var inputs = randint(3, config.VocabSize, [batch, sourceLength], dtype: ScalarType.Int64, device: model.Device);
            var labels = randint(3, config.VocabSize, [batch, targetLength], dtype: ScalarType.Int64, device: model.Device);
            var mask = ones_like(inputs);
            var started = Stopwatch.GetTimestamp();
            model.ZeroGradients();
            var logits = model.TargetLogits(inputs, mask, labels, ones_like(labels));
            var loss = nn.functional.cross_entropy(logits.view(-1, logits.shape[^1]), labels.view(-1));
            loss.backward();
            optimizer.step();
            return Stopwatch.GetElapsedTime(started).TotalSeconds;
        }
        // A warm-up step of each (allocator and kernel selection), then the two in turn.
        Step(null);
        Step(ScalarType.BFloat16);
        var fp32 = new List<double>();
        var mixed = new List<double>();
        for (var i = 0; i < steps; i++)
        {
            fp32.Add(Step(null));
            mixed.Add(Step(ScalarType.BFloat16));
        }
        model.MatmulType = null;
        model.Module.eval();
        return (fp32.Order().ElementAt(steps / 2), mixed.Order().ElementAt(steps / 2));
    }

    private static double DecodeTokensPerSecond(StudentModel model, int batch, bool cache, int promptLength, int newTokens)
    {
        var rng = new Random(1);
        // Random tokens as the model reads a prompt: T5's encoder input ends with end of sequence, a decoder-only prompt goes on into the answer.
        var prompts = Enumerable.Range(0, batch)
            .Select(_ => (IReadOnlyList<int>)[.. Enumerable.Range(0, promptLength).Select(_ => rng.Next(3, model.Config.VocabSize)), .. model.PadsPromptsLeft ? [] : model.EosIds.Take(1)])
            .ToList();
        var options = new GenerationOptions { MaxNewTokens = newTokens, MinNewTokens = newTokens, BatchSize = batch, UseCache = cache };
        model.Generate(prompts, options with { MaxNewTokens = 4, MinNewTokens = 4 }); // warm-up
        // A cached batch decodes in about a second, where one stray interruption moves the figure by half: the best of
        // repeats over at least three seconds (at most five repeats; a slow uncached case runs once).
        var best = 0.0;
        var clock = Stopwatch.StartNew();
        for (var repeat = 0; repeat < 5 && (repeat == 0 || clock.Elapsed.TotalSeconds < 3); repeat++)
        {
            var started = Stopwatch.GetTimestamp();
            var outputs = model.Generate(prompts, options);
            best = Math.Max(best, outputs.Sum(o => o.Tokens.Count) / Stopwatch.GetElapsedTime(started).TotalSeconds);
        }
        return best;
    }

    /// <summary>
    /// The weights a cached decoding step multiplies, in the order it does: T5's decoder blocks without the
    /// cross-attention keys and values (computed once from the encoder output) and the relative position bias (a
    /// lookup); a decoder-only model's layers; then the output layer (the embedding matrix when tied). Norms are vectors.
    /// </summary>
    internal static IReadOnlyList<Tensor> CachedStepWeights(StudentModel model)
    {
        var named = model.Module.named_parameters().ToList();
        bool Multiplied(string name) => name.StartsWith("decoder.", StringComparison.Ordinal)
            ? !name.Contains(".EncDecAttention.k.", StringComparison.Ordinal) && !name.Contains(".EncDecAttention.v.", StringComparison.Ordinal)
              && !name.Contains("relative_attention_bias", StringComparison.Ordinal)
            : name.StartsWith("model.layers.", StringComparison.Ordinal);
        var output = named.FirstOrDefault(p => p.name == "lm_head.weight").parameter
                     ?? named.Single(p => p.name is "shared.weight" or "model.embed_tokens.weight").parameter;
        return [.. named.Where(p => p.parameter.dim() == 2 && Multiplied(p.name)).Select(p => (Tensor)p.parameter), output];
    }

    /// <summary>Each weight times one vector, in turn; the best pass of those within about a second (at least three).</summary>
    private static double WeightMatvecMs(IReadOnlyList<Tensor> weights)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var inputs = weights.Select(w => randn(1, w.shape[1], dtype: w.dtype)).ToList();
        double Pass()
        {
            var started = Stopwatch.GetTimestamp();
            for (var i = 0; i < weights.Count; i++) nn.functional.linear(inputs[i], weights[i]).Dispose();
            return Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        }
        Pass(); // warm-up
        var best = double.MaxValue;
        var clock = Stopwatch.StartNew();
        for (var pass = 0; pass < 3 || clock.Elapsed.TotalSeconds < 1; pass++) best = Math.Min(best, Pass());
        return best;
    }

    /// <summary>Memory read bandwidth in GB/s: a 512 MB fp32 tensor, far larger than any cache, summed; best of five.</summary>
    private static double StreamGbPerSecond()
    {
        using var scope = NewDisposeScope();
        var data = ones(128L * 1024 * 1024);
        data.sum().Dispose();
        var best = double.MaxValue;
        for (var i = 0; i < 5; i++)
        {
            var started = Stopwatch.GetTimestamp();
            data.sum().Dispose();
            best = Math.Min(best, Stopwatch.GetElapsedTime(started).TotalSeconds);
        }
        return data.numel() * 4 / best / 1e9;
    }

    /// <summary>GEMM FLOP/s in <paramref name="dtype"/>: the best of several square matmul sizes, each timed for about half a second.</summary>
    internal static double GemmPeakGflops(ScalarType dtype = ScalarType.Float32)
    {
        var best = 0.0;
        foreach (var n in new[] { 1024, 2048 })
        {
            using var scope = NewDisposeScope();
            var a = randn(n, n).to(dtype);
            var b = randn(n, n).to(dtype);
            a.matmul(b).Dispose();
            var reps = 0;
            var started = Stopwatch.GetTimestamp();
            while (Stopwatch.GetElapsedTime(started).TotalSeconds < 0.5)
            {
                a.matmul(b).Dispose();
                reps++;
            }
            best = Math.Max(best, 2.0 * n * n * n * reps / Stopwatch.GetElapsedTime(started).TotalSeconds / 1e9);
        }
        return best;
    }

    /// <summary>Peak resident set (VmHWM) in MB; 0 where /proc is absent.</summary>
    internal static double PeakRssMegabytes()
    {
        if (!File.Exists("/proc/self/status")) return 0;
        var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        return line is null ? 0 : double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) / 1024;
    }
}
