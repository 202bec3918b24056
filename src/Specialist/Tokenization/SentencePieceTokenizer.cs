using System.Buffers;
using System.Globalization;
using System.Text;
using LibrarySentencePieceTokenizer = Microsoft.ML.Tokenizers.SentencePieceTokenizer;

namespace Specialist.Tokenization;

/// <summary>
/// A SentencePiece model with the conventions Hugging Face's tokenizer for its family adds. A unigram model (T5's
/// <c>spiece.model</c>) as <c>T5Tokenizer</c> uses it: <c>&lt;/s&gt;</c> appended to every text, and 100
/// <c>&lt;extra_id_N&gt;</c> pieces after the model's own (N = 0 is the last id). A BPE model (Llama 2's
/// <c>tokenizer.model</c>) as <c>LlamaTokenizer</c> uses it: <c>&lt;s&gt;</c> begins a sequence (<see cref="BosId"/>)
/// and no <c>&lt;/s&gt;</c> is appended, unless <c>tokenizer_config.json</c> beside it says otherwise
/// (<c>add_bos_token</c>, <c>add_eos_token</c>), which also names the padding token. Ids equal
/// <c>spm_encode --output_format=id</c>'s: the text of a control piece (<c>&lt;s&gt;</c>) is encoded literally.
/// We normalise (to keep offsets into the original text), run the unigram search (<see cref="UnigramSegmenter"/>) and
/// merge runs of unknown characters into one token as SentencePiece does; Microsoft.ML.Tokenizers runs the BPE merges
/// and decodes. Thread-safe.
/// </summary>
internal sealed class SentencePieceTokenizer : ITokenizer
{
    internal const int ExtraIdCount = 100;

    private readonly LibrarySentencePieceTokenizer _library;
    private readonly AligningNormalizer _normalizer;
    private readonly UnigramSegmenter? _unigram;
    private readonly string[] _pieces;
    private readonly Dictionary<string, int> _ids;
    private readonly bool[] _skippedByDecode;
    private readonly int _unkId;

    private SentencePieceTokenizer(SentencePieceModelFile model, int wordCacheCapacity)
    {
        var unigram = model.ModelType == SentencePieceModelFile.UnigramModelType;
        if (unigram && model.EosId < 0) throw new SpecialistException($"{model.Path}: the model has no end-of-sequence piece (eos_id = -1), which T5 appends to every text");
        Name = model.Path;
        _unkId = model.UnkId;
        _normalizer = new AligningNormalizer(model);
        _library = model.CreateLibraryTokenizer();
        _unigram = unigram ? new UnigramSegmenter(model, wordCacheCapacity) : null;

        var count = model.Pieces.Length;
        _pieces = new string[count + (unigram ? ExtraIdCount : 0)];
        _skippedByDecode = new bool[_pieces.Length];
        for (var id = 0; id < count; id++)
        {
            _pieces[id] = model.Pieces[id];
            _skippedByDecode[id] = model.Types[id] is SentencePieceModelFile.PieceType.Control or SentencePieceModelFile.PieceType.Unknown;
        }
        for (var id = count; id < _pieces.Length; id++)
        {
            _pieces[id] = string.Create(CultureInfo.InvariantCulture, $"<extra_id_{_pieces.Length - 1 - id}>");
            _skippedByDecode[id] = true;
        }
        _ids = new Dictionary<string, int>(_pieces.Length, StringComparer.Ordinal);
        for (var id = 0; id < _pieces.Length; id++) _ids.TryAdd(_pieces[id], id);

        int? Piece(int id) => id >= 0 ? id : null;
        if (unigram)
        {
            (PadId, EosId, AppendsEos) = (Piece(model.PadId), model.EosId, true);
            return;
        }
        var config = TokenizerConfigFile.Read(Path.GetDirectoryName(Path.GetFullPath(model.Path))!);
        int? IdOf(string piece) => _ids.TryGetValue(piece, out var id) ? id : null;
        BosId = config.AddBosToken == false ? null : config.BosToken is { } bos ? config.IdOf(IdOf, bos, "bos_token", Name) : Piece(model.BosId);
        EosId = config.EosToken is { } eos ? config.IdOf(IdOf, eos, "eos_token", Name) : Piece(model.EosId);
        PadId = config.PadToken is { } pad ? config.IdOf(IdOf, pad, "pad_token", Name) : config.ModelPadId ?? Piece(model.PadId);
        AppendsEos = config.AddEosToken == true;
        if (AppendsEos && EosId is null) throw new SpecialistException($"{config.Path}: field 'add_eos_token' is true, but the model has no end-of-sequence piece");
    }

    /// <summary>Loads a SentencePiece model file (a unigram or BPE model).</summary>
    public static SentencePieceTokenizer Load(string modelPath) => Load(modelPath, UnigramSegmenter.DefaultCacheCapacity);

    /// <summary>Loads a model whose unigram search caches the lattices of up to <paramref name="wordCacheCapacity"/> words (0: none).</summary>
    internal static SentencePieceTokenizer Load(string modelPath, int wordCacheCapacity) => new(SentencePieceModelFile.Read(modelPath), wordCacheCapacity);

    public string Name { get; }
    public int VocabularySize => _pieces.Length;
    public int? PadId { get; }
    public int? BosId { get; }
    public int? EosId { get; }
    public int? UnkId => _unkId;
    public bool AppendsEos { get; }

    public TokenizedText Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        using var normalized = _normalizer.Normalize(text);
        var tokens = _unigram is null ? EncodeBpe(normalized) : EncodeUnigram(_unigram, normalized);
        if (AppendsEos) tokens.Add(new Token(EosId!.Value, _pieces[EosId.Value], text.Length, 0));
        return new TokenizedText(text, [.. tokens]);
    }

    private List<Token> EncodeUnigram(UnigramSegmenter unigram, NormalizedText normalized)
    {
        var bytes = normalized.Bytes;
        var toOriginal = normalized.ToOriginal;
        var ids = ArrayPool<int>.Shared.Rent(bytes.Length);
        var starts = ArrayPool<int>.Shared.Rent(bytes.Length);
        try
        {
            var count = unigram.Segment(bytes, ids, starts);
            var tokens = new List<Token>(count + 1);
            for (var k = 0; k < count; k++)
            {
                var start = starts[k];
                var id = ids[k];
                // SentencePiece merges a run of unknown characters into one unknown token, whose piece is the
                // normalised text it covers, as SentencePiece prints it ("×", not "<unk>").
                if (id == _unkId)
                    while (k + 1 < count && ids[k + 1] == _unkId) k++;
                var end = k + 1 < count ? starts[k + 1] : bytes.Length;
                var piece = id == _unkId ? Encoding.UTF8.GetString(bytes[start..end]) : _pieces[id];
                tokens.Add(new Token(id, piece, toOriginal[start], toOriginal[end] - toOriginal[start]));
            }
            return tokens;
        }
        finally
        {
            ArrayPool<int>.Shared.Return(ids);
            ArrayPool<int>.Shared.Return(starts);
        }
    }

    private List<Token> EncodeBpe(NormalizedText normalizedText)
    {
        var (normalized, toOriginal) = normalizedText.ToUtf16();
        var encoded = _library.EncodeToTokens(normalized, out _, addBeginningOfSentence: false, addEndOfSentence: false,
            considerPreTokenization: false, considerNormalization: false);
        var tokens = new List<Token>(encoded.Count + 1);
        for (var i = 0; i < encoded.Count; i++)
        {
            var token = encoded[i];
            var normalizedStart = token.Offset.Start.GetOffset(normalized.Length);
            // Tokens tile the normalised text, so each ends where the next starts (the last at the end): a character
            // spelt in byte pieces goes to the last of them, which completes it (the library gives it to the first).
            var normalizedEnd = i + 1 < encoded.Count ? encoded[i + 1].Offset.Start.GetOffset(normalized.Length) : normalized.Length;
            var start = toOriginal[normalizedStart];
            var end = toOriginal[normalizedEnd];
            var surface = token.Id == _unkId ? normalized[normalizedStart..normalizedEnd] : null;
            // As in EncodeUnigram: a run of unknown characters is one unknown token, its piece the text it covers.
            if (surface is not null && tokens.Count > 0 && tokens[^1].Id == _unkId)
                tokens[^1] = tokens[^1] with { Piece = tokens[^1].Piece + surface, Length = end - tokens[^1].Start };
            else
                tokens.Add(new Token(token.Id, surface ?? _pieces[token.Id], start, end - start));
        }
        return tokens;
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
