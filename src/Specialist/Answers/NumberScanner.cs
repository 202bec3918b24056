using System.Globalization;
using System.Text;

namespace Specialist.Answers;

/// <summary>A number found in a text: its value and the span it covers (sign included).</summary>
internal readonly record struct ScannedNumber(double Value, int Start, int End);

/// <summary>
/// Finds the numbers in a model's output, left to right. A number is an optional minus sign, then digits with
/// optional thousands separators (<c>1,234,567</c>), an optional decimal part (<c>3.50</c>, <c>.5</c>), or a simple
/// fraction (<c>1/2</c>), or a mixed number (<c>3 1/2</c> = 3.5). Currency signs, <c>%</c> and units around a number
/// are not part of it and so are ignored.
/// </summary>
/// <remarks>
/// Rules chosen so that the usual ways a model writes arithmetic read as intended:
/// <list type="bullet">
/// <item>A comma is a thousands separator only before exactly three digits, after a first group of at most three:
/// <c>1,234</c> is 1234, but <c>3, 4</c>, <c>1,2</c> and <c>1,2345</c> are two numbers.</item>
/// <item>A period is a decimal point only before a digit: in "is 42." the number is 42.</item>
/// <item>A hyphen (or U+2212) is a minus sign only when no letter or digit comes right before it, so in
/// <c>10-5=5</c> the numbers are 10, 5, 5 and "COVID-19" holds 19; a currency sign may sit between the minus and the
/// digits (<c>-$5</c>).</item>
/// <item><c>a/b</c> is a fraction when b is not 0 and the slash is not part of a longer chain such as a date
/// (<c>3/4/2020</c> reads as 3, 4, 2020).</item>
/// <item>A whole number, one space and a proper fraction (numerator below denominator) is a mixed number:
/// <c>3 1/2</c> is 3.5, as in "1 1/2 cups". Anything else before a fraction stays a separate number.</item>
/// </list>
/// </remarks>
internal static class NumberScanner
{
    public static List<ScannedNumber> Scan(string text)
    {
        var numbers = new List<ScannedNumber>();
        var i = 0;
        while (i < text.Length)
        {
            if (TryScanAt(text, i, out var number))
            {
                numbers.Add(number);
                i = number.End;
            }
            else i++;
        }
        return numbers;
    }

    private static bool TryScanAt(string text, int start, out ScannedNumber number)
    {
        number = default;
        var i = start;
        var negative = false;
        if (IsMinus(text[i]) && (i == 0 || !char.IsLetterOrDigit(text[i - 1])))
        {
            negative = true;
            i++;
            if (i < text.Length && char.GetUnicodeCategory(text[i]) == UnicodeCategory.CurrencySymbol) i++;
        }
        if (i >= text.Length) return false;

        var leadingDot = text[i] == '.' && DigitAt(text, i + 1);
        if (!char.IsAsciiDigit(text[i]) && !leadingDot) return false;
        // Never start in the middle of a number (after its digits, or after "1." of "1.2.3").
        if (!negative && i > 0 && (char.IsAsciiDigit(text[i - 1]) || (leadingDot && text[i - 1] == '.'))) return false;

        var digits = new StringBuilder();
        var k = i;
        var plainInteger = !leadingDot;
        var grouped = false;
        if (!leadingDot)
        {
            k = SkipDigits(text, i);
            digits.Append(text, i, k - i);
            if (k - i <= 3)
                while (IsThousandsGroup(text, k))
                {
                    digits.Append(text, k + 1, 3);
                    k += 4;
                    grouped = true;
                }
        }
        if (k < text.Length && text[k] == '.' && DigitAt(text, k + 1))
        {
            var end = SkipDigits(text, k + 1);
            digits.Append('.').Append(text, k + 1, end - k - 1);
            k = end;
            plainInteger = false;
        }

        var value = double.Parse(digits.ToString(), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture);
        if (plainInteger && !grouped && (i == 0 || text[i - 1] != '/') && TryFraction(text, i, out var numerator, out var denominator, out var fractionEnd))
        {
            value = numerator / denominator;
            k = fractionEnd;
        }
        else if (plainInteger && k < text.Length && text[k] == ' ' && DigitAt(text, k + 1)
                 && TryFraction(text, k + 1, out numerator, out denominator, out fractionEnd) && numerator < denominator)
        {
            value += numerator / denominator;
            k = fractionEnd;
        }

        number = new ScannedNumber(negative ? -value : value, start, k);
        return true;
    }

    /// <summary>Reads <c>a/b</c> starting at a digit; b must be non-zero and not followed by another <c>/digit</c> or <c>.digit</c>.</summary>
    private static bool TryFraction(string text, int at, out double numerator, out double denominator, out int end)
    {
        numerator = denominator = 0;
        var slash = SkipDigits(text, at);
        end = slash;
        if (slash == at || slash >= text.Length || text[slash] != '/' || !DigitAt(text, slash + 1)) return false;
        end = SkipDigits(text, slash + 1);
        if (end < text.Length && (text[end] == '/' || text[end] == '.' || text[end] == ',') && DigitAt(text, end + 1)) return false;
        numerator = double.Parse(text.AsSpan(at, slash - at), CultureInfo.InvariantCulture);
        denominator = double.Parse(text.AsSpan(slash + 1, end - slash - 1), CultureInfo.InvariantCulture);
        return denominator != 0;
    }

    private static bool IsThousandsGroup(string text, int comma) =>
        comma + 3 < text.Length && text[comma] == ','
        && char.IsAsciiDigit(text[comma + 1]) && char.IsAsciiDigit(text[comma + 2]) && char.IsAsciiDigit(text[comma + 3])
        && !DigitAt(text, comma + 4);

    private static int SkipDigits(string text, int i)
    {
        while (i < text.Length && char.IsAsciiDigit(text[i])) i++;
        return i;
    }

    private static bool DigitAt(string text, int i) => i < text.Length && char.IsAsciiDigit(text[i]);

    private static bool IsMinus(char c) => c is '-' or '\u2212';
}
