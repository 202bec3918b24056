using System.Text.Json.Nodes;
using Specialist.Models;

namespace Specialist.Tests.Models;

public class ModelCliTests
{
    private static string InitTiny(int seed = 1)
    {
        var dir = Path.Combine(TestPaths.NewTempDir(), "model");
        var r = CliRunner.Run("model", "init", "--config", "tiny", "--tokenizer", TestPaths.T5SpieceModel, "--out", dir, "--seed", seed.ToString(), "--json");
        Assert.True(r.ExitCode == 0, r.ToString());
        return dir;
    }

    [Fact]
    public void ModelInitWritesAHuggingFaceFolderReproduciblyFromTheSeed()
    {
        var dir = InitTiny(seed: 5);
        Assert.True(File.Exists(Path.Combine(dir, "config.json")));
        Assert.True(File.Exists(Path.Combine(dir, "spiece.model")));
        // The command's path, in process: the same seed gives the same bytes, another seed other weights.
        var again = Path.Combine(TestPaths.NewTempDir(), "again");
        var other = Path.Combine(TestPaths.NewTempDir(), "other");
        T5Checkpoint.WriteRandom(T5Config.Tiny, again, TestPaths.T5SpieceModel, seed: 5);
        T5Checkpoint.WriteRandom(T5Config.Tiny, other, TestPaths.T5SpieceModel, seed: 6);
        var weights = File.ReadAllBytes(Path.Combine(dir, "model.safetensors"));
        Assert.Equal(weights, File.ReadAllBytes(Path.Combine(again, "model.safetensors")));
        Assert.NotEqual(weights, File.ReadAllBytes(Path.Combine(other, "model.safetensors")));

        var info = CliRunner.Run("model", "info", "--model", dir, "--json");
        Assert.True(info.ExitCode == 0, info.ToString());
        var facts = JsonNode.Parse(info.Stdout)!;
        Assert.Equal(T5Model.ParameterShapes(T5Config.Tiny).Sum(p => p.Shape.Aggregate(1L, (a, b) => a * b)), facts["parameters"]!.GetValue<long>());
        Assert.Equal("F32", facts["dtype"]!.GetValue<string>());
        Assert.Equal("gated-gelu", facts["feed_forward_proj"]!.GetValue<string>());
    }

    [Fact]
    public void GenerateContinuesEachPromptInOrder()
    {
        var dir = InitTiny();
        var input = Path.Combine(TestPaths.NewTempDir(), "prompts.jsonl");
        File.WriteAllLines(input, [
            """{"prompt": "translate English to German: How old are you?"}""",
            "",
            """{"prompt": "Hello"}""",
            """{"prompt": "Q: What is 2 + 3?\nLet's think step by step"}""",
        ]);
        var r = CliRunner.Run("generate", "--model", dir, "--input", input, "--max-new-tokens", "5", "--batch-size", "2", "--json");
        Assert.True(r.ExitCode == 0, r.ToString());
        var lines = r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!).ToList();
        Assert.Equal(3, lines.Count);
        Assert.All(lines, l => Assert.InRange(l["tokens"]!.GetValue<int>(), 1, 5));
        Assert.All(lines, l => Assert.IsType<string>(l["output"]!.GetValue<string>()));

        // The same prompt alone, without the cache, gives the same line.
        var single = CliRunner.Run("generate", "--model", dir, "--prompt", "Hello", "--max-new-tokens", "5", "--no-cache", "--json");
        Assert.True(single.ExitCode == 0, single.ToString());
        Assert.Equal(lines[1].ToJsonString(), JsonNode.Parse(single.Stdout)!.ToJsonString());

        var sampled = CliRunner.Run("generate", "--model", dir, "--prompt", "Hello", "--max-new-tokens", "5", "--sample", "--seed", "3", "--temperature", "1.5", "--top-p", "0.9", "--top-k", "40");
        Assert.True(sampled.ExitCode == 0, sampled.ToString());
        Assert.Contains("output", sampled.Stdout); // the human table
    }

    [Fact]
    public void MalformedInputLineNamesFileLineAndField()
    {
        var dir = InitTiny();
        var input = Path.Combine(TestPaths.NewTempDir(), "prompts.jsonl");
        File.WriteAllLines(input, ["""{"prompt": "fine"}""", """{"prompt": 42}"""]);
        var r = CliRunner.Run("generate", "--model", dir, "--input", input, "--json");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains(input, r.Stderr);
        Assert.Contains("line 2", r.Stderr);
        Assert.Contains("'prompt'", r.Stderr);
    }

    [Fact]
    public void GenerateWithABadCheckpointFailsCleanlyWithoutAborting()
    {
        var dir = T5CheckpointTests.BadCheckpoint();
        var r = CliRunner.Run("generate", "--model", dir, "--prompt", "Hello", "--json");
        Assert.NotEqual(134, r.ExitCode);
        Assert.Equal(1, r.ExitCode);
        Assert.StartsWith("error: checkpoint", r.Stderr);
        Assert.Contains("missing: [decoder.final_layer_norm.weight]", r.Stderr);
        Assert.Contains("unexpected: [encoder.block.7.layer.0.layer_norm.weight]", r.Stderr);
        Assert.Contains("wrong shape: encoder.block.0.layer.1.DenseReluDense.wo.weight", r.Stderr);
        Assert.Empty(r.Stdout);
    }

    [Fact]
    public void PickleOnlyFolderIsRefusedByTheCommand()
    {
        var dir = TestPaths.NewTempDir();
        File.Copy(TestPaths.T5SpieceModel, Path.Combine(dir, "spiece.model"));
        File.WriteAllText(Path.Combine(dir, "config.json"), T5Config.Tiny.ToJson());
        File.WriteAllBytes(Path.Combine(dir, "pytorch_model.bin"), [0x80, 0x02, 0x2e]);
        var r = CliRunner.Run("model", "info", "--model", dir);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("safe_serialization=True", r.Stderr);
    }

    [Fact]
    public void UsageErrorsExitWithTwo()
    {
        Assert.Equal(2, CliRunner.Run("generate", "--model", "x").ExitCode);
        Assert.Equal(2, CliRunner.Run("generate", "--model", "x", "--prompt", "a", "--temperature", "0.5").ExitCode);
        Assert.Equal(2, CliRunner.Run("model", "init", "--config", "tiny").ExitCode);
        Assert.Equal(2, CliRunner.Run("model", "frobnicate").ExitCode);
        var unknown = CliRunner.Run("model", "init", "--config", "nope", "--tokenizer", TestPaths.T5SpieceModel, "--out", TestPaths.NewTempDir());
        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains("flan-t5-base", unknown.Stderr);
    }
}
