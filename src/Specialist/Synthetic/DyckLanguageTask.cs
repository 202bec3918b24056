using Specialist.Answers;
using Specialist.Prompts;

namespace Specialist.Synthetic;

/// <summary>
/// BBH dyck_languages: complete a sequence of brackets <c>( [ { &lt;</c> so every open one is closed. The chain of
/// thought tracks the stack after each symbol, then pops what is left.
/// </summary>
internal static class DyckLanguageTask
{
    public const string Name = "dyck_languages";

    /// <summary>Accuracy of a uniform guess: free-form: the closing brackets.</summary>
    public const double Chance = 0;

    internal const string Opening = "([{<";
    internal const string Closing = ")]}>";

    private const int MaxDepth = 4;

    public static SyntheticItem? Draw(ref SplitMix64 random)
    {
        var length = random.Between(3, 10);
        var sequence = new List<char>();
        var stack = new List<char>();
        var lines = new List<string> { "We should process each input one by one and keep track of the stack configuration.", "0: empty stack" };
        for (var i = 0; i < length; i++)
        {
            char symbol;
            if (stack.Count == 0 || (stack.Count < MaxDepth && random.Coin()))
            {
                symbol = Opening[random.NextBelow(Opening.Length)];
                stack.Add(symbol);
            }
            else
            {
                symbol = Closing[Opening.IndexOf(stack[^1])];
                stack.RemoveAt(stack.Count - 1);
            }
            sequence.Add(symbol);
            lines.Add($"{i + 1}: {symbol} ; stack: {(stack.Count == 0 ? "empty" : string.Join(' ', stack))}");
        }
        if (stack.Count == 0) return null;

        var popped = Enumerable.Reverse(stack).ToList();
        var closers = popped.Select(c => Closing[Opening.IndexOf(c)]).ToList();
        var answer = string.Join(' ', closers);
        lines.Add($"Now, we have reached the end. The final stack is \"{string.Join(' ', stack)}\".");
        lines.Add($"We will need to pop out {string.Join(", ", popped.Select(c => $"\"{c}\""))} one by one in that order.");
        lines.Add($"So, we need {string.Join(", ", closers.Select(c => $"\"{c}\""))}. So the answer is {answer}.");
        return new SyntheticItem(
            $"Complete the rest of the sequence, making sure that the parentheses are closed properly. Input: {string.Join(' ', sequence)}",
            string.Join('\n', lines), GoldAnswer.FromText(answer));
    }
}
