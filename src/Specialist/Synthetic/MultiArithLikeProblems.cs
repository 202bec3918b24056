using Specialist.Prompts;
using static Specialist.Synthetic.StoryWords;

namespace Specialist.Synthetic;

/// <summary>
/// MultiArith-like problems: fixed two-step patterns (<c>a - b + c</c>, <c>(a - b) × c</c>, <c>(a + b) × c</c>,
/// <c>(a - b) ÷ c</c>, <c>(a + b) ÷ c</c>, <c>a × b - c</c>, <c>a ÷ b + c</c>) in MultiArith's "If …, how many … would …?"
/// wording, none of which the in-distribution set uses.
/// </summary>
internal static class MultiArithLikeProblems
{
    private static readonly (string Things, string Device, string Removed, string Added)[] Media =
    [
        ("songs", "music player", "deleted", "added"), ("photos", "phone", "deleted", "took"),
        ("files", "laptop", "removed", "downloaded"), ("games", "tablet", "uninstalled", "installed"),
    ];

    private static readonly (string Job, Noun Task, string Verb)[] Chores =
    [
        ("painter", new("room", "rooms"), "paint"), ("window cleaner", new("window", "windows"), "clean"),
        ("baker", new("cake", "cakes"), "bake"), ("tailor", new("dress", "dresses"), "sew"), ("gardener", new("hedge", "hedges"), "trim"),
    ];

    private static readonly Noun[] Finds = [new("treasure", "treasures"), new("gem", "gems"), new("star", "stars"), new("key", "keys")];

    public static SyntheticItem? Draw(ref SplitMix64 random)
    {
        var cast = Cast(ref random, 2);
        var (p, friend) = (cast[0], cast[1]);
        var item = random.Pick(Things);
        var cot = new Derivation();
        switch (random.NextBelow(8))
        {
            case 0:
            {
                var (things, device, removed, added) = random.Pick(Media);
                var (a, b, c) = (random.Between(10, 60), random.Between(2, 30), random.Between(2, 40));
                var x = cot.Step(a, '-', b, $"After that {p.He} had ", $" {things}.");
                cot.Step(x, '+', c, "Then ", $" {things}.");
                return cot.Finish($"{p.Name} had {a} {things} on {p.His} {device}. If {p.He} {removed} {b} of them and then {added} {c} new {things}, how many {things} would {p.He} have on {p.His} {device}?");
            }
            case 1:
            {
                var (total, unsold, price) = (random.Between(6, 20), random.Between(2, 5), random.Between(2, 9));
                var sold = cot.Step(total, '-', unsold, $"{p.Name} sold ", $" {item.Many}.");
                cot.Step(sold, '*', price, $"{Cap(p.He)} made ", " dollars.");
                return cot.Finish($"Each {item.One} in a box cost {price} dollars. If the box had {total} {item.Many} in it and {p.Name} sold all but {unsold} of them, how much money would {p.He} have made?");
            }
            case 2:
            {
                var find = random.Pick(Finds);
                var (points, first, second) = (random.Between(2, 10), random.Between(2, 9), random.Between(2, 9));
                var found = cot.Step(first, '+', second, $"{p.Name} found ", $" {find.Many}.");
                cot.Step(found, '*', points, $"{Cap(p.His)} score would be ", " points.");
                return cot.Finish($"{p.Name} was playing a video game where {p.He} scores {points} points for each {find.One} {p.He} finds. If {p.He} found {first} {find.Many} on the first level and {second} on the second, what would {p.His} score be?");
            }
            case 3:
            {
                var toy = random.Pick(Goods);
                var (money, spent, price) = (random.Between(20, 90), random.Between(5, 40), random.Between(toy.MinPrice, toy.MaxPrice));
                var left = cot.Step(money, '-', spent, $"{p.Name} had ", " dollars left.");
                cot.Step(left, '/', price, $"{Cap(p.He)} could buy ", $" {toy.Item.Many}.");
                return cot.Finish($"{p.Name} had {money} dollars. If {p.He} spent {spent} dollars on a new game, how many {price}-dollar {toy.Item.Many} could {p.He} buy with the money {p.He} had left?");
            }
            case 4:
            {
                var (job, task, verb) = random.Pick(Chores);
                var (total, done, hours) = (random.Between(5, 20), random.Between(2, 10), random.Between(2, 9));
                var rest = cot.Step(total, '-', done, "There are ", $" {task.Many} left.");
                cot.Step(rest, '*', hours, "It would take ", " hours.");
                return cot.Finish($"{p.Name}, a {job}, needed to {verb} {total} {task.Many}. {Cap(p.He)} has already done {done} of them. If each {task.One} takes {hours} hours to {verb}, how long will it take {p.Him} to {verb} the rest?");
            }
            case 5:
            {
                var (mine, theirs, perBag) = (random.Between(5, 50), random.Between(5, 50), random.Between(2, 9));
                var all = cot.Step(mine, '+', theirs, "They had ", $" {item.Many}.");
                cot.Step(all, '/', perBag, "They could fill ", " bags.");
                return cot.Finish($"{p.Name} and {friend.Name} were putting {item.Many} into bags for a party. {p.Name} had {mine} {item.Many} and {friend.Name} had {theirs}. If they put {perBag} {item.Many} in each bag, how many bags could they fill?");
            }
            case 6:
            {
                var (boxes, perBox, sold) = (random.Between(2, 9), random.Between(3, 12), random.Between(2, 30));
                var all = cot.Step(boxes, '*', perBox, "The store had ", $" {item.Many}.");
                cot.Step(all, '-', sold, "It would have ", $" {item.Many} left.");
                return cot.Finish($"A store had {boxes} boxes of {item.Many} with {perBox} {item.Many} in every box. If they sold {sold} {item.Many}, how many {item.Many} would they have left?");
            }
            default:
            {
                var (picked, perBunch, already) = (random.Between(6, 60), random.Between(2, 6), random.Between(2, 9));
                var made = cot.Step(picked, '/', perBunch, $"{p.Name} could make ", " new bunches.");
                cot.Step(made, '+', already, $"{Cap(p.He)} would have ", " bunches.");
                return cot.Finish($"{p.Name} picked {picked} {item.Many}. If {p.He} wanted to make bunches with {perBunch} {item.Many} in each and already had {already} bunches, how many bunches would {p.He} have?");
            }
        }
    }
}
