using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Specialist.Answers;
using Specialist.Data;
using Specialist.Teachers.Serving;

namespace Specialist.Tests.Evaluation;

/// <summary><c>specialist eval</c> and <c>specialist bench eval</c> run as the real command over a tiny random T5.</summary>
public class EvalCommandTests
{
    private static readonly Lazy<string> TinyModel = new(() =>
    {
        var dir = Path.Combine(TestPaths.NewTempDir(), "tiny");
        var r = CliRunner.Run("model", "init", "--config", "tiny", "--tokenizer", TestPaths.T5SpieceModel, "--out", dir, "--seed", "7", "--json");
        return r.ExitCode == 0 ? dir : throw new InvalidOperationException("model init failed: " + r);
    });

    private static readonly string[] AcceptanceSets = ["gsm8k-test", "multiarith-test", "asdiv", "svamp", "bbh"];

    private static CliRunner.Result Eval(string outFolder, params string[] extra) =>
        CliRunner.Run(["eval", "--model", TinyModel.Value, "--out", outFolder, "--data-root", TestPaths.DataRoot, "--json", .. extra], null, TimeSpan.FromMinutes(10));

    [Fact]
    public void EvaluatesFiveProblemsPerSetWithIntervalsAndASecondCallDecodesNothing()
    {
        var folder = TestPaths.NewTempDir();
        string[] args = ["--sets", string.Join(',', AcceptanceSets), "--limit", "5", "--max-new-tokens", "4", "--batch-size", "8"];

        var first = Eval(folder, args);

        Assert.True(first.ExitCode == 0, first.ToString());
        var summary = JsonNode.Parse(first.Stdout)!;
        var bbhTasks = BbhData.TaskNames(TestPaths.DataRoot);
        Assert.Equal(4 * 5 + 5 * bbhTasks.Count, summary["decoded"]!.GetValue<int>());
        Assert.Equal(0, summary["reused"]!.GetValue<int>());
        foreach (var set in AcceptanceSets)
        {
            var s = summary["sets"]![set]!;
            var (correct, total) = (s["correct"]!.GetValue<int>(), s["total"]!.GetValue<int>());
            Assert.Equal(set == "bbh" ? 5 * bbhTasks.Count : 5, total);
            Assert.Equal((double)correct / total, s["accuracy"]!.GetValue<double>(), 12);
            var (lo, hi) = WilsonInterval.Compute(correct, total);
            Assert.Equal(new[] { lo, hi }, s["ci95"]!.AsArray().Select(x => x!.GetValue<double>()));
        }
        Assert.NotNull(summary["bbh_mean"]);

        var predictions = File.ReadAllLines(Path.Combine(folder, "predictions.jsonl")).Select(l => JsonNode.Parse(l)!).ToList();
        foreach (var set in AcceptanceSets[..4])
            Assert.Equal(5, predictions.Count(p => p["set"]!.GetValue<string>() == set));
        var bbh = predictions.Where(p => p["set"]!.GetValue<string>() == "bbh").ToList();
        Assert.All(bbhTasks, task => Assert.Equal(5, bbh.Count(p => p["id"]!.GetValue<string>().StartsWith($"bbh/{task}/", StringComparison.Ordinal))));
        Assert.All(predictions, p =>
        {
            foreach (var field in new[] { "id", "prompt_hash", "output", "gold" }) Assert.IsType<string>(p[field]!.GetValue<string>());
            Assert.IsType<bool>(p["correct"]!.GetValue<bool>());
        });

        var results = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "results.json")))!;
        var settings = results["settings"]!;
        Assert.Equal(Path.GetFullPath(TinyModel.Value), settings["model"]!.GetValue<string>());
        Assert.Equal("4shot", settings["prompt"]!.GetValue<string>());
        Assert.Equal("cot", settings["bbh_mode"]!.GetValue<string>());
        Assert.Equal("greedy (float32)", settings["decoding"]!.GetValue<string>());
        Assert.Equal(4, settings["max_new_tokens"]!.GetValue<int>());
        Assert.Equal(5, settings["limit"]!.GetValue<int>());
        Assert.False(string.IsNullOrEmpty(settings["commit"]!.GetValue<string>()));
        Assert.True(settings["parameters"]!.GetValue<long>() > 0);
        Assert.Equal(bbhTasks.Order(StringComparer.Ordinal), results["bbh"]!["tasks"]!.AsObject().Select(t => t.Key));
        Assert.Equal(summary["bbh_mean"]!.GetValue<double>(), results["bbh"]!["mean"]!.GetValue<double>());

        var second = Eval(folder, args);

        Assert.True(second.ExitCode == 0, second.ToString());
        var again = JsonNode.Parse(second.Stdout)!;
        Assert.Equal(0, again["decoded"]!.GetValue<int>());
        Assert.Equal(summary["decoded"]!.GetValue<int>(), again["reused"]!.GetValue<int>());
        Assert.Equal(summary["sets"]!.ToJsonString(), again["sets"]!.ToJsonString());
        Assert.Equal(predictions.Count, File.ReadAllLines(Path.Combine(folder, "predictions.jsonl")).Length);
    }

    [Fact]
    public void TheHumanTableShowsEachSetAndBadArgumentsAreUsageErrors()
    {
        var folder = TestPaths.NewTempDir();
        var r = CliRunner.Run("eval", "--model", TinyModel.Value, "--sets", "multiarith-test", "--limit", "2", "--max-new-tokens", "3", "--out", folder, "--data-root", TestPaths.DataRoot);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("multiarith-test", r.Stdout);
        Assert.Contains("decoded 2, reused 0", r.Stdout);

        var unknownPrompt = CliRunner.Run("eval", "--model", TinyModel.Value, "--sets", "svamp", "--prompt", "8shot", "--out", folder);
        Assert.Equal(2, unknownPrompt.ExitCode);
        Assert.Contains("8shot", unknownPrompt.Stderr);
        var endpointOption = CliRunner.Run("eval", "--model", TinyModel.Value, "--sets", "svamp", "--concurrency", "4", "--out", folder);
        Assert.Equal(2, endpointOption.ExitCode);
        Assert.Contains("--concurrency", endpointOption.Stderr);
        var missingModel = CliRunner.Run("eval", "--model", Path.Combine(folder, "nope"), "--sets", "svamp", "--out", folder, "--data-root", TestPaths.DataRoot);
        Assert.Equal(1, missingModel.ExitCode);
    }

    [Fact]
    public async Task AnEndpointAtTemperatureZeroAnswersAsTheSameModelDecodedLocally()
    {
        const string apiKey = "eval-test-key";
        await using var server = await TeacherServer.StartAsync(new ServeOptions { ModelDirectory = TinyModel.Value, Port = 0, ApiKey = apiKey, MaxTokens = 64 });
        var local = TestPaths.NewTempDir();
        var remote = TestPaths.NewTempDir();
        string[] common = ["--sets", "gsm8k-test,svamp", "--limit", "3", "--max-new-tokens", "6", "--data-root", TestPaths.DataRoot, "--json"];

        var fromFolder = CliRunner.Run(["eval", "--model", TinyModel.Value, "--out", local, .. common], null, TimeSpan.FromMinutes(5));
        var fromEndpoint = CliRunner.Run(["eval", "--endpoint", server.Url.AbsoluteUri.TrimEnd('/') + "/v1", "--model", server.ModelName, "--out", remote, .. common],
            null, TimeSpan.FromMinutes(5), new Dictionary<string, string> { ["OPENAI_API_KEY"] = apiKey });

        Assert.True(fromFolder.ExitCode == 0, fromFolder.ToString());
        Assert.True(fromEndpoint.ExitCode == 0, fromEndpoint.ToString());
        Assert.Equal(6, JsonNode.Parse(fromEndpoint.Stdout)!["decoded"]!.GetValue<int>());
        Dictionary<string, string> Outputs(string folder) => File.ReadAllLines(Path.Combine(folder, "predictions.jsonl")).Select(l => JsonNode.Parse(l)!)
            .ToDictionary(p => p["id"]!.GetValue<string>(), p => p["output"]!.GetValue<string>().Trim());
        Assert.Equal(Outputs(local), Outputs(remote));
        var settings = JsonNode.Parse(File.ReadAllText(Path.Combine(remote, "results.json")))!["settings"]!;
        Assert.Equal("temperature 0", settings["decoding"]!.GetValue<string>());
        Assert.Null(settings["parameters"]);
    }

    [Fact]
    public void BenchEvalReportsProblemsPerSecondPerConfigAndBatch()
    {
        var r = CliRunner.Run("bench", "eval", "--configs", "tiny", "--batches", "1,2", "--new-tokens", "3", "--data-root", TestPaths.DataRoot, "--json");
        Assert.True(r.ExitCode == 0, r.ToString());
        var figures = JsonNode.Parse(r.Stdout)!["figures"]!.AsArray();
        Assert.Equal([1, 2], figures.Select(f => f!["batch"]!.GetValue<int>()));
        Assert.All(figures, f =>
        {
            Assert.Equal("tiny", f!["config"]!.GetValue<string>());
            Assert.Equal(4, f["problems"]!.GetValue<int>());
            Assert.Equal(3, f["new_tokens"]!.GetValue<int>());
            Assert.True(f["mean_prompt_tokens"]!.GetValue<double>() > 100);
            Assert.Equal(f["problems"]!.GetValue<int>() / f["seconds"]!.GetValue<double>(), f["problems_per_second"]!.GetValue<double>(), 6);
        });
    }
}
