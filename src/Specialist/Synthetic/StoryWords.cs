using Specialist.Prompts;

namespace Specialist.Synthetic;

/// <summary>A person in a word problem, with the pronouns that refer to them.</summary>
internal sealed record Person(string Name, bool Female)
{
    public string He => Female ? "she" : "he";
    public string Him => Female ? "her" : "him";
    public string His => Female ? "her" : "his";
}

/// <summary>A countable thing: its singular and plural.</summary>
internal sealed record Noun(string One, string Many);

/// <summary>The people and things every math template draws from; templates differ in their sentences, not their cast.</summary>
internal static class StoryWords
{
    public static readonly Person[] People =
    [
        new("Mia", true), new("Emma", true), new("Olivia", true), new("Ava", true), new("Sophia", true), new("Lily", true),
        new("Grace", true), new("Chloe", true), new("Zoe", true), new("Nora", true), new("Ella", true), new("Ruby", true),
        new("Hana", true), new("Priya", true), new("Maria", true), new("Lucy", true), new("Anna", true), new("Julia", true),
        new("Liam", false), new("Noah", false), new("Ethan", false), new("Lucas", false), new("Mason", false), new("Leo", false),
        new("Jack", false), new("Owen", false), new("Ben", false), new("Sam", false), new("Omar", false), new("Ravi", false),
        new("Carlos", false), new("Tom", false), new("Max", false), new("Adam", false), new("Kai", false), new("Felix", false),
    ];

    public static readonly Noun[] Things =
    [
        new("apple", "apples"), new("marble", "marbles"), new("sticker", "stickers"), new("book", "books"),
        new("pencil", "pencils"), new("cookie", "cookies"), new("shell", "shells"), new("card", "cards"),
        new("stamp", "stamps"), new("balloon", "balloons"), new("bead", "beads"), new("crayon", "crayons"),
        new("orange", "oranges"), new("cupcake", "cupcakes"), new("flower", "flowers"), new("rock", "rocks"),
        new("button", "buttons"), new("candle", "candles"), new("muffin", "muffins"), new("ribbon", "ribbons"),
        new("lemon", "lemons"), new("toy", "toys"), new("puzzle", "puzzles"), new("magnet", "magnets"),
    ];

    public static readonly Noun[] Holders =
    [
        new("box", "boxes"), new("bag", "bags"), new("pack", "packs"), new("jar", "jars"), new("basket", "baskets"),
        new("crate", "crates"), new("tin", "tins"), new("bucket", "buckets"),
    ];

    /// <summary>Things sold at a price, with a price range in dollars.</summary>
    public static readonly (Noun Item, int MinPrice, int MaxPrice)[] Goods =
    [
        (new("notebook", "notebooks"), 2, 6), (new("pen", "pens"), 2, 4), (new("toy car", "toy cars"), 3, 12),
        (new("comic", "comics"), 3, 8), (new("shirt", "shirts"), 8, 20), (new("plant", "plants"), 4, 15),
        (new("mug", "mugs"), 3, 9), (new("ticket", "tickets"), 5, 15), (new("scarf", "scarves"), 6, 14),
        (new("sandwich", "sandwiches"), 3, 7), (new("candle", "candles"), 2, 8), (new("kite", "kites"), 5, 12),
    ];

    /// <summary>Two or more distinct people.</summary>
    public static List<Person> Cast(ref SplitMix64 random, int count) => random.PickDistinct(People, count);

    /// <summary>The sentence with its first letter capitalised ("she" → "She").</summary>
    public static string Cap(string text) => text.Length == 0 ? text : char.ToUpperInvariant(text[0]) + text[1..];
}
