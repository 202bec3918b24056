using Specialist.Answers;

namespace Specialist.Data;

/// <summary>One problem of a data set.</summary>
/// <param name="Id">Stable id, e.g. <c>gsm8k-train/17</c> or <c>bbh/navigate/3</c>.</param>
/// <param name="Question">The question text as the model sees it.</param>
/// <param name="Answer">The gold answer.</param>
/// <param name="Rationale">The gold chain of thought, where the set has one (GSM8K: with calculator marks).</param>
public sealed record Problem(string Id, string Question, GoldAnswer Answer, string? Rationale = null)
{
    /// <summary>The id prefix of the synthetic BBH-like problems (<c>synth-bbh/&lt;task&gt;/&lt;i&gt;</c>), scored as BBH ones.</summary>
    public const string SyntheticBbhPrefix = "synth-bbh/";

    /// <summary>
    /// How the problem is scored: its BBH task when it is a BBH problem (ids <c>bbh/&lt;task&gt;/&lt;i&gt;</c> and
    /// <see cref="SyntheticBbhPrefix"/>), scored by its target; null for a math problem, scored by its gold number.
    /// </summary>
    public string? BbhTask => BbhTaskOf(Id);

    /// <summary>The BBH task of a problem id (see <see cref="BbhTask"/>), for records that keep only the id.</summary>
    public static string? BbhTaskOf(string problemId) =>
        problemId.StartsWith("bbh/", StringComparison.Ordinal) || problemId.StartsWith(SyntheticBbhPrefix, StringComparison.Ordinal)
            ? problemId.Split('/')[1] : null;
}
