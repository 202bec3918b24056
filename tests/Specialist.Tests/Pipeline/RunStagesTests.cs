using System.Text.Json.Nodes;
using Specialist.Pipeline;

namespace Specialist.Tests.Pipeline;

/// <summary>The run folder's bookkeeping where a killed process left it: leftovers, a half-written <c>run.json</c>, the lock.</summary>
public sealed class RunStagesTests
{
    private static readonly JsonObject Settings = new() { ["profile"] = "quick", ["seed"] = 0 };

    private static RunStages Open(string folder) =>
        RunStages.Open(folder, (JsonObject)Settings.DeepClone(), (_, path) => $"other settings in {path}", null, CancellationToken.None);

    [Fact]
    public void A_folder_holding_only_the_temporary_of_a_run_json_killed_mid_write_is_taken_as_empty_and_cleaned()
    {
        var folder = TestPaths.NewTempDir();
        var leftover = AtomicFile.TemporaryPath(Path.Combine(folder, RunStages.SettingsFileName));
        File.WriteAllText(leftover, "{\"prof");
        using (Open(folder)) { }
        Assert.Equal([RunStages.SettingsFileName, RunStages.LockFileName], Directory.GetFiles(folder).Select(Path.GetFileName).Order());
        Assert.Equal(Settings.ToJsonString(), JsonNode.Parse(File.ReadAllText(Path.Combine(folder, RunStages.SettingsFileName)))!.ToJsonString());
    }

    [Fact]
    public void A_second_opener_is_refused_while_the_first_holds_the_folder_and_let_in_once_it_is_done()
    {
        var folder = TestPaths.NewTempDir();
        using (Open(folder))
        {
            var e = Assert.Throws<SpecialistException>(() => Open(folder));
            Assert.Contains("another process is running in", e.Message);
        }
        using (Open(folder)) { }
    }
}
