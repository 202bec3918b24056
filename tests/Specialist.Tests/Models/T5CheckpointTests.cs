using System.Buffers.Binary;
using System.Text;
using System.Text.Json.Nodes;
using Specialist.Models;
using Specialist.Tokenization;
using TorchSharp;
using static TorchSharp.torch;

namespace Specialist.Tests.Models;

public class T5CheckpointTests
{
    private static (Tensor Ids, Tensor Mask, Tensor DecoderIds) Inputs() => (
        tensor(new long[] { 5, 6, 7, 8, 1, 9, 10, 1, 0, 0 }, 2, 5),
        tensor(new long[] { 1, 1, 1, 1, 1, 1, 1, 1, 0, 0 }, 2, 5),
        tensor(new long[] { 0, 11, 12, 0, 13, 14 }, 2, 3));

    private static Tensor Logits(T5Model model)
    {
        var (ids, mask, decoderIds) = Inputs();
        return model.forward(ids, mask, decoderIds);
    }

    [Theory]
    [InlineData("gated-gelu", false)]
    [InlineData("relu", true)]
    public void SavedAndLoadedModelGivesIdenticalLogits(string feedForward, bool tied)
    {
        var config = T5Config.Tiny with { FeedForwardProj = feedForward, TieWordEmbeddings = tied };
        using var model = T5ModelTests.TinyModel(seed: 11, config);
        var dir = TestPaths.NewTempDir();
        T5Checkpoint.Save(model, dir, TestPaths.T5SpieceModel);

        Assert.True(File.Exists(Path.Combine(dir, "config.json")));
        Assert.True(File.Exists(Path.Combine(dir, "model.safetensors")));
        Assert.Equal(File.ReadAllBytes(TestPaths.T5SpieceModel), File.ReadAllBytes(Path.Combine(dir, "spiece.model")));
        Assert.Empty(Directory.GetFiles(dir, "*.tmp"));

        using var loaded = T5Checkpoint.Load(dir);
        Assert.Equal(config, loaded.Config);
        Assert.False(loaded.training);
        using var scope = NewDisposeScope();
        T5ModelTests.AssertClose(Logits(model), Logits(loaded), 0);
    }

    [Theory]
    [InlineData("bf16", ScalarType.BFloat16)]
    [InlineData("fp16", ScalarType.Float16)]
    public void HalfPrecisionLoadGivesCloseLogits(string name, ScalarType dtype)
    {
        using var model = T5ModelTests.TinyModel(seed: 12);
        var dir = TestPaths.NewTempDir();
        T5Checkpoint.Save(model, dir);
        using var loaded = T5Checkpoint.Load(dir, T5Checkpoint.ParseDType(name));
        Assert.Equal(dtype, loaded.DType);
        Assert.All(loaded.parameters(), p => Assert.Equal(dtype, p.dtype));
        using var scope = NewDisposeScope();
        var exact = Logits(model);
        var half = Logits(loaded).to(ScalarType.Float32);
        var scale = exact.abs().max().item<float>();
        T5ModelTests.AssertClose(exact, half, 0.05 * scale);

        // Saved in half precision, the stored dtype follows, and loading back as fp32 keeps exactly the half-precision values.
        var halfDir = TestPaths.NewTempDir();
        T5Checkpoint.Save(loaded, halfDir);
        Assert.Equal(dtype == ScalarType.BFloat16 ? "BF16" : "F16", T5Checkpoint.Inspect(halfDir).StoredDType);
        Assert.Contains($"\"torch_dtype\": \"{T5Checkpoint.TorchDTypeName(dtype)}\"", File.ReadAllText(Path.Combine(halfDir, "config.json")));
        using var widened = T5Checkpoint.Load(halfDir);
        Assert.Equal(ScalarType.Float32, widened.DType);
        var narrow = loaded.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var (key, wide) in widened.named_parameters())
            T5ModelTests.AssertClose(narrow[key].to(ScalarType.Float32), wide, 0);
    }

    [Fact]
    public void ShardedSaveWritesAnIndexAndLoadsBack()
    {
        using var model = T5ModelTests.TinyModel(seed: 13);
        var dir = TestPaths.NewTempDir();
        T5Checkpoint.Save(model, dir); // first a single file, which the sharded save must replace
        T5Checkpoint.Save(model, dir, maxShardBytes: 6_000_000);

        Assert.False(File.Exists(Path.Combine(dir, "model.safetensors")));
        var index = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "model.safetensors.index.json")))!;
        var weightMap = index["weight_map"]!.AsObject();
        var shards = weightMap.Select(kv => kv.Value!.GetValue<string>()).Distinct().Order().ToList();
        Assert.True(shards.Count >= 2, $"expected 2+ shards, got {shards.Count}");
        Assert.Equal(shards, Directory.GetFiles(dir, "model-*-of-*.safetensors").Select(f => Path.GetFileName(f)!).Order().ToList());
        Assert.Equal(T5Model.ParameterShapes(model.Config).Select(p => p.Name).Order(), weightMap.Select(kv => kv.Key).Order());
        Assert.Equal(model.ParameterCount * 4, index["metadata"]!["total_size"]!.GetValue<long>());

        using var loaded = T5Checkpoint.Load(dir);
        using (var scope = NewDisposeScope()) T5ModelTests.AssertClose(Logits(model), Logits(loaded), 0);

        // Saving small again goes back to one file and removes the shards.
        T5Checkpoint.Save(model, dir);
        Assert.Empty(Directory.GetFiles(dir, "model-*"));
        Assert.False(File.Exists(Path.Combine(dir, "model.safetensors.index.json")));
    }

    [Fact]
    public void SafetensorsFileFollowsTheFormat()
    {
        using var model = T5ModelTests.TinyModel(seed: 14, T5Config.Tiny with { NumLayers = 1, NumDecoderLayers = 1 });
        var dir = TestPaths.NewTempDir();
        T5Checkpoint.Save(model, dir);
        var bytes = File.ReadAllBytes(Path.Combine(dir, "model.safetensors"));
        var headerLength = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal(0, headerLength % 8);
        var header = JsonNode.Parse(Encoding.UTF8.GetString(bytes, 8, headerLength))!.AsObject();
        Assert.Equal("pt", header["__metadata__"]!["format"]!.GetValue<string>());

        // Tensors are contiguous from offset 0 to the end of the file, little-endian F32.
        var entries = header.Where(kv => kv.Key != "__metadata__").Select(kv => kv.Value!).OrderBy(e => e["data_offsets"]![0]!.GetValue<long>()).ToList();
        Assert.Equal(0, entries[0]["data_offsets"]![0]!.GetValue<long>());
        Assert.Equal(bytes.Length - 8 - headerLength, entries[^1]["data_offsets"]![1]!.GetValue<long>());
        var norm = header["encoder.final_layer_norm.weight"]!;
        Assert.Equal("F32", norm["dtype"]!.GetValue<string>());
        Assert.Equal("[64]", norm["shape"]!.ToJsonString());
        var start = 8 + headerLength + (int)norm["data_offsets"]![0]!.GetValue<long>();
        Assert.Equal(1.0f, BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(start)));
    }

    [Fact]
    public void CheckpointNotMatchingItsConfigListsEveryBadKey()
    {
        var dir = BadCheckpoint();
        var e = Assert.Throws<SpecialistException>(() => T5Checkpoint.Load(dir));
        Assert.Contains($"checkpoint {dir} does not match its config.json", e.Message);
        Assert.Contains("missing: [decoder.final_layer_norm.weight]", e.Message);
        Assert.Contains("unexpected: [encoder.block.7.layer.0.layer_norm.weight]", e.Message);
        Assert.Contains("wrong shape: encoder.block.0.layer.1.DenseReluDense.wo.weight [64, 32] expected [64, 128]", e.Message);
        // Inspecting (model info) checks the same way.
        Assert.Equal(e.Message, Assert.Throws<SpecialistException>(() => T5Checkpoint.Inspect(dir)).Message);
    }

    /// <summary>A tiny checkpoint with one tensor missing, one unexpected and one mis-shaped.</summary>
    internal static string BadCheckpoint()
    {
        using var model = T5ModelTests.TinyModel(seed: 15);
        var dir = TestPaths.NewTempDir();
        T5Checkpoint.Save(model, dir, TestPaths.T5SpieceModel);
        using var scope = NewDisposeScope();
        var tensors = model.named_parameters()
            .Where(p => p.name != "decoder.final_layer_norm.weight")
            .Select(p => p.name == "encoder.block.0.layer.1.DenseReluDense.wo.weight" ? (p.name, zeros(64, 32)) : (p.name, p.parameter.detach()))
            .Append(("encoder.block.7.layer.0.layer_norm.weight", ones(64)))
            .ToList();
        SafeTensors.Write(Path.Combine(dir, "model.safetensors"), tensors, new Dictionary<string, string> { ["format"] = "pt" });
        return dir;
    }

    [Fact]
    public void TensorsTheModelDoesNotUseAreAcceptedAndIgnored()
    {
        using var model = T5ModelTests.TinyModel(seed: 16, T5Config.Tiny with { FeedForwardProj = "relu", TieWordEmbeddings = true });
        var dir = TestPaths.NewTempDir();
        using var scope = NewDisposeScope();
        var shared = model.named_parameters().Single(p => p.name == "shared.weight").parameter.detach();
        var tensors = model.named_parameters().Select(p => (p.name, p.parameter.detach()))
            .Append(("encoder.embed_tokens.weight", shared)).Append(("decoder.embed_tokens.weight", shared)).Append(("lm_head.weight", shared))
            // transformers 2.x saved a position bias for block 0's cross-attention too; t5-small's checkpoint still has it.
            .Append(("decoder.block.0.layer.1.EncDecAttention.relative_attention_bias.weight", zeros(32, 4)))
            .ToList();
        T5Checkpoint.Save(model, dir);
        SafeTensors.Write(Path.Combine(dir, "model.safetensors"), tensors, new Dictionary<string, string> { ["format"] = "pt" });
        using var loaded = T5Checkpoint.Load(dir);
        T5ModelTests.AssertClose(Logits(model), Logits(loaded), 0);
        Assert.Equal(model.ParameterCount, T5Checkpoint.Inspect(dir).ParameterCount);
    }

    [Fact]
    public void TruncatedSafetensorsIsReportedAsTruncated()
    {
        using var model = T5ModelTests.TinyModel(seed: 17);
        var dir = TestPaths.NewTempDir();
        T5Checkpoint.Save(model, dir);
        var path = Path.Combine(dir, "model.safetensors");
        var length = new FileInfo(path).Length;
        using (var f = File.OpenWrite(path)) f.SetLength(length - 1000);
        var e = Assert.Throws<SpecialistException>(() => T5Checkpoint.Load(dir));
        Assert.Contains(path, e.Message);
        Assert.Contains("truncated", e.Message);
        Assert.Contains("1000 bytes missing", e.Message);

        using (var f = File.OpenWrite(path)) f.SetLength(100);
        Assert.Contains("truncated", Assert.Throws<SpecialistException>(() => T5Checkpoint.Load(dir)).Message);
        using (var f = File.OpenWrite(path)) f.SetLength(3);
        Assert.Contains("truncated", Assert.Throws<SpecialistException>(() => T5Checkpoint.Load(dir)).Message);
    }

    [Theory]
    [InlineData("""{"a": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 12]}}""", 16, "a: data_offsets span 12 bytes, but F32 [2, 2] needs 16")]
    [InlineData("""{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}""", 12, "b overlaps a")]
    [InlineData("""{"a": {"dtype": "I8", "shape": [2], "data_offsets": [0, 2]}}""", 2, "field 'a.dtype' is \"I8\", expected one of F32")]
    [InlineData("""{"a": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}""", 4, "field 'a.shape' is [-1], expected a list of integers of at least 0")]
    [InlineData("""{"a": {"dtype": "F32", "shape": [1], "data_offsets": ["a", "b"]}}""", 4, "field 'a.data_offsets' is [\"a\",\"b\"], expected a list of integers")]
    [InlineData("""[1, 2]""", 0, "header): line 1: is an array, not a JSON object")]
    [InlineData("""{"a": """, 0, "header): line 1: is not valid JSON")]
    public void InvalidSafetensorsHeadersAreReported(string header, int dataBytes, string problem)
    {
        var path = Path.Combine(TestPaths.NewTempDir(), "x.safetensors");
        var json = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + json.Length + dataBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)json.Length);
        json.CopyTo(bytes, 8);
        File.WriteAllBytes(path, bytes);
        var e = Assert.ThrowsAny<SpecialistException>(() => SafeTensors.ReadHeader(path));
        Assert.Contains(path, e.Message);
        Assert.Contains(problem, e.Message);
    }

    [Fact]
    public void PickleOnlyFolderIsRefusedWithAConversionHint()
    {
        var dir = TestPaths.NewTempDir();
        File.WriteAllText(Path.Combine(dir, "config.json"), T5Config.Tiny.ToJson());
        File.WriteAllBytes(Path.Combine(dir, "pytorch_model.bin"), [0x80, 0x02, 0x7d, 0x71, 0x00, 0x2e]);
        var e = Assert.Throws<SpecialistException>(() => T5Checkpoint.Load(dir));
        Assert.Contains("pytorch_model.bin", e.Message);
        Assert.Contains("safe_serialization=True", e.Message);
        Assert.Contains("never loaded", e.Message);
    }

    [Fact]
    public void MissingFolderOrFilesAreNamed()
    {
        var dir = TestPaths.NewTempDir();
        Assert.Contains("has no config.json", Assert.Throws<SpecialistException>(() => T5Checkpoint.Load(dir)).Message);
        Assert.Contains("does not exist", Assert.Throws<SpecialistException>(() => T5Checkpoint.Load(Path.Combine(dir, "nope"))).Message);
        using var model = T5ModelTests.TinyModel(seed: 18);
        T5Checkpoint.Save(model, dir);
        File.Delete(Path.Combine(dir, "model.safetensors"));
        Assert.Contains("has no model.safetensors", Assert.Throws<SpecialistException>(() => T5Checkpoint.Load(dir)).Message);
    }

    [Fact]
    public void ShardIndexProblemsAreReported()
    {
        using var model = T5ModelTests.TinyModel(seed: 19);
        var dir = TestPaths.NewTempDir();
        T5Checkpoint.Save(model, dir, maxShardBytes: 6_000_000);
        var indexPath = Path.Combine(dir, "model.safetensors.index.json");
        var index = JsonNode.Parse(File.ReadAllText(indexPath))!;
        index["weight_map"]!["shared.weight"] = "../elsewhere.safetensors";
        File.WriteAllText(indexPath, index.ToJsonString());
        var e = Assert.Throws<DataFormatException>(() => T5Checkpoint.Load(dir));
        Assert.Equal("weight_map.shared.weight", e.Field);

        index["weight_map"]!["shared.weight"] = "model-00009-of-00009.safetensors";
        File.WriteAllText(indexPath, index.ToJsonString());
        Assert.Contains("model-00009-of-00009.safetensors", Assert.Throws<SpecialistException>(() => T5Checkpoint.Load(dir)).Message);
    }

    [Fact]
    public void InspectSummarisesWithoutLoading()
    {
        using var model = T5ModelTests.TinyModel(seed: 20);
        var dir = TestPaths.NewTempDir();
        T5Checkpoint.Save(model, dir);
        var summary = T5Checkpoint.Inspect(dir);
        Assert.Equal(model.ParameterCount, summary.ParameterCount);
        Assert.Equal("F32", summary.StoredDType);
        Assert.Equal(["model.safetensors"], summary.Files);
        Assert.Equal(model.ParameterCount * 4, summary.TensorBytes);
        Assert.Equal(T5Config.Tiny, summary.Config);
    }

    [Fact]
    public void WriteRandomWithAWordLevelTokenizerKeepsItAsTokenizerJson()
    {
        var words = WordLevelTokenizer.Build(["Ann has 3 apples.", "So the answer is Yes."], maxVocabulary: 400);
        // Any *.json tokenizer is word level and lands in the folder as tokenizer.json, where the folder's loader looks.
        var source = Path.Combine(TestPaths.NewTempDir(), "words.json");
        words.Save(source);
        var dir = TestPaths.NewTempDir();

        var summary = T5Checkpoint.WriteRandom(T5Config.Tiny with { VocabSize = words.VocabularySize }, dir, source, seed: 4);

        Assert.Equal(words.VocabularySize, summary.Config.VocabSize);
        Assert.Equal(File.ReadAllBytes(source), File.ReadAllBytes(Path.Combine(dir, "tokenizer.json")));
        Assert.False(File.Exists(Path.Combine(dir, "spiece.model")));
        Assert.Equal(Path.Combine(dir, "tokenizer.json"), Tokenizers.ModelTokenizerFile(dir));
        var loaded = Tokenizers.LoadFromModelFolder(dir);
        Assert.Equal(words.VocabularySize, loaded.VocabularySize);
        Assert.Equal(words.Encode("Ann has 3 apples.").Ids, loaded.Encode("Ann has 3 apples.").Ids);
        using var model = T5Checkpoint.Load(dir);
        Assert.Equal(words.VocabularySize, model.Config.VocabSize);
        // The SentencePiece model keeps its own name.
        var t5 = TestPaths.NewTempDir();
        T5Checkpoint.WriteRandom(T5Config.Tiny, t5, TestPaths.T5SpieceModel, seed: 4);
        Assert.Equal(Path.Combine(t5, "spiece.model"), Tokenizers.ModelTokenizerFile(t5));
        Assert.False(File.Exists(Path.Combine(t5, "tokenizer.json")));
    }

    [Fact]
    public void WriteRandomWithoutATokenizerFileSaysWhichFilesItTakes()
    {
        var missing = Path.Combine(TestPaths.NewTempDir(), "tokenizer.json");
        var e = Assert.Throws<SpecialistException>(() => T5Checkpoint.WriteRandom(T5Config.Tiny, TestPaths.NewTempDir(), missing, seed: 1));
        Assert.Contains(missing, e.Message);
        Assert.Contains("word-level tokenizer.json", e.Message);
    }
}
