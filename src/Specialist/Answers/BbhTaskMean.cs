using System.Globalization;

namespace Specialist.Answers;

/// <summary>
/// BIG-Bench Hard's headline number as the paper and BBH's authors report it: the unweighted mean over tasks, where a
/// task split over several files counts once, with the mean of its files' accuracies. BBH's 27 task files are 23 tasks:
/// <c>logical_deduction</c> and <c>tracking_shuffled_objects</c> come in three files each, one per number of objects
/// (<c>_three_objects</c>, <c>_five_objects</c>, <c>_seven_objects</c>); a plain mean over files would weigh each of
/// them three times.
/// </summary>
/// <param name="Value">The mean, 0..1.</param>
/// <param name="Tasks">The tasks averaged over.</param>
/// <param name="Files">The task files (per-file accuracies) they came from.</param>
public sealed record BbhTaskMean(double Value, int Tasks, int Files)
{
    private static readonly string[] ObjectCountSuffixes = ["_three_objects", "_five_objects", "_seven_objects"];

    /// <summary>
    /// The task a task file belongs to: <c>logical_deduction_five_objects</c> → <c>logical_deduction</c>; any name
    /// without an object-count suffix is a task of its own (so is a synthetic suite's single tracking task).
    /// </summary>
    public static string TaskOf(string file) =>
        ObjectCountSuffixes.FirstOrDefault(s => file.EndsWith(s, StringComparison.Ordinal)) is { } suffix ? file[..^suffix.Length] : file;

    /// <summary>The mean of per-file accuracies (file names as <see cref="TaskOf"/> reads them); null when there are none.</summary>
    public static BbhTaskMean? Of(IEnumerable<(string File, double Accuracy)> files)
    {
        var list = files.ToList();
        if (list.Count == 0) return null;
        var tasks = list.GroupBy(f => TaskOf(f.File), StringComparer.Ordinal).Select(t => t.Average(f => f.Accuracy)).ToList();
        return new BbhTaskMean(tasks.Average(), tasks.Count, list.Count);
    }

    /// <summary>Which mean this is, for a reader: e.g. "mean over 23 tasks (27 task files; a task's 3/5/7-object files averaged first)".</summary>
    public string Description => Tasks == Files
        ? string.Create(CultureInfo.InvariantCulture, $"mean over {Tasks} tasks")
        : string.Create(CultureInfo.InvariantCulture, $"mean over {Tasks} tasks ({Files} task files; a task's 3/5/7-object files averaged first)");
}
