using Specialist.Answers;
using Specialist.Prompts;

namespace Specialist.Synthetic;

/// <summary>
/// BBH boolean_expressions: an expression over True/False with not, and, or and brackets, e.g.
/// <c>not ( True or False ) and True is</c>. The chain of thought rewrites it one operation at a time (innermost
/// brackets first, then not, and, or) until one value is left.
/// </summary>
internal static class BooleanExpressionTask
{
    public const string Name = "boolean_expressions";

    /// <summary>Accuracy of a uniform guess: True or False.</summary>
    public const double Chance = 0.5;

    private const int MaxLiterals = 3;

    public static SyntheticItem? Draw(ref SplitMix64 random)
    {
        var tokens = new List<string>();
        WriteExpression(ref random, tokens, nested: false);
        var literals = tokens.Count(IsLiteral);
        if (literals is < 2 or > MaxLiterals) return null;

        var chain = new List<string> { string.Join(' ', tokens) };
        for (var current = tokens; current.Count > 1;)
        {
            current = Rewrite(current);
            chain.Add(string.Join(' ', current));
        }
        var value = chain[^1];
        // One rewrite per step and no preamble: BBH's exemplars open with the precedence rules, which a model this
        // small would spend most of its output budget on.
        var rationale = $"Z = {string.Join(" = ", chain)}. So the answer is {value}.";
        return new SyntheticItem(chain[0] + " is", rationale, GoldAnswer.FromText(value));
    }

    // expression := operand ((and | or) operand)*, operand := not* (literal | "(" expression ")"); brackets nest once.
    private static void WriteExpression(ref SplitMix64 random, List<string> tokens, bool nested)
    {
        var operands = random.Between(nested ? 1 : 2, nested ? 2 : 3);
        for (var i = 0; i < operands; i++)
        {
            if (i > 0) tokens.Add(random.Coin() ? "and" : "or");
            var nots = random.NextBelow(3) == 0 ? 1 : 0;
            for (var k = 0; k < nots; k++) tokens.Add("not");
            if (!nested && random.NextBelow(3) == 0)
            {
                tokens.Add("(");
                WriteExpression(ref random, tokens, nested: true);
                tokens.Add(")");
            }
            else tokens.Add(random.Coin() ? "True" : "False");
        }
    }

    /// <summary>One step: inside the innermost brackets if there are any (dropping brackets around one value), else at the top.</summary>
    internal static List<string> Rewrite(List<string> tokens)
    {
        var close = tokens.IndexOf(")");
        if (close < 0) return RewriteFlat(tokens);
        var open = tokens.LastIndexOf("(", close);
        var inner = tokens.GetRange(open + 1, close - open - 1);
        var result = tokens.GetRange(0, open);
        if (inner.Count == 1) result.Add(inner[0]);
        else
        {
            result.Add("(");
            result.AddRange(RewriteFlat(inner));
            result.Add(")");
        }
        result.AddRange(tokens.GetRange(close + 1, tokens.Count - close - 1));
        return result;
    }

    // Without brackets: the first "not" applied to a value, else the first "and", else the first "or".
    private static List<string> RewriteFlat(List<string> tokens)
    {
        for (var i = 0; i + 1 < tokens.Count; i++)
            if (tokens[i] == "not" && IsLiteral(tokens[i + 1])) return Replace(tokens, i, 2, Text(tokens[i + 1] != "True"));
        foreach (var op in (string[])["and", "or"])
            for (var i = 1; i + 1 < tokens.Count; i++)
                if (tokens[i] == op)
                {
                    var (left, right) = (tokens[i - 1] == "True", tokens[i + 1] == "True");
                    return Replace(tokens, i - 1, 3, Text(op == "and" ? left && right : left || right));
                }
        throw new InvalidOperationException($"nothing to rewrite in '{string.Join(' ', tokens)}'");
    }

    private static List<string> Replace(List<string> tokens, int at, int count, string value)
    {
        var result = new List<string>(tokens);
        result.RemoveRange(at, count);
        result.Insert(at, value);
        return result;
    }

    private static bool IsLiteral(string token) => token is "True" or "False";

    private static string Text(bool value) => value ? "True" : "False";
}
