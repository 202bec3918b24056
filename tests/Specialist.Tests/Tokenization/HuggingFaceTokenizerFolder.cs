using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Specialist.Tokenization;

namespace Specialist.Tests.Tokenization;

/// <summary>
/// Writes a small Hugging Face model folder as <c>tokenizers</c> and <c>transformers</c> save it: a byte-level BPE
/// <c>tokenizer.json</c> (ids 0 … 255 the 256 byte symbols in byte order, then one token per merge in rank order, then
/// the added tokens) and, where given, a <c>tokenizer_config.json</c>. Merges are written as the byte-level strings of
/// their two parts (<c>"Ġ t"</c> for a space and a t), so each test derives its expected ids by hand from the merge list.
/// </summary>
internal sealed class HuggingFaceTokenizerFolder
{
    /// <summary>Qwen2's split pattern, as its tokenizer.json holds it.</summary>
    public const string QwenPattern = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    // The chat templates as the models' tokenizer_config.json hold them (Jinja writes a newline as \n inside its strings).
    public const string Qwen2Template =
        @"{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";

    public const string Llama3Template =
        @"{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}";

    public const string Llama31Template =
        @"{{- bos_token }}{%- if not date_string is defined %}{%- set date_string = ""26 Jul 2024"" %}{%- endif %}{%- if messages[0]['role'] == 'system' %}{%- set system_message = messages[0]['content']|trim %}{%- set messages = messages[1:] %}{%- else %}{%- set system_message = """" %}{%- endif %}{{- ""<|start_header_id|>system<|end_header_id|>\n\n"" }}{{- ""Cutting Knowledge Date: December 2023\n"" }}{{- ""Today Date: "" + date_string + ""\n\n"" }}{{- system_message }}{{- ""<|eot_id|>"" }}{%- for message in messages %}{{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' }}{%- endfor %}{%- if add_generation_prompt %}{{- '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{%- endif %}";

    public const string Llama2Template =
        @"{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif %}{% for message in loop_messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\n' + system_message + '\n<</SYS>>\n\n' + message['content'] %}{% else %}{% set content = message['content'] %}{% endif %}{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}";

    /// <summary>Llama 2's special tokens (<c>&lt;s&gt;</c> put before a text by the post-processor, <c>&lt;/s&gt;</c>) and <paramref name="template"/> its chat template.</summary>
    public static HuggingFaceTokenizerFolder Llama2((string, string)[] merges, string template) => new()
    {
        Merges = merges,
        AddedTokens = ["<unk>", "<s>", "</s>"],
        BosPrefix = "<s>",
        Config = new JsonObject { ["bos_token"] = "<s>", ["eos_token"] = "</s>", ["chat_template"] = template },
    };

    /// <summary>Qwen2's special tokens, <paramref name="eosToken"/> its end of sequence, and <paramref name="template"/> its chat template (none when null).</summary>
    public static HuggingFaceTokenizerFolder Qwen2((string, string)[] merges, string? template, string eosToken = "<|im_end|>") => new()
    {
        Merges = merges,
        AddedTokens = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
        Config = new JsonObject { ["eos_token"] = eosToken, ["pad_token"] = "<|endoftext|>", ["chat_template"] = template },
    };

    /// <summary>Llama 3's special tokens, its BOS put before a text by the post-processor, <paramref name="eosToken"/> its end of sequence, and <paramref name="template"/> its chat template (none when null).</summary>
    public static HuggingFaceTokenizerFolder Llama3((string, string)[] merges, string? template, string eosToken = "<|eot_id|>") => new()
    {
        Merges = merges,
        AddedTokens = ["<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"],
        BosPrefix = "<|begin_of_text|>",
        Config = template is null
            ? new JsonObject { ["bos_token"] = "<|begin_of_text|>", ["eos_token"] = eosToken }
            : new JsonObject { ["bos_token"] = "<|begin_of_text|>", ["eos_token"] = eosToken, ["chat_template"] = template },
    };

    public required (string Left, string Right)[] Merges { get; init; }
    public string[] AddedTokens { get; init; } = [];

    /// <summary>Extra tokens in model.vocab that no merge makes (reachable with ignore_merges only).</summary>
    public string[] ExtraTokens { get; init; } = [];
    public string? SplitPattern { get; init; } = QwenPattern;
    public bool Nfc { get; init; }
    public bool IgnoreMerges { get; init; }
    public string? BosPrefix { get; init; }
    public JsonObject? Config { get; init; }

    /// <summary>The byte-level form of <paramref name="text"/>'s UTF-8 bytes (<c>" the"</c> → <c>"Ġthe"</c>).</summary>
    public static string Symbols(string text) => string.Concat(Encoding.UTF8.GetBytes(text).Select(b => ByteLevelAlphabet.SymbolOf(b)));

    /// <summary>The id of a merge's token, of an extra token or of an added token (byte symbols are their byte value).</summary>
    public int IdOf(string symbols)
    {
        if (symbols.Length == 1) return ByteLevelAlphabet.ByteOf(symbols[0]);
        var merge = Array.FindIndex(Merges, m => m.Left + m.Right == symbols);
        if (merge >= 0) return 256 + merge;
        var extra = Array.IndexOf(ExtraTokens, symbols);
        if (extra >= 0) return 256 + Merges.Length + extra;
        var added = Array.IndexOf(AddedTokens, symbols);
        return added >= 0 ? 256 + Merges.Length + ExtraTokens.Length + added : throw new ArgumentException($"no token {symbols}");
    }

    /// <summary>The tokenizer.json's object, for tests that break one field.</summary>
    public JsonObject TokenizerJson()
    {
        var vocab = new JsonObject();
        for (var b = 0; b < 256; b++) vocab[ByteLevelAlphabet.SymbolOf((byte)b).ToString()] = b;
        foreach (var token in Merges.Select(m => m.Left + m.Right).Concat(ExtraTokens)) vocab[token] = vocab.Count;
        var byteLevel = new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = false, ["use_regex"] = SplitPattern is null };
        JsonNode preTokenizer = SplitPattern is null
            ? byteLevel
            : new JsonObject
            {
                ["type"] = "Sequence",
                ["pretokenizers"] = new JsonArray(
                    new JsonObject { ["type"] = "Split", ["pattern"] = new JsonObject { ["Regex"] = SplitPattern }, ["behavior"] = "Isolated", ["invert"] = false },
                    byteLevel),
            };
        var firstAdded = vocab.Count;
        return new JsonObject
        {
            ["version"] = "1.0",
            ["truncation"] = null,
            ["padding"] = null,
            ["added_tokens"] = new JsonArray([.. AddedTokens.Select((t, i) => (JsonNode)new JsonObject
            {
                ["id"] = firstAdded + i, ["content"] = t, ["single_word"] = false, ["lstrip"] = false, ["rstrip"] = false,
                ["normalized"] = false, ["special"] = true,
            })]),
            ["normalizer"] = Nfc ? new JsonObject { ["type"] = "NFC" } : null,
            ["pre_tokenizer"] = preTokenizer,
            ["post_processor"] = BosPrefix is null
                ? new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = false, ["use_regex"] = false }
                : new JsonObject
                {
                    ["type"] = "TemplateProcessing",
                    ["single"] = new JsonArray(
                        new JsonObject { ["SpecialToken"] = new JsonObject { ["id"] = BosPrefix, ["type_id"] = 0 } },
                        new JsonObject { ["Sequence"] = new JsonObject { ["id"] = "A", ["type_id"] = 0 } }),
                    ["pair"] = new JsonArray(),
                    ["special_tokens"] = new JsonObject(),
                },
            ["decoder"] = new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = true, ["trim_offsets"] = true, ["use_regex"] = true },
            ["model"] = new JsonObject
            {
                ["type"] = "BPE", ["dropout"] = null, ["unk_token"] = null, ["continuing_subword_prefix"] = null,
                ["end_of_word_suffix"] = null, ["fuse_unk"] = false, ["byte_fallback"] = false, ["ignore_merges"] = IgnoreMerges,
                ["vocab"] = vocab,
                // Newer files write each merge as a pair, older ones as "a b": write both forms, alternating.
                ["merges"] = new JsonArray([.. Merges.Select((m, i) => i % 2 == 0 ? (JsonNode)$"{m.Left} {m.Right}" : new JsonArray(m.Left, m.Right))]),
            },
        };
    }

    /// <summary>Writes the folder (with <paramref name="tokenizerJson"/> in place of <see cref="TokenizerJson"/> when given) and returns its path.</summary>
    public string Write(JsonObject? tokenizerJson = null)
    {
        var folder = TestPaths.NewTempDir();
        var options = new JsonSerializerOptions { WriteIndented = true };
        File.WriteAllText(Path.Combine(folder, "tokenizer.json"), (tokenizerJson ?? TokenizerJson()).ToJsonString(options));
        if (Config is not null) File.WriteAllText(Path.Combine(folder, "tokenizer_config.json"), Config.ToJsonString(options));
        return folder;
    }

    public ITokenizer Load() => Tokenizers.LoadFromModelFolder(Write());
}
