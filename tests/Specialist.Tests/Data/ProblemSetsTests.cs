using System.Text.Json;
using Specialist.Answers;
using Specialist.Data;

namespace Specialist.Tests.Data;

/// <summary>The loaders on the real data under <see cref="TestPaths.DataRoot"/>.</summary>
public class ProblemSetsTests
{
    private static readonly DataOptions Real = new(TestPaths.DataRoot);

    private static IReadOnlyList<Problem> Load(string set) => ProblemSets.Load(set, Real);

    private static string DataFile(params string[] parts) => Path.Combine([TestPaths.DataRoot, .. parts]);

    [Theory]
    [InlineData("gsm8k-train", 7473)]
    [InlineData("gsm8k-dev", 200)]
    [InlineData("gsm8k-test", 1319)]
    [InlineData("multiarith-dev", 200)]
    [InlineData("multiarith-test", 400)]
    [InlineData("asdiv", 2305)]
    [InlineData("svamp", 1000)]
    [InlineData("bbh", 6511)]
    [InlineData("bbh/navigate", 250)]
    [InlineData("bbh/penguins_in_a_table", 146)]
    public void Sets_have_the_published_counts_and_unique_ids(string set, int count)
    {
        var problems = Load(set);
        Assert.Equal(count, problems.Count);
        Assert.Equal(count, problems.Select(p => p.Id).Distinct().Count());
        Assert.All(problems, p => Assert.False(string.IsNullOrWhiteSpace(p.Question)));
        Assert.All(problems, p => Assert.Equal(p.Question.Trim(), p.Question));
    }

    [Fact]
    public void Gsm8k_ids_questions_golds_and_rationales_come_from_each_line()
    {
        var lines = File.ReadAllLines(DataFile("gsm8k", "train.jsonl"));
        var train = Load("gsm8k-train");
        Assert.Equal(lines.Length, train.Count);
        for (var i = 0; i < lines.Length; i += 997)
        {
            using var raw = JsonDocument.Parse(lines[i]);
            var answer = raw.RootElement.GetProperty("answer").GetString()!;
            var marker = answer.IndexOf("####", StringComparison.Ordinal);
            Assert.Equal($"gsm8k-train/{i}", train[i].Id);
            Assert.Equal(raw.RootElement.GetProperty("question").GetString(), train[i].Question);
            Assert.Equal(answer[..marker].Trim(), train[i].Rationale);
            Assert.Equal(double.Parse(answer[(marker + 4)..].Replace(",", "")), train[i].Answer.Number);
        }
        var first = train[0];
        Assert.Equal(GoldAnswerKind.Number, first.Answer.Kind);
        Assert.Equal(72, first.Answer.Number);
        Assert.Equal("Natalia sold 48/2 = <<48/2=24>>24 clips in May.\nNatalia sold 48+24 = <<48+24=72>>72 clips altogether in April and May.", first.Rationale);
        Assert.Equal("Natalia sold 48/2 = 24 clips in May.\nNatalia sold 48+24 = 72 clips altogether in April and May.", GsmRationale.StripCalculatorMarks(first.Rationale!));
    }

    [Theory]
    [InlineData("gsm8k-train", 345, 1080, "1,080")]
    [InlineData("gsm8k-train", 367, 850000, "850,000")]
    [InlineData("gsm8k-test", 146, 2125, "2,125")]
    [InlineData("gsm8k-test", 201, 114200, "114,200")]
    [InlineData("gsm8k-train", 5715, -7, "-7")]
    [InlineData("gsm8k-train", 5844, -47, "-47")]
    [InlineData("gsm8k-test", 489, -10, "-10")]
    public void Gsm8k_golds_with_thousands_commas_or_minus_signs_parse(string set, int index, double gold, string typed)
    {
        var line = File.ReadLines(DataFile("gsm8k", set == "gsm8k-train" ? "train.jsonl" : "test.jsonl")).ElementAt(index);
        Assert.EndsWith("#### " + typed + "\"}", line);
        var problem = ProblemSets.LoadById(set, Real)[$"{set}/{index}"];
        Assert.True(problem.Answer.IsNumeric);
        Assert.Equal(gold, problem.Answer.Number);
        Assert.Equal(typed.Replace(",", ""), problem.Answer.Text);
    }

    [Theory]
    [InlineData("train.jsonl", "gsm8k-train", 79)]
    [InlineData("test.jsonl", "gsm8k-test", 14)]
    public void Every_comma_gold_loses_its_commas(string file, string set, int expectedCommaGolds)
    {
        var finals = File.ReadLines(DataFile("gsm8k", file))
            .Select(l => JsonDocument.Parse(l).RootElement.GetProperty("answer").GetString()!)
            .Select(a => a[(a.LastIndexOf("####", StringComparison.Ordinal) + 4)..].Trim())
            .ToList();
        var problems = Load(set);
        var withCommas = Enumerable.Range(0, finals.Count).Where(i => finals[i].Contains(',')).ToList();
        Assert.Equal(expectedCommaGolds, withCommas.Count);
        Assert.All(withCommas, i => Assert.Equal(double.Parse(finals[i].Replace(",", "")), problems[i].Answer.Number));
    }

    [Fact]
    public void Gsm8k_dev_is_the_listed_train_problems_with_their_train_ids()
    {
        using var indices = JsonDocument.Parse(File.ReadAllText(DataFile("gsm8k", "dev_indices.json")));
        var expected = indices.RootElement.EnumerateArray().Select(e => e.GetInt32()).ToList();
        var train = Load("gsm8k-train");
        var dev = Load("gsm8k-dev");
        Assert.Equal(expected.Select(i => $"gsm8k-train/{i}"), dev.Select(p => p.Id));
        for (var k = 0; k < dev.Count; k++)
        {
            Assert.Equal(train[expected[k]].Answer, dev[k].Answer);
            Assert.Equal(train[expected[k]].Question, dev[k].Question);
        }
    }

    [Fact]
    public void MultiArith_dev_and_test_are_disjoint_and_cover_all_600()
    {
        var dev = Load("multiarith-dev");
        var test = Load("multiarith-test");
        Assert.Empty(dev.Select(p => p.Id).Intersect(test.Select(p => p.Id)));
        Assert.Equal(Enumerable.Range(0, 600).Select(i => $"multiarith/{i}").Order(), dev.Concat(test).Select(p => p.Id).Order());
        var first = dev.Concat(test).Single(p => p.Id == "multiarith/0");
        Assert.Equal(39, first.Answer.Number);
        Assert.StartsWith("For Halloween Debby", first.Question);
        Assert.EndsWith("how many pieces do they have left?", first.Question);
    }

    [Fact]
    public void MultiArith_split_is_pinned_by_its_documented_seed()
    {
        // SplitMix64's published first outputs from state 0.
        Assert.Equal(0xE220A8397B1DCDAFUL, MultiArithSet.SplitMix64(0));
        Assert.Equal(0x6E789E6AA1B965F4UL, MultiArithSet.SplitMix64(0x9E3779B97F4A7C15UL));
        // Computed once by an independent Python implementation of the documented rule (seed 230112726, 200 smallest keys).
        var dev = Load("multiarith-dev").Select(p => int.Parse(p.Id["multiarith/".Length..])).ToList();
        Assert.Equal([3, 5, 8, 9, 10, 13, 14, 15, 16, 18], dev.Take(10));
        Assert.Equal(59869, dev.Sum());
    }

    [Theory]
    [InlineData("nluds-0001", GoldAnswerKind.Number, "9", 9.0)]
    [InlineData("nluds-1312", GoldAnswerKind.Number, "5/2", 2.5)]
    [InlineData("nluds-1496", GoldAnswerKind.Number, "1/6", 1.0 / 6)]
    [InlineData("nluds-1331", GoldAnswerKind.Number, "-1/3", -1.0 / 3)]
    [InlineData("nluds-0842", GoldAnswerKind.Time, "3:45", null)]
    [InlineData("nluds-0166", GoldAnswerKind.Time, "3:30 p.m.", null)]
    [InlineData("nluds-2060", GoldAnswerKind.Time, "9:03:36 a.m.", null)]
    [InlineData("nluds-0850", GoldAnswerKind.Text, "5:6", null)]
    [InlineData("nluds-1295", GoldAnswerKind.MultipleValues, "5; 15; 20", null)]
    [InlineData("nluds-1345", GoldAnswerKind.MultipleValues, "8; 128", null)]
    [InlineData("nluds-1310", GoldAnswerKind.MultipleValues, "11; 12; 13", null)]
    [InlineData("nluds-0076", GoldAnswerKind.Text, "Yes", null)]
    [InlineData("nluds-0030", GoldAnswerKind.Text, "Mrs. Hilt", null)]
    public void Asdiv_answers_are_normalised_into_typed_golds(string id, GoldAnswerKind kind, string text, double? number)
    {
        var answer = ProblemSets.LoadById("asdiv", Real)["asdiv/" + id].Answer;
        Assert.Equal(kind, answer.Kind);
        Assert.Equal(text, answer.Text);
        if (number is { } n) Assert.Equal(n, answer.Number!.Value, 12);
        else Assert.Null(answer.Number);
    }

    [Fact]
    public void Asdiv_question_joins_body_and_question_and_counts_kinds()
    {
        var problems = Load("asdiv");
        Assert.Equal("Seven red apples and two green apples are in the basket. How many apples are in the basket?", problems[0].Question);
        Assert.Equal("asdiv/nluds-0001", problems[0].Id);
        // Every answer that is one number once its unit is dropped is numeric: cross-checked against the raw XML.
        var raw = System.Xml.Linq.XDocument.Load(DataFile("asdiv", "ASDiv.xml")).Descendants("Problem")
            .ToDictionary(p => "asdiv/" + p.Attribute("ID")!.Value, p => p.Element("Answer")!.Value);
        foreach (var p in problems)
        {
            var bare = System.Text.RegularExpressions.Regex.Replace(raw[p.Id], @"\s*\([a-z. /]+\)", "").Trim();
            if (double.TryParse(bare, System.Globalization.CultureInfo.InvariantCulture, out var value))
                Assert.Equal(value, p.Answer.Number);
        }
        Assert.Equal(2093, problems.Count(p => p.Answer.IsNumeric));
        Assert.Equal(18, problems.Count(p => p.Answer.Kind == GoldAnswerKind.Time));
        Assert.Equal(90, problems.Count(p => p.Answer.Kind == GoldAnswerKind.MultipleValues));
    }

    [Fact]
    public void Svamp_joins_body_and_question_without_doubling_periods()
    {
        var problems = ProblemSets.LoadById("svamp", Real);
        var first = problems["svamp/chal-1"];
        Assert.Equal("Each pack of dvds costs 76 dollars. If there is a discount of 25 dollars on each pack. How much do you have to pay to buy each pack?", first.Question);
        Assert.Equal(51, first.Answer.Number);
        Assert.Equal("51", first.Answer.Text);
        Assert.Equal("Paco had 26 salty cookies and 17 sweet cookies. He ate 14 sweet cookies and 9 salty cookies. How many salty cookies did Paco have left?", problems["svamp/chal-3"].Question);
        // Every question is the raw Body and Question with exactly one separator; 642 bodies already end with '.'.
        using var raw = JsonDocument.Parse(File.ReadAllText(DataFile("svamp", "SVAMP.json")));
        var endsWithPeriod = 0;
        foreach (var record in raw.RootElement.EnumerateArray())
        {
            var body = record.GetProperty("Body").GetString()!;
            var question = problems["svamp/" + record.GetProperty("ID").GetString()].Question;
            if (body.EndsWith('.')) endsWithPeriod++;
            Assert.Equal(body + (body.EndsWith('.') ? " " : ". ") + record.GetProperty("Question").GetString(), question);
        }
        Assert.Equal(642, endsWithPeriod);
        Assert.Equal("A. B?", SvampSet.JoinQuestion("A", "B?"));
        Assert.Equal("A! B?", SvampSet.JoinQuestion("A!", "B?"));
    }

    [Fact]
    public void Bbh_problems_are_the_task_examples_with_text_golds()
    {
        var problems = Load("bbh");
        Assert.Equal(27, BbhData.TaskNames(TestPaths.DataRoot).Count);
        Assert.Equal(27, problems.Select(p => p.Id.Split('/')[1]).Distinct().Count());
        using var raw = JsonDocument.Parse(File.ReadAllText(DataFile("bbh", "bbh", "navigate.json")));
        var examples = raw.RootElement.GetProperty("examples");
        var navigate = problems.Where(p => p.Id.StartsWith("bbh/navigate/", StringComparison.Ordinal)).ToList();
        Assert.Equal(examples.GetArrayLength(), navigate.Count);
        for (var i = 0; i < navigate.Count; i++)
        {
            Assert.Equal($"bbh/navigate/{i}", navigate[i].Id);
            Assert.Equal(examples[i].GetProperty("input").GetString(), navigate[i].Question);
            Assert.Equal(GoldAnswer.FromText(examples[i].GetProperty("target").GetString()!), navigate[i].Answer);
        }
    }

    [Fact]
    public void Stats_count_numeric_answers_rationales_and_bbh_tasks()
    {
        var gsm = SetStats.Compute("gsm8k-test", Load("gsm8k-test"));
        Assert.Equal((1319, 1319, 1319), (gsm.Count, gsm.NumericAnswers, gsm.WithRationale));
        Assert.Null(gsm.Tasks);
        var bbh = SetStats.Compute("bbh", Load("bbh"));
        Assert.Equal(27, bbh.Tasks!.Count);
        Assert.Equal(187, bbh.Tasks["causal_judgement"]);
        Assert.Equal(6511, bbh.AnswerKinds[GoldAnswerKind.Text]);
    }

    [Fact]
    public void Unknown_set_lists_the_valid_names()
    {
        var e = Assert.Throws<SpecialistException>(() => Load("gsm9k"));
        Assert.Contains("gsm9k", e.Message);
        Assert.All(ProblemSets.Names, name => Assert.Contains(name, e.Message));
    }
}
