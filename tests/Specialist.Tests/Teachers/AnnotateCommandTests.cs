using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Specialist.Teachers;

namespace Specialist.Tests.Teachers;

/// <summary>The real <c>specialist annotate</c>, <c>serve</c> and <c>store</c> commands, as child processes.</summary>
public class AnnotateCommandTests(TinyServerFixture fixture) : IClassFixture<TinyServerFixture>
{
    private static readonly TimeSpan Minute = TimeSpan.FromMinutes(1);

    private static string[] Annotate(string endpoint, string model, string store, int limit, int samples, params string[] more) =>
    [
        "annotate", "--endpoint", endpoint, "--model", model, "--set", "gsm8k-train", "--limit", limit.ToString(CultureInfo.InvariantCulture),
        "--samples", samples.ToString(CultureInfo.InvariantCulture), "--store", store, "--data-root", TestPaths.DataRoot, .. more,
    ];

    private static JsonObject Json(CliRunner.Result r)
    {
        Assert.True(r.ExitCode == 0, r.ToString());
        return JsonNode.Parse(r.Stdout)!.AsObject();
    }

    private static List<JsonObject> Export(string store)
    {
        var path = Path.Combine(TestPaths.NewTempDir(), "samples.jsonl");
        var r = CliRunner.Run("store", "export", store, "--format", "jsonl", "--out", path, "--json");
        Assert.Equal(File.ReadLines(path).Count(), Json(r)["rows"]!.GetValue<int>());
        return [.. File.ReadLines(path).Select(l => JsonNode.Parse(l)!.AsObject())];
    }

    [Fact]
    public void AnnotatesFromServeOfATinyModel()
    {
        using var serve = TeacherTestKit.Start("serve", "--model", TeacherTestKit.TinyModelDirectory, "--port", "0", "--name", "tiny-teacher", "--api-key", "secret-123");
        var url = serve.WaitForLine(@"^listening on (\S+)$", Minute);
        Assert.StartsWith("http://127.0.0.1:", url);
        Assert.Contains("API key required", serve.Stdout);
        Assert.DoesNotContain("secret-123", serve.Stdout + serve.Stderr);

        var store = Path.Combine(TestPaths.NewTempDir(), "serve.db");
        string[] args = Annotate(url + "/v1", "tiny-teacher", store, 5, 3, "--max-tokens", "32", "--top-logprobs", "5", "--json");
        var refused = CliRunner.Run(args, null, Minute, new Dictionary<string, string> { ["OPENAI_API_KEY"] = "not-the-key-42" });
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("check OPENAI_API_KEY", refused.Stderr);
        Assert.DoesNotContain("not-the-key-42", refused.Stdout + refused.Stderr);

        var run = Json(CliRunner.Run(args, null, TimeSpan.FromMinutes(5), new Dictionary<string, string> { ["OPENAI_API_KEY"] = "secret-123" }));
        Assert.Equal((5, 5, 0), (run["requested"]!.GetValue<int>(), run["completed"]!.GetValue<int>(), run["failed"]!.GetValue<int>()));
        Assert.Equal(15, run["samples"]!.GetValue<int>());

        var stats = Json(CliRunner.Run("store", "stats", store, "--json"));
        Assert.Equal(5, stats["questions"]!.GetValue<int>());
        Assert.Equal(15, stats["samples"]!.GetValue<int>());
        Assert.Equal("tiny-teacher", stats["teacher"]!.GetValue<string>());

        var rows = Export(store);
        Assert.Equal(15, rows.Count);
        Assert.Equal(15, rows.Select(r => (r["question_id"]!.GetValue<string>(), r["sample_index"]!.GetValue<int>())).Distinct().Count());
        foreach (var row in rows)
        {
            var tokens = row["tokens"]!.AsArray();
            var top = row["top_logprobs"]!.AsArray();
            Assert.InRange(tokens.Count, 1, 32);
            Assert.Equal(tokens.Count, top.Count);
            Assert.All(top, position => Assert.True(position!.AsArray().Count >= 5));
            Assert.Equal(row["text"]!.GetValue<string>(), string.Concat(tokens.Select(t => t!.GetValue<string>())));
        }
    }

    [Fact]
    public async Task AKilledRunResumesWithoutLosingOrDuplicatingSamples()
    {
        var gold = new Dictionary<string, double>();
        foreach (var p in TeacherTestKit.Gsm8kTrain(int.MaxValue)) gold.TryAdd(p.Question, p.Answer.Number!.Value);
        var slow = true;
        await using var server = await FaultServer.StartAsync(call => new FaultReply.Answer(
            [.. Enumerable.Range(0, call.N).Select(i => $"Steps. The answer is {(gold[call.Question] + i).ToString(CultureInfo.InvariantCulture)}")],
            slow ? TimeSpan.FromMilliseconds(150) : TimeSpan.Zero));
        var store = Path.Combine(TestPaths.NewTempDir(), "killed.db");
        // gsm8k-train without its dev items: the first 20 of those are what the server will be asked about.
        var args = Annotate(server.BaseUrl.AbsoluteUri, "fault-teacher", store, 20, 2, "--concurrency", "2", "--json");

        using (var first = TeacherTestKit.Start(args))
        {
            Assert.True(SpinWait.SpinUntil(() => server.Answered >= 6 || first.Process.HasExited, Minute), "no progress");
            Assert.False(first.Process.HasExited, "the run ended before it could be killed:\n" + first.Stdout + first.Stderr);
            first.Process.Kill(); // SIGKILL
            first.Process.WaitForExit();
        }
        var afterKill = Json(CliRunner.Run("store", "stats", store, "--json"));
        var done = afterKill["completed"]!.GetValue<int>();
        Assert.InRange(done, 1, 19);
        Assert.Equal(2 * done, afterKill["samples"]!.GetValue<int>()); // whole requests only
        var callsBefore = server.Calls.Count;

        slow = false;
        var again = Json(CliRunner.Run(args));
        Assert.Equal(20 - done, again["requested"]!.GetValue<int>());
        Assert.Equal(20 - done, again["completed"]!.GetValue<int>());
        Assert.Equal(40, again["samples"]!.GetValue<int>());
        Assert.Equal(20, again["kept"]!.GetValue<int>());
        Assert.Equal(0.5, again["kept_rate"]!.GetValue<double>());
        // Lost to the kill: at most the requests in flight (2); nothing was asked twice otherwise.
        Assert.InRange(callsBefore - done, 0, 2);
        Assert.Equal(callsBefore + 20 - done, server.Calls.Count);

        var rows = Export(store);
        Assert.Equal(40, rows.Count);
        var pairs = rows.Select(r => (r["question_id"]!.GetValue<string>(), r["sample_index"]!.GetValue<int>())).ToList();
        Assert.Equal(40, pairs.Distinct().Count());
        Assert.All(pairs.GroupBy(p => p.Item1), g => Assert.Equal([0, 1], g.Select(p => p.Item2).Order()));
        // GSM8K dev items were left out: none of the annotated questions is one.
        var dev = Specialist.Data.ProblemSets.Load("gsm8k-dev", new Specialist.Data.DataOptions(TestPaths.DataRoot)).Select(p => p.Id).ToHashSet();
        Assert.DoesNotContain(pairs, p => dev.Contains(p.Item1));

        // A third run has nothing left to do.
        var third = Json(CliRunner.Run(args));
        Assert.Equal((0, 40), (third["requested"]!.GetValue<int>(), third["samples"]!.GetValue<int>()));
    }

    [Fact]
    public async Task BatchApiFilesRoundTripThroughTheStore()
    {
        var dir = TestPaths.NewTempDir();
        var store = Path.Combine(dir, "batch.db");
        var input = Path.Combine(dir, "batch-input.jsonl");
        string[] Args(params string[] more) => Annotate("http://unused.invalid/v1", fixture.Model, store, 4, 2, ["--max-tokens", "16", "--top-logprobs", "3", .. more]);

        var export = Json(CliRunner.Run(Args("--batch-export", input, "--json")));
        Assert.Equal((4, 8), (export["requests"]!.GetValue<int>(), export["samples"]!.GetValue<int>()));
        var lines = File.ReadAllLines(input).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
        Assert.Equal(4, lines.Count);
        Assert.All(lines, l => Assert.Equal("/v1/completions", l["url"]!.GetValue<string>()));
        Assert.Equal(4, lines.Select(l => l["custom_id"]!.GetValue<string>()).Distinct().Count());
        Assert.Equal(4, Json(CliRunner.Run("store", "stats", store, "--json"))["pending"]!.GetValue<int>());

        // Play the Batch API: send each body to a real server, write its answers as a results file.
        var results = new List<string>();
        using var http = new HttpClient { BaseAddress = fixture.Server.Url };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TinyServerFixture.ApiKey);
        foreach (var line in lines.Take(3))
        {
            using var response = await http.PostAsync(line["url"]!.GetValue<string>(), new StringContent(line["body"]!.ToJsonString(), Encoding.UTF8, "application/json"));
            var body = JsonNode.Parse(await response.Content.ReadAsStringAsync());
            results.Add(new JsonObject
            {
                ["id"] = "batch_req_" + results.Count,
                ["custom_id"] = line["custom_id"]!.GetValue<string>(),
                ["response"] = new JsonObject { ["status_code"] = (int)response.StatusCode, ["request_id"] = "r", ["body"] = body },
                ["error"] = null,
            }.ToJsonString());
        }
        results.Add(new JsonObject
        {
            ["id"] = "batch_req_3", ["custom_id"] = lines[3]["custom_id"]!.GetValue<string>(), ["response"] = null,
            ["error"] = new JsonObject { ["code"] = "batch_expired", ["message"] = "This request could not be executed before the completion window expired." },
        }.ToJsonString());
        results.Add("""{"id": "batch_req_x", "custom_id": "not-from-this-store", "response": {"status_code": 200, "body": {}}, "error": null}""");
        var output = Path.Combine(dir, "batch-output.jsonl");
        File.WriteAllLines(output, results);

        var imported = Json(CliRunner.Run(Args("--batch-import", output, "--json")));
        Assert.Equal((5, 3, 1, 1, 6), (imported["lines"]!.GetValue<int>(), imported["completed"]!.GetValue<int>(), imported["failed"]!.GetValue<int>(),
            imported["unknown"]!.GetValue<int>(), imported["new_samples"]!.GetValue<int>()));
        var again = Json(CliRunner.Run(Args("--batch-import", output, "--json")));
        Assert.Equal((0, 3, 0), (again["completed"]!.GetValue<int>(), again["already_completed"]!.GetValue<int>(), again["new_samples"]!.GetValue<int>()));

        var stats = Json(CliRunner.Run("store", "stats", store, "--json"));
        Assert.Equal((3, 6, 3, 1, 0), (stats["questions"]!.GetValue<int>(), stats["samples"]!.GetValue<int>(), stats["completed"]!.GetValue<int>(),
            stats["failed"]!.GetValue<int>(), stats["pending"]!.GetValue<int>()));
        Assert.All(Export(store), row => Assert.All(row["top_logprobs"]!.AsArray(), p => Assert.Equal(3, p!.AsArray().Count)));

        // The expired request is exported again, and only it.
        var retry = Json(CliRunner.Run(Args("--batch-export", Path.Combine(dir, "retry.jsonl"), "--json")));
        Assert.Equal(1, retry["requests"]!.GetValue<int>());
    }

    [Fact]
    public async Task ChatModeStoresTheTeachersTokensAndTopK()
    {
        const string template = "Question: What is 1 + 1?\nLet's think step by step\nThe answer is 2\n";
        var config = new AnnotationConfig(fixture.Model, TeacherApi.Chat, AnnotationConfig.HashPrompt(template), 0.5, 1, 8, 3, []);
        var job = new AnnotationJob("gsm8k-train", TeacherTestKit.Gsm8kTrain(2), template, config, Samples: 2, SamplesPerRequest: 2, Price: null);
        using var client = new TeacherClient(new TeacherClientOptions(new Uri(fixture.Server.Url, "/v1"), TinyServerFixture.ApiKey, TimeSpan.FromMinutes(2), 0));
        using var store = AnnotationStore.Open(Path.Combine(TestPaths.NewTempDir(), "chat.db"), create: true);
        var summary = await AnnotationRunner.RunAsync(store, client, job, concurrency: 2);
        Assert.Equal((2, 2, 0, 4L), (summary.Requested, summary.Completed, summary.Failed, summary.Samples));
        Assert.True(summary.PromptTokens > 0 && summary.CompletionTokens > 0);
        foreach (var sample in store.ReadSamples(keptOnly: false))
        {
            Assert.InRange(sample.Positions!.Count, 1, 8);
            Assert.All(sample.Positions!, p => Assert.Equal(3, p.Top.Count));
            Assert.Equal(sample.Text, string.Concat(sample.Positions!.Select(p => p.Token)));
        }
    }

    [Fact]
    public async Task HumanOutputAndUsageErrors()
    {
        await using var server = await FaultServer.StartAsync(call => new FaultReply.Answer([.. Enumerable.Repeat("The answer is 0", call.N)]));
        var store = Path.Combine(TestPaths.NewTempDir(), "human.db");
        var r = CliRunner.Run(Annotate(server.BaseUrl.AbsoluteUri, "fault-teacher", store, 2, 1, "--price", "0.5,1.5"));
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("kept (answer = gold)", r.Stdout);
        Assert.Contains("0 (0.0%)", r.Stdout);
        Assert.Contains("left out the 200 GSM8K dev items", r.Stderr);
        var stats = CliRunner.Run("store", "stats", store);
        Assert.True(stats.ExitCode == 0, stats.ToString());
        Assert.Contains("fault-teacher", stats.Stdout);
        Assert.Contains("$0.000130", stats.Stdout); // 2 requests × (100 × 0.5 + 10 × 1.5) / 1e6

        // Other settings into the same store are refused.
        var other = CliRunner.Run(Annotate(server.BaseUrl.AbsoluteUri, "fault-teacher", store, 2, 1, "--temperature", "0.9"));
        Assert.Equal(1, other.ExitCode);
        Assert.Contains("temperature: 0.5 → 0.9", other.Stderr);

        Assert.Equal(2, CliRunner.Run("annotate", "--model", "m", "--set", "gsm8k-train", "--store", store).ExitCode); // no --samples
        Assert.Equal(2, CliRunner.Run(Annotate(server.BaseUrl.AbsoluteUri, "m", store, 1, 1, "--api", "responses")).ExitCode);
        Assert.Equal(2, CliRunner.Run(Annotate(server.BaseUrl.AbsoluteUri, "m", store, 1, 1, "--top-logprobs", "21")).ExitCode);
        var missing = CliRunner.Run("store", "stats", Path.Combine(TestPaths.NewTempDir(), "none.db"));
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("does not exist", missing.Stderr);
        Assert.Equal(2, CliRunner.Run("store", "export", store, "--format", "csv", "--out", "x.csv").ExitCode);
    }
}
