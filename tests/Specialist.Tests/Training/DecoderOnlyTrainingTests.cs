using Specialist.Alignment;
using Specialist.Models;
using Specialist.Prompts;
using Specialist.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Specialist.Tests.Training;

/// <summary>
/// Training a decoder-only (Qwen2-shaped) student: prompt and target as one sequence, the loss on the target only,
/// both losses through the one seam, and exact resume with distribution matching.
/// </summary>
public class DecoderOnlyTrainingTests
{
    private static DistillExample Example(int[] encoder, int[] decoder, SparseTargets? targets = null) =>
        new(TrainingFormat.ZeroShotCot, "gsm8k-train/0", -1, encoder, decoder, targets ?? SparseTargets.OneHot(decoder));

    // Position 1 of the first target has teacher candidates (22: 0.6, 9: 0.3).
    private static readonly TrainingMicroBatch Batch = new(TrainingFormat.ZeroShotCot,
    [
        Example([11, 12, 13, 14], [21, 22, 23, 1], new SparseTargets([0, 1, 3, 4, 5], [21, 22, 9, 23, 1], [1, 0.6, 0.3, 1, 1],
            [TargetKind.OneHot, TargetKind.Teacher, TargetKind.OneHot, TargetKind.OneHot])),
        Example([15], [25, 26, 1]),
    ]);

    private static StudentModel Student() => StudentModel.Load(TrainingTestKit.DecoderOnlyStudent);

    [Fact]
    public void The_batch_is_the_prompt_left_padded_then_the_target_right_padded_masked_exactly()
    {
        using var student = Student();
        using var scope = NewDisposeScope();
        using var t = MicroBatchTensors.Build(Batch, student, promptHead: 0, maxSourceLength: 3, maxTargetLength: null, sparse: true, new Device(DeviceType.CPU));
        // Prompts (as the set stores them for this student: no end of sequence) keep their last 3 tokens and end in the same column.
        Assert.Equal(new long[] { 12, 13, 14, 0, 0, 15 }, t.InputIds.data<long>().ToArray());
        Assert.Equal(new long[] { 1, 1, 1, 0, 0, 1 }, t.AttentionMask.data<long>().ToArray());
        // Targets keep their end of sequence; the mask is 1 exactly on them.
        Assert.Equal(new long[] { 21, 22, 23, 1, 25, 26, 1, 0 }, t.Labels.data<long>().ToArray());
        Assert.Equal(new long[] { 1, 1, 1, 1, 1, 1, 1, 0 }, t.LabelMask.data<long>().ToArray());
        Assert.Equal(3 + 1 + 4 + 3, t.Tokens);
        // The sparse targets index target positions as for T5's decoder.
        Assert.Equal(new long[] { 21, 0, 22, 9, 23, 0, 1, 0, 25, 0, 26, 0, 1, 0, 0, 0 }, t.TargetIds!.data<long>().ToArray());

        var logits = student.TargetLogits(t.InputIds, t.AttentionMask, t.Labels, t.LabelMask);
        Assert.Equal(new long[] { 2, 4, student.Config.VocabSize }, logits.shape);
    }

    [Fact]
    public void Both_losses_through_the_seam_equal_the_losses_of_each_sequence_run_alone()
    {
        using var student = Student();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var t = MicroBatchTensors.Build(Batch, student, 0, null, null, sparse: true, new Device(DeviceType.CPU));
        var logits = student.TargetLogits(t.InputIds, t.AttentionMask, t.Labels, t.LabelMask);
        var crossEntropy = SequenceLosses.CrossEntropy(logits, t.Labels, t.LabelMask).item<float>();
        var distribution = SequenceLosses.Distribution(logits, t.TargetIds!, t.TargetProbabilities!, t.LabelMask).item<float>();

        // By hand: each example's prompt and target run alone, unpadded; position p - 1 + i
        // predicts target token i; the losses average over the 4 + 3 target tokens.
        var module = (LlamaModel)student.Module;
        double crossSum = 0, klSum = 0;
        foreach (var e in Batch.Examples)
        {
            var prompt = e.EncoderIds;
            var sequence = prompt.Concat(e.DecoderIds).Select(id => (long)id).ToArray();
            var ids = tensor(sequence, [1, sequence.Length]);
            var mask = ones_like(ids);
            var logProbs = module.forward(ids, mask, LlamaModel.PositionIds(mask))[0].log_softmax(-1);
            for (var i = 0; i < e.DecoderIds.Length; i++)
            {
                var at = logProbs[prompt.Length - 1 + i];
                crossSum -= at[e.DecoderIds[i]].item<float>();
                var candidates = e.Targets.Ids(i);
                var probabilities = e.Targets.Probabilities(i);
                for (var c = 0; c < candidates.Length; c++)
                    klSum += probabilities[c] * (Math.Log(probabilities[c]) - at[candidates[c]].item<float>());
            }
        }
        Assert.Equal(crossSum / 7, crossEntropy, 4);
        Assert.Equal(klSum / 7, distribution, 4);
        Assert.NotEqual(crossEntropy, distribution, 2); // the soft target makes a difference
    }

    [Fact]
    public void A_prompt_and_target_longer_than_the_positions_are_refused_before_libtorch()
    {
        using var student = Student();
        var longBatch = new TrainingMicroBatch(TrainingFormat.ZeroShotCot, [Example([.. Enumerable.Repeat(5, 400)], [.. Enumerable.Repeat(6, 200), 1])]);
        var error = Assert.Throws<SpecialistException>(() => MicroBatchTensors.Build(longBatch, student, 0, null, null, false, new Device(DeviceType.CPU)));
        Assert.Contains("400 prompt and 201 target positions", error.Message);
        Assert.Contains("max_position_embeddings 512", error.Message);
    }

    [Fact]
    public void Distribution_matching_lowers_the_loss_saves_loadable_checkpoints_and_resumes_exactly_after_a_kill()
    {
        string[] Options(string run) =>
        [
            "--student", TrainingTestKit.DecoderOnlyStudent, "--data", TrainingTestKit.DecoderOnlyStoreSet, "--out", run, "--data-root", TestPaths.DataRoot,
            "--lr", "5e-3", "--max-source-len", "64", "--max-target-len", "48", "--eval-limit", "2", "--eval-max-new-tokens", "8", "--threads", "1",
        ];
        string[] options = ["--loss", "distribution", "--steps", "8", "--grad-accum", "2", "--eval-every", "4", "--save-every", "2", "--json"];
        var whole = Path.Combine(TestPaths.NewTempDir(), "whole");
        TrainingTestKit.Check(CliRunner.Run(["train", .. Options(whole), .. options], null, TimeSpan.FromMinutes(10)));
        var losses = TrainingTestKit.Losses(whole);
        Assert.Equal(8, losses.Count);
        Assert.True(losses[^1].Loss < losses[0].Loss, $"the loss did not fall: {string.Join(", ", losses)}");
        Assert.Equal([4L, 8L], TrainingTestKit.Metrics(whole, "eval").Select(n => n["step"]!.GetValue<long>()));
        var checkpoint = Path.Combine(whole, RunCheckpoints.RelativePath(8));
        Assert.Equal("qwen2", StudentModel.Inspect(checkpoint).Config.ModelType);

        var killed = Path.Combine(TestPaths.NewTempDir(), "killed");
        TrainCommandTests.KillAndResume(Options(killed), options, killed, killAfter: Random.Shared.Next(3, 8));
        Assert.Equal(losses, TrainingTestKit.Losses(killed));
        Assert.Equal(File.ReadAllBytes(Path.Combine(checkpoint, "model.safetensors")),
            File.ReadAllBytes(Path.Combine(killed, RunCheckpoints.RelativePath(8), "model.safetensors")));
    }
}
