using System.Globalization;
using System.Text.RegularExpressions;
using Specialist.Answers;
using Specialist.Synthetic;

namespace Specialist.Tests.Synthetic;

/// <summary>Each BBH-like task's targets recomputed from the question alone by an evaluator written here.</summary>
public sealed partial class GenericTaskTests
{
    private const int Count = 80;

    public static TheoryData<string> Tasks => [.. SyntheticTasks.GenericTaskNames];

    [Theory]
    [MemberData(nameof(Tasks))]
    public void The_chance_level_is_one_over_the_options_or_the_answers_a_guess_can_pick(string task)
    {
        var problems = SyntheticTasks.GenerateGeneric(task, Count, seed: 9);
        // Listed options (lines after "Options:"), else listed words to order, else the distinct answers when they are few (True/False), else free-form.
        var options = problems.Select(p => p.Question.Split("\nOptions:\n") is [_, var list] ? list.Split('\n').Length : 0).Distinct().ToList();
        var answers = problems.Select(p => p.Answer.Text).Distinct().Count();
        // Word sorting's answer is an ordering of the listed words: a guess is one of n! orderings.
        var listed = problems.Select(p => p.Question.Split("List: ") is [_, var words] ? words.Split(' ').Length : 0).Distinct().ToList();
        var expected = options is [> 0 and var n] ? 1.0 / n
            : listed is [> 0 and var w] ? 1.0 / Enumerable.Range(1, w).Aggregate(1, (f, k) => f * k)
            : answers <= 2 ? 1.0 / answers : 0;
        Assert.Equal(expected, SyntheticTasks.GenericTaskChance(task), 12);
    }

    [Theory]
    [MemberData(nameof(Tasks))]
    public void Targets_are_right_and_the_chain_of_thought_ends_with_them(string task)
    {
        var problems = SyntheticTasks.GenerateGeneric(task, Count, seed: 9);
        Assert.Equal(Count, problems.Select(p => p.Question).Distinct().Count());
        Func<string, string> solve = task switch
        {
            "boolean_expressions" => SolveBoolean,
            "word_sorting" => SolveSorting,
            "object_counting" => SolveCounting,
            "dyck_languages" => SolveDyck,
            "navigate" => SolveNavigate,
            "multistep_arithmetic_two" => SolveArithmetic,
            "tracking_shuffled_objects_three_objects" => SolveShuffled,
            "date_understanding" => SolveDate,
            _ => throw new InvalidOperationException($"no evaluator for {task}"),
        };
        for (var i = 0; i < problems.Count; i++)
        {
            var p = problems[i];
            Assert.Equal($"synth-bbh/{task}/{i}", p.Id);
            Assert.Equal(GoldAnswerKind.Text, p.Answer.Kind);
            Assert.Equal(solve(p.Question), p.Answer.Text);
            Assert.EndsWith($"So the answer is {p.Answer.Text}.", p.Rationale);
            Assert.True(BbhAnswerScorer.IsCorrect(p.Rationale!, p.Answer.Text, BbhMode.Cot), p.Id);
        }
        if (task is not ("word_sorting" or "dyck_languages" or "object_counting" or "multistep_arithmetic_two"))
            Assert.True(problems.Select(p => p.Answer.Text).Distinct().Count() > 1, $"{task}: every target is the same");
    }

    [Fact]
    public void The_generic_set_takes_the_tasks_in_turn()
    {
        var names = SyntheticTasks.GenericTaskNames;
        Assert.Equal(8, names.Count);
        var mixed = SyntheticTasks.Generate(SyntheticTaskKind.Generic, 2 * names.Count + 3, seed: 4);
        for (var i = 0; i < mixed.Count; i++)
            Assert.Equal(SyntheticTasks.GenerateGeneric(names[i % names.Count], 3, seed: 4)[i / names.Count], mixed[i]);
    }

    // not > and > or, brackets first.
    private static string SolveBoolean(string question)
    {
        var tokens = question[..^" is".Length].Split(' ');
        var at = 0;
        var value = Or();
        Assert.Equal(tokens.Length, at);
        return value ? "True" : "False";

        bool Or()
        {
            var v = And();
            while (at < tokens.Length && tokens[at] == "or") { at++; v = And() | v; }
            return v;
        }
        bool And()
        {
            var v = Not();
            while (at < tokens.Length && tokens[at] == "and") { at++; v = Not() & v; }
            return v;
        }
        bool Not()
        {
            if (tokens[at] == "not") { at++; return !Not(); }
            if (tokens[at] == "(") { at++; var v = Or(); Assert.Equal(")", tokens[at++]); return v; }
            return tokens[at++] switch { "True" => true, "False" => false, var t => throw new InvalidOperationException(t) };
        }
    }

    private static string SolveSorting(string question)
    {
        var words = question[(question.IndexOf("List: ", StringComparison.Ordinal) + "List: ".Length)..].Split(' ');
        return string.Join(' ', words.Order(StringComparer.Ordinal));
    }

    private static string SolveCounting(string question)
    {
        var match = Regex.Match(question, @"^I have (.+)\. How many (.+) do I have\?$");
        Assert.True(match.Success, question);
        var kind = ObjectCountingTask.Kinds.Single(k => k.Kind == match.Groups[2].Value);
        var total = 0;
        foreach (var entry in match.Groups[1].Value.Split(", "))
        {
            var words = entry.Split(' ', 2);
            if (words[0] == "and") words = words[1].Split(' ', 2);
            var quantity = words[0] is "a" or "an" ? 1 : Array.IndexOf(ObjectCountingTask.QuantityWords, words[0]);
            Assert.True(quantity > 0, entry);
            if (kind.Members.Any(n => n.One == words[1] || n.Many == words[1])) total += quantity;
        }
        return total.ToString(CultureInfo.InvariantCulture);
    }

    private static string SolveDyck(string question)
    {
        var stack = new Stack<char>();
        foreach (var symbol in question[(question.IndexOf("Input: ", StringComparison.Ordinal) + "Input: ".Length)..].Split(' ').Select(s => s[0]))
        {
            var closes = ")]}>".IndexOf(symbol);
            if (closes < 0) stack.Push(symbol);
            else Assert.Equal("([{<"[closes], stack.Pop());
        }
        return string.Join(' ', stack.Select(open => ")]}>"["([{<".IndexOf(open)]));
    }

    private static string SolveNavigate(string question)
    {
        var (x, y, dx, dy) = (0, 0, 0, 1);
        var forward = question.Contains("Always face forward.", StringComparison.Ordinal);
        foreach (Match m in Regex.Matches(question, @"Turn (left|right|around)\.|Take (\d+) steps?(?: (forward|backward|left|right))?\."))
        {
            if (m.Groups[1].Success)
                (dx, dy) = m.Groups[1].Value switch { "left" => (-dy, dx), "right" => (dy, -dx), _ => (-dx, -dy) };
            else
            {
                var n = int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture);
                var (mx, my) = !forward ? (dx, dy) : m.Groups[3].Value switch
                {
                    "forward" => (0, 1),
                    "backward" => (0, -1),
                    "left" => (-1, 0),
                    _ => (1, 0),
                };
                (x, y) = (x + n * mx, y + n * my);
            }
        }
        return x == 0 && y == 0 ? "Yes" : "No";
    }

    private static string SolveArithmetic(string question)
    {
        var tokens = question[..^" =".Length].Replace("(", "( ").Replace(")", " )").Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var at = 0;
        var value = Sum();
        Assert.Equal(tokens.Length, at);
        return value.ToString(CultureInfo.InvariantCulture);

        int Sum()
        {
            var v = Product();
            while (at < tokens.Length && tokens[at] is "+" or "-") v = tokens[at++] == "+" ? v + Product() : v - Product();
            return v;
        }
        int Product()
        {
            var v = Atom();
            while (at < tokens.Length && tokens[at] == "*") { at++; v *= Atom(); }
            return v;
        }
        int Atom()
        {
            if (tokens[at] != "(") return int.Parse(tokens[at++], CultureInfo.InvariantCulture);
            at++;
            var v = Sum();
            Assert.Equal(")", tokens[at++]);
            return v;
        }
    }

    private static string SolveShuffled(string question)
    {
        var holding = new Dictionary<string, string>();
        foreach (Match m in Regex.Matches(question, @"(Alice|Bob|Claire) (?:has|wears) a (\w+ (?:ball|hat))"))
            holding[m.Groups[1].Value] = m.Groups[2].Value;
        Assert.Equal(3, holding.Count);
        foreach (Match m in Regex.Matches(question, @"(?:First|Then|Finally), (\w+) and (\w+) (?:swap|switch)"))
            (holding[m.Groups[1].Value], holding[m.Groups[2].Value]) = (holding[m.Groups[2].Value], holding[m.Groups[1].Value]);
        var asked = Regex.Match(question, @"At the end of the \w+, (\w+) (?:has|wears)").Groups[1].Value;
        return Option(question, holding[asked]);
    }

    private static readonly string[] MonthNames = CultureInfo.InvariantCulture.DateTimeFormat.MonthNames;

    private static string SolveDate(string question)
    {
        var m = Regex.Match(question, @"^(Today is|Tomorrow is|Yesterday was) (?:(\d\d)/(\d\d)/(\d{4})|(\w+) (\d+), (\d{4}))\. What is the date (.+) in MM/DD/YYYY\?");
        Assert.True(m.Success, question);
        var anchor = m.Groups[2].Success
            ? new DateOnly(Int(m, 4), Int(m, 2), Int(m, 3))
            : new DateOnly(Int(m, 7), Array.IndexOf(MonthNames, m.Groups[5].Value) + 1, Int(m, 6));
        var today = m.Groups[1].Value switch { "Tomorrow is" => anchor.AddDays(-1), "Yesterday was" => anchor.AddDays(1), _ => anchor };
        var asked = m.Groups[8].Value;
        var days = Regex.Match(asked, @"^(\d+) days (ago|from today)$");
        var target = days.Success
            ? today.AddDays(Int(days, 1) * (days.Groups[2].Value == "ago" ? -1 : 1))
            : asked switch
            {
                "one week ago from today" => today.AddDays(-7),
                "one week from today" => today.AddDays(7),
                "one year ago from today" => today.AddYears(-1),
                "yesterday" => today.AddDays(-1),
                "tomorrow" => today.AddDays(1),
                _ => throw new InvalidOperationException(asked),
            };
        return Option(question, target.ToString("MM/dd/yyyy", CultureInfo.InvariantCulture));
    }

    /// <summary>The letter, as "(X)", of the one option line whose text is <paramref name="text"/>.</summary>
    private static string Option(string question, string text)
    {
        var options = Regex.Matches(question, @"^\(([A-F])\) (.+)$", RegexOptions.Multiline).Where(o => o.Groups[2].Value == text).ToList();
        return $"({Assert.Single(options).Groups[1].Value})";
    }

    private static int Int(Match m, int group) => int.Parse(m.Groups[group].Value, CultureInfo.InvariantCulture);
}
