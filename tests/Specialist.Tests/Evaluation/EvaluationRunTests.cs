using System.Text.Json.Nodes;
using Specialist.Answers;
using Specialist.Data;
using Specialist.Evaluation;
using Specialist.Prompts;

namespace Specialist.Tests.Evaluation;

/// <summary><see cref="EvaluationRun"/> in process, with a scripted source: files, scoring, BBH tasks, resuming.</summary>
public class EvaluationRunTests
{
    /// <summary>Answers the gold for the problems in <paramref name="right"/>, nonsense otherwise; counts what it was asked.</summary>
    private sealed class GoldSource(IReadOnlyDictionary<string, Problem> byPrompt, ISet<string> right) : IAnswerSource
    {
        public int Asked { get; private set; }
        public string Name => "gold source";
        public int PromptsPerCall => 4;

        public IReadOnlyList<string> Answer(IReadOnlyList<string> prompts)
        {
            Asked += prompts.Count;
            return [.. prompts.Select(p => byPrompt[p] is var problem && right.Contains(problem.Id) ? $"So the answer is {problem.Answer.Text}." : "No idea.")];
        }
    }

    private static readonly DataOptions Data = new(TestPaths.DataRoot);

    private static (GoldSource Source, List<Problem> Problems) Setup(params string[] rightIds)
    {
        var problems = EvaluationRun.Select("gsm8k-test", Data, 4).Concat(EvaluationRun.Select("bbh/navigate", Data, 3)).Concat(EvaluationRun.Select("bbh/snarks", Data, 3)).ToList();
        var queries = new EvaluationQueries(TestPaths.DataRoot, MathPromptStyle.FourShot);
        return (new GoldSource(problems.ToDictionary(queries.Render), rightIds.ToHashSet()), problems);
    }

    private static EvaluationRequest Request(string folder, params string[] sets) => new(sets, TestPaths.DataRoot, "4shot", BbhMode.Cot, 3, folder);

    [Fact]
    public void WritesPredictionsAndResultsWithIntervalsAndBbhTaskMean()
    {
        var (source, problems) = Setup("gsm8k-test/0", "gsm8k-test/2", "bbh/navigate/0", "bbh/snarks/0", "bbh/snarks/1");
        var folder = TestPaths.NewTempDir();
        using var model = EvaluatedModel.FromSource(source, "scripted:1", parameters: 1234, "greedy", maxNewTokens: 16);

        var outcome = EvaluationRun.Run(model, Request(folder, "gsm8k-test", "bbh/navigate", "bbh/snarks"));

        Assert.Equal(9, outcome.Decoded);
        Assert.Equal(0, outcome.Reused);
        var results = EvaluationResults.Read(folder);
        Assert.Equal(["gsm8k-test", "bbh/navigate", "bbh/snarks"], results.Sets.Keys);
        Assert.Equal(new SetAccuracy(2, 3), results.Sets["gsm8k-test"]);
        Assert.Equal(new SetAccuracy(1, 3), results.BbhTasks!["navigate"]);
        Assert.Equal(new SetAccuracy(2, 3), results.BbhTasks["snarks"]);
        Assert.Equal((1 / 3.0 + 2 / 3.0) / 2, results.BbhMean!.Value, 12);
        Assert.Equal(2 / 3.0, results.MathMean!.Value, 12);
        Assert.Equal(new EvaluationSettings("gold source", "scripted:1", 1234, "4shot", "cot", "greedy", 16, 3, EvaluatedModel.CodeCommit()), results.Settings);

        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, EvaluationResults.FileName)))!;
        var ci = json["sets"]!["gsm8k-test"]!["ci95"]!.AsArray().Select(x => x!.GetValue<double>()).ToArray();
        Assert.Equal(new[] { WilsonInterval.Compute(2, 3).Lo, WilsonInterval.Compute(2, 3).Hi }, ci);
        Assert.Equal(0.5, json["bbh"]!["mean"]!.GetValue<double>(), 12);

        var lines = File.ReadAllLines(Path.Combine(folder, "predictions.jsonl")).Select(l => JsonNode.Parse(l)!).ToList();
        Assert.Equal(9, lines.Count);
        var first = lines.Single(l => l["id"]!.GetValue<string>() == "gsm8k-test/0");
        Assert.Equal("gsm8k-test", first["set"]!.GetValue<string>());
        Assert.Equal(problems[0].Answer.Text, first["gold"]!.GetValue<string>());
        Assert.Equal(problems[0].Answer.Text, first["extracted"]!.GetValue<string>());
        Assert.True(first["correct"]!.GetValue<bool>());
        var queries = new EvaluationQueries(TestPaths.DataRoot, MathPromptStyle.FourShot);
        Assert.Equal(SetEvaluator.HashPrompt(queries.Render(problems[0])), first["prompt_hash"]!.GetValue<string>());
    }

    [Fact]
    public void TheBbhMeanIsOverTasksWithATasksObjectCountFilesAveragedFirst()
    {
        string[] sets = ["bbh/logical_deduction_three_objects", "bbh/logical_deduction_five_objects", "bbh/navigate"];
        var problems = sets.SelectMany(s => EvaluationRun.Select(s, Data, 2)).ToList();
        var queries = new EvaluationQueries(TestPaths.DataRoot, MathPromptStyle.FourShot);
        // logical_deduction: 2/2 with three objects, 1/2 with five; navigate 0/2.
        var source = new GoldSource(problems.ToDictionary(queries.Render), new HashSet<string> { "bbh/logical_deduction_three_objects/0", "bbh/logical_deduction_three_objects/1", "bbh/logical_deduction_five_objects/0" });
        var folder = TestPaths.NewTempDir();
        using var model = EvaluatedModel.FromSource(source, "scripted:1", null, "greedy", 16);

        EvaluationRun.Run(model, new EvaluationRequest(sets, TestPaths.DataRoot, "4shot", BbhMode.Cot, 2, folder));

        var results = EvaluationResults.Read(folder);
        Assert.Equal(["logical_deduction_five_objects", "logical_deduction_three_objects", "navigate"], results.BbhTasks!.Keys);
        // Over files the mean would be (1 + 0.5 + 0) / 3 = 0.5; over tasks it is ((1 + 0.5) / 2 + 0) / 2.
        Assert.Equal(new BbhTaskMean(0.375, 2, 3), results.BbhMean);
        var bbh = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, EvaluationResults.FileName)))!["bbh"]!;
        Assert.Equal(3, bbh["tasks"]!.AsObject().Count);
        Assert.Equal(0.375, bbh["mean"]!.GetValue<double>(), 12);
        Assert.Equal(2, bbh["mean_tasks"]!.GetValue<int>());
        Assert.Equal("mean over 2 tasks (3 task files; a task's 3/5/7-object files averaged first)", bbh["mean_is"]!.GetValue<string>());
    }

    [Fact]
    public void ReadsPerProblemCorrectnessOfTheEvaluatedModelOnlyAndRefusesALogThatDisagreesWithItsResults()
    {
        var (source, _) = Setup("gsm8k-test/0", "gsm8k-test/2", "bbh/navigate/1");
        var folder = TestPaths.NewTempDir();
        // Another model answered in the same folder first: its lines must not count for the second model.
        using (var other = EvaluatedModel.FromSource(Setup("gsm8k-test/1").Source, "scripted:2", null, "greedy", 16))
            EvaluationRun.Run(other, Request(folder, "gsm8k-test"));
        using (var model = EvaluatedModel.FromSource(source, "scripted:1", null, "greedy", 16))
            EvaluationRun.Run(model, Request(folder, "gsm8k-test", "bbh/navigate"));
        var results = EvaluationResults.Read(folder);

        var correct = PredictionsLog.ReadCorrect(folder, results);

        Assert.Equal(new Dictionary<string, bool> { ["gsm8k-test/0"] = true, ["gsm8k-test/1"] = false, ["gsm8k-test/2"] = true }, correct["gsm8k-test"]);
        Assert.Equal(new Dictionary<string, bool> { ["bbh/navigate/0"] = false, ["bbh/navigate/1"] = true, ["bbh/navigate/2"] = false }, correct["bbh/navigate"]);
        var tampered = results with { Sets = new Dictionary<string, SetAccuracy>(results.Sets) { ["gsm8k-test"] = new SetAccuracy(3, 3) } };
        var error = Assert.Throws<DataFormatException>(() => PredictionsLog.ReadCorrect(folder, tampered));
        Assert.Contains("predictions.jsonl", error.Message);
        Assert.Contains("has 2 of 3 problems right", error.Message);
    }

    [Fact]
    public void ResumesFromRecordedAnswersAndRedecodesOnlyWhatIsMissingOrDifferent()
    {
        var (source, _) = Setup("gsm8k-test/1");
        var folder = TestPaths.NewTempDir();
        using (var model = EvaluatedModel.FromSource(source, "scripted:1", null, "greedy", 16))
            Assert.Equal(3, EvaluationRun.Run(model, Request(folder, "gsm8k-test")).Decoded);

        // A killed process can leave half a line: it is dropped and that problem is answered again.
        var log = Path.Combine(folder, "predictions.jsonl");
        File.AppendAllText(log, "{\"id\":\"gsm8k-test/3\",\"set\":\"gsm8k-te");
        using (var model = EvaluatedModel.FromSource(source, "scripted:1", null, "greedy", 16))
        {
            var outcome = EvaluationRun.Run(model, Request(folder, "gsm8k-test") with { Limit = 4 });
            Assert.Equal((1, 3), (outcome.Decoded, outcome.Reused));
            Assert.Equal(new SetAccuracy(1, 4), outcome.Results.Sets["gsm8k-test"]);
        }
        Assert.Equal(4, File.ReadAllLines(log).Length);
        Assert.All(File.ReadAllLines(log), l => JsonNode.Parse(l));
        Assert.Equal(4, source.Asked);

        // Another model, another decoding limit or another prompt is new work.
        using (var other = EvaluatedModel.FromSource(source, "scripted:2", null, "greedy", 16))
            Assert.Equal(3, EvaluationRun.Run(other, Request(folder, "gsm8k-test")).Decoded);
        using (var longer = EvaluatedModel.FromSource(source, "scripted:1", null, "greedy", 32))
            Assert.Equal(3, EvaluationRun.Run(longer, Request(folder, "gsm8k-test")).Decoded);
        using (var zeroShot = EvaluatedModel.FromSource(new ZeroShotSource(), "scripted:1", null, "greedy", 16))
            Assert.Equal(3, EvaluationRun.Run(zeroShot, Request(folder, "gsm8k-test") with { Prompt = "zeroshot" }).Decoded);
        using (var same = EvaluatedModel.FromSource(source, "scripted:1", null, "greedy", 16))
            Assert.Equal(0, EvaluationRun.Run(same, Request(folder, "gsm8k-test")).Decoded);
    }

    private sealed class ZeroShotSource : IAnswerSource
    {
        public string Name => "zero-shot";
        public IReadOnlyList<string> Answer(IReadOnlyList<string> prompts) => [.. prompts.Select(p => p.StartsWith("Q: ", StringComparison.Ordinal) ? "1" : throw new InvalidOperationException("not a zero-shot query"))];
    }

    [Fact]
    public void AMalformedRecordedLineNamesTheFileLineAndField()
    {
        var (source, _) = Setup();
        var folder = TestPaths.NewTempDir();
        File.WriteAllText(Path.Combine(folder, "predictions.jsonl"), "{\"id\":\"gsm8k-test/0\",\"prompt_hash\":\"x\",\"model\":\"m\",\"decoding\":\"d\",\"output\":7}\n");
        using var model = EvaluatedModel.FromSource(source, "scripted:1", null, "greedy", 16);
        var error = Assert.Throws<DataFormatException>(() => EvaluationRun.Run(model, Request(folder, "gsm8k-test")));
        Assert.Contains("predictions.jsonl: line 1: field 'output'", error.Message);
    }

    [Fact]
    public void AnUnknownSetFailsBeforeAnyDecoding()
    {
        var (source, _) = Setup();
        using var model = EvaluatedModel.FromSource(source, "scripted:1", null, "greedy", 16);
        var error = Assert.Throws<SpecialistException>(() => EvaluationRun.Run(model, Request(TestPaths.NewTempDir(), "gsm8k-test", "gsm9k")));
        Assert.Contains("gsm9k", error.Message);
        Assert.Equal(0, source.Asked);
    }

    [Fact]
    public void ALimitTakesTheFirstProblemsOfEachBbhTask()
    {
        var problems = EvaluationRun.Select("bbh", Data, 2);
        var tasks = BbhData.TaskNames(TestPaths.DataRoot);
        Assert.Equal(2 * tasks.Count, problems.Count);
        Assert.Equal(tasks.SelectMany(t => new[] { $"bbh/{t}/0", $"bbh/{t}/1" }).Order(StringComparer.Ordinal), problems.Select(p => p.Id).Order(StringComparer.Ordinal));
    }
}
