using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Specialist.Tokenization;

/// <summary>
/// A Hugging Face <c>tokenizer.json</c> holding a byte-level BPE model (GPT-2, Qwen2, Llama 3), read and checked: the
/// vocabulary, the merges, the added tokens, the normaliser (none or NFC), the pre-tokenizer's split patterns, and the
/// special tokens the post-processor puts around a text. Whatever else the format can say is refused with an error
/// naming the file, the line and the field, rather than encoded differently from Hugging Face's tokenizers.
/// </summary>
internal sealed class TokenizerJsonFile
{
    /// <summary>GPT-2's split pattern, which a <c>ByteLevel</c> pre-tokenizer with <c>use_regex</c> applies.</summary>
    internal const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    /// <summary>A token matched in the raw text before anything else, never split (<c>&lt;|im_start|&gt;</c>).</summary>
    internal readonly record struct AddedToken(int Id, string Content, bool Special);

    public required string Path { get; init; }

    /// <summary>The model's tokens, each a string of <see cref="ByteLevelAlphabet"/> symbols, one per byte.</summary>
    public required Dictionary<string, int> Vocabulary { get; init; }

    /// <summary>The merges in rank order.</summary>
    public required List<(string Left, string Right)> Merges { get; init; }
    public required List<AddedToken> AddedTokens { get; init; }
    public required bool Nfc { get; init; }

    /// <summary>The pre-tokenizer's patterns in order, each splitting every piece the one before made (matches and the text between them).</summary>
    public required List<Regex> Splits { get; init; }

    /// <summary>Whether a piece that is itself a token is that token, without merging (Llama 3).</summary>
    public required bool IgnoreMerges { get; init; }

    /// <summary>The special tokens the post-processor puts before and after a text (Llama 3: <c>&lt;|begin_of_text|&gt;</c> before), or null.</summary>
    public required string? Prefix { get; init; }
    public required string? Suffix { get; init; }

    /// <summary>Whether a parsed <c>tokenizer.json</c> is Hugging Face's (a <c>model</c> object) rather than our word-level one (a <c>kind</c>).</summary>
    public static bool IsHuggingFace(JsonSection s) => s.Has("model") && !s.Has("kind");

    /// <summary>Reads a <c>tokenizer.json</c> already parsed as <paramref name="s"/>.</summary>
    public static TokenizerJsonFile Read(JsonSection s)
    {
        var model = s.Child("model", required: true);
        var type = model.String("type");
        if (type != "BPE")
            throw model.Error("type", $"is {Show(type)}: only byte-level BPE models (GPT-2, Qwen2, Llama 3) are read from tokenizer.json; " +
                                      "a SentencePiece model (Llama 2) is read from tokenizer.model, T5's from spiece.model");
        if (model.Has("dropout")) throw model.Error("dropout", "is set: BPE dropout samples tokenizations, a student needs one");
        foreach (var affix in new[] { "continuing_subword_prefix", "end_of_word_suffix" })
            if (model.String(affix) is { Length: > 0 }) throw model.Error(affix, "is set, which byte-level BPE never uses");

        var vocabulary = ReadVocabulary(model);
        var added = ReadAddedTokens(s, vocabulary);
        var decoder = s.Child("decoder", required: false);
        if (decoder.String("type") != "ByteLevel")
            throw s.Error("decoder", $"has type {Show(decoder.String("type"))}, expected \"ByteLevel\" (the byte-level decoder of this BPE)");
        var (prefix, suffix) = ReadPostProcessor(s.Child("post_processor", required: false), vocabulary, added);
        return new TokenizerJsonFile
        {
            Path = s.File,
            Vocabulary = vocabulary,
            Merges = ReadMerges(model, vocabulary),
            AddedTokens = added,
            Nfc = ReadNormalizer(s),
            Splits = ReadPreTokenizer(s),
            IgnoreMerges = model.Bool("ignore_merges") ?? false,
            Prefix = prefix,
            Suffix = suffix,
        };
    }

    private static Dictionary<string, int> ReadVocabulary(JsonSection model)
    {
        var node = model.Child("vocab", required: true).Node;
        var vocabulary = new Dictionary<string, int>(node.Count, StringComparer.Ordinal);
        var seen = new Dictionary<int, string>(node.Count);
        foreach (var (token, value) in node)
        {
            if (value is not JsonValue v || !v.TryGetValue<int>(out var id) || id < 0)
                throw model.Error("vocab", $"token {Show(token)} has id {value?.ToJsonString() ?? "null"}, expected an integer of at least 0");
            if (seen.TryGetValue(id, out var other)) throw model.Error("vocab", $"tokens {Show(other)} and {Show(token)} share id {id}");
            var bad = token.FirstOrDefault(c => !ByteLevelAlphabet.IsSymbol(c));
            if (token.Length == 0 || bad != default)
                throw model.Error("vocab", $"token {Show(token)} (id {id}) {(token.Length == 0 ? "is empty" : $"holds '{bad}', which is not a byte-level symbol")}: this is not a byte-level vocabulary");
            seen.Add(id, token);
            vocabulary.Add(token, id);
        }
        for (var b = 0; b < 256; b++)
        {
            var symbol = ByteLevelAlphabet.SymbolOf((byte)b).ToString();
            if (!vocabulary.ContainsKey(symbol))
                throw model.Error("vocab", string.Create(CultureInfo.InvariantCulture, $"lacks the symbol {Show(symbol)} of byte 0x{b:X2}: a byte-level vocabulary holds all 256, so that every text has tokens"));
        }
        return vocabulary;
    }

    /// <summary>Merges as <c>"a b"</c> strings (older files) or <c>["a", "b"]</c> pairs (newer ones), each of two tokens whose join is one.</summary>
    private static List<(string, string)> ReadMerges(JsonSection model, Dictionary<string, int> vocabulary)
    {
        if (model.Node["merges"] is not JsonArray list) throw model.Error("merges", "is missing or not a list");
        var merges = new List<(string, string)>(list.Count);
        var ranks = new Dictionary<(string, string), int>(list.Count);
        for (var i = 0; i < list.Count; i++)
        {
            var at = $"merge {i}";
            (string, string) pair = list[i] switch
            {
                JsonValue v when v.GetValueKind() == JsonValueKind.String && v.GetValue<string>().Split(' ') is [var a, var b] => (a, b),
                JsonArray { Count: 2 } a when a[0] is JsonValue left && left.GetValueKind() == JsonValueKind.String
                                              && a[1] is JsonValue right && right.GetValueKind() == JsonValueKind.String
                    => (left.GetValue<string>(), right.GetValue<string>()),
                var other => throw model.Error("merges", $"{at} is {other?.ToJsonString() ?? "null"}, expected \"a b\" or [\"a\", \"b\"]"),
            };
            foreach (var token in new[] { pair.Item1, pair.Item2, pair.Item1 + pair.Item2 })
                if (!vocabulary.ContainsKey(token)) throw model.Error("merges", $"{at} ({Show(pair.Item1)}, {Show(pair.Item2)}) needs {Show(token)}, which is not in model.vocab");
            if (!ranks.TryAdd(pair, i)) throw model.Error("merges", $"{at} repeats merge {ranks[pair]}");
            merges.Add(pair);
        }
        return merges;
    }

    private static List<AddedToken> ReadAddedTokens(JsonSection s, Dictionary<string, int> vocabulary)
    {
        var tokens = new List<AddedToken>();
        var ids = new HashSet<int>();
        var modelIds = new HashSet<int>(vocabulary.Values);
        foreach (var item in s.Items("added_tokens"))
        {
            var id = item.Int("id") ?? throw item.Error("id", "is missing");
            var content = item.String("content");
            if (content is not { Length: > 0 }) throw item.Error("content", "is missing or empty");
            // These change where a token matches; Qwen2 and Llama 3 set none of them.
            foreach (var flag in new[] { "single_word", "lstrip", "rstrip" })
                if (item.Bool(flag) == true) throw item.Error(flag, "is true, which is not supported");
            if (vocabulary.TryGetValue(content, out var modelId) && modelId != id)
                throw item.Error("id", $"is {id}, but model.vocab gives {Show(content)} id {modelId}");
            if (!ids.Add(id) || (!vocabulary.ContainsKey(content) && modelIds.Contains(id)))
                throw item.Error("id", $"is {id}, which another token already has");
            tokens.Add(new AddedToken(id, content, item.Bool("special") ?? false));
        }
        return tokens;
    }

    private static bool ReadNormalizer(JsonSection s)
    {
        if (!s.Has("normalizer")) return false;
        var normalizer = s.Child("normalizer", required: true);
        return normalizer.String("type") == "NFC"
            ? true
            : throw normalizer.Error("type", $"is {Show(normalizer.String("type"))}: the only normaliser supported is NFC (Qwen2's), or none (Llama 3's)");
    }

    /// <summary>A <c>ByteLevel</c> pre-tokenizer, alone or last in a <c>Sequence</c> after <c>Split</c>s (Qwen2, Llama 3).</summary>
    private static List<Regex> ReadPreTokenizer(JsonSection s)
    {
        var top = s.Child("pre_tokenizer", required: true);
        var steps = top.String("type") == "Sequence" ? top.Items("pretokenizers") : [top];
        var splits = new List<Regex>();
        for (var i = 0; i < steps.Count; i++)
        {
            var step = steps[i];
            var type = step.String("type");
            if (type == "ByteLevel")
            {
                if (i != steps.Count - 1) throw step.Error("type", "is ByteLevel before other steps; it must come last");
                if (step.Bool("add_prefix_space") == true) throw step.Error("add_prefix_space", "is true, which is not supported");
                if (step.Bool("use_regex") ?? true) splits.Add(Compile(step, "use_regex", Gpt2Pattern));
                return splits;
            }
            if (type != "Split")
                throw step.Error("type", $"is {Show(type)}: a byte-level pre-tokenizer is ByteLevel, or a Sequence of Splits ending with ByteLevel");
            if (step.String("behavior") != "Isolated") throw step.Error("behavior", $"is {Show(step.String("behavior"))}; only \"Isolated\" is supported");
            if (step.Bool("invert") == true) throw step.Error("invert", "is true, which is not supported");
            var pattern = step.Child("pattern", required: true);
            splits.Add(pattern.String("Regex") is { } regex ? Compile(pattern, "Regex", regex)
                : pattern.String("String") is { } literal ? Compile(pattern, "String", Regex.Escape(literal))
                : throw step.Error("pattern", "has neither \"Regex\" nor \"String\""));
        }
        throw top.Error("type", "has no ByteLevel step, so it is not a byte-level tokenizer");
    }

    private static Regex Compile(JsonSection s, string key, string pattern)
    {
        try
        {
            return new Regex(pattern, RegexOptions.CultureInvariant | RegexOptions.Compiled);
        }
        catch (ArgumentException e)
        {
            throw s.Error(key, $"is a pattern .NET cannot compile: {e.Message}");
        }
    }

    /// <summary>
    /// The special tokens a <c>TemplateProcessing</c> post-processor (alone, or in a <c>Sequence</c> with <c>ByteLevel</c>)
    /// puts around a single text: at most one before, one after. <c>ByteLevel</c> only trims offsets, which we never do.
    /// </summary>
    private static (string? Prefix, string? Suffix) ReadPostProcessor(JsonSection top, Dictionary<string, int> vocabulary, List<AddedToken> added)
    {
        var steps = top.String("type") == "Sequence" ? top.Items("processors") : top.Has("type") ? [top] : [];
        string? prefix = null, suffix = null;
        foreach (var step in steps)
        {
            var type = step.String("type");
            if (type == "ByteLevel") continue;
            if (type != "TemplateProcessing")
                throw step.Error("type", $"is {Show(type)}: the post-processors supported are TemplateProcessing and ByteLevel");
            if (step.Node["single"] is not JsonArray single) throw step.Error("single", "is missing or not a list");
            var before = new List<string>();
            var after = new List<string>();
            var seenText = false;
            foreach (var piece in single)
            {
                if (piece is JsonObject o && o["Sequence"] is JsonObject) seenText = true;
                else if (piece is JsonObject p && p["SpecialToken"] is JsonObject special && special["id"] is JsonValue id && id.GetValueKind() == JsonValueKind.String)
                    (seenText ? after : before).Add(id.GetValue<string>());
                else throw step.Error("single", $"holds {piece?.ToJsonString() ?? "null"}, expected {{\"SpecialToken\": {{\"id\": ...}}}} or {{\"Sequence\": ...}}");
            }
            if (!seenText || before.Count > 1 || after.Count > 1)
                throw step.Error("single", "must be the text with at most one special token before it and one after it");
            foreach (var token in before.Concat(after))
                if (!vocabulary.ContainsKey(token) && added.All(t => t.Content != token))
                    throw step.Error("single", $"puts {Show(token)}, which is neither an added token nor in model.vocab");
            prefix = before.SingleOrDefault();
            suffix = after.SingleOrDefault();
        }
        return (prefix, suffix);
    }

    private static readonly JsonSerializerOptions Readable = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>A value for a message: quoted, with its characters as they are (<c>"Ġt"</c>, not <c>"Ġt"</c>).</summary>
    private static string Show(string? value) => value is null ? "missing" : JsonSerializer.Serialize(value, Readable);
}
