using Specialist.Teachers;

namespace Specialist.Tests.Teachers;

public class PositionsCodecTests
{
    private static void AssertSame(IReadOnlyList<TokenPosition> expected, IReadOnlyList<TokenPosition> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (var i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].Token, actual[i].Token);
            Assert.Equal(BitConverter.SingleToInt32Bits(expected[i].Logprob), BitConverter.SingleToInt32Bits(actual[i].Logprob));
            Assert.Equal(expected[i].Top, actual[i].Top);
        }
    }

    [Fact]
    public void RoundTripsTokensLogprobsAndTopKExactly()
    {
        TokenPosition[] positions =
        [
            new(" The", -0.125f, [new(" The", -0.125f), new(" So", -2.5f), new(" the", -3.75f)]),
            // The sampled token is not among the top-k (sampling can pick a less likely one).
            new(" answer", -6.0f, [new(" result", -0.5f), new(" total", -1.5f)]),
            // Same string as a candidate but another log-prob: kept apart.
            new(" is", -0.3f, [new(" is", -0.2f)]),
            new("é€😀", float.NaN, []),
            new("", float.NegativeInfinity, [new("", -1e-7f), new("\n", -30f)]),
        ];
        var bytes = PositionsCodec.Encode(positions);
        AssertSame(positions, PositionsCodec.Decode(bytes));
        AssertSame([], PositionsCodec.Decode(PositionsCodec.Encode([])));
    }

    [Fact]
    public void RepeatedStringsAreStoredOnceAndTheSampledTopTokenCostsOneByte()
    {
        var top = Enumerable.Range(0, 5).Select(k => new TopCandidate($" token{k}", -k - 0.5f)).ToArray();
        var positions = Enumerable.Range(0, 200).Select(_ => new TokenPosition(top[0].Token, top[0].Logprob, top)).ToArray();
        var bytes = PositionsCodec.Encode(positions);
        // Per position: k (1 byte) + 5 × (index 1 byte + float 4 bytes) + chosen rank (1 byte) = 27 bytes; strings once.
        var strings = top.Sum(t => 1 + System.Text.Encoding.UTF8.GetByteCount(t.Token));
        Assert.Equal(1 + 1 + strings + 2 + 200 * 27, bytes.Length);
        AssertSame(positions, PositionsCodec.Decode(bytes));
    }

    [Fact]
    public void DamagedDataIsAFormatError()
    {
        var bytes = PositionsCodec.Encode([new TokenPosition(" a", -1, [new(" a", -1), new(" b", -2)])]);
        Assert.Throws<FormatException>(() => PositionsCodec.Decode(bytes.AsSpan(0, bytes.Length - 2)));
        Assert.Throws<FormatException>(() => PositionsCodec.Decode([.. bytes, 0]));
        var wrongVersion = bytes.ToArray();
        wrongVersion[0] = 9;
        Assert.Throws<FormatException>(() => PositionsCodec.Decode(wrongVersion));
    }
}
