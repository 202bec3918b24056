using System.Globalization;
using Specialist.Alignment;
using Specialist.Models;
using Specialist.Prompts;
using Specialist.Training;
using TorchSharp;

namespace Specialist.Benchmarks;

/// <summary>Training speed of one student shape with one loss in one precision.</summary>
/// <param name="Config">The model config name.</param>
/// <param name="Loss"><c>sample</c> or <c>distribution</c>.</param>
/// <param name="Dtype"><c>fp32</c>, or <c>bf16</c> mixed precision (<see cref="TrainingConfig.Dtype"/>).</param>
/// <param name="Parameters">Parameter count.</param>
/// <param name="Steps">Optimiser steps timed (after one warm-up step).</param>
/// <param name="Batch">Examples per step.</param>
/// <param name="SourceLength">Encoder tokens per example.</param>
/// <param name="TargetLength">Decoder tokens per example.</param>
/// <param name="TokensPerSecond">Median over the timed steps of source + target tokens per second.</param>
/// <param name="StepMs">Median step time.</param>
/// <param name="LossMs">Forward and backward of the loss alone on logits of this shape (the best of 5 runs).</param>
/// <param name="PeakRssMb">The process's peak resident memory (VmHWM) once this case has run.</param>
/// <param name="StepLosses">The training loss of every step, the warm-up step first: the loss curve.</param>
public sealed record TrainSpeedFigure(string Config, string Loss, string Dtype, long Parameters, int Steps, int Batch, int SourceLength, int TargetLength,
    double TokensPerSecond, double StepMs, double LossMs, double PeakRssMb, IReadOnlyList<double> StepLosses);

/// <summary>How much slower distribution matching trains than sample matching (goal ≤ 10 %).</summary>
/// <param name="Config">The model config name.</param>
/// <param name="Dtype">The precision both ran in.</param>
/// <param name="MeasuredPercent">From the two runs' median step times: noisy on a busy machine.</param>
/// <param name="LossOnlyPercent">The extra time of the KL loss over cross-entropy (forward and backward of the loss alone, the
/// only part of a step that differs) relative to a sample-matching step: steadier, as short loss timings repeat well.</param>
public sealed record DistributionOverhead(string Config, string Dtype, double MeasuredPercent, double LossOnlyPercent);

/// <summary>bf16 mixed precision against fp32 on one student shape and loss: the same data in the same order from the same weights.</summary>
/// <param name="Config">The model config name.</param>
/// <param name="Loss"><c>sample</c> or <c>distribution</c>.</param>
/// <param name="Speedup">bf16 tokens/s over fp32's (the runs one after the other, not interleaved: <c>bench model</c> interleaves).</param>
/// <param name="FinalLossFp32">fp32's mean loss over the last tenth of the steps (at least one).</param>
/// <param name="FinalLossBf16">bf16's, over the same steps.</param>
/// <param name="GapPercent">(FinalLossBf16 − FinalLossFp32) / FinalLossFp32, in percent.</param>
public sealed record PrecisionComparison(string Config, string Loss, double Speedup, double FinalLossFp32, double FinalLossBf16, double GapPercent);

/// <summary>Resident memory (VmRSS, read after every step) over a long run of small steps.</summary>
/// <param name="Config">The model config name.</param>
/// <param name="Steps">Optimiser steps run.</param>
/// <param name="WarmupSteps">Steps before the measurement starts (a tenth of the run).</param>
/// <param name="RssAfterWarmupMb">The mean over the tenth of the run after the warm-up.</param>
/// <param name="RssMaxMb">The largest value after the warm-up.</param>
/// <param name="RssEndMb">The mean over the run's last tenth.</param>
/// <param name="GrowthPercent">(RssEndMb − RssAfterWarmupMb) / RssAfterWarmupMb, in percent (goal ≤ 5): the trend, not one step's noise.</param>
public sealed record MemoryFigure(string Config, int Steps, int WarmupSteps, double RssAfterWarmupMb, double RssMaxMb, double RssEndMb, double GrowthPercent);

/// <summary>What <see cref="TrainBenchmark.Run"/> measured.</summary>
/// <param name="Threads">libtorch intra-op threads.</param>
/// <param name="Speed">Per config and loss.</param>
/// <param name="DistributionOverhead">Per config: the cost of distribution matching over sample matching.</param>
/// <param name="Precision">Per config and loss, bf16 mixed precision against fp32, when both were run.</param>
/// <param name="Memory">The long-run memory measurement; null when none was asked for.</param>
public sealed record TrainBenchmarkResult(int Threads, IReadOnlyList<TrainSpeedFigure> Speed, IReadOnlyList<DistributionOverhead> DistributionOverhead,
    IReadOnlyList<PrecisionComparison> Precision, MemoryFigure? Memory)
{
    /// <summary>Every case's loss curve as CSV: <c>config,loss,dtype,step,value</c>, step 0 the warm-up step.</summary>
    public string LossCurvesCsv() =>
        "config,loss,dtype,step,value\n" + string.Concat(Speed.SelectMany(f => f.StepLosses.Select((value, step) =>
            string.Create(CultureInfo.InvariantCulture, $"{f.Config},{f.Loss},{f.Dtype},{step},{value:R}\n"))));
}

/// <summary>
/// <c>specialist bench train</c>: the real training loop (<see cref="TrainingRecipe"/>) on synthetic chain-of-thought
/// micro-batches (random ids; for distribution matching a top-5 teacher target at every position), for each student
/// shape with each loss in each precision, plus resident memory over a long run of a tiny student. Every case starts
/// from the same weights and sees the same batches in the same order, so fp32's and bf16's loss curves compare step by step.
/// </summary>
public static class TrainBenchmark
{
    /// <summary>The shapes measured by default: the test-sized student and one shaped like T5-small / FlanT5-small.</summary>
    public static IReadOnlyList<string> DefaultConfigs { get; } = ["tiny", "flan-t5-small"];

    private const int TopK = 5;

    /// <summary>The precisions measured by default.</summary>
    public static IReadOnlyList<string> DefaultDtypes { get; } = ["fp32"];

    /// <summary>The losses measured by default.</summary>
    public static IReadOnlyList<LossKind> DefaultLosses { get; } = [LossKind.Sample, LossKind.Distribution];

    /// <summary>
    /// Runs the benchmark. Each speed case trains <paramref name="steps"/> + 1 steps of <paramref name="batch"/> ×
    /// (<paramref name="sourceLength"/> + <paramref name="targetLength"/>) tokens; the memory case trains
    /// <paramref name="memorySteps"/> steps of the tiny student (batch 8 × (64 + 64)) and compares the mean VmRSS of the
    /// run's second tenth with that of its last tenth (no memory case when <paramref name="memorySteps"/> is 0).
    /// <paramref name="tokenizerPath"/> is T5's spiece.model (the run folders need one). <paramref name="dtypes"/> are
    /// <c>fp32</c> and <c>bf16</c> (default: fp32), <paramref name="losses"/> default to both.
    /// </summary>
    public static TrainBenchmarkResult Run(string tokenizerPath, IReadOnlyList<string> configs, int steps = 5, int batch = 8, int sourceLength = 128,
        int targetLength = 128, int memorySteps = 500, IReadOnlyList<string>? dtypes = null, IReadOnlyList<LossKind>? losses = null, Action<string>? progress = null)
    {
        if (!File.Exists(tokenizerPath)) throw new SpecialistException($"tokenizer {tokenizerPath} does not exist (give --data-root with tokenizers/t5/spiece.model)");
        dtypes ??= DefaultDtypes;
        losses ??= DefaultLosses;
        if (dtypes.Count == 0 || dtypes.Any(d => d is not ("fp32" or "bf16"))) throw new SpecialistException($"dtypes are fp32 and bf16, not '{string.Join(",", dtypes)}'");
        if (losses.Count == 0) throw new SpecialistException("no loss to measure");
        TorchRuntime.EnsureLoaded();
        var scratch = Path.Combine(Path.GetTempPath(), "specialist-bench-train-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            var speed = new List<TrainSpeedFigure>();
            foreach (var name in configs)
            {
                var student = Path.Combine(scratch, name);
                var summary = T5Checkpoint.WriteRandom(T5Config.Resolve(name), student, tokenizerPath, seed: 0);
                foreach (var loss in losses)
                    foreach (var dtype in dtypes)
                    {
                        progress?.Invoke($"{name}, {loss.ToString().ToLowerInvariant()} matching, {dtype}: {steps + 1} steps");
                        var times = new List<double>();
                        var stepLosses = new List<double>();
                        Train(student, scratch, loss, dtype, steps + 1, batch, sourceLength, targetLength, e =>
                        {
                            if (e.Train is not { } t) return;
                            times.Add(t.TokensPerSecond);
                            stepLosses.Add(t.Loss);
                        });
                        var tokensPerSecond = Median(times.Skip(1));
                        speed.Add(new TrainSpeedFigure(name, loss.ToString().ToLowerInvariant(), dtype, summary.ParameterCount, steps, batch, sourceLength, targetLength,
                            tokensPerSecond, 1000.0 * batch * (sourceLength + targetLength) / tokensPerSecond,
                            LossMilliseconds(loss, batch, targetLength, summary.Config.VocabSize), ModelBenchmark.PeakRssMegabytes(), stepLosses));
                    }
            }
            var overhead = speed.GroupBy(s => (s.Config, s.Dtype))
                .Where(g => g.Any(s => s.Loss == "sample") && g.Any(s => s.Loss == "distribution"))
                .Select(g =>
                {
                    var (sample, distribution) = (g.Single(s => s.Loss == "sample"), g.Single(s => s.Loss == "distribution"));
                    return new DistributionOverhead(g.Key.Config, g.Key.Dtype, 100 * (distribution.StepMs / sample.StepMs - 1), 100 * (distribution.LossMs - sample.LossMs) / sample.StepMs);
                }).ToList();
            var precision = speed.GroupBy(s => (s.Config, s.Loss))
                .Where(g => g.Any(s => s.Dtype == "fp32") && g.Any(s => s.Dtype == "bf16"))
                .Select(g => Compare(g.Single(s => s.Dtype == "fp32"), g.Single(s => s.Dtype == "bf16")))
                .ToList();
            if (memorySteps == 0) return new TrainBenchmarkResult(torch.get_num_threads(), speed, overhead, precision, null);

            progress?.Invoke($"tiny, memory over {memorySteps} steps");
            var tiny = Path.Combine(scratch, "memory-student");
            T5Checkpoint.WriteRandom(T5Config.Tiny, tiny, tokenizerPath, seed: 0);
            var tenth = Math.Max(1, memorySteps / 10);
            var rss = new List<double>();
            Train(tiny, scratch, LossKind.Sample, "fp32", memorySteps, 8, 64, 64, e => { if (e.Train is not null) rss.Add(ResidentMegabytes()); });
            var reference = rss.Skip(tenth).Take(tenth).Average();
            var end = rss.TakeLast(tenth).Average();
            var memory = new MemoryFigure("tiny", memorySteps, tenth, reference, rss.Skip(tenth).Max(), end, 100 * (end - reference) / reference);
            return new TrainBenchmarkResult(torch.get_num_threads(), speed, overhead, precision, memory);
        }
        finally
        {
            if (Directory.Exists(scratch)) Directory.Delete(scratch, recursive: true);
        }
    }

    /// <summary>bf16 against fp32: speed, and the mean loss over the same last tenth of the steps.</summary>
    private static PrecisionComparison Compare(TrainSpeedFigure fp32, TrainSpeedFigure bf16)
    {
        var tail = Math.Max(1, fp32.StepLosses.Count / 10);
        var (lossFp32, lossBf16) = (fp32.StepLosses.TakeLast(tail).Average(), bf16.StepLosses.TakeLast(tail).Average());
        return new PrecisionComparison(fp32.Config, fp32.Loss, bf16.TokensPerSecond / fp32.TokensPerSecond, lossFp32, lossBf16, 100 * (lossBf16 - lossFp32) / lossFp32);
    }

    private static void Train(string student, string scratch, LossKind loss, string dtype, int steps, int batch, int sourceLength, int targetLength, Action<TrainingEvent> report)
    {
        var run = Path.Combine(scratch, "run-" + Guid.NewGuid().ToString("N")[..8]);
        var config = TrainingRecipe.Resolve(new TrainingConfig
        {
            Student = student, Data = scratch, Out = run, Loss = loss, Dtype = dtype, Steps = steps, Warmup = 1, EvalSets = [], KeepLast = 1, DataRoot = scratch,
        });
        const int examples = 64 * 8;
        var counts = new Dictionary<TrainingFormat, int> { [TrainingFormat.ZeroShotCot] = examples };
        var sizes = new Dictionary<TrainingFormat, int> { [TrainingFormat.ZeroShotCot] = batch };
        using var data = new TrainingData(counts, sizes, b => [.. b.Examples.Select(i => SyntheticExample(i, sourceLength, targetLength))], seed: 0);
        TrainingRecipe.Run(config, data, resumeFrom: null, report, CancellationToken.None);
        Directory.Delete(run, recursive: true);
    }

    /// <summary>Forward and backward of the loss alone on random (batch, length, vocab) logits with synthetic targets: the best of 5 runs after one, in ms.</summary>
    private static double LossMilliseconds(LossKind loss, int batch, int length, int vocab)
    {
        using var scope = torch.NewDisposeScope();
        var logits = torch.randn(batch, length, vocab).requires_grad_(true);
        var labels = torch.randint(3, vocab, [batch, length]);
        var mask = torch.ones(batch, length, torch.ScalarType.Int64);
        var ids = torch.randint(3, vocab, [batch, length, TopK]);
        var probabilities = torch.full([batch, length, TopK], 0.18f);
        var best = double.MaxValue;
        for (var run = 0; run < 6; run++)
        {
            using var inner = torch.NewDisposeScope();
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            var value = loss == LossKind.Sample ? SequenceLosses.CrossEntropy(logits, labels, mask) : SequenceLosses.Distribution(logits, ids, probabilities, mask);
            value.backward();
            var ms = System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            if (run > 0) best = Math.Min(best, ms);
        }
        return best;
    }

    /// <summary>Random ids (fixed by the index) ending with end-of-sequence; each target position has a descending top-5 summing to 0.9.</summary>
    private static DistillExample SyntheticExample(int index, int sourceLength, int targetLength)
    {
        var random = new SplitMix64((ulong)index);
        int Id() => 3 + random.NextBelow(32000 - 3);
        var encoder = Enumerable.Range(0, sourceLength).Select(i => i == sourceLength - 1 ? 1 : Id()).ToArray();
        var decoder = Enumerable.Range(0, targetLength).Select(i => i == targetLength - 1 ? 1 : Id()).ToArray();
        var starts = Enumerable.Range(0, targetLength + 1).Select(t => t * TopK).ToArray();
        var ids = new int[targetLength * TopK];
        var probabilities = new double[targetLength * TopK];
        double[] top = [0.5, 0.2, 0.1, 0.06, 0.04];
        for (var t = 0; t < targetLength; t++)
            for (var k = 0; k < TopK; k++)
            {
                ids[t * TopK + k] = k == 0 ? decoder[t] : Id();
                probabilities[t * TopK + k] = top[k];
            }
        return new DistillExample(TrainingFormat.ZeroShotCot, "synthetic/" + index, index, encoder, decoder,
            new SparseTargets(starts, ids, probabilities, Enumerable.Repeat(TargetKind.Teacher, targetLength).ToArray()));
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count == 0 ? 0 : sorted[sorted.Count / 2];
    }

    /// <summary>Current resident memory (VmRSS) in MB; 0 where /proc is absent.</summary>
    internal static double ResidentMegabytes()
    {
        if (!File.Exists("/proc/self/status")) return 0;
        var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return line is null ? 0 : double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024;
    }
}
