using Specialist.Prompts;

namespace Specialist.Synthetic;

/// <summary>Draws on <see cref="SplitMix64"/>, so every synthetic set is fixed by its seed alone, on any .NET version.</summary>
internal static class RandomChoices
{
    /// <summary>A uniform integer in [<paramref name="min"/>, <paramref name="max"/>].</summary>
    public static int Between(this ref SplitMix64 random, int min, int max) => min + random.NextBelow(max - min + 1);

    public static T Pick<T>(this ref SplitMix64 random, IReadOnlyList<T> items) => items[random.NextBelow(items.Count)];

    public static bool Coin(this ref SplitMix64 random) => random.NextBelow(2) == 0;

    /// <summary><paramref name="count"/> distinct items, in draw order.</summary>
    public static List<T> PickDistinct<T>(this ref SplitMix64 random, IReadOnlyList<T> items, int count)
    {
        var indices = Enumerable.Range(0, items.Count).ToList();
        var picked = new List<T>(count);
        for (var k = 0; k < count; k++)
        {
            var at = random.NextBelow(indices.Count);
            picked.Add(items[indices[at]]);
            indices.RemoveAt(at);
        }
        return picked;
    }

    /// <summary>Fisher–Yates, in place.</summary>
    public static void Shuffle<T>(this ref SplitMix64 random, IList<T> items)
    {
        for (var i = items.Count - 1; i > 0; i--)
        {
            var j = random.NextBelow(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }

    /// <summary>
    /// Which of <paramref name="variants"/> phrasings to use: the last one is held out of the in-distribution set and
    /// used alone by the mild out-of-distribution split.
    /// </summary>
    public static int Phrasing(this ref SplitMix64 random, Wording wording, int variants) =>
        wording == Wording.HeldOut ? variants - 1 : random.NextBelow(variants - 1);

    /// <summary>A divisor of <paramref name="value"/> in [2, <paramref name="max"/>], or 0 when it has none there.</summary>
    public static int Divisor(this ref SplitMix64 random, int value, int max = 9)
    {
        var divisors = Enumerable.Range(2, max - 1).Where(d => value % d == 0).ToList();
        return divisors.Count == 0 ? 0 : random.Pick(divisors);
    }
}

/// <summary>Whether a problem is worded with the familiar (in-distribution) phrasings or the held-out ones.</summary>
internal enum Wording
{
    Familiar,
    HeldOut,
}
