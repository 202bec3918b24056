using Specialist.Answers;
using Specialist.Prompts;

namespace Specialist.Synthetic;

/// <summary>
/// BBH dyck_languages, shorter: complete a sequence of 2–6 brackets, nested at most twice, <c>( [ { &lt;</c> so every open one is closed.
/// The chain of thought writes the stack after each symbol on one line, then closes what is left, innermost first.
/// </summary>
internal static class DyckLanguageTask
{
    public const string Name = "dyck_languages";

    /// <summary>Accuracy of a uniform guess: free-form: the closing brackets.</summary>
    public const double Chance = 0;

    internal const string Opening = "([{<";
    internal const string Closing = ")]}>";

    private const int MaxDepth = 2;

    public static SyntheticItem? Draw(ref SplitMix64 random)
    {
        var length = random.Between(2, 6);
        var sequence = new List<char>();
        var stack = new List<char>();
        var trace = new List<string>();
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
            trace.Add(stack.Count == 0 ? "empty" : string.Join(' ', stack));
        }
        if (stack.Count == 0) return null;

        var answer = string.Join(' ', Enumerable.Reverse(stack).Select(c => Closing[Opening.IndexOf(c)]));
        var rationale = $"Stack: {string.Join(" ; ", trace)}.\nWe close {string.Join(' ', stack)} from the end. So the answer is {answer}.";
        return new SyntheticItem(
            $"Complete the rest of the sequence, making sure that the parentheses are closed properly. Input: {string.Join(' ', sequence)}",
            rationale, GoldAnswer.FromText(answer));
    }
}
