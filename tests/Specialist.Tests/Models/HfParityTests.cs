using System.Text.Json;
using Specialist.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Specialist.Tests.Models;

/// <summary>
/// Our T5 against Hugging Face transformers' on the same weights: encoder states, logits and greedy generations
/// recorded by tools/parity/make_fixture.py (run it where Python has torch and transformers). Skipped, visibly,
/// while the fixture is absent.
/// </summary>
public class HfParityTests
{
    private const double Tolerance = 1e-4;

    private static string FixtureRoot => Path.Combine(TestPaths.RepoRoot, "tests", "Specialist.Tests", "Models", "parity-fixture");

    [SkippableTheory]
    [InlineData("t5-v1_0")]
    [InlineData("t5-v1_1")]
    public void MatchesTransformers(string name)
    {
        var dir = Path.Combine(FixtureRoot, name);
        Skip.IfNot(File.Exists(Path.Combine(dir, "expected.json")),
            $"no parity fixture at {dir}: run 'python3 tools/parity/make_fixture.py' where torch and transformers are installed");

        using var expected = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "expected.json")));
        var e = expected.RootElement;
        using var model = T5Checkpoint.Load(dir, ScalarType.Float32);
        using var scope = NewDisposeScope();
        var inputIds = Matrix(e.GetProperty("input_ids"));
        var mask = Matrix(e.GetProperty("attention_mask"));
        var decoderIds = Matrix(e.GetProperty("decoder_input_ids"));

        using (no_grad())
        {
            AssertClose(e.GetProperty("encoder_last_hidden_state"), model.Encode(inputIds, mask), "encoder states");
            AssertClose(e.GetProperty("logits"), model.forward(inputIds, mask, decoderIds), "logits");
        }

        var rows = e.GetProperty("input_ids").EnumerateArray().Select((row, b) =>
            (IReadOnlyList<int>)row.EnumerateArray().Select(v => v.GetInt32()).Take(e.GetProperty("attention_mask")[b].EnumerateArray().Count(m => m.GetInt32() == 1)).ToList()).ToList();
        var generated = new T5Generator(model).Generate(rows, new GenerationOptions { MaxNewTokens = e.GetProperty("greedy_max_new_tokens").GetInt32() });
        var eos = model.Config.EosTokenId;
        for (var b = 0; b < rows.Count; b++)
        {
            var hf = e.GetProperty("greedy")[b].EnumerateArray().Select(v => v.GetInt32()).ToList();
            var stop = hf.IndexOf(eos);
            Assert.Equal(stop >= 0 ? hf.Take(stop + 1) : hf, generated[b].Tokens);
        }
    }

    private static Tensor Matrix(JsonElement rows) =>
        tensor(rows.EnumerateArray().SelectMany(r => r.EnumerateArray().Select(v => v.GetInt64())).ToArray(),
            [rows.GetArrayLength(), rows[0].GetArrayLength()]);

    private static void AssertClose(JsonElement expected, Tensor actual, string what)
    {
        var shape = expected.GetProperty("shape").EnumerateArray().Select(v => v.GetInt64()).ToArray();
        Assert.Equal(shape, actual.shape);
        var want = expected.GetProperty("data").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        var got = actual.to(ScalarType.Float64).contiguous().data<double>().ToArray();
        var worst = want.Zip(got, (w, g) => Math.Abs(w - g) / Math.Max(1, Math.Abs(w))).Max();
        Assert.True(worst <= Tolerance, $"{what}: largest difference {worst:E2} exceeds {Tolerance:E0}");
    }
}
