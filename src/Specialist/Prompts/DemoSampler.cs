using Specialist.Data;

namespace Specialist.Prompts;

/// <summary>
/// SplitMix64 (Steele, Lea and Flood 2014): a tiny seeded generator whose sequence is fixed by this code alone,
/// so runs repeat exactly across .NET versions and platforms (<see cref="System.Random"/> promises no such thing).
/// </summary>
internal struct SplitMix64(ulong seed)
{
    private ulong _state = seed;

    public ulong NextUInt64()
    {
        var z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>A uniform integer in [0, <paramref name="bound"/>), without modulo bias (Lemire's multiply-and-reject).</summary>
    public int NextBelow(int bound)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bound);
        var range = (ulong)bound;
        var high = Math.BigMul(NextUInt64(), range, out var low);
        if (low < range)
        {
            var threshold = (0UL - range) % range;
            while (low < threshold) high = Math.BigMul(NextUInt64(), range, out low);
        }
        return (int)high;
    }
}

/// <summary>
/// Draws in-context demonstrations from a pool of problems (GSM8K train), reproducibly from a seed. Each call
/// draws afresh ("demos are re-drawn per example"), without repeats, never the question being asked itself.
/// </summary>
public sealed class DemoSampler
{
    private readonly IReadOnlyList<Problem> _pool;
    private readonly Dictionary<string, int> _idCounts = new(StringComparer.Ordinal);
    private SplitMix64 _random;

    /// <param name="pool">The problems demos come from.</param>
    /// <param name="seed">Fixes the whole sequence of draws.</param>
    public DemoSampler(IReadOnlyList<Problem> pool, ulong seed)
    {
        _pool = pool;
        _random = new SplitMix64(seed);
        foreach (var p in pool) _idCounts[p.Id] = _idCounts.GetValueOrDefault(p.Id) + 1;
    }

    /// <summary>Draws <paramref name="count"/> distinct problems, none with id <paramref name="excludeId"/>, in draw order.</summary>
    public IReadOnlyList<Problem> Draw(int count, string? excludeId = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var available = _pool.Count - (excludeId is null ? 0 : _idCounts.GetValueOrDefault(excludeId));
        if (count > available)
            throw new SpecialistException($"cannot draw {count} demonstrations from {available} available problems");
        // Rejection: the pool (thousands) dwarfs the draw (4), so a repeat is rare and this is O(count).
        var chosen = new List<int>(count);
        while (chosen.Count < count)
        {
            var index = _random.NextBelow(_pool.Count);
            if (!chosen.Contains(index) && _pool[index].Id != excludeId) chosen.Add(index);
        }
        return chosen.Select(i => _pool[i]).ToList();
    }
}
