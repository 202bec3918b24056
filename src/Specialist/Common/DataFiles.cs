using System.Text.Json;

namespace Specialist;

/// <summary>Finds data files under the data root and reads JSON / JSONL records with error locations.</summary>
public static class DataFiles
{
    /// <summary>What the data root holds, for messages about a missing file.</summary>
    internal const string Layout =
        "the data root holds gsm8k/ (train.jsonl, test.jsonl, dev_indices.json), multiarith/MultiArith.json, asdiv/ASDiv.xml, " +
        "svamp/SVAMP.json, bbh/ (bbh/<task>.json, cot-prompts/<task>.txt) and prompts/; " +
        "choose it with --data-root DIR or the SPECIALIST_DATA environment variable (default ./data)";

    /// <summary>The full path of <paramref name="relative"/> under <paramref name="root"/>; throws when it is not there.</summary>
    public static string Require(string root, string relative)
    {
        var path = Path.GetFullPath(Path.Combine(root, relative));
        if (File.Exists(path)) return path;
        throw Missing(root, path);
    }

    /// <summary>The full path of folder <paramref name="relative"/> under <paramref name="root"/>; throws when it is not there.</summary>
    public static string RequireFolder(string root, string relative)
    {
        var path = Path.GetFullPath(Path.Combine(root, relative));
        if (Directory.Exists(path)) return path;
        throw Missing(root, path);
    }

    private static SpecialistException Missing(string root, string path) =>
        Directory.Exists(root)
            ? new SpecialistException($"missing data: expected {path}; {Layout}")
            : new SpecialistException($"data root {Path.GetFullPath(root)} does not exist (expected {path}); {Layout}");

    /// <summary>Reads a user's file (not under the data root); a missing file is named as such.</summary>
    public static string ReadUserFile(string path)
    {
        if (Directory.Exists(path)) throw new SpecialistException($"{Path.GetFullPath(path)} is a folder; expected a file");
        if (!File.Exists(path)) throw new SpecialistException($"file not found: {Path.GetFullPath(path)}");
        return File.ReadAllText(path);
    }

    /// <summary>
    /// Reads JSONL: one JSON object per line. Blank lines (only whitespace) are skipped wherever they are, so a
    /// trailing newline or an empty line between records is harmless; records are numbered without them
    /// (<see cref="JsonRecord.Index"/>) and errors name the 1-based physical line.
    /// </summary>
    public static List<T> ReadJsonl<T>(string file, string text, Func<JsonRecord, T> read)
    {
        var results = new List<T>();
        var lineNumber = 0;
        foreach (var line in text.AsSpan().EnumerateLines())
        {
            lineNumber++;
            if (line.IsWhiteSpace()) continue;
            var location = $"line {lineNumber}";
            using (var document = JsonInput.ParseDocument(file, line.ToString(), lineNumber))
            {
                var record = new JsonRecord(file, location, results.Count, document.RootElement);
                if (document.RootElement.ValueKind != JsonValueKind.Object)
                    throw record.Error(null, $"is {FieldPath.Describe(document.RootElement.ValueKind)}, not a JSON object");
                results.Add(read(record));
            }
        }
        return results;
    }

    /// <summary>Reads a file holding one JSON array of objects; errors name the 0-based record index.</summary>
    public static List<T> ReadJsonArray<T>(string file, string text, Func<JsonRecord, T> read)
    {
        using var document = JsonInput.ParseDocument(file, text);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Array)
            throw new DataFormatException(file, "top level", null, $"is {FieldPath.Describe(root.ValueKind)}, not a JSON array of records");
        var results = new List<T>(root.GetArrayLength());
        foreach (var element in root.EnumerateArray())
        {
            var record = new JsonRecord(file, $"record {results.Count}", results.Count, element);
            if (element.ValueKind != JsonValueKind.Object)
                throw record.Error(null, $"is {FieldPath.Describe(element.ValueKind)}, not a JSON object");
            results.Add(read(record));
        }
        return results;
    }
}

/// <summary>One JSON record of a data file, with where it is, for error messages.</summary>
/// <param name="File">The file it came from.</param>
/// <param name="Location">"line 12" (JSONL) or "record 3" (JSON array).</param>
/// <param name="Index">0-based record number (blank JSONL lines not counted).</param>
/// <param name="Element">The record itself.</param>
public readonly record struct JsonRecord(string File, string Location, int Index, JsonElement Element)
{
    public DataFormatException Error(string? field, string problem) => new(File, Location, field, problem);

    /// <summary>The value at <paramref name="path"/>; throws naming the field when it is not there.</summary>
    public JsonElement Field(FieldPath path) =>
        path.TryResolve(Element, out var value, out var problem) ? value : throw Error(path.Text, problem);

    public JsonElement Field(string name) =>
        Element.TryGetProperty(name, out var value) ? value : throw Error(name, "is missing");

    /// <summary>A non-empty string field, trimmed (data sets pad some questions with spaces, e.g. MultiArith's sQuestion).</summary>
    public string String(string name) => AsString(Field(name), name);

    public string String(FieldPath path) => AsString(Field(path), path.Text);

    /// <summary>A finite number field (System.Text.Json reads <c>1e400</c> as infinity, which would equal every large prediction).</summary>
    public double Number(string name) => AsNumber(Field(name), name);

    public double Number(FieldPath path) => AsNumber(Field(path), path.Text);

    private double AsNumber(JsonElement value, string field)
    {
        if (value.ValueKind != JsonValueKind.Number) throw Error(field, $"is {FieldPath.Describe(value.ValueKind)}, not a number");
        var number = value.GetDouble();
        return double.IsFinite(number) ? number : throw Error(field, $"is {value.GetRawText()}, too large to be a number here");
    }

    private string AsString(JsonElement value, string field)
    {
        if (value.ValueKind != JsonValueKind.String) throw Error(field, $"is {FieldPath.Describe(value.ValueKind)}, not a string");
        var text = value.GetString()!.Trim();
        return text.Length == 0 ? throw Error(field, "is empty") : text;
    }
}
