using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Data.Sqlite;
using Parquet.Serialization;
using Specialist.Answers;
using Specialist.Data;
using Specialist.Teachers;

namespace Specialist.Tests.Teachers;

public class AnnotationStoreTests
{
    private const string Template = "Question: 1 + 1?\nLet's think step by step\nThe answer is 2\n";

    private static readonly AnnotationConfig Config = new("teacher-x", TeacherApi.Completions, AnnotationConfig.HashPrompt(Template), 0.5, 1, 64, 3, ["\n\n"]);

    private static readonly Problem[] Problems =
    [
        new("demo/0", "How many legs do 2 cats have?", GoldAnswer.FromNumber(8)),
        new("demo/1", "What is 10 - 3?", GoldAnswer.FromNumber(7)),
    ];

    private static AnnotationStore NewStore(out long runId)
    {
        var store = AnnotationStore.Open(Path.Combine(TestPaths.NewTempDir(), "store.db"), create: true);
        store.EnsureConfig(Config, Template);
        store.AddQuestions("demo", Problems);
        runId = store.StartRun("live", "http://127.0.0.1:1/v1", "demo", Config, "{}");
        return store;
    }

    private static ScoredSample Sample(string text, GoldAnswer gold, int tokens = 2) =>
        ScoredSample.Score(new TeacherSample(text, "stop", [.. Enumerable.Range(0, tokens).Select(i =>
            new TokenPosition($" t{i}", -0.5f, [new TopCandidate($" t{i}", -0.5f), new TopCandidate($" u{i}", -1.5f), new TopCandidate($" v{i}", -2.5f)]))]), gold);

    [Fact]
    public void ANewStoreIsAWalSqliteFileWithTheDocumentedSchema()
    {
        using var store = NewStore(out _);
        using var connection = new SqliteConnection($"Data Source={store.Path};Pooling=False");
        connection.Open();
        using var mode = connection.CreateCommand();
        mode.CommandText = "PRAGMA journal_mode";
        Assert.Equal("wal", mode.ExecuteScalar());

        // Every table and column is described in docs/annotation-store.md.
        var docs = File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "docs", "annotation-store.md"));
        using var tables = connection.CreateCommand();
        tables.CommandText = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'";
        var names = new List<string>();
        using (var reader = tables.ExecuteReader()) while (reader.Read()) names.Add(reader.GetString(0));
        Assert.Equal(["prompts", "questions", "requests", "runs", "samples", "store_info"], names.Order());
        foreach (var table in names)
        {
            Assert.Matches(new Regex($"### `{table}`"), docs);
            using var columns = connection.CreateCommand();
            columns.CommandText = $"SELECT name FROM pragma_table_info('{table}')";
            using var reader = columns.ExecuteReader();
            while (reader.Read()) Assert.Contains($"| `{reader.GetString(0)}` |", docs);
        }
    }

    [Fact]
    public void AnsweredRequestsAreStoredOnceAndTheirSlotsNeverTwice()
    {
        using var store = NewStore(out var run);
        var gold = Problems[0].Answer;
        var first = store.RecordCompleted(run, "key-a", "demo/0", 0, [Sample("so 8 legs. The answer is 8", gold), Sample("The answer is 6", gold)], 1, 50, 8, 0.25);
        Assert.Equal((2, 1, false), (first.NewSamples, first.NewKept, first.AlreadyCompleted));

        // The same request again (a Batch API result imported twice) changes nothing.
        var again = store.RecordCompleted(run, "key-a", "demo/0", 0, [Sample("The answer is 8", gold), Sample("The answer is 8", gold)], 1, 50, 8, 0.25);
        Assert.True(again.AlreadyCompleted);
        // Another request covering slot 1 again only fills slot 2.
        var overlap = store.RecordCompleted(run, "key-b", "demo/0", 1, [Sample("The answer is 8", gold), Sample("The answer is 8", gold)], 2, 50, 8, null);
        Assert.Equal((1, 1, false), (overlap.NewSamples, overlap.NewKept, overlap.AlreadyCompleted));

        var samples = store.ReadSamples(keptOnly: false).ToList();
        Assert.Equal([0, 1, 2], samples.Select(s => s.SampleIndex));
        Assert.Equal([true, false, true], samples.Select(s => s.Kept));
        Assert.Equal("The answer is 6", samples[1].Text);
        Assert.Equal(6.0, samples[1].Answer);
        Assert.Equal([" t0", " t1"], samples[0].Positions!.Select(p => p.Token));
        Assert.Equal(3, samples[0].Positions![1].Top.Count);

        // A failure recorded for an answered request does not undo it.
        store.RecordFailed(run, "key-a", "demo/0", 0, 2, "HTTP 500: late", 1);
        var stats = store.Stats();
        Assert.Equal((1, 3L, 2L, 2L, 0L), (stats.Questions, stats.Samples, stats.Kept, stats.Completed, stats.Failed));
        Assert.Equal((100L, 16L), (stats.PromptTokens, stats.CompletionTokens));
        Assert.Equal(0.25, stats.Cost);
        Assert.Equal("teacher-x", stats.Teacher);
    }

    [Fact]
    public void AFailedRequestCanLaterComplete()
    {
        using var store = NewStore(out var run);
        store.RecordFailed(run, "key-f", "demo/1", 0, 1, "timed out after 1 s", 3);
        Assert.Equal(1, store.Stats().Failed);
        store.RecordCompleted(run, "key-f", "demo/1", 0, [Sample("The answer is 7", Problems[1].Answer)], 1, 10, 2, null);
        var stats = store.Stats();
        Assert.Equal((0L, 1L, 1L), (stats.Failed, stats.Completed, stats.Kept));
    }

    [Fact]
    public void AStoreKeepsOneTeacherPromptAndSamplingSetting()
    {
        using var store = NewStore(out _);
        store.EnsureConfig(Config, Template); // the same settings again are fine
        var e = Assert.Throws<SpecialistException>(() => store.EnsureConfig(Config with { Teacher = "other-teacher", Temperature = 0.7 }, Template));
        Assert.Contains("teacher: \"teacher-x\" → \"other-teacher\"", e.Message);
        Assert.Contains("temperature: 0.5 → 0.7", e.Message);
        Assert.Contains("--store", e.Message);

        var changed = Assert.Throws<SpecialistException>(() => store.AddQuestions("demo", [Problems[0] with { Question = "How many legs do 3 cats have?" }]));
        Assert.Contains("demo/0", changed.Message);
    }

    [Fact]
    public void OnlyAnnotationStoresOpen()
    {
        var dir = TestPaths.NewTempDir();
        var missing = Assert.Throws<SpecialistException>(() => AnnotationStore.Open(Path.Combine(dir, "none.db"), create: false));
        Assert.Contains("does not exist", missing.Message);

        var text = Path.Combine(dir, "text.db");
        File.WriteAllText(text, "this is not a database, just some text that is long enough to have a header......................................");
        Assert.Contains("not a usable SQLite annotation store", Assert.Throws<SpecialistException>(() => AnnotationStore.Open(text, create: true)).Message);

        var other = Path.Combine(dir, "other.db");
        using (var c = new SqliteConnection($"Data Source={other};Pooling=False"))
        {
            c.Open();
            using var create = c.CreateCommand();
            create.CommandText = "CREATE TABLE t(x)";
            create.ExecuteNonQuery();
        }
        Assert.Contains("not an annotation store", Assert.Throws<SpecialistException>(() => AnnotationStore.Open(other, create: true)).Message);
    }

    [Fact]
    public void PlansOnlyTheMissingSlotsInRunsOfAtMostNPerRequest()
    {
        var job = new AnnotationJob("demo", Problems, Template, Config, Samples: 7, SamplesPerRequest: 3, Price: null);
        var plan = job.Plan(new Dictionary<string, HashSet<int>> { ["demo/0"] = [1, 2, 5] }).SelectMany(c => c.Requests).ToList();
        Assert.Equal([("demo/0", 0, 1), ("demo/0", 3, 2), ("demo/0", 6, 1), ("demo/1", 0, 3), ("demo/1", 3, 3), ("demo/1", 6, 1)],
            plan.Select(r => (r.QuestionId, r.FirstSample, r.N)));
        Assert.Equal(plan.Count, plan.Select(r => r.Key).Distinct().Count());
        Assert.EndsWith("\nQuestion: What is 10 - 3?\nLet's think step by step", plan[3].Prompt);
        // Keys depend on what determines the answer, so the same plan has the same keys, and other settings others.
        Assert.Equal(plan.Select(r => r.Key), job.Plan(new() { ["demo/0"] = [1, 2, 5] }).SelectMany(c => c.Requests).Select(r => r.Key));
        var warmer = job with { Config = Config with { Temperature = 0.7 } };
        Assert.Empty(plan.Select(r => r.Key).Intersect(warmer.Plan(new() { ["demo/0"] = [1, 2, 5] }).SelectMany(c => c.Requests).Select(r => r.Key)));
    }

    [Fact]
    public async Task ExportsJsonlAndParquetWithOneRowPerSample()
    {
        using var store = NewStore(out var run);
        store.RecordCompleted(run, "k0", "demo/0", 0, [Sample("The answer is 8", Problems[0].Answer, tokens: 3), Sample("no idea", Problems[0].Answer, tokens: 1)], 1, 1, 1, null);
        store.RecordCompleted(run, "k1", "demo/1", 0, [Sample("The answer is 7", Problems[1].Answer, tokens: 2)], 1, 1, 1, null);
        var dir = TestPaths.NewTempDir();

        var jsonl = Path.Combine(dir, "out.jsonl");
        Assert.Equal(3, StoreExport.Write(store, jsonl, ExportFormat.Jsonl, keptOnly: false));
        var rows = File.ReadAllLines(jsonl).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
        Assert.Equal(["demo/0", "demo/0", "demo/1"], rows.Select(r => r["question_id"]!.GetValue<string>()));
        Assert.Equal([0, 1, 0], rows.Select(r => r["sample_index"]!.GetValue<int>()));
        Assert.Null(rows[1]["answer"]);
        Assert.False(rows[1]["kept"]!.GetValue<bool>());
        Assert.Equal(8.0, rows[0]["answer"]!.GetValue<double>());
        Assert.Equal([" t0", " t1", " t2"], rows[0]["tokens"]!.AsArray().Select(t => t!.GetValue<string>()));
        var top = rows[0]["top_logprobs"]!.AsArray();
        Assert.Equal(3, top.Count);
        Assert.Equal(" u1", top[1]![1]![0]!.GetValue<string>());
        Assert.Equal(-1.5, top[1]![1]![1]!.GetValue<double>());

        Assert.Equal(2, StoreExport.Write(store, Path.Combine(dir, "kept.jsonl"), ExportFormat.Jsonl, keptOnly: true));

        var parquet = Path.Combine(dir, "out.parquet");
        Assert.Equal(3, StoreExport.Write(store, parquet, ExportFormat.Parquet, keptOnly: false));
        await using var stream = File.OpenRead(parquet);
        var back = (await ParquetSerializer.DeserializeAsync<StoreExport.ParquetRow>(stream)).Data;
        Assert.Equal(3, back.Count);
        Assert.Equal("demo/1", back[2].QuestionId);
        Assert.Equal([" t0", " t1"], back[2].Tokens!);
        Assert.Equal(" v1", back[2].TopLogprobs![1][2].Token);
        Assert.Equal(-2.5f, back[2].TopLogprobs![1][2].Logprob);
        Assert.True(back[0].Kept);
        Assert.Null(back[1].Answer);
    }
}
