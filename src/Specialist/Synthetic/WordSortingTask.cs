using Specialist.Answers;
using Specialist.Prompts;

namespace Specialist.Synthetic;

/// <summary>
/// BBH word_sorting, sized for a small model: sort three words alphabetically, drawn from a list where no two words
/// share a first letter. The chain of thought reads each word's first letter and orders the letters.
/// </summary>
internal static class WordSortingTask
{
    public const string Name = "word_sorting";

    /// <summary>How many words a problem sorts.</summary>
    internal const int Count = 3;

    /// <summary>Accuracy of a uniform guess: one ordering of the three listed words in 3! = 6.</summary>
    public const double Chance = 1.0 / 6;

    // One word per first letter: the first letters decide the order, so the chain of thought stays one line (BBH's
    // recursive tie-breaking on later letters is beyond a model of a few hundred thousand parameters).
    private static readonly string[] Words =
    [
        "apple", "badge", "candle", "dinner", "eagle", "falcon", "garden", "hammer", "island", "jacket", "kettle", "lemon",
        "magnet", "needle", "orange", "pepper", "rabbit", "saddle", "turtle", "velvet", "window", "yellow", "zebra",
    ];

    public static SyntheticItem? Draw(ref SplitMix64 random)
    {
        var words = random.PickDistinct(Words, Count);
        var sorted = words.OrderBy(w => w, StringComparer.Ordinal).ToList();
        var answer = string.Join(' ', sorted);
        var rationale = $"{string.Join(". ", words.Select(w => $"{w}: {w[0]}"))}. {string.Join(" < ", sorted.Select(w => w[0]))}.\nSo the answer is {answer}.";
        return new SyntheticItem($"Sort the following words alphabetically: List: {string.Join(' ', words)}", rationale, GoldAnswer.FromText(answer));
    }
}
