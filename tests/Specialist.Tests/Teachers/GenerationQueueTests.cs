using Specialist.Models;
using Specialist.Teachers.Serving;

namespace Specialist.Tests.Teachers;

public class GenerationQueueTests
{
    private const int Eos = 1;

    /// <summary>
    /// A stand-in for the model that records each call: row r continues with prompt[0] * 1000 + step, so every row
    /// says which prompt it came from. The first call waits for <paramref name="gate"/>, so the test can queue work behind it.
    /// </summary>
    private sealed class RecordingModel(ManualResetEventSlim gate)
    {
        public List<(List<int> Prompts, GenerationOptions Options)> Calls { get; } = [];

        public IReadOnlyList<GeneratedSequence> Generate(IReadOnlyList<IReadOnlyList<int>> prompts, GenerationOptions options)
        {
            lock (Calls) Calls.Add(([.. prompts.Select(p => p[0])], options));
            gate.Wait();
            return [.. prompts.Select(p =>
            {
                var tokens = Enumerable.Range(0, options.MaxNewTokens).Select(step => p[0] * 1000 + step).ToArray();
                var logprobs = options.TopLogprobs == 0 ? null : tokens.Select(t => new StepLogprobs(new TokenLogprob(t, -1),
                    [.. Enumerable.Range(0, options.TopLogprobs).Select(k => new TokenLogprob(t + k, -1 - k))])).ToArray();
                return new GeneratedSequence(tokens, false, logprobs);
            })];
        }
    }

    private static readonly SamplingSettings Warm = new(0.5, 1.0, null);

    [Fact]
    public async Task QueuedRequestsShareOneCallPerSamplingSettingAndGetTheirOwnRowsBack()
    {
        using var gate = new ManualResetEventSlim(false);
        var model = new RecordingModel(gate);
        using var queue = new GenerationQueue(model.Generate, Eos, batching: true, TimeSpan.Zero, maxRows: 64);

        var blocker = queue.GenerateAsync([9], 1, 0, Warm, 4, null);
        SpinWait.SpinUntil(() => { lock (model.Calls) return model.Calls.Count == 1; }, TimeSpan.FromSeconds(10));
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

        // Each request gets its own rows, cut back to its own max_tokens and top-k.
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
    }

    [Fact]
    public async Task WithoutBatchingEachRequestIsItsOwnCall()
    {
        using var gate = new ManualResetEventSlim(false);
        var model = new RecordingModel(gate);
        using var queue = new GenerationQueue(model.Generate, Eos, batching: false, TimeSpan.FromMilliseconds(5), maxRows: 64);
        var blocker = queue.GenerateAsync([9], 1, 0, Warm, 2, null);
        SpinWait.SpinUntil(() => { lock (model.Calls) return model.Calls.Count == 1; }, TimeSpan.FromSeconds(10));
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
        using var queue = new GenerationQueue(model.Generate, Eos, batching: true, TimeSpan.Zero, maxRows: 64, maxBatchTokens: 10);
        var rows = await queue.GenerateAsync([3, 0, 0, 0], 5, 0, Warm, 2, null);
        Assert.Equal(5, rows.Count);
        Assert.Equal(2, model.Calls.Single().Options.BatchSize); // 2 rows × 4 tokens ≤ 10
        await queue.GenerateAsync([3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 2, 0, Warm, 2, null);
        Assert.Equal(1, model.Calls[1].Options.BatchSize); // a prompt over the budget still runs, alone
    }

    [Fact]
    public async Task AFailingCallFailsOnlyItsOwnRequests()
    {
        var calls = 0;
        using var queue = new GenerationQueue((prompts, options) =>
        {
            if (Interlocked.Increment(ref calls) == 1) throw new SpecialistException("prompt 1: token id 99999 is outside the model's vocabulary");
            return [.. prompts.Select(_ => new GeneratedSequence([7, Eos], true, null))];
        }, Eos, batching: true, TimeSpan.Zero, 64);
        var failed = await Assert.ThrowsAsync<SpecialistException>(() => queue.GenerateAsync([99999], 1, 0, Warm, 4, null));
        Assert.Contains("outside the model's vocabulary", failed.Message);
        var ok = await queue.GenerateAsync([5], 1, 0, Warm, 4, null);
        Assert.Equal([7, Eos], ok.Single().Tokens);
        Assert.True(ok.Single().Finished);
    }
}
