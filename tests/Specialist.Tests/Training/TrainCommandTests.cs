using System.Diagnostics;
using System.Text.Json.Nodes;
using Specialist.Alignment;
using Specialist.Models;

namespace Specialist.Tests.Training;

/// <summary><c>specialist train</c> as a process: the acceptance runs of issue 6 on a tiny student.</summary>
public class TrainCommandTests
{
    [Fact]
    public void Forty_steps_on_a_gold_set_lower_the_loss_evaluate_select_and_a_killed_run_resumes_exactly()
    {
        string[] options = ["--steps", "40", "--eval-every", "20", "--save-every", "10", "--json"];
        var whole = Path.Combine(TestPaths.NewTempDir(), "whole");
        var result = CliRunner.Run(["train", .. TrainingTestKit.QuickOptions(TrainingTestKit.GoldSet, whole), .. options], null, TimeSpan.FromMinutes(10));
        TrainingTestKit.Check(result);
        var summary = JsonNode.Parse(result.Stdout)!;
        Assert.Equal(40, summary["step"]!.GetValue<long>());
        Assert.False(summary["interrupted"]!.GetValue<bool>());

        // One train line per optimiser step; the loss falls, on each format.
        var train = TrainingTestKit.Metrics(whole, "train");
        Assert.Equal(Enumerable.Range(1, 40).Select(i => (long)i), train.Select(n => n["step"]!.GetValue<long>()));
        Assert.All(train, n => Assert.True(n["tokens_per_s"]!.GetValue<double>() > 0 && n["grad_norm"]!.GetValue<double>() > 0));
        // Warm-up 10 steps to 5e-3, then the cosine down to 0 at the last step.
        Assert.Equal(5e-4, train[0]["lr"]!.GetValue<double>(), 12);
        Assert.Equal(5e-3, train[9]["lr"]!.GetValue<double>(), 12);
        Assert.All(train.Skip(10).Zip(train.Skip(11)), p => Assert.True(p.Second["lr"]!.GetValue<double>() < p.First["lr"]!.GetValue<double>()));
        Assert.Equal(0, train[^1]["lr"]!.GetValue<double>(), 12);
        foreach (var format in new[] { "ic-cot", "zs-ao" })
        {
            var losses = train.Where(n => n["loss_by_format"]![format] is not null).Select(n => n["loss_by_format"]![format]!.GetValue<double>()).ToList();
            Assert.True(losses.Count >= 8, $"{format}: only {losses.Count} steps");
            Assert.True(losses.TakeLast(4).Average() < 0.8 * losses.Take(4).Average(), $"{format} loss did not fall: {string.Join(", ", losses)}");
        }

        // Evaluations at 20 and 40 on the four dev sets; ID accuracy and OOD mean follow from the per-set accuracies.
        var evals = TrainingTestKit.Metrics(whole, "eval");
        Assert.Equal([20L, 40L], evals.Select(n => n["step"]!.GetValue<long>()));
        string[] ood = ["multiarith-dev", "asdiv-dev", "svamp-dev"];
        foreach (var e in evals)
        {
            var accuracy = e["accuracy"]!.AsObject();
            Assert.Equal(["gsm8k-dev", .. ood], accuracy.Select(p => p.Key));
            Assert.All(accuracy, p => Assert.Equal(0, p.Value!.GetValue<double>() * 8 % 1, 9)); // k of 8 problems
            Assert.Equal(accuracy["gsm8k-dev"]!.GetValue<double>(), e["id_accuracy"]!.GetValue<double>());
            Assert.Equal(ood.Average(s => accuracy[s]!.GetValue<double>()), e["ood_mean"]!.GetValue<double>(), 12);
            Assert.Equal($"checkpoints/step-{e["step"]!.GetValue<long>():D6}", e["checkpoint"]!.GetValue<string>());
        }

        // selection.json names the best of those evaluations (ties to the earlier step) and the last checkpoint.
        var selection = JsonNode.Parse(File.ReadAllText(Path.Combine(whole, "selection.json")))!;
        Assert.Equal("gsm8k-dev", selection["id_set"]!.GetValue<string>());
        Assert.Equal(ood, selection["ood_sets"]!.AsArray().Select(s => s!.GetValue<string>()));
        JsonNode Best(string key) => evals.OrderByDescending(e => e[key]!.GetValue<double>()).ThenBy(e => e["step"]!.GetValue<long>()).First();
        Assert.Equal(Best("id_accuracy")["step"]!.GetValue<long>(), selection["best_id"]!["step"]!.GetValue<long>());
        Assert.Equal(Best("id_accuracy")["id_accuracy"]!.GetValue<double>(), selection["best_id"]!["accuracy"]!.GetValue<double>());
        var bestOod = Best("ood_mean");
        Assert.Equal(bestOod["step"]!.GetValue<long>(), selection["best_ood"]!["step"]!.GetValue<long>());
        Assert.Equal(bestOod["ood_mean"]!.GetValue<double>(), selection["best_ood"]!["ood_mean"]!.GetValue<double>());
        Assert.Equal(40, selection["last"]!["step"]!.GetValue<long>());
        Assert.Equal(bestOod["checkpoint"]!.GetValue<string>(), new DirectoryInfo(Path.Combine(whole, "best-ood")).LinkTarget);

        // Kept: the last two saves (30, 40) and the selected ones; each a loadable Hugging Face folder with trainer state.
        var kept = Directory.GetDirectories(Path.Combine(whole, "checkpoints")).Select(d => Path.GetFileName(d)!).Order().ToList();
        var expectedKept = new[] { "step-000030", "step-000040", Path.GetFileName(selection["best_id"]!["checkpoint"]!.GetValue<string>()),
            Path.GetFileName(bestOod["checkpoint"]!.GetValue<string>()) }.Distinct().Order().ToList();
        Assert.Equal(expectedKept, kept);
        foreach (var folder in kept)
        {
            var checkpoint = Path.Combine(whole, "checkpoints", folder!);
            Assert.Equal(T5Config.Tiny.DModel, T5Checkpoint.Inspect(checkpoint).Config.DModel);
            Assert.True(File.Exists(Path.Combine(checkpoint, "spiece.model")) && File.Exists(Path.Combine(checkpoint, "optimizer.bin")));
        }
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(whole, "config.json")))!;
        Assert.Equal(Path.GetFullPath(TrainingTestKit.Student), config["student"]!.GetValue<string>());
        Assert.Equal("sample", config["loss"]!.GetValue<string>());
        Assert.Equal(["ic-cot", "zs-ao"], config["formats"]!.AsArray().Select(f => f!.GetValue<string>()));

        // The same run killed (SIGKILL) at a random step, then resumed: the same losses and evaluations, step for step.
        var killed = Path.Combine(TestPaths.NewTempDir(), "killed");
        KillAndResume(TrainingTestKit.QuickOptions(TrainingTestKit.GoldSet, killed), options, killed, killAfter: Random.Shared.Next(11, 39));
        Assert.Equal(TrainingTestKit.Losses(whole), TrainingTestKit.Losses(killed));
        Assert.Equal(evals.Select(e => e.ToJsonString()), TrainingTestKit.Metrics(killed, "eval").Select(e => e.ToJsonString()));
    }

    [Fact]
    public void Distribution_matching_on_a_store_set_with_sparse_targets_resumes_exactly_after_a_kill()
    {
        using (var set = DistillSet.Open(TrainingTestKit.StoreSet))
            Assert.True(set.Manifest.Alignment!.SoftTargets > 0, "the store set has no teacher (soft) targets");
        string[] options = ["--loss", "distribution", "--steps", "12", "--grad-accum", "2", "--eval-every", "6", "--eval-limit", "2",
            "--save-every", "3", "--json"];
        var whole = Path.Combine(TestPaths.NewTempDir(), "whole");
        TrainingTestKit.Check(CliRunner.Run(["train", .. TrainingTestKit.QuickOptions(TrainingTestKit.StoreSet, whole), .. options], null, TimeSpan.FromMinutes(10)));
        var losses = TrainingTestKit.Losses(whole);
        Assert.Equal(12, losses.Count);
        Assert.Equal([6L, 12L], TrainingTestKit.Metrics(whole, "eval").Select(n => n["step"]!.GetValue<long>()));

        var killed = Path.Combine(TestPaths.NewTempDir(), "killed");
        KillAndResume(TrainingTestKit.QuickOptions(TrainingTestKit.StoreSet, killed), options, killed, killAfter: Random.Shared.Next(4, 12));
        Assert.Equal(losses, TrainingTestKit.Losses(killed));

        // The CoT loss really is distribution matching: the same first step with --loss sample gives another zs-cot loss,
        // while the answer-only format (cross-entropy either way) gives the same.
        var sample = Path.Combine(TestPaths.NewTempDir(), "sample");
        TrainingTestKit.Check(CliRunner.Run(["train", .. TrainingTestKit.QuickOptions(TrainingTestKit.StoreSet, sample), "--loss", "sample", "--steps", "1",
            "--grad-accum", "2", "--eval-sets", "", "--json"], null, TimeSpan.FromMinutes(5)));
        var first = TrainingTestKit.Metrics(whole, "train")[0]["loss_by_format"]!;
        var firstSample = TrainingTestKit.Metrics(sample, "train")[0]["loss_by_format"]!;
        Assert.NotNull(first["zs-cot"]);
        Assert.NotEqual(first["zs-cot"]!.GetValue<double>(), firstSample["zs-cot"]!.GetValue<double>());
        if (first["ic-ao"] is { } answerOnly) Assert.Equal(answerOnly.GetValue<double>(), firstSample["ic-ao"]!.GetValue<double>());
    }

    internal static void KillAndResume(string[] baseOptions, string[] options, string run, int killAfter)
    {
        using (var process = TrainingTestKit.StartCli(["train", .. baseOptions, .. options]))
        {
            try
            {
                TrainingTestKit.WaitForStep(run, killAfter, process);
            }
            finally
            {
                process.Kill(); // SIGKILL: no handler runs
                process.WaitForExit();
            }
        }
        Assert.True(TrainingTestKit.Losses(run).Count >= killAfter);
        var resumed = CliRunner.Run(["train", "--resume", run, "--json"], null, TimeSpan.FromMinutes(10));
        TrainingTestKit.Check(resumed);
        Assert.False(JsonNode.Parse(resumed.Stdout)!["interrupted"]!.GetValue<bool>());
    }
}
