namespace Specialist.Tokenization;

/// <summary>
/// Turns text into token ids and back. Implementations are thread-safe: one loaded instance can encode from many
/// threads at once, and loading is the expensive part, so keep it.
/// </summary>
public interface ITokenizer
{
    /// <summary>What was loaded, for messages: a model path or an encoding name.</summary>
    string Name { get; }

    /// <summary>
    /// How many ids have a piece: 0 … <c>VocabularySize - 1</c>. For T5 this is 32,100 (32,000 SentencePiece pieces and
    /// 100 <c>&lt;extra_id_N&gt;</c>); the model's embedding may be larger (32,128), padded with ids no text maps to.
    /// </summary>
    int VocabularySize { get; }

    /// <summary>The padding id (T5: 0), or null when the vocabulary has none.</summary>
    int? PadId { get; }

    /// <summary>
    /// The beginning-of-sequence id that Hugging Face's <c>tokenizer(text)</c> puts before a text (Llama 2: <c>&lt;s&gt;</c>,
    /// Llama 3: <c>&lt;|begin_of_text|&gt;</c>), or null when it puts none (T5, Qwen2). <see cref="Encode"/> never adds it:
    /// a sequence starts with it once, however many texts it joins (<see cref="ChatPrompt.Encode"/> puts it there).
    /// </summary>
    int? BosId { get; }

    /// <summary>The end-of-sequence id (T5: 1 = <c>&lt;/s&gt;</c>; tiktoken: <c>&lt;|endoftext|&gt;</c>), or null when there is none.</summary>
    int? EosId { get; }

    /// <summary>The id of unknown text (T5: 2), or null when every text is representable (byte-level tokenizers).</summary>
    int? UnkId { get; }

    /// <summary>Whether <see cref="Encode"/> ends every text with <see cref="EosId"/> (true for T5, as Hugging Face does).</summary>
    bool AppendsEos { get; }

    /// <summary>
    /// Encodes <paramref name="text"/>. SentencePiece encodes it literally, as <c>spm_encode</c> does (the text
    /// <c>&lt;/s&gt;</c> is not the id of <c>&lt;/s&gt;</c>); tiktoken encodings turn the text of their special tokens
    /// (<c>&lt;|endoftext|&gt;</c>) into the special id.
    /// </summary>
    TokenizedText Encode(string text);

    /// <summary>The text of <paramref name="ids"/>, skipping special ids (padding, end of sequence, unknown, T5's extra ids).</summary>
    string Decode(IEnumerable<int> ids);

    /// <summary>The id of a vocabulary piece (T5: <c>"▁the"</c>, <c>"&lt;extra_id_0&gt;"</c>; tiktoken: the token's text, e.g. <c>" the"</c>).</summary>
    bool TryGetId(string piece, out int id);

    /// <summary>
    /// The vocabulary piece of <paramref name="id"/> (for the unknown id its placeholder, T5's <c>&lt;unk&gt;</c>); throws
    /// for an id outside the vocabulary.
    /// </summary>
    string GetPiece(int id);
}

/// <summary>
/// One token of an encoded text. <see cref="Start"/> and <see cref="Length"/> index the caller's original string
/// (UTF-16 code units): <c>text.Substring(Start, Length)</c> is the text the token stands for.
/// </summary>
/// <param name="Id">The token id.</param>
/// <param name="Piece">
/// The vocabulary piece of <paramref name="Id"/> (the string <see cref="ITokenizer.GetPiece"/> gives); for SentencePiece's
/// unknown id, the normalised text the token stands for (<c>×</c> rather than <c>&lt;unk&gt;</c>), as <c>spm_encode</c>
/// prints it and Hugging Face's <c>tokenize()</c> returns it.
/// </param>
/// <param name="Start">Where the token's text begins in the original string.</param>
/// <param name="Length">How long it is there; 0 for an appended <c>&lt;/s&gt;</c> (at the text's end) and for a token that
/// only covers part of one character's normalised or UTF-8 form (the token that completes the character covers it).</param>
public readonly record struct Token(int Id, string Piece, int Start, int Length)
{
    /// <summary>One past the token's last character in the original string.</summary>
    public int End => Start + Length;
}

/// <summary>A text and its tokens, in order; the tokens' spans never overlap and never go backwards.</summary>
public sealed class TokenizedText
{
    internal TokenizedText(string text, Token[] tokens)
    {
        Text = text;
        Tokens = tokens;
        Ids = Array.ConvertAll(tokens, t => t.Id);
    }

    /// <summary>The text that was encoded.</summary>
    public string Text { get; }

    /// <summary>The tokens, including an appended end-of-sequence token where the tokenizer adds one.</summary>
    public IReadOnlyList<Token> Tokens { get; }

    /// <summary>The tokens' ids.</summary>
    public IReadOnlyList<int> Ids { get; }
}
