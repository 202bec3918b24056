using System.Text.Json;
using Specialist.Models;

namespace Specialist.Training;

/// <summary>
/// A training run folder as <see cref="TrainingRecipe"/> writes it, read back: <c>config.json</c>, <c>metrics.jsonl</c>
/// (<see cref="MetricsLog"/>), <c>selection.json</c> (<see cref="RunSelection"/>) and <c>checkpoints/step-NNNNNN/</c>.
/// Reports, the pipeline and the CLI read runs through it. A run still in progress may lack selection.json; its
/// selection is then made from its evaluations by the same rule.
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

    /// <summary>The run's checkpoint selection: from selection.json, or made from the evaluations so far.</summary>
    public required RunSelection Selection { get; init; }

    /// <summary>The in-distribution dev set (e.g. <c>gsm8k-dev</c>).</summary>
    public string IdSet => Selection.IdSet;

    /// <summary>The out-of-distribution dev sets whose mean is <see cref="EvalRecord.OodMean"/>.</summary>
    public IReadOnlyList<string> OodSets => Selection.OodSets;

    /// <summary>The checkpoint with the best in-distribution dev accuracy, when there was an evaluation.</summary>
    public SelectedCheckpoint? BestId => Selection.BestId;

    /// <summary>The checkpoint with the best out-of-distribution dev mean (the paper's choice, METHOD.md §7).</summary>
    public SelectedCheckpoint? BestOod => Selection.BestOod;

    public required IReadOnlyList<TrainStepRecord> TrainSteps { get; init; }

    public required IReadOnlyList<EvalRecord> Evaluations { get; init; }

    /// <summary>The student's parameter count, from a checkpoint's config.json (null when the run has no checkpoint yet).</summary>
    public required long? Parameters { get; init; }

    public const string MetricsFileName = "metrics.jsonl";
    public const string ConfigFileName = "config.json";

    /// <summary>Reads a run folder; errors name the file, the line and the field.</summary>
    public static TrainingRun Read(string folder)
    {
        var full = Path.GetFullPath(folder);
        if (!Directory.Exists(full)) throw new SpecialistException($"training run not found: {full} is not a folder");
        var metricsPath = Path.Combine(full, MetricsFileName);
        if (!File.Exists(metricsPath)) throw new SpecialistException($"{full} is not a training run: it has no {MetricsFileName}");
        var (steps, evaluations) = MetricsLog.Read(metricsPath);

        var selection = RunSelection.Read(full);
        if (selection is null)
        {
            var sets = evaluations.SelectMany(e => e.Accuracy.Keys).Distinct(StringComparer.Ordinal).ToList();
            var idSet = sets.FirstOrDefault(s => s.StartsWith("gsm8k", StringComparison.Ordinal)) ?? "in-distribution";
            selection = RunSelection.From(idSet, [.. sets.Where(s => s != idSet)], evaluations, null);
        }
        return new TrainingRun
        {
            Name = Path.GetFileName(full.TrimEnd(Path.DirectorySeparatorChar)),
            Folder = full,
            Settings = ReadSettings(Path.Combine(full, ConfigFileName)),
            Selection = selection,
            TrainSteps = steps,
            Evaluations = evaluations,
            Parameters = ParameterCount(full, selection.BestOod?.Checkpoint, evaluations),
        };
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
    private static long? ParameterCount(string folder, string? preferred, IReadOnlyList<EvalRecord> evaluations)
    {
        var candidates = new[] { preferred }.Concat(evaluations.Select(e => e.Checkpoint))
            .Where(c => c is not null).Select(c => Path.Combine(folder, c!))
            .Concat(Directory.Exists(Path.Combine(folder, "checkpoints")) ? Directory.EnumerateDirectories(Path.Combine(folder, "checkpoints")).Order(StringComparer.Ordinal) : []);
        var checkpoint = candidates.FirstOrDefault(c => File.Exists(Path.Combine(c, T5Checkpoint.ConfigFileName)));
        return checkpoint is null ? null : StudentModel.CountParameters(checkpoint);
    }
}
