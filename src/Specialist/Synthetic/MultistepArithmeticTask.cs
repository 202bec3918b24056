using System.Globalization;
using Specialist.Answers;
using Specialist.Prompts;

namespace Specialist.Synthetic;

/// <summary>
/// BBH multistep_arithmetic_two, smaller: <c>((a op b) op (c op d)) =</c> over 1…9 with + and − (BBH's −9…9 with ×
/// is beyond a model of a few hundred thousand parameters). The chain of thought works out the bracket A, then B, then A op B.
/// </summary>
internal static class MultistepArithmeticTask
{
    public const string Name = "multistep_arithmetic_two";

    /// <summary>Accuracy of a uniform guess: free-form: a number.</summary>
    public const double Chance = 0;

    private const int Limit = 100;
    private static readonly char[] Operators = ['+', '-'];

    public static SyntheticItem? Draw(ref SplitMix64 random)
    {
        var groups = new List<string>[2];
        for (var g = 0; g < 2; g++)
        {
            groups[g] = [Number(random.Between(1, 9))];
            for (var k = 0; k < 1; k++)
            {
                groups[g].Add(random.Pick(Operators).ToString());
                groups[g].Add(Number(random.Between(1, 9)));
            }
        }
        var outer = random.Pick(Operators);
        var lines = new List<string>();
        var values = new int[2];
        for (var g = 0; g < 2; g++)
        {
            var chain = new List<string> { $"({string.Join(' ', groups[g])})" };
            var tokens = groups[g];
            while (tokens.Count > 1)
            {
                (tokens, var value) = Rewrite(tokens);
                if (Math.Abs(value) > Limit) return null;
                chain.Add(tokens.Count == 1 ? tokens[0] : $"({string.Join(' ', tokens)})");
            }
            values[g] = int.Parse(tokens[0], CultureInfo.InvariantCulture);
            lines.Add($"{(g == 0 ? 'A' : 'B')} = {string.Join(" = ", chain)}.");
        }
        var result = Apply(values[0], outer, values[1]);
        if (Math.Abs(result) > Limit) return null;
        var answer = Number(result);
        lines.Add($"A {outer} B = {Number(values[0])} {outer} {Number(values[1])} = {answer}. So the answer is {answer}.");
        var question = $"(({string.Join(' ', groups[0])}) {outer} ({string.Join(' ', groups[1])})) =";
        return new SyntheticItem(question, string.Join(' ', lines), GoldAnswer.FromText(answer));
    }

    // tokens alternate number, operator, number, …; one step applies the first "*", else the first operator, and gives
    // the value it computed.
    private static (List<string> Tokens, int Value) Rewrite(List<string> tokens)
    {
        var at = tokens.IndexOf("*");
        if (at < 0) at = 1;
        var value = Apply(int.Parse(tokens[at - 1], CultureInfo.InvariantCulture), tokens[at][0], int.Parse(tokens[at + 1], CultureInfo.InvariantCulture));
        var result = new List<string>(tokens);
        result.RemoveRange(at - 1, 3);
        result.Insert(at - 1, Number(value));
        return (result, value);
    }

    private static int Apply(int a, char op, int b) => op switch
    {
        '+' => a + b,
        '-' => a - b,
        '*' => a * b,
        _ => throw new ArgumentOutOfRangeException(nameof(op), op, "not one of + - *"),
    };

    private static string Number(int value) => value.ToString(CultureInfo.InvariantCulture);
}
