using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using Specialist.Data;

namespace Specialist.Training;

/// <summary>A chosen checkpoint.</summary>
/// <param name="Step">Its optimiser step.</param>
/// <param name="Checkpoint">Its folder, relative to the run folder.</param>
/// <param name="Score">What chose it: the ID accuracy, or the OOD mean.</param>
public sealed record SelectedCheckpoint(long Step, string Checkpoint, double Score);

/// <summary>
/// Model selection (METHOD.md §7): the best in-distribution checkpoint, the best out-of-distribution one (the mean
/// accuracy over the OOD dev sets — the paper's rule) and the last. Ties go to the earlier step, the first checkpoint
/// to reach the score.
/// </summary>
/// <param name="IdSet">The in-distribution set.</param>
/// <param name="OodSets">The out-of-distribution sets.</param>
/// <param name="BestId">The best ID checkpoint, null before any evaluation with an ID set.</param>
/// <param name="BestOod">The best OOD checkpoint, null before any evaluation with OOD sets.</param>
/// <param name="Last">The latest checkpoint (step and folder; its score is 0), null before any.</param>
public sealed record RunSelection(string IdSet, IReadOnlyList<string> OodSets, SelectedCheckpoint? BestId, SelectedCheckpoint? BestOod, SelectedCheckpoint? Last)
{
    public const string FileName = "selection.json";
    public const string BestOodLink = "best-ood";

    /// <summary>Selects from the evaluations so far; <paramref name="last"/> is the latest saved checkpoint.</summary>
    public static RunSelection From(string idSet, IReadOnlyList<string> oodSets, IReadOnlyList<EvalRecord> evaluations, (long Step, string Checkpoint)? last)
    {
        static SelectedCheckpoint? Best(IEnumerable<(EvalRecord Eval, double? Score)> scored) =>
            scored.Where(s => s.Score is not null)
                .OrderByDescending(s => s.Score!.Value).ThenBy(s => s.Eval.Step)
                .Select(s => new SelectedCheckpoint(s.Eval.Step, s.Eval.Checkpoint, s.Score!.Value))
                .FirstOrDefault();
        return new RunSelection(idSet, oodSets,
            Best(evaluations.Select(e => (e, e.IdAccuracy))),
            Best(evaluations.Select(e => (e, e.OodMean))),
            last is { } l ? new SelectedCheckpoint(l.Step, l.Checkpoint, 0) : null);
    }

    /// <summary>The checkpoint folders this selection names (kept whatever the retention).</summary>
    public IEnumerable<string> Kept => new[] { BestId, BestOod, Last }.Where(s => s is not null).Select(s => s!.Checkpoint).Distinct();

    /// <summary>
    /// Points <c>best-ood</c> (a relative symlink) at the best OOD checkpoint, then writes <c>selection.json</c>, both
    /// atomically. The file goes last: once it names a checkpoint as <c>last</c>, the link matches it too.
    /// </summary>
    public void Write(string runDirectory)
    {
        if (BestOod is not null) PointLink(runDirectory, BestOodLink, BestOod.Checkpoint);
        AtomicFile.WriteText(Path.Combine(runDirectory, FileName), ToJson().ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }

    /// <summary>The form <c>selection.json</c> (and <c>train --json</c>) give it.</summary>
    public JsonObject ToJson()
    {
        static JsonNode? Entry(SelectedCheckpoint? s, string scoreKey) => s is null ? null
            : scoreKey.Length == 0 ? new JsonObject { ["step"] = s.Step, ["checkpoint"] = s.Checkpoint }
            : new JsonObject { ["step"] = s.Step, ["checkpoint"] = s.Checkpoint, [scoreKey] = s.Score };
        return new JsonObject
        {
            ["id_set"] = IdSet,
            ["ood_sets"] = new JsonArray([.. OodSets.Select(s => (JsonNode?)JsonValue.Create(s))]),
            ["best_id"] = Entry(BestId, "accuracy"),
            ["best_ood"] = Entry(BestOod, "ood_mean"),
            ["last"] = Entry(Last, ""),
        };
    }

    /// <summary>Reads the <c>selection.json</c> of <paramref name="runDirectory"/>, null when there is none; errors name the file and field.</summary>
    public static RunSelection? Read(string runDirectory)
    {
        var path = Path.Combine(runDirectory, FileName);
        if (!File.Exists(path)) return null;
        using var document = JsonInput.ParseDocument(path, File.ReadAllText(path));
        var selection = new JsonRecord(path, "top level", 0, document.RootElement);
        if (document.RootElement.ValueKind != JsonValueKind.Object) throw selection.Error(null, "is not a JSON object");
        var ood = selection.Field("ood_sets");
        if (ood.ValueKind != JsonValueKind.Array || ood.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.String))
            throw selection.Error("ood_sets", "is not an array of set names");
        SelectedCheckpoint? Entry(string name, string? scoreKey)
        {
            if (!selection.Element.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) return null;
            if (value.ValueKind != JsonValueKind.Object) throw selection.Error(name, "is not an object");
            var entry = new JsonRecord(path, name, 0, value);
            var step = entry.Number("step");
            if (step != Math.Floor(step) || step < 0) throw entry.Error("step", $"is {step}, not a step number");
            return new SelectedCheckpoint((long)step, entry.String("checkpoint"), scoreKey is null ? 0 : entry.Number(scoreKey));
        }
        return new RunSelection(selection.String("id_set"), [.. ood.EnumerateArray().Select(e => e.GetString()!)],
            Entry("best_id", "accuracy"), Entry("best_ood", "ood_mean"), Entry("last", null));
    }

    /// <summary>The step of the <c>last</c> checkpoint the <c>selection.json</c> of <paramref name="runDirectory"/> names; null without one.</summary>
    public static long? LastStep(string runDirectory) => Read(runDirectory)?.Last?.Step;

    // A new link under a temporary name renamed over the old one: readers see the old or the new target, never none.
    private static void PointLink(string runDirectory, string name, string target)
    {
        var link = Path.Combine(runDirectory, name);
        if (new FileInfo(link).LinkTarget == target) return;
        var temp = AtomicFile.TemporaryPath(link);
        File.CreateSymbolicLink(temp, target);
        // rename(2) itself: File.Move would follow the link to its folder.
        if (Rename(temp, link) != 0)
        {
            var error = Marshal.GetLastPInvokeErrorMessage();
            File.Delete(temp);
            throw new SpecialistException($"cannot point {link} at {target}: {error}");
        }
    }

    [DllImport("libc", EntryPoint = "rename", SetLastError = true)]
    private static extern int Rename(string oldPath, string newPath);
}
