using Specialist.Answers;
using Specialist.Data;

namespace Specialist.Evaluation;

/// <summary>How a predictions file scored on a set.</summary>
/// <param name="Set">The set's name.</param>
/// <param name="Total">Problems in the set; a problem without a prediction counts as wrong.</param>
/// <param name="Scored">Problems that had a prediction.</param>
/// <param name="Correct">Problems answered correctly.</param>
/// <param name="Tasks">For the whole of <c>bbh</c>: each task file's own score (sets <c>bbh/&lt;task&gt;</c>).</param>
public sealed record SetScore(string Set, int Total, int Scored, int Correct, IReadOnlyList<SetScore>? Tasks = null)
{
    /// <summary>BIG-Bench Hard's headline number (METHOD.md §6) over <see cref="Tasks"/>, when there are tasks: see <see cref="BbhTaskMean"/>.</summary>
    public BbhTaskMean? TaskMean => Tasks is null ? null : BbhTaskMean.Of(Tasks.Select(t => (t.Set[(t.Set.IndexOf('/') + 1)..], t.Accuracy)));

    /// <summary>Correct / Total (0 for an empty set).</summary>
    public double Accuracy => Total == 0 ? 0 : (double)Correct / Total;

    /// <summary>The 95 % Wilson interval of <see cref="Accuracy"/>.</summary>
    public (double Lo, double Hi) Ci95 => WilsonInterval.Compute(Correct, Total);

    /// <summary>
    /// Whether a set name is BIG-Bench Hard (<c>bbh</c> or <c>bbh/&lt;task&gt;</c>) or the miniature world's BBH-like
    /// generic suite (names starting <c>synth-bbh</c>), scored with <see cref="BbhAnswerScorer"/>.
    /// </summary>
    public static bool IsBbhSet(string setName) =>
        setName == "bbh" || setName.StartsWith("bbh/", StringComparison.Ordinal) || setName.StartsWith("synth-bbh", StringComparison.Ordinal);

    /// <summary>
    /// Scores <paramref name="predictions"/> on <paramref name="problems"/>: math problems with
    /// <see cref="AnswerScorer"/>, or, when <paramref name="bbhMode"/> is given, BBH targets with
    /// <see cref="BbhAnswerScorer"/>. Throws <see cref="SpecialistException"/> when a prediction's id is not in the set.
    /// </summary>
    public static SetScore Compute(string setName, IReadOnlyList<Problem> problems, PredictionsFile predictions, BbhMode? bbhMode = null)
    {
        var byId = new Dictionary<string, Problem>(problems.Count, StringComparer.Ordinal);
        foreach (var p in problems) byId[p.Id] = p;
        var unknown = predictions.Predictions.Where(p => !byId.ContainsKey(p.Id)).ToList();
        if (unknown.Count > 0)
        {
            var shown = string.Join(", ", unknown.Take(5).Select(p => $"'{p.Id}' (line {p.Line})"));
            throw new SpecialistException(
                $"{predictions.Path}: {unknown.Count} prediction id{(unknown.Count == 1 ? " is" : "s are")} not in set '{setName}': {shown}{(unknown.Count > 5 ? ", ..." : "")}");
        }
        var correctIds = predictions.Predictions.Where(p =>
        {
            var gold = byId[p.Id].Answer;
            return bbhMode is { } mode ? BbhAnswerScorer.IsCorrect(p.Output, gold.Text, mode) : AnswerScorer.IsCorrect(p.Output, gold);
        }).Select(p => p.Id).ToHashSet(StringComparer.Ordinal);
        var scoredIds = predictions.Predictions.Select(p => p.Id).ToHashSet(StringComparer.Ordinal);

        List<SetScore>? tasks = null;
        if (setName == "bbh")
            tasks = problems.GroupBy(p => p.Id.Split('/')[1], StringComparer.Ordinal)
                .Select(g => new SetScore("bbh/" + g.Key, g.Count(), g.Count(p => scoredIds.Contains(p.Id)), g.Count(p => correctIds.Contains(p.Id))))
                .OrderBy(t => t.Set, StringComparer.Ordinal)
                .ToList();
        return new SetScore(setName, problems.Count, scoredIds.Count, correctIds.Count, tasks);
    }
}
