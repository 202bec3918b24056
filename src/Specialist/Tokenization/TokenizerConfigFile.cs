using System.Text.Json;
using System.Text.Json.Nodes;

namespace Specialist.Tokenization;

/// <summary>
/// What a Hugging Face model folder says about its tokenizer beside the tokenizer file: <c>tokenizer_config.json</c>
/// (the special tokens by text, whether BOS and EOS are added, the chat template; <c>chat_template.jinja</c> where newer
/// folders keep the template) and <c>config.json</c> (the special ids the model generates with). Every file is optional;
/// a value of the wrong kind is an error naming the file, the line and the field.
/// </summary>
internal sealed class TokenizerConfigFile
{
    public const string FileName = "tokenizer_config.json";
    public const string ModelConfigFileName = "config.json";
    public const string TemplateFileName = "chat_template.jinja";

    /// <summary>The path of <c>tokenizer_config.json</c> (whether it exists or not), for messages.</summary>
    public required string Path { get; init; }
    public string? BosToken { get; private init; }
    public string? EosToken { get; private init; }
    public string? PadToken { get; private init; }
    public bool? AddBosToken { get; private init; }
    public bool? AddEosToken { get; private init; }

    /// <summary>The Jinja chat template, or null when the folder has none.</summary>
    public string? ChatTemplate { get; private init; }

    /// <summary>Where <see cref="ChatTemplate"/> was read: the file and the field, for messages.</summary>
    public string ChatTemplateSource { get; private init; } = "";

    /// <summary><c>config.json</c>'s <c>eos_token_id</c> (the first when it is a list), <c>pad_token_id</c>.</summary>
    public int? ModelEosId { get; private init; }
    public int? ModelPadId { get; private init; }

    /// <summary>Reads the files of <paramref name="folder"/>; none need exist.</summary>
    public static TokenizerConfigFile Read(string folder)
    {
        var path = System.IO.Path.Combine(folder, FileName);
        var templatePath = System.IO.Path.Combine(folder, TemplateFileName);
        var modelConfigPath = System.IO.Path.Combine(folder, ModelConfigFileName);
        var s = File.Exists(path) ? JsonSection.ReadFile(path) : null;
        var model = File.Exists(modelConfigPath) ? JsonSection.ReadFile(modelConfigPath) : null;
        string? template = null;
        var templateSource = "";
        if (s?.Has("chat_template") == true)
        {
            // Some folders keep several named templates in a list; one string is the common shape.
            template = s.Node["chat_template"] is JsonValue v && v.GetValueKind() == JsonValueKind.String
                ? v.GetValue<string>()
                : throw s.Error("chat_template", "is not a string (a list of named templates is not supported)");
            templateSource = $"{path}: field 'chat_template'";
        }
        else if (File.Exists(templatePath))
        {
            template = File.ReadAllText(templatePath);
            templateSource = templatePath;
        }
        return new TokenizerConfigFile
        {
            Path = path,
            BosToken = s is null ? null : TokenText(s, "bos_token"),
            EosToken = s is null ? null : TokenText(s, "eos_token"),
            PadToken = s is null ? null : TokenText(s, "pad_token"),
            AddBosToken = s?.Bool("add_bos_token"),
            AddEosToken = s?.Bool("add_eos_token"),
            ChatTemplate = template,
            ChatTemplateSource = templateSource,
            ModelEosId = model is null ? null : FirstId(model, "eos_token_id"),
            ModelPadId = model?.Int("pad_token_id"),
        };
    }

    /// <summary>A special token as tokenizer_config.json writes it: its text, or an AddedToken object with a <c>content</c>.</summary>
    private static string? TokenText(JsonSection s, string key) =>
        s.Node[key] is JsonObject ? s.Child(key, required: true).String("content") ?? throw s.Error(key, "has no 'content'") : s.String(key);

    /// <summary>An id, or a list of ids (Llama 3.1 ends on any of three) of which the first is the one text ends with.</summary>
    private static int? FirstId(JsonSection s, string key) => s.Node[key] switch
    {
        JsonArray { Count: > 0 } a when a[0] is JsonValue v && v.TryGetValue<int>(out var first) => first,
        JsonArray => throw s.Error(key, "is not a list of integers"),
        _ => s.Int(key),
    };

    /// <summary>The id <paramref name="lookup"/> gives special token <paramref name="text"/>, named by <paramref name="field"/>; the tokenizer <paramref name="name"/> must have it.</summary>
    public int IdOf(Func<string, int?> lookup, string text, string field, string name) =>
        lookup(text) ?? throw new SpecialistException($"{Path}: field '{field}' is \"{text}\", which is not a token of {name}");
}
