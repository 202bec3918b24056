using Specialist.Models;

namespace Specialist.Teachers.Serving;

/// <summary>Runs a batch of prompts through the model (the server passes <see cref="T5Generator.Generate"/>).</summary>
internal delegate IReadOnlyList<GeneratedSequence> GenerateBatch(IReadOnlyList<IReadOnlyList<int>> prompts, GenerationOptions options);

/// <summary>
/// How one request samples; temperature 0 is greedy. Requests with equal settings and no seed share a generate call; a
/// seeded one runs alone, and its choice <c>i</c> samples from its own stream seeded from the seed and <c>i</c>.
/// </summary>
internal sealed record SamplingSettings(double Temperature, double TopP, long? Seed);

/// <summary>
/// Collects the generation work of concurrent requests and runs it together: a worker thread takes everything queued,
/// groups it by sampling settings and makes one generate call per group, with the largest <c>max_tokens</c> and top-k
/// of the group; each request's rows are then cut back to its own limits. An idle worker waits a short window after
/// the first request so that a burst arrives as one batch: the configured window or 5 % of the previous generate call,
/// whichever is longer (at most 250 ms), because clients answered together send their next requests together. A seeded
/// request runs on its own, so its output depends only on the request: libtorch's CPU kernels round differently for
/// other batch shapes (log-probs move in the sixth digit, and now and then a sampled token), so sharing a call would
/// make its samples depend on what else was in flight. With batching off, each request is its own generate call (the
/// baseline of the benchmark).
/// </summary>
internal sealed class GenerationQueue : IDisposable
{
    private sealed record Job(IReadOnlyList<int> Prompt, int Rows, int FirstChoice, SamplingSettings Sampling, int MaxTokens, int? TopLogprobs)
    {
        public TaskCompletionSource<IReadOnlyList<GeneratedSequence>> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private readonly GenerateBatch _generate;
    private readonly int _eosId;
    private readonly bool _batching;
    private readonly TimeSpan _window;
    private TimeSpan _lastCall;
    private readonly int _maxRows;
    private readonly int _maxBatchTokens;
    private static readonly TimeSpan MaxAdaptiveWindow = TimeSpan.FromMilliseconds(250);

    private readonly Queue<Job> _pending = new();
    private readonly Thread _worker;
    private bool _stopping;
    private long _generateCalls;
    private long _rowsGenerated;

    /// <param name="generate">The model's batch generation.</param>
    /// <param name="eosId">The end-of-sequence id (to tell whether a cut-back row still ended there).</param>
    /// <param name="batching">Whether concurrent requests share generate calls.</param>
    /// <param name="window">How long to wait for more requests after the first one arrives at an idle queue.</param>
    /// <param name="maxRows">The most rows (prompts × n) one generate call takes; a larger single request runs alone.</param>
    /// <param name="maxBatchTokens">
    /// The most prompt tokens (rows × longest prompt) the model encodes at once: the generator then runs a call's rows
    /// in chunks of that size, which bounds the encoder's attention memory (it grows with the prompt length squared).
    /// </param>
    public GenerationQueue(GenerateBatch generate, int eosId, bool batching, TimeSpan window, int maxRows, int maxBatchTokens = int.MaxValue)
    {
        _generate = generate;
        _eosId = eosId;
        _batching = batching;
        _window = window;
        _maxRows = Math.Max(1, maxRows);
        _maxBatchTokens = Math.Max(1, maxBatchTokens);
        _worker = new Thread(Work) { IsBackground = true, Name = "specialist-generation" };
        _worker.Start();
    }

    /// <summary>Generate calls made so far.</summary>
    public long GenerateCalls => Interlocked.Read(ref _generateCalls);

    /// <summary>Rows generated so far (each request contributes its n).</summary>
    public long RowsGenerated => Interlocked.Read(ref _rowsGenerated);

    /// <summary>
    /// Queues <paramref name="rows"/> samples of one prompt, the request's choices <paramref name="firstChoice"/> onwards
    /// (their indices pick their seeds); the result has one sequence per row, with per-position log-probs and
    /// <paramref name="topLogprobs"/> candidates when that is not null (0: the sampled tokens' only).
    /// </summary>
    public Task<IReadOnlyList<GeneratedSequence>> GenerateAsync(IReadOnlyList<int> prompt, int rows, int firstChoice, SamplingSettings sampling, int maxTokens, int? topLogprobs)
    {
        var job = new Job(prompt, rows, firstChoice, sampling, maxTokens, topLogprobs);
        lock (_pending)
        {
            if (_stopping) throw new ObjectDisposedException(nameof(GenerationQueue));
            _pending.Enqueue(job);
            Monitor.PulseAll(_pending);
        }
        return job.Result.Task;
    }

    private void Work()
    {
        while (TakeBatch() is { } batch)
        {
            // Seeded jobs get a group of their own (the job itself is the key), all others group by settings.
            var clock = System.Diagnostics.Stopwatch.StartNew();
            foreach (var group in batch.GroupBy(j => j.Sampling.Seed is null ? (object)j.Sampling : j))
                Run([.. group]);
            _lastCall = clock.Elapsed;
        }
    }

    /// <summary>Waits for work, then takes what is queued (up to the row limit); null when stopping with nothing left.</summary>
    private List<Job>? TakeBatch()
    {
        lock (_pending)
        {
            while (_pending.Count == 0 && !_stopping) Monitor.Wait(_pending);
            if (_pending.Count == 0) return null;
            if (_batching && !_stopping)
            {
                var adaptive = _lastCall * 0.05 < MaxAdaptiveWindow ? _lastCall * 0.05 : MaxAdaptiveWindow;
                var deadline = DateTime.UtcNow + (adaptive > _window ? adaptive : _window);
                while (_pending.Sum(j => j.Rows) < _maxRows && !_stopping && deadline - DateTime.UtcNow is var left && left > TimeSpan.Zero)
                    Monitor.Wait(_pending, left);
            }
            var batch = new List<Job> { _pending.Dequeue() };
            var rows = batch[0].Rows;
            while (_batching && _pending.Count > 0 && rows + _pending.Peek().Rows <= _maxRows)
            {
                rows += _pending.Peek().Rows;
                batch.Add(_pending.Dequeue());
            }
            return batch;
        }
    }

    private void Run(IReadOnlyList<Job> jobs)
    {
        try
        {
            var sampling = jobs[0].Sampling;
            var prompts = jobs.SelectMany(j => Enumerable.Repeat(j.Prompt, j.Rows)).ToList();
            var options = new GenerationOptions
            {
                MaxNewTokens = jobs.Max(j => j.MaxTokens),
                BatchSize = Math.Clamp(_maxBatchTokens / prompts.Max(p => p.Count), 1, Math.Min(prompts.Count, _maxRows)),
                Sample = sampling.Temperature > 0,
                Temperature = sampling.Temperature > 0 ? sampling.Temperature : 1.0,
                TopP = sampling.TopP,
                PromptSeeds = [.. jobs.SelectMany(j => Enumerable.Range(j.FirstChoice, j.Rows)
                    .Select(choice => j.Sampling.Seed is { } seed ? SampleStream.Derive(seed, choice) : (long?)null))],
                // The generator gives the sampled token's log-prob only alongside at least one candidate.
                TopLogprobs = jobs.Max(j => j.TopLogprobs is { } k ? Math.Max(1, k) : 0),
            };
            var sequences = _generate(prompts, options);
            Interlocked.Increment(ref _generateCalls);
            Interlocked.Add(ref _rowsGenerated, prompts.Count);
            var at = 0;
            foreach (var job in jobs)
            {
                var mine = new GeneratedSequence[job.Rows];
                for (var r = 0; r < job.Rows; r++) mine[r] = CutBack(sequences[at++], job.MaxTokens, job.TopLogprobs);
                job.Result.SetResult(mine);
            }
        }
        catch (Exception e)
        {
            foreach (var job in jobs) job.Result.TrySetException(e);
        }
    }

    /// <summary>A row of a shared call, limited to the request's own max tokens and top-k.</summary>
    private GeneratedSequence CutBack(GeneratedSequence sequence, int maxTokens, int? topLogprobs)
    {
        var tokens = sequence.Tokens;
        var finished = sequence.Finished;
        if (tokens.Count > maxTokens)
        {
            tokens = [.. tokens.Take(maxTokens)];
            finished = tokens[^1] == _eosId;
        }
        IReadOnlyList<StepLogprobs>? logprobs = null;
        if (topLogprobs is { } k && sequence.Logprobs is { } steps)
            logprobs = [.. steps.Take(tokens.Count).Select(s => s.Top.Count > k ? s with { Top = [.. s.Top.Take(k)] } : s)];
        return new GeneratedSequence(tokens, finished, logprobs);
    }

    public void Dispose()
    {
        lock (_pending)
        {
            _stopping = true;
            Monitor.PulseAll(_pending);
        }
        _worker.Join();
    }
}
