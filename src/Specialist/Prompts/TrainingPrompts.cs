using System.Text;
using Specialist.Answers;
using Specialist.Data;

namespace Specialist.Prompts;

/// <summary>The paper's four training formats (METHOD.md §2).</summary>
public enum TrainingFormat
{
    /// <summary><c>Q: {q} A:</c> → <c>The answer is N</c>.</summary>
    ZeroShotAnswerOnly,
    /// <summary><c>Q: {q}\nLet's think step by step</c> → the teacher's chain of thought.</summary>
    ZeroShotCot,
    /// <summary>Answer-only demos, then <c>Q: {q}\nA:</c> → <c>The answer is N</c>.</summary>
    InContextAnswerOnly,
    /// <summary>Chain-of-thought demos, then <c>Q: {q}\nLet's think step by step</c> → the teacher's chain of thought.</summary>
    InContextCot,
}

/// <summary>
/// Renders the encoder input and decoder target of a training example in one of the four formats, as the authors'
/// code does (src/data_utils.py: <c>sample_in_context_example</c>, <c>process_data_format</c>).
/// </summary>
/// <remarks>
/// Demonstrations (drawn by the caller, e.g. with <see cref="DemoSampler"/>) are laid out as
/// <list type="bullet">
/// <item>answer-only: <c>Q: {q}\nA: The answer is N\n\n</c></item>
/// <item>chain of thought: <c>Q: {q}\nLet's think step by step\n{rationale}\nThe answer is N\n\n</c>, the rationale
/// being the gold one with its calculator marks <c>&lt;&lt;..&gt;&gt;</c> removed and its trailing blank space
/// trimmed. This is the authors' layout (the GSM8K answer up to <c>####</c> ends with one newline, and
/// "The answer is N" follows it) and the same as the 4-shot evaluation prompt <c>prompt_simple_4_cases.txt</c>,
/// whose examples read <c>Q: ...\nLet's think step by step\n...\nThe answer is N</c> separated by blank lines.</item>
/// </list>
/// N is the gold answer's text (<see cref="GoldAnswer.Text"/>: for GSM8K the number after <c>####</c>, without
/// thousands commas; the authors kept the raw text, so their "1,234" is our "1234").
/// </remarks>
public static class TrainingPrompts
{
    /// <summary>Demos per in-context example in the paper.</summary>
    public const int DemoCount = 4;

    /// <summary>What follows the question in the chain-of-thought formats.</summary>
    internal const string ThinkStepByStep = "Let's think step by step";

    /// <summary>Whether the format starts with demonstrations.</summary>
    public static bool IsInContext(TrainingFormat format) => format is TrainingFormat.InContextAnswerOnly or TrainingFormat.InContextCot;

    /// <summary>Whether the format's target is the teacher's chain of thought (otherwise "The answer is N").</summary>
    public static bool IsCot(TrainingFormat format) => format is TrainingFormat.ZeroShotCot or TrainingFormat.InContextCot;

    /// <summary>
    /// The encoder input for <paramref name="question"/>. In-context formats need <paramref name="demos"/> (the paper
    /// uses <see cref="DemoCount"/>; for chain of thought each needs a <see cref="Problem.Rationale"/>); zero-shot
    /// formats take none.
    /// </summary>
    public static string Input(TrainingFormat format, string question, IReadOnlyList<Problem>? demos = null)
    {
        var hasDemos = demos is { Count: > 0 };
        if (IsInContext(format) != hasDemos)
            throw new ArgumentException(IsInContext(format) ? $"{format} needs demonstrations" : $"{format} takes no demonstrations", nameof(demos));
        var text = new StringBuilder(hasDemos ? Demonstrations(format, demos!) : "");
        text.Append("Q: ").Append(question);
        text.Append(format switch
        {
            TrainingFormat.ZeroShotAnswerOnly => " A:",
            TrainingFormat.InContextAnswerOnly => "\nA:",
            _ => "\n" + ThinkStepByStep,
        });
        return text.ToString();
    }

    /// <summary>
    /// The demonstrations of an in-context input, each followed by a blank line: <c>Q: {q}\nA: The answer is N\n\n</c>
    /// (answer-only) or <c>Q: {q}\nLet's think step by step\n{rationale}\nThe answer is N\n\n</c> (chain of thought).
    /// </summary>
    public static string Demonstrations(TrainingFormat format, IReadOnlyList<Problem> demos)
    {
        var text = new StringBuilder();
        foreach (var demo in demos)
        {
            text.Append("Q: ").Append(demo.Question).Append('\n');
            if (format == TrainingFormat.InContextCot) text.Append(ThinkStepByStep).Append('\n').Append(GoldChainOfThought(demo));
            else text.Append("A: ").Append(AnswerOnlyTarget(demo.Answer));
            text.Append("\n\n");
        }
        return text.ToString();
    }

    /// <summary>
    /// The decoder target: <c>The answer is N</c> for answer-only formats, the teacher's chain of thought (trimmed of
    /// surrounding blank space, as the authors' <c>strip()</c>) for the others.
    /// </summary>
    public static string Target(TrainingFormat format, GoldAnswer gold, string? teacherCot = null) =>
        IsCot(format)
            ? (teacherCot ?? throw new ArgumentException($"{format} needs the teacher's chain of thought", nameof(teacherCot))).Trim()
            : AnswerOnlyTarget(gold);

    /// <summary>
    /// A problem's gold chain of thought as demonstrations and gold training targets lay it out: the rationale without
    /// calculator marks or trailing blank space, then <c>\nThe answer is N</c> — unless its last line states the answer
    /// already (BBH-style rationales end "So the answer is X."; a GSM8K line like "The answer is therefore 3." does not count).
    /// </summary>
    public static string GoldChainOfThought(Problem problem)
    {
        var rationale = GsmRationale.StripCalculatorMarks(problem.Rationale ?? throw new SpecialistException($"'{problem.Id}' has no gold rationale")).TrimEnd();
        var lastLine = rationale[(rationale.LastIndexOf('\n') + 1)..];
        return lastLine.Contains("So the answer is ", StringComparison.Ordinal) ? rationale : rationale + "\n" + AnswerOnlyTarget(problem.Answer);
    }

    /// <summary><c>The answer is N</c>, N the gold answer's text.</summary>
    public static string AnswerOnlyTarget(GoldAnswer gold) => "The answer is " + gold.Text;

}
