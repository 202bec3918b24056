using System.Globalization;
using Microsoft.Data.Sqlite;
using Specialist.Teachers;

namespace Specialist.Tests.Teachers;

/// <summary>The teacher client and the annotation runner against a real HTTP server that misbehaves on purpose.</summary>
public class FaultInjectionTests
{
    private static readonly string Prompt = "Question: What is 1 + 1?\nLet's think step by step\n2\nThe answer is 2\n";

    private static AnnotationConfig Config(int topLogprobs = 5) =>
        new("fault-teacher", TeacherApi.Completions, AnnotationConfig.HashPrompt(Prompt), 0.5, 1.0, 32, topLogprobs, ["\n\n"]);

    private static TeacherClient Client(FaultServer server, double timeoutSeconds = 1, int maxRetries = 2) =>
        new(new TeacherClientOptions(server.BaseUrl, "test-key", TimeSpan.FromSeconds(timeoutSeconds), maxRetries)
        {
            BackoffBase = TimeSpan.FromMilliseconds(20),
            BackoffMax = TimeSpan.FromMilliseconds(200),
        });

    /// <summary>Choice 0 states the gold answer, choice 1 a wrong one: half the samples are kept.</summary>
    private static FaultReply.Answer HalfRight(FaultCall call, IReadOnlyDictionary<string, double> gold) =>
        new([.. Enumerable.Range(0, call.N).Select(i =>
            $"Some steps. The answer is {(gold[call.Question] + (i % 2 == 0 ? 0 : 1)).ToString(CultureInfo.InvariantCulture)}")]);

    [Fact]
    public async Task EveryFaultIsRetriedOrRecordedAndTheCountsAreRight()
    {
        var problems = TeacherTestKit.Gsm8kTrain(14);
        var gold = problems.ToDictionary(p => p.Question, p => p.Answer.Number!.Value);
        var kind = problems.Select((p, i) => (p.Question, i % 7)).ToDictionary(x => x.Question, x => x.Item2);
        // 0: 429 with Retry-After 1 s once; 1: 500 once; 2: hangs past the timeout once; 3: truncated JSON;
        // 4: wrong schema; 5: 503 every time; 6: answers at once.
        FaultReply Script(FaultCall call) => (kind[call.Question], call.Attempt) switch
        {
            (0, 1) => new FaultReply.Status(429, RetryAfterSeconds: 1),
            (1, 1) => new FaultReply.Status(500),
            (2, 1) => new FaultReply.Hang(),
            (3, _) => new FaultReply.Truncated(),
            (4, _) => new FaultReply.WrongSchema(),
            (5, _) => new FaultReply.Status(503),
            _ => HalfRight(call, gold),
        };
        await using var server = await FaultServer.StartAsync(Script);
        var db = Path.Combine(TestPaths.NewTempDir(), "faults.db");
        var job = new AnnotationJob("gsm8k-train", problems, Prompt, Config(), Samples: 2, SamplesPerRequest: 2, Price: new TeacherPrice(1, 2));

        using (var store = AnnotationStore.Open(db, create: true))
        using (var client = Client(server))
        {
            var summary = await AnnotationRunner.RunAsync(store, client, job, concurrency: 4);
            Assert.Equal(14, summary.Requested);
            Assert.Equal(8, summary.Completed);
            Assert.Equal(6, summary.Failed);
            Assert.Equal(16, summary.Samples);
            Assert.Equal(8, summary.Kept);
            Assert.Equal(8 * 100, summary.PromptTokens);
            Assert.Equal(8 * 20, summary.CompletionTokens);
            Assert.Equal((8 * 100 * 1.0 + 8 * 20 * 2.0) / 1e6, summary.Cost!.Value, 12);

            var stats = store.Stats();
            Assert.Equal((8, 16L, 8L, 8L, 6L), (stats.Questions, stats.Samples, stats.Kept, stats.Completed, stats.Failed));
        }

        var calls = server.Calls.ToArray();
        int CallsFor(int k) => calls.Count(c => kind[c.Question] == k);
        Assert.Equal(2 * 2, CallsFor(0));   // retried once each
        Assert.Equal(2 * 2, CallsFor(1));
        Assert.Equal(2 * 2, CallsFor(2));
        Assert.Equal(2 * 1, CallsFor(3));   // malformed answers are recorded, not retried
        Assert.Equal(2 * 1, CallsFor(4));
        Assert.Equal(2 * 3, CallsFor(5));   // 1 attempt + 2 retries
        Assert.Equal(2 * 1, CallsFor(6));
        // Retry-After was honoured: the retry came at least a second after the 429.
        foreach (var question in kind.Where(k => k.Value == 0).Select(k => k.Key))
        {
            var times = calls.Where(c => c.Question == question).OrderBy(c => c.At).Select(c => c.At).ToArray();
            Assert.True(times[1] - times[0] >= TimeSpan.FromSeconds(0.95), $"retry after {(times[1] - times[0]).TotalSeconds:F3} s");
        }

        var errors = ReadErrors(db);
        Assert.Equal(6, errors.Count);
        Assert.All(errors.Where(e => kind[QuestionText(problems, e.QuestionId)] == 3), e => Assert.Contains("not valid JSON", e.Error));
        Assert.All(errors.Where(e => kind[QuestionText(problems, e.QuestionId)] == 4), e => Assert.Contains("no 'choices' array", e.Error));
        Assert.All(errors.Where(e => kind[QuestionText(problems, e.QuestionId)] == 5), e => Assert.StartsWith("HTTP 503", e.Error));
        Assert.All(errors.Where(e => kind[QuestionText(problems, e.QuestionId)] == 5), e => Assert.Equal(3, e.Attempts));

        // The same job again, now against a well-behaved teacher: only the failed requests are sent.
        var before = calls.Length;
        await using (var fixedServer = await FaultServer.StartAsync(call => HalfRight(call, gold)))
        using (var store = AnnotationStore.Open(db, create: true))
        using (var fixedClient = Client(fixedServer))
        {
            var again = await AnnotationRunner.RunAsync(store, fixedClient, job, concurrency: 4);
            Assert.Equal((6, 6, 0), (again.Requested, again.Completed, again.Failed));
            Assert.Equal((28L, 14L), (again.Samples, again.Kept));
            Assert.Equal(6, fixedServer.Calls.Count);
            var stats = store.Stats();
            Assert.Equal((14, 28L, 14L, 0L), (stats.Questions, stats.Samples, stats.Completed, stats.Failed));
        }
        Assert.Equal(before, server.Calls.Count);
    }

    [Fact]
    public async Task ARefusedKeyStopsTheRunInsteadOfFailingEveryRequest()
    {
        var problems = TeacherTestKit.Gsm8kTrain(6);
        await using var server = await FaultServer.StartAsync(_ => new FaultReply.Status(401));
        using var store = AnnotationStore.Open(Path.Combine(TestPaths.NewTempDir(), "refused.db"), create: true);
        using var client = Client(server);
        var job = new AnnotationJob("gsm8k-train", problems, Prompt, Config(), 1, 1, null);
        var error = await Assert.ThrowsAsync<SpecialistException>(() => AnnotationRunner.RunAsync(store, client, job, concurrency: 1));
        Assert.Contains("OPENAI_API_KEY", error.Message);
        Assert.Single(server.Calls);
        Assert.Equal(0, store.Stats().Failed);
    }

    [Fact]
    public async Task AnEndpointThatIsDownFailsEachRequestAfterItsRetries()
    {
        // A port nothing listens on: connection refused on every attempt.
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        using var client = new TeacherClient(new TeacherClientOptions(new Uri($"http://127.0.0.1:{port}/v1"), null, TimeSpan.FromSeconds(1), 1)
        {
            BackoffBase = TimeSpan.FromMilliseconds(10),
        });
        using var store = AnnotationStore.Open(Path.Combine(TestPaths.NewTempDir(), "down.db"), create: true);
        var job = new AnnotationJob("gsm8k-train", TeacherTestKit.Gsm8kTrain(3), Prompt, Config(), 2, 1, null);
        var summary = await AnnotationRunner.RunAsync(store, client, job, concurrency: 2);
        Assert.Equal((6, 0, 6), (summary.Requested, summary.Completed, summary.Failed));
        Assert.All(ReadErrors(store.Path), e => Assert.StartsWith("connection failed", e.Error));
        Assert.All(ReadErrors(store.Path), e => Assert.Equal(2, e.Attempts));
    }

    private static string QuestionText(IReadOnlyList<Specialist.Data.Problem> problems, string id) => problems.Single(p => p.Id == id).Question;

    private static List<(string QuestionId, string Error, int Attempts)> ReadErrors(string db)
    {
        using var connection = new SqliteConnection($"Data Source={db};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT question_id, error, attempts FROM requests WHERE status = 'failed'";
        using var reader = command.ExecuteReader();
        var result = new List<(string, string, int)>();
        while (reader.Read()) result.Add((reader.GetString(0), reader.GetString(1), reader.GetInt32(2)));
        return result;
    }
}
