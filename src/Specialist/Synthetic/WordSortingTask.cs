using System.Globalization;
using Specialist.Answers;
using Specialist.Prompts;

namespace Specialist.Synthetic;

/// <summary>
/// BBH word_sorting: sort 3–6 words alphabetically. The chain of thought reads the first letters, orders the words
/// by them, and sorts each group that shares a letter by the next letter, as BBH's exemplars do.
/// </summary>
internal static class WordSortingTask
{
    public const string Name = "word_sorting";

    /// <summary>Accuracy of a uniform guess: free-form: the sorted words.</summary>
    public const double Chance = 0;

    private static readonly string[] Words =
    [
        "apple", "anchor", "arrow", "badge", "banner", "basket", "beacon", "blanket", "bridge", "butter", "cabin", "candle",
        "canyon", "carpet", "castle", "cellar", "chalk", "cherry", "cloud", "copper", "cotton", "cradle", "dancer", "desert",
        "dinner", "dolphin", "dragon", "eagle", "elbow", "engine", "fabric", "falcon", "feather", "fiddle", "forest", "garden",
        "garlic", "ginger", "glider", "gravel", "hammer", "harbor", "helmet", "hollow", "island", "jacket", "jungle", "kettle",
        "kitten", "ladder", "lantern", "lemon", "lizard", "magnet", "marble", "meadow", "mirror", "monkey", "napkin", "needle",
        "nugget", "orange", "otter", "paddle", "parrot", "pebble", "pepper", "pillow", "planet", "pocket", "puzzle", "rabbit",
        "radish", "ribbon", "river", "rocket", "saddle", "salmon", "shadow", "silver", "spider", "spring", "summer", "tablet",
        "teapot", "thunder", "timber", "tunnel", "turtle", "velvet", "violin", "walnut", "window", "winter", "yellow", "zebra",
    ];

    private static readonly string[] Ordinals = ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth"];

    public static SyntheticItem? Draw(ref SplitMix64 random)
    {
        var words = random.PickDistinct(Words, random.Between(3, 6));
        var lines = new List<string>();
        var sorted = Sort(words, 0, lines);
        var answer = string.Join(' ', sorted);
        lines.Add($"So the answer is {answer}.");
        return new SyntheticItem($"Sort the following words alphabetically: List: {string.Join(' ', words)}", string.Join('\n', lines), GoldAnswer.FromText(answer));
    }

    // Words in one group share their first `depth` letters and none is a prefix of another, so each has a letter at depth.
    private static List<string> Sort(List<string> group, int depth, List<string> lines)
    {
        var letters = string.Join(' ', group.Select(w => $"\"{w}\": \"{w[depth]}\" ({Position(w[depth])})."));
        var buckets = group.GroupBy(w => w[depth]).OrderBy(b => b.Key).Select(b => b.ToList()).ToList();
        var order = string.Join(" < ", buckets.Select(b => $"({Position(b[0][depth])}) {Describe(b)}"));
        var line = $"The {Ordinals[depth]} letter: {letters} We now have: {order}.";
        foreach (var tie in buckets.Where(b => b.Count > 1))
            line += $" Now let's sort this subpart {Describe(tie)} by looking at their {Ordinals[depth + 1]} letters.";
        lines.Add(line);
        return [.. buckets.SelectMany(b => b.Count > 1 ? Sort(b, depth + 1, lines) : b)];
    }

    private static string Describe(List<string> bucket) =>
        bucket.Count == 1 ? $"\"{bucket[0]}\"" : $"[{string.Join(" ? ", bucket.Select(w => $"\"{w}\""))}]";

    private static string Position(char letter) => (letter - 'a' + 1).ToString(CultureInfo.InvariantCulture);
}
