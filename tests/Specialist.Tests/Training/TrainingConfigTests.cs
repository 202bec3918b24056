using Specialist.Training;

namespace Specialist.Tests.Training;

/// <summary>The training config's OOD-set and replay settings: file round trip, text values, validation, the command line.</summary>
public class TrainingConfigTests
{
    private static readonly TrainingConfig Runnable = new() { Student = "/s", Data = "/d", Out = "/o" };

    [Fact]
    public void Ood_sets_and_replay_settings_survive_a_round_trip_through_the_config_file()
    {
        var config = Runnable with
        {
            EvalSets = ["gsm8k-dev", "svamp-dev", "asdiv-dev", "generic-dev"], OodSets = ["svamp-dev", "asdiv-dev"],
            Replay = "/gold-set", ReplayShare = 0.25,
        };
        config.Validate();
        var path = Path.Combine(TestPaths.NewTempDir(), "config.json");
        File.WriteAllText(path, config.ToJson());
        var read = TrainingConfig.ReadFile(path);
        Assert.Equal(config.ToJson(), read.ToJson());
        Assert.Equal(["svamp-dev", "asdiv-dev"], read.OodSets);
        Assert.Equal(("/gold-set", 0.25), (read.Replay, read.ReplayShare));

        // Not given: every evaluation set but the ID set, and the file says so by an empty list.
        var plain = Runnable with { EvalSets = ["gsm8k-dev", "svamp-dev", "generic-dev"] };
        Assert.Equal(["svamp-dev", "generic-dev"], plain.OodSets);
        File.WriteAllText(path, plain.ToJson());
        Assert.Contains("\"ood_sets\": []", File.ReadAllText(path));
        var plainRead = TrainingConfig.ReadFile(path);
        Assert.Equal(["svamp-dev", "generic-dev"], plainRead.OodSets);
        Assert.Equal(("", 0.1), (plainRead.Replay, plainRead.ReplayShare));
    }

    [Fact]
    public void Text_values_parse_and_an_old_config_without_the_keys_keeps_the_defaults()
    {
        var config = Runnable.With("ood_sets", "svamp-dev, asdiv-dev").With("replay", "gold").With("replay_share", "0.3");
        Assert.Equal(["svamp-dev", "asdiv-dev"], config.OodSets);
        Assert.Equal(("gold", 0.3), (config.Replay, config.ReplayShare));
        Assert.Equal(["multiarith-dev", "asdiv-dev", "svamp-dev"], config.With("ood_sets", "").OodSets);
        Assert.Throws<SpecialistException>(() => config.With("replay_share", "a tenth"));
        Assert.Equal(4, config.With("length_pieces", "4").LengthPieces);

        var path = Path.Combine(TestPaths.NewTempDir(), "config.json");
        File.WriteAllText(path, """{"student": "/s", "data": "/d", "out": "/o", "eval_sets": ["gsm8k-dev", "svamp-dev"]}""");
        var old = TrainingConfig.ReadFile(path);
        Assert.Equal(["svamp-dev"], old.OodSets);
        Assert.Equal("", old.Replay);
        Assert.Equal(1, old.LengthPieces);
    }

    [Theory]
    [InlineData("ood_sets", "svamp-dev,bbh-dev", "ood_sets names bbh-dev, which eval_sets does not")]
    [InlineData("ood_sets", "gsm8k-dev,svamp-dev", "ood_sets names gsm8k-dev, the id_set")]
    [InlineData("ood_sets", "svamp-dev,svamp-dev", "ood_sets names a set twice")]
    [InlineData("replay_share", "1", "replay_share is 1, must be at least 0 and below 1")]
    [InlineData("replay_share", "0", "replay_share is 0, must be above 0 when a replay set is given")]
    [InlineData("length_pieces", "0", "length_pieces is 0, must be at least 1")]
    public void Validation_names_the_problem(string key, string value, string problem)
    {
        var config = (Runnable with { Replay = "/gold" }).With(key, value);
        var e = Assert.Throws<SpecialistException>(config.Validate);
        Assert.Contains(problem, e.Message);
    }

    [Fact]
    public void Without_a_replay_set_the_share_only_has_to_be_a_chance()
    {
        (Runnable with { ReplayShare = 0 }).Validate();
        var e = Assert.Throws<SpecialistException>((Runnable with { ReplayShare = -0.5 }).Validate);
        Assert.Contains("replay_share is -0.5, must be at least 0 and below 1", e.Message);
    }

    [Fact]
    public void The_command_line_takes_the_new_keys_as_options()
    {
        var dir = TestPaths.NewTempDir();
        var result = CliRunner.Run("train", "--student", "s", "--data", "d", "--out", Path.Combine(dir, "run"),
            "--ood-sets", "gsm8k-dev", "--replay", "gold", "--replay-share", "1.5");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("ood_sets names gsm8k-dev, the id_set", result.Stderr);
        Assert.Contains("replay_share is 1.5", result.Stderr);
        Assert.Contains("--replay SET", CliRunner.Run("train", "--help").Stdout);
    }
}
