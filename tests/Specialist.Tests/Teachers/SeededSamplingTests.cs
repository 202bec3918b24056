using System.Text;
using System.Text.Json.Nodes;
using Specialist.Teachers;
using Specialist.Teachers.Serving;

namespace Specialist.Tests.Teachers;

/// <summary>
/// <c>specialist serve</c>'s server over the tiny random T5 on 127.0.0.1, set so that a burst of requests is taken
/// from the queue together: it waits up to 3 s for <see cref="BurstRows"/> rows before generating.
/// </summary>
public sealed class BatchingServerFixture : IAsyncLifetime
{
    public const int BurstRows = 8;

    public TeacherServer Server { get; private set; } = null!;

    public HttpClient Http { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Server = await TeacherServer.StartAsync(new ServeOptions
        {
            ModelDirectory = TeacherTestKit.TinyModelDirectory,
            Port = 0,
            MaxTokens = 64,
            BatchWindow = TimeSpan.FromSeconds(3),
            MaxBatchRows = BurstRows,
        });
        Http = new HttpClient { BaseAddress = Server.Url };
    }

    public async Task DisposeAsync()
    {
        Http.Dispose();
        await Server.DisposeAsync();
    }
}

/// <summary>
/// Seeded sampling through the real server: a request's samples depend on the request alone, never on what was in
/// flight beside it; and seeded annotation into the real SQLite store draws the same samples twice.
/// </summary>
public class SeededSamplingTests(BatchingServerFixture fixture) : IClassFixture<BatchingServerFixture>
{
    private const string Question = "Question: Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May. How many clips did she sell?\nLet's think step by step";

    private string Completion(string prompt, int n, int maxTokens, long? seed, int logprobs = 3) =>
        new JsonObject
        {
            ["model"] = fixture.Server.ModelName, ["prompt"] = prompt, ["n"] = n, ["max_tokens"] = maxTokens, ["temperature"] = 1.0,
            ["logprobs"] = logprobs, ["seed"] = seed,
        }.ToJsonString();

    private async Task<JsonArray> Choices(string body)
    {
        using var response = await fixture.Http.PostAsync("/v1/completions", new StringContent(body, Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, text);
        return JsonNode.Parse(text)!["choices"]!.AsArray();
    }

    /// <summary>
    /// Sends the bodies at once (taken from the queue together: <see cref="BatchingServerFixture.BurstRows"/> rows in
    /// all) and checks that the unseeded ones shared a generate call and each seeded one had its own; the choices in body order.
    /// </summary>
    private async Task<JsonArray[]> Burst(params string[] bodies)
    {
        var calls = fixture.Server.Queue.GenerateCalls;
        var choices = await Task.WhenAll(bodies.Select(Choices));
        Assert.Equal(bodies.Count(b => JsonNode.Parse(b)!["seed"] is not null) + 1, fixture.Server.Queue.GenerateCalls - calls);
        return choices;
    }

    [Fact]
    public async Task A_seeded_request_samples_the_same_tokens_and_logprobs_alone_and_in_any_batch()
    {
        var target = Completion(Question, n: 2, maxTokens: 12, seed: 77);

        var alone = await Choices(target);
        // Two bursts of eight rows: other prompts (shorter and longer), seeded and unseeded, more tokens and more top
        // log-probs than the target asks for, the target first in one and in the middle of the other. (Sharing a call
        // would not do: its other rows change the log-probs in the sixth digit.)
        var first = await Burst(
            target,
            Completion("Question: 2 + 2?", n: 3, maxTokens: 20, seed: 5),
            Completion(Question + " Think of May first.", n: 3, maxTokens: 12, seed: null, logprobs: 5));
        var second = await Burst(
            Completion(string.Concat(Enumerable.Repeat(Question + "\n", 3)), n: 1, maxTokens: 6, seed: 9),
            Completion("Question: 7 - 3?", n: 4, maxTokens: 30, seed: null),
            target,
            Completion("Q: 1?", n: 1, maxTokens: 12, seed: 77));

        Assert.True(JsonNode.DeepEquals(alone, first[0]), $"alone: {alone.ToJsonString()}\nbatched: {first[0].ToJsonString()}");
        Assert.True(JsonNode.DeepEquals(alone, second[2]), $"alone: {alone.ToJsonString()}\nbatched: {second[2].ToJsonString()}");
        Assert.All(alone, c => Assert.NotEmpty(c!["logprobs"]!["top_logprobs"]!.AsArray()));
    }

    [Fact]
    public async Task A_seeded_request_with_several_prompts_is_one_call_that_samples_the_same_beside_any_other()
    {
        var prompts = new JsonArray("Question: 2 + 2?", Question, "Q: 9 - 4?");
        var target = new JsonObject
        {
            ["model"] = fixture.Server.ModelName, ["prompt"] = prompts, ["n"] = 2, ["max_tokens"] = 12, ["temperature"] = 1.0, ["logprobs"] = 2, ["seed"] = 31,
        }.ToJsonString();

        var calls = fixture.Server.Queue.GenerateCalls;
        var alone = await Choices(target);
        Assert.Equal(1, fixture.Server.Queue.GenerateCalls - calls);
        var beside = await Burst(Completion("Question: 7 - 3?", n: 2, maxTokens: 20, seed: null), target);

        Assert.Equal(6, alone.Count);
        Assert.Equal(Enumerable.Range(0, 6), alone.Select(c => c!["index"]!.GetValue<int>()));
        Assert.True(JsonNode.DeepEquals(alone, beside[1]), $"alone: {alone.ToJsonString()}\nbeside: {beside[1].ToJsonString()}");
    }

    [Fact]
    public async Task Grouped_seeded_annotation_stores_the_same_samples_after_an_interruption()
    {
        const string template = "Question: {question}\nLet's think step by step";
        var config = new AnnotationConfig(fixture.Server.ModelName, TeacherApi.Completions, AnnotationConfig.HashPrompt(template), 1.0, 1, 10, 3, [], Seed: 5);
        var job = new AnnotationJob("gsm8k-train", TeacherTestKit.Gsm8kTrain(6), template, config, Samples: 2, SamplesPerRequest: 2, Price: null) { QuestionsPerRequest = 3 };
        using var client = new TeacherClient(new TeacherClientOptions(new Uri(fixture.Server.Url, "/v1"), null, TimeSpan.FromMinutes(2), 0));
        static string Describe(StoredSample s) =>
            $"{s.QuestionId}/{s.SampleIndex}: {s.Text} | {string.Join(" ", s.Positions!.Select(p => $"{p.Token}:{p.Logprob}:{string.Join(",", p.Top.Select(t => $"{t.Token}={t.Logprob}"))}"))}";
        static List<string> Read(AnnotationStore store) =>
            [.. store.ReadSamples(keptOnly: false).OrderBy(s => s.QuestionId, StringComparer.Ordinal).ThenBy(s => s.SampleIndex).Select(Describe)];

        var path = Path.Combine(TestPaths.NewTempDir(), "grouped.db");
        List<string> whole;
        using (var store = AnnotationStore.Open(path, create: true))
        {
            var calls = fixture.Server.Queue.GenerateCalls;
            var summary = await AnnotationRunner.RunAsync(store, client, job, concurrency: 1);
            Assert.Equal((6, 0, 12), (summary.Completed, summary.Failed, summary.NewSamples));
            Assert.Equal(2, fixture.Server.Queue.GenerateCalls - calls);
            whole = Read(store);
        }

        // As if the run had died after recording two questions of the second group: their rows are gone from the file.
        using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={path};Pooling=False"))
        {
            connection.Open();
            using var delete = connection.CreateCommand();
            var lost = string.Join(", ", job.Problems.Skip(4).Select(p => $"'{p.Id}'"));
            delete.CommandText = $"DELETE FROM samples WHERE question_id IN ({lost}); DELETE FROM requests WHERE question_id IN ({lost});";
            delete.ExecuteNonQuery();
        }
        using (var store = AnnotationStore.Open(path, create: false))
        {
            Assert.Equal(8, store.ReadSamples(keptOnly: false).Count());
            var summary = await AnnotationRunner.RunAsync(store, client, job, concurrency: 1);
            // The second group went again whole (three requests, one of them already stored) and gave the same samples.
            Assert.Equal((3, 4), (summary.Requested, summary.NewSamples));
            Assert.Equal(whole, Read(store));
        }
    }

    [Fact]
    public async Task Different_seeds_and_different_choices_sample_differently()
    {
        static string[] Texts(JsonArray choices) => [.. choices.Select(c => c!["text"]!.GetValue<string>())];
        var seeded77 = Texts(await Choices(Completion(Question, n: 2, maxTokens: 12, seed: 77)));
        var seeded78 = Texts(await Choices(Completion(Question, n: 2, maxTokens: 12, seed: 78)));

        Assert.NotEqual(seeded77[0], seeded77[1]);
        Assert.NotEqual(seeded77[0], seeded78[0]);
        Assert.NotEqual(seeded77[1], seeded78[1]);
        Assert.Equal(seeded77, Texts(await Choices(Completion(Question, n: 2, maxTokens: 12, seed: 77))));
    }

    [Fact]
    public async Task Two_annotations_with_the_same_seed_store_the_same_samples()
    {
        const string template = "Question: {question}\nLet's think step by step";
        var config = new AnnotationConfig(fixture.Server.ModelName, TeacherApi.Completions, AnnotationConfig.HashPrompt(template), 1.0, 1, 10, 3, [], Seed: 3);
        var job = new AnnotationJob("gsm8k-train", TeacherTestKit.Gsm8kTrain(6), template, config, Samples: 2, SamplesPerRequest: 2, Price: null);
        using var client = new TeacherClient(new TeacherClientOptions(new Uri(fixture.Server.Url, "/v1"), null, TimeSpan.FromMinutes(2), 0));

        async Task<List<StoredSample>> Annotate(AnnotationJob annotationJob)
        {
            using var store = AnnotationStore.Open(Path.Combine(TestPaths.NewTempDir(), "seeded.db"), create: true);
            var summary = await AnnotationRunner.RunAsync(store, client, annotationJob, concurrency: 4);
            Assert.Equal((6, 0), (summary.Completed, summary.Failed));
            return [.. store.ReadSamples(keptOnly: false)];
        }
        static string Describe(StoredSample s) =>
            $"{s.QuestionId}/{s.SampleIndex}: {s.Text} | {string.Join(" ", s.Positions!.Select(p => $"{p.Token}:{p.Logprob}:{string.Join(",", p.Top.Select(t => $"{t.Token}={t.Logprob}"))}"))}";

        // The second annotation asks for the questions in reverse order, so its requests are batched differently.
        var first = await Annotate(job);
        var second = await Annotate(job with { Problems = [.. job.Problems.Reverse()] });
        Assert.Equal(12, first.Count);
        Assert.Equal(first.OrderBy(s => s.QuestionId, StringComparer.Ordinal).ThenBy(s => s.SampleIndex).Select(Describe),
            second.OrderBy(s => s.QuestionId, StringComparer.Ordinal).ThenBy(s => s.SampleIndex).Select(Describe));
        var other = await Annotate(job with { Config = config with { Seed = 4 } });
        Assert.NotEqual(first.Select(s => s.Text), other.Select(s => s.Text));
    }
}
