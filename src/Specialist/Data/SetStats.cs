using Specialist.Answers;

namespace Specialist.Data;

/// <summary>What a loaded set holds: counts of problems, answer kinds and rationales, question lengths, BBH tasks.</summary>
/// <param name="Set">The set name.</param>
/// <param name="Count">Number of problems.</param>
/// <param name="NumericAnswers">Problems whose gold is one number.</param>
/// <param name="WithRationale">Problems with a gold rationale.</param>
/// <param name="AnswerKinds">Problems per answer kind (every kind listed, zeros included).</param>
/// <param name="MeanQuestionChars">Mean question length in characters.</param>
/// <param name="MaxQuestionChars">Longest question in characters.</param>
/// <param name="Tasks">BBH sets only: problems per task, by task name in ordinal order; null for other sets.</param>
public sealed record SetStats(
    string Set,
    int Count,
    int NumericAnswers,
    int WithRationale,
    IReadOnlyDictionary<GoldAnswerKind, int> AnswerKinds,
    double MeanQuestionChars,
    int MaxQuestionChars,
    IReadOnlyDictionary<string, int>? Tasks)
{
    /// <summary>Counts what <paramref name="problems"/> (the set <paramref name="set"/>) hold.</summary>
    public static SetStats Compute(string set, IReadOnlyList<Problem> problems)
    {
        var kinds = Enum.GetValues<GoldAnswerKind>().ToDictionary(k => k, k => problems.Count(p => p.Answer.Kind == k));
        // BBH ids are bbh/<task>/<i>.
        var tasks = set == "bbh" || set.StartsWith("bbh/", StringComparison.Ordinal)
            ? problems.GroupBy(p => p.Id.Split('/')[1]).OrderBy(g => g.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count())
            : null;
        return new SetStats(
            set,
            problems.Count,
            problems.Count(p => p.Answer.IsNumeric),
            problems.Count(p => p.Rationale is not null),
            kinds,
            problems.Count == 0 ? 0 : problems.Average(p => p.Question.Length),
            problems.Count == 0 ? 0 : problems.Max(p => p.Question.Length),
            tasks);
    }
}
