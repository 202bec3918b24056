using System.Text.Json;
using Xunit.Abstractions;
using Specialist.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Specialist.Tests.Models;

/// <summary>
/// Our Llama and Qwen2 against Hugging Face transformers' on the same weights (parity-fixture/llama and qwen2, copied
/// from ../shared/fixtures/hf-llama-parity and hf-qwen2-parity; see parity-fixture/README.md): logits and final hidden
/// states of a left-padded batch where the attention mask is 1, the first row alone and the last without its padding,
/// and greedy generations with and without the cache. fp64 is held to 1e-9 against exact_fp64.json, the outputs in
/// fp64 throughout (tools/parity/exact_fp64_llama.py, which first reproduces expected.json exactly): transformers' own
/// fp64 outputs round the norms, the rotary table, the softmax and the logits to fp32. fp32 is held to twice the
/// distance between transformers' own fp32 and fp64 results.
/// </summary>
public class LlamaParityTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("llama")]
    [InlineData("qwen2")]
    public void Matches_transformers_in_float64(string name)
    {
        var e = ParityFixture.Read(name, "expected.json");
        var exact = ParityFixture.Read(name, "exact_fp64.json");
        using var model = LlamaCheckpoint.Load(Path.Combine(ParityFixture.Root, name), ScalarType.Float64);
        // The exact outputs are each row computed alone; a padded batch must give the same where the mask is 1.
        AssertBatch(model, e, exact, "", ParityFixture.Fp64Tolerance);
        AssertRowsAlone(model, e, exact, "", ParityFixture.Fp64Tolerance);
        AssertBatch(model, e, e, "_fp64", 2 * exact.GetProperty("transformers_fp64_vs_exact_max_rel_diff").GetDouble());
        AssertGreedy(model, e);
    }

    [Theory]
    [InlineData("llama")]
    [InlineData("qwen2")]
    public void Matches_transformers_in_float32(string name)
    {
        var e = ParityFixture.Read(name, "expected.json");
        var tolerance = ParityFixture.Fp32Tolerance(e);
        using var model = LlamaCheckpoint.Load(Path.Combine(ParityFixture.Root, name), ScalarType.Float32);
        AssertBatch(model, e, e, "", tolerance);
        foreach (var single in new[] { "single_row", "single_row_short" })
        {
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            var ids = ParityFixture.Matrix(e.GetProperty(single).GetProperty("input_ids"));
            var mask = ones_like(ids);
            ParityFixture.AssertClose(output, e.GetProperty(single).GetProperty("logits"), model.forward(ids, mask, LlamaModel.PositionIds(mask)), null, $"{name} {single} logits", tolerance);
        }
        AssertGreedy(model, e);
    }

    [Fact]
    public void The_norm_weights_are_loaded()
    {
        // The fixtures' norm weights are all 1.0, so the parity tests would pass if they were never read.
        var folder = TestPaths.NewTempDir();
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var e = ParityFixture.Read("llama", "expected.json");
        var ids = ParityFixture.Matrix(e.GetProperty("input_ids"));
        var mask = ParityFixture.Matrix(e.GetProperty("attention_mask"));
        Tensor original, changed;
        using (var model = LlamaCheckpoint.Load(Path.Combine(ParityFixture.Root, "llama")))
        {
            original = model.forward(ids, mask, LlamaModel.PositionIds(mask));
            var generator = new Generator(7);
            foreach (var (key, weight) in model.named_parameters().Where(p => p.name.EndsWith("norm.weight", StringComparison.Ordinal)))
                weight.copy_(rand(weight.shape, generator: generator) + 0.5);
            changed = model.forward(ids, mask, LlamaModel.PositionIds(mask));
            LlamaCheckpoint.Save(model, folder);
        }
        using var reloaded = LlamaCheckpoint.Load(folder);
        var after = reloaded.forward(ids, mask, LlamaModel.PositionIds(mask));
        Assert.True(changed.sub(original).abs().max().item<float>() > 0.1f, "new norm weights should change the logits");
        Assert.Equal(0f, after.sub(changed).abs().max().item<float>());
    }

    /// <summary>Logits and final hidden states of the fixture's padded batch against <paramref name="expected"/>'s keys with <paramref name="suffix"/>.</summary>
    private void AssertBatch(LlamaModel model, JsonElement e, JsonElement expected, string suffix, double tolerance)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var ids = ParityFixture.Matrix(e.GetProperty("input_ids"));
        var mask = ParityFixture.Matrix(e.GetProperty("attention_mask"));
        var positions = LlamaModel.PositionIds(mask);
        Assert.Equal(ParityFixture.Matrix(e.GetProperty("position_ids")).data<long>().ToArray(), positions.data<long>().ToArray());
        var hidden = model.Hidden(ids, mask, positions);
        var logits = model.forward(ids, mask, positions);
        Assert.Equal(model.DType, logits.dtype);
        ParityFixture.AssertClose(output, expected.GetProperty("last_hidden_state" + suffix), hidden, mask, $"{model.Config.ModelType} hidden states, padded batch ({model.DType})", tolerance);
        ParityFixture.AssertClose(output, expected.GetProperty("logits" + suffix), logits, mask, $"{model.Config.ModelType} logits, padded batch ({model.DType})", tolerance);
    }

    /// <summary>Each row alone, without its padding, placed back where the fixture keeps it.</summary>
    private void AssertRowsAlone(LlamaModel model, JsonElement e, JsonElement expected, string suffix, double tolerance)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var ids = ParityFixture.Matrix(e.GetProperty("input_ids"));
        var mask = ParityFixture.Matrix(e.GetProperty("attention_mask"));
        var logits = zeros([ids.shape[0], ids.shape[1], model.Config.VocabSize], ScalarType.Float64);
        for (var b = 0; b < ids.shape[0]; b++)
        {
            var real = mask[b].sum().item<long>();
            var row = ids[b].narrow(0, ids.shape[1] - real, real).unsqueeze(0);
            var rowMask = ones_like(row);
            logits[b].narrow(0, ids.shape[1] - real, real).copy_(model.forward(row, rowMask, LlamaModel.PositionIds(rowMask))[0].to(ScalarType.Float64));
        }
        ParityFixture.AssertClose(output, expected.GetProperty("logits" + suffix), logits, mask, $"{model.Config.ModelType} logits, rows alone ({model.DType})", tolerance);
    }

    /// <summary>Greedy tokens of the batch's rows, with and without the cache, equal transformers'.</summary>
    private static void AssertGreedy(LlamaModel model, JsonElement e)
    {
        var rows = ParityFixture.Prompts(e, paddedLeft: true);
        foreach (var useCache in new[] { true, false })
        {
            var generated = new LlamaGenerator(model).Generate(rows, new GenerationOptions { MaxNewTokens = e.GetProperty("greedy_max_new_tokens").GetInt32(), UseCache = useCache });
            for (var b = 0; b < rows.Count; b++)
            {
                var hf = ParityFixture.Greedy(e, b);
                var stop = hf.FindIndex(t => model.Config.EosTokenIds.Contains(t));
                Assert.Equal(stop >= 0 ? hf.Take(stop + 1) : hf, generated[b].Tokens);
            }
        }
    }
}
