using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Specialist.Alignment;
using Specialist.Evaluation;
using Specialist.Models;
using Specialist.Reports;
using Specialist.Teachers;

namespace Specialist.Pipeline;

/// <summary>
/// The six phenomena of the paper (METHOD.md), measured on a miniature run's files: evaluations before and after
/// specialization on the test sets, the specialization runs' dev evaluations, and the variants of one size. Writes
/// <c>phenomena.json</c> and puts the phenomena section at the top of <c>report.md</c>.
/// </summary>
internal static class MiniatureFindings
{
    /// <summary>A gain of at least this many points counts as specialization lifting math (the acceptance bar).</summary>
    private const double LiftPoints = 10;

    private sealed record Student(string Name, long Params, double MathIdBefore, double MathIdAfter, double OodBefore, double OodAfter, double GenericBefore, double GenericAfter);

    public static IReadOnlyList<Phenomenon> Write(MiniatureWorld world, RunProfile profile, ulong seed, RunLayout layout, string teacherFolder, bool teacherCached)
    {
        var idTest = MiniatureWorld.Set(MiniatureWorld.Math, "test");
        var oodTests = MiniatureWorld.OutOfDistribution.Select(s => MiniatureWorld.Set(s, "test")).ToList();
        EvaluationResults Eval(string model, string prompt) => EvaluationResults.Read(layout.Evaluation(model, prompt));
        double Id(EvaluationResults r) => r.Sets[idTest].Accuracy;
        double Ood(EvaluationResults r) => oodTests.Average(s => r.Sets[s].Accuracy);
        double Generic(EvaluationResults r) => r.BbhMean ?? 0;

        var students = profile.Students.Select(size =>
        {
            var before = Eval($"{size.Name}-generalist", "zeroshot");
            var after = Eval($"{size.Name}-specialized", "zeroshot");
            return new Student(size.Name, after.Settings.Parameters ?? 0, Id(before), Id(after), Ood(before), Ood(after), Generic(before), Generic(after));
        }).ToList();
        var variant = students.Single(s => s.Name == MiniatureRun.VariantSize(profile));
        var control = Eval($"{variant.Name}-control", "zeroshot");
        var replay = Eval($"{variant.Name}-replay", "zeroshot");
        var phenomena = new List<Phenomenon>();

        // P1: specialization lifts math CoT (and more than the same steps on the mixture do).
        var lifted = students.All(s => 100 * (s.MathIdAfter - s.MathIdBefore) >= LiftPoints);
        var beatsControl = variant.MathIdAfter > Id(control);
        phenomena.Add(new("P1", "Specialization lifts math chain-of-thought accuracy", lifted && beatsControl,
            $"ID math accuracy on {idTest} went {Join(students.Select(s => $"{Pct(s.MathIdBefore)} → {Pct(s.MathIdAfter)} ({s.Name})"))}; " +
            $"the equal-compute control ({variant.Name}, {profile.SpecializeSteps} more steps on the generalist mixture) reached {Pct(Id(control))}. " +
            (lifted && beatsControl ? $"Every size gained at least {LiftPoints:F0} points and specialization beat the control."
                : lifted ? "Every size gained at least 10 points, but the control did as well: the gain is not shown to be more than more training."
                : $"Not every size gained {LiftPoints:F0} points at this scale."),
            new JsonObject
            {
                ["set"] = idTest,
                ["min_gain_points"] = LiftPoints,
                ["gains_points"] = Obj(students.Select(s => (s.Name, (JsonNode?)Round(100 * (s.MathIdAfter - s.MathIdBefore))))),
                ["control"] = new JsonObject { ["student"] = variant.Name, ["steps"] = profile.SpecializeSteps, ["math_id"] = Round(Id(control)), ["generic"] = Round(Generic(control)) },
                ["specialized_beats_control"] = beatsControl,
            }));

        // P2: generic ability falls.
        var fell = students.All(s => s.GenericAfter < s.GenericBefore);
        phenomena.Add(new("P2", "Generic ability falls", fell,
            $"Generic (BBH-like) accuracy, the mean over {Synthetic.SyntheticTasks.GenericTaskNames.Count} tasks, went {Join(students.Select(s => $"{Pct(s.GenericBefore)} → {Pct(s.GenericAfter)} ({s.Name})"))}" +
            (fell ? " — lower after specialization for every size" : " — not lower for every size") +
            $"; replaying {profile.ReplayShare:P0} generic micro-batches during specialization ({variant.Name}) kept it at {Pct(Generic(replay))} with ID math at {Pct(Id(replay))}.",
            new JsonObject
            {
                ["generic_before"] = Obj(students.Select(s => (s.Name, (JsonNode?)Round(s.GenericBefore)))),
                ["generic_after"] = Obj(students.Select(s => (s.Name, (JsonNode?)Round(s.GenericAfter)))),
                ["replay"] = new JsonObject { ["student"] = variant.Name, ["share"] = profile.ReplayShare, ["generic"] = Round(Generic(replay)), ["math_id"] = Round(Id(replay)) },
            }));

        // P3: accuracy rises with size (log-linear).
        var (intercept, slope) = LogLinearFit(students.Select(s => ((double)s.Params, 100 * s.MathIdAfter)).ToList());
        var largest = students.MaxBy(s => s.Params)!;
        var largestBest = students.All(s => s == largest || s.MathIdAfter < largest.MathIdAfter);
        phenomena.Add(new("P3", "Accuracy rises with student size (log-linear)", slope > 0 && largestBest,
            string.Create(CultureInfo.InvariantCulture,
                $"After specialization, ID math accuracy = {intercept:F1} + {slope:F1} · log10(parameters) points over {Join(students.Select(s => $"{s.Name} {s.Params:N0} → {Pct(s.MathIdAfter)}"))}; ") +
            (largestBest ? $"the largest student ({largest.Name}) is best." : $"the largest student ({largest.Name}) is not the best at this scale."),
            new JsonObject
            {
                ["intercept_points"] = Round(intercept), ["slope_points_per_decade"] = Round(slope), ["largest_best"] = largestBest,
                ["points"] = new JsonArray([.. students.Select(s => (JsonNode?)new JsonObject { ["student"] = s.Name, ["params"] = s.Params, ["math_id_after"] = Round(s.MathIdAfter) })]),
            }));

        // P4: ID-best and OOD-best checkpoints differ.
        var runs = profile.Students.Select(s => TrainingRun.Read(layout.Student(s.Name, "specialized"))).ToList();
        var differing = runs.Where(r => r.BestId is not null && r.BestOod is not null && r.BestId.Step != r.BestOod.Step).ToList();
        phenomena.Add(new("P4", "In-distribution and out-of-distribution selection pick different checkpoints", differing.Count > 0,
            $"Over {profile.Evaluations} dev evaluations per specialization run, the ID-best and OOD-best checkpoints were " +
            Join(runs.Select(r => $"steps {r.BestId?.Step} and {r.BestOod?.Step} ({Size(r)})")) +
            (differing.Count > 0 ? $": they differ for {differing.Count} of {runs.Count} sizes." : ": the same for every size at this scale."),
            new JsonObject
            {
                ["runs"] = new JsonArray([.. runs.Select(r => (JsonNode?)new JsonObject
                {
                    ["student"] = Size(r), ["best_id_step"] = r.BestId?.Step, ["best_id_accuracy"] = Round(r.BestId?.Accuracy ?? 0),
                    ["best_ood_step"] = r.BestOod?.Step, ["best_ood_mean"] = Round(r.BestOod?.Accuracy ?? 0),
                })]),
            }));

        // P5: distribution matching converges faster than sample matching.
        var dm = runs.Single(r => Size(r) == variant.Name);
        var sm = TrainingRun.Read(layout.Student(variant.Name, "sample-matching"));
        var dmCurve = dm.Evaluations.Select(e => e.IdAccuracy).ToList();
        var smCurve = sm.Evaluations.Select(e => e.IdAccuracy).ToList();
        var faster = dmCurve.Count > 0 && smCurve.Count > 0 && dmCurve.Average() > smCurve.Average();
        phenomena.Add(new("P5", "Distribution matching converges faster than sample matching", faster,
            $"ID dev accuracy of {variant.Name} at steps {string.Join(", ", dm.Evaluations.Select(e => e.Step))}: distribution matching {string.Join(", ", dmCurve.Select(Pct))}, " +
            $"sample matching {string.Join(", ", smCurve.Select(Pct))} (means {Pct(dmCurve.DefaultIfEmpty().Average())} vs {Pct(smCurve.DefaultIfEmpty().Average())})" +
            (faster ? ": distribution matching is ahead on average." : ": distribution matching is not ahead at this scale."),
            new JsonObject
            {
                ["student"] = variant.Name,
                ["steps"] = new JsonArray([.. dm.Evaluations.Select(e => (JsonNode?)e.Step)]),
                ["distribution_id_dev"] = new JsonArray([.. dmCurve.Select(a => (JsonNode?)Round(a))]),
                ["sample_id_dev"] = new JsonArray([.. smCurve.Select(a => (JsonNode?)Round(a))]),
            }));

        // P6: in-context formats keep zero-shot ability; zero-shot-only training loses in-context ability.
        var inContext0 = variant.MathIdAfter;
        var inContext4 = Id(Eval($"{variant.Name}-specialized", "4shot"));
        var zs0 = Id(Eval($"{variant.Name}-zero-shot-only", "zeroshot"));
        var zs4 = Id(Eval($"{variant.Name}-zero-shot-only", "4shot"));
        var keeps = inContext0 >= zs0 - 0.05;
        var loses = zs4 < zs0 && zs4 < inContext4;
        phenomena.Add(new("P6", "In-context formats keep zero-shot ability; zero-shot-only training loses in-context ability", keeps && loses,
            $"{variant.Name} trained on {FormatNames(profile.SpecializeFormats)} scores {Pct(inContext0)} zero-shot and {Pct(inContext4)} 4-shot on {idTest}; trained on {FormatNames(profile.ZeroShotOnlyFormats)} only, {Pct(zs0)} zero-shot and {Pct(zs4)} 4-shot. " +
            (keeps ? "In-context training kept zero-shot ability (within 5 points)" : "In-context training did not keep zero-shot ability") + "; " +
            (loses ? "zero-shot-only training lost in-context ability." : "zero-shot-only training did not lose in-context ability at this scale."),
            new JsonObject
            {
                ["student"] = variant.Name,
                ["with_in_context"] = new JsonObject { ["formats"] = FormatNames(profile.SpecializeFormats), ["zero_shot"] = Round(inContext0), ["four_shot"] = Round(inContext4) },
                ["zero_shot_only"] = new JsonObject { ["formats"] = FormatNames(profile.ZeroShotOnlyFormats), ["zero_shot"] = Round(zs0), ["four_shot"] = Round(zs4) },
            }));

        // The rest of phenomena.json: the students, the control, the teacher and the alignment.
        var teacherEval = EvaluationResults.Read(Path.Combine(layout.Annotate, "teacher-eval"));
        StoreStats stats;
        using (var store = AnnotationStore.Open(layout.Store, create: false)) stats = store.Stats();
        DistillAlignmentInfo? alignment;
        using (var set = DistillSet.Open(layout.TeacherSet)) alignment = set.Manifest.Alignment;
        var softShare = alignment is null || alignment.TargetTokens == 0 ? 0 : (double)alignment.SoftTargets / alignment.TargetTokens;
        var teacherParams = T5Checkpoint.Inspect(teacherFolder).ParameterCount;
        var extra = new JsonObject
        {
            ["profile"] = profile.Name,
            ["seed"] = seed,
            ["students"] = new JsonArray([.. students.Select(s => (JsonNode?)new JsonObject
            {
                ["name"] = s.Name, ["params"] = s.Params, ["math_id_before"] = Round(s.MathIdBefore), ["math_id_after"] = Round(s.MathIdAfter),
                ["ood_before"] = Round(s.OodBefore), ["ood_after"] = Round(s.OodAfter),
                ["generic_before"] = Round(s.GenericBefore), ["generic_after"] = Round(s.GenericAfter),
            })]),
            ["control"] = new JsonObject { ["student"] = variant.Name, ["params"] = variant.Params, ["math_id"] = Round(Id(control)), ["ood"] = Round(Ood(control)), ["generic"] = Round(Generic(control)) },
            ["teacher"] = new JsonObject
            {
                ["params"] = teacherParams, ["trained_on"] = "math gold chains of thought only", ["steps"] = profile.TeacherSteps,
                ["math_id"] = Round(Id(teacherEval)), ["ood"] = Round(Ood(teacherEval)),
                ["samples"] = stats.Samples, ["kept"] = stats.Kept, ["kept_rate"] = Round(stats.KeptRate),
            },
            ["alignment"] = new JsonObject { ["soft_target_share"] = Round(softShare), ["soft_targets"] = alignment?.SoftTargets, ["target_tokens"] = alignment?.TargetTokens },
        };
        Phenomena.Write(layout.PhenomenaFile, phenomena, extra);

        // report.md: the miniature world and the phenomena first, then the figures and tables Report wrote.
        var teacherVocabulary = Tokenization.Tokenizers.Load(world.TeacherTokenizer).VocabularySize;
        var studentVocabulary = Tokenization.Tokenizers.Load(world.StudentTokenizer).VocabularySize;
        var reportPath = Path.Combine(layout.Report, Report.FileName);
        var md = new StringBuilder();
        md.Append("# Specialist run: the paper in miniature\n\n");
        md.Append(string.Create(CultureInfo.InvariantCulture,
            $"Profile `{profile.Name}`, seed {seed}. The world: {profile.MathTrain} in-distribution math training problems, {MiniatureWorld.OutOfDistribution.Count} out-of-distribution math splits " +
            $"({string.Join(", ", MiniatureWorld.OutOfDistribution)}), {Synthetic.SyntheticTasks.GenericTaskNames.Count} BBH-like generic tasks; {profile.MathEval} problems per math dev and test split, {profile.GenericEvalPerTask} per generic task. " +
            $"Tokenizers: both word-level, numbers digit by digit; the teacher's holds every word of the world ({teacherVocabulary} pieces), the students' the {studentVocabulary} most frequent pieces, other words spelt letter by letter, so one teacher token often becomes several student tokens.\n\n"));
        md.Append(string.Create(CultureInfo.InvariantCulture,
            $"**Teacher**: a T5 of {teacherParams:N0} parameters trained from scratch on the math gold chains of thought only (its one job is math, so its whole budget goes there; a mixture-trained teacher was not compared), {profile.TeacherSteps} steps{(teacherCached ? ", reused from the cache" : "")}. " +
            $"Its own accuracy (zero-shot, through the served endpoint): {Pct(Id(teacherEval))} on {idTest}, {Pct(Ood(teacherEval))} mean over the OOD test splits. " +
            $"It wrote {stats.Samples} chains of thought ({profile.Samples} per question, temperature {profile.SampleTemperature}, top-{profile.TopLogprobs} log-probs); {stats.Kept} ({100 * stats.KeptRate:F1} %) had the gold answer and were kept. " +
            $"After alignment, {100 * softShare:F1} % of the student's chain-of-thought target positions got a soft (teacher) target.\n\n"));
        md.Append("**Students** (T5 v1.0 shapes; generalist = the mixture of every task in the four formats, then specialization on the teacher's math chains of thought " +
                  $"({FormatNames(profile.SpecializeFormats)}) with distribution matching; " +
                  $"every size {profile.GeneralistSteps} + {profile.SpecializeSteps} optimiser steps; test-set accuracy, zero-shot chain of thought; after = the OOD-best checkpoint):\n\n");
        md.Append("| student | parameters | ID math before | ID math after | OOD mean before | OOD mean after | generic before | generic after |\n|---|---:|---:|---:|---:|---:|---:|---:|\n");
        foreach (var s in students)
            md.Append(string.Create(CultureInfo.InvariantCulture, $"| {s.Name} | {s.Params:N0} | {Pct(s.MathIdBefore)} | {Pct(s.MathIdAfter)} | {Pct(s.OodBefore)} | {Pct(s.OodAfter)} | {Pct(s.GenericBefore)} | {Pct(s.GenericAfter)} |\n"));
        md.Append(string.Create(CultureInfo.InvariantCulture, $"| {variant.Name} control (mixture) | {variant.Params:N0} | | {Pct(Id(control))} | | {Pct(Ood(control))} | | {Pct(Generic(control))} |\n"));
        md.Append(string.Create(CultureInfo.InvariantCulture, $"| {variant.Name} with {profile.ReplayShare:P0} replay | {variant.Params:N0} | | {Pct(Id(replay))} | | {Pct(Ood(replay))} | | {Pct(Generic(replay))} |\n\n"));
        md.Append("## The six phenomena\n\n");
        foreach (var p in phenomena)
            md.Append($"**{p.Id}. {p.Title}** — {(p.Observed ? "observed" : "not observed")}. {p.Sentence}\n\n");
        md.Append("The numbers behind each are in `phenomena.json`; the figures below show P3 (scaling), P2 (trade-off), P4 (training dynamics) and P5 (loss curves).\n\n");
        var rest = File.ReadAllText(reportPath);
        md.Append(rest.StartsWith("# Report\n\n", StringComparison.Ordinal) ? "## Figures and tables\n\n" + rest["# Report\n\n".Length..].Replace("\n## ", "\n### ") : rest);
        AtomicFile.WriteText(reportPath, md.ToString());
        return phenomena;
    }

    private static string Size(TrainingRun run) => run.Name.Split('-')[0];

    /// <summary>Least squares of y on log10(x).</summary>
    private static (double Intercept, double Slope) LogLinearFit(IReadOnlyList<(double X, double Y)> points)
    {
        var xs = points.Select(p => Math.Log10(p.X)).ToList();
        var mx = xs.Average();
        var my = points.Average(p => p.Y);
        var sxx = xs.Sum(x => (x - mx) * (x - mx));
        var slope = sxx == 0 ? 0 : xs.Zip(points).Sum(z => (z.First - mx) * (z.Second.Y - my)) / sxx;
        return (my - slope * mx, slope);
    }

    private static JsonObject Obj(IEnumerable<(string Key, JsonNode? Value)> entries)
    {
        var o = new JsonObject();
        foreach (var (k, v) in entries) o[k] = v;
        return o;
    }

    private static double Round(double value) => Math.Round(value, 4);
    private static string Pct(double value) => string.Create(CultureInfo.InvariantCulture, $"{100 * value:F1} %");
    private static string Join(IEnumerable<string> parts) => string.Join(", ", parts);
    private static string FormatNames(IEnumerable<Prompts.TrainingFormat> formats) => string.Join(" + ", formats.Select(DistillFormats.Name));
}
