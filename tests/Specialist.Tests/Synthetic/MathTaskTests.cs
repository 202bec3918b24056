using System.Globalization;
using System.Text.RegularExpressions;
using Specialist.Synthetic;

namespace Specialist.Tests.Synthetic;

public sealed partial class MathTaskTests
{
    private const int Count = 400;

    public static TheoryData<SyntheticTaskKind, int, int> Kinds => new()
    {
        { SyntheticTaskKind.Math, 2, 4 },
        { SyntheticTaskKind.MathMild, 2, 2 },
        { SyntheticTaskKind.MultiArith, 2, 2 },
        { SyntheticTaskKind.Asdiv, 1, 3 },
        { SyntheticTaskKind.Svamp, 1, 2 },
    };

    [GeneratedRegex(@"(?<a>\d+) (?<op>[-+*/]) (?<b>\d+) = (?<c>\d+)")]
    private static partial Regex Equation();

    [GeneratedRegex(@"\d+")]
    private static partial Regex Number();

    private static List<int> Numbers(string text) => [.. Number().Matches(text).Select(m => int.Parse(m.Value, CultureInfo.InvariantCulture))];

    /// <summary>
    /// Recomputes every <c>a op b = c</c> line; each operand must come from the question or an earlier line; the last
    /// result must be the gold answer; every result a whole number in 1..200.
    /// </summary>
    [Theory]
    [MemberData(nameof(Kinds))]
    public void Every_step_is_right_grounded_and_ends_at_the_gold_answer(SyntheticTaskKind kind, int minSteps, int maxSteps)
    {
        var problems = SyntheticTasks.Generate(kind, Count, seed: 7);
        Assert.Equal(Count, problems.Count);
        Assert.Equal(Count, problems.Select(p => p.Question).Distinct().Count());
        var stepCounts = new SortedSet<int>();
        var withUnusedNumber = 0;
        for (var i = 0; i < problems.Count; i++)
        {
            var p = problems[i];
            Assert.Equal($"synth-{SyntheticTasks.KindName(kind)}/{i}", p.Id);
            Assert.True(p.Answer.IsNumeric, p.Id);
            Assert.NotNull(p.Rationale);
            Assert.DoesNotContain("answer is", p.Rationale, StringComparison.OrdinalIgnoreCase);
            var lines = p.Rationale.Split('\n');
            stepCounts.Add(lines.Length);
            var given = Numbers(p.Question);
            var known = new HashSet<int>(given);
            var used = new HashSet<int>();
            var last = -1;
            foreach (var line in lines)
            {
                var match = Assert.Single(Equation().Matches(line));
                var (a, op, b, c) = (Int(match, "a"), match.Groups["op"].Value[0], Int(match, "b"), Int(match, "c"));
                if (op == '/') Assert.True(b >= 2 && a % b == 0, $"{p.Id}: {line}");
                var expected = op switch { '+' => a + b, '-' => a - b, '*' => a * b, _ => a / b };
                Assert.True(expected == c, $"{p.Id}: {line}");
                Assert.InRange(c, 1, 100);
                Assert.True(known.Contains(a) && known.Contains(b), $"{p.Id}: an operand of '{line}' is in neither the question nor an earlier step");
                used.UnionWith([a, b]);
                known.Add(c);
                last = c;
            }
            Assert.Equal(last, p.Answer.Number);
            if (given.Any(n => !used.Contains(n))) withUnusedNumber++;
        }
        Assert.Equal(Enumerable.Range(minSteps, maxSteps - minSteps + 1), stepCounts);
        // SVAMP's variations add numbers the answer does not need; every other set uses all it gives.
        if (kind == SyntheticTaskKind.Svamp) Assert.True(withUnusedNumber > Count / 2, $"{withUnusedNumber} of {Count} have an irrelevant number");
        else Assert.Equal(0, withUnusedNumber);
    }

    [Fact]
    public void Svamp_like_problems_also_put_the_question_first()
    {
        var problems = SyntheticTasks.Generate(SyntheticTaskKind.Svamp, 200, seed: 3);
        var questionFirst = problems.Count(p => p.Question.StartsWith("How many", StringComparison.Ordinal));
        Assert.InRange(questionFirst, 50, 150);
    }

    /// <summary>
    /// The out-of-distribution sets share no sentence pattern (numbers, names, things and pronouns blanked) with the
    /// in-distribution set: their templates and phrasings are their own, the mild split's included.
    /// </summary>
    [Theory]
    [InlineData(SyntheticTaskKind.MathMild)]
    [InlineData(SyntheticTaskKind.MultiArith)]
    [InlineData(SyntheticTaskKind.Asdiv)]
    [InlineData(SyntheticTaskKind.Svamp)]
    public void Out_of_distribution_phrasings_are_disjoint_from_the_in_distribution_set(SyntheticTaskKind kind)
    {
        var inDistribution = Patterns(SyntheticTasks.Generate(SyntheticTaskKind.Math, Count, seed: 11));
        var outOfDistribution = Patterns(SyntheticTasks.Generate(kind, Count, seed: 11));
        Assert.True(outOfDistribution.Count >= 5, string.Join("\n", outOfDistribution));
        Assert.Empty(inDistribution.Intersect(outOfDistribution));
    }

    [Fact]
    public void The_same_seed_gives_the_same_problems_and_a_longer_set_extends_a_shorter_one()
    {
        var longer = SyntheticTasks.Generate(SyntheticTaskKind.Math, 60, seed: 5);
        Assert.Equal(longer, SyntheticTasks.Generate(SyntheticTaskKind.Math, 60, seed: 5));
        Assert.Equal(longer.Take(25), SyntheticTasks.Generate(SyntheticTaskKind.Math, 25, seed: 5));
        var other = SyntheticTasks.Generate(SyntheticTaskKind.Math, 60, seed: 6);
        Assert.True(longer.Select(p => p.Question).Intersect(other.Select(p => p.Question)).Count() < 5);
    }

    [Fact]
    public void Unknown_kind_names_list_the_kinds()
    {
        Assert.Equal(SyntheticTaskKind.MathMild, SyntheticTasks.ParseKind("math-mild"));
        var e = Assert.Throws<SpecialistException>(() => SyntheticTasks.ParseKind("gsm"));
        Assert.Contains("'gsm'", e.Message);
        Assert.Contains("multiarith", e.Message);
    }

    private static int Int(Match match, string group) => int.Parse(match.Groups[group].Value, CultureInfo.InvariantCulture);

    private static readonly HashSet<string> Names = [.. StoryWords.People.Select(p => p.Name)];
    private static readonly HashSet<string> Nouns =
    [
        .. StoryWords.Things.Concat(StoryWords.Holders).Concat(StoryWords.Goods.Select(g => g.Item))
            .SelectMany(n => new[] { n.One, n.Many }).SelectMany(n => n.Split(' ')),
    ];
    private static readonly HashSet<string> Pronouns = ["he", "she", "him", "her", "his", "He", "She", "His", "Her"];

    [GeneratedRegex(@"(?<=[.?!;])\s+")]
    private static partial Regex SentenceBreak();

    [GeneratedRegex(@"[A-Za-z]+|\d+|[^\sA-Za-z\d]")]
    private static partial Regex Word();

    private static HashSet<string> Patterns(IEnumerable<Specialist.Data.Problem> problems) =>
    [
        .. problems.SelectMany(p => SentenceBreak().Split(p.Question)).Select(sentence => string.Join(' ', Word().Matches(sentence).Select(m =>
            char.IsDigit(m.Value[0]) ? "N" : Names.Contains(m.Value) ? "P" : Nouns.Contains(m.Value) ? "T" : Pronouns.Contains(m.Value) ? "R" : m.Value))),
    ];
}
