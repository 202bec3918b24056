using Specialist.Prompts;
using static Specialist.Synthetic.StoryWords;

namespace Specialist.Synthetic;

/// <summary>
/// SVAMP-like problems: short one- and two-step stories varied as SVAMP varies them: a sentence with a number the
/// answer does not need, the sentences reordered (the question first, its conditions after), and the question changed
/// to ask for a different quantity of the same story.
/// </summary>
internal static class SvampLikeProblems
{
    public static SyntheticItem? Draw(ref SplitMix64 random)
    {
        var cast = Cast(ref random, 3);
        var (p, friend, other) = (cast[0], cast[1], cast[2]);
        var item = random.Pick(Things);
        var cot = new Derivation();
        var questionFirst = random.Coin();
        switch (random.NextBelow(5))
        {
            case 0:
            {
                // Start unknown: gave some away, some left; the friend's own count is irrelevant.
                var (gave, left, friendHad) = (random.Between(2, 40), random.Between(2, 40), random.Between(2, 40));
                cot.Step(gave, '+', left, $"{p.Name} had ", $" {item.Many} at the start.");
                return cot.Finish(questionFirst
                    ? $"How many {item.Many} did {p.Name} have at the start if {p.He} now has {left} {item.Many} left after giving {gave} {item.Many} to {friend.Name}, who already had {friendHad} {item.Many}?"
                    : $"{p.Name} gave {gave} {item.Many} to {friend.Name}. {friend.Name} already had {friendHad} {item.Many}. Now {p.Name} has {left} {item.Many} left. How many {item.Many} did {p.Name} have at the start?");
            }
            case 1:
            {
                // Cakes and pies: the question asks for a difference or for what is left; the other number is irrelevant.
                var (cakes, pies, sold) = (random.Between(10, 60), random.Between(2, 40), random.Between(2, 40));
                var story = $"{p.Name} baked {cakes} cakes and {pies} pies for a fair, and {p.He} sold {sold} cakes there.";
                if (random.Coin())
                {
                    cot.Step(cakes, '-', pies, $"{p.Name} baked ", " more cakes than pies.");
                    return cot.Finish(questionFirst
                        ? $"How many more cakes than pies did {p.Name} bake, given that {p.He} baked {cakes} cakes and {pies} pies for a fair and sold {sold} cakes there?"
                        : $"{story} How many more cakes than pies did {p.He} bake?");
                }
                cot.Step(cakes, '-', sold, $"{p.Name} had ", " cakes left.");
                return cot.Finish(questionFirst
                    ? $"How many cakes did {p.Name} have left, given that {p.He} baked {cakes} cakes and {pies} pies for a fair and sold {sold} cakes there?"
                    : $"{story} How many cakes did {p.He} have left?");
            }
            case 2:
            {
                // Equal baskets of one thing; a second kind of thing in the baskets is irrelevant.
                var others = random.PickDistinct(Things, 2);
                var (counted, extra) = (others[0], others[1]);
                var (baskets, perBasket, extraCount) = (random.Between(2, 9), random.Between(2, 20), random.Between(2, 40));
                var total = baskets * perBasket;
                cot.Step(total, '/', baskets, "Each basket has ", $" {counted.Many}.");
                return cot.Finish(questionFirst
                    ? $"How many {counted.Many} are in each basket if {total} {counted.Many} are shared equally among {baskets} baskets that also hold {extraCount} {extra.Many} in all?"
                    : $"There are {total} {counted.Many} and {extraCount} {extra.Many} in {baskets} baskets. The {counted.Many} are shared equally among the baskets. How many {counted.Many} are in each basket?");
            }
            case 3:
            {
                // Points in two games against a friend's total: the question asks for the sum or for the margin.
                var (first, second, friendTotal) = (random.Between(5, 60), random.Between(5, 60), random.Between(5, 100));
                var story = $"{p.Name} scored {first} points in the first game and {second} points in the second game. {friend.Name} scored {friendTotal} points in total.";
                var sum = cot.Step(first, '+', second, $"{p.Name} scored ", " points in the two games.");
                if (random.Coin())
                    return cot.Finish(questionFirst
                        ? $"How many points did {p.Name} score in the two games if {p.He} scored {first} in the first game and {second} in the second, while {friend.Name} scored {friendTotal} in total?"
                        : $"{story} How many points did {p.Name} score in the two games?");
                cot.Step(sum, '-', friendTotal, $"{p.Name} scored ", $" more points than {friend.Name}.");
                return cot.Finish(questionFirst
                    ? $"How many more points did {p.Name} score than {friend.Name} if {p.Name} scored {first} in the first game and {second} in the second, while {friend.Name} scored {friendTotal} in total?"
                    : $"{story} How many more points did {p.Name} score than {friend.Name}?");
            }
            default:
            {
                // Fewer than one friend and more than another: the question asks about one of them.
                var (mine, fewer, more) = (random.Between(10, 60), random.Between(2, 30), random.Between(2, 9));
                var story = $"{p.Name} collected {mine} {item.Many}. {Cap(p.He)} collected {fewer} fewer {item.Many} than {friend.Name} and {more} more {item.Many} than {other.Name}.";
                var asked = random.Coin() ? friend : other;
                cot.Step(mine, asked == friend ? '+' : '-', asked == friend ? fewer : more, $"{asked.Name} collected ", $" {item.Many}.");
                return cot.Finish(questionFirst
                    ? $"How many {item.Many} did {asked.Name} collect if {p.Name} collected {mine} {item.Many}, which is {fewer} fewer than {friend.Name} and {more} more than {other.Name}?"
                    : $"{story} How many {item.Many} did {asked.Name} collect?");
            }
        }
    }
}
