using System.Text.Json;
using System.Text.Json.Nodes;
using Specialist.Data;

namespace Specialist.Training;

/// <summary>One optimiser step as <c>metrics.jsonl</c> records it.</summary>
/// <param name="Step">The optimiser step (1-based).</param>
/// <param name="Epoch">The epoch (0-based) of its last micro-batch.</param>
/// <param name="Loss">The mean of its micro-batch losses.</param>
/// <param name="Lr">The learning rate it used.</param>
/// <param name="TokensPerSecond">Source and target tokens (padding excluded) per second of wall time.</param>
/// <param name="GradNorm">The gradient's L2 norm before clipping.</param>
/// <param name="LossByFormat">The mean micro-batch loss per format present in the step.</param>
/// <param name="ElapsedSeconds">Training wall time since the run began, over all sessions.</param>
public sealed record TrainStepRecord(long Step, int Epoch, double Loss, double Lr, double TokensPerSecond, double GradNorm,
    IReadOnlyDictionary<string, double> LossByFormat, double ElapsedSeconds);

/// <summary>One evaluation as <c>metrics.jsonl</c> (and the checkpoint's trainer state) records it.</summary>
/// <param name="Step">The optimiser step evaluated.</param>
/// <param name="Accuracy">Accuracy (0..1) per evaluation set.</param>
/// <param name="IdAccuracy">The in-distribution set's accuracy, or null without one.</param>
/// <param name="OodMean">The mean accuracy over the out-of-distribution sets (the paper's selection rule), or null without any.</param>
/// <param name="Checkpoint">The checkpoint folder, relative to the run folder.</param>
public sealed record EvalRecord(long Step, IReadOnlyDictionary<string, double> Accuracy, double? IdAccuracy, double? OodMean, string Checkpoint);

/// <summary>
/// <c>RUN/metrics.jsonl</c>: one JSON object per line, <c>"kind":"train"</c> per optimiser step and <c>"kind":"eval"</c>
/// per evaluation. Each line is flushed as written, so a killed run loses at most a partial last line; resuming first
/// cuts the file back to the resumed step (<see cref="TruncateAfter"/>).
/// </summary>
internal sealed class MetricsLog : IDisposable
{
    private readonly StreamWriter _writer;

    public MetricsLog(string path)
    {
        _writer = new StreamWriter(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read)) { NewLine = "\n" };
    }

    public void Write(TrainStepRecord r)
    {
        var byFormat = new JsonObject();
        foreach (var (format, loss) in r.LossByFormat.OrderBy(p => p.Key, StringComparer.Ordinal)) byFormat[format] = loss;
        WriteLine(new JsonObject
        {
            ["kind"] = "train", ["step"] = r.Step, ["epoch"] = r.Epoch, ["loss"] = r.Loss, ["lr"] = r.Lr,
            ["tokens_per_s"] = r.TokensPerSecond, ["grad_norm"] = r.GradNorm, ["loss_by_format"] = byFormat, ["elapsed_s"] = r.ElapsedSeconds,
        });
    }

    public void Write(EvalRecord r) => WriteLine(ToJson(r));

    /// <summary>An evaluation as a <c>"kind":"eval"</c> object (the same form the trainer state keeps).</summary>
    internal static JsonObject ToJson(EvalRecord r)
    {
        var accuracy = new JsonObject();
        foreach (var (set, value) in r.Accuracy) accuracy[set] = value;
        return new JsonObject
        {
            ["kind"] = "eval", ["step"] = r.Step, ["accuracy"] = accuracy, ["id_accuracy"] = r.IdAccuracy, ["ood_mean"] = r.OodMean,
            ["checkpoint"] = r.Checkpoint,
        };
    }

    /// <summary>Reads a <c>"kind":"eval"</c> object (a metrics line or an evaluation the trainer state keeps); errors name the field.</summary>
    internal static EvalRecord ReadEval(JsonRecord record)
    {
        var accuracy = record.Field("accuracy");
        if (accuracy.ValueKind != JsonValueKind.Object) throw record.Error("accuracy", "is not an object of set accuracies");
        var bySet = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var set in accuracy.EnumerateObject())
            bySet[set.Name] = set.Value.ValueKind == JsonValueKind.Number ? set.Value.GetDouble() : throw record.Error($"accuracy.{set.Name}", "is not a number");
        return new EvalRecord(Step(record), bySet, OptionalNumber(record, "id_accuracy"), OptionalNumber(record, "ood_mean"), record.String("checkpoint"));
    }

    /// <summary>Reads a <c>"kind":"train"</c> line.</summary>
    private static TrainStepRecord ReadTrain(JsonRecord record)
    {
        var byFormat = new Dictionary<string, double>(StringComparer.Ordinal);
        if (record.Element.TryGetProperty("loss_by_format", out var formats) && formats.ValueKind == JsonValueKind.Object)
            foreach (var format in formats.EnumerateObject())
                byFormat[format.Name] = format.Value.ValueKind == JsonValueKind.Number ? format.Value.GetDouble() : throw record.Error($"loss_by_format.{format.Name}", "is not a number");
        return new TrainStepRecord(Step(record), (int)record.Number("epoch"), record.Number("loss"), record.Number("lr"), record.Number("tokens_per_s"),
            record.Number("grad_norm"), byFormat, record.Number("elapsed_s"));
    }

    private static long Step(JsonRecord record)
    {
        var value = record.Number("step");
        return value == Math.Floor(value) && value is >= 0 and <= int.MaxValue ? (long)value : throw record.Error("step", $"is {value}, not a step number");
    }

    private static double? OptionalNumber(JsonRecord record, string name) =>
        record.Element.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? record.Number(name) : null;

    /// <summary>
    /// Reads <paramref name="path"/>: its train and eval lines, in order; errors name the file, line and field. An
    /// unterminated last line that is not yet valid JSON is left out: the trainer may be writing it right now.
    /// </summary>
    public static (IReadOnlyList<TrainStepRecord> Steps, IReadOnlyList<EvalRecord> Evaluations) Read(string path)
    {
        var steps = new List<TrainStepRecord>();
        var evaluations = new List<EvalRecord>();
        DataFiles.ReadJsonl(path, CompleteLines(File.ReadAllText(path)), record =>
        {
            var kind = record.Element.TryGetProperty("kind", out var k) && k.ValueKind == JsonValueKind.String ? k.GetString() : null;
            if (kind == "train") steps.Add(ReadTrain(record));
            else if (kind == "eval") evaluations.Add(ReadEval(record));
            return 0;
        });
        return (steps, evaluations);
    }

    private static string CompleteLines(string text)
    {
        var complete = text.LastIndexOf('\n') + 1;
        if (complete == text.Length) return text;
        try
        {
            using var _ = JsonDocument.Parse(text[complete..]);
            return text;
        }
        catch (JsonException)
        {
            return text[..complete];
        }
    }

    private void WriteLine(JsonObject line)
    {
        _writer.WriteLine(line.ToJsonString());
        _writer.Flush();
    }

    /// <summary>
    /// Rewrites <paramref name="path"/> (atomically) keeping only the records of steps up to <paramref name="step"/>:
    /// what a killed run logged after its last checkpoint is redone by the resumed run. A partial last line is dropped.
    /// </summary>
    public static void TruncateAfter(string path, long step)
    {
        if (!File.Exists(path)) return;
        var kept = new List<string>();
        foreach (var line in File.ReadLines(path))
        {
            JsonNode? node;
            try { node = JsonNode.Parse(line); }
            catch (JsonException) { continue; } // the line a kill cut short
            if (node?["step"] is JsonValue s && s.TryGetValue<long>(out var lineStep) && lineStep <= step) kept.Add(line);
        }
        AtomicFile.WriteText(path, kept.Count == 0 ? "" : string.Join("\n", kept) + "\n");
    }

    public void Dispose() => _writer.Dispose();
}
