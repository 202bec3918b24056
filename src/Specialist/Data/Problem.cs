using Specialist.Answers;

namespace Specialist.Data;

/// <summary>One problem of a data set.</summary>
/// <param name="Id">Stable id, e.g. <c>gsm8k-train/17</c> or <c>bbh/navigate/3</c>.</param>
/// <param name="Question">The question text as the model sees it.</param>
/// <param name="Answer">The gold answer.</param>
/// <param name="Rationale">The gold chain of thought, where the set has one (GSM8K: with calculator marks).</param>
public sealed record Problem(string Id, string Question, GoldAnswer Answer, string? Rationale = null);
