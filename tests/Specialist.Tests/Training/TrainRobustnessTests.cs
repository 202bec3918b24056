using System.Diagnostics;
using System.Text.Json.Nodes;
using Specialist.Models;

namespace Specialist.Tests.Training;

/// <summary><c>specialist train</c>: Ctrl-C, SIGKILL before the first checkpoint, a diverging loss, config files and misuse.</summary>
public class TrainRobustnessTests
{
    [Fact]
    public void Ctrl_c_finishes_the_step_saves_a_checkpoint_and_exits_130()
    {
        // SIGINT is what Ctrl-C sends; a process started in the background of a non-interactive shell inherits SIGINT
        // ignored (POSIX), and then so does the child, so there the test sends SIGTERM, which the same handler serves.
        var signal = SigIntIgnored() ? "-TERM" : "-INT";
        var run = Path.Combine(TestPaths.NewTempDir(), "run");
        using var process = TrainingTestKit.StartCli(["train", .. TrainingTestKit.QuickOptions(TrainingTestKit.GoldSet, run), "--steps", "500", "--eval-every", "0"]);
        try
        {
            TrainingTestKit.WaitForStep(run, 3, process);
            using (var kill = Process.Start("kill", [signal, process.Id.ToString()])) kill.WaitForExit();
            Assert.True(process.WaitForExit(TimeSpan.FromMinutes(2)), $"the run did not stop after kill {signal}");
        }
        finally
        {
            if (!process.HasExited) process.Kill();
        }
        Assert.Equal(130, process.ExitCode);

        var last = TrainingTestKit.Losses(run)[^1].Step;
        Assert.InRange(last, 3, 499);
        var checkpoint = Path.Combine(run, "checkpoints", $"step-{last:D6}");
        var state = JsonNode.Parse(File.ReadAllText(Path.Combine(checkpoint, "trainer_state.json")))!;
        Assert.Equal(last, state["step"]!.GetValue<long>());
        Assert.Equal(T5Config.Tiny.DModel, T5Checkpoint.Inspect(checkpoint).Config.DModel);
        var selection = JsonNode.Parse(File.ReadAllText(Path.Combine(run, "selection.json")))!;
        Assert.Equal(last, selection["last"]!["step"]!.GetValue<long>());
    }

    [Fact]
    public void A_run_killed_before_its_first_checkpoint_starts_over_on_resume()
    {
        // The regression: such a run holds its config and no checkpoint, so a new start refused ("already holds a
        // training run") and so did --resume ("no complete checkpoint"), and `specialist run` stayed stuck.
        var run = Path.Combine(TestPaths.NewTempDir(), "run");
        using (var process = TrainingTestKit.StartCli(["train", .. TrainingTestKit.QuickOptions(TrainingTestKit.GoldSet, run), "--steps", "30", "--eval-sets", ""]))
        {
            try
            {
                TrainingTestKit.WaitForStep(run, 1, process);
            }
            finally
            {
                process.Kill(); // SIGKILL, long before the only checkpoint, at step 30
                process.WaitForExit();
            }
        }
        Assert.True(File.Exists(Path.Combine(run, "config.json")));
        Assert.False(Directory.Exists(Path.Combine(run, "checkpoints")));

        var resumed = CliRunner.Run(["train", "--resume", run, "--json"], null, TimeSpan.FromMinutes(10));
        TrainingTestKit.Check(resumed);
        Assert.Equal(30, JsonNode.Parse(resumed.Stdout)!["step"]!.GetValue<long>());
        // Started over: every step logged once, the killed process's lines dropped.
        Assert.Equal(Enumerable.Range(1, 30).Select(s => (long)s), TrainingTestKit.Losses(run).Select(l => l.Step));
        Assert.True(File.Exists(Path.Combine(run, "checkpoints", "step-000030", "trainer_state.json")));
    }

    [Fact]
    public void A_diverging_loss_stops_with_a_clear_message_and_leaves_the_last_checkpoint_intact()
    {
        // A config file gives the absurd rate; options on the command line override the file.
        var dir = TestPaths.NewTempDir();
        var configFile = Path.Combine(dir, "run.json");
        File.WriteAllText(configFile, """{"lr": 1e30, "warmup": 0, "max_grad_norm": 0, "save_every": 1, "steps": 3, "eval_sets": []}""");
        var run = Path.Combine(dir, "run");
        var result = CliRunner.Run(["train", "--config", configFile, "--student", TrainingTestKit.Student, "--data", TrainingTestKit.GoldSet, "--out", run,
            "--max-source-len", "64", "--max-target-len", "48", "--threads", "1", "--steps", "30"], null, TimeSpan.FromMinutes(5));
        Assert.Equal(1, result.ExitCode);
        Assert.Matches(@"error: the (loss|gradient norm) is (NaN|-?∞|-?Infinity) at step \d+", result.Stderr);
        Assert.Contains("is intact", result.Stderr);

        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(run, "config.json")))!;
        Assert.Equal(1e30, config["lr"]!.GetValue<double>());
        Assert.Equal(30, config["steps"]!.GetValue<int>());
        var logged = TrainingTestKit.Losses(run);
        Assert.All(logged, l => Assert.True(double.IsFinite(l.Loss)));
        var failedStep = logged.Count + 1;
        Assert.Contains($"at step {failedStep}", result.Stderr);
        // Every logged step was saved (save_every 1); the newest is complete and loadable.
        var newest = Path.Combine(run, "checkpoints", $"step-{logged.Count:D6}");
        Assert.Equal(logged.Count, JsonNode.Parse(File.ReadAllText(Path.Combine(newest, "trainer_state.json")))!["step"]!.GetValue<long>());
        Assert.Equal(T5Config.Tiny.DModel, T5Checkpoint.Inspect(newest).Config.DModel);
    }

    [Fact]
    public void Config_files_and_options_are_checked_before_anything_runs()
    {
        var dir = TestPaths.NewTempDir();
        var configFile = Path.Combine(dir, "run.json");
        File.WriteAllText(configFile, """{"lr": 1e-3, "learning_rate": 5}""");
        var unknownKey = CliRunner.Run("train", "--config", configFile, "--student", TrainingTestKit.Student, "--data", TrainingTestKit.GoldSet, "--out", Path.Combine(dir, "a"));
        Assert.Equal(1, unknownKey.ExitCode);
        Assert.Contains(configFile, unknownKey.Stderr);
        Assert.Contains("learning_rate", unknownKey.Stderr);

        var badValue = CliRunner.Run("train", "--student", "s", "--data", "d", "--out", Path.Combine(dir, "b"), "--schedule", "triangle");
        Assert.Equal(2, badValue.ExitCode);
        Assert.Contains("--schedule", badValue.Stderr);

        var missing = CliRunner.Run("train", "--data", "d", "--out", Path.Combine(dir, "c"));
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("student", missing.Stderr);

        var resumeWithOptions = CliRunner.Run("train", "--resume", Path.Combine(dir, "d"), "--lr", "1");
        Assert.Equal(2, resumeWithOptions.ExitCode);
        Assert.Contains("--lr", resumeWithOptions.Stderr);

        var nothingToResume = CliRunner.Run("train", "--resume", dir);
        Assert.Equal(1, nothingToResume.ExitCode);
        Assert.Contains("config.json", nothingToResume.Stderr);

        var notASet = CliRunner.Run("train", "--student", TrainingTestKit.Student, "--data", dir, "--out", Path.Combine(dir, "e"));
        Assert.Equal(1, notASet.ExitCode);
        Assert.Contains("not a distillation set", notASet.Stderr);
        Assert.False(Directory.Exists(Path.Combine(dir, "e")));
    }

    private static bool SigIntIgnored()
    {
        var mask = File.ReadLines("/proc/self/status").First(l => l.StartsWith("SigIgn:", StringComparison.Ordinal)).Split('\t', ' ')[^1];
        return (Convert.ToUInt64(mask, 16) & 0x2) != 0; // bit 1 = signal 2, SIGINT
    }
}
