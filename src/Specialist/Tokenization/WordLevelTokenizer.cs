using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Specialist.Tokenization;

/// <summary>
/// A small word-level tokenizer built from a corpus, for students (and miniature teachers) trained from scratch. Text
/// splits into runs of letters, single digits (so every number is spelt digit by digit) and single other characters; a
/// unit after one space carries the space as a leading <c>▁</c> (<c>"▁apples"</c>), as SentencePiece marks it. Leading
/// and trailing whitespace is dropped, as SentencePiece's normalisation drops it, so <c>Decode(Encode(text))</c> gives
/// back the text without it. Other whitespace is a token of its own: a newline is
/// <c>"\n"</c>, a space before whitespace is a bare <c>"▁"</c>. A word outside the vocabulary is spelt character by
/// character, and every printable ASCII character (with and without <c>▁</c>) is in the vocabulary, so only characters
/// the corpus never showed become <c>&lt;unk&gt;</c>. Ids as T5's: <c>&lt;pad&gt;</c> 0, <c>&lt;/s&gt;</c> 1 (appended
/// to every text), <c>&lt;unk&gt;</c> 2. Saved as <c>tokenizer.json</c>: <c>{"kind": "word-level", "pieces": [...]}</c>,
/// the piece of id i at index i. Immutable, so thread-safe.
/// </summary>
public sealed class WordLevelTokenizer : ITokenizer
{
    /// <summary>The file a model folder keeps this tokenizer in.</summary>
    public const string FileName = "tokenizer.json";

    /// <summary>The value of the file's <c>"kind"</c> field.</summary>
    public const string Kind = "word-level";

    private const char Space = '\u2581';
    private const string SpacePiece = "\u2581";
    private static readonly string[] Specials = ["<pad>", "</s>", "<unk>"];
    private const int Pad = 0, Eos = 1, Unk = 2;

    private static readonly JsonSerializerOptions FileJson = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly string[] _pieces;
    private readonly Dictionary<string, int> _ids;

    private WordLevelTokenizer(string name, string[] pieces)
    {
        Name = name;
        _pieces = pieces;
        _ids = new Dictionary<string, int>(pieces.Length, StringComparer.Ordinal);
        for (var id = 0; id < pieces.Length; id++) _ids.Add(pieces[id], id);
    }

    /// <summary>
    /// Builds the vocabulary of <paramref name="corpus"/>: the three special pieces, the whitespace pieces, every
    /// printable ASCII character and every other character of the corpus (each bare and with <c>▁</c>), then the most
    /// frequent words (ties in ordinal order) until <paramref name="maxVocabulary"/> pieces. Throws
    /// <see cref="SpecialistException"/> when <paramref name="maxVocabulary"/> cannot hold the characters.
    /// </summary>
    public static WordLevelTokenizer Build(IEnumerable<string> corpus, int maxVocabulary)
    {
        var characters = new SortedSet<string>(StringComparer.Ordinal);
        for (var c = '!'; c <= '~'; c++) characters.Add(c.ToString());
        var words = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var text in corpus)
            foreach (var unit in Split(text))
            {
                if (unit.IsWhitespace) continue;
                var body = text.Substring(unit.BodyStart, unit.End - unit.BodyStart);
                if (body.Length > 1 && char.IsLetter(body[0]))
                {
                    var word = unit.Piece(text);
                    words[word] = words.GetValueOrDefault(word) + 1;
                }
                // A word's letters are units too: a word left out of the vocabulary is spelt with them.
                for (var i = 0; i < body.Length; i += Rune.GetRuneAt(body, i).Utf16SequenceLength)
                {
                    var character = Rune.GetRuneAt(body, i).ToString();
                    if (character != SpacePiece) characters.Add(character);
                }
            }

        var pieces = new List<string>(Specials) { SpacePiece, "\n", "\t", "\r" };
        foreach (var c in characters) pieces.AddRange([c, Space + c]);
        if (maxVocabulary < pieces.Count)
            throw new SpecialistException($"a word-level vocabulary of {maxVocabulary} pieces cannot hold this corpus's {pieces.Count} special, whitespace and character pieces");
        pieces.AddRange(words
            .OrderByDescending(w => w.Value).ThenBy(w => w.Key, StringComparer.Ordinal)
            .Take(maxVocabulary - pieces.Count).Select(w => w.Key));
        return new WordLevelTokenizer($"word-level ({pieces.Count} pieces)", [.. pieces]);
    }

    /// <summary>Loads a <c>tokenizer.json</c> that <see cref="Save"/> wrote; errors name the file and the field.</summary>
    public static WordLevelTokenizer Load(string path) => Load(JsonSection.ReadFile(Path.GetFullPath(path)));

    /// <summary>Loads a <c>tokenizer.json</c> already parsed as <paramref name="s"/>.</summary>
    internal static WordLevelTokenizer Load(JsonSection s)
    {
        if (s.String("kind") != Kind) throw s.Error("kind", $"must be \"{Kind}\" (this file is not a word-level tokenizer)");
        var list = s.Strings("pieces") ?? throw s.Error("pieces", "is missing: the pieces, the piece of id i at index i");
        var pieces = new List<string>(list.Count);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var piece in list)
        {
            var at = $"piece {pieces.Count}";
            if (piece.Length == 0) throw s.Error("pieces", $"{at} is empty");
            if (pieces.Count < Specials.Length && piece != Specials[pieces.Count])
                throw s.Error("pieces", $"{at} is \"{piece}\", expected \"{Specials[pieces.Count]}\"");
            if (!seen.Add(piece)) throw s.Error("pieces", $"{at} \"{piece}\" appears twice");
            pieces.Add(piece);
        }
        if (pieces.Count < Specials.Length)
            throw s.Error("pieces", $"has {pieces.Count} pieces; the first three must be {string.Join(", ", Specials)}");
        if (!seen.Contains(SpacePiece))
            throw s.Error("pieces", $"lacks the space piece \"{SpacePiece}\"");
        return new WordLevelTokenizer(s.File, [.. pieces]);
    }

    /// <summary>Writes <c>{"kind": "word-level", "pieces": [...]}</c> to <paramref name="path"/> (atomically).</summary>
    public void Save(string path) =>
        AtomicFile.WriteText(path, JsonSerializer.Serialize(new { kind = Kind, pieces = _pieces }, FileJson) + "\n");

    public string Name { get; }
    public int VocabularySize => _pieces.Length;
    public int? PadId => Pad;
    public int? BosId => null;
    public int? EosId => Eos;
    public int? UnkId => Unk;
    public bool AppendsEos => true;

    public TokenizedText Encode(string text)
    {
        var tokens = new List<Token>(text.Length / 3 + 2);
        foreach (var unit in Split(text)) AddUnit(text, unit, tokens);
        tokens.Add(new Token(Eos, Specials[Eos], text.Length, 0));
        return new TokenizedText(text, [.. tokens]);
    }

    // The unit's piece; else, after one space, a bare "▁" and the body's piece; else the body spelt out. A "▁" in the
    // text itself is <unk>: as a piece it would decode to a space.
    private void AddUnit(string text, Unit unit, List<Token> tokens)
    {
        var markInText = !unit.IsWhitespace && text[unit.BodyStart] == Space;
        var piece = unit.Piece(text);
        if (!markInText && _ids.TryGetValue(piece, out var id))
        {
            tokens.Add(new Token(id, piece, unit.Start, unit.End - unit.Start));
            return;
        }
        var spaced = unit.BodyStart > unit.Start;
        if (spaced && !markInText && _ids.TryGetValue(piece[1..], out var bodyId))
        {
            tokens.Add(new Token(_ids[SpacePiece], SpacePiece, unit.Start, 1));
            tokens.Add(new Token(bodyId, piece[1..], unit.BodyStart, unit.End - unit.BodyStart));
            return;
        }
        for (var i = unit.BodyStart; i < unit.End;)
        {
            var length = Rune.GetRuneAt(text, i).Utf16SequenceLength;
            var character = text.Substring(i, length);
            var known = character[0] != Space;
            if (i == unit.BodyStart && spaced && known && _ids.TryGetValue(Space + character, out var spacedId))
                tokens.Add(new Token(spacedId, Space + character, unit.Start, i + length - unit.Start));
            else
            {
                if (i == unit.BodyStart && spaced) tokens.Add(new Token(_ids[SpacePiece], SpacePiece, unit.Start, 1));
                tokens.Add(known && _ids.TryGetValue(character, out var characterId)
                    ? new Token(characterId, character, i, length)
                    : new Token(Unk, Specials[Unk], i, length));
            }
            i += length;
        }
    }

    public string Decode(IEnumerable<int> ids)
    {
        var text = new StringBuilder();
        foreach (var id in ids)
        {
            if (id is Pad or Eos or Unk) continue;
            var piece = GetPiece(id);
            if (piece[0] == Space) text.Append(' ').Append(piece, 1, piece.Length - 1);
            else text.Append(piece);
        }
        return text.ToString();
    }

    public bool TryGetId(string piece, out int id) => _ids.TryGetValue(piece, out id);

    public string GetPiece(int id) =>
        (uint)id < (uint)_pieces.Length ? _pieces[id] : throw new ArgumentOutOfRangeException(nameof(id), id, $"not an id of this {_pieces.Length}-piece vocabulary");

    /// <summary>
    /// One unit of text, <c>[Start, End)</c>: whitespace (one character), or a body (a letter run, one digit, or one
    /// other character) from <see cref="BodyStart"/>, preceded by the one space it carries when <see cref="Start"/> &lt; <see cref="BodyStart"/>.
    /// </summary>
    private readonly record struct Unit(int Start, int BodyStart, int End, bool IsWhitespace)
    {
        public string Piece(string text) => IsWhitespace
            ? text[Start] == ' ' ? SpacePiece : text.Substring(Start, 1)
            : (BodyStart > Start ? SpacePiece : "") + text.Substring(BodyStart, End - BodyStart);
    }

    // The units of the text without its leading and trailing whitespace.
    private static IEnumerable<Unit> Split(string text)
    {
        var end = text.Length;
        while (end > 0 && char.IsWhiteSpace(text[end - 1])) end--;
        var i = 0;
        while (i < end && char.IsWhiteSpace(text[i])) i++;
        while (i < end)
        {
            var start = i;
            if (char.IsWhiteSpace(text[i]))
            {
                // One space before a non-space belongs to what follows; any other whitespace stands alone.
                if (text[i] != ' ' || char.IsWhiteSpace(text[i + 1])) // text[i + 1] exists: the text ends with a non-space
                {
                    yield return new Unit(i, i, i + 1, IsWhitespace: true);
                    i++;
                    continue;
                }
                i++;
            }
            var bodyStart = i;
            if (char.IsLetter(text[i]))
                while (i < end && char.IsLetter(text[i])) i++;
            else i += char.IsSurrogatePair(text, i) ? 2 : 1;
            yield return new Unit(start, bodyStart, i, IsWhitespace: false);
        }
    }
}
