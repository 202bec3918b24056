using System.Globalization;
using Specialist.Answers;
using Specialist.Prompts;

namespace Specialist.Synthetic;

/// <summary>
/// BBH date_understanding, reduced to date arithmetic: from today (or tomorrow, or yesterday) find a date some days,
/// (2–9), a week or a year away, as MM/DD/YYYY among five options. The chain of thought states today, then the date asked for.
/// </summary>
internal static class DateArithmeticTask
{
    public const string Name = "date_understanding";

    /// <summary>Accuracy of a uniform guess: one of the options (A)–(E).</summary>
    public const double Chance = 1.0 / Options;

    private const int Options = 5;

    private static readonly string[] Months =
        ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];

    private static readonly DateOnly First = new(1950, 1, 1);
    private const int Span = 81 * 365;

    public static SyntheticItem? Draw(ref SplitMix64 random)
    {
        var today = First.AddDays(random.NextBelow(Span));
        if (today is { Month: 2, Day: 29 }) return null; // a year away from 29 February has no same day
        var (anchorWord, anchor) = random.NextBelow(3) switch
        {
            0 => ("Today is", today),
            1 => ("Tomorrow is", today.AddDays(1)),
            _ => ("Yesterday was", today.AddDays(-1)),
        };
        var (asked, target, relation) = random.NextBelow(6) switch
        {
            0 => Days(ref random, today, -1),
            1 => Days(ref random, today, 1),
            2 => ("one week ago from today", today.AddDays(-7), "One week before today is"),
            3 => ("one week from today", today.AddDays(7), "One week after today is"),
            4 => ("one year ago from today", today.AddYears(-1), "One year before today is"),
            _ => (anchorWord == "Yesterday was" ? "tomorrow" : "yesterday", anchorWord == "Yesterday was" ? today.AddDays(1) : today.AddDays(-1),
                anchorWord == "Yesterday was" ? "Tomorrow is" : "Yesterday was"),
        };
        var anchorText = random.Coin() ? Long(anchor) : Short(anchor);
        var options = new List<DateOnly> { target };
        foreach (var wrong in (DateOnly[])[target.AddDays(1), target.AddDays(-1), target.AddMonths(1), target.AddYears(1), target.AddYears(-1), target.AddDays(10)])
            if (!options.Contains(wrong)) options.Add(wrong);
        options = [options[0], .. random.PickDistinct(options[1..], Options - 1)];
        random.Shuffle(options);
        var letter = $"({(char)('A' + options.IndexOf(target))})";

        var todaySentence = anchorWord == "Today is"
            ? $"If today is {anchorText}, then today's date is {Long(today)}."
            : $"If {char.ToLowerInvariant(anchorWord[0])}{anchorWord[1..]} {anchorText}, then today is {Long(today)}.";
        var rationale = $"{todaySentence} {relation} {Long(target)}, that is {Short(target)}. So the answer is {letter}.";
        var question = $"{anchorWord} {anchorText}. What is the date {asked} in MM/DD/YYYY?\nOptions:\n"
            + string.Join('\n', options.Select((d, i) => $"({(char)('A' + i)}) {Short(d)}"));
        return new SyntheticItem(question, rationale, GoldAnswer.FromText(letter));
    }

    private static (string Asked, DateOnly Target, string Relation) Days(ref SplitMix64 random, DateOnly today, int sign)
    {
        var days = random.Between(2, 9);
        return sign < 0
            ? ($"{days} days ago", today.AddDays(-days), $"{days} days before today is")
            : ($"{days} days from today", today.AddDays(days), $"{days} days after today is");
    }

    internal static string Short(DateOnly date) => date.ToString("MM/dd/yyyy", CultureInfo.InvariantCulture);

    private static string Long(DateOnly date) => string.Create(CultureInfo.InvariantCulture, $"{Months[date.Month - 1]} {date.Day}, {date.Year}");
}
