using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using System.Text.RegularExpressions;

namespace Specialist;

/// <summary>
/// A settings file (a run config, a training config, a run folder's recorded <c>config.json</c>) read into its typed
/// record through the record's source-generated JSON contract. The file is checked as all user JSON is
/// (<see cref="JsonInput"/>: valid, no key twice, one object); a JSON null counts as the key left out; a key the
/// contract does not have, a required key left out, a value System.Text.Json or a converter refuses and a value the
/// record's <c>Validate</c> refuses (<see cref="SettingException"/>) all become <see cref="DataFormatException"/>s
/// naming the file, the line and the field by its dotted path (<c>teacher.max_tokens</c>).
/// </summary>
internal sealed partial class SettingsFile
{
    private readonly JsonSection _top;
    private readonly string _topLevel;
    /// <summary>The object as the file gives it, before defaults fill it in.</summary>
    private readonly JsonObject _given;

    private SettingsFile(JsonSection top, string topLevel)
    {
        _top = top;
        _topLevel = topLevel;
        _given = top.Node.DeepClone().AsObject();
    }

    /// <summary>Reads <paramref name="path"/>; <paramref name="topLevel"/> names its top-level keys in errors (e.g. "a training setting").</summary>
    public static SettingsFile Read(string path, string topLevel) => new(JsonSection.ReadFile(path), topLevel);

    /// <summary>The file's object, which the caller may amend before <see cref="Deserialize"/> (with the command line's <c>--out</c>, say).</summary>
    public JsonObject Root => _top.Node;

    /// <summary>Whether the file gives <paramref name="field"/> (a dotted path) a value other than null.</summary>
    public bool Has(string field)
    {
        JsonNode? node = _given;
        foreach (var key in field.Split('.')) node = node is JsonObject o ? o[key] : null;
        return node is not null;
    }

    /// <summary>An error about <paramref name="field"/> (a dotted path; the whole file when null), at its line.</summary>
    public DataFormatException Error(string? field, string problem) => _top.Error(field, problem);

    /// <summary>
    /// The file read as <typeparamref name="T"/>. A key left out (or null) takes its value from <paramref name="defaults"/>,
    /// the records' <c>Defaults</c> (the one for the record's type; a record section without one is read as <c>{}</c>):
    /// the generated contract sets init-only properties through the constructor, so a key left out would read as 0 or null.
    /// </summary>
    public T Deserialize<T>(JsonTypeInfo<T> contract, params IReadOnlyList<object> defaults)
    {
        Prepare(Root, contract, "", defaults);
        try
        {
            return Root.Deserialize(contract) ?? throw Error(null, "is null, expected an object");
        }
        catch (JsonException e)
        {
            throw Translate(e, contract);
        }
    }

    /// <summary>Runs a record's <c>Validate</c>; its <see cref="SettingException"/> becomes an error at the key's line, within <paramref name="section"/>.</summary>
    public void Check(Action validate, string? section = null)
    {
        try
        {
            validate();
        }
        catch (SettingException e)
        {
            throw Error(Join(section, e.Key), e.Problem);
        }
    }

    /// <summary>
    /// Refuses unknown keys and missing required ones, and fills in the keys left out (a null counts as left out), in
    /// <paramref name="node"/> and in every object in it that is a record of the contract (not a table such as batch_size).
    /// The contract is set to refuse unmapped keys too; refusing them here names the known keys.
    /// </summary>
    private void Prepare(JsonObject node, JsonTypeInfo contract, string path, IReadOnlyList<object> defaults)
    {
        foreach (var (key, value) in node.ToList())
        {
            var property = Property(contract, key)
                ?? throw Error(Join(path, key), $"is not {(path.Length == 0 ? _topLevel : $"a {path} setting")} (the keys are: {string.Join(", ", contract.Properties.Where(p => p.Set is not null).Select(p => p.Name))})");
            if (value is null) node.Remove(key);
            // System.Text.Json reads 1e400 as infinity, which no setting means.
            else if (Unwrap(property.PropertyType) == typeof(double) && value is JsonValue v && v.GetValueKind() == JsonValueKind.Number && !double.IsFinite(v.GetValue<double>()))
                throw Error(Join(path, key), $"is {JsonInput.Show(v.ToJsonString())}, too large to be a number here");
        }
        var own = defaults.FirstOrDefault(d => d.GetType() == contract.Type) is { } d ? JsonSerializer.SerializeToNode(d, contract)!.AsObject() : null;
        foreach (var property in contract.Properties.Where(p => p.Set is not null))
        {
            var field = Join(path, property.Name)!;
            var section = property.CustomConverter is null && contract.Options.TryGetTypeInfo(property.PropertyType, out var inner)
                && inner.Kind == JsonTypeInfoKind.Object ? inner : null;
            if (!node.ContainsKey(property.Name))
            {
                if (property.IsRequired) throw Error(field, "is missing");
                // Without a Defaults record (a run config's top level), a value left out reads as default(T).
                var filler = own?[property.Name]?.DeepClone() ?? (section is null ? null : new JsonObject());
                if (filler is not null) node[property.Name] = filler;
            }
            if (section is not null && node[property.Name] is JsonObject value) Prepare(value, section, field, defaults);
        }
    }

    /// <summary>System.Text.Json's complaint as an error naming the field (a list by its key, not an item's index).</summary>
    private DataFormatException Translate(JsonException e, JsonTypeInfo contract)
    {
        var field = string.Join(".", PathStep().Matches(e.Path ?? "").TakeWhile(m => !m.Groups[3].Success)
            .Select(m => m.Groups[1].Success ? m.Groups[1].Value : m.Groups[2].Value));
        if (e is SettingValueException value) return Error(Join(field, value.Key), value.Problem);
        if (field.Length == 0) return Error(null, $"is not a settings object ({e.Message})");
        JsonNode? node = Root;
        Type? type = null;
        foreach (var key in field.Split('.'))
        {
            node = (node as JsonObject)?[key];
            var property = Property(contract, key);
            type = property?.PropertyType;
            if (property is null || !contract.Options.TryGetTypeInfo(property.PropertyType, out contract!)) break;
        }
        return Error(field, $"is {JsonInput.Show(node?.ToJsonString() ?? "null")}, expected {Expected(type)}");
    }

    private static JsonPropertyInfo? Property(JsonTypeInfo contract, string key) =>
        contract.Kind == JsonTypeInfoKind.Object ? contract.Properties.FirstOrDefault(p => p.Name == key && p.Set is not null) : null;

    private static Type? Unwrap(Type? type) => type is null ? null : Nullable.GetUnderlyingType(type) ?? type;

    /// <summary>What a value of <paramref name="type"/> looks like in JSON, for a message.</summary>
    private static string Expected(Type? type) => Unwrap(type) switch
    {
        var t when t == typeof(int) || t == typeof(long) => "an integer",
        var t when t == typeof(double) => "a number",
        var t when t == typeof(bool) => "true or false",
        var t when t == typeof(string) || t == typeof(Uri) || t?.IsEnum == true => "a string",
        { IsGenericType: true } t when t.GetGenericTypeDefinition() == typeof(IReadOnlyList<>) => "a list of strings",
        _ => "an object",
    };

    private static string? Join(string? path, string? key) =>
        string.IsNullOrEmpty(path) ? key : string.IsNullOrEmpty(key) ? path : $"{path}.{key}";

    /// <summary>One step of a JSON path as System.Text.Json writes it: <c>.name</c>, <c>['odd name']</c> or a list index <c>[3]</c>.</summary>
    [GeneratedRegex(@"\.([^.\[]+)|\['([^']*)'\]|(\[\d+\])")]
    private static partial Regex PathStep();
}

/// <summary>
/// A setting's value refused by a record's <c>Validate</c>: <see cref="Key"/> is the key (dotted within a section; null
/// for a problem between keys), <see cref="Problem"/> what is wrong with it. Read from a file, it becomes an error
/// naming the file, the line and the key (<see cref="SettingsFile.Check"/>).
/// </summary>
internal sealed class SettingException(string? key, string problem)
    : SpecialistException(key is null ? problem : $"{key} {problem}")
{
    public string? Key { get; } = key;

    public string Problem { get; } = problem;

    /// <summary>Runs <paramref name="validate"/> (a section's <c>Validate</c>), naming its keys within <paramref name="section"/>.</summary>
    public static void Within(string section, Action validate)
    {
        try
        {
            validate();
        }
        catch (SettingException e)
        {
            throw new SettingException(e.Key is null ? section : $"{section}.{e.Key}", e.Problem);
        }
    }

    /// <summary>Refuses <paramref name="value"/> below <paramref name="minimum"/> (null is allowed: an optional setting left out).</summary>
    public static void AtLeast(string key, long? value, long minimum)
    {
        if (value < minimum) throw new SettingException(key, string.Create(CultureInfo.InvariantCulture, $"is {value}, must be at least {minimum}"));
    }
}

/// <summary>A converter's complaint about a value: <see cref="Problem"/>, about the key it read or the entry <see cref="Key"/> inside it.</summary>
internal sealed class SettingValueException(string problem, string? key = null) : JsonException(problem)
{
    public string Problem { get; } = problem;

    public string? Key { get; } = key;
}

/// <summary>A setting written as a name and read by the library's parser for it, whose complaint becomes the key's error.</summary>
internal abstract class NameConverter<T>(Func<string, T> parse, Func<T, string> name) : JsonConverter<T>
{
    public override T Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType == JsonTokenType.String ? SettingsJson.Parse(reader.GetString()!, parse) : throw new JsonException();

    public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options) => writer.WriteStringValue(name(value));
}

/// <summary>Pieces the settings converters share.</summary>
internal static class SettingsJson
{
    /// <summary><paramref name="parse"/>(<paramref name="text"/>), its complaint a <see cref="SettingValueException"/> (about <paramref name="key"/> inside the value, if given).</summary>
    public static T Parse<T>(string text, Func<string, T> parse, string? key = null)
    {
        try
        {
            return parse(text);
        }
        catch (SpecialistException e)
        {
            throw new SettingValueException(e.Message, key);
        }
    }

    /// <summary>A list of strings; anything else is a <see cref="JsonException"/>, which names the key and the kind it takes.</summary>
    public static List<string> ReadStrings(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartArray) throw new JsonException();
        var items = new List<string>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            items.Add(reader.TokenType == JsonTokenType.String ? reader.GetString()! : throw new JsonException());
        return items;
    }

    public static void WriteStrings(Utf8JsonWriter writer, IEnumerable<string> items)
    {
        writer.WriteStartArray();
        foreach (var item in items) writer.WriteStringValue(item);
        writer.WriteEndArray();
    }

    /// <summary>An object of integers by name (a batch size per format), each name read by <paramref name="parse"/>; a complaint names the entry.</summary>
    public static List<(string Name, T Key, int Value)> ReadIntegers<T>(ref Utf8JsonReader reader, Func<string, T> parse)
    {
        if (reader.TokenType != JsonTokenType.StartObject) throw new JsonException();
        var entries = new List<(string, T, int)>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            var name = reader.GetString()!;
            reader.Read();
            var size = reader.TokenType switch
            {
                JsonTokenType.Number when reader.TryGetInt32(out var n) => n,
                JsonTokenType.Number => throw new SettingValueException($"is {JsonInput.Show(Encoding.UTF8.GetString(reader.ValueSpan))}, expected an integer", name),
                JsonTokenType.String => throw new SettingValueException($"is {JsonInput.Show($"\"{reader.GetString()}\"")}, expected an integer", name),
                JsonTokenType.Null => throw new SettingValueException("is null, expected an integer", name),
                _ => throw new SettingValueException("is not a number, expected an integer", name),
            };
            entries.Add((name, Parse(name, parse, name), size));
        }
        return entries;
    }
}
