using System.Diagnostics;
using System.Text.Json.Nodes;

namespace Specialist.Teachers;

/// <summary>Where a run stands, reported after every finished request.</summary>
/// <param name="Done">Requests finished this run (answered or failed).</param>
/// <param name="Total">Requests this run makes.</param>
/// <param name="Failed">Of those, failed.</param>
/// <param name="NewSamples">Samples added this run.</param>
/// <param name="NewKept">Of those, kept.</param>
/// <param name="CompletionTokens">Completion tokens received this run.</param>
/// <param name="Elapsed">Time since the run started.</param>
public sealed record AnnotationProgress(int Done, int Total, int Failed, int NewSamples, int NewKept, long CompletionTokens, TimeSpan Elapsed)
{
    /// <summary>Completion tokens per second so far.</summary>
    public double TokensPerSecond => Elapsed.TotalSeconds > 0 ? CompletionTokens / Elapsed.TotalSeconds : 0;
}

/// <summary>What a run did (<c>requested</c> … <c>failed</c> this run) and where its questions stand (<c>samples</c>, <c>kept</c>: all stored).</summary>
/// <param name="Requested">Requests this run made (work already stored is skipped).</param>
/// <param name="Completed">Of those, answered.</param>
/// <param name="Failed">Of those, failed (a later run retries them).</param>
/// <param name="NewSamples">Samples added this run.</param>
/// <param name="Samples">Samples stored for the run's questions, earlier runs included.</param>
/// <param name="Kept">Of those, kept (answer = gold).</param>
/// <param name="PromptTokens">Prompt tokens billed this run.</param>
/// <param name="CompletionTokens">Completion tokens billed this run.</param>
/// <param name="Cost">Dollars this run, when a price was given.</param>
/// <param name="Elapsed">Wall time of the run.</param>
public sealed record AnnotationSummary(
    int Requested, int Completed, int Failed, int NewSamples, long Samples, long Kept, long PromptTokens, long CompletionTokens, double? Cost, TimeSpan Elapsed)
{
    /// <summary>Kept / samples over the run's questions.</summary>
    public double KeptRate => Samples == 0 ? 0 : (double)Kept / Samples;

    /// <summary>Why the first failed request failed (the store keeps every request's reason); null when none failed.</summary>
    public string? FirstError { get; init; }
}

/// <summary>
/// Annotates a job's questions with a live teacher: plans the work missing from the store, sends it with bounded
/// concurrency, and records each answered request with its samples (scored against the gold answer) in one
/// transaction, or the failure with its reason. Running the same job again skips what is stored.
/// </summary>
public static class AnnotationRunner
{
    public static async Task<AnnotationSummary> RunAsync(
        AnnotationStore store, TeacherClient client, AnnotationJob job, int concurrency,
        IProgress<AnnotationProgress>? progress = null, CancellationToken cancellation = default)
    {
        if (concurrency < 1) throw new SpecialistException($"concurrency is {concurrency}, must be at least 1");
        job.Config.Validate();
        store.EnsureConfig(job.Config, job.PromptTemplate);
        store.AddQuestions(job.SetName, job.Problems);
        var plan = job.Plan(store.SampleIndices());
        var requests = plan.Sum(call => call.Requests.Count);
        var gold = job.Problems.ToDictionary(p => p.Id, p => p.Answer, StringComparer.Ordinal);
        var runId = store.StartRun("live", TeacherClientOptions.Redact(client.Endpoint), job.SetName, job.Config,
            job.RunParameters(new JsonObject { ["concurrency"] = concurrency }));

        var clock = Stopwatch.StartNew();
        var tally = new Tally();
        var lockTally = new object();
        progress?.Report(tally.Progress(requests, clock.Elapsed));
        try
        {
            await Parallel.ForEachAsync(plan, new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = cancellation }, async (call, token) =>
            {
                var outcome = await client.SendAsync(call, job.Config, token);
                for (var i = 0; i < call.Requests.Count; i++)
                {
                    var request = call.Requests[i];
                    AnnotationProgress snapshot;
                    if (outcome.Completion is { } answer)
                    {
                        var completion = call.Share(answer, i);
                        var scored = completion.Samples.Select(s => ScoredSample.Score(s, gold[request.QuestionId])).ToList();
                        var cost = job.Price?.Cost(completion.PromptTokens, completion.CompletionTokens);
                        var recorded = store.RecordCompleted(runId, request.Key, request.QuestionId, request.FirstSample, scored,
                            outcome.Attempts, completion.PromptTokens, completion.CompletionTokens, cost);
                        lock (lockTally)
                        {
                            tally.Completed++;
                            tally.NewSamples += recorded.NewSamples;
                            tally.NewKept += recorded.NewKept;
                            tally.PromptTokens += completion.PromptTokens;
                            tally.CompletionTokens += completion.CompletionTokens;
                            tally.Cost += cost ?? 0;
                            snapshot = tally.Progress(requests, clock.Elapsed);
                        }
                    }
                    else
                    {
                        store.RecordFailed(runId, request.Key, request.QuestionId, request.FirstSample, request.N, outcome.Error!, outcome.Attempts);
                        lock (lockTally)
                        {
                            tally.Failed++;
                            tally.FirstError ??= outcome.Error;
                            snapshot = tally.Progress(requests, clock.Elapsed);
                        }
                    }
                    progress?.Report(snapshot);
                }
            });
        }
        finally
        {
            store.FinishRun(runId, requests, tally.Completed, tally.Failed);
        }

        var (samples, kept) = store.Count([.. gold.Keys]);
        return new AnnotationSummary(requests, tally.Completed, tally.Failed, tally.NewSamples, samples, kept,
            tally.PromptTokens, tally.CompletionTokens, job.Price is null ? null : tally.Cost, clock.Elapsed) { FirstError = tally.FirstError };
    }

    private sealed class Tally
    {
        public int Completed, Failed, NewSamples, NewKept;
        public long PromptTokens, CompletionTokens;
        public double Cost;
        public string? FirstError;

        public AnnotationProgress Progress(int total, TimeSpan elapsed) =>
            new(Completed + Failed, total, Failed, NewSamples, NewKept, CompletionTokens, elapsed);
    }
}
