using System.Buffers.Binary;
using System.Text;

namespace Specialist.Teachers;

/// <summary>
/// The compact encoding of a sample's per-position tokens and top-k (the <c>samples.logprobs</c> column; layout in
/// docs/annotation-store.md). Each distinct token string is written once; a position refers to strings by index, and
/// the sampled token, usually one of the top-k with the same log-prob, is written as its rank there.
/// </summary>
internal static class PositionsCodec
{
    private const byte Version = 1;

    public static byte[] Encode(IReadOnlyList<TokenPosition> positions)
    {
        var strings = new Dictionary<string, int>(StringComparer.Ordinal);
        var order = new List<string>();
        int Index(string s)
        {
            if (!strings.TryGetValue(s, out var i)) { i = order.Count; strings[s] = i; order.Add(s); }
            return i;
        }
        // Positions first into their own buffer, so the string table (built on the way) can precede them.
        var body = new MemoryStream();
        WriteVarint(body, (uint)positions.Count);
        foreach (var p in positions)
        {
            WriteVarint(body, (uint)p.Top.Count);
            var chosenRank = -1;
            for (var r = 0; r < p.Top.Count; r++)
            {
                WriteVarint(body, (uint)Index(p.Top[r].Token));
                WriteFloat(body, p.Top[r].Logprob);
                if (chosenRank < 0 && p.Top[r].Token == p.Token && SameBits(p.Top[r].Logprob, p.Logprob)) chosenRank = r;
            }
            if (chosenRank >= 0) WriteVarint(body, (uint)chosenRank + 1);
            else
            {
                WriteVarint(body, 0);
                WriteVarint(body, (uint)Index(p.Token));
                WriteFloat(body, p.Logprob);
            }
        }

        var output = new MemoryStream();
        output.WriteByte(Version);
        WriteVarint(output, (uint)order.Count);
        foreach (var s in order)
        {
            var bytes = Encoding.UTF8.GetBytes(s);
            WriteVarint(output, (uint)bytes.Length);
            output.Write(bytes);
        }
        body.Position = 0;
        body.CopyTo(output);
        return output.ToArray();
    }

    /// <summary>Decodes <see cref="Encode"/>'s bytes; throws <see cref="FormatException"/> on anything else.</summary>
    public static TokenPosition[] Decode(ReadOnlySpan<byte> data)
    {
        var at = 0;
        if (data.Length == 0 || data[at++] != Version) throw new FormatException($"unknown positions encoding version {(data.Length == 0 ? "(empty)" : data[0])}");
        var strings = new string[ReadCount(data, ref at)];
        for (var i = 0; i < strings.Length; i++)
        {
            var length = ReadCount(data, ref at);
            if (at + length > data.Length) throw new FormatException("positions data ends inside a token string");
            strings[i] = Encoding.UTF8.GetString(data.Slice(at, length));
            at += length;
        }
        var positions = new TokenPosition[ReadCount(data, ref at)];
        for (var p = 0; p < positions.Length; p++)
        {
            var top = new TopCandidate[ReadCount(data, ref at)];
            for (var r = 0; r < top.Length; r++) top[r] = new TopCandidate(ReadString(data, ref at, strings), ReadFloat(data, ref at));
            var chosen = ReadCount(data, ref at);
            if (chosen > top.Length) throw new FormatException($"position {p}: sampled token rank {chosen - 1} is outside its {top.Length} candidates");
            positions[p] = chosen > 0
                ? new TokenPosition(top[chosen - 1].Token, top[chosen - 1].Logprob, top)
                : new TokenPosition(ReadString(data, ref at, strings), ReadFloat(data, ref at), top);
        }
        if (at != data.Length) throw new FormatException($"positions data has {data.Length - at} bytes after its last position");
        return positions;
    }

    private static bool SameBits(float a, float b) => BitConverter.SingleToInt32Bits(a) == BitConverter.SingleToInt32Bits(b);

    private static void WriteVarint(Stream s, uint value)
    {
        while (value >= 0x80)
        {
            s.WriteByte((byte)(value | 0x80));
            value >>= 7;
        }
        s.WriteByte((byte)value);
    }

    private static void WriteFloat(Stream s, float value)
    {
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteSingleLittleEndian(bytes, value);
        s.Write(bytes);
    }

    private static int ReadCount(ReadOnlySpan<byte> data, ref int at)
    {
        uint value = 0;
        for (var shift = 0; shift < 35; shift += 7)
        {
            if (at >= data.Length) throw new FormatException("positions data ends inside a number");
            var b = data[at++];
            value |= (uint)(b & 0x7F) << shift;
            if (b < 0x80) return value <= int.MaxValue ? (int)value : throw new FormatException("positions data holds a count too large");
        }
        throw new FormatException("positions data holds an overlong number");
    }

    private static float ReadFloat(ReadOnlySpan<byte> data, ref int at)
    {
        if (at + 4 > data.Length) throw new FormatException("positions data ends inside a log-prob");
        var value = BinaryPrimitives.ReadSingleLittleEndian(data.Slice(at, 4));
        at += 4;
        return value;
    }

    private static string ReadString(ReadOnlySpan<byte> data, ref int at, string[] strings)
    {
        var index = ReadCount(data, ref at);
        return index < strings.Length ? strings[index] : throw new FormatException($"token string index {index} is outside the table of {strings.Length}");
    }
}
