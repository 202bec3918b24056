using System.Diagnostics;
using Specialist.Data;
using Specialist.Evaluation;
using Specialist.Models;
using Specialist.Prompts;
using Specialist.Tokenization;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Specialist.Training;

/// <summary>Something that happened during training, for progress displays.</summary>
/// <param name="Step">The optimiser step it happened at.</param>
/// <param name="TotalSteps">The run's optimiser steps.</param>
/// <param name="Train">Set after an optimiser step.</param>
/// <param name="Eta">Set with <paramref name="Train"/>: the time left at this session's pace (evaluations included).</param>
/// <param name="Eval">Set after an evaluation.</param>
/// <param name="Checkpoint">Set after a checkpoint was saved (relative to the run folder).</param>
public sealed record TrainingEvent(long Step, long TotalSteps, TrainStepRecord? Train = null, TimeSpan? Eta = null, EvalRecord? Eval = null, string? Checkpoint = null);

/// <summary>How a run (or session of one) ended.</summary>
/// <param name="RunDirectory">The run folder.</param>
/// <param name="Step">The last optimiser step done.</param>
/// <param name="TotalSteps">The run's optimiser steps.</param>
/// <param name="Interrupted">Whether it stopped early on request (a checkpoint of <paramref name="Step"/> was saved).</param>
/// <param name="LastLoss">The loss of the last step of this session, null if it did none.</param>
/// <param name="Selection">The model selection so far.</param>
public sealed record TrainingResult(string RunDirectory, long Step, long TotalSteps, bool Interrupted, double? LastLoss, RunSelection Selection);

/// <summary>
/// The specialization recipe (METHOD.md §4, §5, §7), written as one procedure to read top to bottom: set up the
/// runtime, data, student, optimiser, schedule and evaluation sets; restore a checkpoint when resuming; then for each
/// optimiser step run the micro-batches (one format each) through the loss, clip, step, log, and at the chosen steps
/// evaluate, checkpoint and select.
/// </summary>
public static class TrainingRecipe
{
    public const string ConfigFileName = "config.json";
    public const string MetricsFileName = "metrics.jsonl";

    /// <summary>Training runs in progress in this process (the miniature run trains two at once).</summary>
    private static int _training;

    private sealed class Training : IDisposable
    {
        public Training() => Interlocked.Increment(ref _training);

        public void Dispose() => Interlocked.Decrement(ref _training);
    }

    /// <summary>Starts a new run in <c>config.Out</c> (which must not hold a run already).</summary>
    public static TrainingResult Start(TrainingConfig config, Action<TrainingEvent>? report = null, CancellationToken stop = default)
    {
        config = Resolve(config);
        var runDirectory = config.Out;
        if (File.Exists(Path.Combine(runDirectory, ConfigFileName)) || Directory.Exists(Path.Combine(runDirectory, RunCheckpoints.FolderName)))
            throw new SpecialistException($"{runDirectory} already holds a training run: continue it with --resume {runDirectory}, or choose another --out");
        using var data = TrainingData.Open(config);
        using var replay = TrainingData.OpenReplay(config);
        return Run(config, data, resumeFrom: null, report, stop, replay);
    }

    /// <summary>
    /// Continues the run in <paramref name="runDirectory"/> from its latest checkpoint, with its recorded config. A run
    /// killed before its first checkpoint has nothing to continue from and starts over, from its recorded config.
    /// </summary>
    public static TrainingResult Resume(string runDirectory, Action<TrainingEvent>? report = null, CancellationToken stop = default)
    {
        var (config, checkpoint) = OpenForResume(runDirectory);
        using var data = TrainingData.Open(config);
        using var replay = TrainingData.OpenReplay(config);
        return Run(config, data, checkpoint, report, stop, replay);
    }

    /// <summary>The recorded config of a run and its latest complete checkpoint (folder path; null when it has none).</summary>
    internal static (TrainingConfig Config, string? Checkpoint) OpenForResume(string runDirectory)
    {
        var configPath = Path.Combine(runDirectory, ConfigFileName);
        if (!File.Exists(configPath)) throw new SpecialistException($"{runDirectory} holds no training run ({ConfigFileName} is missing)");
        var config = TrainingConfig.ReadFile(configPath);
        config.Validate();
        RunCheckpoints.RemoveIncomplete(runDirectory);
        var checkpoints = RunCheckpoints.List(runDirectory);
        return (config, checkpoints.Count == 0 ? null : Path.Combine(runDirectory, checkpoints[^1].Relative));
    }

    /// <summary>Checks the config and makes its paths absolute, so the recorded config works from any folder.</summary>
    internal static TrainingConfig Resolve(TrainingConfig config)
    {
        config.Validate();
        return config with
        {
            Student = Path.GetFullPath(config.Student),
            Data = Path.GetFullPath(config.Data),
            Replay = config.Replay.Length == 0 ? "" : Path.GetFullPath(config.Replay),
            Out = Path.GetFullPath(config.Out),
            DataRoot = DataRoot.Resolve(config.DataRoot),
        };
    }

    internal static TrainingResult Run(TrainingConfig config, TrainingData data, string? resumeFrom, Action<TrainingEvent>? report, CancellationToken stop,
        TrainingData? replay = null)
    {
        // The formats and micro-batch sizes actually used are recorded, so the run can be resumed and compared.
        config = config with { Formats = data.FormatNames, BatchSize = data.BatchSizes };
        var runDirectory = config.Out;
        var session = Stopwatch.StartNew();

        // --- Runtime: threads are fixed per run (CPU results depend on them), dropout draws from libtorch's generator.
        TorchRuntime.EnsureLoaded();
        using var training = new Training();
        if (config.Threads > 0) set_num_threads(config.Threads);
        else config = config with { Threads = get_num_threads() };
        var device = TorchRuntime.ResolveDevice(config.Device);
        var generator = random.manual_seed(config.Seed);

        // --- Student and optimiser: from the student folder, or from the checkpoint being resumed.
        var modelFolder = resumeFrom ?? config.Student;
        var tokenizerPath = Tokenizers.ModelTokenizerFile(config.Student);
        var tokenizer = Tokenizers.LoadFromModelFolder(config.Student);
        // bf16 is mixed precision: the weights, their gradients, the optimiser state and checkpoints stay fp32.
        using var model = StudentModel.Load(modelFolder, ScalarType.Float32, device);
        model.MatmulType = config.MatmulType;
        model.EnsureFits(tokenizer, tokenizerPath);
        var encoding = StudentEncoding.Read(config.Student, tokenizer);
        var promptHead = encoding.PromptHeadLength;
        model.Module.train();
        using var optimizer = new TrainingOptimizer(model.Module.parameters(), config.Lr, config.WeightDecay);

        // --- Schedule: warm-up and decay counted in optimiser steps; the horizon in steps, or in micro-batches as the authors' code.
        // Epochs count the main set's micro-batches; replayed ones come on top.
        var mix = new ReplayMix(config.Seed, replay is null ? 0 : config.ReplayShare);
        var totalSteps = config.Steps ?? (long)Math.Ceiling((double)mix.MicroBatchesFor((long)config.Epochs * data.PerEpoch) / config.GradAccum);
        var horizon = config.LrHorizon == ScheduleHorizon.MicroSteps ? totalSteps * config.GradAccum : totalSteps;
        var schedule = new LearningRateSchedule(config.Lr, config.Warmup, config.Schedule, horizon);

        // --- Evaluation sets (loaded now so a bad name fails before any training).
        var queries = new EvaluationQueries(config.DataRoot, EvaluationQueries.ParseStyle(config.EvalPrompt));
        var evalSets = config.EvalSets
            .Select(name => (Name: name, Problems: (IReadOnlyList<Problem>)[.. ProblemSets.Load(name, new DataOptions(config.DataRoot)).Take(config.EvalLimit ?? int.MaxValue)]))
            .ToList();

        // --- Fresh start or exact continuation: weights (loaded above), optimiser moments, generator, data position, history.
        TrainerState state;
        if (resumeFrom is null)
        {
            Directory.CreateDirectory(runDirectory);
            AtomicFile.WriteText(Path.Combine(runDirectory, ConfigFileName), config.ToJson());
            state = new TrainerState(0, 0, 0, 0, 0, [], []);
        }
        else
        {
            state = TrainerState.Read(Path.Combine(resumeFrom, TrainerState.FileName));
            RunCheckpoints.LoadOptimizer(resumeFrom, optimizer);
            using (var rng = tensor(state.TorchRngState, ScalarType.Byte)) generator.set_state(rng);
        }
        // What a killed process logged after its last checkpoint (without one: everything) is done again.
        MetricsLog.TruncateAfter(Path.Combine(runDirectory, MetricsFileName), state.Step);
        var evaluations = state.Evaluations.ToList();
        var lastSaved = resumeFrom is null ? ((long, string)?)null : (state.Step, Path.GetRelativePath(runDirectory, resumeFrom).Replace('\\', '/'));
        var selection = RunSelection.From(config.IdSet, config.OodSets, evaluations, lastSaved);
        // The process that saved the checkpoint resumed from may have died before it committed the selection.
        if (resumeFrom is not null) Commit(runDirectory, selection, config.KeepLast);
        using var metrics = new MetricsLog(Path.Combine(runDirectory, MetricsFileName));
        using var stream = new TrainingStream(data.EpochOrder, data.PerEpoch, state.Epoch, state.BatchInEpoch);
        using var replayStream = replay is null ? null : new TrainingStream(replay.EpochOrder, replay.PerEpoch, state.ReplayEpoch, state.ReplayBatchInEpoch);
        var distribution = config.Loss == LossKind.Distribution;
        var tokens = state.Tokens;
        var startStep = state.Step;
        double? lastLoss = null;

        // --- The loop: one optimiser step per iteration.
        for (var step = startStep + 1; step <= totalSteps; step++)
        {
            var stepStarted = Stopwatch.GetTimestamp();
            var lr = schedule.At(step);
            foreach (var group in optimizer.ParamGroups) group.LearningRate = lr;
            model.ZeroGradients();

            // Gradient accumulation: each micro-batch's masked-mean loss, divided by the count, adds to the gradient.
            var losses = new List<(string Format, double Loss)>(config.GradAccum);
            long stepTokens = 0;
            var epoch = stream.Epoch;
            for (var micro = 0; micro < config.GradAccum; micro++)
            {
                var replayed = mix.IsReplay((step - 1) * config.GradAccum + micro);
                var (batch, batchEpoch) = replayed ? replayStream!.Next() : stream.Next();
                if (!replayed) epoch = batchEpoch;
                var name = replayed ? ReplayMix.Prefix + batch.Name : batch.Name;
                var sparse = distribution && batch.IsCot && !replayed; // answer-only and replayed (gold) batches always use cross-entropy
                var (value, batchTokens) = Backward(model, batch, promptHead, config, sparse, device);
                if (!float.IsFinite(value)) throw NotFinite($"the loss is {value}", step, name, runDirectory, lastSaved);
                losses.Add((name, value));
                stepTokens += batchTokens;
            }

            var gradNorm = nn.utils.clip_grad_norm_(model.Module.parameters(), config.MaxGradNorm > 0 ? config.MaxGradNorm : double.PositiveInfinity);
            if (!double.IsFinite(gradNorm)) throw NotFinite($"the gradient norm is {gradNorm}", step, string.Join("+", losses.Select(l => l.Format).Distinct()), runDirectory, lastSaved);
            optimizer.step();
            // A gen-0 collection per step (under a millisecond) keeps the managed heap at its working size; left alone,
            // .NET lets gen 0 fill its budget (tens of MB: a few hundred small steps) before collecting, and resident
            // memory creeps up for that long. Only while no other run trains in this process: TorchSharp hands libtorch
            // temporary Scalars that nothing keeps alive, and a collection here can finalize one that the other run's
            // thread is passing at that moment (libtorch then aborts the process); natural collections are a hundred
            // times rarer.
            if (Volatile.Read(ref _training) == 1) GC.Collect(0);

            tokens += stepTokens;
            var seconds = Stopwatch.GetElapsedTime(stepStarted).TotalSeconds;
            var record = new TrainStepRecord(step, epoch, losses.Average(l => l.Loss), lr, stepTokens / Math.Max(seconds, 1e-9), gradNorm,
                losses.GroupBy(l => l.Format).ToDictionary(g => g.Key, g => g.Average(l => l.Loss), StringComparer.Ordinal),
                state.ElapsedSeconds + session.Elapsed.TotalSeconds);
            metrics.Write(record);
            lastLoss = record.Loss;
            var done = step - startStep;
            report?.Invoke(new TrainingEvent(step, totalSteps, Train: record,
                Eta: TimeSpan.FromSeconds(session.Elapsed.TotalSeconds / done * (totalSteps - step))));

            // Evaluate at every eval_every steps and at the end; an evaluated step is always saved (selection points at it).
            var last = step == totalSteps;
            var interrupted = stop.IsCancellationRequested && !last;
            var evaluate = evalSets.Count > 0 && ((config.EvalEvery > 0 && step % config.EvalEvery == 0) || last);
            var checkpoint = RunCheckpoints.RelativePath(step);
            if (evaluate)
            {
                var eval = Evaluate(model, encoding, generator, queries, evalSets, config, step, checkpoint);
                evaluations.Add(eval);
                metrics.Write(eval);
                report?.Invoke(new TrainingEvent(step, totalSteps, Eval: eval));
            }
            var save = evaluate || last || interrupted || (config.SaveEvery is { } every && step % every == 0);
            if (save)
            {
                using var rngState = generator.get_state();
                var saved = new TrainerState(step, stream.Epoch, stream.Index, tokens, state.ElapsedSeconds + session.Elapsed.TotalSeconds,
                    rngState.data<byte>().ToArray(), evaluations, replayStream?.Epoch ?? 0, replayStream?.Index ?? 0);
                RunCheckpoints.Save(runDirectory, model, optimizer, saved, tokenizerPath);
                lastSaved = (step, checkpoint);
                selection = RunSelection.From(config.IdSet, config.OodSets, evaluations, lastSaved);
                Commit(runDirectory, selection, config.KeepLast);
                report?.Invoke(new TrainingEvent(step, totalSteps, Checkpoint: checkpoint));
            }
            if (interrupted) return new TrainingResult(runDirectory, step, totalSteps, Interrupted: true, lastLoss, selection);
        }
        TorchRuntime.ReturnFreedMemory();
        return new TrainingResult(runDirectory, Math.Max(startStep, totalSteps), totalSteps, Interrupted: false, lastLoss, selection);
    }

    /// <summary>
    /// The forward and backward pass of one micro-batch: adds its masked-mean loss, divided by <c>grad_accum</c>, to the
    /// gradients, and gives the loss and the real tokens. With <c>length_pieces</c> above 1 the micro-batch is computed in
    /// pieces of similar length (<see cref="TrainingMicroBatch.PiecesByLength"/>), each loss its share of the whole
    /// micro-batch's mean, so the gradient is the whole micro-batch's up to rounding.
    /// </summary>
    internal static (float Loss, long Tokens) Backward(StudentModel model, TrainingMicroBatch batch, int promptHead, TrainingConfig config, bool sparse, Device device)
    {
        using var scope = NewDisposeScope();
        var pieces = batch.PiecesByLength(config.LengthPieces, config.MaxSourceLen, config.MaxTargetLen)
            .Select(piece => MicroBatchTensors.Build(piece, model, promptHead, config.MaxSourceLen, config.MaxTargetLen, sparse, device)).ToList();
        long? positions = pieces.Count > 1 ? pieces.Sum(p => p.TargetPositions) : null;
        var (value, tokens) = (0f, 0L);
        foreach (var tensors in pieces)
        {
            var logits = model.TargetLogits(tensors.InputIds, tensors.AttentionMask, tensors.Labels, tensors.LabelMask);
            var loss = sparse
                ? SequenceLosses.Distribution(logits, tensors.TargetIds!, tensors.TargetProbabilities!, tensors.LabelMask, positions)
                : SequenceLosses.CrossEntropy(logits, tensors.Labels, tensors.LabelMask, positions);
            value += loss.item<float>();
            (loss / config.GradAccum).backward();
            tokens += tensors.Tokens;
            tensors.Dispose();
        }
        return (value, tokens);
    }

    /// <summary>
    /// Removes the checkpoints <paramref name="selection"/> does not keep, then writes it (<see cref="RunSelection.Write"/>).
    /// <c>selection.json</c> is written last, so once it names a run's final step as <c>last</c> the run is finished in
    /// every respect (<c>StageCalls.TrainingFinished</c> relies on this); a run killed before that resumes from its latest
    /// checkpoint and commits again.
    /// </summary>
    private static void Commit(string runDirectory, RunSelection selection, int keepLast)
    {
        RunCheckpoints.Prune(runDirectory, keepLast, selection.Kept);
        selection.Write(runDirectory);
    }

    /// <summary>
    /// Greedy CoT decoding on every evaluation set (batched, KV cache) with the current weights. libtorch's generator is
    /// put back afterwards, so the training losses do not depend on when or how often a run evaluates.
    /// </summary>
    private static EvalRecord Evaluate(StudentModel model, StudentEncoding encoding, Generator generator, EvaluationQueries queries,
        IReadOnlyList<(string Name, IReadOnlyList<Problem> Problems)> sets, TrainingConfig config, long step, string checkpoint)
    {
        using var rng = generator.get_state();
        var source = new ModelAnswerSource(model, encoding, config.EvalBatchSize, config.EvalMaxNewTokens);
        var accuracy = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var (name, problems) in sets) accuracy[name] = SetEvaluator.Evaluate(source, name, problems, queries).Accuracy;
        model.Module.train();
        generator.set_state(rng);
        TorchRuntime.ReturnFreedMemory(); // decoding's peak (batched few-shot prompts) is well above a training step's
        var ood = config.OodSets.Where(accuracy.ContainsKey).Select(s => accuracy[s]).ToList();
        return new EvalRecord(step, accuracy, accuracy.TryGetValue(config.IdSet, out var id) ? id : null, ood.Count > 0 ? ood.Average() : null, checkpoint);
    }

    private static SpecialistException NotFinite(string what, long step, string format, string runDirectory, (long Step, string Checkpoint)? lastSaved) =>
        new($"{what} at step {step} ({format} micro-batch): training stopped without applying this step. " +
            (lastSaved is { } s
                ? $"The last good checkpoint, {Path.Combine(runDirectory, s.Checkpoint)} (step {s.Step}), is intact."
                : "No checkpoint was saved before it.") +
            " A lower --lr, more --warmup or --max-grad-norm may help.");
}
