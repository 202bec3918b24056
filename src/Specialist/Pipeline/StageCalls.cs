using System.Globalization;
using Specialist.Alignment;
using Specialist.Teachers;
using Specialist.Training;

namespace Specialist.Pipeline;

/// <summary>
/// The stage bodies the miniature and the configured run share: annotating through the OpenAI-compatible client,
/// starting or resuming a training run, and describing a distillation set. Each continues from what an earlier call
/// left (see <see cref="RunStages"/>).
/// </summary>
internal static class StageCalls
{
    /// <summary>
    /// Annotates <paramref name="job"/> into the store at <paramref name="storePath"/> through the teacher at
    /// <paramref name="client"/>, reporting progress as the <c>annotate</c> stage. Work already stored is skipped; a
    /// request that still failed after its retries fails the stage (a later call retries it).
    /// </summary>
    public static async Task AnnotateAsync(string storePath, TeacherClientOptions client, AnnotationJob job, int concurrency, Action<RunEvent>? report, CancellationToken stop)
    {
        using var store = AnnotationStore.Open(storePath, create: true);
        using var teacher = new TeacherClient(client);
        var summary = await AnnotationRunner.RunAsync(store, teacher, job, concurrency,
            new SyncProgress<AnnotationProgress>(p => report?.Invoke(new RunEvent("annotate",
                $"{p.Done}/{p.Total} requests, {p.NewKept}/{p.NewSamples} samples kept, {p.TokensPerSecond:N0} tokens/s",
                (double)p.Done / Math.Max(1, p.Total), p.Done == 0 ? null : p.Elapsed / p.Done * (p.Total - p.Done)))), stop);
        if (summary.Failed > 0) throw new SpecialistException($"{summary.Failed} annotation requests failed (the first: {summary.FirstError}); run again to retry them");
        report?.Invoke(new RunEvent("annotate", string.Create(CultureInfo.InvariantCulture,
            $"{summary.Kept} of {summary.Samples} samples kept ({100 * summary.KeptRate:F1} %) in {storePath}")));
    }

    /// <summary>
    /// Whether the training run in <c>config.Out</c> has finished its <see cref="TrainingConfig.Steps"/> (known only when
    /// they are set): its committed selection names the final step.
    /// </summary>
    public static bool TrainingFinished(TrainingConfig config) =>
        config.Steps is { } steps && RunSelection.LastStep(config.Out) == steps;

    /// <summary>
    /// Starts the training run of <paramref name="config"/>, or resumes the one an earlier call began (from its latest
    /// checkpoint, or from the start when it died before the first); an interrupted run ends in
    /// <see cref="OperationCanceledException"/>.
    /// </summary>
    public static void Train(TrainingConfig config, Action<TrainingEvent>? report, CancellationToken stop)
    {
        var run = config.Out;
        var result = File.Exists(Path.Combine(run, TrainingRecipe.ConfigFileName))
            ? TrainingRecipe.Resume(run, report, stop)
            : TrainingRecipe.Start(config, report, stop);
        if (result.Interrupted) throw new OperationCanceledException("training was interrupted; run the same command again to continue");
    }

    /// <summary>A distillation set in one line: its questions, examples per format and the share of soft targets.</summary>
    public static string Describe(DistillSetManifest manifest) =>
        $"{manifest.Questions} questions, " + string.Join(", ", manifest.Formats.Select(f => $"{f.Name} {f.Examples}")) +
        (manifest.Alignment is { } a ? string.Create(CultureInfo.InvariantCulture, $"; {100.0 * a.SoftTargets / Math.Max(1, a.TargetTokens):F1} % of CoT positions have a soft target") : "");

    /// <summary>Reports progress on the calling thread (Progress&lt;T&gt; would post to the thread pool, out of order).</summary>
    private sealed class SyncProgress<T>(Action<T> handler) : IProgress<T>
    {
        public void Report(T value) => handler(value);
    }
}
