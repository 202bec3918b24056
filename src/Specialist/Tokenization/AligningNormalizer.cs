using System.Buffers;
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
    private readonly byte[]?[] _asciiReplacements;
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
        // An ASCII byte followed by another (or by nothing) is normalised by its own rule unless some rule's key
        // continues it with an ASCII byte; tabulating those rules skips the trie for nearly every byte of English text.
        _asciiReplacements = new byte[]?[0x80];
        Span<byte> pair = stackalloc byte[2];
        for (var a = 0; a < 0x80; a++)
        {
            pair[0] = (byte)a;
            var continued = false;
            for (var b = 0; b < 0x80 && !continued; b++)
            {
                pair[1] = (byte)b;
                LongestMatch(pair, out var walked);
                continued = walked == 2;
            }
            if (!continued)
            {
                NormalizePrefix(pair[..1], out var replacement);
                _asciiReplacements[a] = replacement.ToArray();
            }
        }
    }

    /// <summary>
    /// Normalises <paramref name="text"/> into UTF-8, as SentencePiece does, noting for each normalised byte (and one
    /// past the end) the index in <paramref name="text"/> of the character it came from. Dispose the result.
    /// </summary>
    public NormalizedText Normalize(string text)
    {
        var input = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(text.Length));
        try
        {
            var length = Encoding.UTF8.GetBytes(text, input);
            return Normalize(input.AsSpan(0, length));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(input);
        }
    }

    private NormalizedText Normalize(ReadOnlySpan<byte> input)
    {
        var output = new NormalizedText(input.Length * 3 / 2 + 4);
        // Where the input's next byte is: a byte offset and the index of its character in the caller's string.
        var consumed = 0;
        var consumedChars = 0;

        if (_removeExtraWhitespaces)
        {
            while (consumed < input.Length)
            {
                var length = NormalizePrefix(input[consumed..], out var replacement);
                if (!replacement.SequenceEqual(" "u8)) break;
                consumedChars += Utf16Length(input.Slice(consumed, length));
                consumed += length;
            }
        }
        if (consumed == input.Length)
        {
            output.End(consumedChars);
            return output;
        }

        if (_addDummyPrefix) AppendSpace(output, consumedChars);
        var previousIsSpace = _removeExtraWhitespaces;
        while (consumed < input.Length)
        {
            var length = NormalizePrefix(input[consumed..], out var replacement);
            while (previousIsSpace && replacement.Length > 0 && replacement[0] == (byte)' ') replacement = replacement[1..];
            if (replacement.Length > 0)
            {
                foreach (var b in replacement)
                {
                    if (b == (byte)' ') AppendSpace(output, consumedChars);
                    else output.Append(b, consumedChars);
                }
                previousIsSpace = replacement[^1] == (byte)' ';
            }
            consumedChars += Utf16Length(input.Slice(consumed, length));
            consumed += length;
            if (!_removeExtraWhitespaces) previousIsSpace = false;
        }

        if (_removeExtraWhitespaces)
        {
            ReadOnlySpan<byte> space = _escapeWhitespaces ? SpaceSymbolUtf8 : " "u8;
            while (output.Bytes.EndsWith(space)) consumedChars = output.RemoveLast(space.Length);
        }
        output.End(consumedChars);
        return output;
    }

    private void AppendSpace(NormalizedText output, int origin)
    {
        foreach (var b in _escapeWhitespaces ? SpaceSymbolUtf8 : " "u8) output.Append(b, origin);
    }

    /// <summary>
    /// The longest rule of the character map that matches a prefix of <paramref name="input"/>, or else its first
    /// character unchanged: returns how many input bytes the <paramref name="replacement"/> replaces.
    /// </summary>
    private int NormalizePrefix(ReadOnlySpan<byte> input, out ReadOnlySpan<byte> replacement)
    {
        if (input[0] < 0x80 && (input.Length == 1 || input[1] < 0x80) && _asciiReplacements[input[0]] is { } ascii)
        {
            replacement = ascii;
            return 1;
        }
        var (length, value) = LongestMatch(input, out _);
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

    /// <summary>
    /// darts-clone's commonPrefixSearch over the double-array trie, keeping the longest match; <paramref name="walked"/>
    /// is how many bytes of <paramref name="key"/> are a path in the trie, whether or not a rule ends there.
    /// </summary>
    private (int Length, int Value) LongestMatch(ReadOnlySpan<byte> key, out int walked)
    {
        walked = 0;
        if (_trie.Length == 0) return (0, 0);
        var best = (Length: 0, Value: 0);
        uint nodePos = Offset(_trie[0]);
        for (var i = 0; i < key.Length; i++)
        {
            nodePos ^= key[i];
            if (nodePos >= _trie.Length) break;
            var unit = _trie[nodePos];
            if ((unit & ((1u << 31) | 0xFF)) != key[i]) break;
            walked = i + 1;
            nodePos ^= Offset(unit);
            if (((unit >> 8) & 1) == 1 && nodePos < _trie.Length) best = (i + 1, (int)(_trie[nodePos] & 0x7FFFFFFF));
        }
        return best;
    }

    private static uint Offset(uint unit) => (unit >> 10) << (int)((unit & (1u << 9)) >> 6);

    internal static int Utf8CharLength(byte lead) => lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;

    /// <summary>How many UTF-16 code units the whole characters in <paramref name="utf8"/> take.</summary>
    private static int Utf16Length(ReadOnlySpan<byte> utf8)
    {
        var length = 0;
        foreach (var b in utf8)
            if ((b & 0xC0) != 0x80) length += b >= 0xF0 ? 2 : 1;
        return length;
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
