using System.Globalization;
using LibrarySentencePieceTokenizer = Microsoft.ML.Tokenizers.SentencePieceTokenizer;

namespace Specialist.Tokenization;

/// <summary>
/// A SentencePiece unigram model (T5's <c>spiece.model</c>) with Hugging Face's T5 conventions on top: <c>&lt;/s&gt;</c>
/// appended to every text, and 100 <c>&lt;extra_id_N&gt;</c> pieces after the model's own (N = 0 is the last id).
/// Ids equal <c>spm_encode --output_format=id</c>'s. Microsoft.ML.Tokenizers runs the unigram search; we normalise
/// (to keep offsets into the original text) and merge runs of unknown characters into one token as SentencePiece does.
/// Thread-safe.
/// </summary>
internal sealed class SentencePieceUnigramTokenizer : ITokenizer
{
    internal const int ExtraIdCount = 100;

    private readonly LibrarySentencePieceTokenizer _library;
    private readonly AligningNormalizer _normalizer;
    private readonly string[] _pieces;
    private readonly Dictionary<string, int> _ids;
    private readonly bool[] _skippedByDecode;
    private readonly int _eosId;
    private readonly int _unkId;

    private SentencePieceUnigramTokenizer(SentencePieceModelFile model)
    {
        if (model.EosId < 0) throw new SpecialistException($"{model.Path}: the model has no end-of-sequence piece (eos_id = -1), which T5 appends to every text");
        Name = model.Path;
        _eosId = model.EosId;
        _unkId = model.UnkId;
        PadId = model.PadId >= 0 ? model.PadId : null;
        _normalizer = new AligningNormalizer(model);
        try
        {
            _library = LibrarySentencePieceTokenizer.Create(new MemoryStream(model.BytesForLibrary()), false, false);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or FormatException or IOException or NullReferenceException or IndexOutOfRangeException)
        {
            // The library parses the model again on its own; what our checks let through but it cannot take is the file's fault.
            throw new SpecialistException($"{model.Path}: Microsoft.ML.Tokenizers cannot load this SentencePiece model: {e.Message}", e);
        }

        var count = model.Pieces.Length;
        _pieces = new string[count + ExtraIdCount];
        _skippedByDecode = new bool[_pieces.Length];
        for (var id = 0; id < count; id++)
        {
            _pieces[id] = model.Pieces[id];
            _skippedByDecode[id] = model.Types[id] is SentencePieceModelFile.PieceType.Control or SentencePieceModelFile.PieceType.Unknown;
        }
        for (var n = 0; n < ExtraIdCount; n++)
        {
            var id = count + ExtraIdCount - 1 - n;
            _pieces[id] = string.Create(CultureInfo.InvariantCulture, $"<extra_id_{n}>");
            _skippedByDecode[id] = true;
        }
        _ids = new Dictionary<string, int>(_pieces.Length, StringComparer.Ordinal);
        for (var id = 0; id < _pieces.Length; id++) _ids.TryAdd(_pieces[id], id);
    }

    /// <summary>Loads a <c>spiece.model</c> file.</summary>
    public static SentencePieceUnigramTokenizer Load(string modelPath) => new(SentencePieceModelFile.Read(modelPath));

    public string Name { get; }
    public int VocabularySize => _pieces.Length;
    public int? PadId { get; }
    public int? EosId => _eosId;
    public int? UnkId => _unkId;
    public bool AppendsEos => true;

    public TokenizedText Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var (normalized, toOriginal) = _normalizer.Normalize(text);
        var encoded = _library.EncodeToTokens(normalized, out _, addBeginningOfSentence: false, addEndOfSentence: false,
            considerPreTokenization: false, considerNormalization: false);
        var tokens = new List<Token>(encoded.Count + 1);
        foreach (var token in encoded)
        {
            var (normalizedStart, normalizedEnd) = (token.Offset.Start.GetOffset(normalized.Length), token.Offset.End.GetOffset(normalized.Length));
            var start = toOriginal[normalizedStart];
            var end = toOriginal[normalizedEnd];
            // An unknown token's piece is the normalised text it covers, as SentencePiece prints it ("×", not "<unk>").
            var surface = token.Id == _unkId ? normalized[normalizedStart..normalizedEnd] : null;
            // SentencePiece merges a run of unknown characters into one unknown token; the library does not.
            if (surface is not null && tokens.Count > 0 && tokens[^1].Id == _unkId)
                tokens[^1] = tokens[^1] with { Piece = tokens[^1].Piece + surface, Length = end - tokens[^1].Start };
            else
                tokens.Add(new Token(token.Id, surface ?? _pieces[token.Id], start, end - start));
        }
        tokens.Add(new Token(_eosId, _pieces[_eosId], text.Length, 0));
        return new TokenizedText(text, [.. tokens]);
    }

    public string Decode(IEnumerable<int> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var kept = new List<int>();
        foreach (var id in ids)
        {
            if (!_skippedByDecode[CheckId(id)]) kept.Add(id);
        }
        return _library.Decode(kept);
    }

    public bool TryGetId(string piece, out int id) => _ids.TryGetValue(piece, out id);

    public string GetPiece(int id) => _pieces[CheckId(id)];

    private int CheckId(int id) =>
        (uint)id < (uint)_pieces.Length ? id : throw new ArgumentOutOfRangeException(nameof(id), id, $"not an id of {Name} (0 … {_pieces.Length - 1})");
}
