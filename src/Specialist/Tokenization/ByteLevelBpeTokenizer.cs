using System.Buffers;
using System.Globalization;
using System.Text;
using Microsoft.ML.Tokenizers;

namespace Specialist.Tokenization;

/// <summary>
/// A Hugging Face byte-level BPE tokenizer (<c>tokenizer.json</c> of Qwen2, Llama 3, GPT-2), encoding as the
/// <c>tokenizers</c> library does with <c>add_special_tokens=False</c>: added tokens (<c>&lt;|im_start|&gt;</c>) are
/// found in the raw text first, leftmost and longest, and never split; the rest is NFC-normalised where the file says
/// so, split by the pre-tokenizer's patterns, and each piece's UTF-8 bytes are merged by Microsoft.ML.Tokenizers'
/// <see cref="BpeTokenizer"/> (or taken whole when the file sets <c>ignore_merges</c> and the piece is a token).
/// Every text is representable (the vocabulary holds all 256 bytes), so there is no unknown id.
/// </summary>
/// <remarks>
/// A token's piece is its text with spaces written <c>▁</c>, as SentencePiece writes them, so the aligner compares and
/// looks up teacher strings the same way for every student; bytes that are not a whole UTF-8 character are written
/// <c>&lt;0xF0&gt;</c>, as SentencePiece's byte pieces are. <see cref="Decode"/> returns the text exactly
/// (<c>clean_up_tokenization_spaces</c> is not applied). Thread-safe.
/// </remarks>
internal sealed class ByteLevelBpeTokenizer : ITokenizer
{
    /// <summary>For each <see cref="UnicodeCategory"/>, a character of that category below U+10000 and past ASCII.</summary>
    private static readonly char[] StandIns = BuildStandIns();

    private readonly TokenizerJsonFile _file;
    private readonly BpeTokenizer _library;
    private readonly string[] _pieces;
    private readonly Dictionary<string, int> _ids;
    private readonly byte[]?[] _bytes;
    private readonly string?[] _addedTexts;
    private readonly bool[] _skippedByDecode;
    private readonly Dictionary<char, TokenizerJsonFile.AddedToken[]> _addedByFirstChar;

    private ByteLevelBpeTokenizer(TokenizerJsonFile file, TokenizerConfigFile config)
    {
        _file = file;
        Name = file.Path;
        _library = BpeTokenizer.Create(new BpeOptions(file.Vocabulary)
        {
            Merges = file.Merges.Select(m => $"{m.Left} {m.Right}"), // no byte-level symbol is a space
            ByteLevel = true,
        });

        VocabularySize = Math.Max(file.Vocabulary.Values.Max(), file.AddedTokens.Count == 0 ? 0 : file.AddedTokens.Max(t => t.Id)) + 1;
        _pieces = new string[VocabularySize];
        _bytes = new byte[VocabularySize][];
        _addedTexts = new string[VocabularySize];
        _skippedByDecode = new bool[VocabularySize];
        foreach (var (token, id) in file.Vocabulary)
        {
            _bytes[id] = [.. token.Select(ByteLevelAlphabet.ByteOf)];
            _pieces[id] = PieceOf(_bytes[id]);
        }
        foreach (var added in file.AddedTokens)
        {
            // An added token that is also a model token decodes through its bytes; one outside the model, as its text.
            if (_bytes[added.Id] is null) _addedTexts[added.Id] = added.Content;
            _pieces[added.Id] = added.Content.Replace(' ', '\u2581');
            _skippedByDecode[added.Id] = added.Special;
        }
        var gap = Array.IndexOf(_pieces, null);
        if (gap >= 0) throw new SpecialistException($"{file.Path}: id {gap} has no token, but ids up to {VocabularySize - 1} do (model.vocab and added_tokens must number their tokens without gaps)");
        _ids = new Dictionary<string, int>(VocabularySize, StringComparer.Ordinal);
        for (var id = 0; id < VocabularySize; id++) _ids.TryAdd(_pieces[id], id);
        _addedByFirstChar = file.AddedTokens
            .GroupBy(t => t.Content[0])
            .ToDictionary(g => g.Key, g => g.OrderByDescending(t => t.Content.Length).ToArray());

        int? IdOf(string text) => file.AddedTokens.FirstOrDefault(t => t.Content == text) is { Content: not null } added ? added.Id
            : file.Vocabulary.TryGetValue(Symbols(Encoding.UTF8.GetBytes(text)), out var id) ? id : null;
        BosId = file.Prefix is null ? null : IdOf(file.Prefix);
        EosId = config.EosToken is { } eos ? config.IdOf(IdOf, eos, "eos_token", Name) : config.ModelEosId ?? (file.Suffix is null ? null : IdOf(file.Suffix));
        PadId = config.PadToken is { } pad ? config.IdOf(IdOf, pad, "pad_token", Name) : config.ModelPadId;
        if (file.Suffix is not null && IdOf(file.Suffix) != EosId)
            throw new SpecialistException($"{file.Path}: field 'post_processor' appends \"{file.Suffix}\" to every text, which is not the end-of-sequence token ({config.Path})");
        AppendsEos = file.Suffix is not null;
        foreach (var special in new[] { BosId, EosId, PadId })
            if (special is { } id) _skippedByDecode[CheckId(id)] = true;
    }

    /// <summary>Loads a Hugging Face <c>tokenizer.json</c> already parsed as <paramref name="file"/>, with the special tokens of the folder it is in.</summary>
    public static ByteLevelBpeTokenizer Load(JsonSection file) =>
        new(TokenizerJsonFile.Read(file), TokenizerConfigFile.Read(Path.GetDirectoryName(Path.GetFullPath(file.File))!));

    public string Name { get; }
    public int VocabularySize { get; }
    public int? PadId { get; }
    public int? BosId { get; }
    public int? EosId { get; }
    public int? UnkId => null;
    public bool AppendsEos { get; }

    public TokenizedText Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var tokens = new List<Token>(text.Length / 3 + 2);
        var ordinaryStart = 0;
        for (var i = 0; i < text.Length;)
        {
            if (MatchAddedToken(text, i) is not { } added)
            {
                i++;
                continue;
            }
            EncodeOrdinary(text, ordinaryStart, i, tokens);
            tokens.Add(new Token(added.Id, _pieces[added.Id], i, added.Content.Length));
            i += added.Content.Length;
            ordinaryStart = i;
        }
        EncodeOrdinary(text, ordinaryStart, text.Length, tokens);
        if (AppendsEos) tokens.Add(new Token(EosId!.Value, _pieces[EosId.Value], text.Length, 0));
        return new TokenizedText(text, [.. tokens]);
    }

    /// <summary>The longest added token at <paramref name="i"/>, if any.</summary>
    private TokenizerJsonFile.AddedToken? MatchAddedToken(string text, int i)
    {
        if (!_addedByFirstChar.TryGetValue(text[i], out var candidates)) return null;
        foreach (var candidate in candidates)
            if (text.AsSpan(i).StartsWith(candidate.Content, StringComparison.Ordinal)) return candidate;
        return null;
    }

    /// <summary>Encodes <c>text[start..end)</c>, which holds no added token, appending its tokens.</summary>
    private void EncodeOrdinary(string text, int start, int end, List<Token> tokens)
    {
        if (start == end) return;
        var (normalized, toOriginal) = Normalize(text, start, end);
        var (bytes, byteOfChar, charOfByte) = Utf8Positions(normalized);
        foreach (var (pieceStart, pieceEnd) in PreTokenize(normalized))
        {
            var (byteStart, byteEnd) = (byteOfChar[pieceStart], byteOfChar[pieceEnd]);
            var symbols = Symbols(bytes.AsSpan(byteStart, byteEnd - byteStart));
            IReadOnlyList<int> ids = _file.IgnoreMerges && _file.Vocabulary.TryGetValue(symbols, out var whole)
                ? [whole]
                : _library.EncodeToIds(normalized.AsSpan(pieceStart, pieceEnd - pieceStart), considerPreTokenization: false, considerNormalization: false);
            // A token ends before the character its last byte belongs to unless that byte completes it: the token that
            // completes a character covers it, and tokens inside one character cover nothing.
            var cursor = byteStart;
            var charEnd = pieceStart;
            foreach (var id in ids)
            {
                cursor += _bytes[id]!.Length;
                var charStart = charEnd;
                charEnd = charOfByte[cursor];
                tokens.Add(new Token(id, _pieces[id], toOriginal[charStart], toOriginal[charEnd] - toOriginal[charStart]));
            }
            if (cursor != byteEnd) throw new InvalidOperationException($"BPE covered {cursor - byteStart} of the piece's {byteEnd - byteStart} bytes");
        }
    }

    /// <summary>
    /// <c>text[start..end)</c> with lone surrogates made U+FFFD (UTF-8 cannot hold them) and NFC applied where the file
    /// says so, and for each of its positions (and its end) the position in <paramref name="text"/> it came from.
    /// NFC runs per grapheme cluster, which equals NFC of the whole: composition never crosses a cluster boundary
    /// (combining marks and Hangul jamo extend their cluster), and each cluster maps to where it starts.
    /// </summary>
    private (string Text, int[] ToOriginal) Normalize(string text, int start, int end)
    {
        var segment = string.Create(end - start, (text, start), static (span, state) =>
        {
            state.text.AsSpan(state.start, span.Length).CopyTo(span);
            for (var i = 0; i < span.Length; i++)
            {
                if (char.IsHighSurrogate(span[i]) && i + 1 < span.Length && char.IsLowSurrogate(span[i + 1])) i++;
                else if (char.IsSurrogate(span[i])) span[i] = '\uFFFD';
            }
        });
        if (!_file.Nfc || IcuNfc.IsNormalized(segment, Name))
            return (segment, [.. Enumerable.Range(start, segment.Length + 1)]);
        var normalized = new StringBuilder(segment.Length);
        var toOriginal = new List<int>(segment.Length + 1);
        for (var i = 0; i < segment.Length;)
        {
            var length = StringInfo.GetNextTextElementLength(segment.AsSpan(i));
            var cluster = IcuNfc.Normalize(segment.Substring(i, length), Name);
            normalized.Append(cluster);
            toOriginal.AddRange(Enumerable.Repeat(start + i, cluster.Length));
            i += length;
        }
        toOriginal.Add(end);
        return (normalized.ToString(), [.. toOriginal]);
    }

    /// <summary>The UTF-8 bytes of <paramref name="text"/>, the byte each character starts at (and the end), and the character each byte belongs to (and the end).</summary>
    private static (byte[] Bytes, int[] ByteOfChar, int[] CharOfByte) Utf8Positions(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        var byteOfChar = new int[text.Length + 1];
        var charOfByte = new int[bytes.Length + 1];
        var b = 0;
        for (var c = 0; c < text.Length;)
        {
            Rune.DecodeFromUtf16(text.AsSpan(c), out var rune, out var chars);
            for (var k = 0; k < chars; k++) byteOfChar[c + k] = b;
            for (var k = 0; k < rune.Utf8SequenceLength; k++) charOfByte[b++] = c;
            c += chars;
        }
        byteOfChar[text.Length] = bytes.Length;
        charOfByte[bytes.Length] = text.Length;
        return (bytes, byteOfChar, charOfByte);
    }

    /// <summary>
    /// The pieces <c>[start, end)</c> the pre-tokenizer's patterns make of <paramref name="text"/>: each pattern splits
    /// every piece into its matches and the text between them (Hugging Face's <c>Isolated</c>). .NET matches UTF-16
    /// units, Hugging Face code points; so the patterns see each character outside the BMP as one stand-in of its
    /// category, and <c>\p{L}</c>, <c>\p{N}</c> and <c>[^\s\p{L}\p{N}]</c> match it as Hugging Face does (an emoji
    /// before a word joins it).
    /// </summary>
    private List<(int Start, int End)> PreTokenize(string text)
    {
        var (input, toText) = WithStandIns(text);
        var pieces = new List<(int Start, int End)> { (0, input.Length) };
        foreach (var split in _file.Splits)
        {
            var next = new List<(int Start, int End)>(pieces.Count * 2);
            foreach (var (start, end) in pieces)
            {
                var cursor = start;
                foreach (var match in split.EnumerateMatches(input.AsSpan(start, end - start)))
                {
                    if (match.Length == 0) continue;
                    if (start + match.Index > cursor) next.Add((cursor, start + match.Index));
                    cursor = start + match.Index + match.Length;
                    next.Add((start + match.Index, cursor));
                }
                if (cursor < end) next.Add((cursor, end));
            }
            pieces = next;
        }
        return toText is null ? pieces : pieces.ConvertAll(p => (toText[p.Start], toText[p.End]));
    }

    /// <summary><paramref name="text"/> with each surrogate pair replaced by its category's stand-in, and the map back (null when there is none).</summary>
    private static (string Input, int[]? ToText) WithStandIns(string text)
    {
        if (text.AsSpan().IndexOfAnyInRange('\uD800', '\uDFFF') < 0) return (text, null);
        var input = new StringBuilder(text.Length);
        var toText = new List<int>(text.Length + 1);
        for (var i = 0; i < text.Length;)
        {
            Rune.DecodeFromUtf16(text.AsSpan(i), out var rune, out var chars);
            toText.Add(i);
            input.Append(chars == 2 ? StandIns[(int)Rune.GetUnicodeCategory(rune)] : text[i]);
            i += chars;
        }
        toText.Add(text.Length);
        return (input.ToString(), [.. toText]);
    }

    private static char[] BuildStandIns()
    {
        var standIns = new char[Enum.GetValues<UnicodeCategory>().Length];
        Array.Fill(standIns, '\uFFFD');
        var found = new bool[standIns.Length];
        for (var c = '\u00A0'; c < '\uFFFF'; c++)
        {
            var category = (int)char.GetUnicodeCategory(c);
            if (!found[category] && !char.IsSurrogate(c)) (standIns[category], found[category]) = (c, true);
        }
        return standIns;
    }

    public string Decode(IEnumerable<int> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var text = new StringBuilder();
        var bytes = new ArrayBufferWriter<byte>();
        foreach (var id in ids)
        {
            if (_skippedByDecode[CheckId(id)]) continue;
            if (_addedTexts[id] is { } added)
            {
                Flush();
                text.Append(added);
            }
            else bytes.Write(_bytes[id]);
        }
        Flush();
        return text.ToString();

        // Bytes that are no valid UTF-8 become U+FFFD, as the byte-level decoder's lossy conversion makes them.
        void Flush()
        {
            text.Append(Encoding.UTF8.GetString(bytes.WrittenSpan));
            bytes.Clear();
        }
    }

    public bool TryGetId(string piece, out int id) => _ids.TryGetValue(piece, out id);

    public string GetPiece(int id) => _pieces[CheckId(id)];

    private int CheckId(int id) =>
        (uint)id < (uint)_pieces.Length ? id : throw new ArgumentOutOfRangeException(nameof(id), id, $"not an id of {Name} (0 … {_pieces.Length - 1})");

    private static string Symbols(ReadOnlySpan<byte> bytes)
    {
        var symbols = new char[bytes.Length];
        for (var i = 0; i < bytes.Length; i++) symbols[i] = ByteLevelAlphabet.SymbolOf(bytes[i]);
        return new string(symbols);
    }

    /// <summary>The piece of a token's bytes: its text with spaces as <c>▁</c>, bytes outside a whole character as <c>&lt;0xNN&gt;</c>.</summary>
    private static string PieceOf(ReadOnlySpan<byte> bytes)
    {
        var piece = new StringBuilder(bytes.Length);
        while (!bytes.IsEmpty)
        {
            if (Rune.DecodeFromUtf8(bytes, out var rune, out var length) == OperationStatus.Done)
            {
                piece.Append(rune.Value == ' ' ? "\u2581" : rune.ToString());
            }
            else
            {
                piece.Append(CultureInfo.InvariantCulture, $"<0x{bytes[0]:X2}>");
                length = 1;
            }
            bytes = bytes[length..];
        }
        return piece.ToString();
    }
}
