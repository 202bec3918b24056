using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Specialist.Answers;
using Specialist.Data;

namespace Specialist.Evaluation;

/// <summary>How an evaluation was made: everything needed to reproduce its numbers.</summary>
/// <param name="Model">What was evaluated: a model folder's full path, or <c>MODEL @ ENDPOINT</c>.</param>
/// <param name="ModelFingerprint">Identifies the weights (a hash of a folder's config and weight files) or the endpoint and model name.</param>
/// <param name="Parameters">The parameter count, when known (local models).</param>
/// <param name="Prompt">The math prompt: <c>4shot</c>, <c>zeroshot</c> or <c>teacher</c> (METHOD.md §6).</param>
/// <param name="BbhMode">BIG-Bench Hard prompting: <c>cot</c> or <c>ao</c>.</param>
/// <param name="Decoding">How outputs were decoded: <c>greedy</c> (local) or <c>temperature 0</c> (endpoint).</param>
/// <param name="MaxNewTokens">The most tokens generated per problem.</param>
/// <param name="Limit">The first this many problems of each set (of each task for <c>bbh</c>); null for all.</param>
/// <param name="Commit">The git commit the code was built from, or <c>unknown</c>.</param>
public sealed record EvaluationSettings(
    string Model, string ModelFingerprint, long? Parameters, string Prompt, string BbhMode, string Decoding, int MaxNewTokens, int? Limit, string Commit);

/// <summary>Correct answers out of a number of problems, with the 95 % Wilson interval.</summary>
public sealed record SetAccuracy(int Correct, int Total)
{
    /// <summary>Correct / Total (0 for no problems).</summary>
    public double Accuracy => Total == 0 ? 0 : (double)Correct / Total;

    /// <summary>The 95 % Wilson interval of <see cref="Accuracy"/>.</summary>
    public (double Lo, double Hi) Ci95 => WilsonInterval.Compute(Correct, Total);
}

/// <summary>
/// <c>results.json</c> of an evaluation folder:
/// <c>{"settings": {...}, "sets": {"gsm8k-test": {"accuracy", "correct", "total", "ci95": [lo, hi]}, ...},
/// "bbh": {"tasks": {file: {...}}, "mean": x, "mean_tasks": 23, "mean_is": "mean over 23 tasks (27 task files; …)"}}</c>
/// (<c>bbh</c> only when a BBH set was evaluated). <c>tasks</c> has one entry per task file; <c>mean</c> is
/// <see cref="BbhTaskMean"/>, over tasks, and <c>mean_is</c> says so. Reading recomputes the mean from <c>tasks</c>.
/// </summary>
/// <param name="Settings">How the numbers were made.</param>
/// <param name="Sets">Per evaluated set, in the order asked.</param>
/// <param name="BbhTasks">Per BIG-Bench Hard task file, when any BBH problem was evaluated.</param>
public sealed record EvaluationResults(EvaluationSettings Settings, IReadOnlyDictionary<string, SetAccuracy> Sets, IReadOnlyDictionary<string, SetAccuracy>? BbhTasks)
{
    /// <summary>The file name inside an evaluation folder.</summary>
    public const string FileName = "results.json";

    /// <summary>The paper's BBH number: the unweighted mean over tasks, a task's 3/5/7-object files averaged first; null without tasks.</summary>
    public BbhTaskMean? BbhMean => BbhTasks is null ? null : BbhTaskMean.Of(BbhTasks.Select(t => (t.Key, t.Value.Accuracy)));

    /// <summary>The unweighted mean accuracy over the evaluated sets that are not BIG-Bench Hard (the math sets); null when there are none.</summary>
    public double? MathMean
    {
        get
        {
            var math = Sets.Where(s => !SetScore.IsBbhSet(s.Key)).Select(s => s.Value.Accuracy).ToList();
            return math.Count > 0 ? math.Average() : null;
        }
    }

    internal static readonly JsonSerializerOptions Json = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The JSON form described above.</summary>
    public JsonObject ToJson()
    {
        var s = Settings;
        var json = new JsonObject
        {
            ["settings"] = new JsonObject
            {
                ["model"] = s.Model,
                ["model_fingerprint"] = s.ModelFingerprint,
                ["parameters"] = s.Parameters,
                ["prompt"] = s.Prompt,
                ["bbh_mode"] = s.BbhMode,
                ["decoding"] = s.Decoding,
                ["max_new_tokens"] = s.MaxNewTokens,
                ["limit"] = s.Limit,
                ["commit"] = s.Commit,
            },
            ["sets"] = AccuracyTable(Sets),
        };
        if (BbhTasks is not null)
            json["bbh"] = new JsonObject
            {
                ["tasks"] = AccuracyTable(BbhTasks),
                ["mean"] = BbhMean?.Value,
                ["mean_tasks"] = BbhMean?.Tasks,
                ["mean_is"] = BbhMean?.Description,
            };
        return json;
    }

    internal static JsonObject AccuracyJson(SetAccuracy a) => new()
    {
        ["accuracy"] = a.Accuracy,
        ["correct"] = a.Correct,
        ["total"] = a.Total,
        ["ci95"] = new JsonArray(a.Ci95.Lo, a.Ci95.Hi),
    };

    /// <summary>An accuracy table as <c>results.json</c> and <c>--json</c> print it: <c>{SET: {"accuracy", "correct", "total", "ci95"}}</c>.</summary>
    public static JsonObject AccuracyTable(IReadOnlyDictionary<string, SetAccuracy> table) =>
        new(table.Select(p => KeyValuePair.Create(p.Key, (JsonNode?)AccuracyJson(p.Value))));

    /// <summary>Writes <c>results.json</c> into <paramref name="folder"/> atomically (a temporary file renamed over it).</summary>
    public void Write(string folder)
    {
        AtomicFile.WriteText(Path.Combine(folder, FileName), ToJson().ToJsonString(Json) + "\n");
    }

    /// <summary>Reads an evaluation folder's <c>results.json</c> (or that file itself); errors name the file and field.</summary>
    public static EvaluationResults Read(string folderOrFile)
    {
        var path = Directory.Exists(folderOrFile) ? Path.Combine(folderOrFile, FileName) : folderOrFile;
        if (!File.Exists(path)) throw new SpecialistException($"evaluation results not found: {Path.GetFullPath(path)} (write them with 'specialist eval ... --out DIR')");
        using var document = JsonInput.ParseDocument(path, File.ReadAllText(path));
        var root = new JsonRecord(path, "top level", 0, document.RootElement);
        if (document.RootElement.ValueKind != JsonValueKind.Object) throw root.Error(null, "is not a JSON object");
        var settings = root.Field("settings");
        var at = new JsonRecord(path, "settings", 0, settings);
        if (settings.ValueKind != JsonValueKind.Object) throw at.Error(null, "is not a JSON object");
        var parsed = new EvaluationSettings(
            at.String("model"), at.String("model_fingerprint"), OptionalLong(at, "parameters"), at.String("prompt"), at.String("bbh_mode"),
            at.String("decoding"), (int)at.Number("max_new_tokens"), (int?)OptionalLong(at, "limit"), at.String("commit"));
        var sets = ReadTable(path, "sets", root.Field("sets"));
        IReadOnlyDictionary<string, SetAccuracy>? tasks = null;
        if (document.RootElement.TryGetProperty("bbh", out var bbh) && bbh.ValueKind == JsonValueKind.Object)
            tasks = ReadTable(path, "bbh.tasks", new JsonRecord(path, "bbh", 0, bbh).Field("tasks"));
        return new EvaluationResults(parsed, sets, tasks);
    }

    private static long? OptionalLong(JsonRecord record, string name) =>
        record.Element.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null ? (long)record.Number(name) : null;

    private static Dictionary<string, SetAccuracy> ReadTable(string path, string location, JsonElement table)
    {
        if (table.ValueKind != JsonValueKind.Object) throw new DataFormatException(path, location, null, "is not a JSON object");
        var result = new Dictionary<string, SetAccuracy>(StringComparer.Ordinal);
        foreach (var entry in table.EnumerateObject())
        {
            var record = new JsonRecord(path, $"{location}.{entry.Name}", 0, entry.Value);
            if (entry.Value.ValueKind != JsonValueKind.Object) throw record.Error(null, "is not a JSON object");
            var correct = record.Number("correct");
            var total = record.Number("total");
            if (correct < 0 || total < correct || correct != Math.Floor(correct) || total != Math.Floor(total))
                throw record.Error("correct", $"is {correct} of {total}: needs whole numbers with 0 ≤ correct ≤ total");
            result[entry.Name] = new SetAccuracy((int)correct, (int)total);
        }
        return result;
    }
}
