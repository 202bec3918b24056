using System.Text.Json;
using Specialist.Data;
using Specialist.Synthetic;

namespace Specialist.Tests.Data;

public sealed class SetFileRoundTripTests
{
    [Fact]
    public void Reading_a_written_set_gives_the_same_problems()
    {
        var problems = SyntheticTasks.Generate(SyntheticTaskKind.Math, 20, seed: 2)
            .Concat(SyntheticTasks.Generate(SyntheticTaskKind.Generic, 16, seed: 2)).ToList();
        var path = Path.Combine(TestPaths.NewTempDir(), "mixed.jsonl");
        SetFile.Write(path, problems);
        Assert.Equal(problems, SetFile.Read(path));
        var first = JsonDocument.Parse(File.ReadLines(path).First()).RootElement;
        Assert.Equal(JsonValueKind.Number, first.GetProperty("answer").ValueKind);
        Assert.Equal(problems[0].Rationale, first.GetProperty("rationale").GetString());
    }

    [Fact]
    public void A_malformed_line_names_the_file_line_and_field()
    {
        var path = Path.Combine(TestPaths.NewTempDir(), "bad.jsonl");
        File.WriteAllText(path, "{\"id\":\"a/0\",\"question\":\"q\",\"answer\":3}\n{\"id\":\"a/1\",\"question\":\"q\",\"answer\":[1]}\n");
        var e = Assert.Throws<DataFormatException>(() => SetFile.Read(path));
        Assert.Equal("line 2", e.Location);
        Assert.Equal("answer", e.Field);
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void Synth_command_writes_a_set_that_data_stats_reads_as_custom()
    {
        var path = Path.Combine(TestPaths.NewTempDir(), "svamp.jsonl");
        var written = CliRunner.Run("synth", "--task", "svamp", "--count", "30", "--seed", "4", "--out", path, "--json");
        Assert.True(written.ExitCode == 0, written.ToString());
        var summary = JsonDocument.Parse(written.Stdout).RootElement;
        Assert.Equal("svamp", summary.GetProperty("task").GetString());
        Assert.Equal(30, summary.GetProperty("count").GetInt32());
        Assert.Equal(SyntheticTasks.Generate(SyntheticTaskKind.Svamp, 30, seed: 4), SetFile.Read(path));

        var stats = CliRunner.Run("data", "stats", "custom", "--path", path, "--question-field", "question", "--answer-field", "answer", "--id-field", "id", "--json");
        Assert.True(stats.ExitCode == 0, stats.ToString());
        var counts = JsonDocument.Parse(stats.Stdout).RootElement;
        Assert.Equal(30, counts.GetProperty("count").GetInt32());
        Assert.Equal(30, counts.GetProperty("numeric_answers").GetInt32());
    }

    [Fact]
    public void Synth_command_refuses_an_unknown_task_as_a_usage_error()
    {
        var result = CliRunner.Run("synth", "--task", "gsm", "--count", "3", "--out", Path.Combine(TestPaths.NewTempDir(), "x.jsonl"));
        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("unknown synthetic task 'gsm'", result.Stderr);
        Assert.Contains("math-mild", result.Stderr);
    }
}
