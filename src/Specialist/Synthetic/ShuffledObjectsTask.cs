using Specialist.Answers;
using Specialist.Prompts;

namespace Specialist.Synthetic;

/// <summary>
/// BBH tracking_shuffled_objects_three_objects: Alice, Bob and Claire each hold something (a ball or a hat of some
/// colour), swap three times, and one of them is asked about. The chain of thought writes who holds what at the start and after each swap.
/// </summary>
internal static class ShuffledObjectsTask
{
    public const string Name = "tracking_shuffled_objects_three_objects";

    /// <summary>Accuracy of a uniform guess: one of the things held, (A)–(C).</summary>
    public const double Chance = 1.0 / Things;

    private const int Things = 3;

    internal static readonly string[] Players = ["Alice", "Bob", "Claire"];

    private sealed record Scenario(string Intro, string Holds, string Trading, string Swap, string Period, string EndHolds, string[] Things, string Suffix);

    // Short intros and one-word things that recur across problems: BBH's long intros and book titles would push a
    // question past the students' 128 source tokens and spell each title out letter by letter.
    private static readonly string[] Colors = ["red", "blue", "green", "yellow", "pink", "white", "purple", "orange", "black", "brown"];

    private static readonly Scenario[] Scenarios =
    [
        new("are playing a game. At the start, they each hold a ball:", "has a", "As the game goes on, pairs of players trade balls.", "swap balls", "game",
            "has the", Colors, " ball"),
        new("are friends who trade hats. At the start, they each wear a hat:", "wears a", "During the day, pairs of friends trade hats.", "swap hats", "day",
            "wears the", Colors, " hat"),
    ];

    private static readonly string[] Order = ["First", "Then", "Finally"];

    public static SyntheticItem? Draw(ref SplitMix64 random)
    {
        var scenario = random.Pick(Scenarios);
        var things = random.PickDistinct(scenario.Things, Things);
        var holding = things.ToArray();
        var start = string.Join(", ", Players.Select((p, i) => $"{(i == 2 ? "and " : "")}{p} {scenario.Holds} {things[i]}{scenario.Suffix}"));
        // Only the holdings after each swap: the swaps are in the question, and a small model's output budget is short.
        var lines = new List<string> { $"(0) {State(holding)}." };
        var swaps = new List<string>();
        for (var k = 0; k < 3; k++)
        {
            var pair = random.PickDistinct([0, 1, 2], 2);
            (holding[pair[0]], holding[pair[1]]) = (holding[pair[1]], holding[pair[0]]);
            var swap = $"{Players[pair[0]]} and {Players[pair[1]]} {scenario.Swap}";
            swaps.Add($"{Order[k]}, {swap}.");
            lines.Add($"({k + 1}) {State(holding)}.");
        }
        var asked = random.NextBelow(3);
        var option = things.IndexOf(holding[asked]);
        var letter = $"({(char)('A' + option)})";
        lines.Add($"{Players[asked]} {scenario.EndHolds} {holding[asked]}{scenario.Suffix}. So the answer is {letter}.");
        var options = string.Join('\n', things.Select((t, i) => $"({(char)('A' + i)}) {t}{scenario.Suffix}"));
        var question = $"Alice, Bob, and Claire {scenario.Intro} {start}.\n"
            + $"{scenario.Trading} {string.Join(' ', swaps)} At the end of the {scenario.Period}, {Players[asked]} {scenario.EndHolds}\nOptions:\n{options}";
        return new SyntheticItem(question, string.Join('\n', lines), GoldAnswer.FromText(letter));

        string State(string[] now) => string.Join(", ", Players.Select((p, i) => $"{p}: {now[i]}"));
    }
}
