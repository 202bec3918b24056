using Specialist.Tokenization;

namespace Specialist.Models;

/// <summary>
/// How a student writes a prompt and a target as ids: the one rule that distillation sets, training, evaluation, serving,
/// <c>generate</c> and the benchmarks share, so a student is evaluated and served with the prompt it was trained on.
/// A T5 student reads its tokenizer's ids as they are (prompt and target end with T5's appended <c>&lt;/s&gt;</c>). A
/// decoder-only student reads its folder's <see cref="ChatPrompt"/>: the prompt is <see cref="ChatPrompt.Encode"/>
/// (the beginning of sequence once, the chat template when the folder has one, never an end of sequence), the target
/// the text's ids followed by <see cref="ChatPrompt.EndOfAnswerIds"/> (<c>&lt;|im_end|&gt;</c>, <c>&lt;|eot_id|&gt;</c>
/// or the end of sequence), where generation stops too. Immutable, so thread-safe.
/// </summary>
public sealed class StudentEncoding
{
    private readonly ChatPrompt? _chat;

    private StudentEncoding(ITokenizer tokenizer, ChatPrompt? chat, IReadOnlyList<int> endOfTargetIds)
    {
        Tokenizer = tokenizer;
        _chat = chat;
        EndOfTargetIds = endOfTargetIds;
    }

    /// <summary>The encoding of the student folder <paramref name="folder"/> (its config.json says the family), whose tokenizer is <paramref name="tokenizer"/>.</summary>
    public static StudentEncoding Read(string folder, ITokenizer tokenizer) => For(StudentModel.ReadConfig(folder), folder, tokenizer);

    /// <summary>
    /// The encoding of a student of <paramref name="config"/> whose folder is <paramref name="folder"/> (read for a
    /// decoder-only student's chat template and special tokens) and whose tokenizer is <paramref name="tokenizer"/>.
    /// Throws <see cref="SpecialistException"/> naming the file and the field for a chat template
    /// <see cref="ChatPrompt.FromModelFolder"/> refuses, and for a decoder-only student with neither a template nor an
    /// end-of-sequence token, which leaves nothing to end its targets with.
    /// </summary>
    public static StudentEncoding For(IModelConfig config, string folder, ITokenizer tokenizer)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(tokenizer);
        if (config is not LlamaConfig) return T5(tokenizer);
        var files = TokenizerConfigFile.Read(folder);
        if (files.ChatTemplate is null && tokenizer.EosId is null)
            throw new SpecialistException($"{files.Path}: field 'eos_token' names no end-of-sequence token (nor does {Path.Combine(folder, TokenizerConfigFile.ModelConfigFileName)}'s 'eos_token_id'), " +
                "and there is no 'chat_template' with an end-of-turn token: a decoder-only student needs one of them to end its targets");
        var chat = ChatPrompt.FromModelFolder(folder, tokenizer);
        return new StudentEncoding(tokenizer, chat, chat.EndOfAnswerIds);
    }

    /// <summary>A T5 student's encoding: its tokenizer's ids as they are.</summary>
    internal static StudentEncoding T5(ITokenizer tokenizer) => new(tokenizer, null, tokenizer.EosId is { } eos ? [eos] : []);

    /// <summary>The student's tokenizer.</summary>
    public ITokenizer Tokenizer { get; }

    /// <summary>
    /// The rule's name, which a distillation set's manifest records (<c>student_prompt</c>): <c>t5</c>, or the
    /// decoder-only prompt's <see cref="ChatFormat"/> (<c>plain</c>, <c>chatml</c>, <c>llama3</c>).
    /// </summary>
    public string Name => _chat is null ? T5Name : _chat.Format.ToString().ToLowerInvariant();

    /// <summary><see cref="Name"/> of a T5 student.</summary>
    public const string T5Name = "t5";

    /// <summary>The ids every target ends with: T5's end of sequence (none when its tokenizer has none); a decoder-only student's end of answer.</summary>
    public IReadOnlyList<int> EndOfTargetIds { get; }

    /// <summary>The prompt's ids as the student reads them.</summary>
    public IReadOnlyList<int> Prompt(string text) => _chat?.Encode(text) ?? Tokenizer.Encode(text).Ids;

    /// <summary>
    /// How many ids every prompt begins with, whatever its text (a decoder-only student's BOS and its template's part
    /// before the message; none for T5): a prompt cut to a length keeps them, and its last ids.
    /// </summary>
    public int PromptHeadLength => _chat?.HeadLength ?? 0;

    /// <summary>The target's ids as the student is trained on them, ending with <see cref="EndOfTargetIds"/>.</summary>
    public int[] Target(string text)
    {
        var encoded = Tokenizer.Encode(text);
        if (_chat is null) return [.. encoded.Ids];
        return [.. encoded.Ids.Take(Tokenizers.TextTokenCount(Tokenizer, encoded)), .. EndOfTargetIds];
    }

    /// <summary>
    /// The ids generation stops at besides config.json's end of sequence: a decoder-only student's end of answer
    /// (none for T5, which stops at config.json's alone, as before).
    /// </summary>
    public IReadOnlyList<int> StopIds => _chat is null ? [] : EndOfTargetIds;

    /// <summary><paramref name="options"/> with generation also stopping at <see cref="StopIds"/>.</summary>
    public GenerationOptions Stopping(GenerationOptions options) =>
        StopIds.Count == 0 ? options : options with { EndIds = [.. options.EndIds.Union(StopIds)] };

    /// <summary>Generates a continuation of each prompt text with <paramref name="model"/>, this student's model, in prompt order.</summary>
    public IReadOnlyList<GeneratedSequence> Generate(StudentModel model, IReadOnlyList<string> prompts, GenerationOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        return model.Generate([.. prompts.Select(Prompt)], Stopping(options), Tokenizer.VocabularySize);
    }
}
