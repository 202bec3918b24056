using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Specialist;

/// <summary>
/// One JSON object of a file in someone else's format (a Hugging Face <c>config.json</c>, a tokenizer file, a safetensors
/// header) with typed reads; our own settings files are read through their records' contracts (<see cref="SettingsFile"/>),
/// which builds on it for the file and its errors. Every reader reads through it, so all of them refuse a duplicate
/// key (<see cref="JsonInput"/>), a value of the wrong kind (<c>"10"</c> where an integer belongs) and a number out of
/// range (<c>1e400</c>) alike, with a <see cref="DataFormatException"/> naming the file, the line and the field by its
/// dotted path from the top (<c>train.lr</c>). An absent key and a JSON null both read as absent (null).
/// </summary>
internal sealed class JsonSection
{
    private readonly IReadOnlyDictionary<string, int> _lines;

    private JsonSection(string file, string path, JsonObject node, IReadOnlyDictionary<string, int> lines)
    {
        File = file;
        Path = path;
        Node = node;
        _lines = lines;
    }

    /// <summary>Reads a file that must hold one JSON object (see <see cref="JsonInput.ReadFile"/> for the file's own errors).</summary>
    public static JsonSection ReadFile(string path) => Parse(path, JsonInput.ReadFile(path));

    /// <summary>Parses <paramref name="utf8"/>, the JSON object of <paramref name="file"/> (or of part of it, such as a header).</summary>
    public static JsonSection Parse(string file, ReadOnlySpan<byte> utf8)
    {
        var lines = JsonInput.Check(file, utf8);
        var root = JsonNode.Parse(utf8);
        return root is JsonObject o
            ? new JsonSection(file, "", o, lines)
            : throw new DataFormatException(file, "line 1", null, $"is {Describe(root)}, not a JSON object");
    }

    /// <summary>The file it was read from.</summary>
    public string File { get; }

    /// <summary>Its dotted path from the top (<c>""</c> for the top-level object).</summary>
    public string Path { get; }

    public JsonObject Node { get; }

    /// <summary>Its keys, in file order.</summary>
    public IEnumerable<string> Names => Node.Select(p => p.Key);

    public bool Has(string key) => Node[key] is not null;

    /// <summary>The dotted path of <paramref name="key"/> (of this object itself when null).</summary>
    public string? Field(string? key) => key is null ? Path.Length == 0 ? null : Path : Path.Length == 0 ? key : $"{Path}.{key}";

    /// <summary>An error about <paramref name="key"/> (about the whole object when null), at the line the key is on.</summary>
    public DataFormatException Error(string? key, string problem)
    {
        var field = Field(key);
        return new DataFormatException(File, $"line {Line(field ?? "")}", field, problem);
    }

    /// <summary>
    /// The line of <paramref name="field"/> (a dotted path from the top), or of the nearest object or list around it that
    /// has one: lines are kept for keys outside lists, so an item's key gets its list's line, and a key left out its object's.
    /// </summary>
    private int Line(string field)
    {
        while (!_lines.ContainsKey(field) && field.Length > 0)
            field = field[..Math.Max(0, field.LastIndexOfAny(['.', '[']))];
        return _lines.GetValueOrDefault(field, 1);
    }

    /// <summary>The object at <paramref name="key"/>; absent, an empty object when <paramref name="required"/> is false.</summary>
    public JsonSection Child(string key, bool required) => Node[key] switch
    {
        JsonObject child => new JsonSection(File, Field(key)!, child, _lines),
        null when !required => new JsonSection(File, Field(key)!, new JsonObject(), _lines),
        null => throw Error(key, "is missing"),
        var other => throw Wrong(key, other, "an object"),
    };

    /// <summary>The objects of the list at <paramref name="key"/> (none when absent); an item's fields are named <c>key[i].field</c>.</summary>
    public IReadOnlyList<JsonSection> Items(string key) => Node[key] switch
    {
        null => [],
        JsonArray a => [.. a.Select((item, i) => item is JsonObject o
            ? new JsonSection(File, $"{Field(key)}[{i}]", o, _lines)
            : throw Error(key, $"item {i} is {Describe(item)}, expected an object"))],
        var other => throw Wrong(key, other, "a list of objects"),
    };

    public string? String(string key) => Node[key] switch
    {
        null => null,
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        var other => throw Wrong(key, other, "a string"),
    };

    public int? Int(string key) => Node[key] switch
    {
        null => null,
        JsonValue v when v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<int>(out var n) => n,
        var other => throw Wrong(key, other, "an integer"),
    };

    public long? Long(string key) => Node[key] switch
    {
        null => null,
        JsonValue v when v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<long>(out var n) => n,
        var other => throw Wrong(key, other, "an integer"),
    };

    /// <summary>A finite number (System.Text.Json reads <c>1e400</c> as infinity, which no setting means).</summary>
    public double? Double(string key) => Node[key] switch
    {
        null => null,
        JsonValue v when v.GetValueKind() == JsonValueKind.Number => Finite(key, v),
        var other => throw Wrong(key, other, "a number"),
    };

    public bool? Bool(string key) => Node[key] switch
    {
        null => null,
        JsonValue v when v.GetValueKind() is JsonValueKind.True or JsonValueKind.False => v.GetValue<bool>(),
        var other => throw Wrong(key, other, "true or false"),
    };

    public IReadOnlyList<string>? Strings(string key) => Node[key] switch
    {
        null => null,
        JsonArray a when a.All(i => i is JsonValue v && v.GetValueKind() == JsonValueKind.String) => [.. a.Select(i => i!.GetValue<string>())],
        var other => throw Wrong(key, other, "a list of strings"),
    };

    /// <summary>A list of integers of at least <paramref name="minimum"/> each (a tensor's shape, a pair of offsets).</summary>
    public IReadOnlyList<long>? Longs(string key, long minimum) => Node[key] switch
    {
        null => null,
        JsonArray a when a.All(i => i is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<long>(out var n) && n >= minimum)
            => [.. a.Select(i => i!.GetValue<long>())],
        var other => throw Wrong(key, other, string.Create(CultureInfo.InvariantCulture, $"a list of integers of at least {minimum}")),
    };

    private double Finite(string key, JsonValue v)
    {
        var number = v.GetValue<double>();
        return double.IsFinite(number) ? number : throw Error(key, $"is {JsonInput.Show(v.ToJsonString())}, too large to be a number here");
    }

    private DataFormatException Wrong(string key, JsonNode node, string expected) =>
        Error(key, $"is {JsonInput.Show(node.ToJsonString())}, expected {expected}");

    private static string Describe(JsonNode? node) => node switch
    {
        null => "null",
        JsonArray => "an array",
        JsonValue v => v.GetValueKind() switch
        {
            JsonValueKind.String => "a string",
            JsonValueKind.Number => "a number",
            _ => JsonInput.Show(v.ToJsonString()),
        },
        _ => "an object",
    };
}
