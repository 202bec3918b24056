using System.Globalization;
using System.Text.Json.Nodes;
using Specialist.Alignment;
using Specialist.Data;
using Specialist.Evaluation;
using Specialist.Models;
using Specialist.Prompts;
using Specialist.Reports;
using Specialist.Teachers;
using Specialist.Training;

namespace Specialist.Pipeline;

/// <summary>What <c>specialist run --config</c> made.</summary>
/// <param name="OutputFolder">The run folder.</param>
/// <param name="ReportPath">report.md.</param>
/// <param name="Timings">Per stage, in order.</param>
/// <param name="Before">The student's evaluation before training (<c>eval/before</c>).</param>
/// <param name="After">The best OOD checkpoint's evaluation (<c>eval/after</c>).</param>
public sealed record ConfiguredRunSummary(string OutputFolder, string ReportPath, IReadOnlyList<StageTiming> Timings, EvaluationResults Before, EvaluationResults After);

/// <summary>
/// <c>specialist run --config FILE</c>: the pipeline on a real student, teacher endpoint and data root (docs/run-config.md).
/// annotate: the teacher's chains of thought with top-k into <c>annotate/annotations.db</c>; align: the distillation set
/// from the store into <c>distill/</c>; train: the student into <c>train/</c>; eval: the student before (its folder)
/// and after (<c>train/best-ood</c>) into <c>eval/before</c> and <c>eval/after</c>; report: <c>report/report.md</c>.
/// Each stage reads what the one before wrote; a stage that finished is skipped when the run is started again, and
/// unfinished annotation and training continue where they stopped.
/// </summary>
public static class ConfiguredRun
{
    /// <summary>The stages in order.</summary>
    public static IReadOnlyList<string> Stages { get; } = ["annotate", "align", "train", "eval", "report"];

    /// <summary>Runs the stages of <paramref name="config"/> that are not done yet in <see cref="RunConfig.Out"/>.</summary>
    public static ConfiguredRunSummary Run(RunConfig config, Action<RunEvent>? report = null, CancellationToken stop = default)
    {
        var layout = new RunLayout(Path.GetFullPath(config.Out));
        var settings = config.Settings();
        using var stages = RunStages.Open(layout.Root, settings, (recorded, path) => Mismatch(layout.Root, path, recorded, settings), report, stop);

        TorchRuntime.EnsureLoaded();
        stages.Run("annotate", () => Annotate(config, layout, report, stop).GetAwaiter().GetResult());
        stages.Run("align", () => Align(config, layout, report));
        stages.Run("train", () => StageCalls.Train(config.Train with { Data = layout.Distill, Out = layout.Train }, e => TrainingProgress(report, e), stop));
        stages.Run("eval", () => Evaluate(config, layout, report));
        stages.Run("report", () =>
        {
            var written = Report.Write(new ReportInputs([layout.Train], [layout.After], [layout.Before]), layout.Report);
            report?.Invoke(new RunEvent("report", $"{written.ReportPath}: {written.Figures.Count} figures, {written.NotDrawn.Count} not drawn"));
        });
        return new ConfiguredRunSummary(layout.Root, Path.Combine(layout.Report, Report.FileName), stages.Timings,
            EvaluationResults.Read(layout.Before), EvaluationResults.Read(layout.After));
    }

    /// <summary>The teacher's samples for the train set's questions, the dev questions left out (the distillation set would leave them out too).</summary>
    private static async Task Annotate(RunConfig config, RunLayout layout, Action<RunEvent>? report, CancellationToken stop)
    {
        var teacher = config.Teacher;
        var template = teacher.PromptFile is null
            ? EvaluationPrompts.ReadPromptFile(config.DataRoot, EvaluationPrompts.TeacherFile)
            : File.ReadAllText(teacher.PromptFile);
        var data = new DataOptions(config.DataRoot);
        var selected = ProblemSets.LoadWithout(teacher.Set, config.Distill.DevSet, data).Take(teacher.Limit ?? int.MaxValue).ToList();
        var job = new AnnotationJob(teacher.Set, selected, template, teacher.Sampling(AnnotationConfig.HashPrompt(template)), teacher.Samples,
            teacher.RequestSamples, teacher.Price) { QuestionsPerRequest = teacher.QuestionsPerRequest };
        report?.Invoke(new RunEvent("annotate", $"{selected.Count} questions of {teacher.Set}, {teacher.Samples} samples each, from {teacher.Model} at {TeacherClientOptions.Redact(teacher.Endpoint)}"));
        Directory.CreateDirectory(layout.Annotate);
        var client = new TeacherClientOptions(teacher.Endpoint, Environment.GetEnvironmentVariable("OPENAI_API_KEY"), TimeSpan.FromSeconds(teacher.Timeout), teacher.MaxRetries);
        await StageCalls.AnnotateAsync(layout.Store, client, job, teacher.Concurrency, report, stop);
    }

    private static void Align(RunConfig config, RunLayout layout, Action<RunEvent>? report)
    {
        // A set folder must be new or empty: an interrupted build is started over.
        if (Directory.Exists(layout.Distill)) Directory.Delete(layout.Distill, recursive: true);
        var distill = config.Distill;
        var manifest = DistillSetBuilder.Build(
            new DistillSetRequest(layout.Distill, config.Student, layout.Store, config.DataRoot, distill.Formats, distill.BatchSizes, (ulong)config.Seed, distill.Alignment)
            {
                TrainSet = config.Teacher.Set,
                DevSet = distill.DevSet,
            },
            line => report?.Invoke(new RunEvent("align", line)));
        report?.Invoke(new RunEvent("align", StageCalls.Describe(manifest)));
    }

    private static void TrainingProgress(Action<RunEvent>? report, TrainingEvent e)
    {
        if (report is null) return;
        var fraction = (double)e.Step / Math.Max(1, e.TotalSteps);
        if (e.Eval is { } eval)
            report(new RunEvent("train", string.Create(CultureInfo.InvariantCulture,
                $"step {e.Step}: ID {100 * (eval.IdAccuracy ?? 0):F1} %, OOD mean {100 * (eval.OodMean ?? 0):F1} %"), fraction));
        else if (e.Train is { } t && (e.Step % 10 == 0 || e.Step == e.TotalSteps))
            report(new RunEvent("train", string.Create(CultureInfo.InvariantCulture, $"step {e.Step}/{e.TotalSteps} loss {t.Loss:F3}"), fraction, e.Eta));
    }

    private static void Evaluate(RunConfig config, RunLayout layout, Action<RunEvent>? report)
    {
        if (!Directory.Exists(layout.BestOod))
            throw new SpecialistException($"{layout.BestOod} is missing: the training run selected no best OOD checkpoint (see {Path.Combine(layout.Train, RunSelection.FileName)})");
        var eval = config.Eval;
        // On the device the run trains on.
        var device = TorchRuntime.ResolveDevice(config.Train.Device);
        foreach (var (label, model, folder) in new[] { ("before", config.Student, layout.Before), ("after", layout.BestOod, layout.After) })
        {
            using var evaluated = EvaluatedModel.FromFolder(model, eval.BatchSize, eval.MaxNewTokens, T5Checkpoint.ParseDType(eval.Dtype), device);
            var outcome = EvaluationRun.Run(evaluated, new EvaluationRequest(eval.Sets, config.DataRoot, eval.Prompt, eval.BbhMode, eval.Limit, folder),
                m => report?.Invoke(new RunEvent("eval", $"{label}: {m}")));
            var results = outcome.Results;
            report?.Invoke(new RunEvent("eval", string.Create(CultureInfo.InvariantCulture,
                $"{label}: math mean {(results.MathMean is { } m ? $"{100 * m:F1} %" : "-")}, BBH {(results.BbhMean is { } b ? $"{b.Description} {100 * b.Value:F1} %" : "mean -")}")));
        }
    }

    /// <summary>The refusal to continue a run folder with other settings, naming the settings that changed.</summary>
    private static string Mismatch(string output, string path, JsonNode? recorded, JsonObject settings)
    {
        static IEnumerable<string> Changed(JsonObject a, JsonObject b, string prefix)
        {
            foreach (var key in a.Select(p => p.Key).Union(b.Select(p => p.Key)))
            {
                if (a[key] is JsonObject x && b[key] is JsonObject y)
                    foreach (var inner in Changed(x, y, prefix + key + ".")) yield return inner;
                else if (a[key]?.ToJsonString() != b[key]?.ToJsonString()) yield return prefix + key;
            }
        }
        var changed = recorded is JsonObject r ? string.Join(", ", Changed(r, settings, "")) : "all";
        return $"{output} holds a run with other settings ({changed} differ from {path}): choose another out, or restore those settings to continue it";
    }
}
