using System.Globalization;
using Specialist.Answers;
using Specialist.Prompts;

namespace Specialist.Synthetic;

/// <summary>
/// BBH navigate: do these instructions ("Turn left.", "Take 3 steps.", or "Always face forward." then "Take 2 steps
/// left.") bring you back to the start? Half the problems do, by construction. The chain of thought tracks position
/// (and facing, where turns can change it) after each instruction (x grows to the right, y forwards; north is +y).
/// </summary>
internal static class NavigateTask
{
    public const string Name = "navigate";

    /// <summary>Accuracy of a uniform guess: Yes or No.</summary>
    public const double Chance = 0.5;

    internal const string AlwaysForward = "Always face forward.";

    // Facing k is (Dx[k], Dy[k]); turning left adds 1, right adds 3, around adds 2 (mod 4).
    private static readonly int[] Dx = [0, -1, 0, 1];
    private static readonly int[] Dy = [1, 0, -1, 0];
    private static readonly string[] Facings = ["north", "west", "south", "east"];
    private static readonly string[] Turns = ["", "Turn left.", "Turn around.", "Turn right."];
    private static readonly string[] Sides = ["forward", "left", "backward", "right"];

    public static SyntheticItem? Draw(ref SplitMix64 random)
    {
        var returns = random.Coin();
        var forward = random.Coin();
        var instructions = forward ? ForwardInstructions(ref random, returns) : TurningInstructions(ref random, returns);
        if (instructions.Count is 0 or > 4) return null;

        var (x, y, facing) = (0, 0, 0);
        // Facing is written only where it can change (no "Always face forward"), to keep the chain of thought short.
        var lines = new List<string> { forward ? "Start: (0, 0)." : "Start: (0, 0), facing north." };
        if (forward) instructions.Insert(0, AlwaysForward);
        for (var i = 0; i < instructions.Count; i++)
        {
            var instruction = instructions[i];
            var turn = Array.IndexOf(Turns, instruction);
            if (turn > 0) facing = (facing + turn) % 4;
            else if (instruction != AlwaysForward)
            {
                var (steps, side) = Parse(instruction);
                var direction = forward ? side : facing;
                (x, y) = (x + steps * Dx[direction], y + steps * Dy[direction]);
            }
            if (instruction != AlwaysForward) lines.Add($"({lines.Count}) {instruction.TrimEnd('.')}: {Point(x, y)}{(forward ? "" : $", facing {Facings[facing]}")}.");
        }
        var home = x == 0 && y == 0;
        if (home != returns) return null;
        lines.Add(home
            ? $"{Point(x, y)} is the start. So the answer is Yes."
            : $"{Point(x, y)} is not the start. So the answer is No.");
        return new SyntheticItem(
            $"If you follow these instructions, do you return to the starting point? {string.Join(' ', instructions)}\nOptions:\n- Yes\n- No",
            string.Join('\n', lines), GoldAnswer.FromText(home ? "Yes" : "No"));
    }

    // Random moves; to return, moves that cancel them, all shuffled (order does not matter when always facing forward).
    private static List<string> ForwardInstructions(ref SplitMix64 random, bool returns)
    {
        var moves = new List<(int Steps, int Side)>();
        var count = returns ? random.Between(1, 3) : random.Between(2, 4);
        for (var i = 0; i < count; i++) moves.Add((random.Between(1, 10), random.NextBelow(4)));
        if (returns)
        {
            var (x, y) = (moves.Sum(m => m.Steps * Dx[m.Side]), moves.Sum(m => m.Steps * Dy[m.Side]));
            if (y != 0) moves.Add((Math.Abs(y), y > 0 ? 2 : 0));
            if (x != 0) moves.Add((Math.Abs(x), x > 0 ? 1 : 3));
            if (moves.Any(m => m.Steps > 10)) return [];
            random.Shuffle(moves);
        }
        return [.. moves.Select(m => Take(m.Steps, Sides[m.Side]))];
    }

    // Random turns and moves; to return, turns to face back along each axis and the steps that undo it.
    private static List<string> TurningInstructions(ref SplitMix64 random, bool returns)
    {
        var instructions = new List<string>();
        var (x, y, facing) = (0, 0, 0);
        var count = returns ? random.Between(2, 3) : random.Between(2, 4);
        for (var i = 0; i < count; i++)
        {
            if (random.NextBelow(3) == 0)
            {
                var turn = random.Between(1, 3);
                facing = (facing + turn) % 4;
                instructions.Add(Turns[turn]);
            }
            else
            {
                var steps = random.Between(1, 10);
                (x, y) = (x + steps * Dx[facing], y + steps * Dy[facing]);
                instructions.Add(Take(steps, null));
            }
        }
        if (returns)
        {
            foreach (var (distance, target) in new[] { (Math.Abs(y), y > 0 ? 2 : 0), (Math.Abs(x), x > 0 ? 1 : 3) })
            {
                if (distance == 0) continue;
                if (distance > 10) return [];
                var turn = (target - facing + 4) % 4;
                if (turn > 0) instructions.Add(Turns[turn]);
                facing = target;
                instructions.Add(Take(distance, null));
            }
        }
        return instructions;
    }

    private static string Take(int steps, string? side) =>
        string.Create(CultureInfo.InvariantCulture, $"Take {steps} step{(steps == 1 ? "" : "s")}{(side is null ? "" : " " + side)}.");

    // "Take 3 steps left." → (3, index of left); "Take 3 steps." → (3, 0).
    private static (int Steps, int Side) Parse(string instruction)
    {
        var words = instruction.TrimEnd('.').Split(' ');
        return (int.Parse(words[1], CultureInfo.InvariantCulture), words.Length > 3 ? Array.IndexOf(Sides, words[3]) : 0);
    }

    private static string Point(int x, int y) => string.Create(CultureInfo.InvariantCulture, $"({x}, {y})");
}
