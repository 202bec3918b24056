namespace Specialist.Tokenization;

/// <summary>Loads tokenizers by file, model folder or encoding name.</summary>
public static class Tokenizers
{
    /// <summary>The file a Hugging Face T5 model folder keeps its SentencePiece model in.</summary>
    public const string SentencePieceFileName = "spiece.model";

    /// <summary>The tiktoken encodings <see cref="Load"/> knows by name.</summary>
    public static IReadOnlyList<string> EncodingNames { get; } = [.. TiktokenEncodingTokenizer.OrdinaryTokenCounts.Keys];

    /// <summary>
    /// Loads a tokenizer: an encoding name (<c>gpt2</c>, <c>cl100k_base</c>, <c>o200k_base</c>) gives that tiktoken
    /// encoding; anything else is a path, either a SentencePiece model file (T5's <c>spiece.model</c>) or a model folder
    /// holding <c>spiece.model</c>. Names win over paths: write <c>./gpt2</c> for a folder called gpt2.
    /// Throws <see cref="SpecialistException"/> naming the path when there is nothing to load there.
    /// </summary>
    public static ITokenizer Load(string pathOrName)
    {
        ArgumentException.ThrowIfNullOrEmpty(pathOrName);
        if (TiktokenEncodingTokenizer.OrdinaryTokenCounts.ContainsKey(pathOrName)) return TiktokenEncodingTokenizer.Load(pathOrName);
        if (Directory.Exists(pathOrName)) return LoadFromModelFolder(pathOrName);
        if (File.Exists(pathOrName))
            return pathOrName.EndsWith(".json", StringComparison.OrdinalIgnoreCase) ? WordLevelTokenizer.Load(pathOrName) : SentencePieceUnigramTokenizer.Load(pathOrName);
        throw new SpecialistException(
            $"tokenizer not found: {Path.GetFullPath(pathOrName)} is neither a SentencePiece model file nor a model folder, " +
            $"and '{pathOrName}' is not an encoding name ({string.Join(", ", EncodingNames)})");
    }

    /// <summary>
    /// Loads the tokenizer of a model folder: its <c>spiece.model</c> (T5, as Hugging Face folders keep it), else a
    /// word-level <c>tokenizer.json</c> (the miniature world's students). SentencePiece comes first because Hugging
    /// Face folders ship a <c>tokenizer.json</c> of their own format too.
    /// </summary>
    public static ITokenizer LoadFromModelFolder(string folder) => Load(ModelTokenizerFile(folder));

    /// <summary>
    /// The tokenizer file of a model folder, as <see cref="LoadFromModelFolder"/> chooses it: <c>spiece.model</c>, else a
    /// word-level <c>tokenizer.json</c>. Its bytes identify the tokenizer (distillation sets record their SHA-256), and
    /// checkpoints copy it under the same name.
    /// </summary>
    public static string ModelTokenizerFile(string folder)
    {
        var model = Path.Combine(folder, SentencePieceFileName);
        if (File.Exists(model)) return model;
        var wordLevel = Path.Combine(folder, WordLevelTokenizer.FileName);
        if (File.Exists(wordLevel)) return wordLevel;
        throw new SpecialistException($"tokenizer not found: {Path.GetFullPath(model)} does not exist (a T5 model folder keeps its SentencePiece model there)");
    }
}
