using System.Text.Json;
using Specialist.Data;
using Specialist.Models;

namespace Specialist.Reports;

/// <summary>One optimiser step of a training run (a <c>"kind": "train"</c> line of metrics.jsonl).</summary>
public sealed record TrainStep(int Step, double Loss);

/// <summary>One dev evaluation of a checkpoint (a <c>"kind": "eval"</c> line of metrics.jsonl); accuracies in 0..1.</summary>
public sealed record DevEvaluation(int Step, IReadOnlyDictionary<string, double> Accuracy, double IdAccuracy, double OodMean, string? Checkpoint);

/// <summary>A checkpoint chosen by a selection rule, with the accuracy it was chosen by (0..1).</summary>
public sealed record SelectedCheckpoint(int Step, string? Checkpoint, double Accuracy);

/// <summary>
/// A training run folder as the trainer writes it: <c>config.json</c>, <c>metrics.jsonl</c> (train and eval lines),
/// <c>selection.json</c> and <c>checkpoints/step-NNNNNN/</c>. A run still in progress may lack selection.json; the
/// ID-best and OOD-best checkpoints are then taken from its evaluations (the first of equal ones).
/// </summary>
public sealed class TrainingRun
{
    /// <summary>The folder's name, used as the run's label.</summary>
    public required string Name { get; init; }

    /// <summary>The folder's full path.</summary>
    public required string Folder { get; init; }

    /// <summary>The resolved training config's scalar settings (strings, numbers, booleans) as text, in file order.</summary>
    public required IReadOnlyList<KeyValuePair<string, string>> Settings { get; init; }

    /// <summary>The training loss the config names (e.g. sample or distribution matching), when it names one.</summary>
    public string? Loss => Settings.FirstOrDefault(s => s.Key == "loss").Value;

    /// <summary>The in-distribution dev set (e.g. <c>gsm8k-dev</c>).</summary>
    public required string IdSet { get; init; }

    /// <summary>The out-of-distribution dev sets whose mean is <see cref="DevEvaluation.OodMean"/>.</summary>
    public required IReadOnlyList<string> OodSets { get; init; }

    public required IReadOnlyList<TrainStep> TrainSteps { get; init; }

    public required IReadOnlyList<DevEvaluation> Evaluations { get; init; }

    /// <summary>The checkpoint with the best in-distribution dev accuracy, when there was an evaluation.</summary>
    public required SelectedCheckpoint? BestId { get; init; }

    /// <summary>The checkpoint with the best out-of-distribution dev mean (the paper's choice, METHOD.md §7).</summary>
    public required SelectedCheckpoint? BestOod { get; init; }

    /// <summary>The student's parameter count, from a checkpoint's config.json (null when the run has no checkpoint yet).</summary>
    public required long? Parameters { get; init; }

    public const string MetricsFileName = "metrics.jsonl";
    public const string SelectionFileName = "selection.json";
    public const string ConfigFileName = "config.json";

    /// <summary>Reads a run folder; errors name the file, the line and the field.</summary>
    public static TrainingRun Read(string folder)
    {
        var full = Path.GetFullPath(folder);
        if (!Directory.Exists(full)) throw new SpecialistException($"training run not found: {full} is not a folder");
        var metricsPath = Path.Combine(full, MetricsFileName);
        if (!File.Exists(metricsPath)) throw new SpecialistException($"{full} is not a training run: it has no {MetricsFileName}");

        var steps = new List<TrainStep>();
        var evaluations = new List<DevEvaluation>();
        DataFiles.ReadJsonl(metricsPath, CompleteLines(File.ReadAllText(metricsPath)), record =>
        {
            var kind = record.Element.TryGetProperty("kind", out var k) && k.ValueKind == JsonValueKind.String ? k.GetString() : null;
            if (kind == "train") steps.Add(new TrainStep(Int(record, "step"), record.Number("loss")));
            else if (kind == "eval") evaluations.Add(ReadEvaluation(record));
            return 0;
        });

        var settings = ReadSettings(Path.Combine(full, ConfigFileName));
        var selectionPath = Path.Combine(full, SelectionFileName);
        string idSet;
        IReadOnlyList<string> oodSets;
        SelectedCheckpoint? bestId, bestOod;
        if (File.Exists(selectionPath))
        {
            using var document = JsonInput.ParseDocument(selectionPath, File.ReadAllText(selectionPath));
            var selection = new JsonRecord(selectionPath, "top level", 0, document.RootElement);
            idSet = selection.String("id_set");
            var ood = selection.Field("ood_sets");
            if (ood.ValueKind != JsonValueKind.Array || ood.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.String))
                throw selection.Error("ood_sets", "is not an array of set names");
            oodSets = [.. ood.EnumerateArray().Select(e => e.GetString()!)];
            bestId = ReadSelected(selectionPath, selection, "best_id", "accuracy");
            bestOod = ReadSelected(selectionPath, selection, "best_ood", "ood_mean");
        }
        else
        {
            var sets = evaluations.SelectMany(e => e.Accuracy.Keys).Distinct(StringComparer.Ordinal).ToList();
            idSet = sets.FirstOrDefault(s => s.StartsWith("gsm8k", StringComparison.Ordinal)) ?? "in-distribution";
            oodSets = [.. sets.Where(s => s != idSet)];
            bestId = Best(evaluations, e => e.IdAccuracy);
            bestOod = Best(evaluations, e => e.OodMean);
        }
        return new TrainingRun
        {
            Name = Path.GetFileName(full.TrimEnd(Path.DirectorySeparatorChar)),
            Folder = full,
            Settings = settings,
            IdSet = idSet,
            OodSets = oodSets,
            TrainSteps = steps,
            Evaluations = evaluations,
            BestId = bestId,
            BestOod = bestOod,
            Parameters = ParameterCount(full, bestOod?.Checkpoint, evaluations),
        };
    }

    /// <summary>Drops an unterminated last line that is not yet valid JSON: the trainer may be writing it right now.</summary>
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

    private static DevEvaluation ReadEvaluation(JsonRecord record)
    {
        var accuracy = record.Field("accuracy");
        if (accuracy.ValueKind != JsonValueKind.Object) throw record.Error("accuracy", "is not an object of set accuracies");
        var bySet = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var set in accuracy.EnumerateObject())
            bySet[set.Name] = set.Value.ValueKind == JsonValueKind.Number ? set.Value.GetDouble() : throw record.Error($"accuracy.{set.Name}", "is not a number");
        var checkpoint = record.Element.TryGetProperty("checkpoint", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null;
        return new DevEvaluation(Int(record, "step"), bySet, record.Number("id_accuracy"), record.Number("ood_mean"), checkpoint);
    }

    private static SelectedCheckpoint? ReadSelected(string path, JsonRecord selection, string name, string accuracyField)
    {
        if (!selection.Element.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        var record = new JsonRecord(path, name, 0, value);
        if (value.ValueKind != JsonValueKind.Object) throw selection.Error(name, "is not an object");
        var checkpoint = value.TryGetProperty("checkpoint", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null;
        return new SelectedCheckpoint(Int(record, "step"), checkpoint, record.Number(accuracyField));
    }

    private static SelectedCheckpoint? Best(IReadOnlyList<DevEvaluation> evaluations, Func<DevEvaluation, double> accuracy)
    {
        DevEvaluation? best = null;
        foreach (var e in evaluations)
            if (best is null || accuracy(e) > accuracy(best)) best = e;
        return best is null ? null : new SelectedCheckpoint(best.Step, best.Checkpoint, accuracy(best));
    }

    private static int Int(JsonRecord record, string name)
    {
        var value = record.Number(name);
        return value == Math.Floor(value) && value is >= 0 and <= int.MaxValue ? (int)value : throw record.Error(name, $"is {value}, not a step number");
    }

    /// <summary>config.json's scalar settings as text; nested objects and arrays are summarised as JSON.</summary>
    private static List<KeyValuePair<string, string>> ReadSettings(string path)
    {
        if (!File.Exists(path)) return [];
        using var document = JsonInput.ParseDocument(path, File.ReadAllText(path));
        if (document.RootElement.ValueKind != JsonValueKind.Object) throw new DataFormatException(path, "top level", null, "is not a JSON object");
        return [.. document.RootElement.EnumerateObject().Select(p => KeyValuePair.Create(p.Name,
            p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : p.Value.GetRawText()))];
    }

    /// <summary>The parameter count from a checkpoint's config.json: the OOD-best one, else any evaluated or saved one.</summary>
    private static long? ParameterCount(string folder, string? preferred, IReadOnlyList<DevEvaluation> evaluations)
    {
        var candidates = new[] { preferred }.Concat(evaluations.Select(e => e.Checkpoint))
            .Where(c => c is not null).Select(c => Path.Combine(folder, c!))
            .Concat(Directory.Exists(Path.Combine(folder, "checkpoints")) ? Directory.EnumerateDirectories(Path.Combine(folder, "checkpoints")).Order(StringComparer.Ordinal) : []);
        var config = candidates.Select(c => Path.Combine(c, T5Checkpoint.ConfigFileName)).FirstOrDefault(File.Exists);
        return config is null ? null : T5Model.ParameterShapes(T5Config.Read(config)).Sum(p => p.Shape.Aggregate(1L, (a, b) => a * b));
    }
}
