using System.Globalization;
using System.Security.Cryptography;
using Specialist.Data;
using Specialist.Models;
using Specialist.Prompts;
using Specialist.Tokenization;

namespace Specialist.Alignment;

/// <summary>What to build a distillation set from, and how.</summary>
/// <param name="OutputDirectory">The set's folder (new or empty).</param>
/// <param name="StudentFolder">The student's Hugging Face model folder (<c>config.json</c>, and <c>spiece.model</c> or a word-level <c>tokenizer.json</c>).</param>
/// <param name="StorePath">An annotation store: teacher chains of thought with their top-k. Null for a gold set.</param>
/// <param name="DataRoot">The data root holding <see cref="TrainSet"/> and <see cref="DevSet"/> (questions, gold answers, rationales, demonstrations).</param>
/// <param name="Formats">The formats to build.</param>
/// <param name="BatchSizes">Micro-batch size per format.</param>
/// <param name="Seed">Seeds demonstration draws and the plan's shuffles.</param>
/// <param name="Alignment">How store chains of thought are aligned with the student.</param>
public sealed record DistillSetRequest(
    string OutputDirectory, string StudentFolder, string? StorePath, string DataRoot, IReadOnlyList<TrainingFormat> Formats,
    IReadOnlyDictionary<TrainingFormat, int> BatchSizes, ulong Seed, AlignmentOptions Alignment)
{
    /// <summary>The default <see cref="TrainSet"/>: GSM8K's training questions, as in the paper.</summary>
    public const string DefaultTrainSet = "gsm8k-train";

    /// <summary>The default <see cref="DevSet"/>: the 200 GSM8K training questions kept for checkpoint selection.</summary>
    public const string DefaultDevSet = "gsm8k-dev";

    /// <summary>
    /// The set (<see cref="ProblemSets.Load"/>) the questions come from: a gold set's questions and rationales, the only
    /// questions a store may hold, and the demonstrations.
    /// </summary>
    public string TrainSet { get; init; } = DefaultTrainSet;

    /// <summary>A set whose questions are left out of <see cref="TrainSet"/>, as questions and as demonstrations; null leaves none out.</summary>
    public string? DevSet { get; init; } = DefaultDevSet;
}

/// <summary>
/// Builds a distillation set (METHOD.md §2): for every question of the train set (GSM8K train by default) outside the
/// dev set, one example per answer-only format and, per chain-of-thought format, one example per chain of thought —
/// every kept sample of the store (its target the aligned teacher top-k), or, for a gold set, the question's human
/// rationale with calculator marks removed and "The answer is N" unless it ends by stating its answer
/// (<see cref="TrainingPrompts.GoldChainOfThought"/>; one-hot: the "no teacher" baseline). In-context
/// inputs draw 4 demonstrations afresh per example from the train set's questions of the same task
/// (<see cref="DemoSampler.TaskOf"/>) outside the dev set.
/// </summary>
public static class DistillSetBuilder
{
    private const int QuestionsPerChunk = 256;

    /// <summary>A chain of thought to train on: the store's sample (or -1 for gold) and its aligned or one-hot decoder side.</summary>
    private sealed record Cot(int SampleIndex, TeacherSequence? Teacher, string Text);

    private sealed record Question(Problem Problem, List<Cot> Cots);

    private sealed record Spec(TrainingFormat Format, Question Question, string Input, string? AnswerOnlyTarget, Cot? Cot);

    /// <summary>Builds the set and returns its manifest; <paramref name="progress"/> hears a line now and then.</summary>
    public static DistillSetManifest Build(DistillSetRequest request, Action<string>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        // The canonical order fixes the order of demonstration draws, whatever order the caller listed the formats in.
        var formats = DistillFormats.All.Where(request.Formats.Contains).ToList();
        if (formats.Count == 0) throw new SpecialistException("no formats to build");
        foreach (var format in formats)
            if (!request.BatchSizes.TryGetValue(format, out var size) || size < 1)
                throw new SpecialistException($"no micro-batch size (≥ 1) for {DistillFormats.Name(format)}");
        var student = Tokenizers.LoadFromModelFolder(request.StudentFolder);
        var configPath = Path.Combine(request.StudentFolder, T5Checkpoint.ConfigFileName);
        if (!File.Exists(configPath)) throw new SpecialistException($"{Path.GetFullPath(configPath)} does not exist: --student must be a Hugging Face model folder");
        // The student's own rule writes prompts and targets: T5's tokenizer ids, or a decoder-only student's chat prompt and end of answer.
        var config = StudentModel.ReadConfig(request.StudentFolder);
        if (config.VocabSize < student.VocabularySize)
            throw new SpecialistException($"{configPath}: vocab_size {config.VocabSize} is smaller than the tokenizer's {student.VocabularySize} pieces");
        var encoding = StudentEncoding.For(config, request.StudentFolder, student);

        var data = new DataOptions(request.DataRoot);
        var train = ProblemSets.Load(request.TrainSet, data);
        var dev = (request.DevSet is null ? [] : ProblemSets.Load(request.DevSet, data)).Select(p => p.Id).ToHashSet(StringComparer.Ordinal);
        var pool = train.Where(p => !dev.Contains(p.Id)).ToList();
        var source = request.StorePath is null ? null : new StoreQuestions(request.StorePath, request.TrainSet, train, dev);
        var questions = source?.Read() ?? pool.Select(p => new Question(p, [GoldCot(p)]));

        var aligner = new TokenAligner(student, request.Alignment);
        var sampler = new DemoSampler(pool, request.Seed);
        long soft = 0, cotTokens = 0;
        var done = 0;
        using var writer = new DistillSetWriter(request.OutputDirectory, formats);
        foreach (var chunk in questions.Chunk(QuestionsPerChunk))
        {
            // Demonstrations are drawn in a fixed order (question, format, sample), so the set depends only on the seed.
            var specs = new List<Spec>();
            foreach (var q in chunk)
            {
                foreach (var format in formats)
                {
                    if (!TrainingPrompts.IsCot(format))
                        specs.Add(new Spec(format, q, Input(format, q, sampler), TrainingPrompts.AnswerOnlyTarget(q.Problem.Answer), null));
                    else
                        foreach (var cot in q.Cots) specs.Add(new Spec(format, q, Input(format, q, sampler), null, cot));
                }
            }
            // Each chain of thought is aligned once, however many formats use it.
            var cots = chunk.SelectMany(q => q.Cots).ToList();
            var decoded = new Dictionary<Cot, (int[] Ids, SparseTargets Targets)>(ReferenceEqualityComparer.Instance);
            var aligned = new (int[] Ids, SparseTargets Targets)[cots.Count];
            Parallel.For(0, cots.Count, i => aligned[i] = Decoder(cots[i], encoding, aligner));
            for (var i = 0; i < cots.Count; i++) decoded[cots[i]] = aligned[i];
            var encoded = new (int[] Encoder, int[] Decoder, SparseTargets Targets)[specs.Count];
            Parallel.For(0, specs.Count, i =>
            {
                var spec = specs[i];
                int[] encoder = [.. encoding.Prompt(spec.Input)];
                if (spec.Cot is null)
                {
                    var ids = encoding.Target(spec.AnswerOnlyTarget!);
                    encoded[i] = (encoder, ids, SparseTargets.OneHot(ids));
                }
                else encoded[i] = (encoder, decoded[spec.Cot].Ids, decoded[spec.Cot].Targets);
            });
            for (var i = 0; i < specs.Count; i++)
            {
                writer.Add(specs[i].Format, specs[i].Question.Problem.Id, specs[i].Cot?.SampleIndex ?? -1, encoded[i].Encoder, encoded[i].Decoder, encoded[i].Targets);
                if (specs[i].Cot is null) continue;
                soft += encoded[i].Targets.SoftCount;
                cotTokens += encoded[i].Decoder.Length;
            }
            done += chunk.Length;
            progress?.Invoke($"{done} questions");
        }

        var counts = formats.ToDictionary(f => f, writer.Count);
        var plan = MicroBatchPlan.Create(counts, request.BatchSizes, request.Seed);
        var manifest = new DistillSetManifest(
            DistillSet.FormatVersion,
            source is null ? "gold" : "store",
            source is null ? request.TrainSet : Path.GetFullPath(request.StorePath!),
            source?.Teacher,
            Path.GetFullPath(request.StudentFolder),
            Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(Tokenizers.ModelTokenizerFile(request.StudentFolder)))),
            student.VocabularySize,
            request.Seed,
            done,
            source?.ExcludedDev ?? train.Count - pool.Count,
            [.. formats.Select(f => new DistillFormatInfo(DistillFormats.Name(f), counts[f], request.BatchSizes[f], plan.Count(b => b.Format == f)))],
            source is null ? null : new DistillAlignmentInfo(AlignmentOptions.ModeName(request.Alignment.Mode), request.Alignment.Renormalize, request.Alignment.Merge, soft, cotTokens),
            DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture))
        {
            StudentPrompt = encoding.Name,
        };
        writer.Commit(plan, manifest);
        return manifest;
    }

    /// <summary>The gold chain of thought, laid out as in-context demonstrations lay it out (<see cref="TrainingPrompts.GoldChainOfThought"/>).</summary>
    private static Cot GoldCot(Problem p) => new(-1, null, TrainingPrompts.GoldChainOfThought(p));

    private static string Input(TrainingFormat format, Question q, DemoSampler sampler) =>
        TrainingPrompts.Input(format, q.Problem.Question,
            TrainingPrompts.IsInContext(format) ? sampler.Draw(TrainingPrompts.DemoCount, questionId: q.Problem.Id) : null);

    private static (int[] Ids, SparseTargets Targets) Decoder(Cot cot, StudentEncoding encoding, TokenAligner aligner)
    {
        if (cot.Teacher is null)
        {
            var ids = encoding.Target(cot.Text);
            return (ids, SparseTargets.OneHot(ids));
        }
        // The aligner maps the teacher onto the text's tokens; the ids that end a target (T5's </s>, a decoder-only
        // student's end of answer) follow them, one-hot, as Target writes them.
        var aligned = aligner.Align(cot.Teacher);
        var end = encoding.EndOfTargetIds is { Count: > 0 } endIds ? endIds
            : throw new SpecialistException($"the student tokenizer {encoding.Tokenizer.Name} has no end-of-sequence id");
        return ([.. aligned.StudentIds, .. end], aligned.Targets.WithOneHotEnd(end));
    }

    /// <summary>
    /// The questions of an annotation store with their kept samples, read as a stream in the store's order (question
    /// ids as text, then sample index), dev questions left out and counted. A kept sample stored without log-probs
    /// trains with a one-hot target on its text.
    /// </summary>
    private sealed class StoreQuestions(string path, string trainSet, IReadOnlyList<Problem> train, HashSet<string> dev)
    {
        private readonly Dictionary<string, Problem> _byId = train.ToDictionary(p => p.Id, StringComparer.Ordinal);

        /// <summary>The store's teacher model (known once <see cref="Read"/> has started).</summary>
        public string? Teacher { get; private set; }

        /// <summary>Dev questions seen in the store and left out (complete once <see cref="Read"/> has finished).</summary>
        public int ExcludedDev { get; private set; }

        public IEnumerable<Question> Read()
        {
            var vocabulary = new TeacherVocabulary();
            using var store = Teachers.AnnotationStore.Open(path, create: false);
            Teacher = store.Config?.Teacher;
            Question? current = null;
            string? currentId = null;
            foreach (var sample in store.ReadSamples(keptOnly: false))
            {
                if (currentId != sample.QuestionId)
                {
                    if (current is not null) yield return current;
                    current = null;
                    currentId = sample.QuestionId;
                    if (!_byId.TryGetValue(sample.QuestionId, out var problem))
                        throw new SpecialistException($"{Path.GetFullPath(path)}: question '{sample.QuestionId}' is not a {trainSet} question; a distillation set is built from the questions of its train set");
                    if (dev.Contains(sample.QuestionId))
                    {
                        ExcludedDev++;
                        continue;
                    }
                    current = new Question(problem, []);
                }
                if (current is null || !sample.Kept) continue;
                current.Cots.Add(new Cot(sample.SampleIndex,
                    sample.Positions is { Count: > 0 } positions ? AlignmentFiles.FromStored(sample.Text, positions, vocabulary, TeacherTokenForm.Auto) : null,
                    TrainingPrompts.Target(TrainingFormat.ZeroShotCot, current.Problem.Answer, sample.Text)));
            }
            if (current is not null) yield return current;
        }
    }
}
