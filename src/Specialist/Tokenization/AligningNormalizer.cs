using System.Buffers.Binary;
using System.Text;

namespace Specialist.Tokenization;

/// <summary>
/// SentencePiece's normaliser (normalizer.cc) re-done so that it also says where each normalised character came
/// from: the precompiled character map (nmt_nfkc for T5), leading/trailing/repeated whitespace removal, spaces
/// escaped as U+2581 and the dummy prefix. Microsoft.ML.Tokenizers normalises identically but reports token offsets
/// in the normalised text only, and those must refer to the caller's text. Stateless after construction, so
/// thread-safe.
/// </summary>
internal sealed class AligningNormalizer
{
    /// <summary>U+2581 LOWER ONE EIGHTH BLOCK, which stands for a space in pieces.</summary>
    private static readonly byte[] SpaceSymbolUtf8 = "\u2581"u8.ToArray();

    private readonly string _path;
    private readonly uint[] _trie;
    private readonly byte[] _replacements;
    private readonly bool _addDummyPrefix;
    private readonly bool _removeExtraWhitespaces;
    private readonly bool _escapeWhitespaces;

    public AligningNormalizer(SentencePieceModelFile model)
    {
        _path = model.Path;
        _addDummyPrefix = model.AddDummyPrefix;
        _removeExtraWhitespaces = model.RemoveExtraWhitespaces;
        _escapeWhitespaces = model.EscapeWhitespaces;
        (_trie, _replacements) = DecodeCharsmap(model.Path, model.PrecompiledCharsmap);
    }

    /// <summary>The normalised text and, for each of its UTF-16 positions and one past its end, the position in the original text it came from.</summary>
    internal readonly record struct Result(string Normalized, int[] ToOriginal);

    public Result Normalize(string text)
    {
        var input = Encoding.UTF8.GetBytes(text);
        // SentencePiece works on UTF-8 bytes; originalCharAt maps a byte offset of the input back to a string index.
        var originalCharAt = Utf8ToCharIndex(text, input.Length);
        var output = new List<byte>(input.Length * 3 / 2 + 4);
        var toOriginalByte = new List<int>(output.Capacity);
        var consumed = 0;

        if (_removeExtraWhitespaces)
        {
            while (consumed < input.Length)
            {
                var length = NormalizePrefix(input.AsSpan(consumed), out var replacement);
                if (!replacement.SequenceEqual(" "u8)) break;
                consumed += length;
            }
        }
        if (consumed == input.Length) return new Result("", [originalCharAt[consumed]]);

        if (_addDummyPrefix) AppendSpace(output, toOriginalByte, consumed);
        var previousIsSpace = _removeExtraWhitespaces;
        while (consumed < input.Length)
        {
            var length = NormalizePrefix(input.AsSpan(consumed), out var replacement);
            while (previousIsSpace && replacement.Length > 0 && replacement[0] == (byte)' ') replacement = replacement[1..];
            if (replacement.Length > 0)
            {
                foreach (var b in replacement)
                {
                    if (b == (byte)' ') AppendSpace(output, toOriginalByte, consumed);
                    else { output.Add(b); toOriginalByte.Add(consumed); }
                }
                previousIsSpace = replacement[^1] == (byte)' ';
            }
            consumed += length;
            if (!_removeExtraWhitespaces) previousIsSpace = false;
        }

        if (_removeExtraWhitespaces)
        {
            ReadOnlySpan<byte> space = _escapeWhitespaces ? SpaceSymbolUtf8 : " "u8;
            while (output.Count >= space.Length && EndsWith(output, space))
            {
                var length = output.Count - space.Length;
                consumed = toOriginalByte[length];
                output.RemoveRange(length, space.Length);
                toOriginalByte.RemoveRange(length, space.Length);
            }
        }
        toOriginalByte.Add(consumed);
        return ToUtf16(output, toOriginalByte, originalCharAt);
    }

    private void AppendSpace(List<byte> output, List<int> toOriginalByte, int consumed)
    {
        ReadOnlySpan<byte> symbol = _escapeWhitespaces ? SpaceSymbolUtf8 : " "u8;
        foreach (var b in symbol) { output.Add(b); toOriginalByte.Add(consumed); }
    }

    /// <summary>
    /// The longest rule of the character map that matches a prefix of <paramref name="input"/>, or else its first
    /// character unchanged: returns how many input bytes the <paramref name="replacement"/> replaces.
    /// </summary>
    private int NormalizePrefix(ReadOnlySpan<byte> input, out ReadOnlySpan<byte> replacement)
    {
        var (length, value) = LongestMatch(input);
        if (length > 0)
        {
            if (value >= _replacements.Length) throw new SpecialistException($"{_path}: the normaliser's precompiled character map is corrupt (a rule points past its replacements)");
            var rest = _replacements.AsSpan(value);
            var end = rest.IndexOf((byte)0);
            replacement = end < 0 ? rest : rest[..end];
            return length;
        }
        // Our input comes from a .NET string, so it is valid UTF-8 (lone surrogates are already U+FFFD).
        length = Math.Min(Utf8CharLength(input[0]), input.Length);
        replacement = input[..length];
        return length;
    }

    /// <summary>darts-clone's commonPrefixSearch over the double-array trie, keeping the longest match.</summary>
    private (int Length, int Value) LongestMatch(ReadOnlySpan<byte> key)
    {
        if (_trie.Length == 0) return (0, 0);
        var best = (Length: 0, Value: 0);
        uint nodePos = Offset(_trie[0]);
        for (var i = 0; i < key.Length; i++)
        {
            nodePos ^= key[i];
            if (nodePos >= _trie.Length) break;
            var unit = _trie[nodePos];
            if ((unit & ((1u << 31) | 0xFF)) != key[i]) break;
            nodePos ^= Offset(unit);
            if (((unit >> 8) & 1) == 1 && nodePos < _trie.Length) best = (i + 1, (int)(_trie[nodePos] & 0x7FFFFFFF));
        }
        return best;
    }

    private static uint Offset(uint unit) => (unit >> 10) << (int)((unit & (1u << 9)) >> 6);

    private static int Utf8CharLength(byte lead) => lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;

    private static bool EndsWith(List<byte> bytes, ReadOnlySpan<byte> suffix)
    {
        for (var i = 0; i < suffix.Length; i++)
            if (bytes[bytes.Count - suffix.Length + i] != suffix[i]) return false;
        return true;
    }

    /// <summary>For each UTF-8 byte offset of <paramref name="text"/> (and its end), the string index of the character it belongs to.</summary>
    private static int[] Utf8ToCharIndex(string text, int utf8Length)
    {
        var map = new int[utf8Length + 1];
        var b = 0;
        for (var c = 0; c < text.Length;)
        {
            Rune.DecodeFromUtf16(text.AsSpan(c), out var rune, out var chars);
            for (var k = 0; k < rune.Utf8SequenceLength; k++) map[b++] = c;
            c += chars;
        }
        map[utf8Length] = text.Length;
        return map;
    }

    /// <summary>Turns the UTF-8 output and its byte-level map into a string and a UTF-16-level map into the original string.</summary>
    private static Result ToUtf16(List<byte> output, List<int> toOriginalByte, int[] originalCharAt)
    {
        var bytes = output.ToArray();
        var normalized = Encoding.UTF8.GetString(bytes);
        var toOriginal = new int[normalized.Length + 1];
        var c = 0;
        for (var b = 0; b < bytes.Length;)
        {
            var length = Utf8CharLength(bytes[b]);
            var origin = originalCharAt[toOriginalByte[b]];
            toOriginal[c++] = origin;
            if (length == 4) toOriginal[c++] = origin; // a surrogate pair in UTF-16
            b += length;
        }
        toOriginal[c] = originalCharAt[toOriginalByte[bytes.Length]];
        return new Result(normalized, toOriginal);
    }

    /// <summary>The precompiled character map: a little-endian uint32 trie size, the darts-clone double array, then NUL-terminated replacements.</summary>
    private static (uint[] Trie, byte[] Replacements) DecodeCharsmap(string path, byte[] blob)
    {
        if (blob.Length == 0) return ([], []);
        var trieSize = blob.Length >= 4 ? BinaryPrimitives.ReadUInt32LittleEndian(blob) : uint.MaxValue;
        if (trieSize % 4 != 0 || trieSize > blob.Length - 4)
            throw new SpecialistException($"{path}: the normaliser's precompiled character map is corrupt");
        var trie = new uint[trieSize / 4];
        for (var i = 0; i < trie.Length; i++) trie[i] = BinaryPrimitives.ReadUInt32LittleEndian(blob.AsSpan(4 + 4 * i));
        return (trie, blob[(4 + (int)trieSize)..]);
    }
}
