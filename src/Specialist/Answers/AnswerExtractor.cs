namespace Specialist.Answers;

/// <summary>
/// Reads the predicted number from a model's output. Where the output says "the answer is" (any case), the
/// prediction is the first number after the last such phrase; otherwise (or when no number follows it) it is the
/// last number in the output, as the authors' evaluation did. See <see cref="NumberScanner"/> for what counts as a
/// number; unlike the authors' pattern (last <c>\d*\.?\d+</c>) it keeps minus signs and thousands separators.
/// </summary>
public static class AnswerExtractor
{
    internal const string AnswerPhrase = "the answer is";

    /// <summary>The predicted number, or null when the output holds no number at all.</summary>
    public static double? Extract(string output)
    {
        var numbers = NumberScanner.Scan(output);
        if (numbers.Count == 0) return null;
        var phrase = output.LastIndexOf(AnswerPhrase, StringComparison.OrdinalIgnoreCase);
        if (phrase >= 0)
        {
            var afterPhrase = phrase + AnswerPhrase.Length;
            foreach (var n in numbers)
                if (n.Start >= afterPhrase) return n.Value;
        }
        return numbers[^1].Value;
    }

    /// <summary>
    /// The part of an output that states the answer, for answers compared as text: the rest of the line after the
    /// last "the answer is" (skipping blank space first), trimmed; without the phrase, null.
    /// </summary>
    internal static string? StatedAnswer(string output)
    {
        var phrase = output.LastIndexOf(AnswerPhrase, StringComparison.OrdinalIgnoreCase);
        return phrase < 0 ? null : FirstLine(output[(phrase + AnswerPhrase.Length)..]);
    }

    /// <summary>The first non-blank line of a text, trimmed (empty when there is none).</summary>
    internal static string FirstLine(string text)
    {
        var rest = text.TrimStart();
        var newline = rest.IndexOf('\n');
        return (newline < 0 ? rest : rest[..newline]).Trim();
    }

    /// <summary>The last non-blank line of a text, trimmed (empty when there is none).</summary>
    internal static string LastLine(string text)
    {
        var rest = text.TrimEnd();
        var newline = rest.LastIndexOf('\n');
        return (newline < 0 ? rest : rest[(newline + 1)..]).Trim();
    }
}
