using System.Buffers;
using System.Collections.Concurrent;
using System.Text;

namespace Specialist.Tokenization;

/// <summary>
/// SentencePiece's unigram search (unigram_model.cc, EncodeOptimized, as Microsoft.ML.Tokenizers 2.0.1 ports it):
/// the path of pieces with the highest total score through the lattice of every vocabulary piece found in the
/// normalised UTF-8 text, with an unknown piece for a character that starts no one-character piece. Scores add up
/// in single precision along the whole text and ties keep the first candidate, in SentencePiece's order, so ids
/// equal <c>spm_encode</c>'s.
/// <para>
/// Finding the pieces is the costly part, and it can be done word by word: when no piece holds the space symbol
/// after its first character (T5's pieces, trained with split_by_whitespace), no lattice edge crosses the start of
/// a word, so the edges of each space-led word are found once and kept in a bounded cache. Only the edges are
/// kept, not the word's best path: the path's choices depend, through float rounding, on the score accumulated
/// before the word, so the search itself runs over the whole text every time. Thread-safe.
/// </para>
/// </summary>
internal sealed class UnigramSegmenter
{
    /// <summary>Words up to this many UTF-8 bytes have their edges cached; longer ones are rare and would crowd the cache.</summary>
    internal const int MaxCachedWordBytes = 64;

    /// <summary>Cached words by default: GSM8K's train split has ~50,000 distinct words; each costs ~300 bytes.</summary>
    internal const int DefaultCacheCapacity = 1 << 16;

    /// <summary>SentencePiece's penalty on an unknown piece's score (unigram_model.h, kUnkPenalty).</summary>
    private const float UnknownPenalty = 10.0f;

    private readonly Dictionary<byte[], int>.AlternateLookup<ReadOnlySpan<byte>> _pieceIds;
    private readonly float[] _scores;
    private readonly int _unkId;
    private readonly int _maxPieceBytes;
    private readonly byte[] _space;
    private readonly bool _wordsAreIndependent;
    private readonly int _cacheCapacity;
    private readonly ConcurrentDictionary<byte[], Edge[]> _cache = new(Utf8Comparer.Instance);
    private readonly ConcurrentDictionary<byte[], Edge[]>.AlternateLookup<ReadOnlySpan<byte>> _cachedEdges;
    private int _cachedCount;

    /// <summary>A lattice edge within a word: the piece <see cref="Id"/> spans bytes <see cref="Start"/> to <see cref="End"/>; its score is kept beside it for the search.</summary>
    private readonly record struct Edge(int Id, float Score, int Start, int End);

    /// <param name="model">A unigram model.</param>
    /// <param name="cacheCapacity">How many words' edges to keep (0: none); when full, the cache starts afresh.</param>
    public UnigramSegmenter(SentencePieceModelFile model, int cacheCapacity = DefaultCacheCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(cacheCapacity);
        _unkId = model.UnkId;
        _space = Encoding.UTF8.GetBytes(model.EscapeWhitespaces ? "\u2581" : " ");
        _scores = new float[model.Pieces.Length];
        var ids = new Dictionary<byte[], int>(model.Pieces.Length, Utf8Comparer.Instance);
        var minScore = float.MaxValue;
        _wordsAreIndependent = true;
        for (var id = 0; id < model.Pieces.Length; id++)
        {
            var type = model.Types[id];
            // The library puts normal and unused pieces in its trie (and skips unused ones when searching); the model
            // file refuses user-defined and byte pieces in a unigram model. Its unknown score is the lowest of those pieces'.
            if (type is not (SentencePieceModelFile.PieceType.Normal or SentencePieceModelFile.PieceType.Unused)) continue;
            minScore = Math.Min(minScore, model.Scores[id]);
            if (type != SentencePieceModelFile.PieceType.Normal) continue;
            var piece = Encoding.UTF8.GetBytes(model.Pieces[id]);
            ids.TryAdd(piece, id);
            _scores[id] = model.Scores[id];
            _maxPieceBytes = Math.Max(_maxPieceBytes, piece.Length);
            if (piece.AsSpan(1).IndexOf(_space) >= 0) _wordsAreIndependent = false;
        }
        _scores[_unkId] = minScore - UnknownPenalty;
        _pieceIds = ids.GetAlternateLookup<ReadOnlySpan<byte>>();
        _cacheCapacity = _wordsAreIndependent ? cacheCapacity : 0;
        _cachedEdges = _cache.GetAlternateLookup<ReadOnlySpan<byte>>();
    }

    /// <summary>
    /// The best path through <paramref name="text"/>: writes each token's piece id and start byte to
    /// <paramref name="ids"/> and <paramref name="starts"/> (each at least <paramref name="text"/>'s length long) and
    /// returns how many tokens there are; a token ends where the next starts, the last at the text's end.
    /// </summary>
    public int Segment(ReadOnlySpan<byte> text, Span<int> ids, Span<int> starts)
    {
        if (text.IsEmpty) return 0;
        // For each byte offset: the best score of a path ending there, where that path's last piece starts, and its id.
        var best = ArrayPool<float>.Shared.Rent(text.Length + 1);
        var from = ArrayPool<int>.Shared.Rent(text.Length + 1);
        var pieceAt = ArrayPool<int>.Shared.Rent(text.Length + 1);
        try
        {
            best[0] = 0;
            for (var wordStart = 0; wordStart < text.Length;)
            {
                var next = _wordsAreIndependent ? text[(wordStart + 1)..].IndexOf(_space) : -1;
                var wordEnd = next < 0 ? text.Length : wordStart + 1 + next;
                var word = text[wordStart..wordEnd];
                from.AsSpan(wordStart + 1, word.Length).Fill(-1);
                foreach (var edge in EdgesOf(word))
                {
                    var end = wordStart + edge.End;
                    var start = wordStart + edge.Start;
                    var score = edge.Score + best[start];
                    if (from[end] == -1 || score > best[end])
                    {
                        best[end] = score;
                        from[end] = start;
                        pieceAt[end] = edge.Id;
                    }
                }
                wordStart = wordEnd;
            }
            var count = 0;
            for (var end = text.Length; end > 0; end = from[end]) count++;
            var k = count;
            for (var end = text.Length; end > 0; end = from[end])
            {
                k--;
                ids[k] = pieceAt[end];
                starts[k] = from[end];
            }
            return count;
        }
        finally
        {
            ArrayPool<float>.Shared.Return(best);
            ArrayPool<int>.Shared.Return(from);
            ArrayPool<int>.Shared.Return(pieceAt);
        }
    }

    private Edge[] EdgesOf(ReadOnlySpan<byte> word)
    {
        if (_cacheCapacity == 0 || word.Length > MaxCachedWordBytes) return FindEdges(word);
        if (_cachedEdges.TryGetValue(word, out var edges)) return edges;
        edges = FindEdges(word);
        // Starting afresh when full keeps the cache bounded and lets it follow the text's vocabulary as it changes.
        if (Interlocked.Increment(ref _cachedCount) > _cacheCapacity)
        {
            _cache.Clear();
            Interlocked.Exchange(ref _cachedCount, 0);
        }
        _cachedEdges.TryAdd(word, edges);
        return edges;
    }

    /// <summary>The word's edges in the order the search visits them: by start, then by length, an unknown piece last.</summary>
    private Edge[] FindEdges(ReadOnlySpan<byte> word)
    {
        var edges = new List<Edge>(word.Length * 2);
        for (var start = 0; start < word.Length;)
        {
            var charLength = AligningNormalizer.Utf8CharLength(word[start]);
            var single = false;
            for (var end = start + 1; end <= Math.Min(word.Length, start + _maxPieceBytes); end++)
            {
                if (!_pieceIds.TryGetValue(word[start..end], out var id)) continue;
                edges.Add(new Edge(id, _scores[id], start, end));
                single |= end - start == charLength;
            }
            if (!single) edges.Add(new Edge(_unkId, _scores[_unkId], start, start + charLength));
            start += charLength;
        }
        return [.. edges];
    }

    /// <summary>Byte strings compared by content, looked up by span without copying.</summary>
    private sealed class Utf8Comparer : IEqualityComparer<byte[]>, IAlternateEqualityComparer<ReadOnlySpan<byte>, byte[]>
    {
        public static readonly Utf8Comparer Instance = new();

        public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);
        public int GetHashCode(byte[] value) => GetHashCode((ReadOnlySpan<byte>)value);
        public bool Equals(ReadOnlySpan<byte> alternate, byte[] other) => alternate.SequenceEqual(other);
        public byte[] Create(ReadOnlySpan<byte> alternate) => alternate.ToArray();

        public int GetHashCode(ReadOnlySpan<byte> alternate)
        {
            var hash = new HashCode();
            hash.AddBytes(alternate);
            return hash.ToHashCode();
        }
    }
}
