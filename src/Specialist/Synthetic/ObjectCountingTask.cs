using Specialist.Answers;
using Specialist.Prompts;

namespace Specialist.Synthetic;

/// <summary>
/// BBH object_counting: "I have a piano, two carrots, a flute, … How many musical instruments do I have?". The chain of
/// thought lists the items of the asked kind with their quantities, on one line, and adds them up.
/// </summary>
internal static class ObjectCountingTask
{
    public const string Name = "object_counting";

    /// <summary>Accuracy of a uniform guess: free-form: a number.</summary>
    public const double Chance = 0;

    /// <summary>The kinds asked about (plural name) and their members (singular, plural).</summary>
    internal static readonly (string Kind, Noun[] Members)[] Kinds =
    [
        ("fruits", [new("apple", "apples"), new("banana", "bananas"), new("blackberry", "blackberries"), new("grape", "grapes"),
            new("nectarine", "nectarines"), new("orange", "oranges"), new("peach", "peaches"), new("plum", "plums"),
            new("raspberry", "raspberries"), new("strawberry", "strawberries")]),
        ("vegetables", [new("carrot", "carrots"), new("cabbage", "cabbages"), new("onion", "onions"), new("potato", "potatoes"),
            new("yam", "yams"), new("cauliflower", "cauliflowers"), new("eggplant", "eggplants"), new("turnip", "turnips"),
            new("radish", "radishes"), new("lettuce head", "lettuce heads")]),
        ("animals", [new("cat", "cats"), new("dog", "dogs"), new("goat", "goats"), new("cow", "cows"), new("pig", "pigs"),
            new("rabbit", "rabbits"), new("mouse", "mice"), new("snake", "snakes"), new("frog", "frogs"), new("duck", "ducks"),
            new("donkey", "donkeys")]),
        ("musical instruments", [new("piano", "pianos"), new("flute", "flutes"), new("violin", "violins"), new("trumpet", "trumpets"),
            new("drum", "drums"), new("clarinet", "clarinets"), new("accordion", "accordions"), new("trombone", "trombones")]),
    ];

    /// <summary>Things that are none of the kinds, mixed in as distractors.</summary>
    internal static readonly Noun[] Objects =
    [
        new("chair", "chairs"), new("table", "tables"), new("lamp", "lamps"), new("bed", "beds"), new("couch", "couches"),
        new("oven", "ovens"), new("microwave", "microwaves"), new("stove", "stoves"), new("car", "cars"), new("toaster", "toasters"),
    ];

    /// <summary>How a quantity is written in the question.</summary>
    internal static readonly string[] QuantityWords = ["zero", "one", "two", "three"];

    public static SyntheticItem? Draw(ref SplitMix64 random)
    {
        var kind = random.NextBelow(Kinds.Length);
        var wanted = random.PickDistinct(Kinds[kind].Members, random.Between(2, 4));
        var distractorPool = Kinds.Where((_, k) => k != kind).SelectMany(k => k.Members).Concat(Objects).ToList();
        var distractors = random.PickDistinct(distractorPool, random.Between(1, 3));
        var items = wanted.Select(n => (Noun: n, Wanted: true)).Concat(distractors.Select(n => (Noun: n, Wanted: false))).ToList();
        random.Shuffle(items);

        var quantities = new List<int>(items.Count);
        for (var i = 0; i < items.Count; i++) quantities.Add(random.NextBelow(4) == 0 ? random.Between(2, 3) : 1);
        var listed = items.Select((item, i) => Phrase(item.Noun, quantities[i])).ToList();
        var question = $"I have {string.Join(", ", listed[..^1])}, and {listed[^1]}. How many {Kinds[kind].Kind} do I have?";
        var counted = items.Select((item, i) => (item, i)).Where(x => x.item.Wanted).ToList();
        var total = counted.Sum(x => quantities[x.i]);
        var rationale = $"The {Kinds[kind].Kind}: {string.Join(", ", counted.Select(x => $"{(quantities[x.i] == 1 ? x.item.Noun.One : x.item.Noun.Many)} ({quantities[x.i]})"))}.\n"
            + $"{string.Join(" + ", counted.Select(x => quantities[x.i]))} = {total}. So the answer is {total}.";
        return new SyntheticItem(question, rationale, GoldAnswer.FromText(total.ToString(System.Globalization.CultureInfo.InvariantCulture)));
    }

    private static string Phrase(Noun noun, int quantity) =>
        quantity > 1 ? $"{QuantityWords[quantity]} {noun.Many}" : $"{("aeiou".Contains(noun.One[0]) ? "an" : "a")} {noun.One}";
}
