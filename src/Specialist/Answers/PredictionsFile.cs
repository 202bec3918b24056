using System.Text.Json;

namespace Specialist.Answers;

/// <summary>One line of a predictions file: a problem id and the model's output for it.</summary>
/// <param name="Id">The problem's id in its set.</param>
/// <param name="Output">The model's output text.</param>
/// <param name="Line">The 1-based line of the file it came from.</param>
public sealed record Prediction(string Id, string Output, int Line);

/// <summary>A JSONL file of predictions, one <c>{"id": ..., "output": ...}</c> object a line (blank lines skipped).</summary>
public sealed class PredictionsFile
{
    private PredictionsFile(string path, IReadOnlyList<Prediction> predictions)
    {
        Path = path;
        Predictions = predictions;
    }

    /// <summary>The file it was read from.</summary>
    public string Path { get; }

    /// <summary>The predictions in file order; their ids are distinct.</summary>
    public IReadOnlyList<Prediction> Predictions { get; }

    /// <summary>
    /// Reads a predictions file. Throws <see cref="DataFormatException"/> naming the line and field for a line that
    /// is not a JSON object, lacks a string <c>id</c> or <c>output</c>, or repeats an earlier line's id.
    /// </summary>
    public static PredictionsFile Read(string path)
    {
        if (!File.Exists(path)) throw new SpecialistException($"predictions file not found: {path}");
        var predictions = new List<Prediction>();
        var lineOfId = new Dictionary<string, int>(StringComparer.Ordinal);
        var lineNumber = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            var location = $"line {lineNumber}";
            using var document = JsonInput.ParseDocument(path, line, lineNumber);
            var record = document.RootElement;
            if (record.ValueKind != JsonValueKind.Object) throw new DataFormatException(path, location, null, "is not a JSON object");
            var id = RequireString(record, "id", path, location);
            var output = RequireString(record, "output", path, location);
            if (lineOfId.TryGetValue(id, out var firstLine))
                throw new DataFormatException(path, location, "id", $"repeats id '{id}' of line {firstLine}");
            lineOfId[id] = lineNumber;
            predictions.Add(new Prediction(id, output, lineNumber));
        }
        return new PredictionsFile(path, predictions);
    }

    private static string RequireString(JsonElement record, string field, string path, string location)
    {
        if (!record.TryGetProperty(field, out var value)) throw new DataFormatException(path, location, field, "is missing");
        return value.ValueKind == JsonValueKind.String
            ? value.GetString()!
            : throw new DataFormatException(path, location, field, $"must be a string, not {value.ValueKind.ToString().ToLowerInvariant()}");
    }
}
