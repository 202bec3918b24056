using System.Text.RegularExpressions;

namespace Specialist.Tokenization;

/// <summary>How a decoder-only student's prompt is written around the text it is given.</summary>
public enum ChatFormat
{
    /// <summary>The text as it is, after the beginning-of-sequence token where the tokenizer has one.</summary>
    Plain,

    /// <summary>ChatML as Qwen2 writes it: <c>&lt;|im_start|&gt;user\n…&lt;|im_end|&gt;\n&lt;|im_start|&gt;assistant\n</c>, after the template's default system message.</summary>
    ChatMl,

    /// <summary>Llama 3's header template: <c>&lt;|begin_of_text|&gt;&lt;|start_header_id|&gt;user&lt;|end_header_id|&gt;\n\n…&lt;|eot_id|&gt;</c>, then the assistant's header.</summary>
    Llama3,
}

/// <summary>
/// A decoder-only student's prompt: the ids before its answer and those that end it. <see cref="Plain"/> writes the text
/// as it is; <see cref="FromModelFolder"/> renders the model's own chat template (<c>chat_template</c> in
/// <c>tokenizer_config.json</c>, or <c>chat_template.jinja</c>) for one user message, by recognising the two common
/// shapes (<see cref="ChatFormat"/>): a template of another shape, or one that writes what cannot be reproduced (Llama
/// 3.1's system message with today's date), is refused naming the file and the field. Immutable, so thread-safe.
/// </summary>
public sealed class ChatPrompt
{
    // Jinja string literals write a newline as \n, so the template's source holds a backslash and an n.
    private static readonly Regex ChatMlDefaultSystem = new(@"<\|im_start\|>system\\n(?<system>[^'""{}\\]*)<\|im_end\|>\\n", RegexOptions.CultureInvariant);

    private readonly ITokenizer _tokenizer;
    private readonly string _before;
    private readonly string _after;
    private readonly bool _trim;
    private readonly int? _bos;

    private ChatPrompt(ITokenizer tokenizer, ChatFormat format, string before, string after, bool trim, int? bos, int endOfAnswer)
    {
        _tokenizer = tokenizer;
        Format = format;
        (_before, _after, _trim, _bos) = (before, after, trim, bos);
        EndOfAnswerIds = [endOfAnswer];
    }

    /// <summary>The plain prompt: the text as it is, after <see cref="ITokenizer.BosId"/> where there is one; an answer ends with <see cref="ITokenizer.EosId"/>.</summary>
    public static ChatPrompt Plain(ITokenizer tokenizer)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        var eos = tokenizer.EosId ?? throw new SpecialistException($"the tokenizer {tokenizer.Name} has no end-of-sequence id to end an answer with");
        return new ChatPrompt(tokenizer, ChatFormat.Plain, "", "", trim: false, tokenizer.BosId, eos);
    }

    /// <summary>
    /// The chat template of the model folder <paramref name="folder"/>, whose tokenizer is <paramref name="tokenizer"/>;
    /// <see cref="Plain"/> when the folder has none. Throws <see cref="SpecialistException"/> naming the file and the field
    /// for a template it cannot render, and when the tokenizer lacks the template's special tokens.
    /// </summary>
    public static ChatPrompt FromModelFolder(string folder, ITokenizer tokenizer)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        var config = TokenizerConfigFile.Read(folder);
        if (config.ChatTemplate is not { } template) return Plain(tokenizer);
        var source = config.ChatTemplateSource;
        if (template.Contains("<|im_start|>", StringComparison.Ordinal) && template.Contains(@"<|im_start|>assistant\n", StringComparison.Ordinal))
        {
            var system = ChatMlDefaultSystem.Match(template) is { Success: true } m ? $"<|im_start|>system\n{m.Groups["system"].Value}<|im_end|>\n" : "";
            SpecialId(tokenizer, "<|im_start|>", source);
            return new ChatPrompt(tokenizer, ChatFormat.ChatMl, system + "<|im_start|>user\n", "<|im_end|>\n<|im_start|>assistant\n", trim: false,
                bos: null, SpecialId(tokenizer, "<|im_end|>", source));
        }
        if (template.Contains("<|start_header_id|>", StringComparison.Ordinal) && template.Contains("<|eot_id|>", StringComparison.Ordinal))
        {
            if (template.Contains("date_string", StringComparison.Ordinal))
                throw new SpecialistException($"{source}: this Llama 3 template writes a system message with a date (Llama 3.1 and later), which is not reproduced here; use the plain prompt");
            // Llama 3 puts bos_token before the first message, and trims each message's text.
            var bos = template.Contains("bos_token", StringComparison.Ordinal)
                ? config.BosToken ?? throw new SpecialistException($"{source}: the template writes bos_token, but {config.Path} names none")
                : "";
            foreach (var special in new[] { bos, "<|start_header_id|>", "<|end_header_id|>" })
                if (special.Length > 0) SpecialId(tokenizer, special, source);
            return new ChatPrompt(tokenizer, ChatFormat.Llama3, bos + "<|start_header_id|>user<|end_header_id|>\n\n",
                "<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n", trim: template.Contains("| trim", StringComparison.Ordinal),
                bos: null, SpecialId(tokenizer, "<|eot_id|>", source));
        }
        throw new SpecialistException(
            $"{source}: a chat template of a shape not recognised here (ChatML as Qwen2 writes it, or Llama 3's header template; " +
            "other templates would need a Jinja engine); use the plain prompt");
    }

    /// <summary>The shape of the prompt.</summary>
    public ChatFormat Format { get; }

    /// <summary>The ids that end an answer (<c>&lt;|im_end|&gt;</c>, <c>&lt;|eot_id|&gt;</c>, or the end-of-sequence id): a training target ends with them, generation stops at them.</summary>
    public IReadOnlyList<int> EndOfAnswerIds { get; }

    /// <summary>
    /// How many ids every <see cref="Encode"/> begins with, whatever the text: the beginning of sequence and the
    /// template's part before the message (special tokens and newlines end pre-tokenizer pieces, so they encode alike alone).
    /// </summary>
    internal int HeadLength => (_bos is null ? 0 : 1) + Tokenizers.TextTokenCount(_tokenizer, _tokenizer.Encode(_before));

    /// <summary>The prompt's text up to where the answer begins, special tokens written as their text.</summary>
    public string Render(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return _before + (_trim ? text.Trim() : text) + _after;
    }

    /// <summary>The ids of <see cref="Render"/>(<paramref name="text"/>), after the beginning-of-sequence id for <see cref="ChatFormat.Plain"/> (the templates write their own).</summary>
    public IReadOnlyList<int> Encode(string text)
    {
        var encoded = _tokenizer.Encode(Render(text));
        var ids = new List<int>(encoded.Ids.Count + 1);
        if (_bos is { } bos) ids.Add(bos);
        // A prompt goes on with the answer, so it does not end the sequence.
        ids.AddRange(encoded.Ids.Take(Tokenizers.TextTokenCount(_tokenizer, encoded)));
        return ids;
    }

    /// <summary>The one id <paramref name="tokenizer"/> encodes <paramref name="text"/> to, as the template read from <paramref name="source"/> needs.</summary>
    private static int SpecialId(ITokenizer tokenizer, string text, string source)
    {
        var encoded = tokenizer.Encode(text);
        var ids = encoded.Tokens.Where(t => t.Length > 0).Select(t => t.Id).ToList();
        return ids is [var id]
            ? id
            : throw new SpecialistException($"{source}: the template needs \"{text}\" to be one token, but {tokenizer.Name} has no such special token");
    }
}
