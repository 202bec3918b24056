using Specialist.Answers;
using Specialist.Prompts;

namespace Specialist.Synthetic;

/// <summary>
/// BBH tracking_shuffled_objects_three_objects: Alice, Bob and Claire each hold something (a ball, a book, a dance
/// partner), swap three times, and one of them is asked about. The chain of thought writes who holds what after each swap.
/// </summary>
internal static class ShuffledObjectsTask
{
    public const string Name = "tracking_shuffled_objects_three_objects";

    /// <summary>Accuracy of a uniform guess: one of the things held, (A)–(C).</summary>
    public const double Chance = 1.0 / Things;

    private const int Things = 3;

    internal static readonly string[] Players = ["Alice", "Bob", "Claire"];

    private sealed record Scenario(string Intro, string Holds, string Trading, string Swap, string Period, string EndHolds, string[] Things, string Suffix);

    private static readonly Scenario[] Scenarios =
    [
        new("are playing a game. At the start of the game, they are each holding a ball:", "has a", "As the game progresses, pairs of players trade balls.", "swap balls", "game",
            "has the", ["red", "blue", "green", "yellow", "pink", "white", "purple", "orange", "black", "brown"], " ball"),
        new("are friends and avid readers who occasionally trade books. At the start of the semester, they each buy one new book:", "gets", "As the semester proceeds, they start trading around the new books.", "swap books", "semester",
            "has", ["Frankenstein", "Ulysses", "Hamlet", "Emma", "Dracula", "Beloved", "Rebecca", "Matilda", "Persuasion", "Middlemarch"], ""),
        new("are dancers at a square dance. At the start of a song, they each have a partner:", "is dancing with", "Throughout the song, the dancers often trade partners.", "switch partners", "dance",
            "is dancing with", ["Lola", "Rodrigo", "Patrick", "Sam", "Karl", "Helga", "Ophelia", "Jamie", "Melissa", "Izzi"], ""),
    ];

    private static readonly string[] Order = ["First", "Then", "Finally"];

    public static SyntheticItem? Draw(ref SplitMix64 random)
    {
        var scenario = random.Pick(Scenarios);
        var things = random.PickDistinct(scenario.Things, Things);
        var holding = things.ToArray();
        var start = string.Join(", ", Players.Select((p, i) => $"{(i == 2 ? "and " : "")}{p} {scenario.Holds} {things[i]}{scenario.Suffix}"));
        var lines = new List<string> { $"(0) At the start: {State(holding)}." };
        var swaps = new List<string>();
        for (var k = 0; k < 3; k++)
        {
            var pair = random.PickDistinct([0, 1, 2], 2);
            (holding[pair[0]], holding[pair[1]]) = (holding[pair[1]], holding[pair[0]]);
            var swap = $"{Players[pair[0]]} and {Players[pair[1]]} {scenario.Swap}";
            swaps.Add($"{Order[k]}, {swap}.");
            lines.Add($"({k + 1}) {swap}: {State(holding)}.");
        }
        var asked = random.NextBelow(3);
        var option = things.IndexOf(holding[asked]);
        var letter = $"({(char)('A' + option)})";
        lines.Add($"At the end of the {scenario.Period}, {Players[asked]} {scenario.EndHolds} {holding[asked]}{scenario.Suffix}. So the answer is {letter}.");
        var options = string.Join('\n', things.Select((t, i) => $"({(char)('A' + i)}) {t}{scenario.Suffix}"));
        var question = $"Alice, Bob, and Claire {scenario.Intro} {start}.\n"
            + $"{scenario.Trading} {string.Join(' ', swaps)} At the end of the {scenario.Period}, {Players[asked]} {scenario.EndHolds}\nOptions:\n{options}";
        return new SyntheticItem(question, string.Join('\n', lines), GoldAnswer.FromText(letter));

        string State(string[] now) => string.Join(", ", Players.Select((p, i) => $"{p}: {now[i]}"));
    }
}
