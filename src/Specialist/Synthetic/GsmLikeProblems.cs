using Specialist.Prompts;
using static Specialist.Synthetic.StoryWords;

namespace Specialist.Synthetic;

/// <summary>
/// GSM8K-like word problems in five shapes (a collection that grows and shrinks, shopping with change, comparisons,
/// earnings, working backwards), each worded from alternative phrasings. The in-distribution set takes 2–4 operations
/// and the familiar phrasings; the mild out-of-distribution set takes the same shapes with exactly two operations and
/// only the held-out phrasing (the last of each list), so a model's movement off its training wording can be seen.
/// </summary>
internal static class GsmLikeProblems
{
    public static SyntheticItem? Draw(ref SplitMix64 random, Wording wording)
    {
        var operations = wording == Wording.HeldOut ? 2 : random.Between(2, 4);
        return random.NextBelow(5) switch
        {
            0 => Collection(ref random, operations, wording),
            1 => Shopping(ref random, operations, wording),
            2 => Comparison(ref random, operations, wording),
            3 => Earnings(ref random, operations, wording),
            _ => WorkingBackwards(ref random, operations, wording),
        };
    }

    // Start (a count, or groups × size), 0–2 gains or losses, then the total or an equal split.
    private static SyntheticItem? Collection(ref SplitMix64 random, int operations, Wording wording)
    {
        int grouped, split, events;
        do
        {
            grouped = random.NextBelow(2);
            split = random.NextBelow(2);
            events = operations - grouped - split;
        } while (events is < 0 or > 2);

        var cast = Cast(ref random, 2);
        var (p, friend) = (cast[0], cast[1]);
        var item = random.Pick(Things);
        var holder = random.Pick(Holders);
        var cot = new Derivation();
        var sentences = new List<string>();
        int have;
        if (grouped == 0)
        {
            have = random.Between(12, 90);
            sentences.Add(random.Phrasing(wording, 3) switch
            {
                0 => $"{p.Name} has {have} {item.Many}.",
                1 => $"{p.Name} keeps {have} {item.Many} in a {holder.One}.",
                _ => $"There are {have} {item.Many} in {p.Name}'s {holder.One}.",
            });
        }
        else
        {
            var groups = random.Between(2, 9);
            var size = random.Between(3, 15);
            sentences.Add(random.Phrasing(wording, 3) switch
            {
                0 => $"{p.Name} buys {groups} {holder.Many} of {item.Many}, and each {holder.One} holds {size} {item.Many}.",
                1 => $"{p.Name} has {groups} {holder.Many} with {size} {item.Many} in each.",
                _ => $"{p.Name} picks up {groups} {holder.Many} of {item.Many}; there are {size} {item.Many} per {holder.One}.",
            });
            have = cot.Step(groups, '*', size, $"{p.Name} has ", $" {item.Many}.");
        }
        for (var k = 0; k < events; k++)
        {
            var n = random.Between(2, 25);
            if (random.Coin())
            {
                sentences.Add(random.Phrasing(wording, 3) switch
                {
                    0 => $"Then {p.He} gets {n} more {item.Many} from {friend.Name}.",
                    1 => $"{friend.Name} gives {p.Him} {n} more {item.Many}.",
                    _ => $"Later, {n} extra {item.Many} are added by {friend.Name}.",
                });
                have = cot.Step(have, '+', n, $"After getting {n} more, {p.Name} has ", $" {item.Many}.");
            }
            else
            {
                sentences.Add(random.Phrasing(wording, 3) switch
                {
                    0 => $"{Cap(p.He)} gives {n} {item.Many} to {friend.Name}.",
                    1 => $"{Cap(p.He)} loses {n} of them on the way home.",
                    _ => $"Afterwards, {n} of the {item.Many} end up with {friend.Name}.",
                });
                have = cot.Step(have, '-', n, $"After {n} are gone, {p.Name} has ", $" {item.Many}.");
            }
        }
        if (split == 1)
        {
            var parts = random.Divisor(have);
            if (parts == 0) return null;
            sentences.Add(random.Phrasing(wording, 3) switch
            {
                0 => $"{Cap(p.He)} shares the {item.Many} equally among {parts} friends. How many {item.Many} does each friend get?",
                1 => $"{Cap(p.He)} puts them into {parts} {holder.Many} with the same number in each. How many {item.Many} go in each {holder.One}?",
                _ => $"If the {item.Many} are split evenly into {parts} groups, what is the size of each group?",
            });
            cot.Step(have, '/', parts, "Each share has ", $" {item.Many}.");
        }
        else
        {
            sentences.Add(random.Phrasing(wording, 3) switch
            {
                0 => $"How many {item.Many} does {p.Name} have now?",
                1 => $"How many {item.Many} does {p.Name} end up with?",
                _ => $"What is the number of {item.Many} {p.Name} is left with?",
            });
        }
        return cot.Finish(string.Join(' ', sentences));
    }

    // Two operations: one kind of goods and the change; three: two kinds and the total; four: two kinds and the change.
    private static SyntheticItem? Shopping(ref SplitMix64 random, int operations, Wording wording)
    {
        var p = random.Pick(People);
        var goods = random.PickDistinct(Goods, 2);
        var (first, second) = (goods[0].Item, goods[1].Item);
        var a = random.Between(2, 6);
        var price1 = random.Between(goods[0].MinPrice, goods[0].MaxPrice);
        var b = random.Between(2, 6);
        var price2 = random.Between(goods[1].MinPrice, goods[1].MaxPrice);
        var cot = new Derivation();
        var sentences = new List<string>();
        int total;
        if (operations == 2)
        {
            sentences.Add(random.Phrasing(wording, 3) switch
            {
                0 => $"{p.Name} buys {a} {first.Many} for {price1} dollars each.",
                1 => $"At the store, {p.Name} picks out {a} {first.Many} that cost {price1} dollars apiece.",
                _ => $"{a} {first.Many}, priced at {price1} dollars each, go into {p.Name}'s cart.",
            });
            total = cot.Step(a, '*', price1, $"The {first.Many} cost ", " dollars.");
        }
        else
        {
            sentences.Add(random.Phrasing(wording, 3) switch
            {
                0 => $"{p.Name} buys {a} {first.Many} for {price1} dollars each and {b} {second.Many} for {price2} dollars each.",
                1 => $"At the store, {p.Name} picks out {a} {first.Many} that cost {price1} dollars apiece and {b} {second.Many} that cost {price2} dollars apiece.",
                _ => $"{a} {first.Many} at {price1} dollars each and {b} {second.Many} at {price2} dollars each go into {p.Name}'s cart.",
            });
            var x = cot.Step(a, '*', price1, $"The {first.Many} cost ", " dollars.");
            var y = cot.Step(b, '*', price2, $"The {second.Many} cost ", " dollars.");
            total = cot.Step(x, '+', y, $"In total, {p.Name} spends ", " dollars.");
        }
        if (operations == 3)
        {
            sentences.Add(random.Phrasing(wording, 3) switch
            {
                0 => $"How much money does {p.Name} spend?",
                1 => $"How many dollars does {p.Name} pay in all?",
                _ => $"What is the total cost of {p.Name}'s shopping in dollars?",
            });
            return cot.Finish(string.Join(' ', sentences));
        }
        var bills = new[] { 20, 50, 100, 200 }.Where(bill => bill > total).ToList();
        if (bills.Count == 0) return null;
        var paid = random.Pick(bills);
        sentences.Add(random.Phrasing(wording, 3) switch
        {
            0 => $"{Cap(p.He)} pays with a {paid}-dollar bill. How much change does {p.He} get back?",
            1 => $"{Cap(p.He)} hands the cashier {paid} dollars. How many dollars does {p.He} get back?",
            _ => $"If {p.Name} pays using {paid} dollars, what amount of change in dollars is returned?",
        });
        cot.Step(paid, '-', total, $"{p.Name} gets ", " dollars back.");
        return cot.Finish(string.Join(' ', sentences));
    }

    // A has a; B has k times as many; C has d fewer or more than B. Two operations ask for C or for A and B; three for B
    // and C; four for all three.
    private static SyntheticItem? Comparison(ref SplitMix64 random, int operations, Wording wording)
    {
        var cast = Cast(ref random, 3);
        var (a, b, c) = (cast[0], cast[1], cast[2]);
        var item = random.Pick(Things);
        var countA = random.Between(3, 30);
        var times = random.Between(2, 5);
        var difference = random.Between(2, 20);
        var fewer = random.Coin();
        var askForC = operations == 2 && random.Coin();
        var cot = new Derivation();
        var sentences = new List<string>
        {
            random.Phrasing(wording, 3) switch
            {
                0 => $"{a.Name} has {countA} {item.Many}.",
                1 => $"{a.Name} owns {countA} {item.Many}.",
                _ => $"{countA} {item.Many} belong to {a.Name}.",
            },
            random.Phrasing(wording, 3) switch
            {
                0 => $"{b.Name} has {times} times as many {item.Many} as {a.Name}.",
                1 => $"{b.Name} has {times} times the number of {item.Many} that {a.Name} has.",
                _ => $"{b.Name}'s collection is {times} times as big as {a.Name}'s.",
            },
        };
        var countB = cot.Step(countA, '*', times, $"{b.Name} has ", $" {item.Many}.");
        if (operations == 2 && !askForC)
        {
            sentences.Add(random.Phrasing(wording, 3) switch
            {
                0 => $"How many {item.Many} do {a.Name} and {b.Name} have together?",
                1 => $"How many {item.Many} do {a.Name} and {b.Name} have in total?",
                _ => $"What is the combined number of {item.Many} owned by {a.Name} and {b.Name}?",
            });
            cot.Step(countA, '+', countB, $"{a.Name} and {b.Name} have ", $" {item.Many}.");
            return cot.Finish(string.Join(' ', sentences));
        }
        sentences.Add((fewer, random.Phrasing(wording, 3)) switch
        {
            (true, 0) => $"{c.Name} has {difference} fewer {item.Many} than {b.Name}.",
            (true, 1) => $"{c.Name} has {difference} {item.Many} less than {b.Name}.",
            (true, _) => $"{c.Name}'s collection is {difference} smaller than {b.Name}'s.",
            (false, 0) => $"{c.Name} has {difference} more {item.Many} than {b.Name}.",
            (false, 1) => $"{c.Name} has {difference} {item.Many} more than {b.Name}.",
            (false, _) => $"{c.Name}'s collection is {difference} bigger than {b.Name}'s.",
        });
        var countC = cot.Step(countB, fewer ? '-' : '+', difference, $"{c.Name} has ", $" {item.Many}.");
        sentences.Add((operations, random.Phrasing(wording, 3)) switch
        {
            (2, 0) => $"How many {item.Many} does {c.Name} have?",
            (2, 1) => $"How many {item.Many} are in {c.Name}'s collection?",
            (2, _) => $"What is the number of {item.Many} {c.Name} owns?",
            (3, 0) => $"How many {item.Many} do {b.Name} and {c.Name} have together?",
            (3, 1) => $"How many {item.Many} do {b.Name} and {c.Name} have in total?",
            (3, _) => $"What is the combined number of {item.Many} owned by {b.Name} and {c.Name}?",
            (_, 0) => $"How many {item.Many} do the three of them have altogether?",
            (_, 1) => $"How many {item.Many} do {a.Name}, {b.Name} and {c.Name} have in total?",
            (_, _) => $"What is the combined number of {item.Many} owned by all three?",
        });
        if (operations == 3) cot.Step(countB, '+', countC, $"{b.Name} and {c.Name} have ", $" {item.Many}.");
        if (operations == 4)
        {
            var ab = cot.Step(countA, '+', countB, $"{a.Name} and {b.Name} have ", $" {item.Many}.");
            cot.Step(ab, '+', countC, "Together, the three have ", $" {item.Many}.");
        }
        return cot.Finish(string.Join(' ', sentences));
    }

    private static readonly (string Does, string Did, Noun Unit)[] Jobs =
    [
        ("walks", "walked", new("dog", "dogs")), ("washes", "washed", new("car", "cars")), ("mows", "mowed", new("lawn", "lawns")),
        ("paints", "painted", new("fence", "fences")), ("bakes", "baked", new("cake", "cakes")), ("tutors", "tutored", new("student", "students")),
    ];

    // Units of work on two days × pay per unit; three operations spend some; four split the rest into jars.
    private static SyntheticItem? Earnings(ref SplitMix64 random, int operations, Wording wording)
    {
        var p = random.Pick(People);
        var job = random.Pick(Jobs);
        var pay = random.Between(2, 12);
        var saturday = random.Between(2, 9);
        var sunday = random.Between(2, 9);
        var cot = new Derivation();
        var sentences = new List<string>
        {
            random.Phrasing(wording, 3) switch
            {
                0 => $"{p.Name} earns {pay} dollars for each {job.Unit.One} {p.He} {job.Does}. On Saturday {p.He} {job.Does} {saturday} {job.Unit.Many}, and on Sunday {p.He} {job.Does} {sunday}.",
                1 => $"{p.Name} gets paid {pay} dollars per {job.Unit.One}. {Cap(p.He)} {job.Did} {saturday} {job.Unit.Many} on Saturday and {sunday} {job.Unit.Many} on Sunday.",
                _ => $"Every {job.Unit.One} {p.Name} {job.Does} brings in {pay} dollars; this weekend the count was {saturday} on Saturday and {sunday} on Sunday.",
            },
        };
        var units = cot.Step(saturday, '+', sunday, $"{p.Name} {job.Did} ", $" {job.Unit.Many} in all.");
        var earned = cot.Step(units, '*', pay, $"{Cap(p.He)} earned ", " dollars.");
        if (operations == 2)
        {
            sentences.Add(random.Phrasing(wording, 3) switch
            {
                0 => $"How much money does {p.Name} earn over the weekend?",
                1 => $"How many dollars does {p.Name} make on the two days?",
                _ => $"What are {p.Name}'s total weekend earnings in dollars?",
            });
            return cot.Finish(string.Join(' ', sentences));
        }
        var spent = random.Between(2, Math.Max(2, earned - 1));
        var thing = random.Pick(Goods).Item;
        sentences.Add(random.Phrasing(wording, 3) switch
        {
            0 => $"{Cap(p.He)} spends {spent} dollars on a {thing.One}.",
            1 => $"Then {p.He} buys a {thing.One} for {spent} dollars.",
            _ => $"A {thing.One} costing {spent} dollars is bought with the money.",
        });
        var left = cot.Step(earned, '-', spent, $"{Cap(p.He)} has ", " dollars left.");
        if (operations == 3)
        {
            sentences.Add(random.Phrasing(wording, 3) switch
            {
                0 => $"How much money does {p.Name} have left?",
                1 => $"How many dollars does {p.Name} keep?",
                _ => $"What amount in dollars remains with {p.Name}?",
            });
            return cot.Finish(string.Join(' ', sentences));
        }
        var jars = random.Divisor(left);
        if (jars == 0) return null;
        sentences.Add(random.Phrasing(wording, 3) switch
        {
            0 => $"{Cap(p.He)} splits the rest equally among {jars} savings jars. How many dollars go in each jar?",
            1 => $"The rest is shared equally by {jars} jars. How much money does each jar get?",
            _ => $"If the remaining money is divided evenly into {jars} jars, what does each jar hold in dollars?",
        });
        cot.Step(left, '/', jars, "Each jar gets ", " dollars.");
        return cot.Finish(string.Join(' ', sentences));
    }

    // Had some; gave some away (to one or two friends); bought more; now has n. Two operations: one friend; three: two
    // friends or the original equal boxes; four: both.
    private static SyntheticItem? WorkingBackwards(ref SplitMix64 random, int operations, Wording wording)
    {
        var cast = Cast(ref random, 3);
        var (p, friend, other) = (cast[0], cast[1], cast[2]);
        var item = random.Pick(Things);
        var holder = random.Pick(Holders);
        var twoFriends = operations == 4 || (operations == 3 && random.Coin());
        var boxes = operations - (twoFriends ? 3 : 2) == 1;
        var gave = random.Between(2, 30);
        var gave2 = random.Between(2, 30);
        var bought = random.Between(2, 30);
        var now = random.Between(bought + 1, bought + 60);
        var cot = new Derivation();
        var sentences = new List<string>
        {
            random.Phrasing(wording, 3) switch
            {
                0 => $"{p.Name} had some {item.Many}.",
                1 => $"{p.Name} started the week with some {item.Many}.",
                _ => $"Nobody remembers how many {item.Many} {p.Name} had to begin with.",
            },
            random.Phrasing(wording, 3) switch
            {
                0 => $"{Cap(p.He)} gave {gave} {item.Many} to {friend.Name}.",
                1 => $"{Cap(p.He)} handed {gave} of them to {friend.Name}.",
                _ => $"{friend.Name} received {gave} of them from {p.Name}.",
            },
        };
        if (twoFriends)
            sentences.Add(random.Phrasing(wording, 3) switch
            {
                0 => $"{Cap(p.He)} also gave {gave2} {item.Many} to {other.Name}.",
                1 => $"{other.Name} got {gave2} of them too.",
                _ => $"Another {gave2} went to {other.Name}.",
            });
        sentences.Add(random.Phrasing(wording, 3) switch
        {
            0 => $"Then {p.He} bought {bought} more {item.Many}, and now {p.He} has {now} {item.Many}.",
            1 => $"After buying {bought} more, {p.He} has {now} {item.Many}.",
            _ => $"A purchase of {bought} more brought the total to {now}.",
        });
        var x = cot.Step(now, '-', bought, $"Before buying {bought} {item.Many}, {p.Name} had ", $" {item.Many}.");
        var start = cot.Step(x, '+', gave, $"Before giving {gave} to {friend.Name}, {p.Name} had ", $" {item.Many}.");
        if (twoFriends) start = cot.Step(start, '+', gave2, $"Before giving {gave2} to {other.Name}, {p.Name} had ", $" {item.Many}.");
        if (boxes)
        {
            var count = random.Divisor(start);
            if (count == 0) return null;
            sentences.Add(random.Phrasing(wording, 3) switch
            {
                0 => $"At first, the {item.Many} were packed in {count} {holder.Many} with the same number in each. How many {item.Many} were in each {holder.One}?",
                1 => $"{Cap(p.He)} had kept them in {count} {holder.Many}, an equal number in each. How many were in one {holder.One}?",
                _ => $"The original {item.Many} filled {count} {holder.Many} equally; what did one {holder.One} contain?",
            });
            cot.Step(start, '/', count, $"Each {holder.One} held ", $" {item.Many}.");
        }
        else
            sentences.Add(random.Phrasing(wording, 3) switch
            {
                0 => $"How many {item.Many} did {p.Name} have at first?",
                1 => $"How many {item.Many} did {p.Name} start with?",
                _ => $"What number of {item.Many} did {p.Name} begin with?",
            });
        return cot.Finish(string.Join(' ', sentences));
    }
}
