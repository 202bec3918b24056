namespace Specialist.Models;

/// <summary>
/// The random numbers a sampled sequence draws: a <see cref="SplitMix64"/> stream from the sequence's own seed, made
/// here rather than by libtorch's generator so that a sequence's draws depend on its seed alone (not on what else
/// shares its batch) and stay the same across libtorch versions.
/// </summary>
internal static class SampleStream
{
    /// <summary>The seed of child <paramref name="index"/> of <paramref name="seed"/>: the stream's value number <paramref name="index"/>.</summary>
    public static long Derive(long seed, long index) => (long)SplitMix64.At((ulong)seed, (ulong)index);

    /// <summary>Per seed, the first <paramref name="count"/> values of its stream as floats in [0, 1) (24 bits each), row after row.</summary>
    public static float[] Uniforms(IReadOnlyList<long> seeds, int count)
    {
        var values = new float[seeds.Count * count];
        for (var row = 0; row < seeds.Count; row++)
        {
            var stream = new SplitMix64((ulong)seeds[row]);
            for (var i = 0; i < count; i++) values[row * count + i] = (stream.NextUInt64() >> 40) * (1f / (1 << 24));
        }
        return values;
    }
}
