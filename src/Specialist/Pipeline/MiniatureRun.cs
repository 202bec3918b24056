using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Specialist.Alignment;
using Specialist.Answers;
using Specialist.Evaluation;
using Specialist.Models;
using Specialist.Prompts;
using Specialist.Reports;
using Specialist.Teachers;
using Specialist.Teachers.Serving;
using Specialist.Tokenization;
using Specialist.Training;
using static TorchSharp.torch;

namespace Specialist.Pipeline;

/// <summary>What <c>specialist run</c> runs.</summary>
/// <param name="Profile">Sizes and budgets.</param>
/// <param name="OutputFolder">The run folder: every stage's output lands here.</param>
/// <param name="Seed">Seeds the world, the models and the data order.</param>
/// <remarks>Teachers are cached in <c>$SPECIALIST_CACHE</c>, else <c>$XDG_CACHE_HOME/specialist</c>, else <c>~/.cache/specialist</c>.</remarks>
public sealed record RunOptions(RunProfile Profile, string OutputFolder, ulong Seed);

/// <summary>Progress of a run, for displays.</summary>
/// <param name="Stage">The stage (<see cref="MiniatureRun.Stages"/> or <see cref="ConfiguredRun.Stages"/>).</param>
/// <param name="Message">What happened.</param>
/// <param name="Fraction">How much of the stage is done, when known.</param>
/// <param name="Eta">Time left in the stage at its pace so far, when known.</param>
public sealed record RunEvent(string Stage, string Message, double? Fraction = null, TimeSpan? Eta = null);

/// <summary>One stage's wall time.</summary>
/// <param name="Stage">The stage.</param>
/// <param name="Seconds">Its wall time (when it ran in an earlier call: as recorded then).</param>
/// <param name="Reused">Whether this call found it done and skipped it.</param>
public sealed record StageTiming(string Stage, double Seconds, bool Reused);

/// <summary>What a run made.</summary>
/// <param name="OutputFolder">The run folder.</param>
/// <param name="ReportPath">report.md.</param>
/// <param name="PhenomenaPath">phenomena.json.</param>
/// <param name="TeacherFolder">The teacher used.</param>
/// <param name="TeacherCached">Whether the teacher came from the cache.</param>
/// <param name="Timings">Per stage, in order.</param>
/// <param name="Phenomena">The six phenomena as measured.</param>
public sealed record RunSummary(string OutputFolder, string ReportPath, string PhenomenaPath, string TeacherFolder, bool TeacherCached,
    IReadOnlyList<StageTiming> Timings, IReadOnlyList<Phenomenon> Phenomena);

/// <summary>
/// <c>specialist run</c>: the paper in miniature, offline. It makes a world (synthetic tasks, two tokenizers), trains
/// or reuses a teacher, serves it on 127.0.0.1 and annotates through the OpenAI-compatible client, aligns the teacher's
/// top-k to the student tokenizer into distillation sets, trains generalist students of several sizes and specializes
/// them (distribution matching; sample matching, zero-shot formats only, generic replay and an equal-compute control on
/// one size), evaluates before and after, and writes the report with the six phenomena. Each stage reads the files
/// the previous one wrote in the run folder; a stage that finished is skipped when the same run is started again.
/// </summary>
public static class MiniatureRun
{
    /// <summary>The stages in order.</summary>
    public static IReadOnlyList<string> Stages { get; } = ["world", "teacher", "annotate", "align", "students", "eval", "report"];

    /// <summary>
    /// The size that also gets the comparison variants (sample matching, zero-shot only, replay, control): the smallest,
    /// the cheapest to train four more times.
    /// </summary>
    internal static string VariantSize(RunProfile profile) => profile.Students[0].Name;

    // Tiny models decode at a cost per step that barely grows with the batch, and finished rows leave it: large batches.
    // 128 rather than 256: as fast here (8.7 s against 9.7 s for the six dev sets of the largest student) and its encoder
    // attention over few-shot prompts takes 0.95 GB instead of 1.4, with two runs evaluating at once.
    private const int EvalBatch = 128;
    private static readonly string GenericDev = MiniatureWorld.Set(MiniatureWorld.Generic, "dev");

    public static async Task<RunSummary> RunAsync(RunOptions options, Action<RunEvent>? report = null, CancellationToken stop = default)
    {
        var profile = options.Profile;
        var seed = options.Seed;
        var output = Path.GetFullPath(options.OutputFolder);
        // A run folder belongs to one profile and seed.
        var identity = new JsonObject { ["profile"] = profile.Name, ["seed"] = seed };
        if (profile.DecoderOnlyFamily) identity["decoder_only"] = true;
        using var stages = RunStages.Open(output, identity,
            (recorded, path) => $"{output} holds a run with {recorded?.ToJsonString()} ({path}); choose another --out, or the same --profile and --seed to continue it",
            report, stop);

        TorchRuntime.EnsureLoaded();
        var layout = new RunLayout(output);
        MiniatureWorld world = MiniatureWorld.Open(layout.World);
        // The world and its teacher are the same for every run seed: seeds vary the students, their data order and the annotation.
        stages.Run("world", () => world = MiniatureWorld.Build(layout.World, profile, RunProfile.WorldSeed));

        var cacheRoot = MiniatureTeacher.CacheRoot();
        var teacherFolder = MiniatureTeacher.Folder(cacheRoot, world, profile);
        var teacherCached = MiniatureTeacher.IsComplete(teacherFolder);
        stages.Run("teacher", () =>
        {
            using var cacheLock = MiniatureTeacher.Lock(teacherFolder, () => report?.Invoke(new RunEvent("teacher", "waiting for another run that is training this teacher")), stop);
            teacherCached = MiniatureTeacher.IsComplete(teacherFolder);
            if (teacherCached)
            {
                MiniatureTeacher.RemoveBuildLeftovers(teacherFolder);
                report?.Invoke(new RunEvent("teacher", $"reusing the cached teacher {teacherFolder}", 1));
                return;
            }
            var clock = Stopwatch.StartNew();
            MiniatureTeacher.Train(world, profile, RunProfile.WorldSeed, teacherFolder, e => Progress(report, "teacher", "training", e), stop);
            report?.Invoke(new RunEvent("teacher", $"trained in {clock.Elapsed.TotalSeconds:F0} s and cached in {teacherFolder}"));
        });
        if (!MiniatureTeacher.IsComplete(teacherFolder))
            throw new SpecialistException($"the teacher {teacherFolder} is missing (the cache was cleared?): delete {Path.Combine(output, RunStages.StagesFileName)} to train it again");

        stages.Run("annotate", () => Annotate(world, profile, seed, teacherFolder, layout, report, stop).GetAwaiter().GetResult());
        stages.Run("align", () => BuildDistillSets(world, profile, seed, layout, report));

        stages.Run("students", () => TrainStudents(TrainingJobs(world, profile, seed, layout), profile, report, stop));
        stages.Run("eval", () => Evaluate(world, profile, layout, report));

        IReadOnlyList<Phenomenon> phenomena = [];
        stages.Run("report", () => phenomena = WriteReport(world, profile, seed, layout, teacherFolder, teacherCached));
        if (phenomena.Count == 0) phenomena = Phenomena.Read(layout.PhenomenaFile);
        return new RunSummary(output, Path.Combine(layout.Report, Report.FileName), layout.PhenomenaFile, teacherFolder, teacherCached, stages.Timings, phenomena);
    }

    // --- Annotate: the teacher behind `serve`, asked through the same client as a real teacher.

    private static async Task Annotate(MiniatureWorld world, RunProfile profile, ulong seed, string teacherFolder, RunLayout layout, Action<RunEvent>? report, CancellationToken stop)
    {
        Directory.CreateDirectory(layout.Annotate);
        await using var server = await TeacherServer.StartAsync(new ServeOptions
        {
            ModelDirectory = teacherFolder, Host = "127.0.0.1", Port = 0, ModelName = "miniature-teacher",
            MaxBatchRows = 128, MaxBatchTokens = 65_536,
        }, stop);
        report?.Invoke(new RunEvent("annotate", $"serving the teacher ({server.Parameters:N0} parameters) at {server.Url}"));
        var endpoint = new Uri(server.Url, "v1");
        var clientOptions = new TeacherClientOptions(endpoint, null, TimeSpan.FromMinutes(5), 3);

        // The teacher's own accuracy, through the endpoint like any API model: on the test sets, and on as many of the
        // questions it annotates (greedy; never seen in its training either).
        using (var asked = EvaluatedModel.FromEndpoint(clientOptions, server.ModelName, TeacherApi.Completions, profile.MaxNewTokens, concurrency: 64))
        {
            EvaluationRun.Run(asked, new EvaluationRequest([MiniatureWorld.Set(MiniatureWorld.Math, "test"), .. MiniatureWorld.OutOfDistribution.Select(s => MiniatureWorld.Set(s, "test"))],
                world.Root, "zeroshot", BbhMode.Cot, null, layout.TeacherEvaluation), m => report?.Invoke(new RunEvent("annotate", "teacher eval: " + m)));
            EvaluationRun.Run(asked, new EvaluationRequest([MiniatureWorld.Set(MiniatureWorld.Math, "train")], world.Root, "zeroshot", BbhMode.Cot, profile.MathTest,
                layout.TeacherAnnotatedEvaluation), m => report?.Invoke(new RunEvent("annotate", "teacher eval (annotated questions): " + m)));
        }

        var template = File.ReadAllText(world.TeacherPrompt);
        var config = new AnnotationConfig(server.ModelName, TeacherApi.Completions, AnnotationConfig.HashPrompt(template), profile.SampleTemperature, 1.0,
            profile.MaxNewTokens, profile.TopLogprobs, [], (long)seed);
        var trainSet = MiniatureWorld.Set(MiniatureWorld.Math, "train");
        var problems = Data.ProblemSets.Load(trainSet, new Data.DataOptions(world.Root));
        // Seeded requests decode alone at the server, so the questions go in fixed groups that fill its batches.
        var job = new AnnotationJob(trainSet, problems, template, config, profile.Samples, profile.Samples, null)
        {
            QuestionsPerRequest = Math.Max(1, 64 / profile.Samples),
        };
        await StageCalls.AnnotateAsync(layout.Store, clientOptions, job, concurrency: 2, report, stop);
    }

    // --- Align: distillation sets for the students (all share the student tokenizer).

    private static void BuildDistillSets(MiniatureWorld world, RunProfile profile, ulong seed, RunLayout layout, Action<RunEvent>? report)
    {
        // A set is encoded for a student folder; every student of a family shares the tokenizer, so one untrained folder serves.
        var reference = Path.Combine(layout.Distill, "student-tokenizer");
        var vocabulary = Tokenizers.Load(world.StudentTokenizer).VocabularySize;
        WriteStudent(world, StudentConfig(profile, profile.Students[0], vocabulary, decoderOnly: false), reference, seed);
        // Answer-only targets are short: zero-shot ones take twice the examples; in-context ones are as long as CoT ones on the encoder side.
        var sizes = DistillFormats.All.ToDictionary(f => f, f => f == TrainingFormat.ZeroShotAnswerOnly ? 2 * profile.CotBatch : profile.CotBatch);
        void Build(string folder, string? store, string trainSet, IReadOnlyList<TrainingFormat> formats, string? student = null)
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
            var manifest = DistillSetBuilder.Build(new DistillSetRequest(folder, student ?? reference, store, world.Root, formats, sizes, seed, new AlignmentOptions())
            {
                TrainSet = trainSet,
                DevSet = null,
            });
            report?.Invoke(new RunEvent("align", $"{Path.GetFileName(folder)}: {StageCalls.Describe(manifest)}"));
        }
        // The mixture (generalists, control) and the generic replay set in the generalists' formats; the teacher's set in the formats specialization trains.
        var generalist = profile.GeneralistFormats;
        Build(layout.MixtureSet, null, MiniatureWorld.Mixture, generalist);
        Build(layout.TeacherSet, layout.Store, MiniatureWorld.Set(MiniatureWorld.Math, "train"), profile.SpecializeFormats);
        Build(layout.GenericSet, null, MiniatureWorld.Set(MiniatureWorld.Generic, "train"), generalist);
        if (!profile.DecoderOnlyFamily) return;
        var decoderOnly = Path.Combine(layout.Distill, "student-tokenizer-decoder-only");
        WriteStudent(world, StudentConfig(profile, profile.Students[0], vocabulary, decoderOnly: true), decoderOnly, seed);
        Build(layout.DecoderOnlyMixtureSet, null, MiniatureWorld.Mixture, generalist, decoderOnly);
        Build(layout.DecoderOnlyTeacherSet, layout.Store, MiniatureWorld.Set(MiniatureWorld.Math, "train"), profile.SpecializeFormats, decoderOnly);
    }

    /// <summary>A student size's model: its T5 shape, or its decoder-only counterpart of as many parameters.</summary>
    private static IModelConfig StudentConfig(RunProfile profile, StudentSize size, int vocabulary, bool decoderOnly) =>
        decoderOnly ? size.DecoderOnlyConfig(vocabulary, profile.MaxSourceLength + profile.MaxTargetLength) : size.Config(vocabulary);

    private static void WriteStudent(MiniatureWorld world, IModelConfig config, string folder, ulong seed) =>
        StudentModel.WriteRandom(config, folder, world.StudentTokenizer, (long)seed);

    // --- Students: generalists, their specializations and the comparisons, one schedule.

    /// <summary>
    /// A training run of the plan: the student (size name and model), the run whose last checkpoint it starts from (null:
    /// a new student), its config, and its relative cost (d_model² × layers × steps, doubled for decoder-only) for scheduling.
    /// </summary>
    internal sealed record TrainingJob(string Name, string Size, IModelConfig Model, TrainingJob? After, TrainingConfig Config, long Cost);

    internal static IReadOnlyList<TrainingJob> TrainingJobs(MiniatureWorld world, RunProfile profile, ulong seed, RunLayout layout)
    {
        var id = MiniatureWorld.Set(MiniatureWorld.Math, "dev");
        var ood = MiniatureWorld.OutOfDistribution.Select(s => MiniatureWorld.Set(s, "dev")).ToList();
        var generic = MiniatureWorld.Set(MiniatureWorld.Generic, "dev");
        var common = new TrainingConfig
        {
            DataRoot = world.Root, Seed = (long)seed, Threads = 1, Lr = profile.Lr, Warmup = 100, Schedule = ScheduleKind.Cosine,
            MaxSourceLen = profile.MaxSourceLength, MaxTargetLen = profile.MaxTargetLength, EvalPrompt = "zeroshot",
            EvalMaxNewTokens = profile.MaxNewTokens, EvalBatchSize = EvalBatch, KeepLast = 1, IdSet = id,
            EvalSets = [id, .. ood, generic], OodSets = ood, LengthPieces = profile.LengthPieces,
        };
        var vocabulary = Tokenizers.Load(world.StudentTokenizer).VocabularySize;
        var jobs = new List<TrainingJob>();
        foreach (var size in profile.Students)
            foreach (var decoderOnly in profile.DecoderOnlyFamily ? [false, true] : new[] { false })
            {
                // A decoder-only student reads prompt and target as one sequence: about twice the work per example.
                var cost = (long)size.DModel * size.DModel * size.Layers * (decoderOnly ? 2 : 1);
                var name = decoderOnly ? size.DecoderOnlyName : size.Name;
                var model = StudentConfig(profile, size, vocabulary, decoderOnly);
                var generalist = layout.Student(name, RunLayout.Generalist);
                var first = new TrainingJob(RunLayout.Generalist, name, model, null, common with
                {
                    Student = layout.Student(name, "init"), Data = decoderOnly ? layout.DecoderOnlyMixtureSet : layout.MixtureSet, Out = generalist,
                    Steps = profile.GeneralistSteps, EvalEvery = 0, SaveEvery = profile.SaveEvery(profile.GeneralistSteps),
                }, cost * profile.GeneralistSteps);
                jobs.Add(first);
                var from = Path.Combine(generalist, RunCheckpoints.RelativePath(profile.GeneralistSteps));
                var specialize = common with
                {
                    Student = from, Data = decoderOnly ? layout.DecoderOnlyTeacherSet : layout.TeacherSet, Formats = [.. profile.SpecializeFormats.Select(DistillFormats.Name)],
                    Steps = profile.SpecializeSteps, Loss = LossKind.Distribution, EvalEvery = Math.Max(1, profile.SpecializeSteps / profile.Evaluations), Warmup = 50,
                };
                jobs.Add(new(RunLayout.Specialized, name, model, first, specialize with { Out = layout.Student(name, RunLayout.Specialized) }, cost * profile.SpecializeSteps));
                // The comparisons are made on the smallest T5 only.
                if (decoderOnly || size.Name != VariantSize(profile)) continue;
                jobs.Add(new(RunLayout.SampleMatching, name, model, first, specialize with { Out = layout.Student(name, RunLayout.SampleMatching), Loss = LossKind.Sample }, cost * profile.SpecializeSteps));
                jobs.Add(new(RunLayout.ZeroShotOnly, name, model, first, specialize with
                {
                    Out = layout.Student(name, RunLayout.ZeroShotOnly), Formats = [.. profile.ZeroShotOnlyFormats.Select(DistillFormats.Name)],
                }, cost * profile.SpecializeSteps / 2));
                jobs.Add(new(RunLayout.Replay, name, model, first, specialize with { Out = layout.Student(name, RunLayout.Replay), Replay = layout.GenericSet, ReplayShare = profile.ReplayShare }, cost * profile.SpecializeSteps));
                jobs.Add(new(RunLayout.Control, name, model, first, specialize with { Out = layout.Student(name, RunLayout.Control), Data = layout.MixtureSet, Formats = [], Loss = LossKind.Sample }, cost * profile.SpecializeSteps));
            }
        return jobs;
    }

    /// <summary>
    /// Runs training jobs, up to <see cref="RunProfile.Parallel"/> at once (each on one libtorch thread): a free worker
    /// takes the first job in order whose starting point is trained (<see cref="JobSchedule"/>), so a size's
    /// specializations start as soon as its generalist is done and no core waits for the slowest generalist. Each job
    /// computes the same whatever runs beside it. A job that finished is skipped; one that was interrupted resumes from
    /// its last checkpoint.
    /// </summary>
    private static void TrainStudents(IReadOnlyList<TrainingJob> jobs, RunProfile profile, Action<RunEvent>? report, CancellationToken stop)
    {
        var total = jobs.Sum(j => j.Config.Steps ?? 0);
        long done = 0;
        var clock = Stopwatch.StartNew();
        var progressLock = new object();
        void OnEvent(TrainingJob job, TrainingEvent e)
        {
            lock (progressLock)
            {
                if (e.Train is not null) done++;
                var fraction = (double)done / Math.Max(1, total);
                var eta = done == 0 ? (TimeSpan?)null : clock.Elapsed / fraction * (1 - fraction);
                var label = $"{job.Size}/{job.Name}";
                if (e.Eval is { } eval)
                    report?.Invoke(new RunEvent("students", string.Create(CultureInfo.InvariantCulture,
                        $"{label} step {e.Step}: ID {100 * (eval.IdAccuracy ?? 0):F1} %, OOD mean {100 * (eval.OodMean ?? 0):F1} %, generic {100 * eval.Accuracy.GetValueOrDefault(GenericDev):F1} %"), fraction, eta));
                else if (e.Train is { } t && (e.Step % 25 == 0 || e.Step == e.TotalSteps))
                    report?.Invoke(new RunEvent("students", string.Create(CultureInfo.InvariantCulture, $"{label} step {e.Step}/{e.TotalSteps} loss {t.Loss:F3}"), fraction, eta));
            }
        }
        JobSchedule.Run(TrainingOrder(jobs), j => j.After, profile.Parallel, (job, token) => TrainOne(job, e => OnEvent(job, e), token), stop);
    }

    /// <summary>
    /// The order the workers take the jobs in: first those that unlock the most work (their own cost and their
    /// followers'), so the smallest size's generalist, which five runs wait for, starts at once; ties by their own cost.
    /// </summary>
    internal static IReadOnlyList<TrainingJob> TrainingOrder(IReadOnlyList<TrainingJob> jobs) =>
        [.. jobs.OrderByDescending(j => j.Cost + jobs.Where(f => f.After == j).Sum(f => f.Cost)).ThenByDescending(j => j.Cost)];

    private static void TrainOne(TrainingJob job, Action<TrainingEvent> report, CancellationToken stop)
    {
        if (StageCalls.TrainingFinished(job.Config)) return;
        // Written whole or not at all: a folder with a config but without its weights or tokenizer would never be rewritten.
        if (job.After is null && !Directory.Exists(job.Config.Student))
            AtomicFolder.Write(job.Config.Student, folder => WriteStudent(MiniatureWorld.Open(job.Config.DataRoot), job.Model, folder, unchecked((ulong)job.Config.Seed)));
        StageCalls.Train(job.Config, report, stop);
    }

    // --- Eval: test sets before and after, zero-shot; 4-shot too for the in-context comparison.

    private static void Evaluate(MiniatureWorld world, RunProfile profile, RunLayout layout, Action<RunEvent>? report)
    {
        var math = new[] { MiniatureWorld.Set(MiniatureWorld.Math, "test") }.Concat(MiniatureWorld.OutOfDistribution.Select(s => MiniatureWorld.Set(s, "test"))).ToList();
        var everything = math.Append(MiniatureWorld.Set(MiniatureWorld.Generic, "test")).ToList();
        var work = new List<(string Model, string Folder, string Prompt, IReadOnlyList<string> Sets)>();
        foreach (var size in profile.Students)
        {
            work.Add((RunLayout.Model(size.Name, RunLayout.Generalist), GeneralistCheckpoint(layout, size.Name, profile), "zeroshot", everything));
            work.Add((RunLayout.Model(size.Name, RunLayout.Specialized), BestOod(layout.Student(size.Name, RunLayout.Specialized)), "zeroshot", everything));
            // P4 compares the ID-best checkpoint with the OOD-best one on the OOD test sets, where selection picked two.
            var specialized = TrainingRun.Read(layout.Student(size.Name, RunLayout.Specialized));
            if (specialized.BestId is { Checkpoint: { } idBest } bestId && bestId.Step != specialized.BestOod?.Step)
                work.Add((IdBestEvaluation(size.Name), Path.Combine(specialized.Folder, idBest), "zeroshot", [.. MiniatureWorld.OutOfDistribution.Select(s => MiniatureWorld.Set(s, "test"))]));
            if (profile.DecoderOnlyFamily)
            {
                work.Add((RunLayout.Model(size.DecoderOnlyName, RunLayout.Generalist), GeneralistCheckpoint(layout, size.DecoderOnlyName, profile), "zeroshot", everything));
                work.Add((RunLayout.Model(size.DecoderOnlyName, RunLayout.Specialized), BestOod(layout.Student(size.DecoderOnlyName, RunLayout.Specialized)), "zeroshot", everything));
            }
            if (size.Name != VariantSize(profile)) continue;
            foreach (var variant in RunLayout.Variants)
                work.Add((RunLayout.Model(size.Name, variant), BestOod(layout.Student(size.Name, variant)), "zeroshot", everything));
            foreach (var model in new[] { RunLayout.Generalist, RunLayout.Specialized, RunLayout.ZeroShotOnly })
                work.Add((RunLayout.Model(size.Name, model), model == RunLayout.Generalist ? GeneralistCheckpoint(layout, size.Name, profile) : BestOod(layout.Student(size.Name, model)),
                    "4shot", [MiniatureWorld.Set(MiniatureWorld.Math, "test")]));
        }
        set_num_threads(Environment.ProcessorCount); // the training runs left libtorch on one thread
        // One model at a time, on every core: TorchSharp hands libtorch temporary Scalars that nothing
        // keeps alive, so two models decoding on two threads of one process can have one's Scalar finalized mid-call by a
        // collection the other triggered (libtorch then aborts the process; seen here under load).
        for (var done = 0; done < work.Count; done++)
        {
            var item = work[done];
            using var model = EvaluatedModel.FromFolder(item.Folder, EvalBatch, profile.MaxNewTokens);
            var outcome = EvaluationRun.Run(model, new EvaluationRequest(item.Sets, world.Root, item.Prompt, BbhMode.Cot, null, layout.Evaluation(item.Model, item.Prompt)));
            TorchRuntime.ReturnFreedMemory();
            var generic = outcome.Results.BbhMean is { } g ? string.Create(CultureInfo.InvariantCulture, $", generic {100 * g.Value:F1} %") : "";
            report?.Invoke(new RunEvent("eval", string.Create(CultureInfo.InvariantCulture,
                $"{item.Model} ({item.Prompt}): math {100 * (outcome.Results.MathMean ?? 0):F1} %{generic}"), (double)(done + 1) / work.Count));
        }
    }

    internal static string GeneralistCheckpoint(RunLayout layout, string size, RunProfile profile) =>
        Path.Combine(layout.Student(size, RunLayout.Generalist), RunCheckpoints.RelativePath(profile.GeneralistSteps));

    internal static string BestOod(string run) => Path.Combine(run, RunSelection.BestOodLink);

    /// <summary>The evaluation of a size's ID-best specialization checkpoint (on the OOD test sets; made only where it is not the OOD-best one).</summary>
    internal static string IdBestEvaluation(string size) => RunLayout.Model(size, RunLayout.Specialized) + "-id-best";

    // --- Report.

    private static IReadOnlyList<Phenomenon> WriteReport(MiniatureWorld world, RunProfile profile, ulong seed, RunLayout layout, string teacherFolder, bool teacherCached)
    {
        var runs = profile.Students.Select(s => layout.Student(s.Name, RunLayout.Specialized))
            .Concat(RunLayout.Variants.Select(v => layout.Student(VariantSize(profile), v)))
            .ToList();
        var after = profile.Students.Select(s => layout.Evaluation(RunLayout.Model(s.Name, RunLayout.Specialized), "zeroshot")).ToList();
        var before = profile.Students.Select(s => layout.Evaluation(RunLayout.Model(s.Name, RunLayout.Generalist), "zeroshot")).ToList();
        Directory.CreateDirectory(layout.Report);
        var findings = MiniatureFindings.Write(world, profile, seed, layout, teacherFolder, teacherCached);
        Report.Write(new ReportInputs(runs, after, before)
        {
            PathsRelativeTo = layout.Root, Title = "Specialist run: the paper in miniature", Sections = [findings.ReportSection],
        }, layout.Report);
        return findings.Phenomena;
    }

    private static void Progress(Action<RunEvent>? report, string stage, string what, TrainingEvent e)
    {
        if (report is null || e.Train is not { } t || (e.Step % 50 != 0 && e.Step != e.TotalSteps)) return;
        report(new RunEvent(stage, string.Create(CultureInfo.InvariantCulture, $"{what}: step {e.Step}/{e.TotalSteps} loss {t.Loss:F3}"),
            (double)e.Step / e.TotalSteps, e.Eta));
    }
}
