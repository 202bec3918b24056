using Microsoft.ML.Tokenizers;

namespace Specialist.Tokenization;

/// <summary>
/// OpenAI's byte-level BPE encodings (gpt2, cl100k_base, o200k_base) through Microsoft.ML.Tokenizers and its data
/// packages: the teacher side of token alignment. A token's piece is its bytes decoded as UTF-8; a token holding only
/// part of a character's UTF-8 bytes decodes to U+FFFD there, so use the token's span for the exact text. The text of
/// special tokens (<c>&lt;|endoftext|&gt;</c>) encodes as the special id, as tiktoken's
/// <c>encode(text, allowed_special="all")</c> does. Thread-safe.
/// </summary>
internal sealed class TiktokenEncodingTokenizer : ITokenizer
{
    /// <summary>The encodings we load, with how many ordinary (non-special) tokens each has: ids 0 … count - 1.</summary>
    internal static readonly IReadOnlyDictionary<string, int> OrdinaryTokenCounts = new Dictionary<string, int>(StringComparer.Ordinal)
    {
        ["gpt2"] = 50_256,
        ["cl100k_base"] = 100_256,
        ["o200k_base"] = 199_998,
    };

    private readonly TiktokenTokenizer _library;
    private readonly int _ordinaryCount;
    private readonly IReadOnlyDictionary<string, int> _specialTokens;
    private readonly HashSet<int> _specialIds;
    private readonly string?[] _pieces;
    private readonly Lazy<Dictionary<string, int>> _ids;

    private TiktokenEncodingTokenizer(string name, TiktokenTokenizer library, int ordinaryCount)
    {
        Name = name;
        _library = library;
        _ordinaryCount = ordinaryCount;
        _specialTokens = library.SpecialTokens ?? new Dictionary<string, int>();
        _specialIds = [.. _specialTokens.Values];
        VocabularySize = Math.Max(ordinaryCount, _specialIds.Count == 0 ? 0 : _specialIds.Max() + 1);
        EosId = _specialTokens.TryGetValue("<|endoftext|>", out var eos) ? eos : null;
        _pieces = new string?[VocabularySize];
        _ids = new Lazy<Dictionary<string, int>>(BuildIds);
    }

    /// <summary>Loads a named encoding; the name must be a key of <see cref="OrdinaryTokenCounts"/>.</summary>
    public static TiktokenEncodingTokenizer Load(string name)
    {
        // The library knows gpt2's data as the model "gpt2" (r50k_base), the others as encodings.
        var library = name == "gpt2" ? TiktokenTokenizer.CreateForModel(name) : TiktokenTokenizer.CreateForEncoding(name);
        return new TiktokenEncodingTokenizer(name, library, OrdinaryTokenCounts[name]);
    }

    public string Name { get; }

    /// <summary>One past the largest id; cl100k_base leaves ids 100,261 … 100,275 unassigned, o200k_base 200,000 … 200,017.</summary>
    public int VocabularySize { get; }
    public int? PadId => null;
    public int? BosId => null;
    public int? EosId { get; }
    public int? UnkId => null;
    public bool AppendsEos => false;

    public TokenizedText Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var encoded = _library.EncodeToTokens(text, out _);
        var tokens = new Token[encoded.Count];
        var cursor = 0;
        for (var i = 0; i < encoded.Count; i++)
        {
            // The library gives every token the span of all characters it touches, so tokens that split one character's
            // UTF-8 bytes overlap there; the character goes to the token that completes it.
            var (start, length) = encoded[i].Offset.GetOffsetAndLength(text.Length);
            var end = start + length;
            if (i + 1 < encoded.Count) end = Math.Min(end, encoded[i + 1].Offset.Start.GetOffset(text.Length));
            start = Math.Max(start, cursor);
            end = Math.Max(end, start);
            tokens[i] = new Token(encoded[i].Id, GetPiece(encoded[i].Id), start, end - start);
            cursor = end;
        }
        return new TokenizedText(text, tokens);
    }

    public string Decode(IEnumerable<int> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var kept = new List<int>();
        foreach (var id in ids)
        {
            if (!_specialIds.Contains(CheckId(id))) kept.Add(id);
        }
        return _library.Decode(kept);
    }

    /// <summary>Looks up ordinary tokens whose bytes are whole UTF-8 characters, and special tokens.</summary>
    public bool TryGetId(string piece, out int id) => _ids.Value.TryGetValue(piece, out id);

    public string GetPiece(int id)
    {
        // Filled on first use; racing threads store equal strings, and a reference store is atomic.
        return _pieces[CheckId(id)] ??= _library.Decode([id]);
    }

    private int CheckId(int id) =>
        (uint)id < (uint)_ordinaryCount || _specialIds.Contains(id)
            ? id
            : throw new ArgumentOutOfRangeException(nameof(id), id, $"not a token id of {Name}");

    private Dictionary<string, int> BuildIds()
    {
        var ids = new Dictionary<string, int>(_specialTokens, StringComparer.Ordinal);
        for (var id = 0; id < _ordinaryCount; id++)
        {
            var piece = GetPiece(id);
            if (!piece.Contains('\uFFFD')) ids.TryAdd(piece, id);
        }
        return ids;
    }
}
