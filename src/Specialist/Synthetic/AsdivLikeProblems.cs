using Specialist.Prompts;
using static Specialist.Synthetic.StoryWords;

namespace Specialist.Synthetic;

/// <summary>
/// ASDiv-like problems: one to three steps about measures with their units (centimeters, liters, kilograms, meters,
/// minutes, dollars), asked as "What is …", "Find …", "How long …": shapes and wording the in-distribution set lacks.
/// </summary>
internal static class AsdivLikeProblems
{
    private static readonly (string Thing, string Unit)[] Lengths =
        [("ribbon", "centimeters"), ("rope", "meters"), ("wooden board", "centimeters"), ("roll of tape", "meters")];

    private static readonly (string Container, string Liquid, string Unit)[] Volumes =
        [("water tank", "water", "liters"), ("jug", "juice", "milliliters"), ("barrel", "rainwater", "liters"), ("bottle", "milk", "milliliters")];

    private static readonly (string Sack, string Unit)[] Weights =
        [("bag of rice", "kilograms"), ("sack of flour", "kilograms"), ("box of nails", "grams"), ("crate of potatoes", "kilograms")];

    private static readonly string[] Produce = ["potatoes", "onions", "carrots", "beans"];

    public static SyntheticItem? Draw(ref SplitMix64 random)
    {
        var p = random.Pick(People);
        var cot = new Derivation();
        switch (random.NextBelow(10))
        {
            case 0:
            {
                var (thing, unit) = random.Pick(Lengths);
                var (length, pieces) = (random.Between(12, 150), random.Between(2, 8));
                cot.Step(length, '/', pieces, "Each piece is ", $" {unit} long.");
                return cot.Finish($"A {thing} is {length} {unit} long. It is cut into {pieces} pieces of equal length. How long is each piece in {unit}?");
            }
            case 1:
            {
                var (container, liquid, unit) = random.Pick(Volumes);
                var (full, used) = (random.Between(20, 200), random.Between(5, 150));
                cot.Step(full, '-', used, "The amount left is ", $" {unit}.");
                return cot.Finish($"A {container} holds {full} {unit} of {liquid}. After {used} {unit} are used, what amount of {liquid} in {unit} is left in the {container}?");
            }
            case 2:
            {
                var (sack, unit) = random.Pick(Weights);
                var (each, count) = (random.Between(2, 25), random.Between(2, 9));
                cot.Step(each, '*', count, "The total weight is ", $" {unit}.");
                return cot.Finish($"One {sack} weighs {each} {unit}. What is the total weight in {unit} of {count} of them?");
            }
            case 3:
            {
                var (speed, hours, extra) = (random.Between(10, 60), random.Between(2, 4), random.Between(5, 40));
                var first = cot.Step(speed, '*', hours, "In the first part the bus covers ", " kilometers.");
                cot.Step(first, '+', extra, "Altogether it covers ", " kilometers.");
                return cot.Finish($"A bus travels {speed} kilometers each hour. It travels for {hours} hours and then goes {extra} more kilometers. What distance in kilometers does it cover altogether?");
            }
            case 4:
            {
                var (monday, tuesday, goal) = (random.Between(10, 80), random.Between(10, 80), random.Between(60, 200));
                var walked = cot.Step(monday, '+', tuesday, $"{p.Name} walked ", " meters.");
                cot.Step(goal, '-', walked, $"{Cap(p.He)} still needs ", " meters.");
                return cot.Finish($"{p.Name} walked {monday} meters on Monday and {tuesday} meters on Tuesday. {Cap(p.His)} goal is {goal} meters. Find the number of meters {p.He} still has to walk.");
            }
            case 5:
            {
                var (money, notebooks, price, pen) = (random.Between(20, 100), random.Between(2, 6), random.Between(2, 9), random.Between(2, 9));
                var books = cot.Step(notebooks, '*', price, "The notebooks cost ", " dollars.");
                var spent = cot.Step(books, '+', pen, "With the pen that is ", " dollars.");
                cot.Step(money, '-', spent, $"{p.Name} has ", " dollars left.");
                return cot.Finish($"{p.Name} has {money} dollars. {Cap(p.He)} buys {notebooks} notebooks that cost {price} dollars each and one pen that costs {pen} dollars. What amount of money in dollars does {p.He} have left?");
            }
            case 6:
            {
                var (car, bike, cars, bikes) = (random.Between(5, 20), random.Between(2, 9), random.Between(2, 6), random.Between(2, 6));
                var carTime = cot.Step(car, '*', cars, "The cars take ", " minutes.");
                var bikeTime = cot.Step(bike, '*', bikes, "The bikes take ", " minutes.");
                cot.Step(carTime, '+', bikeTime, "In all that is ", " minutes.");
                return cot.Finish($"It takes {car} minutes to wash one car and {bike} minutes to wash one bike. How many minutes are needed to wash {cars} cars and {bikes} bikes?");
            }
            case 7:
            {
                var (a, b, c) = (random.Between(5, 60), random.Between(5, 60), random.Between(5, 60));
                var two = cot.Step(a, '+', b, "Two sides make ", " centimeters.");
                cot.Step(two, '+', c, "The perimeter is ", " centimeters.");
                return cot.Finish($"The sides of a triangle measure {a} cm, {b} cm and {c} cm. Find the perimeter of the triangle in centimeters.");
            }
            case 8:
            {
                var (container, liquid, unit) = random.Pick(Volumes);
                var (total, glasses) = (random.Between(20, 200), random.Between(3, 8));
                var taken = random.Between(2, glasses - 1);
                var each = cot.Step(total, '/', glasses, "Each glass has ", $" {unit}.");
                cot.Step(each, '*', taken, $"The {taken} glasses have ", $" {unit}.");
                return cot.Finish($"{p.Name} pours {total} {unit} of {liquid} from a {container} equally into {glasses} glasses. What amount of {liquid} in {unit} is in {taken} of the glasses?");
            }
            default:
            {
                var produce = random.Pick(Produce);
                var (stock, sold, perSack) = (random.Between(30, 200), random.Between(5, 60), random.Between(2, 10));
                var rest = cot.Step(stock, '-', sold, "The rest weighs ", " kilograms.");
                cot.Step(rest, '/', perSack, $"{p.Name} fills ", " sacks.");
                return cot.Finish($"{p.Name} grows {stock} kilograms of {produce} on a farm. {Cap(p.He)} sells {sold} kilograms and packs the rest into sacks of {perSack} kilograms each. Find the number of sacks filled.");
            }
        }
    }
}
