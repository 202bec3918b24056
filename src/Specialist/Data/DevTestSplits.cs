using System.Text;

namespace Specialist.Data;

/// <summary>
/// Fixed dev/test splits of ASDiv and SVAMP: <c>asdiv-dev</c> (200) / <c>asdiv-test</c> (the other 2,105) and
/// <c>svamp-dev</c> (200) / <c>svamp-test</c> (800). Checkpoints are selected on the dev subsets; test evaluation uses
/// the disjoint test subsets, so selection never sees a test problem.
/// </summary>
/// <remarks>
/// Done as MultiArith's split (<see cref="MultiArithSet"/>): every problem gets the key
/// <c>SplitMix64(SplitSeed + FNV-1a-64(id))</c>, the 200 problems with the smallest keys (ties, which do not occur,
/// broken by id, ordinal) are dev, the rest test; both lists keep the set's file order. The key of a problem depends
/// only on its id (<c>asdiv/nluds-0001</c>, <c>svamp/chal-1</c>) and the seed, not on file order or runtime. FNV-1a-64
/// (offset basis 0xCBF29CE484222325, prime 0x100000001B3) over the id's UTF-8 bytes turns the id into a number, because
/// these sets' ids are text.
/// </remarks>
internal static class DevTestSplits
{
    /// <summary>The fixed seed of the splits: MultiArith's (the paper's arXiv number, 2301.12726).</summary>
    public const ulong SplitSeed = MultiArithSet.SplitSeed;

    /// <summary>How many problems go to dev; the rest are test.</summary>
    public const int DevCount = 200;

    /// <summary>The dev (<paramref name="dev"/> true) or test part of <paramref name="problems"/>.</summary>
    public static List<Problem> Split(IReadOnlyList<Problem> problems, bool dev)
    {
        var devIds = problems
            .OrderBy(p => SplitKey(p.Id)).ThenBy(p => p.Id, StringComparer.Ordinal)
            .Take(DevCount)
            .Select(p => p.Id)
            .ToHashSet(StringComparer.Ordinal);
        return problems.Where(p => devIds.Contains(p.Id) == dev).ToList();
    }

    /// <summary>The split key of the problem with id <paramref name="id"/>.</summary>
    internal static ulong SplitKey(string id) => MultiArithSet.SplitMix64(unchecked(SplitSeed + Fnv1a64(id)));

    /// <summary>FNV-1a, 64 bits, over the UTF-8 bytes of <paramref name="text"/>.</summary>
    internal static ulong Fnv1a64(string text)
    {
        var hash = 0xCBF29CE484222325UL;
        foreach (var b in Encoding.UTF8.GetBytes(text))
            hash = unchecked((hash ^ b) * 0x100000001B3UL);
        return hash;
    }
}
