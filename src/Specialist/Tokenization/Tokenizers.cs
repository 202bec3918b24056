namespace Specialist.Tokenization;

/// <summary>Loads tokenizers by file, model folder or encoding name.</summary>
public static class Tokenizers
{
    /// <summary>The file a Hugging Face T5 model folder keeps its SentencePiece model in.</summary>
    public const string SentencePieceFileName = "spiece.model";

    /// <summary>The file a Hugging Face Llama 2 model folder keeps its SentencePiece BPE model in.</summary>
    public const string SentencePieceBpeFileName = "tokenizer.model";

    /// <summary>
    /// The file a Hugging Face model folder keeps its <c>tokenizers</c> tokenizer in (byte-level BPE for Qwen2 and
    /// Llama 3), and a student trained from scratch its word-level one (<see cref="WordLevelTokenizer"/>); the content
    /// tells them apart.
    /// </summary>
    public const string TokenizerJsonFileName = "tokenizer.json";

    /// <summary>The tiktoken encodings <see cref="Load"/> knows by name.</summary>
    public static IReadOnlyList<string> EncodingNames { get; } = [.. TiktokenEncodingTokenizer.OrdinaryTokenCounts.Keys];

    /// <summary>
    /// Loads a tokenizer: an encoding name (<c>gpt2</c>, <c>cl100k_base</c>, <c>o200k_base</c>) gives that tiktoken
    /// encoding; anything else is a path: a model folder (see <see cref="ModelTokenizerFile"/>), a <c>tokenizer.json</c>
    /// (Hugging Face byte-level BPE, or word-level), or a SentencePiece model file (T5's unigram <c>spiece.model</c>, Llama
    /// 2's BPE <c>tokenizer.model</c>). Special tokens come from <c>tokenizer_config.json</c> and <c>config.json</c>
    /// beside the file, where the format leaves them open. Names win over paths: write <c>./gpt2</c> for a folder called
    /// gpt2. Throws <see cref="SpecialistException"/> naming the path when there is nothing to load there, and naming
    /// the file and the field for a tokenizer it does not reproduce exactly.
    /// </summary>
    public static ITokenizer Load(string pathOrName)
    {
        ArgumentException.ThrowIfNullOrEmpty(pathOrName);
        if (TiktokenEncodingTokenizer.OrdinaryTokenCounts.ContainsKey(pathOrName)) return TiktokenEncodingTokenizer.Load(pathOrName);
        if (Directory.Exists(pathOrName)) return LoadFromModelFolder(pathOrName);
        if (File.Exists(pathOrName))
            return pathOrName.EndsWith(".json", StringComparison.OrdinalIgnoreCase) ? LoadJson(pathOrName) : SentencePieceTokenizer.Load(pathOrName);
        throw new SpecialistException(
            $"tokenizer not found: {Path.GetFullPath(pathOrName)} is neither a tokenizer file nor a model folder, " +
            $"and '{pathOrName}' is not an encoding name ({string.Join(", ", EncodingNames)})");
    }

    /// <summary>Loads the tokenizer of a model folder, the file <see cref="ModelTokenizerFile"/> chooses.</summary>
    public static ITokenizer LoadFromModelFolder(string folder) => Load(ModelTokenizerFile(folder));

    /// <summary>
    /// The tokenizer file of a model folder: <c>spiece.model</c> (T5), else <c>tokenizer.model</c> (Llama 2's SentencePiece
    /// BPE), else <c>tokenizer.json</c> (Qwen2's and Llama 3's byte-level BPE, or a word-level tokenizer). SentencePiece
    /// comes first because Hugging Face folders that have it ship a <c>tokenizer.json</c> converted from it, in a form we
    /// do not read. Its bytes identify the tokenizer (distillation sets record their SHA-256), and checkpoints copy it
    /// under the same name.
    /// </summary>
    public static string ModelTokenizerFile(string folder)
    {
        foreach (var name in new[] { SentencePieceFileName, SentencePieceBpeFileName, TokenizerJsonFileName })
        {
            var path = Path.Combine(folder, name);
            if (File.Exists(path)) return path;
        }
        throw new SpecialistException(
            $"tokenizer not found: {Path.GetFullPath(folder)} holds none of {SentencePieceFileName} (T5), {SentencePieceBpeFileName} (Llama 2), " +
            $"{TokenizerJsonFileName} (Qwen2, Llama 3, word-level)");
    }

    /// <summary>
    /// How many of <paramref name="encoded"/>'s tokens stand for its text: all but the end of sequence
    /// <paramref name="tokenizer"/> appended, where it appends one (<see cref="ITokenizer.AppendsEos"/>).
    /// </summary>
    internal static int TextTokenCount(ITokenizer tokenizer, TokenizedText encoded)
    {
        var tokens = encoded.Tokens;
        return tokenizer.AppendsEos && tokens is [.., { Length: 0 } last] && last.Id == tokenizer.EosId ? tokens.Count - 1 : tokens.Count;
    }

    private static ITokenizer LoadJson(string path)
    {
        var file = JsonSection.ReadFile(Path.GetFullPath(path));
        return TokenizerJsonFile.IsHuggingFace(file) ? ByteLevelBpeTokenizer.Load(file) : WordLevelTokenizer.Load(file);
    }
}
