using System.Globalization;
using Microsoft.Data.Sqlite;
using Specialist.Answers;
using Specialist.Data;

namespace Specialist.Teachers;

/// <summary>What an annotation store holds (<c>specialist store stats</c>).</summary>
/// <param name="Teacher">The teacher model the store was annotated with (null for an empty store).</param>
/// <param name="Runs">Annotation runs recorded (live, Batch API export and import).</param>
/// <param name="Questions">Questions with at least one sample.</param>
/// <param name="Samples">Samples stored.</param>
/// <param name="Kept">Samples whose answer equals the gold answer.</param>
/// <param name="Completed">Requests answered.</param>
/// <param name="Failed">Requests whose last attempt failed (a later run retries them).</param>
/// <param name="Pending">Requests exported to the Batch API and not yet imported.</param>
/// <param name="PromptTokens">Prompt tokens billed, over completed requests.</param>
/// <param name="CompletionTokens">Completion tokens billed, over completed requests.</param>
/// <param name="Cost">Dollars, over requests recorded with a price (null when none was).</param>
public sealed record StoreStats(
    string? Teacher, int Runs, int Questions, long Samples, long Kept, long Completed, long Failed, long Pending,
    long PromptTokens, long CompletionTokens, double? Cost)
{
    /// <summary>Kept / samples (0 for no samples).</summary>
    public double KeptRate => Samples == 0 ? 0 : (double)Kept / Samples;
}

/// <summary>One stored sample, as <c>store export</c> writes it.</summary>
public sealed record StoredSample(string QuestionId, int SampleIndex, string Text, bool Kept, double? Answer, string? FinishReason, IReadOnlyList<TokenPosition>? Positions);

/// <summary>A sample scored against its question's gold answer: the extracted number and whether it is right.</summary>
internal sealed record ScoredSample(TeacherSample Sample, double? Answer, bool Kept)
{
    public static ScoredSample Score(TeacherSample sample, GoldAnswer gold) =>
        new(sample, AnswerExtractor.Extract(sample.Text), AnswerScorer.IsCorrect(sample.Text, gold));
}

/// <summary>A request recorded in the store (exported to the Batch API, answered or failed).</summary>
internal sealed record StoredRequest(string Key, string QuestionId, int FirstSample, int N, string Status);

/// <summary>What recording an answered request did.</summary>
/// <param name="NewSamples">Samples added (slots already filled are left alone).</param>
/// <param name="NewKept">Of those, kept ones.</param>
/// <param name="AlreadyCompleted">The request had been recorded as answered before: nothing was changed.</param>
internal sealed record RecordResult(int NewSamples, int NewKept, bool AlreadyCompleted);

/// <summary>
/// A resumable annotation store: one SQLite file in WAL mode (schema: docs/annotation-store.md). Every answered
/// request is written in one transaction together with its samples, so a process killed at any moment loses at most
/// the requests in flight; samples are keyed by (question, sample index), so none is ever stored twice. Thread-safe.
/// </summary>
public sealed class AnnotationStore : IDisposable
{
    internal const int SchemaVersion = 1;

    private readonly SqliteConnection _connection;
    private readonly object _gate = new();

    private AnnotationStore(string path, SqliteConnection connection)
    {
        Path = path;
        _connection = connection;
    }

    /// <summary>The store's file.</summary>
    public string Path { get; }

    /// <summary>
    /// Opens a store; with <paramref name="create"/> a missing file becomes a new, empty store, otherwise it is an error.
    /// Throws <see cref="SpecialistException"/> naming the file when it is not an annotation store of this version.
    /// </summary>
    public static AnnotationStore Open(string path, bool create)
    {
        var full = System.IO.Path.GetFullPath(path);
        if (!create && !File.Exists(full)) throw new SpecialistException($"annotation store {full} does not exist");
        if (create) Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        var builder = new SqliteConnectionStringBuilder
        {
            DataSource = full,
            Mode = create ? SqliteOpenMode.ReadWriteCreate : SqliteOpenMode.ReadWrite,
            Pooling = false,
            DefaultTimeout = 60,
        };
        var connection = new SqliteConnection(builder.ToString());
        try
        {
            connection.Open();
            var store = new AnnotationStore(full, connection);
            store.Initialise(create);
            return store;
        }
        catch (SqliteException e)
        {
            connection.Dispose();
            throw new SpecialistException($"{full}: not a usable SQLite annotation store ({e.Message})", e);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    private void Initialise(bool create)
    {
        // WAL: readers never block the writer and a killed writer leaves the file consistent. NORMAL sync loses no
        // committed transaction when the process dies (only on power loss), at a fraction of FULL's fsyncs.
        Execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;");
        var hasInfo = Scalar("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'store_info'") is long n && n > 0;
        if (!hasInfo)
        {
            var tables = (long)Scalar("SELECT count(*) FROM sqlite_master WHERE type = 'table'")!;
            if (!create || tables > 0) throw new SpecialistException($"{Path} is a SQLite file but not an annotation store (it has no store_info table)");
            using var transaction = _connection.BeginTransaction();
            Execute(Schema, transaction);
            Execute("INSERT INTO store_info(key, value) VALUES ('schema_version', $v)", transaction, ("$v", SchemaVersion.ToString(CultureInfo.InvariantCulture)));
            transaction.Commit();
            return;
        }
        var version = Scalar("SELECT value FROM store_info WHERE key = 'schema_version'") as string;
        if (version != SchemaVersion.ToString(CultureInfo.InvariantCulture))
            throw new SpecialistException($"{Path}: annotation store schema version {version ?? "(none)"}, this version of specialist reads {SchemaVersion}");
    }

    /// <summary>The tables; docs/annotation-store.md documents each column.</summary>
    internal const string Schema = """
        CREATE TABLE store_info (
            key   TEXT PRIMARY KEY,
            value TEXT NOT NULL
        );
        CREATE TABLE prompts (
            hash TEXT PRIMARY KEY,
            text TEXT NOT NULL
        );
        CREATE TABLE runs (
            id          INTEGER PRIMARY KEY AUTOINCREMENT,
            kind        TEXT NOT NULL CHECK (kind IN ('live', 'batch-export', 'batch-import')),
            teacher     TEXT NOT NULL,
            endpoint    TEXT,
            api         TEXT NOT NULL,
            set_name    TEXT NOT NULL,
            prompt_hash TEXT NOT NULL REFERENCES prompts(hash),
            params      TEXT NOT NULL,
            started_at  TEXT NOT NULL,
            finished_at TEXT,
            requested   INTEGER,
            completed   INTEGER,
            failed      INTEGER
        );
        CREATE TABLE questions (
            id          TEXT PRIMARY KEY,
            set_name    TEXT NOT NULL,
            question    TEXT NOT NULL,
            gold        TEXT NOT NULL,
            gold_kind   TEXT NOT NULL,
            gold_number REAL
        );
        CREATE TABLE requests (
            key               TEXT PRIMARY KEY,
            question_id       TEXT NOT NULL REFERENCES questions(id),
            first_sample      INTEGER NOT NULL,
            n                 INTEGER NOT NULL,
            status            TEXT NOT NULL CHECK (status IN ('pending', 'completed', 'failed')),
            run_id            INTEGER NOT NULL REFERENCES runs(id),
            attempts          INTEGER NOT NULL,
            error             TEXT,
            prompt_tokens     INTEGER,
            completion_tokens INTEGER,
            cost              REAL,
            updated_at        TEXT NOT NULL
        );
        CREATE INDEX requests_by_status ON requests(status);
        CREATE TABLE samples (
            question_id   TEXT NOT NULL REFERENCES questions(id),
            sample_index  INTEGER NOT NULL,
            request_key   TEXT NOT NULL REFERENCES requests(key),
            text          TEXT NOT NULL,
            finish_reason TEXT,
            answer        REAL,
            kept          INTEGER NOT NULL CHECK (kept IN (0, 1)),
            token_count   INTEGER,
            positions     BLOB,
            PRIMARY KEY (question_id, sample_index)
        ) WITHOUT ROWID;
        """;

    /// <summary>The settings the store was annotated with; null while it is empty.</summary>
    public AnnotationConfig? Config
    {
        get
        {
            lock (_gate)
                return Scalar("SELECT value FROM store_info WHERE key = 'config'") is string json ? AnnotationConfig.FromJson(json, Path) : null;
        }
    }

    /// <summary>
    /// Records <paramref name="config"/> and its prompt in an empty store, or checks that a used store was annotated with
    /// exactly these settings: samples of different teachers, prompts or sampling settings never share a store.
    /// </summary>
    internal void EnsureConfig(AnnotationConfig config, string promptTemplate)
    {
        lock (_gate)
        {
            using var transaction = _connection.BeginTransaction();
            if (Scalar("SELECT value FROM store_info WHERE key = 'config'", transaction) is string json)
            {
                var differences = AnnotationConfig.FromJson(json, Path).Differences(config);
                if (differences.Count > 0)
                    throw new SpecialistException(
                        $"{Path} holds samples drawn with other settings ({string.Join("; ", differences)}); " +
                        "a store keeps one teacher, prompt and sampling setting: give another --store for these");
                return;
            }
            Execute("INSERT INTO store_info(key, value) VALUES ('config', $v)", transaction, ("$v", config.ToJson()));
            Execute("INSERT INTO prompts(hash, text) VALUES ($h, $t) ON CONFLICT(hash) DO NOTHING", transaction, ("$h", config.PromptHash), ("$t", promptTemplate));
            transaction.Commit();
        }
    }

    /// <summary>
    /// Records the questions about to be annotated (with their gold answers, so imports and exports need no data
    /// files); a question already stored with a different text or gold answer is an error.
    /// </summary>
    internal void AddQuestions(string setName, IReadOnlyList<Problem> problems)
    {
        lock (_gate)
        {
            var existing = new Dictionary<string, (string Question, string Gold)>(StringComparer.Ordinal);
            using (var read = Command("SELECT id, question, gold FROM questions"))
            using (var reader = read.ExecuteReader())
                while (reader.Read()) existing[reader.GetString(0)] = (reader.GetString(1), reader.GetString(2));

            using var transaction = _connection.BeginTransaction();
            using var insert = Command("INSERT INTO questions(id, set_name, question, gold, gold_kind, gold_number) VALUES ($id, $set, $q, $g, $k, $n)", transaction);
            foreach (var problem in problems)
            {
                if (existing.TryGetValue(problem.Id, out var stored))
                {
                    if (stored.Question != problem.Question || stored.Gold != problem.Answer.Text)
                        throw new SpecialistException($"{Path}: question {problem.Id} is stored with another text or gold answer than the set gives now; use another --store");
                    continue;
                }
                Bind(insert, ("$id", problem.Id), ("$set", setName), ("$q", problem.Question), ("$g", problem.Answer.Text),
                    ("$k", problem.Answer.Kind.ToString()), ("$n", problem.Answer.Number));
                insert.ExecuteNonQuery();
            }
            transaction.Commit();
        }
    }

    /// <summary>The gold answer stored with a question, or null when the question is not in the store.</summary>
    internal GoldAnswer? Gold(string questionId)
    {
        lock (_gate)
            return Row("SELECT gold, gold_kind, gold_number FROM questions WHERE id = $id",
                r => new GoldAnswer(Enum.Parse<GoldAnswerKind>(r.GetString(1)), r.GetString(0), r.IsDBNull(2) ? null : r.GetDouble(2)), ("$id", questionId));
    }

    /// <summary>The sample indices stored per question.</summary>
    internal Dictionary<string, HashSet<int>> SampleIndices()
    {
        lock (_gate)
        {
            var result = new Dictionary<string, HashSet<int>>(StringComparer.Ordinal);
            using var command = Command("SELECT question_id, sample_index FROM samples");
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                if (!result.TryGetValue(reader.GetString(0), out var set)) result[reader.GetString(0)] = set = [];
                set.Add(reader.GetInt32(1));
            }
            return result;
        }
    }

    /// <summary>Starts a run record; <paramref name="parameters"/> is the run's JSON (samples, limit, concurrency, ...).</summary>
    internal long StartRun(string kind, string? endpoint, string setName, AnnotationConfig config, string parameters)
    {
        lock (_gate)
        {
            using var command = Command("""
                INSERT INTO runs(kind, teacher, endpoint, api, set_name, prompt_hash, params, started_at)
                VALUES ($kind, $teacher, $endpoint, $api, $set, $hash, $params, $now) RETURNING id
                """);
            Bind(command, ("$kind", kind), ("$teacher", config.Teacher), ("$endpoint", endpoint), ("$api", AnnotationConfig.ApiName(config.Api)),
                ("$set", setName), ("$hash", config.PromptHash), ("$params", parameters), ("$now", Now()));
            return (long)command.ExecuteScalar()!;
        }
    }

    internal void FinishRun(long runId, int requested, int completed, int failed)
    {
        lock (_gate)
            Execute("UPDATE runs SET finished_at = $now, requested = $r, completed = $c, failed = $f WHERE id = $id", null,
                ("$now", Now()), ("$r", requested), ("$c", completed), ("$f", failed), ("$id", runId));
    }

    /// <summary>Records requests written to a Batch API file; requests already answered are left alone.</summary>
    internal void RecordPending(long runId, IEnumerable<TeacherRequest> requests)
    {
        lock (_gate)
        {
            using var transaction = _connection.BeginTransaction();
            using var command = Command("""
                INSERT INTO requests(key, question_id, first_sample, n, status, run_id, attempts, updated_at)
                VALUES ($key, $q, $first, $n, 'pending', $run, 0, $now)
                ON CONFLICT(key) DO UPDATE SET status = 'pending', run_id = excluded.run_id, updated_at = excluded.updated_at
                WHERE requests.status = 'failed'
                """, transaction);
            var now = Now();
            foreach (var r in requests)
            {
                Bind(command, ("$key", r.Key), ("$q", r.QuestionId), ("$first", r.FirstSample), ("$n", r.N), ("$run", runId), ("$now", now));
                command.ExecuteNonQuery();
            }
            transaction.Commit();
        }
    }

    /// <summary>A recorded request by key, or null.</summary>
    internal StoredRequest? FindRequest(string key)
    {
        lock (_gate)
            return Row("SELECT question_id, first_sample, n, status FROM requests WHERE key = $key",
                r => new StoredRequest(key, r.GetString(0), r.GetInt32(1), r.GetInt32(2), r.GetString(3)), ("$key", key));
    }

    /// <summary>
    /// Records an answered request and its samples (indices <c>first_sample</c> onwards) in one transaction. A request
    /// recorded as answered before is left as it is; sample slots already filled (by another request) are not overwritten.
    /// </summary>
    internal RecordResult RecordCompleted(long runId, string key, string questionId, int firstSample, IReadOnlyList<ScoredSample> samples,
        int attempts, long promptTokens, long completionTokens, double? cost)
    {
        lock (_gate)
        {
            using var transaction = _connection.BeginTransaction();
            if (Scalar("SELECT status FROM requests WHERE key = $key", transaction, ("$key", key)) is "completed") return new RecordResult(0, 0, true);
            Execute("""
                INSERT INTO requests(key, question_id, first_sample, n, status, run_id, attempts, error, prompt_tokens, completion_tokens, cost, updated_at)
                VALUES ($key, $q, $first, $n, 'completed', $run, $attempts, NULL, $pt, $ct, $cost, $now)
                ON CONFLICT(key) DO UPDATE SET status = 'completed', run_id = excluded.run_id, attempts = requests.attempts + excluded.attempts,
                    error = NULL, prompt_tokens = excluded.prompt_tokens, completion_tokens = excluded.completion_tokens,
                    cost = excluded.cost, updated_at = excluded.updated_at
                """, transaction, ("$key", key), ("$q", questionId), ("$first", firstSample), ("$n", samples.Count), ("$run", runId),
                ("$attempts", attempts), ("$pt", promptTokens), ("$ct", completionTokens), ("$cost", cost), ("$now", Now()));

            int added = 0, kept = 0;
            using var insert = Command("""
                INSERT INTO samples(question_id, sample_index, request_key, text, finish_reason, answer, kept, token_count, positions)
                VALUES ($q, $i, $key, $text, $finish, $answer, $kept, $count, $positions)
                ON CONFLICT(question_id, sample_index) DO NOTHING
                """, transaction);
            for (var i = 0; i < samples.Count; i++)
            {
                var s = samples[i];
                var positions = s.Sample.Positions;
                Bind(insert, ("$q", questionId), ("$i", firstSample + i), ("$key", key), ("$text", s.Sample.Text), ("$finish", s.Sample.FinishReason),
                    ("$answer", s.Answer), ("$kept", s.Kept ? 1 : 0), ("$count", positions?.Count), ("$positions", positions is null ? null : PositionsCodec.Encode(positions)));
                if (insert.ExecuteNonQuery() == 1)
                {
                    added++;
                    if (s.Kept) kept++;
                }
            }
            transaction.Commit();
            return new RecordResult(added, kept, false);
        }
    }

    /// <summary>Records a failed request (its error and attempts); a request already answered is left alone.</summary>
    internal void RecordFailed(long runId, string key, string questionId, int firstSample, int n, string error, int attempts)
    {
        lock (_gate)
            Execute("""
                INSERT INTO requests(key, question_id, first_sample, n, status, run_id, attempts, error, updated_at)
                VALUES ($key, $q, $first, $n, 'failed', $run, $attempts, $error, $now)
                ON CONFLICT(key) DO UPDATE SET status = 'failed', run_id = excluded.run_id, attempts = requests.attempts + excluded.attempts,
                    error = excluded.error, updated_at = excluded.updated_at
                WHERE requests.status <> 'completed'
                """, null, ("$key", key), ("$q", questionId), ("$first", firstSample), ("$n", n), ("$run", runId),
                ("$attempts", attempts), ("$error", error), ("$now", Now()));
    }

    /// <summary>Counts over the whole store.</summary>
    public StoreStats Stats()
    {
        lock (_gate)
        {
            using var command = Command("""
                SELECT
                  (SELECT count(*) FROM runs),
                  (SELECT count(DISTINCT question_id) FROM samples),
                  (SELECT count(*) FROM samples),
                  (SELECT count(*) FROM samples WHERE kept = 1),
                  (SELECT count(*) FROM requests WHERE status = 'completed'),
                  (SELECT count(*) FROM requests WHERE status = 'failed'),
                  (SELECT count(*) FROM requests WHERE status = 'pending'),
                  (SELECT coalesce(sum(prompt_tokens), 0) FROM requests WHERE status = 'completed'),
                  (SELECT coalesce(sum(completion_tokens), 0) FROM requests WHERE status = 'completed'),
                  (SELECT sum(cost) FROM requests WHERE status = 'completed')
                """);
            using var reader = command.ExecuteReader();
            reader.Read();
            var teacher = Scalar("SELECT value FROM store_info WHERE key = 'config'") is string json ? AnnotationConfig.FromJson(json, Path).Teacher : null;
            return new StoreStats(teacher, reader.GetInt32(0), reader.GetInt32(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetInt64(4),
                reader.GetInt64(5), reader.GetInt64(6), reader.GetInt64(7), reader.GetInt64(8), reader.IsDBNull(9) ? null : reader.GetDouble(9));
        }
    }

    /// <summary>
    /// Samples and kept samples over the given questions (what a run covers).
    /// </summary>
    internal (long Samples, long Kept) Count(IReadOnlyCollection<string> questionIds)
    {
        var ids = questionIds.ToHashSet(StringComparer.Ordinal);
        long samples = 0, kept = 0;
        lock (_gate)
        {
            using var command = Command("SELECT question_id, kept FROM samples");
            using var reader = command.ExecuteReader();
            while (reader.Read())
                if (ids.Contains(reader.GetString(0)))
                {
                    samples++;
                    kept += reader.GetInt64(1);
                }
        }
        return (samples, kept);
    }

    /// <summary>
    /// Every stored sample, questions in the order they were added, positions decoded. Reads through its own connection
    /// (WAL lets it run beside a writer), so the sequence can be consumed at any pace.
    /// </summary>
    public IEnumerable<StoredSample> ReadSamples(bool keptOnly)
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = Path, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        connection.Open();
        using var command = connection.CreateCommand();
        // Questions in the order they were added (the set's order), then by sample index.
        command.CommandText = "SELECT s.question_id, s.sample_index, s.text, s.kept, s.answer, s.finish_reason, s.positions " +
                              "FROM samples s JOIN questions q ON q.id = s.question_id" +
                              (keptOnly ? " WHERE s.kept = 1" : "") + " ORDER BY q.rowid, s.sample_index";
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            IReadOnlyList<TokenPosition>? positions = null;
            if (!reader.IsDBNull(6))
            {
                try
                {
                    positions = PositionsCodec.Decode((byte[])reader.GetValue(6));
                }
                catch (FormatException e)
                {
                    throw new DataFormatException(Path, $"sample ({reader.GetString(0)}, {reader.GetInt32(1)})", "positions", e.Message);
                }
            }
            yield return new StoredSample(reader.GetString(0), reader.GetInt32(1), reader.GetString(2), reader.GetInt64(3) == 1,
                reader.IsDBNull(4) ? null : reader.GetDouble(4), reader.IsDBNull(5) ? null : reader.GetString(5), positions);
        }
    }

    public void Dispose() => _connection.Dispose();

    private static string Now() => DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);

    private SqliteCommand Command(string sql, SqliteTransaction? transaction = null)
    {
        var command = _connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = transaction;
        return command;
    }

    private static void Bind(SqliteCommand command, params (string Name, object? Value)[] parameters)
    {
        foreach (var (name, value) in parameters)
        {
            if (command.Parameters.Contains(name)) command.Parameters[name].Value = value ?? DBNull.Value;
            else command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }
    }

    private void Execute(string sql, SqliteTransaction? transaction = null, params (string Name, object? Value)[] parameters)
    {
        using var command = Command(sql, transaction);
        Bind(command, parameters);
        command.ExecuteNonQuery();
    }

    // The first row a query returns, read by `read`, or default when it returns none.
    private T? Row<T>(string sql, Func<SqliteDataReader, T> read, params (string Name, object? Value)[] parameters) where T : class
    {
        using var command = Command(sql);
        Bind(command, parameters);
        using var reader = command.ExecuteReader();
        return reader.Read() ? read(reader) : null;
    }

    private object? Scalar(string sql, SqliteTransaction? transaction = null, params (string Name, object? Value)[] parameters)
    {
        using var command = Command(sql, transaction);
        Bind(command, parameters);
        var value = command.ExecuteScalar();
        return value is DBNull ? null : value;
    }
}
