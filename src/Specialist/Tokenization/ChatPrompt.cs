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

    /// <summary>
    /// Llama 3.1's: Llama 3's header template after the system message it always writes, "Cutting Knowledge Date: …"
    /// and "Today Date: …" with the template's own default date (what transformers renders when no date is passed).
    /// </summary>
    Llama31,

    /// <summary>Llama 2 chat's: the beginning of sequence, <c>[INST] …</c> with the message trimmed, <c> [/INST]</c>; an answer ends with the end of sequence.</summary>
    Llama2,
}

/// <summary>
/// A decoder-only student's prompt: the ids before its answer and those that end it. <see cref="Plain"/> writes the text
/// as it is; <see cref="FromModelFolder"/> renders the model's own chat template (<c>chat_template</c> in
/// <c>tokenizer_config.json</c>, or <c>chat_template.jinja</c>) for one user message, by recognising the common shapes
/// (<see cref="ChatFormat"/>: ChatML, Llama 3 and 3.1, Llama 2): a template of another shape, or one that writes what
/// cannot be reproduced (Llama 3.2's system message with the day's date, Llama 2's optional default system message),
/// is refused naming the file and the field. Immutable, so thread-safe.
/// </summary>
public sealed class ChatPrompt
{
    // Jinja string literals write a newline as \n, so the template's source holds a backslash and an n.
    private static readonly Regex ChatMlDefaultSystem = new(@"<\|im_start\|>system\\n(?<system>[^'""{}\\]*)<\|im_end\|>\\n", RegexOptions.CultureInvariant);

    // Llama 3.1's template sets its date unless the caller passes one, and writes its knowledge cut-off as a literal.
    private static readonly Regex Llama31DefaultDate = new(@"set date_string = ""(?<date>[^""{}\\]+)""", RegexOptions.CultureInvariant);
    private static readonly Regex Llama31Knowledge = new(@"Cutting Knowledge Date: (?<date>[^""'{}\\]+)\\n", RegexOptions.CultureInvariant);

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
            var format = ChatFormat.Llama3;
            var system = "";
            if (template.Contains("date_string", StringComparison.Ordinal))
            {
                // Llama 3.2 and later date the system message with the day the prompt is rendered: a training set made
                // today would differ from tomorrow's.
                if (template.Contains("strftime_now", StringComparison.Ordinal))
                    throw new SpecialistException($"{source}: this Llama 3 template writes today's date into its system message (Llama 3.2 and later), which would change the prompt from day to day; use the plain prompt");
                if (Llama31DefaultDate.Match(template) is not { Success: true } date || Llama31Knowledge.Match(template) is not { Success: true } knowledge)
                    throw new SpecialistException($"{source}: this Llama 3 template writes a system message with a date, but not as Llama 3.1's does (a default date_string and \"Cutting Knowledge Date: …\"); use the plain prompt");
                format = ChatFormat.Llama31;
                system = $"<|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: {knowledge.Groups["date"].Value}\nToday Date: {date.Groups["date"].Value}\n\n<|eot_id|>";
            }
            // Llama 3 puts bos_token before the first message, and trims each message's text.
            var bos = template.Contains("bos_token", StringComparison.Ordinal)
                ? config.BosToken ?? throw new SpecialistException($"{source}: the template writes bos_token, but {config.Path} names none")
                : "";
            foreach (var special in new[] { bos, "<|start_header_id|>", "<|end_header_id|>" })
                if (special.Length > 0) SpecialId(tokenizer, special, source);
            return new ChatPrompt(tokenizer, format, bos + system + "<|start_header_id|>user<|end_header_id|>\n\n",
                "<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n", trim: template.Contains("| trim", StringComparison.Ordinal),
                bos: null, SpecialId(tokenizer, "<|eot_id|>", source));
        }
        if (template.Contains("[INST]", StringComparison.Ordinal) && template.Contains("[/INST]", StringComparison.Ordinal))
        {
            // The first Llama 2 chat templates could insert a default system message (a placeholder the tokenizer's
            // owner filled in); the published ones write a system message only when the conversation has one.
            if (template.Contains("USE_DEFAULT_PROMPT", StringComparison.Ordinal) || template.Contains("DEFAULT_SYSTEM_MESSAGE", StringComparison.Ordinal))
                throw new SpecialistException($"{source}: this Llama 2 template can insert a default system message, which is not reproduced here; use the plain prompt");
            // bos_token + '[INST] ' + content.strip() + ' [/INST]'; the answer follows after a space and ends with eos_token.
            // The BOS is the tokenizer's own id: Llama 2's SentencePiece model does not read "<s>" in text as one.
            var bos = tokenizer.BosId ?? throw new SpecialistException($"{source}: the Llama 2 template begins with bos_token, but the tokenizer {tokenizer.Name} has no beginning-of-sequence id");
            var eos = tokenizer.EosId ?? throw new SpecialistException($"{source}: the Llama 2 template ends an answer with eos_token, but the tokenizer {tokenizer.Name} has no end-of-sequence id");
            return new ChatPrompt(tokenizer, ChatFormat.Llama2, "[INST] ", " [/INST]", trim: true, bos, eos);
        }
        throw new SpecialistException(
            $"{source}: a chat template of a shape not recognised here (ChatML as Qwen2 writes it, Llama 3's or 3.1's header template, or Llama 2's [INST]; " +
            "other templates would need a Jinja engine); use the plain prompt");
    }

    /// <summary>The shape of the prompt.</summary>
    public ChatFormat Format { get; }

    /// <summary>The ids that end an answer (<c>&lt;|im_end|&gt;</c>, <c>&lt;|eot_id|&gt;</c>, or the end-of-sequence id): a training target ends with them, generation stops at them.</summary>
    public IReadOnlyList<int> EndOfAnswerIds { get; }

    /// <summary>
    /// How many ids every <see cref="Encode"/> begins with, whatever the text: the beginning of sequence and the
    /// template's part before the message (special tokens and newlines end pre-tokenizer pieces, so they encode alike alone;
    /// a trailing space is left out, since it joins the message's first word, as after Llama 2's <c>[INST]</c>).
    /// </summary>
    internal int HeadLength => (_bos is null ? 0 : 1) + Tokenizers.TextTokenCount(_tokenizer, _tokenizer.Encode(_before.TrimEnd(' ')));

    /// <summary>The prompt's text up to where the answer begins, special tokens written as their text.</summary>
    public string Render(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return _before + (_trim ? text.Trim() : text) + _after;
    }

    /// <summary>
    /// The ids of <see cref="Render"/>(<paramref name="text"/>), after the beginning-of-sequence id for <see cref="ChatFormat.Plain"/>
    /// and <see cref="ChatFormat.Llama2"/> (the other templates write their own as text).
    /// </summary>
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
