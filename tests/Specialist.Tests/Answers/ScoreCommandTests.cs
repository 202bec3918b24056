using System.Text.Json;

namespace Specialist.Tests.Answers;

/// <summary>Runs the real <c>specialist score</c> on real sets with hand-written predictions.</summary>
public class ScoreCommandTests
{
    private static string WritePredictions(params (string Id, string Output)[] predictions)
    {
        var path = Path.Combine(TestPaths.NewTempDir(), "predictions.jsonl");
        File.WriteAllLines(path, predictions.Select(p => JsonSerializer.Serialize(new { id = p.Id, output = p.Output })));
        return path;
    }

    private static CliRunner.Result Score(string set, string predictions, params string[] extra) =>
        CliRunner.Run(["score", set, "--predictions", predictions, "--data-root", TestPaths.DataRoot, .. extra]);

    private static JsonElement Json(CliRunner.Result r)
    {
        Assert.True(r.ExitCode == 0, r.ToString());
        return JsonDocument.Parse(r.Stdout).RootElement;
    }

    [Fact]
    public void Scores_gsm8k_test_outputs_written_in_tricky_forms()
    {
        var predictions = WritePredictions(
            ("gsm8k-test/0", "Janet sells 16 - 3 - 4 = 9 duck eggs a day.\nShe makes 9 * $2 = $18 every day at the farmer's market.\nThe answer is $18."),
            ("gsm8k-test/146", "The total is 1,700 + 425 = 2,125.\nThe answer is 2,125 dollars."),
            ("gsm8k-test/489", "So the change is 30 - 40 = -10.\nThe answer is -10"),
            ("gsm8k-test/611", "The answer is $1,450,000.00."),
            ("gsm8k-test/1113", "10-13=-3"),
            ("gsm8k-test/2", "The answer is 70000. That is 14 times 5000."),
            ("gsm8k-test/5", "The answer is 32. Wait, 32 * 2 = 64, so the answer is 64."),
            ("gsm8k-test/3", "The answer is 54."),                 // gold 540
            ("gsm8k-test/4", "I do not know."),                    // no number
            ("gsm8k-test/6", "The answer is -260"));               // gold 260
        var result = Json(Score("gsm8k-test", predictions, "--json"));
        Assert.Equal("gsm8k-test", result.GetProperty("set").GetString());
        Assert.Equal(1319, result.GetProperty("total").GetInt32());
        Assert.Equal(10, result.GetProperty("scored").GetInt32());
        Assert.Equal(7, result.GetProperty("correct").GetInt32());
        Assert.Equal(7.0 / 1319, result.GetProperty("accuracy").GetDouble(), 12);
        var ci = result.GetProperty("ci95").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        Assert.Equal(2, ci.Length);
        // Wilson 95 % for 7 / 1319, computed independently.
        Assert.Equal(0.002573084076357781, ci[0], 12);
        Assert.Equal(0.010914139733969186, ci[1], 12);
    }

    [Fact]
    public void Scores_asdiv_times_several_values_and_words_as_text()
    {
        var predictions = WritePredictions(
            ("asdiv/nluds-0166", "The show starts at 2:00 p.m. and lasts 1 hour 30 minutes. The answer is 3:30 pm."),
            ("asdiv/nluds-1408", "So I am 50 and my son is 20. The answer is 50 years old and 20 years old."),
            ("asdiv/nluds-0030", "Mrs. Hilt has 32 cents and Jacob has 30 cents. The answer is Mrs. Hilt."),
            ("asdiv/nluds-1468", "The answer is 11, 9, 13."),           // wrong order
            ("asdiv/nluds-0842", "The answer is 3:40."),                // gold 3:45
            ("asdiv/nluds-0001", "7 + 2 = 9 apples"));
        var result = Json(Score("asdiv", predictions, "--json"));
        Assert.Equal(2305, result.GetProperty("total").GetInt32());
        Assert.Equal(6, result.GetProperty("scored").GetInt32());
        Assert.Equal(4, result.GetProperty("correct").GetInt32());
    }

    [Fact]
    public void Scores_bbh_in_both_modes()
    {
        // navigate targets: 0 No, 1 No, 2 No, 3 Yes.
        var predictions = WritePredictions(
            ("bbh/navigate/0", "(1) Always face forward: (0, 0).\nSince (0, 3) is not (0, 0), we are not where we started. So the answer is No."),
            ("bbh/navigate/1", "No"),
            ("bbh/navigate/2", "So the answer is Not sure."),
            ("bbh/navigate/3", "Yes."));
        var cot = Json(Score("bbh/navigate", predictions, "--json"));
        Assert.Equal(250, cot.GetProperty("total").GetInt32());
        Assert.Equal(4, cot.GetProperty("scored").GetInt32());
        Assert.Equal(1, cot.GetProperty("correct").GetInt32());
        var answerOnly = Json(Score("bbh/navigate", predictions, "--json", "--bbh-mode", "ao"));
        Assert.Equal(3, answerOnly.GetProperty("correct").GetInt32());
    }

    [Fact]
    public void Prints_a_table_without_json()
    {
        var predictions = WritePredictions(("gsm8k-test/0", "The answer is 18"));
        var r = Score("gsm8k-test", predictions);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("gsm8k-test", r.Stdout);
        Assert.Contains("1319", r.Stdout);
        Assert.Contains("0.1%", r.Stdout);
    }

    [Fact]
    public void Bad_predictions_are_errors_naming_the_line()
    {
        var path = Path.Combine(TestPaths.NewTempDir(), "predictions.jsonl");
        File.WriteAllLines(path, ["""{"id": "gsm8k-test/0", "output": "18"}""", """{"id": "gsm8k-test/1", "output": 3}"""]);
        var r = Score("gsm8k-test", path, "--json");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains($"{path}: line 2: field 'output'", r.Stderr);

        File.WriteAllLines(path, ["""{"id": "gsm8k-test/0", "output": "18"}""", """{"id": "gsm8k-test/0", "output": "17"}"""]);
        r = Score("gsm8k-test", path);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("line 2: field 'id' repeats id 'gsm8k-test/0' of line 1", r.Stderr);

        File.WriteAllLines(path, Enumerable.Range(0, 8).Select(i => $$"""{"id": "gsm8k-train/{{i}}", "output": "1"}"""));
        r = Score("gsm8k-test", path);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("8 prediction ids are not in set 'gsm8k-test': 'gsm8k-train/0' (line 1)", r.Stderr);
        Assert.Contains("'gsm8k-train/4' (line 5), ...", r.Stderr);
    }

    [Fact]
    public void Usage_errors()
    {
        var predictions = WritePredictions(("gsm8k-test/0", "18"));
        var r = Score("gsm8k-test", predictions, "--bbh-mode", "ao");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--bbh-mode applies only to bbh sets", r.Stderr);
        r = Score("bbh/navigate", predictions, "--bbh-mode", "fast");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--bbh-mode must be 'cot' or 'ao'", r.Stderr);
        r = CliRunner.Run("score", "gsm8k-test", "--data-root", TestPaths.DataRoot);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--predictions", r.Stderr);
    }

    [Fact]
    public void Whole_bbh_reports_each_task_file_and_the_mean_over_23_tasks()
    {
        // navigate (250 examples): 2 right; boolean_expressions (250): 1 right of 1 predicted; other 25 tasks: nothing.
        var navigate = File.ReadAllText(Path.Combine(TestPaths.DataRoot, "bbh", "bbh", "navigate.json"));
        var targets = JsonDocument.Parse(navigate).RootElement.GetProperty("examples").EnumerateArray().Take(2).Select(e => e.GetProperty("target").GetString()).ToList();
        var boolean = JsonDocument.Parse(File.ReadAllText(Path.Combine(TestPaths.DataRoot, "bbh", "bbh", "boolean_expressions.json")))
            .RootElement.GetProperty("examples")[0].GetProperty("target").GetString();
        var predictions = WritePredictions(
            ("bbh/navigate/0", $"Step by step. So the answer is {targets[0]}."),
            ("bbh/navigate/1", $"So the answer is {targets[1]}."),
            ("bbh/boolean_expressions/0", $"So the answer is {boolean}."));
        var result = Json(Score("bbh", predictions, "--json"));
        Assert.Equal(6511, result.GetProperty("total").GetInt32());
        Assert.Equal(3, result.GetProperty("correct").GetInt32());
        var tasks = result.GetProperty("tasks");
        Assert.Equal(27, tasks.EnumerateObject().Count());
        Assert.Equal(2, tasks.GetProperty("navigate").GetProperty("correct").GetInt32());
        Assert.Equal(250, tasks.GetProperty("navigate").GetProperty("total").GetInt32());
        // navigate and boolean_expressions are tasks of their own: the mean is over BBH's 23 tasks, not its 27 files.
        Assert.Equal((2.0 / 250 + 1.0 / 250) / 23, result.GetProperty("bbh_mean").GetDouble(), 12);
        Assert.Equal("mean over 23 tasks (27 task files; a task's 3/5/7-object files averaged first)", result.GetProperty("bbh_mean_is").GetString());
    }
}
