using System.Text.Json;

namespace Specialist.Tests.Prompts;

/// <summary><c>specialist data prompts</c>: each problem's evaluation query, the input of <c>generate</c>.</summary>
public class DataPromptsCommandTests
{
    private static List<JsonElement> Lines(string stdout) =>
        stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();

    [Fact]
    public void Writes_four_shot_math_queries_with_ids()
    {
        var r = CliRunner.Run("data", "prompts", "gsm8k-test", "--data-root", TestPaths.DataRoot, "--limit", "3");
        Assert.True(r.ExitCode == 0, r.ToString());
        var lines = Lines(r.Stdout);
        Assert.Equal(["gsm8k-test/0", "gsm8k-test/1", "gsm8k-test/2"], lines.Select(l => l.GetProperty("id").GetString()));
        var prompt = File.ReadAllText(Path.Combine(TestPaths.DataRoot, "prompts", "prompt_simple_4_cases.txt"));
        var question = JsonDocument.Parse(File.ReadLines(Path.Combine(TestPaths.DataRoot, "gsm8k", "test.jsonl")).First()).RootElement.GetProperty("question").GetString();
        Assert.Equal(prompt + "\nQ: " + question + "\nLet's think step by step\n", lines[0].GetProperty("prompt").GetString());
    }

    [Fact]
    public void Writes_zero_shot_and_bbh_queries_to_a_file()
    {
        var dir = TestPaths.NewTempDir();
        var outPath = Path.Combine(dir, "q.jsonl");
        var r = CliRunner.Run("data", "prompts", "bbh/navigate", "--data-root", TestPaths.DataRoot, "--limit", "1", "--out", outPath);
        Assert.True(r.ExitCode == 0, r.ToString());
        var line = Lines(File.ReadAllText(outPath)).Single();
        Assert.Equal("bbh/navigate/0", line.GetProperty("id").GetString());
        Assert.EndsWith("\nA: Let's think step by step.\n", line.GetProperty("prompt").GetString());
        Assert.StartsWith("Given a series of navigation instructions", line.GetProperty("prompt").GetString());

        r = CliRunner.Run("data", "prompts", "svamp", "--data-root", TestPaths.DataRoot, "--limit", "1", "--prompt", "zeroshot");
        Assert.True(r.ExitCode == 0, r.ToString());
        var zero = Lines(r.Stdout).Single().GetProperty("prompt").GetString()!;
        Assert.StartsWith("Q: ", zero);
        Assert.EndsWith("\nLet's think step by step\n", zero);
    }

    [Fact]
    public void Unknown_prompt_is_a_usage_error()
    {
        var r = CliRunner.Run("data", "prompts", "gsm8k-test", "--data-root", TestPaths.DataRoot, "--prompt", "8shot");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("unknown prompt '8shot'", r.Stderr);
    }
}
