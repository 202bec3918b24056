using System.Text.Json;
using Specialist.Answers;

namespace Specialist.Data;

/// <summary>
/// MultiArith (multiarith/MultiArith.json: a JSON array of <c>{iIndex, sQuestion, lSolutions, ...}</c>), split into
/// dev and test because the paper's 200/400 split is not public. Question = sQuestion trimmed; gold = lSolutions[0];
/// id = <c>multiarith/&lt;iIndex&gt;</c>.
/// </summary>
/// <remarks>
/// The split: every problem gets the key <c>SplitMix64(SplitSeed + iIndex)</c> (Steele, Lea and Flood's SplitMix64
/// finaliser on unsigned 64-bit integers, wrapping); the 200 problems with the smallest keys (ties, which do not occur,
/// broken by iIndex) are dev, the rest test. Both lists are returned in iIndex order. A keyed hash, not
/// <see cref="System.Random"/>, because a seeded Random's sequence is not promised to stay the same across .NET versions;
/// this split depends only on the seed and the iIndex values, not on file order or runtime.
/// </remarks>
internal static class MultiArithSet
{
    /// <summary>The fixed seed of the dev/test split (the paper's arXiv number, 2301.12726).</summary>
    public const ulong SplitSeed = 230112726;

    /// <summary>How many problems go to dev; the rest are test.</summary>
    public const int DevCount = 200;

    public static List<Problem> Load(string root, bool dev)
    {
        var file = DataFiles.Require(root, Path.Combine("multiarith", "MultiArith.json"));
        var all = DataFiles.ReadJsonArray(file, File.ReadAllText(file), record =>
        {
            var index = ReadIndex(record);
            return (Index: index, Record: Read(record, index));
        });
        var seen = new HashSet<long>();
        for (var i = 0; i < all.Count; i++)
            if (!seen.Add(all[i].Index))
                throw new DataFormatException(file, $"record {i}", "iIndex", $"{all[i].Index} appears twice");
        var devIndices = all
            .OrderBy(p => SplitKey(p.Index)).ThenBy(p => p.Index)
            .Take(DevCount)
            .Select(p => p.Index)
            .ToHashSet();
        return all.Where(p => devIndices.Contains(p.Index) == dev).OrderBy(p => p.Index).Select(p => p.Record).ToList();
    }

    /// <summary>The split key of problem <paramref name="iIndex"/>: <see cref="SplitMix64"/> of <c>SplitSeed + iIndex</c>.</summary>
    internal static ulong SplitKey(long iIndex) => SplitMix64(unchecked(SplitSeed + (ulong)iIndex));

    /// <summary>SplitMix64's next output from <paramref name="state"/>: <c>z = state + 0x9E3779B97F4A7C15</c>, then two xor-shift-multiply rounds and a final xor-shift.</summary>
    internal static ulong SplitMix64(ulong state)
    {
        unchecked
        {
            var z = state + 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }
    }

    private static long ReadIndex(JsonRecord record)
    {
        var value = record.Field("iIndex");
        return value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var index)
            ? index
            : throw record.Error("iIndex", $"is {(value.ValueKind == JsonValueKind.Number ? value.GetRawText() : FieldPath.Describe(value.ValueKind))}, not a whole number");
    }

    private static readonly FieldPath Solution = FieldPath.Parse("lSolutions[0]");

    private static Problem Read(JsonRecord record, long index)
    {
        var question = record.String("sQuestion");
        return new Problem($"multiarith/{index}", question, GoldAnswer.FromNumber(record.Number(Solution)));
    }
}
