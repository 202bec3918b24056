namespace Specialist.Teachers;

/// <summary>A candidate token at one position and its log-probability.</summary>
public readonly record struct TopCandidate(string Token, float Logprob);

/// <summary>One generated position: the sampled token (its string as the teacher gave it), its log-probability and the top-k candidates.</summary>
public sealed record TokenPosition(string Token, float Logprob, IReadOnlyList<TopCandidate> Top);

/// <summary>One sample (a choice) of a teacher's answer.</summary>
/// <param name="Text">The generated text.</param>
/// <param name="FinishReason">Why it ended (<c>stop</c>, <c>length</c>, ...), as the endpoint said.</param>
/// <param name="Positions">Per token, when log-probs were asked for; null otherwise.</param>
public sealed record TeacherSample(string Text, string? FinishReason, IReadOnlyList<TokenPosition>? Positions);

/// <summary>A parsed teacher response: its samples in choice order and the tokens it billed.</summary>
public sealed record TeacherCompletion(IReadOnlyList<TeacherSample> Samples, long PromptTokens, long CompletionTokens);

/// <summary>The result of asking a teacher once (with retries): a completion, or why there is none.</summary>
/// <param name="Completion">The parsed response, or null when the request failed.</param>
/// <param name="Error">Why it failed (null on success).</param>
/// <param name="Attempts">HTTP attempts made, retries included.</param>
public sealed record TeacherOutcome(TeacherCompletion? Completion, string? Error, int Attempts)
{
    /// <summary>Whether a completion came back.</summary>
    public bool Succeeded => Completion is not null;
}
