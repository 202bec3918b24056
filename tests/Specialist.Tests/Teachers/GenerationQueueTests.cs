using Specialist.Models;
using Specialist.Teachers.Serving;

namespace Specialist.Tests.Teachers;

public class GenerationQueueTests
{
    private const int Eos = 1;

    /// <summary>
    /// A stand-in for the model that records each call and each step: row r continues with prompt[0] * 1000 + step, so
    /// every row says which prompt it came from; a prompt whose second id is positive ends with end-of-sequence at that step. Every
    /// step waits for <paramref name="gate"/>, so the test can queue work behind the step in progress.
    /// </summary>
    private sealed class RecordingModel(ManualResetEventSlim gate)
    {
        public List<(List<int> Prompts, GenerationOptions Options)> Calls { get; } = [];

        private readonly List<(int Prompt, int Rows)> _steps = [];

        /// <summary>Per step run so far: its batch's first prompt id and the rows it computed.</summary>
        public List<(int Prompt, int Rows)> Steps
        {
            get { lock (_steps) return [.. _steps]; }
        }

        public int BatchesDisposed;

        private ManualResetEventSlim Gate => gate;

        public IReadOnlyList<PlannedBatch> Plan(IReadOnlyList<IReadOnlyList<int>> prompts, GenerationOptions options)
        {
            lock (Calls) Calls.Add(([.. prompts.Select(p => p[0])], options));
            return [.. Enumerable.Range(0, prompts.Count).Chunk(options.BatchSize)
                .Select(rows => new PlannedBatch(rows, () => new Batch(this, [.. rows.Select(i => prompts[i])], options)))];
        }

        private sealed class Batch(RecordingModel model, IReadOnlyList<int>[] prompts, GenerationOptions options) : IDecodingBatch
        {
            private readonly bool[] _ended = new bool[prompts.Length];

            public int Steps { get; private set; }

            public int DecodingRows => _ended.Count(e => !e);

            public bool Done => Steps >= options.MaxNewTokens || _ended.All(e => e);

            public bool Ended(int row) => _ended[row];

            public void Step()
            {
                lock (model._steps) model._steps.Add((prompts[0][0], DecodingRows));
                model.Gate.Wait();
                Steps++;
                for (var r = 0; r < prompts.Length; r++)
                    if (EndStep(r) == Steps) _ended[r] = true;
            }

            public void Stop(IEnumerable<int> rows)
            {
                foreach (var r in rows) _ended[r] = true;
            }

            public IReadOnlyList<GeneratedSequence> Read(IReadOnlyList<int> rows) => [.. rows.Select(r =>
            {
                var ends = EndStep(r) <= Steps;
                var tokens = Enumerable.Range(0, ends ? EndStep(r) - 1 : Steps).Select(step => prompts[r][0] * 1000 + step).Concat(ends ? [Eos] : []).ToArray();
                var logprobs = options.TopLogprobs == 0 ? null : tokens.Select(t => new StepLogprobs(new TokenLogprob(t, -1),
                    [.. Enumerable.Range(0, options.TopLogprobs).Select(k => new TokenLogprob(t + k, -1 - k))])).ToArray();
                return new GeneratedSequence(tokens, ends, logprobs);
            })];

            public void Dispose() => Interlocked.Increment(ref model.BatchesDisposed);

            private int EndStep(int row) => prompts[row].Count > 1 && prompts[row][1] > 0 ? prompts[row][1] : int.MaxValue;
        }
    }

    private static readonly SamplingSettings Warm = new(0.5, 1.0, null);

    /// <summary>Collects the queue's reports as they come.</summary>
    private sealed class Reports
    {
        private readonly List<GenerationReport> _all = [];

        public Reports(GenerationQueue queue) => queue.Ended += report => { lock (_all) _all.Add(report); };

        public GenerationReport Single(Func<GenerationReport, bool> which)
        {
            SpinWait.SpinUntil(() => { lock (_all) return _all.Any(which); }, TimeSpan.FromSeconds(30));
            lock (_all) return _all.Single(which);
        }
    }

    private static void WaitForSteps(RecordingModel model, int count) =>
        Assert.True(SpinWait.SpinUntil(() => model.Steps.Count >= count, TimeSpan.FromSeconds(30)), "the worker did not step");

    [Fact]
    public async Task QueuedRequestsShareOneCallPerSamplingSettingAndGetTheirOwnRowsBack()
    {
        using var gate = new ManualResetEventSlim(false);
        var model = new RecordingModel(gate);
        using var queue = new GenerationQueue(model.Plan, batching: true, TimeSpan.Zero, maxRows: 64);

        var blocker = queue.GenerateAsync([9], 1, 0, Warm, 4, null);
        WaitForSteps(model, 1);
        // While the model is busy: four requests with the same settings (one of them seeded: a prompt's second and third choices) and a greedy one.
        var a = queue.GenerateAsync([2], 2, 0, Warm, 3, 2);
        var b = queue.GenerateAsync([3], 1, 0, Warm, 6, null);
        var c = queue.GenerateAsync([4], 3, 0, Warm, 2, 0);
        var seeded = queue.GenerateAsync([5], 2, 1, Warm with { Seed = 42 }, 2, null);
        var greedy = queue.GenerateAsync([6], 1, 0, new SamplingSettings(0, 1, null), 2, null);
        gate.Set();
        await Task.WhenAll(blocker, a, b, c, seeded, greedy);

        Assert.Equal(4, model.Calls.Count);
        var shared = model.Calls[1];
        Assert.Equal([2, 2, 3, 4, 4, 4], shared.Prompts);
        Assert.Equal(6, shared.Options.MaxNewTokens);   // the largest max_tokens of the group
        Assert.Equal(2, shared.Options.TopLogprobs);    // the largest top-k
        Assert.True(shared.Options.Sample);
        Assert.Equal(0.5, shared.Options.Temperature);
        Assert.All(shared.Options.PromptSeeds!, Assert.Null);
        // The seeded request runs alone, its rows (choices 1 and 2 here) on seeds of their own.
        Assert.Equal([5, 5], model.Calls[2].Prompts);
        Assert.Equal([SampleStream.Derive(42, 1), SampleStream.Derive(42, 2)], model.Calls[2].Options.PromptSeeds!);
        Assert.Equal([6], model.Calls[3].Prompts);
        Assert.False(model.Calls[3].Options.Sample);
        Assert.Equal(3, queue.GenerateCalls - 1);

        // Each request gets its own rows, cut at its own max_tokens and top-k.
        var rowsA = await a;
        Assert.Equal(2, rowsA.Count);
        Assert.All(rowsA, r => Assert.Equal([2000, 2001, 2002], r.Tokens));
        Assert.All(rowsA, r => Assert.All(r.Logprobs!, s => Assert.Equal(2, s.Top.Count)));
        Assert.Equal([3000, 3001, 3002, 3003, 3004, 3005], (await b).Single().Tokens);
        Assert.Null((await b).Single().Logprobs);
        var rowsC = await c;
        Assert.Equal(3, rowsC.Count);
        Assert.All(rowsC, r => Assert.Equal([4000, 4001], r.Tokens));
        // logprobs 0: the sampled tokens' log-probs without candidates.
        Assert.All(rowsC, r => Assert.All(r.Logprobs!, s => Assert.Empty(s.Top)));
        Assert.All(rowsC, r => Assert.Equal([4000, 4001], r.Logprobs!.Select(s => s.Chosen.Id)));
        // A row is handed back when it is done and then leaves its batch: the shared batch computes its 6 rows for 2 steps,
        // then a's and b's for one more, then b's alone up to its 6 tokens.
        Assert.Equal([6, 6, 3, 1, 1, 1], model.Steps.Where(s => s.Prompt == 2).Select(s => s.Rows));
    }

    [Fact]
    public async Task WithoutBatchingEachRequestIsItsOwnCall()
    {
        using var gate = new ManualResetEventSlim(false);
        var model = new RecordingModel(gate);
        using var queue = new GenerationQueue(model.Plan, batching: false, TimeSpan.FromMilliseconds(5), maxRows: 64);
        var blocker = queue.GenerateAsync([9], 1, 0, Warm, 2, null);
        WaitForSteps(model, 1);
        var rest = Enumerable.Range(2, 4).Select(p => queue.GenerateAsync([p], 2, 0, Warm, 2, null)).ToList();
        gate.Set();
        await Task.WhenAll([blocker, .. rest]);
        Assert.Equal(["9", "2 2", "3 3", "4 4", "5 5"], model.Calls.Select(c => string.Join(" ", c.Prompts)));
    }

    [Fact]
    public async Task LongPromptsAreEncodedInChunksWithinTheTokenBudget()
    {
        using var gate = new ManualResetEventSlim(true);
        var model = new RecordingModel(gate);
        using var queue = new GenerationQueue(model.Plan, batching: true, TimeSpan.Zero, maxRows: 64, maxBatchTokens: 10);
        var rows = await queue.GenerateAsync([3, 0, 0, 0], 5, 0, Warm, 2, null);
        Assert.Equal(5, rows.Count);
        Assert.Equal(2, model.Calls.Single().Options.BatchSize); // 2 rows × 4 tokens ≤ 10
        Assert.Equal([2, 2, 2, 2, 1, 1], model.Steps.Select(s => s.Rows)); // three batches, one after the other
        await queue.GenerateAsync([3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 2, 0, Warm, 2, null);
        Assert.Equal(1, model.Calls[1].Options.BatchSize); // a prompt over the budget still runs, alone
    }

    [Fact]
    public async Task AFailingCallFailsOnlyItsOwnRequests()
    {
        var calls = 0;
        using var gate = new ManualResetEventSlim(true);
        var model = new RecordingModel(gate);
        using var queue = new GenerationQueue((prompts, options) =>
        {
            if (Interlocked.Increment(ref calls) == 1) throw new SpecialistException("prompt 1: token id 99999 is outside the model's vocabulary");
            return model.Plan(prompts, options);
        }, batching: true, TimeSpan.Zero, 64);
        var failed = await Assert.ThrowsAsync<SpecialistException>(() => queue.GenerateAsync([99999], 1, 0, Warm, 4, null));
        Assert.Contains("outside the model's vocabulary", failed.Message);
        var ok = await queue.GenerateAsync([7, 2], 1, 0, Warm, 4, null);
        Assert.Equal([7000, Eos], ok.Single().Tokens);
        Assert.True(ok.Single().Finished);
    }

    [Fact]
    public async Task AShortRequestWaitsForAtMostItsStepsPlusOneOfEachBatchAhead()
    {
        using var gate = new ManualResetEventSlim(false);
        var model = new RecordingModel(gate);
        using var queue = new GenerationQueue(model.Plan, batching: true, TimeSpan.Zero, maxRows: 64);
        var reports = new Reports(queue);

        var big = queue.GenerateAsync([7], 64, 0, Warm, 1000, null);
        WaitForSteps(model, 1); // the big request's first step is running
        var small = queue.GenerateAsync([5], 1, 0, Warm, 2, null);
        gate.Set();
        Assert.Equal([5000, 5001], (await small).Single().Tokens);
        Assert.False(big.IsCompleted);

        // It arrived during the big batch's first step; that batch then ran one step per round, each before its own.
        Assert.Equal([(7, 64), (7, 64), (5, 1), (7, 64), (5, 1)], model.Steps.Take(5));
        var report = reports.Single(r => r.MaxTokens == 2);
        Assert.Equal(GenerationOutcome.Completed, report.Outcome);
        Assert.Equal(2, report.Steps);
        Assert.Equal((2 + 1) * 64 + 2 * 1, report.RowStepsWaited); // the bound, (T + 1) × rows ahead + its own T × 1, is reached here
    }

    [Fact]
    public async Task ARequestWhoseClientHasGoneStopsDecoding()
    {
        using var gate = new ManualResetEventSlim(false);
        var model = new RecordingModel(gate);
        using var queue = new GenerationQueue(model.Plan, batching: true, TimeSpan.Zero, maxRows: 64);
        var reports = new Reports(queue);
        using var client = new CancellationTokenSource();

        var big = queue.GenerateAsync([7], 64, 0, Warm, 1000, null, client.Token);
        WaitForSteps(model, 1);
        client.Cancel();
        gate.Set();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => big);
        var report = reports.Single(r => r.MaxTokens == 1000);
        Assert.Equal(GenerationOutcome.Cancelled, report.Outcome);
        Assert.Equal(1, queue.RowSteps / 64); // the step in progress when the client left, and no other
        Assert.Equal(1, model.BatchesDisposed);

        // The queue goes on with other work.
        Assert.Single(await queue.GenerateAsync([5], 1, 0, Warm, 2, null));
        Assert.Equal(64 + 2, queue.RowSteps);
    }

    [Fact]
    public async Task PastTheActiveRowBudgetRequestsWaitInArrivalOrder()
    {
        using var gate = new ManualResetEventSlim(false);
        var model = new RecordingModel(gate);
        using var queue = new GenerationQueue(model.Plan, batching: true, TimeSpan.Zero, maxRows: 64, maxActiveRows: 64);
        var full = queue.GenerateAsync([7], 64, 0, Warm, 3, null);
        WaitForSteps(model, 1);
        var next = queue.GenerateAsync([5], 1, 0, Warm, 2, null);
        gate.Set();
        await Task.WhenAll(full, next);
        Assert.Equal([(7, 64), (7, 64), (7, 64), (5, 1), (5, 1)], model.Steps);
    }

    [Fact]
    public async Task StoppingEndsEveryRequestWithA503()
    {
        using var gate = new ManualResetEventSlim(false);
        var model = new RecordingModel(gate);
        var queue = new GenerationQueue(model.Plan, batching: true, TimeSpan.Zero, maxRows: 64, maxActiveRows: 64);
        var decoding = queue.GenerateAsync([7], 64, 0, Warm, 1000, null);
        WaitForSteps(model, 1);
        var waiting = queue.GenerateAsync([5], 1, 0, Warm, 2, null);
        queue.Stop();
        gate.Set();
        queue.Dispose();
        foreach (var request in new[] { decoding, waiting, queue.GenerateAsync([5], 1, 0, Warm, 2, null) })
            Assert.Equal(503, (await Assert.ThrowsAsync<ApiException>(() => request)).Status);
        Assert.Single(model.Steps);
        Assert.Equal(1, model.BatchesDisposed);
    }
}
