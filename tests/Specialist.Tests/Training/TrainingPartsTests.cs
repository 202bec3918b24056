using System.Text.Json.Nodes;
using Specialist.Alignment;
using Specialist.Models;
using Specialist.Prompts;
using Specialist.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Specialist.Tests.Training;

/// <summary>The pieces of the recipe on small in-memory inputs: data order, batch tensors, metrics, selection, config.</summary>
public class TrainingPartsTests
{
    private static DistillExample Example(TrainingFormat format, int[] encoder, int[] decoder, SparseTargets? targets = null) =>
        new(format, "gsm8k-train/0", -1, encoder, decoder, targets ?? SparseTargets.OneHot(decoder));

    [Fact]
    public void Each_epoch_visits_every_example_once_in_single_format_batches_in_an_order_fixed_by_seed_and_epoch()
    {
        var counts = new Dictionary<TrainingFormat, int> { [TrainingFormat.InContextCot] = 7, [TrainingFormat.ZeroShotAnswerOnly] = 5 };
        var sizes = new Dictionary<TrainingFormat, int> { [TrainingFormat.InContextCot] = 3, [TrainingFormat.ZeroShotAnswerOnly] = 2 };
        var reads = 0;
        IReadOnlyList<DistillExample> Read(DistillMicroBatch b)
        {
            reads++;
            return [.. b.Examples.Select(i => Example(b.Format, [i], [i]))];
        }
        var data = new TrainingData(counts, sizes, Read, seed: 11);
        Assert.Equal(3 + 3, data.PerEpoch);
        Assert.Equal(["ic-cot", "zs-ao"], data.FormatNames);

        string Signature(IEnumerable<TrainingMicroBatch> epoch) => string.Join("|", epoch.Select(b => b.Name + ":" + string.Join(",", b.Examples.Select(e => e.EncoderIds[0]))));
        var epoch0 = data.EpochOrder(0).ToList();
        foreach (var (format, count) in counts)
            Assert.Equal(Enumerable.Range(0, count), epoch0.Where(b => b.Format == format).SelectMany(b => b.Examples).Select(e => e.EncoderIds[0]).Order());
        Assert.All(epoch0, b => Assert.InRange(b.Examples.Count, 1, sizes[b.Format]));
        Assert.Equal(Signature(epoch0), Signature(data.EpochOrder(0)));
        Assert.NotEqual(Signature(epoch0), Signature(data.EpochOrder(1)));
        Assert.NotEqual(Signature(epoch0), Signature(new TrainingData(counts, sizes, Read, seed: 12).EpochOrder(0)));

        // Resuming mid-epoch reads only the micro-batches still to come.
        reads = 0;
        using var stream = new TrainingStream(data.EpochOrder, data.PerEpoch, epoch: 0, index: 4);
        var rest = new[] { stream.Next(), stream.Next(), stream.Next() };
        Assert.Equal(3, reads);
        Assert.Equal(Signature(epoch0.Skip(4)), Signature(rest.Take(2).Select(r => r.Batch)));
        Assert.Equal([0, 0, 1], rest.Select(r => r.Epoch));
        Assert.Equal((1, 1), (stream.Epoch, stream.Index));
    }

    [Fact]
    public void Batch_tensors_pad_right_truncate_sources_from_the_front_and_targets_from_the_back()
    {
        TorchRuntime.EnsureLoaded();
        // Position 1 of the first target has teacher candidates (5: 0.6, 9: 0.3); position 2's candidates were all dropped.
        var targets = new SparseTargets([0, 1, 3, 3, 4, 5], [21, 5, 9, 24, 1], [1, 0.6, 0.3, 1, 1],
            [TargetKind.OneHot, TargetKind.Teacher, TargetKind.Teacher, TargetKind.OneHot, TargetKind.OneHot]);
        var batch = new TrainingMicroBatch(TrainingFormat.ZeroShotCot,
        [
            Example(TrainingFormat.ZeroShotCot, [11, 12, 13, 14, 1], [21, 22, 23, 24, 1], targets),
            Example(TrainingFormat.ZeroShotCot, [15, 1], [25, 1]),
        ]);
        using var t = MicroBatchTensors.Build(batch, vocabSize: 100, padId: 0, maxSourceLength: 3, maxTargetLength: 4, sparse: true, new Device(DeviceType.CPU));
        Assert.Equal(new long[] { 13, 14, 1, 15, 1, 0 }, t.InputIds.data<long>().ToArray());
        Assert.Equal(new long[] { 1, 1, 1, 1, 1, 0 }, t.AttentionMask.data<long>().ToArray());
        Assert.Equal(new long[] { 21, 22, 23, 24, 25, 1, 0, 0 }, t.Labels.data<long>().ToArray());
        Assert.Equal(new long[] { 1, 1, 1, 1, 1, 1, 0, 0 }, t.LabelMask.data<long>().ToArray());
        Assert.Equal(3 + 2 + 4 + 2, t.Tokens);
        Assert.Equal(new long[] { 2, 4, 2 }, t.TargetIds!.shape);
        Assert.Equal(new long[] { 21, 0, 5, 9, 23, 0, 24, 0, 25, 0, 1, 0, 0, 0, 0, 0 }, t.TargetIds.data<long>().ToArray());
        Assert.Equal(new float[] { 1, 0, 0.6f, 0.3f, 1, 0, 1, 0, 1, 0, 1, 0, 0, 0, 0, 0 }, t.TargetProbabilities!.data<float>().ToArray());

        var outside = new TrainingMicroBatch(TrainingFormat.ZeroShotCot, [Example(TrainingFormat.ZeroShotCot, [150, 1], [2, 1])]);
        var error = Assert.Throws<SpecialistException>(() => MicroBatchTensors.Build(outside, 100, 0, null, null, false, new Device(DeviceType.CPU)));
        Assert.Contains("token id 150", error.Message);
    }

    [Fact]
    public void Resuming_cuts_the_metrics_back_to_the_checkpoint_and_drops_a_half_written_line()
    {
        var path = Path.Combine(TestPaths.NewTempDir(), "metrics.jsonl");
        using (var log = new MetricsLog(path))
        {
            for (var step = 1; step <= 5; step++)
                log.Write(new TrainStepRecord(step, 0, 10 - step, 1e-3, 100, 1, new Dictionary<string, double> { ["zs-cot"] = 10 - step }, step));
            log.Write(new EvalRecord(4, new Dictionary<string, double> { ["gsm8k-dev"] = 0.5 }, 0.5, null, "checkpoints/step-000004"));
        }
        File.AppendAllText(path, """{"kind":"train","step":6,"lo""");
        MetricsLog.TruncateAfter(path, 4);
        var lines = File.ReadAllLines(path).Select(l => JsonNode.Parse(l)!).ToList();
        Assert.Equal([1L, 2, 3, 4, 4], lines.Select(n => n["step"]!.GetValue<long>()));
        Assert.Equal("eval", lines[^1]["kind"]!.GetValue<string>());
        Assert.Equal(0.5, lines[^1]["accuracy"]!["gsm8k-dev"]!.GetValue<double>());
    }

    [Fact]
    public void Selection_takes_the_best_id_and_best_ood_mean_ties_to_the_earlier_step_and_moves_the_link()
    {
        EvalRecord Eval(long step, double id, double ood) =>
            new(step, new Dictionary<string, double> { ["gsm8k-dev"] = id, ["svamp-dev"] = ood }, id, ood, RunCheckpoints.RelativePath(step));
        var run = TestPaths.NewTempDir();
        Directory.CreateDirectory(Path.Combine(run, "checkpoints"));
        var evals = new List<EvalRecord> { Eval(10, 0.2, 0.30), Eval(20, 0.4, 0.25) };
        var selection = RunSelection.From("gsm8k-dev", ["svamp-dev"], evals, (20, RunCheckpoints.RelativePath(20)));
        Assert.Equal(20, selection.BestId!.Step);
        Assert.Equal(10, selection.BestOod!.Step);
        selection.Write(run);
        Assert.Equal("checkpoints/step-000010", new FileInfo(Path.Combine(run, "best-ood")).LinkTarget);

        evals.Add(Eval(30, 0.4, 0.35));
        selection = RunSelection.From("gsm8k-dev", ["svamp-dev"], evals, (30, RunCheckpoints.RelativePath(30)));
        Assert.Equal(20, selection.BestId!.Step); // tie at 0.4: the earlier checkpoint
        Assert.Equal(30, selection.BestOod!.Step);
        selection.Write(run);
        Assert.Equal("checkpoints/step-000030", new FileInfo(Path.Combine(run, "best-ood")).LinkTarget);
        Assert.Equal(["checkpoints/step-000020", "checkpoints/step-000030"], selection.Kept.Order());
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(run, "selection.json")))!;
        Assert.Equal(0.35, json["best_ood"]!["ood_mean"]!.GetValue<double>());
        Assert.Equal(30, json["last"]!["step"]!.GetValue<long>());
        Assert.DoesNotContain(Directory.GetFileSystemEntries(run), e => Path.GetFileName(e).StartsWith('.')); // no temporary link left behind
    }

    [Fact]
    public void A_config_written_by_a_run_reads_back_equal_and_text_values_parse()
    {
        var config = new TrainingConfig
        {
            Student = "/s", Data = "/d", Out = "/o", Loss = LossKind.Distribution, Formats = ["ic-cot", "zs-ao"], Lr = 2e-4, Steps = 7,
            LrHorizon = ScheduleHorizon.MicroSteps, Schedule = ScheduleKind.Linear, BatchSize = TrainingConfig.ParseBatchSizes("ic-cot=25,zs-ao=60"),
            EvalLimit = 8, EvalSets = ["gsm8k-dev", "svamp-dev"], Seed = 3, Threads = 2, MaxSourceLen = 128,
        };
        var path = Path.Combine(TestPaths.NewTempDir(), "config.json");
        File.WriteAllText(path, config.ToJson());
        var read = TrainingConfig.ReadFile(path);
        Assert.Equal(config.ToJson(), read.ToJson());
        Assert.Equal(["svamp-dev"], read.OodSets);
        Assert.Null(read.SaveEvery);
        Assert.Equal(new Dictionary<string, int> { ["*"] = 16 }, TrainingConfig.ParseBatchSizes("16"));
        Assert.Throws<SpecialistException>(() => config.With("warmup", "ten"));
        Assert.Throws<SpecialistException>(() => config.With("loss", "kl"));
        Assert.Equal(ScheduleHorizon.Steps, config.With("lr_horizon", "steps").LrHorizon);
        var problems = Assert.Throws<SpecialistException>(() => (config with { Lr = 0, EvalPrompt = "8shot" }).Validate());
        Assert.Contains("lr is 0", problems.Message);
        Assert.Contains("eval_prompt is '8shot'", problems.Message);
    }
}
