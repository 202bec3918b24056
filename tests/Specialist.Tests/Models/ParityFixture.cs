using System.Text.Json;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Specialist.Tests.Models;

/// <summary>The committed Hugging Face parity fixtures (parity-fixture/, see its README), read and compared the same way for every model family.</summary>
internal static class ParityFixture
{
    /// <summary>fp64 against exact fp64, relative to max(1, |x|): only rounding of the last bits may differ.</summary>
    public const double Fp64Tolerance = 1e-9;

    /// <summary>The fp32 tolerance never goes below this, however close transformers' own fp32 and fp64 results are.</summary>
    public const double Fp32ToleranceFloor = 1e-5;

    public static string Root => Path.Combine(TestPaths.RepoRoot, "tests", "Specialist.Tests", "Models", "parity-fixture");

    /// <summary>A fixture file; a missing one fails the test (never skips it), saying how it is made.</summary>
    public static JsonElement Read(string name, string file)
    {
        var path = Path.Combine(Root, name, file);
        Assert.True(File.Exists(path), $"the parity fixture file {path} is missing: see {Path.Combine(Root, "README.md")} for how it is made");
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        return document.RootElement.Clone();
    }

    /// <summary>The fp32 tolerance of a fixture: twice transformers' own fp32-vs-fp64 distance, at least <see cref="Fp32ToleranceFloor"/>.</summary>
    public static double Fp32Tolerance(JsonElement expected) => Math.Max(Fp32ToleranceFloor, 2 * expected.GetProperty("fp32_vs_fp64_max_rel_diff").GetDouble());

    /// <summary>
    /// The fixture batch's prompts without their padding: the ids where <c>attention_mask</c> is 1, which lead a
    /// right-padded row (T5) and end a left-padded one (decoder-only).
    /// </summary>
    public static List<IReadOnlyList<int>> Prompts(JsonElement e, bool paddedLeft)
    {
        var masks = e.GetProperty("attention_mask");
        return [.. e.GetProperty("input_ids").EnumerateArray().Select((row, b) =>
        {
            var ids = row.EnumerateArray().Select(v => v.GetInt32());
            var real = masks[b].EnumerateArray().Count(m => m.GetInt32() == 1);
            return (IReadOnlyList<int>)[.. paddedLeft ? ids.Skip(row.GetArrayLength() - real) : ids.Take(real)];
        })];
    }

    /// <summary>transformers' greedy tokens for row <paramref name="row"/> of the batch.</summary>
    public static List<int> Greedy(JsonElement e, int row) => [.. e.GetProperty("greedy")[row].EnumerateArray().Select(v => v.GetInt32())];

    /// <summary>A JSON matrix of integers as an int64 tensor.</summary>
    public static Tensor Matrix(JsonElement rows) =>
        tensor(rows.EnumerateArray().SelectMany(r => r.EnumerateArray().Select(v => v.GetInt64())).ToArray(),
            [rows.GetArrayLength(), rows[0].GetArrayLength()]);

    /// <summary>
    /// <paramref name="actual"/> against a fixture's <c>{shape, data}</c>, relative to max(1, |x|), where
    /// <paramref name="mask"/> (batch × length) is 1; everywhere when it is null.
    /// </summary>
    public static void AssertClose(ITestOutputHelper output, JsonElement expected, Tensor actual, Tensor? mask, string what, double tolerance)
    {
        var shape = expected.GetProperty("shape").EnumerateArray().Select(v => v.GetInt64()).ToArray();
        Assert.Equal(shape, actual.shape);
        var want = expected.GetProperty("data").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        var got = actual.to(ScalarType.Float64).contiguous().data<double>().ToArray();
        var width = shape[^1];
        var keep = mask?.contiguous().data<long>().ToArray();
        var worst = 0.0;
        var compared = 0;
        for (var i = 0; i < want.Length; i++)
        {
            if (keep is not null && keep[i / width] == 0) continue;
            worst = Math.Max(worst, Math.Abs(want[i] - got[i]) / Math.Max(1, Math.Abs(want[i])));
            compared++;
        }
        output.WriteLine($"{what}: largest difference {worst:E2} over {compared} values (tolerance {tolerance:E2})");
        Assert.True(compared > 0);
        Assert.True(worst <= tolerance, $"{what}: largest difference {worst:E2} exceeds {tolerance:E2}");
    }
}
