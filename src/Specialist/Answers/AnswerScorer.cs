using System.Text;
using System.Text.RegularExpressions;

namespace Specialist.Answers;

/// <summary>
/// Scores a model's output on a math problem against its <see cref="GoldAnswer"/>.
/// </summary>
/// <remarks>
/// <para>Numeric golds: the number <see cref="AnswerExtractor.Extract"/> reads must be within
/// 1e-6 · max(1, |gold|) of the gold; an output with no number is wrong.</para>
/// <para>Other golds are compared on the stated answer: the rest of the line after the last "the answer is", or,
/// without that phrase, the output's last non-blank line.</para>
/// <list type="bullet">
/// <item><see cref="GoldAnswerKind.MultipleValues"/> (ASDiv "50 (years old); 20 (years old)"): the numbers in the
/// stated answer must be the gold's numbers, in order (each within the numeric tolerance).</item>
/// <item><see cref="GoldAnswerKind.Time"/> and <see cref="GoldAnswerKind.Text"/> ("3:45", "9:03:36 a.m.",
/// "Mrs. Hilt"): both sides are normalised (lower case; parenthesised units dropped; periods and apostrophes
/// dropped except a decimal point between digits; other punctuation but <c>:</c> and <c>/</c> made a space; a
/// space put where digits and letters meet; spaces collapsed) and the gold must appear in the stated answer as
/// whole words. So "The answer is 3:30 pm." and "3:30PM" match "3:30 p.m.", while "3:4" does not match "3:45".</item>
/// </list>
/// </remarks>
public static class AnswerScorer
{
    private const double RelativeTolerance = 1e-6;

    /// <summary>Whether <paramref name="output"/> gets <paramref name="gold"/> right.</summary>
    public static bool IsCorrect(string output, GoldAnswer gold)
    {
        if (gold.IsNumeric) return AnswerExtractor.Extract(output) is { } predicted && NumbersEqual(predicted, gold.Number!.Value);
        var stated = AnswerExtractor.StatedAnswer(output) ?? AnswerExtractor.LastLine(output);
        if (gold.Kind == GoldAnswerKind.MultipleValues)
        {
            var goldValues = NumberScanner.Scan(WithoutParentheses(gold.Text));
            if (goldValues.Count > 0)
            {
                var statedValues = NumberScanner.Scan(stated);
                return statedValues.Count == goldValues.Count
                       && goldValues.Zip(statedValues).All(p => NumbersEqual(p.Second.Value, p.First.Value));
            }
        }
        var normalisedGold = NormaliseText(gold.Text);
        return normalisedGold.Length > 0 && $" {NormaliseText(stated)} ".Contains($" {normalisedGold} ", StringComparison.Ordinal);
    }

    /// <summary>
    /// Whether a predicted number equals the gold one: |predicted − gold| ≤ 1e-6 · max(1, |gold|). Infinities equal
    /// nothing: with an infinite gold the tolerance would be infinite too, and every prediction would match.
    /// </summary>
    public static bool NumbersEqual(double predicted, double gold) =>
        double.IsFinite(predicted) && double.IsFinite(gold) && Math.Abs(predicted - gold) <= RelativeTolerance * Math.Max(1, Math.Abs(gold));

    /// <summary>The text comparison form described in the remarks.</summary>
    internal static string NormaliseText(string text)
    {
        var source = WithoutParentheses(text.ToLowerInvariant());
        var result = new StringBuilder(source.Length);
        for (var i = 0; i < source.Length; i++)
        {
            var c = source[i];
            var betweenDigits = i > 0 && i + 1 < source.Length && char.IsAsciiDigit(source[i - 1]) && char.IsAsciiDigit(source[i + 1]);
            if (char.IsLetterOrDigit(c) || c is ':' or '/' || (c == '.' && betweenDigits))
            {
                // "3:30pm" reads as "3:30 pm": a space wherever digits and letters meet.
                if (result.Length > 0 && (char.IsAsciiDigit(result[^1]) && char.IsLetter(c) || char.IsLetter(result[^1]) && char.IsAsciiDigit(c)))
                    result.Append(' ');
                result.Append(c);
            }
            else if (c is '.' or '\'' or '\u2019') continue;
            else if (result.Length > 0 && result[^1] != ' ') result.Append(' ');
        }
        return result.ToString().Trim();
    }

    private static string WithoutParentheses(string text) => Parenthesised.Replace(text, " ");

    private static readonly Regex Parenthesised = new(@"\([^()]*\)", RegexOptions.CultureInvariant);
}
