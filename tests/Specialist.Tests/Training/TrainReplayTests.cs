using System.Text.Json.Nodes;
using Specialist.Training;

namespace Specialist.Tests.Training;

/// <summary>Replaying a second (gold) distillation set during training: which micro-batches replay, the logs, exact resume.</summary>
public class TrainReplayTests
{
    [Fact]
    public void The_replay_draw_is_a_pure_function_of_seed_and_micro_batch_at_about_the_share()
    {
        var mix = new ReplayMix(seed: 5, share: 0.3);
        var draws = Enumerable.Range(0, 20_000).Select(g => mix.IsReplay(g)).ToList();
        Assert.InRange(draws.Count(d => d), 0.28 * draws.Count, 0.32 * draws.Count);
        Assert.Equal(draws.Take(200), Enumerable.Range(0, 200).Select(g => new ReplayMix(5, 0.3).IsReplay(g)));
        Assert.NotEqual(draws.Take(200), Enumerable.Range(0, 200).Select(g => new ReplayMix(6, 0.3).IsReplay(g)));
        Assert.DoesNotContain(Enumerable.Range(0, 1000), g => new ReplayMix(5, 0).IsReplay(g));

        // Epochs count the main set: the micro-batches that hold exactly N main ones end with a main one.
        var all = mix.MicroBatchesFor(1000);
        Assert.Equal(1000, draws.Take((int)all).Count(d => !d));
        Assert.False(draws[(int)all - 1]);
        Assert.Equal(1000, new ReplayMix(5, 0).MicroBatchesFor(1000));
    }

    [Fact]
    public void Half_the_micro_batches_replay_the_gold_set_with_cross_entropy_the_logs_name_them_and_a_killed_run_resumes_exactly()
    {
        // Main: the store set with distribution matching; replay: the gold set, at share 0.5 over 10 steps × 2 micro-batches.
        string[] options = ["--loss", "distribution", "--steps", "10", "--grad-accum", "2", "--replay", TrainingTestKit.GoldSet,
            "--replay-share", "0.5", "--save-every", "1", "--eval-every", "0", "--eval-sets", "gsm8k-dev,multiarith-dev,svamp-dev",
            "--ood-sets", "svamp-dev", "--eval-limit", "2", "--json"];
        var whole = Path.Combine(TestPaths.NewTempDir(), "whole");
        TrainingTestKit.Check(CliRunner.Run(["train", .. TrainingTestKit.QuickOptions(TrainingTestKit.StoreSet, whole), .. options], null, TimeSpan.FromMinutes(10)));

        // Which micro-batches replay follows from (seed 0, micro-batch); a step's formats show it.
        var mix = new ReplayMix(seed: 0, share: 0.5);
        var train = TrainingTestKit.Metrics(whole, "train");
        Assert.Equal(10, train.Count);
        var replayed = 0;
        for (var step = 0; step < 10; step++)
        {
            var formats = train[step]["loss_by_format"]!.AsObject().Select(p => p.Key).ToList();
            var drawn = new[] { mix.IsReplay(2 * step), mix.IsReplay(2 * step + 1) };
            replayed += drawn.Count(d => d);
            Assert.Equal(drawn.Any(d => d), formats.Any(f => f.StartsWith("replay:", StringComparison.Ordinal)));
            Assert.Equal(drawn.Any(d => !d), formats.Any(f => !f.StartsWith("replay:", StringComparison.Ordinal)));
            Assert.All(formats, f => Assert.Contains(f, new[] { "zs-cot", "ic-ao", "replay:ic-cot", "replay:zs-ao" }));
            Assert.Equal(0, train[step]["epoch"]!.GetValue<int>());
        }
        Assert.InRange(replayed, 4, 16);

        // The checkpoint records both sets' positions: each advanced by its own micro-batches.
        var state = JsonNode.Parse(File.ReadAllText(Path.Combine(whole, "checkpoints", "step-000010", "trainer_state.json")))!;
        Assert.Equal((20 - replayed, replayed), (state["batch_in_epoch"]!.GetValue<int>(), state["replay_batch_in_epoch"]!.GetValue<int>()));
        Assert.Equal(0, state["replay_epoch"]!.GetValue<int>());

        // Only svamp-dev is OOD: its accuracy is the OOD mean; multiarith-dev is tracked but not selected on.
        var eval = Assert.Single(TrainingTestKit.Metrics(whole, "eval"));
        Assert.Equal(3, eval["accuracy"]!.AsObject().Count);
        Assert.Equal(eval["accuracy"]!["svamp-dev"]!.GetValue<double>(), eval["ood_mean"]!.GetValue<double>());
        var selection = JsonNode.Parse(File.ReadAllText(Path.Combine(whole, "selection.json")))!;
        Assert.Equal(["svamp-dev"], selection["ood_sets"]!.AsArray().Select(s => s!.GetValue<string>()));

        // Killed (SIGKILL) mid-run and resumed: the same micro-batches, the same losses, format for format.
        var killed = Path.Combine(TestPaths.NewTempDir(), "killed");
        using (var process = TrainingTestKit.StartCli(["train", .. TrainingTestKit.QuickOptions(TrainingTestKit.StoreSet, killed), .. options]))
        {
            try { TrainingTestKit.WaitForStep(killed, Random.Shared.Next(2, 9), process); }
            finally
            {
                process.Kill();
                process.WaitForExit();
            }
        }
        TrainingTestKit.Check(CliRunner.Run(["train", "--resume", killed, "--json"], null, TimeSpan.FromMinutes(10)));
        string Formats(JsonNode n) => n["loss_by_format"]!.ToJsonString();
        Assert.Equal(TrainingTestKit.Losses(whole), TrainingTestKit.Losses(killed));
        Assert.Equal(train.Select(Formats), TrainingTestKit.Metrics(killed, "train").Select(Formats));
    }

    [Fact]
    public void A_replay_set_encoded_for_another_tokenizer_is_refused_before_training()
    {
        // The store set with another tokenizer's digest in its manifest.
        var copy = Path.Combine(TestPaths.NewTempDir(), "other-tokenizer-set");
        Directory.CreateDirectory(copy);
        foreach (var file in Directory.GetFiles(TrainingTestKit.StoreSet)) File.Copy(file, Path.Combine(copy, Path.GetFileName(file)));
        var manifestPath = Path.Combine(copy, "manifest.json");
        var manifest = JsonNode.Parse(File.ReadAllText(manifestPath))!;
        manifest["tokenizer_sha256"] = new string('0', 64);
        File.WriteAllText(manifestPath, manifest.ToJsonString());

        var run = Path.Combine(TestPaths.NewTempDir(), "run");
        var result = CliRunner.Run(["train", .. TrainingTestKit.QuickOptions(TrainingTestKit.GoldSet, run), "--steps", "1", "--replay", copy]);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"distillation set {copy} was encoded with another tokenizer", result.Stderr);
        Assert.Contains("spiece.model sha256", result.Stderr);
        Assert.False(Directory.Exists(run));
    }
}
