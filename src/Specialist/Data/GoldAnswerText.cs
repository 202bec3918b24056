using System.Globalization;
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

    /// <summary>Reads one number as written in a data set (see the class summary); false for anything else.</summary>
    public static bool TryParseNumber(string text, out double value, out string canonical)
    {
        value = 0;
        canonical = "";
        var match = NumberPattern().Match(text.Trim());
        if (!match.Success) return false;
        var sign = match.Groups["neg"].Success ? "-" : "";
        if (match.Groups["dec"].Success)
        {
            var digits = match.Groups["dec"].Value.Replace(",", "");
            canonical = sign + digits;
            value = double.Parse(canonical, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture);
            return true;
        }
        var numerator = double.Parse(match.Groups["num"].Value, CultureInfo.InvariantCulture);
        var denominator = double.Parse(match.Groups["den"].Value, CultureInfo.InvariantCulture);
        if (denominator == 0) return false;
        canonical = $"{sign}{match.Groups["num"].Value}/{match.Groups["den"].Value}";
        value = (sign.Length > 0 ? -numerator : numerator) / denominator;
        return true;
    }

    // Sign, optional dollar sign, then a decimal (thousands commas only in groups of three) or a fraction, bare or in parentheses.
    [GeneratedRegex(@"^(?<neg>-)?\+?\$?(?:(?<dec>(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|\.\d+)|(?<num>\d+)/(?<den>\d+)|\((?<num>\d+)/(?<den>\d+)\))$", RegexOptions.CultureInvariant)]
    private static partial Regex NumberPattern();

    // h:mm or h:mm:ss at the start, then the end or a space ("3:30 p.m.", "11:55 p.m. on 24 December 2014.").
    [GeneratedRegex(@"^\d{1,2}:\d{2}(?::\d{2})?(?:\s|$)", RegexOptions.CultureInvariant)]
    private static partial Regex ClockTime();
}
