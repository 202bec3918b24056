using System.Globalization;
using Specialist.Answers;
using Specialist.Prompts;

namespace Specialist.Synthetic;

/// <summary>A generated problem before it gets its id.</summary>
internal sealed record SyntheticItem(string Question, string Rationale, GoldAnswer Answer);

/// <summary>Draws one problem from a template, or null when the numbers drawn break its rules (the caller draws again).</summary>
internal delegate SyntheticItem? ProblemSource(ref SplitMix64 random);

/// <summary>
/// A math problem's gold chain of thought in GSM8K's style: one step per line, each holding one <c>a op b = c</c>
/// (op one of <c>+ - * /</c>). Every result must be a whole number in [1, <see cref="MaxResult"/>]: small numbers keep
/// the tiny students' errors about reasoning rather than multi-digit arithmetic.
/// </summary>
internal sealed class Derivation
{
    public const int MaxResult = 100;

    private readonly List<string> _lines = [];
    private bool _valid = true;
    private int _result;

    /// <summary>Computes <c>a op b</c> and writes the line <c>before + "a op b = c" + after</c>.</summary>
    public int Step(int a, char op, int b, string before, string after)
    {
        var (exact, c) = op switch
        {
            '+' => (true, a + b),
            '-' => (true, a - b),
            '*' => (true, a * b),
            '/' => (b >= 2 && a % b == 0, b >= 2 ? a / b : 0),
            _ => throw new ArgumentOutOfRangeException(nameof(op), op, "not one of + - * /"),
        };
        if (!exact || c < 1 || c > MaxResult) _valid = false;
        _lines.Add(before + string.Create(CultureInfo.InvariantCulture, $"{a} {op} {b} = {c}") + after);
        _result = c;
        return c;
    }

    /// <summary>The problem, its answer the last step's result; null when a step broke the rules.</summary>
    public SyntheticItem? Finish(string question) =>
        _valid && _lines.Count > 0 ? new SyntheticItem(question, string.Join('\n', _lines), GoldAnswer.FromNumber(_result)) : null;
}
