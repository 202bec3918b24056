using System.Text.RegularExpressions;
using Specialist.Answers;

namespace Specialist.Data;

/// <summary>
/// Turns a gold answer as a data set types it into a <see cref="GoldAnswer"/>:
/// <list type="bullet">
/// <item>one number → <see cref="GoldAnswerKind.Number"/>: "42", "-5", "3.50", "1,234" (thousands commas), "$7", "5/2",
/// "-(1/3)"; its text is the number without "$", commas or parentheses ("1234", "5/2", "-1/3").</item>
/// <item>a clock time at the start → <see cref="GoldAnswerKind.Time"/>: "3:45", "3:30 p.m.", "9:03:36 a.m."</item>
/// <item>two or more numbers separated by ';' or ',' → <see cref="GoldAnswerKind.MultipleValues"/>, text "a; b; c".</item>
/// <item>anything else → <see cref="GoldAnswerKind.Text"/>, trimmed.</item>
/// </list>
/// </summary>
internal static partial class GoldAnswerText
{
    public static GoldAnswer Parse(string typed)
    {
        var text = typed.Trim();
        if (TryParseNumber(text, out var value, out var canonical)) return GoldAnswer.FromNumber(value, canonical);
        if (ClockTime().IsMatch(text)) return GoldAnswer.FromText(text, GoldAnswerKind.Time);
        var parts = text.Split([';', ','], StringSplitOptions.TrimEntries);
        if (parts.Length > 1)
        {
            var numbers = new List<string>(parts.Length);
            foreach (var part in parts)
            {
                if (!TryParseNumber(part, out _, out var partText)) return GoldAnswer.FromText(text);
                numbers.Add(partText);
            }
            return GoldAnswer.FromText(string.Join("; ", numbers), GoldAnswerKind.MultipleValues);
        }
        return GoldAnswer.FromText(text);
    }

    /// <summary>
    /// Reads one number as written in a data set (see the class summary); false for anything else. The number syntax
    /// itself (thousands groups, decimals, fractions) is <see cref="NumberScanner"/>'s, the one that reads model outputs:
    /// the text, without "$", a leading "+" and parentheses around it, must be exactly one finite number.
    /// </summary>
    public static bool TryParseNumber(string text, out double value, out string canonical)
    {
        value = 0;
        canonical = "";
        var bare = text.Trim().Replace("$", "");
        if (bare.StartsWith('+')) bare = bare[1..];
        var sign = bare.StartsWith('-') ? "-" : "";
        var body = bare[sign.Length..];
        if (body.StartsWith('(') && body.EndsWith(')')) body = body[1..^1];
        var numbers = NumberScanner.Scan(body);
        if (numbers.Count != 1 || numbers[0].Start != 0 || numbers[0].End != body.Length || body.StartsWith('-')) return false;
        // Hundreds of digits read as infinity, which is no answer (and would equal every large prediction).
        if (!double.IsFinite(numbers[0].Value)) return false;
        canonical = sign + body.Replace(",", "");
        value = sign.Length > 0 ? -numbers[0].Value : numbers[0].Value;
        return true;
    }

    // h:mm or h:mm:ss at the start, then the end or a space ("3:30 p.m.", "11:55 p.m. on 24 December 2014.").
    [GeneratedRegex(@"^\d{1,2}:\d{2}(?::\d{2})?(?:\s|$)", RegexOptions.CultureInvariant)]
    private static partial Regex ClockTime();
}
