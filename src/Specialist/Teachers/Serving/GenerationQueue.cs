using System.Diagnostics;
using Specialist.Models;

namespace Specialist.Teachers.Serving;

/// <summary>Splits a generate call's prompts into batches that decode step by step (the server passes its model's plan, <see cref="ServedModel.Plan"/>).</summary>
internal delegate IReadOnlyList<PlannedBatch> PlanGeneration(IReadOnlyList<IReadOnlyList<int>> prompts, GenerationOptions options);

/// <summary>
/// How one request samples; temperature 0 is greedy. Requests with equal settings and no seed share a generate call; a
/// seeded one runs alone (all its prompts in one call), and its choice <c>i</c> samples from its own stream seeded from
/// the seed and <c>i</c>.
/// </summary>
internal sealed record SamplingSettings(double Temperature, double TopP, long? Seed);

/// <summary>How a request's generation ended.</summary>
internal enum GenerationOutcome
{
    /// <summary>Every row was generated.</summary>
    Completed,

    /// <summary>Its client went away (the request's cancellation token fired): its rows stopped decoding.</summary>
    Cancelled,

    /// <summary>The model failed on its call.</summary>
    Failed,

    /// <summary>The queue stopped (the server is shutting down).</summary>
    ShutDown,
}

/// <summary>A request's generation once it has ended, with the work the queue did meanwhile: what the scheduling bound speaks of.</summary>
/// <param name="Rows">Its rows (its prompts × their samples).</param>
/// <param name="MaxTokens">Its <c>max_tokens</c>.</param>
/// <param name="Steps">Decoder steps its rows ran (in the last batch that held them), up to its end.</param>
/// <param name="RowStepsWaited">
/// Row-steps (one decoder step of one row) the queue ran between the request's arrival and its end, its own included.
/// </param>
/// <param name="Outcome">How it ended.</param>
internal sealed record GenerationReport(int Rows, int MaxTokens, int Steps, long RowStepsWaited, GenerationOutcome Outcome);

/// <summary>
/// Runs the generation work of concurrent requests on one worker thread, fairly. Requests that arrive together and
/// sample alike share a generate call (one set of options; its rows decode in batches of at most <c>maxRows</c>, one
/// batch at a time); the worker runs in <em>rounds</em>: each round every call's current batch decodes one step, in the
/// order the calls started, and between rounds the calls of newly arrived requests start. A row is handed back as soon
/// as it ends or reaches its own request's <c>max_tokens</c>, not when its batch ends. So a request that needs T decoder
/// steps waits for at most T + 1 steps of each batch decoding beside it (the rest of the round it arrived in, then one
/// per round), plus the encoder pass of any batch that starts meanwhile, however long the others are: with B rows
/// decoding beside it, at most (T + 1) × B row-steps of other work. A request whose client has gone (its cancellation
/// token fires) ends before the next round's step: its rows stop decoding, and a batch left with no rows anyone waits
/// for is dropped.
/// The rows decoding at once are bounded by <c>maxActiveRows</c>: each started call holds the rows of its largest batch,
/// and waiting requests start only while their rows (at most <c>maxRows</c>) fit beside those (or when no call is
/// started), so past that budget requests wait in arrival order.
/// An idle worker waits a short window after the first request so that a burst arrives as one call: the configured
/// window or 5 % of the previous busy period, whichever is longer (at most 250 ms), because clients answered together
/// send their next requests together. A seeded request gets a call of its own, so its output depends only on the
/// request: libtorch's CPU kernels round differently for other batch shapes (log-probs move in the sixth digit, and
/// now and then a sampled token), so sharing a call would make its samples depend on what else was in flight. A client
/// that wants seeded samples and throughput sends many prompts in one request: they are one call, fixed by the request.
/// With batching off each request is its own call (the baseline of the benchmark).
/// </summary>
internal sealed class GenerationQueue : IDisposable
{
    /// <summary>One request's rows: <c>choices</c> samples of each prompt, prompt after prompt.</summary>
    private sealed class Job(IReadOnlyList<IReadOnlyList<int>> prompts, int choices, int firstChoice, SamplingSettings sampling, int maxTokens, int? topLogprobs,
        CancellationToken cancellation, long rowStepsAtArrival)
    {
        public IReadOnlyList<IReadOnlyList<int>> Prompts { get; } = prompts;
        public int Choices { get; } = choices;
        public int Rows { get; } = prompts.Count * choices;
        public int FirstChoice { get; } = firstChoice;
        public SamplingSettings Sampling { get; } = sampling;
        public int MaxTokens { get; } = maxTokens;
        public int? TopLogprobs { get; } = topLogprobs;
        public CancellationToken Cancellation { get; } = cancellation;

        /// <summary>The queue's row-steps when the job arrived.</summary>
        public long RowStepsAtArrival { get; } = rowStepsAtArrival;

        public TaskCompletionSource<IReadOnlyList<GeneratedSequence>> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Its rows' results, each set when the row is handed back.</summary>
        public GeneratedSequence[] Sequences { get; } = new GeneratedSequence[prompts.Count * choices];

        public int Unread { get; set; } = prompts.Count * choices;

        /// <summary>The prompt of row <paramref name="row"/>.</summary>
        public IReadOnlyList<int> Prompt(int row) => Prompts[row / Choices];

        public int Steps { get; set; }

        public bool Ended => Result.Task.IsCompleted;
    }

    /// <summary>Jobs that share a generate call: the call's rows (each job's rows in turn), its batches and the one decoding.</summary>
    private sealed class Call(IReadOnlyList<Job> jobs, IReadOnlyList<(Job Job, int Row)> rows, IReadOnlyList<PlannedBatch> plan)
    {
        public IReadOnlyList<Job> Jobs { get; } = jobs;

        /// <summary>Per row of the call, its job and which of the job's rows it is.</summary>
        public IReadOnlyList<(Job Job, int Row)> Rows { get; } = rows;

        public IReadOnlyList<PlannedBatch> Plan { get; } = plan;

        /// <summary>The next batch of <see cref="Plan"/> to start.</summary>
        public int Next { get; set; }

        public PlannedBatch? Planned { get; set; }

        public IDecodingBatch? Batch { get; set; }

        /// <summary>What the call holds of the active-row budget: the rows of its largest batch.</summary>
        public int Reserved { get; } = plan.Max(b => b.Rows.Count);

        public bool Over => Batch is null && (Next == Plan.Count || Jobs.All(j => j.Ended));
    }

    private readonly PlanGeneration _plan;
    private readonly bool _batching;
    private readonly TimeSpan _window;
    private readonly int _maxRows;
    private readonly int _maxBatchTokens;
    private readonly int _maxActiveRows;
    private static readonly TimeSpan MaxAdaptiveWindow = TimeSpan.FromMilliseconds(250);
    private readonly Stopwatch _busy = new();
    private TimeSpan _lastBusy;

    private readonly Queue<Job> _pending = new();
    // The worker's alone: calls in the order they started.
    private readonly List<Call> _active = [];
    private readonly Thread _worker;
    private bool _stopping;
    private int _decodingRows;
    private long _rowSteps;
    private long _generateCalls;
    private long _rowsGenerated;

    /// <param name="plan">The model's batch planning.</param>
    /// <param name="batching">Whether concurrent requests share generate calls.</param>
    /// <param name="window">How long to wait for more requests after the first one arrives at an idle queue.</param>
    /// <param name="maxRows">The most rows (prompts × n) one generate call takes; a larger single request runs alone.</param>
    /// <param name="maxBatchTokens">
    /// The most prompt tokens (rows × longest prompt) the model encodes at once: a call's rows then decode in batches of
    /// that size, which bounds the encoder's attention memory (it grows with the prompt length squared).
    /// </param>
    /// <param name="maxActiveRows">The most rows decoding at once, across calls (at least <paramref name="maxRows"/>).</param>
    public GenerationQueue(PlanGeneration plan, bool batching, TimeSpan window, int maxRows, int maxBatchTokens = int.MaxValue, int maxActiveRows = int.MaxValue)
    {
        _plan = plan;
        _batching = batching;
        _window = window;
        _maxRows = Math.Max(1, maxRows);
        _maxBatchTokens = Math.Max(1, maxBatchTokens);
        _maxActiveRows = Math.Max(_maxRows, maxActiveRows);
        _worker = new Thread(Work) { IsBackground = true, Name = "specialist-generation" };
        _worker.Start();
    }

    /// <summary>Raised on the worker thread when a request's generation ends, however it ended.</summary>
    public event Action<GenerationReport>? Ended;

    /// <summary>Generate calls made so far.</summary>
    public long GenerateCalls => Interlocked.Read(ref _generateCalls);

    /// <summary>Rows generated so far (each request contributes its n).</summary>
    public long RowsGenerated => Interlocked.Read(ref _rowsGenerated);

    /// <summary>Row-steps decoded so far: the queue's work, one decoder step of one row each.</summary>
    public long RowSteps => Interlocked.Read(ref _rowSteps);

    /// <summary>Rows of the requests waiting to start.</summary>
    public int WaitingRows
    {
        get { lock (_pending) return _pending.Sum(j => j.Rows); }
    }

    /// <summary>Rows decoding after the last round.</summary>
    public int DecodingRows => Volatile.Read(ref _decodingRows);

    /// <summary>
    /// Queues <paramref name="rows"/> samples of one prompt, the request's choices <paramref name="firstChoice"/> onwards
    /// (their indices pick their seeds); the result has one sequence per row, with per-position log-probs and
    /// <paramref name="topLogprobs"/> candidates when that is not null (0: the sampled tokens' only). When
    /// <paramref name="cancellation"/> fires the rows stop decoding and the task is cancelled; once the queue stops, it
    /// fails with a 503 <see cref="ApiException"/>.
    /// </summary>
    public Task<IReadOnlyList<GeneratedSequence>> GenerateAsync(IReadOnlyList<int> prompt, int rows, int firstChoice, SamplingSettings sampling, int maxTokens,
        int? topLogprobs, CancellationToken cancellation = default) =>
        Enqueue(new Job([prompt], rows, firstChoice, sampling, maxTokens, topLogprobs, cancellation, RowSteps));

    /// <summary>
    /// Queues <paramref name="choices"/> samples of each of <paramref name="prompts"/> as one request (choice
    /// <c>p × choices + i</c> is sample <c>i</c> of prompt <c>p</c>, and its index picks its seed): like
    /// <see cref="GenerateAsync(IReadOnlyList{int}, int, int, SamplingSettings, int, int?, CancellationToken)"/>, with
    /// the result's rows in choice order. A seeded request's prompts share one call of their own.
    /// </summary>
    public Task<IReadOnlyList<GeneratedSequence>> GenerateAsync(IReadOnlyList<IReadOnlyList<int>> prompts, int choices, SamplingSettings sampling, int maxTokens,
        int? topLogprobs, CancellationToken cancellation = default) =>
        Enqueue(new Job(prompts, choices, 0, sampling, maxTokens, topLogprobs, cancellation, RowSteps));

    private Task<IReadOnlyList<GeneratedSequence>> Enqueue(Job job)
    {
        lock (_pending)
        {
            if (_stopping) return Task.FromException<IReadOnlyList<GeneratedSequence>>(ShuttingDown());
            _pending.Enqueue(job);
            Monitor.PulseAll(_pending);
        }
        return job.Result.Task;
    }

    private void Work()
    {
        while (Admit())
        {
            // One round: every call's current batch decodes one step, in the order the calls started.
            foreach (var call in _active)
            {
                if (Volatile.Read(ref _stopping)) break;
                Advance(call);
            }
            _active.RemoveAll(call => call.Over);
            Volatile.Write(ref _decodingRows, _active.Sum(call => call.Batch?.DecodingRows ?? 0));
        }

        // Stopping: every request still decoding or waiting ends now.
        foreach (var call in _active)
        {
            foreach (var job in call.Jobs) End(job, GenerationOutcome.ShutDown);
            call.Batch?.Dispose();
        }
        _active.Clear();
        Volatile.Write(ref _decodingRows, 0);
        List<Job> waiting;
        lock (_pending)
        {
            waiting = [.. _pending];
            _pending.Clear();
        }
        foreach (var job in waiting) End(job, GenerationOutcome.ShutDown);
    }

    /// <summary>
    /// Between rounds: waits for work while nothing decodes, then starts calls for the waiting requests, in arrival
    /// order, while they fit the active-row budget; false when stopping.
    /// </summary>
    private bool Admit()
    {
        var admitted = new List<Job[]>();
        lock (_pending)
        {
            if (_active.Count == 0)
            {
                if (_busy.IsRunning) _lastBusy = _busy.Elapsed;
                while (_pending.Count == 0 && !_stopping) Monitor.Wait(_pending);
                if (_batching && !_stopping)
                {
                    var adaptive = _lastBusy * 0.05 < MaxAdaptiveWindow ? _lastBusy * 0.05 : MaxAdaptiveWindow;
                    var deadline = DateTime.UtcNow + (adaptive > _window ? adaptive : _window);
                    while (_pending.Sum(j => j.Rows) < _maxRows && !_stopping && deadline - DateTime.UtcNow is var left && left > TimeSpan.Zero)
                        Monitor.Wait(_pending, left);
                }
                _busy.Restart();
            }
            if (_stopping) return false;

            var reserved = _active.Sum(call => call.Reserved);
            while (_pending.Count > 0)
            {
                // The requests at the head of the queue that fit one call's rows; they share calls by sampling settings.
                var (count, rows) = (0, 0);
                foreach (var job in _pending)
                {
                    if (count > 0 && (!_batching || rows + job.Rows > _maxRows)) break;
                    (count, rows) = (count + 1, rows + job.Rows);
                }
                var reserve = Math.Min(rows, _maxRows);
                if (reserved > 0 && reserved + reserve > _maxActiveRows) break;
                reserved += reserve;
                admitted.Add([.. Enumerable.Range(0, count).Select(_ => _pending.Dequeue())]);
            }
        }

        foreach (var jobs in admitted)
        {
            foreach (var gone in jobs.Where(j => j.Cancellation.IsCancellationRequested)) End(gone, GenerationOutcome.Cancelled);
            // Seeded jobs get a call of their own (the job itself is the key), all others group by settings.
            foreach (var group in jobs.Where(j => !j.Ended).GroupBy(j => j.Sampling.Seed is null ? (object)j.Sampling : j))
                StartCall([.. group]);
        }
        return true;
    }

    /// <summary>Plans a generate call for jobs that sample alike: a row per sample, with the largest <c>max_tokens</c> and top-k among them.</summary>
    private void StartCall(IReadOnlyList<Job> jobs)
    {
        try
        {
            var sampling = jobs[0].Sampling;
            var rows = jobs.SelectMany(j => Enumerable.Range(0, j.Rows).Select(r => (Job: j, Row: r))).ToList();
            var prompts = rows.Select(r => r.Job.Prompt(r.Row)).ToList();
            var options = new GenerationOptions
            {
                MaxNewTokens = jobs.Max(j => j.MaxTokens),
                BatchSize = Math.Clamp(_maxBatchTokens / prompts.Max(p => p.Count), 1, Math.Min(prompts.Count, _maxRows)),
                Sample = sampling.Temperature > 0,
                Temperature = sampling.Temperature > 0 ? sampling.Temperature : 1.0,
                TopP = sampling.TopP,
                PromptSeeds = [.. rows.Select(r => r.Job.Sampling.Seed is { } seed ? SampleStream.Derive(seed, r.Job.FirstChoice + r.Row) : (long?)null)],
                // The generator gives the sampled token's log-prob only alongside at least one candidate.
                TopLogprobs = jobs.Max(j => j.TopLogprobs is { } k ? Math.Max(1, k) : 0),
            };
            _active.Add(new Call(jobs, rows, _plan(prompts, options)));
            Interlocked.Increment(ref _generateCalls);
            Interlocked.Add(ref _rowsGenerated, prompts.Count);
        }
        catch (Exception e)
        {
            foreach (var job in jobs) End(job, GenerationOutcome.Failed, e);
        }
    }

    /// <summary>The call's turn in a round: ends the jobs whose clients have gone, then decodes one step and hands back the rows that are done.</summary>
    private void Advance(Call call)
    {
        try
        {
            foreach (var job in call.Jobs)
                if (!job.Ended && job.Cancellation.IsCancellationRequested)
                {
                    job.Steps = call.Batch?.Steps ?? job.Steps;
                    End(job, GenerationOutcome.Cancelled);
                }
            if (Current(call) is not { } batch) return;
            var rows = batch.DecodingRows;
            batch.Step();
            Interlocked.Add(ref _rowSteps, rows);
            HandBack(call, batch);
            if (batch.Done)
            {
                // Now rather than at the call's next turn, so that what it holds of the budget is free for the next round.
                batch.Dispose();
                call.Batch = null;
            }
        }
        catch (Exception e)
        {
            foreach (var job in call.Jobs) End(job, GenerationOutcome.Failed, e);
            call.Batch?.Dispose();
            call.Batch = null;
        }
    }

    /// <summary>
    /// The call's batch with a step to run, after stopping the rows nobody waits for any more; the next batch starts
    /// (its encoder runs) when the current one is done. Null when the call has nothing left to decode.
    /// </summary>
    private static IDecodingBatch? Current(Call call)
    {
        while (true)
        {
            if (call.Batch is { } batch)
            {
                var rows = call.Planned!.Rows;
                batch.Stop(Enumerable.Range(0, rows.Count).Where(j => call.Rows[rows[j]].Job.Ended));
                if (!batch.Done) return batch;
                batch.Dispose();
                call.Batch = null;
            }
            if (call.Over) return null;
            var planned = call.Plan[call.Next++];
            if (planned.Rows.All(r => call.Rows[r].Job.Ended)) continue;
            call.Planned = planned;
            call.Batch = planned.Start();
        }
    }

    /// <summary>Hands back the batch's rows that are done (ended, or at their request's <c>max_tokens</c>); a request is answered once all its rows are.</summary>
    private void HandBack(Call call, IDecodingBatch batch)
    {
        var rows = call.Planned!.Rows;
        var done = Enumerable.Range(0, rows.Count).Where(j =>
        {
            var (job, row) = call.Rows[rows[j]];
            return !job.Ended && job.Sequences[row] is null && (batch.Ended(j) || batch.Steps >= job.MaxTokens);
        }).ToList();
        if (done.Count == 0) return;
        var sequences = batch.Read(done);
        batch.Stop(done);
        for (var i = 0; i < done.Count; i++)
        {
            var (job, row) = call.Rows[rows[done[i]]];
            job.Sequences[row] = WithTopLogprobs(sequences[i], job.TopLogprobs);
            job.Steps = batch.Steps;
            if (--job.Unread == 0) End(job, GenerationOutcome.Completed);
        }
    }

    /// <summary>A row of a shared call with its own request's top-k (the call ran the largest of its requests').</summary>
    private static GeneratedSequence WithTopLogprobs(GeneratedSequence sequence, int? topLogprobs) =>
        sequence with
        {
            Logprobs = topLogprobs is { } k && sequence.Logprobs is { } steps
                ? [.. steps.Select(s => s.Top.Count > k ? s with { Top = [.. s.Top.Take(k)] } : s)]
                : null,
        };

    /// <summary>Ends a job (once) and reports it.</summary>
    private void End(Job job, GenerationOutcome outcome, Exception? error = null)
    {
        var ended = outcome switch
        {
            GenerationOutcome.Completed => job.Result.TrySetResult(job.Sequences),
            GenerationOutcome.Cancelled => job.Result.TrySetCanceled(job.Cancellation),
            GenerationOutcome.Failed => job.Result.TrySetException(error!),
            _ => job.Result.TrySetException(ShuttingDown()),
        };
        if (ended) Ended?.Invoke(new GenerationReport(job.Rows, job.MaxTokens, job.Steps, RowSteps - job.RowStepsAtArrival, outcome));
    }

    private static ApiException ShuttingDown() => new(503, "the server is shutting down", null, "server_shutting_down");

    /// <summary>
    /// Stops taking work: every request waiting or decoding ends with a 503 <see cref="ApiException"/> once the worker
    /// has finished the step it is in.
    /// </summary>
    public void Stop()
    {
        lock (_pending)
        {
            _stopping = true;
            Monitor.PulseAll(_pending);
        }
    }

    /// <summary>Stops the queue (see <see cref="Stop"/>) and waits for the worker to end.</summary>
    public void Dispose()
    {
        Stop();
        _worker.Join();
    }
}
