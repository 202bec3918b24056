using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Specialist.Alignment;
using Specialist.Data;
using Specialist.Evaluation;
using Specialist.Models;
using Specialist.Reports;
using Specialist.Teachers;
using Specialist.Training;

namespace Specialist.Pipeline;

/// <summary>
/// The six phenomena of the paper (METHOD.md), measured on a miniature run's files — evaluations before and after
/// specialization on the test sets (per item, from predictions.jsonl), the specialization runs' dev evaluations, and
/// the variants of one size — and decided by <see cref="PhenomenonRules"/>. Writes <c>phenomena.json</c> and gives the
/// section that opens <c>report.md</c>: the run settings, the teacher, the students and the phenomena.
/// </summary>
internal static class MiniatureFindings
{
    private sealed record Student(string Name, long Params, double MathIdBefore, double MathIdAfter, double OodBefore, double OodAfter, double GenericBefore, double GenericAfter);

    public static Findings Write(MiniatureWorld world, RunProfile profile, ulong seed, RunLayout layout, string teacherFolder, bool teacherCached)
    {
        var run = new MeasuredRun(profile, layout, teacherFolder);
        var phenomena = Decide(profile, layout, run);
        var numbers = Numbers(profile, seed, run);
        var section = Section(world, profile, seed, run, phenomena, teacherCached);
        if (profile.DecoderOnlyFamily)
        {
            var (comparison, markdown) = DecoderOnlyComparison(profile, run);
            numbers["decoder_only"] = comparison;
            section += markdown;
        }
        Phenomena.Write(layout.PhenomenaFile, phenomena, numbers);
        return new Findings(phenomena, section);
    }

    /// <summary>The numbers of a finished miniature run that the phenomena, <c>phenomena.json</c> and the report share.</summary>
    private sealed class MeasuredRun
    {
        public string IdTest { get; } = MiniatureWorld.Set(MiniatureWorld.Math, "test");
        public string GenericTest { get; } = MiniatureWorld.Set(MiniatureWorld.Generic, "test");
        public IReadOnlyList<string> OodTests { get; } = [.. MiniatureWorld.OutOfDistribution.Select(s => MiniatureWorld.Set(s, "test"))];
        public EvaluationFolders Evaluations { get; }
        public IReadOnlyList<Student> Students { get; }
        /// <summary>The size the comparisons (control, replay, sample matching, zero-shot only) are run on.</summary>
        public string Variant { get; }
        public long VariantParams { get; }
        public EvaluationResults Control { get; }
        public EvaluationResults Replay { get; }
        public double ControlGeneric { get; }
        public double ReplayGeneric { get; }
        public IReadOnlyList<BeforeAfter> IdPairs { get; }
        public EvaluationResults TeacherEval { get; }
        public SetAccuracy TeacherAnnotated { get; }
        public long TeacherParams { get; }
        public double BestGeneralist { get; }
        /// <summary>The teacher is worth distilling when it is at least twice as accurate as the best student before specialization.</summary>
        public bool TeacherStronger { get; }
        public StoreStats Stats { get; }
        public DistillAlignmentInfo? Alignment { get; }
        public double SoftShare { get; }

        public MeasuredRun(RunProfile profile, RunLayout layout, string teacherFolder)
        {
            Evaluations = new EvaluationFolders(layout);
            Students = [.. profile.Students.Select(size => Measure(layout, size.Name))];
            DecoderOnly = profile.DecoderOnlyFamily ? [.. profile.Students.Select(size => Measure(layout, size.DecoderOnlyName))] : [];
            Variant = MiniatureRun.VariantSize(profile);
            VariantParams = Students.Single(s => s.Name == Variant).Params;
            Control = Eval(RunLayout.Model(Variant, RunLayout.Control));
            Replay = Eval(RunLayout.Model(Variant, RunLayout.Replay));
            ControlGeneric = Generic(layout, RunLayout.Model(Variant, RunLayout.Control));
            ReplayGeneric = Generic(layout, RunLayout.Model(Variant, RunLayout.Replay));
            IdPairs = [.. profile.Students.Select(s => IdPair(s.Name))];
            DecoderOnlyIdPairs = profile.DecoderOnlyFamily ? [.. profile.Students.Select(s => IdPair(s.DecoderOnlyName))] : [];
            TeacherEval = EvaluationResults.Read(layout.TeacherEvaluation);
            TeacherAnnotated = EvaluationResults.Read(layout.TeacherAnnotatedEvaluation).Sets.Values.Single();
            TeacherParams = T5Checkpoint.Inspect(teacherFolder).ParameterCount;
            BestGeneralist = Students.Max(s => s.MathIdBefore);
            TeacherStronger = Id(TeacherEval) >= 2 * BestGeneralist;
            using (var store = AnnotationStore.Open(layout.Store, create: false)) Stats = store.Stats();
            using (var set = DistillSet.Open(layout.TeacherSet)) Alignment = set.Manifest.Alignment;
            SoftShare = Alignment is null || Alignment.TargetTokens == 0 ? 0 : (double)Alignment.SoftTargets / Alignment.TargetTokens;
        }

        /// <summary>The decoder-only family, size by size as <see cref="Students"/> (empty unless the profile trains it).</summary>
        public IReadOnlyList<Student> DecoderOnly { get; }

        /// <summary>The decoder-only family's ID test outcomes before and after, as <see cref="IdPairs"/>.</summary>
        public IReadOnlyList<BeforeAfter> DecoderOnlyIdPairs { get; }

        /// <summary>A student's zero-shot ID math test outcomes, generalist and specialized, item by item.</summary>
        private BeforeAfter IdPair(string size) => new(size,
            Evaluations.Outcomes(RunLayout.Model(size, RunLayout.Generalist), "zeroshot", [IdTest]),
            Evaluations.Outcomes(RunLayout.Model(size, RunLayout.Specialized), "zeroshot", [IdTest]));

        /// <summary>A student's zero-shot test accuracies before and after specialization.</summary>
        private Student Measure(RunLayout layout, string size)
        {
            var before = Eval(RunLayout.Model(size, RunLayout.Generalist));
            var after = Eval(RunLayout.Model(size, RunLayout.Specialized));
            var parameters = after.Settings.Parameters
                ?? throw new SpecialistException($"{Path.Combine(layout.Evaluation(RunLayout.Model(size, RunLayout.Specialized), "zeroshot"), EvaluationResults.FileName)}: settings.parameters is missing");
            return new Student(size, parameters, Id(before), Id(after), Ood(before), Ood(after),
                Generic(layout, RunLayout.Model(size, RunLayout.Generalist)), Generic(layout, RunLayout.Model(size, RunLayout.Specialized)));
        }

        /// <summary>The zero-shot evaluation of <paramref name="model"/>.</summary>
        public EvaluationResults Eval(string model) => Evaluations.Results(model, "zeroshot");
        public double Id(EvaluationResults r) => r.Sets[IdTest].Accuracy;
        public double Ood(EvaluationResults r) => OodTests.Average(s => r.Sets[s].Accuracy);
        private double Generic(RunLayout layout, string model) => Eval(model).BbhMean?.Value
            ?? throw new SpecialistException($"{Path.Combine(layout.Evaluation(model, "zeroshot"), EvaluationResults.FileName)} has no generic (bbh) results");
    }

    private static List<Phenomenon> Decide(RunProfile profile, RunLayout layout, MeasuredRun run)
    {
        var (evaluations, variant, idTest) = (run.Evaluations, run.Variant, run.IdTest);
        var phenomena = new List<Phenomenon>
        {
            PhenomenonRules.Lift(idTest, run.IdPairs, (variant, evaluations.Outcomes(RunLayout.Model(variant, RunLayout.Control), "zeroshot", [idTest]))),
        };

        var tasks = GenericTasks();
        var taskNames = tasks.Select(t => t.Task).ToList();
        var fall = PhenomenonRules.GenericFall([.. profile.Students.Select(s => new BeforeAfter(s.Name,
            evaluations.GenericOutcomes(RunLayout.Model(s.Name, RunLayout.Generalist), run.GenericTest, taskNames), evaluations.GenericOutcomes(RunLayout.Model(s.Name, RunLayout.Specialized), run.GenericTest, taskNames)))], tasks);
        // Replay is context for the reader, not part of the rule.
        var replayGeneric = run.ReplayGeneric;
        phenomena.Add(fall with
        {
            Sentence = fall.Sentence + string.Create(CultureInfo.InvariantCulture,
                $" Replaying {profile.ReplayShare:P0} generic micro-batches during specialization ({variant}) kept generic accuracy at {Pct(replayGeneric)} with ID math at {Pct(run.Id(run.Replay))}."),
            Numbers = With(fall.Numbers, "replay", new JsonObject { ["student"] = variant, ["share"] = profile.ReplayShare, ["generic"] = Round(replayGeneric), ["math_id"] = Round(run.Id(run.Replay)) }),
        });

        phenomena.Add(PhenomenonRules.Scaling(idTest, [.. run.Students.Zip(run.IdPairs, (s, p) => new SizedOutcomes(s.Name, s.Params, p.Specialized))]));

        var runs = profile.Students.Select(s => TrainingRun.Read(layout.Student(s.Name, RunLayout.Specialized))).ToList();
        phenomena.Add(PhenomenonRules.Selection([.. profile.Students.Zip(runs, (size, training) =>
        {
            var (bestId, bestOod) = training is { BestId: { } id, BestOod: { } ood } ? (id, ood)
                : throw new SpecialistException($"{Path.Combine(training.Folder, RunSelection.FileName)} names no ID-best or no OOD-best checkpoint: the run had no dev evaluation");
            var differ = bestId.Step != bestOod.Step;
            return new CheckpointSelection(size.Name, training.Evaluations.Count, (int)bestId.Step, (int)bestOod.Step,
                differ ? evaluations.Outcomes(RunLayout.Model(size.Name, RunLayout.Specialized), "zeroshot", run.OodTests) : null,
                differ ? evaluations.Outcomes(MiniatureRun.IdBestEvaluation(size.Name), "zeroshot", run.OodTests) : null);
        })]));

        var dm = runs[profile.Students.ToList().FindIndex(s => s.Name == variant)];
        var sm = TrainingRun.Read(layout.Student(variant, RunLayout.SampleMatching));
        phenomena.Add(PhenomenonRules.Convergence(variant, [.. dm.Evaluations.Select(e => new DevPoint((int)e.Step, e.IdAccuracy ?? 0))], [.. sm.Evaluations.Select(e => new DevPoint((int)e.Step, e.IdAccuracy ?? 0))]));

        phenomena.Add(PhenomenonRules.Formats(variant, idTest,
            evaluations.Outcomes(RunLayout.Model(variant, RunLayout.Specialized), "zeroshot", [idTest]), evaluations.Outcomes(RunLayout.Model(variant, RunLayout.Specialized), "4shot", [idTest]),
            evaluations.Outcomes(RunLayout.Model(variant, RunLayout.ZeroShotOnly), "zeroshot", [idTest]), evaluations.Outcomes(RunLayout.Model(variant, RunLayout.ZeroShotOnly), "4shot", [idTest])));
        return phenomena;
    }

    /// <summary>
    /// The decoder-only family against the T5 students of the same sizes: its own P1 (without a control) and P3, and per
    /// size the paired differences (decoder-only minus T5, same test items) before and after specialization and of the lifts.
    /// </summary>
    private static (JsonObject Numbers, string Markdown) DecoderOnlyComparison(RunProfile profile, MeasuredRun run)
    {
        var (idTest, pairs) = (run.IdTest, run.DecoderOnlyIdPairs);
        var lift = PhenomenonRules.Lift(idTest, pairs, null);
        var scaling = PhenomenonRules.Scaling(idTest, [.. run.DecoderOnly.Zip(pairs, (s, p) => new SizedOutcomes(s.Name, s.Params, p.Specialized))]);

        var rows = profile.Students.Select((size, i) =>
        {
            var (t5, decoder) = (run.IdPairs[i], pairs[i]);
            var before = PairedBootstrap.Estimate([decoder.Generalist, t5.Generalist], a => 100 * (a[0] - a[1]));
            var after = PairedBootstrap.Estimate([decoder.Specialized, t5.Specialized], a => 100 * (a[0] - a[1]));
            var lifts = PairedBootstrap.Estimate([decoder.Specialized, decoder.Generalist, t5.Specialized, t5.Generalist], a => 100 * (a[0] - a[1] - (a[2] - a[3])));
            return (Size: size.Name, T5: run.Students[i], Decoder: run.DecoderOnly[i], Before: before, After: after, Lifts: lifts);
        }).ToList();

        var numbers = new JsonObject
        {
            ["family"] = "qwen2: twice the T5's layers, its width and heads (half as many key/value heads), SwiGLU sized to match its parameters, tied embeddings",
            ["lift"] = new JsonObject { ["rule"] = lift.Rule, ["verdict"] = lift.VerdictText, ["numbers"] = lift.Numbers.DeepClone() },
            ["scaling"] = new JsonObject { ["rule"] = scaling.Rule, ["verdict"] = scaling.VerdictText, ["numbers"] = scaling.Numbers.DeepClone() },
            ["sizes"] = new JsonArray([.. rows.Select(r => (JsonNode?)new JsonObject
            {
                ["size"] = r.Size, ["t5_params"] = r.T5.Params, ["decoder_only_params"] = r.Decoder.Params,
                ["decoder_only"] = new JsonObject
                {
                    ["math_id_before"] = Round(r.Decoder.MathIdBefore), ["math_id_after"] = Round(r.Decoder.MathIdAfter), ["ood_before"] = Round(r.Decoder.OodBefore),
                    ["ood_after"] = Round(r.Decoder.OodAfter), ["generic_before"] = Round(r.Decoder.GenericBefore), ["generic_after"] = Round(r.Decoder.GenericAfter),
                },
                ["decoder_only_minus_t5_points"] = new JsonObject { ["before"] = r.Before.ToJson(), ["after"] = r.After.ToJson(), ["lift"] = r.Lifts.ToJson() },
            })]),
        };

        var md = new StringBuilder();
        md.Append("## Encoder-decoder against decoder-only at equal parameters\n\n");
        md.Append("Each T5 size has a decoder-only (Qwen2-shaped) counterpart of the same parameter count: twice the layers (the T5's encoder and decoder together), " +
                  "the same width and heads (half as many key/value heads, as Qwen2 groups them), a SwiGLU feed-forward sized to match, tied embeddings. It reads prompt and " +
                  "target as one sequence, is trained on the same mixture and specialized on the same teacher's chains of thought with the same steps, rate and selection. " +
                  "Cells with two numbers are T5 / decoder-only; the last three columns are decoder-only minus T5 on the same test items (ID math, paired bootstrap).\n\n");
        md.Append("| size | parameters | ID math before | ID math after | OOD mean after | generic before | difference before | difference after | difference of lifts |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        foreach (var r in rows)
            md.Append(string.Create(CultureInfo.InvariantCulture,
                $"| {r.Size} | {r.T5.Params:N0} / {r.Decoder.Params:N0} | {Pct(r.T5.MathIdBefore)} / {Pct(r.Decoder.MathIdBefore)} | {Pct(r.T5.MathIdAfter)} / {Pct(r.Decoder.MathIdAfter)} | " +
                $"{Pct(r.T5.OodAfter)} / {Pct(r.Decoder.OodAfter)} | {Pct(r.T5.GenericBefore)} / {Pct(r.Decoder.GenericBefore)} | {r.Before} | {r.After} | {r.Lifts} |\n"));
        md.Append('\n');
        foreach (var (label, p) in new[] { ("P1, decoder-only family", lift), ("P3, decoder-only family", scaling) })
            md.Append($"**{label}** — {p.VerdictText}.\n\n*Rule:* {p.Rule}\n\n{p.Sentence}\n\n");
        md.Append("These numbers are under `decoder_only` in `phenomena.json`.\n\n");
        return (numbers, md.ToString());
    }

    private static List<(string Task, double Chance)> GenericTasks() =>
        [.. Synthetic.SyntheticTasks.GenericTaskNames.Select(t => (Task: t, Chance: Synthetic.SyntheticTasks.GenericTaskChance(t)))];

    // The rest of phenomena.json: the students, the control, the teacher and the alignment.
    private static JsonObject Numbers(RunProfile profile, ulong seed, MeasuredRun run) => new()
    {
        ["profile"] = profile.Name,
        ["seed"] = seed,
        ["interval_method"] = PhenomenonRules.IntervalMethod,
        ["students"] = new JsonArray([.. run.Students.Select(s => (JsonNode?)new JsonObject
        {
            ["name"] = s.Name, ["params"] = s.Params, ["math_id_before"] = Round(s.MathIdBefore), ["math_id_after"] = Round(s.MathIdAfter),
            ["ood_before"] = Round(s.OodBefore), ["ood_after"] = Round(s.OodAfter),
            ["generic_before"] = Round(s.GenericBefore), ["generic_after"] = Round(s.GenericAfter),
        })]),
        ["control"] = new JsonObject
        {
            ["student"] = run.Variant, ["params"] = run.VariantParams, ["math_id"] = Round(run.Id(run.Control)), ["ood"] = Round(run.Ood(run.Control)),
            ["generic"] = Round(run.ControlGeneric),
        },
        // Whether the teacher came from the cache is not here: the same run must give the same file either way.
        ["teacher"] = new JsonObject
        {
            ["params"] = run.TeacherParams, ["trained_on"] = MiniatureWorld.Set(MiniatureWorld.Math, MiniatureWorld.TeacherSplit) + " gold chains of thought, disjoint from the annotated questions",
            ["steps"] = profile.TeacherSteps,
            ["math_id"] = Round(run.Id(run.TeacherEval)), ["ood"] = Round(run.Ood(run.TeacherEval)),
            ["annotated_questions"] = new JsonObject { ["problems"] = run.TeacherAnnotated.Total, ["accuracy"] = Round(run.TeacherAnnotated.Accuracy) },
            ["at_least_twice_the_best_generalist"] = run.TeacherStronger,
            ["samples"] = run.Stats.Samples, ["kept"] = run.Stats.Kept, ["kept_rate"] = Round(run.Stats.KeptRate),
        },
        ["alignment"] = new JsonObject { ["soft_target_share"] = Round(run.SoftShare), ["soft_targets"] = run.Alignment?.SoftTargets, ["target_tokens"] = run.Alignment?.TargetTokens },
    };

    // report.md opens with the miniature world and the phenomena; Report adds the figures and tables after them.
    private static string Section(MiniatureWorld world, RunProfile profile, ulong seed, MeasuredRun run, IReadOnlyList<Phenomenon> phenomena, bool teacherCached)
    {
        var (variant, students, tasks) = (run.Variant, run.Students, GenericTasks());
        var teacherVocabulary = Tokenization.Tokenizers.Load(world.TeacherTokenizer).VocabularySize;
        var studentVocabulary = Tokenization.Tokenizers.Load(world.StudentTokenizer).VocabularySize;
        var md = new StringBuilder();
        md.Append("Paths in this report are relative to the run folder. Every setting of the run is in this table, once:\n\n");
        string Row(string setting, string value) => $"| {setting} | {value} |\n";
        md.Append("| setting | value |\n|---|---|\n");
        md.Append(Row("profile, seed", $"`{profile.Name}`, {seed}"));
        md.Append(Row("world", string.Create(CultureInfo.InvariantCulture,
            $"{profile.MathTrain} in-distribution (ID) math training problems; out-of-distribution (OOD) math splits {string.Join(", ", MiniatureWorld.OutOfDistribution)}; " +
            $"{profile.MathDev} problems per math dev split and {profile.MathTest} per test split, {profile.GenericTrainPerTask} training, {profile.GenericDevPerTask} dev and {profile.GenericTestPerTask} test problems per generic task")));
        md.Append(Row("generic tasks (chance level)", string.Join(", ", tasks.Select(t => $"{t.Task} ({Pct(t.Chance)})")) +
            string.Create(CultureInfo.InvariantCulture, $"; the suite's chance level, their mean: {Pct(tasks.Average(t => t.Chance))}")));
        md.Append(Row("tokenizers", $"word-level, numbers digit by digit; the teacher's holds every word of the math problems ({teacherVocabulary} pieces), the students' the {studentVocabulary} most frequent pieces, other words spelt letter by letter"));
        md.Append(Row("teacher", string.Create(CultureInfo.InvariantCulture,
            $"T5, {run.TeacherParams:N0} parameters (width {profile.Teacher.DModel}, {profile.Teacher.Layers} + {profile.Teacher.Layers} layers), trained from scratch on the gold chains of thought of its own {profile.TeacherMathTrain} math problems (none of them annotated, dev or test), " +
            $"{profile.TeacherSteps} steps at learning rate {profile.TeacherLr}{(profile.TeacherDtype == "bf16" ? " in bf16 mixed precision" : "")}{(teacherCached ? "; reused from the cache" : "")}")));
        md.Append(Row("annotation", string.Create(CultureInfo.InvariantCulture,
            $"{profile.Samples} chains of thought per training question, temperature {profile.SampleTemperature}, top-{profile.TopLogprobs} log-probabilities; kept when the answer is right")));
        md.Append(Row("students", string.Join("; ", profile.Students.Zip(students, (size, s) =>
            string.Create(CultureInfo.InvariantCulture, $"{s.Name}: {s.Params:N0} parameters (width {size.DModel}, {size.Layers} + {size.Layers} layers)"))) + "; T5 v1.0 shapes"));
        md.Append(Row("training", string.Create(CultureInfo.InvariantCulture,
            $"generalists: {profile.GeneralistSteps} steps on the mixture of every task ({FormatNames(profile.GeneralistFormats)}); specialization: {profile.SpecializeSteps} steps on the teacher's math chains of thought " +
            $"({FormatNames(profile.SpecializeFormats)}), distribution matching; learning rate {profile.Lr}, {profile.CotBatch} examples per micro-batch; " +
            $"{profile.Evaluations} dev evaluations per run; the model kept is the OOD-best checkpoint")));
        md.Append(Row($"comparisons (on {variant})", string.Create(CultureInfo.InvariantCulture,
            $"sample matching instead of distribution matching; {FormatNames(profile.ZeroShotOnlyFormats)} only; {profile.ReplayShare:P0} generic replay; " +
            $"the equal-compute control: {profile.SpecializeSteps} more steps on the generalist mixture")));
        md.Append(Row("evaluation", $"test sets, zero-shot chain of thought (and 4-shot for P6), greedy decoding, at most {profile.MaxNewTokens} new tokens"));
        md.Append('\n');
        md.Append(string.Create(CultureInfo.InvariantCulture,
            $"**Teacher**: its own accuracy (zero-shot, greedy, through the served endpoint) is {Pct(run.Id(run.TeacherEval))} on {run.IdTest}, {Pct(run.Ood(run.TeacherEval))} mean over the OOD test splits " +
            $"and {Pct(run.TeacherAnnotated.Accuracy)} on the first {run.TeacherAnnotated.Total} of the questions it annotated, which it never trained on; "));
        md.Append(run.TeacherStronger ? $"at least twice the best generalist's {Pct(run.BestGeneralist)}. " : $"less than twice the best generalist's {Pct(run.BestGeneralist)}: a weak teacher for this world. ");
        md.Append(string.Create(CultureInfo.InvariantCulture,
            $"It wrote {run.Stats.Samples} chains of thought; {run.Stats.Kept} ({100 * run.Stats.KeptRate:F1} %) had the gold answer and were kept. " +
            $"After alignment, {100 * run.SoftShare:F1} % of the student's chain-of-thought target positions got a soft (teacher) target.\n\n"));
        md.Append("**Students**, test-set accuracy (after = the OOD-best checkpoint of specialization):\n\n");
        md.Append("| student | parameters | ID math before | ID math after | OOD mean before | OOD mean after | generic before | generic after |\n|---|---:|---:|---:|---:|---:|---:|---:|\n");
        foreach (var s in students)
            md.Append(string.Create(CultureInfo.InvariantCulture, $"| {s.Name} | {s.Params:N0} | {Pct(s.MathIdBefore)} | {Pct(s.MathIdAfter)} | {Pct(s.OodBefore)} | {Pct(s.OodAfter)} | {Pct(s.GenericBefore)} | {Pct(s.GenericAfter)} |\n"));
        md.Append(string.Create(CultureInfo.InvariantCulture, $"| {variant} control (mixture) | {run.VariantParams:N0} | | {Pct(run.Id(run.Control))} | | {Pct(run.Ood(run.Control))} | | {Pct(run.ControlGeneric)} |\n"));
        md.Append(string.Create(CultureInfo.InvariantCulture, $"| {variant} with {profile.ReplayShare:P0} replay | {run.VariantParams:N0} | | {Pct(run.Id(run.Replay))} | | {Pct(run.Ood(run.Replay))} | | {Pct(run.ReplayGeneric)} |\n\n"));
        md.Append("## The six phenomena\n\n");
        md.Append("Each phenomenon is decided by the rule stated under it, applied to this run's numbers; a verdict is *observed*, *not observed* or *inconclusive*. " +
                  PhenomenonRules.IntervalMethod + " Numbers are written as estimate [95 % interval].\n\n");
        foreach (var p in phenomena)
            md.Append($"**{p.Id}. {p.Title}** — {p.VerdictText}.\n\n*Rule:* {p.Rule}\n\n{p.Sentence}\n\n");
        md.Append("The numbers behind each are in `phenomena.json`; the figures below show P3 (scaling), P2 (trade-off), P4 (training dynamics) and P5 (loss curves).\n\n");
        return md.ToString();
    }

    /// <summary>
    /// The run's evaluation folders, each read once, and their per-item outcomes: within a stratum (a set, or a generic
    /// task) every model's outcomes follow the item order of the first folder read, so comparisons pair by problem id.
    /// </summary>
    private sealed class EvaluationFolders(RunLayout layout)
    {
        private readonly Dictionary<string, EvaluationResults> _results = new(StringComparer.Ordinal);
        private readonly Dictionary<string, IReadOnlyDictionary<string, IReadOnlyDictionary<string, bool>>> _correct = new(StringComparer.Ordinal);
        private readonly Dictionary<string, (string[] Ids, string Folder)> _items = new(StringComparer.Ordinal);

        public EvaluationResults Results(string model, string prompt) => Results(layout.Evaluation(model, prompt));

        /// <summary>One stratum per set, in the order given.</summary>
        public ItemOutcomes Outcomes(string model, string prompt, IReadOnlyList<string> sets)
        {
            var folder = layout.Evaluation(model, prompt);
            return new ItemOutcomes([.. sets.Select(set => Stratum(folder, set, Set(folder, set)))]);
        }

        /// <summary>One stratum per generic task of <paramref name="set"/>, in the order of <paramref name="tasks"/>.</summary>
        public ItemOutcomes GenericOutcomes(string model, string set, IReadOnlyList<string> tasks)
        {
            var folder = layout.Evaluation(model, "zeroshot");
            var byTask = Set(folder, set).ToLookup(p => Problem.BbhTaskOf(p.Key) ?? "", StringComparer.Ordinal);
            if (byTask.FirstOrDefault(g => !tasks.Contains(g.Key)) is { } stray)
                throw new SpecialistException($"{Path.Combine(folder, PredictionsLog.FileName)}: problem {stray.First().Key} of {set} is of no generic task ({string.Join(", ", tasks)})");
            return new ItemOutcomes([.. tasks.Select(task => Stratum(folder, $"{set}/{task}", byTask[task]))]);
        }

        private EvaluationResults Results(string folder)
        {
            if (!_results.TryGetValue(folder, out var results)) _results[folder] = results = EvaluationResults.Read(folder);
            return results;
        }

        private IReadOnlyDictionary<string, bool> Set(string folder, string set)
        {
            if (!_correct.TryGetValue(folder, out var correct)) _correct[folder] = correct = PredictionsLog.ReadCorrect(folder, Results(folder));
            return correct.GetValueOrDefault(set)
                ?? throw new SpecialistException($"{Path.Combine(folder, PredictionsLog.FileName)} has no problems of {set}: that evaluation did not cover it");
        }

        private IReadOnlyList<bool> Stratum(string folder, string stratum, IEnumerable<KeyValuePair<string, bool>> items)
        {
            var byId = items.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
            if (byId.Count == 0) throw new SpecialistException($"{Path.Combine(folder, PredictionsLog.FileName)} has no problems of {stratum}");
            if (!_items.TryGetValue(stratum, out var order)) _items[stratum] = order = ([.. byId.Keys.Order(StringComparer.Ordinal)], folder);
            if (byId.Count != order.Ids.Length || order.Ids.Any(id => !byId.ContainsKey(id)))
                throw new SpecialistException($"{Path.Combine(folder, PredictionsLog.FileName)}: the problems of {stratum} are not those of " +
                                              $"{Path.Combine(order.Folder, PredictionsLog.FileName)}, so the two cannot be compared item by item");
            return [.. order.Ids.Select(id => byId[id])];
        }
    }

    private static JsonObject With(JsonObject numbers, string key, JsonNode value)
    {
        var copy = (JsonObject)numbers.DeepClone();
        copy[key] = value;
        return copy;
    }

    private static double Round(double value) => Math.Round(value, 4);
    private static string Pct(double value) => string.Create(CultureInfo.InvariantCulture, $"{100 * value:F1} %");
    private static string FormatNames(IEnumerable<Prompts.TrainingFormat> formats) => string.Join(" + ", formats.Select(DistillFormats.Name));
}

/// <summary>A miniature run's phenomena, and the markdown that opens its report.</summary>
internal sealed record Findings(IReadOnlyList<Phenomenon> Phenomena, string ReportSection);
