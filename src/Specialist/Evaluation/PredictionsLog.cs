using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Specialist.Data;

namespace Specialist.Evaluation;

/// <summary>
/// <c>predictions.jsonl</c> of an evaluation folder: one line per answered problem,
/// <c>{"id", "set", "model", "decoding", "prompt_hash", "output", "extracted", "gold", "correct"}</c>, appended and
/// flushed as each batch finishes. An output is reused for the same problem id, query (prompt hash), model
/// (fingerprint) and decoding, so an interrupted or repeated evaluation decodes only what is missing.
/// </summary>
internal sealed class PredictionsLog : IDisposable
{
    public const string FileName = "predictions.jsonl";

    private readonly Dictionary<(string Id, string PromptHash, string Model, string Decoding), string> _outputs = new();
    private readonly StreamWriter _writer;

    private static readonly JsonSerializerOptions LineJson = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private PredictionsLog(StreamWriter writer) => _writer = writer;

    /// <summary>
    /// Opens (or creates) the log in <paramref name="folder"/>. A last line without its newline is what a killed
    /// process left half-written: it is dropped. Any other malformed line is an error naming its line and field.
    /// </summary>
    public static PredictionsLog Open(string folder)
    {
        var path = Path.Combine(folder, FileName);
        var text = File.Exists(path) ? File.ReadAllText(path, Encoding.UTF8) : "";
        var complete = text.LastIndexOf('\n') + 1;
        if (complete < text.Length)
        {
            using var truncate = new FileStream(path, FileMode.Open, FileAccess.Write);
            truncate.SetLength(Encoding.UTF8.GetByteCount(text.AsSpan(0, complete)));
            text = text[..complete];
        }
        var entries = DataFiles.ReadJsonl(path, text, record => (
            Id: RequireString(record, "id"), PromptHash: RequireString(record, "prompt_hash"), Model: RequireString(record, "model"),
            Decoding: RequireString(record, "decoding"), Output: RequireString(record, "output")));
        var stream = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read);
        var log = new PredictionsLog(new StreamWriter(stream, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false)));
        foreach (var e in entries) log._outputs[(e.Id, e.PromptHash, e.Model, e.Decoding)] = e.Output;
        return log;
    }

    /// <summary>What a line's <c>decoding</c> records: the model's decoding and its new-token limit.</summary>
    public static string DecodingKey(string decoding, int maxNewTokens) => $"{decoding}, max {maxNewTokens} new tokens";

    /// <summary>
    /// Whether each problem of the evaluation in <paramref name="folder"/> was answered correctly, by set and problem id,
    /// from the lines its model and decoding wrote (the last one where a problem has several: a repeated query).
    /// Throws <see cref="DataFormatException"/> when the lines do not add up to <paramref name="results"/>' counts, so
    /// paired comparisons never rest on a partial or foreign log.
    /// </summary>
    public static IReadOnlyDictionary<string, IReadOnlyDictionary<string, bool>> ReadCorrect(string folder, EvaluationResults results)
    {
        var path = Path.Combine(folder, FileName);
        if (!File.Exists(path)) throw new SpecialistException($"per-problem results not found: {Path.GetFullPath(path)}");
        var decoding = DecodingKey(results.Settings.Decoding, results.Settings.MaxNewTokens);
        var bySet = new Dictionary<string, Dictionary<string, bool>>(StringComparer.Ordinal);
        DataFiles.ReadJsonl(path, File.ReadAllText(path, Encoding.UTF8), record =>
        {
            if (RequireString(record, "model") != results.Settings.ModelFingerprint || RequireString(record, "decoding") != decoding) return 0;
            var correct = record.Field("correct");
            if (correct.ValueKind is not (JsonValueKind.True or JsonValueKind.False)) throw record.Error("correct", $"is {FieldPath.Describe(correct.ValueKind)}, not true or false");
            var set = RequireString(record, "set");
            if (!bySet.TryGetValue(set, out var items)) bySet[set] = items = new Dictionary<string, bool>(StringComparer.Ordinal);
            items[RequireString(record, "id")] = correct.GetBoolean();
            return 0;
        });
        foreach (var (set, accuracy) in results.Sets)
        {
            var items = bySet.GetValueOrDefault(set);
            var (total, right) = (items?.Count ?? 0, items?.Values.Count(c => c) ?? 0);
            if (total != accuracy.Total || right != accuracy.Correct)
                throw new DataFormatException(path, $"set {set}", "correct",
                    $"has {right} of {total} problems right for this model, but {EvaluationResults.FileName} says {accuracy.Correct} of {accuracy.Total}");
        }
        return bySet.ToDictionary(p => p.Key, p => (IReadOnlyDictionary<string, bool>)p.Value, StringComparer.Ordinal);
    }

    /// <summary>The recorded output for this problem, query, model and decoding, or null.</summary>
    public string? Find(string id, string promptHash, string model, string decoding) =>
        _outputs.GetValueOrDefault((id, promptHash, model, decoding));

    /// <summary>Appends one line and flushes it to the operating system, so a killed process keeps it.</summary>
    public void Append(string set, string model, string decoding, PredictionRecord record)
    {
        var line = new JsonObject
        {
            ["id"] = record.Id,
            ["set"] = set,
            ["model"] = model,
            ["decoding"] = decoding,
            ["prompt_hash"] = record.PromptHash,
            ["output"] = record.Output,
            ["extracted"] = record.Extracted,
            ["gold"] = record.Gold,
            ["correct"] = record.Correct,
        };
        _writer.Write(line.ToJsonString(LineJson) + "\n");
        _writer.Flush();
        _outputs[(record.Id, record.PromptHash, model, decoding)] = record.Output;
    }

    public void Dispose() => _writer.Dispose();

    /// <summary>A string field, kept exactly (outputs may be empty or start with spaces).</summary>
    private static string RequireString(JsonRecord record, string name)
    {
        var value = record.Field(name);
        return value.ValueKind == JsonValueKind.String ? value.GetString()! : throw record.Error(name, $"is {FieldPath.Describe(value.ValueKind)}, not a string");
    }
}
