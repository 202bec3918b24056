using System.Globalization;
using System.Text.RegularExpressions;

namespace Specialist.Answers;

/// <summary>How a BIG-Bench Hard task is prompted (and so how its outputs are read).</summary>
public enum BbhMode
{
    /// <summary>3-shot chain of thought: the model reasons, then says "So the answer is X."</summary>
    [System.Text.Json.Serialization.JsonStringEnumMemberName("cot")] Cot,
    /// <summary>3-shot answer-only: the model answers directly.</summary>
    [System.Text.Json.Serialization.JsonStringEnumMemberName("ao")] AnswerOnly,
}

/// <summary>
/// Scores a model's output on a BIG-Bench Hard example against its target.
/// </summary>
/// <remarks>
/// <para>The stated answer is the rest of the line after the last "the answer is" (any case). In
/// <see cref="BbhMode.AnswerOnly"/> an output without that phrase states its answer on its first non-blank line;
/// in <see cref="BbhMode.Cot"/> it is wrong. Spaces and one final period are trimmed off.</para>
/// <para>The stated answer matches the target when, ignoring case and runs of spaces, they are equal; an option
/// target <c>(A)</c> also matches <c>A</c> or <c>(A) followed by the option's text</c>, and a target <c>A</c> matches
/// <c>(A)</c>; a numeric target (multistep_arithmetic_two, object_counting) matches when the first number of the
/// stated answer equals it. This is stricter than the authors' substring test (<c>target in answer</c>), which
/// counts "No" as found in "Not sure".</para>
/// </remarks>
public static class BbhAnswerScorer
{
    /// <summary>The mode names the command line accepts: <c>cot</c> and <c>ao</c>.</summary>
    public static BbhMode ParseMode(string name) => name switch
    {
        "cot" => BbhMode.Cot,
        "ao" => BbhMode.AnswerOnly,
        _ => throw new SpecialistException($"--bbh-mode must be 'cot' or 'ao', not '{name}'"),
    };

    /// <summary>The mode's name as <see cref="ParseMode"/> reads it.</summary>
    public static string ModeName(BbhMode mode) => mode == BbhMode.Cot ? "cot" : "ao";

    /// <summary>Whether <paramref name="output"/> states <paramref name="target"/>.</summary>
    public static bool IsCorrect(string output, string target, BbhMode mode) =>
        StatedAnswer(output, mode) is { } stated && Matches(stated, target);

    /// <summary>The answer an output states, trimmed of spaces and one final period; null when it states none.</summary>
    internal static string? StatedAnswer(string output, BbhMode mode)
    {
        var stated = AnswerExtractor.StatedAnswer(output) ?? (mode == BbhMode.AnswerOnly ? AnswerExtractor.FirstLine(output) : null);
        if (stated is null) return null;
        if (stated.EndsWith('.')) stated = stated[..^1].TrimEnd();
        return stated.Length == 0 ? null : stated;
    }

    internal static bool Matches(string stated, string target)
    {
        var answer = Spaces.Replace(stated.Trim(), " ");
        var wanted = Spaces.Replace(target.Trim(), " ");
        if (string.Equals(answer, wanted, StringComparison.OrdinalIgnoreCase)) return true;
        if (OptionLetter(wanted) is { } letter)
        {
            var option = OptionAnswer.Match(answer);
            return option.Success && char.ToUpperInvariant((option.Groups[1].Success ? option.Groups[1] : option.Groups[2]).Value[0]) == letter;
        }
        if (double.TryParse(wanted, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number))
        {
            var numbers = NumberScanner.Scan(answer);
            return numbers.Count > 0 && AnswerScorer.NumbersEqual(numbers[0].Value, number);
        }
        return false;
    }

    /// <summary>The letter of an option target, <c>(A)</c> or <c>A</c>; null for other targets.</summary>
    private static char? OptionLetter(string target) =>
        OptionTarget.Match(target) is { Success: true } m ? char.ToUpperInvariant((m.Groups[1].Success ? m.Groups[1] : m.Groups[2]).Value[0]) : null;

    private static readonly Regex Spaces = new(@"\s+", RegexOptions.CultureInvariant);
    private static readonly Regex OptionTarget = new(@"^(?:\(([A-Z])\)|([A-Z]))$", RegexOptions.CultureInvariant);
    // "(A)", "A", or "(A) the option's text"; case-insensitive like every other comparison here.
    private static readonly Regex OptionAnswer = new(@"^(?:\(([A-Za-z])\)(?:\s.*)?|([A-Za-z]))$", RegexOptions.CultureInvariant | RegexOptions.Singleline);
}
