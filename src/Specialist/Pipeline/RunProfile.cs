using Specialist.Models;
using Specialist.Prompts;

namespace Specialist.Pipeline;

/// <summary>One student size of the miniature world.</summary>
/// <param name="Name">Its name in the run folder and the report (<c>s</c>, <c>m</c>, <c>l</c>).</param>
/// <param name="DModel">Hidden width.</param>
/// <param name="Layers">Encoder layers (the decoder has as many).</param>
/// <param name="Heads">Attention heads.</param>
public sealed record StudentSize(string Name, int DModel, int Layers, int Heads)
{
    /// <summary>A T5 v1.0 shape (ReLU feed-forward four times as wide, tied embeddings) for a vocabulary of <paramref name="vocabularySize"/>, without dropout.</summary>
    public T5Config Config(int vocabularySize) => new()
    {
        VocabSize = vocabularySize, DModel = DModel, DKv = DModel / Heads, DFf = 4 * DModel, NumHeads = Heads,
        NumLayers = Layers, NumDecoderLayers = Layers, DropoutRate = 0,
    };

    /// <summary>The name of this size's decoder-only counterpart (<see cref="DecoderOnlyConfig"/>).</summary>
    public string DecoderOnlyName => $"qwen2-{Name}";

    /// <summary>
    /// A Qwen2 shape with as many parameters as <see cref="Config"/>'s T5 (within a few hundred): the same width and
    /// heads (half as many key/value heads, as Qwen2 groups them), twice the layers (the T5's encoder and decoder
    /// together), and the SwiGLU width that makes up the rest. Tied embeddings, the T5 tokenizer's ids (end of sequence
    /// 1, padding 0, no beginning-of-sequence token); positions for a prompt and a target of the longest lengths.
    /// </summary>
    public LlamaConfig DecoderOnlyConfig(int vocabularySize, int maxPositions)
    {
        var target = StudentModel.CountParameters(Config(vocabularySize));
        var shape = new LlamaConfig
        {
            ModelType = LlamaConfig.Qwen2, VocabSize = vocabularySize, HiddenSize = DModel, IntermediateSize = 1, NumHiddenLayers = 2 * Layers,
            NumAttentionHeads = Heads, NumKeyValueHeads = Math.Max(1, Heads / 2), MaxPositionEmbeddings = maxPositions, TieWordEmbeddings = true,
            BosTokenId = null, EosTokenIds = [1], PadTokenId = 0,
        };
        // Each unit of intermediate width adds three weights (gate, up, down) per layer.
        var perUnit = 3L * DModel * shape.NumHiddenLayers;
        var rest = target - StudentModel.CountParameters(shape) + perUnit;
        return shape with { IntermediateSize = (int)Math.Max(1, Math.Round((double)rest / perUnit)) };
    }
}

/// <summary>
/// The sizes and budgets of a miniature-world run (<c>specialist run --profile quick|default|full</c>): how many
/// synthetic problems, how big and how long the teacher and the students are trained, how much the teacher annotates
/// and how much is evaluated. Everything else — the stages, the formats, the losses, the selection — is the same in
/// every profile.
/// </summary>
public sealed record RunProfile
{
    public required string Name { get; init; }

    /// <summary>
    /// The seed of the world's problems and of its teacher, the same for every run seed: runs with different seeds are
    /// repeats of one experiment (students, data order and annotation vary), not different worlds.
    /// </summary>
    public const ulong WorldSeed = 0;

    /// <summary>
    /// The run seeds <c>specialist run</c> runs when given neither <c>--seed</c> nor <c>--seeds</c>: one is a plain run,
    /// several a <see cref="MultiSeedRun"/> that reports mean ± sd over them.
    /// </summary>
    public IReadOnlyList<ulong> Seeds { get; init; } = [0];

    // --- The world.
    /// <summary>In-distribution math training problems: the questions the teacher annotates, and the students' gold math.</summary>
    public required int MathTrain { get; init; }
    /// <summary>In-distribution math problems the teacher is trained on, disjoint from every other split.</summary>
    public required int TeacherMathTrain { get; init; }
    /// <summary>Problems per generic task for training.</summary>
    public required int GenericTrainPerTask { get; init; }
    /// <summary>Problems per math dev split (ID, mild OOD, MultiArith-, ASDiv-, SVAMP-like), evaluated during training.</summary>
    public required int MathDev { get; init; }
    /// <summary>Problems per math test split, evaluated once per model; large enough for useful paired intervals.</summary>
    public required int MathTest { get; init; }
    /// <summary>Problems per generic task for dev.</summary>
    public required int GenericDevPerTask { get; init; }
    /// <summary>Problems per generic task for test.</summary>
    public required int GenericTestPerTask { get; init; }
    /// <summary>
    /// The students' vocabulary size limit: the frequent words, the rest spelt letter by letter. The teacher's vocabulary
    /// (<see cref="TeacherVocabulary"/>) holds every word, so many teacher tokens map onto several student tokens.
    /// </summary>
    public int StudentVocabulary { get; init; } = 600;
    /// <summary>The teacher's vocabulary size limit.</summary>
    public int TeacherVocabulary { get; init; } = 2500;

    // --- The teacher.
    public required StudentSize Teacher { get; init; }
    public required int TeacherSteps { get; init; }
    /// <summary>
    /// The teacher's peak learning rate. T5 does not scale attention logits by 1/√d_kv, so wider models want lower rates
    /// (measured here: d 96 and 128 at 3e-3 learned math far slower than d 64 did).
    /// </summary>
    public double TeacherLr { get; init; } = 1.5e-3;
    /// <summary>
    /// The teacher's training dtype (<c>fp32</c>, or <c>bf16</c> mixed precision: bf16 matrix multiplies, fp32 weights,
    /// optimiser and loss). bf16 only where it was measured to pay: the students' steps are dominated by small operations
    /// (l student 1.07× in <c>bench model</c>), the default teacher trains 1.26× faster in bf16 (BENCHMARKS.md).
    /// </summary>
    public string TeacherDtype { get; init; } = "fp32";
    /// <summary>Chains of thought the teacher samples per question.</summary>
    public required int Samples { get; init; }
    public double SampleTemperature { get; init; } = 0.5;
    public int TopLogprobs { get; init; } = 5;

    // --- The students.
    public required IReadOnlyList<StudentSize> Students { get; init; }
    /// <summary>
    /// Optimiser steps of generalist training (every size the same). Generic accuracy grows with the examples seen (the
    /// default's s and l generalists, generic dev: about 45 % after 2,200 steps, 48 % after 4,400; BENCHMARKS.md).
    /// </summary>
    public required int GeneralistSteps { get; init; }
    /// <summary>Optimiser steps of specialization, and of the equal-compute control.</summary>
    public required int SpecializeSteps { get; init; }
    /// <summary>Evaluations during specialization (evenly spaced, the last at the end).</summary>
    public int Evaluations { get; init; } = 4;
    /// <summary>
    /// The formats of specialization (the zero-shot-only comparison keeps their zero-shot members). The chain-of-thought
    /// formats only: measured here (0.27M student, 2,000 steps), adding the answer-only formats cut ID math dev accuracy
    /// from 26 % to 4–7 %: they take a third of the micro-batches and teach a tiny model to guess the number outright.
    /// </summary>
    public IReadOnlyList<TrainingFormat> SpecializeFormats { get; init; } = [TrainingFormat.InContextCot, TrainingFormat.ZeroShotCot];
    /// <summary>
    /// The formats of the generalists' mixture (and of the equal-compute control and the generic replay set, which
    /// continue it): the zero-shot ones. Measured here (s student, generic dev): 44.1–45.3 % with the zero-shot formats
    /// (three student seeds; 2,100–2,500 steps) against 32.5 % with all four (2,500 steps, about the same time: a
    /// zero-shot step costs more). At this scale the in-context micro-batches, half the steps, hold back the zero-shot
    /// chains of thought the generic suite asks for (BENCHMARKS.md, "Point 1: the generalists' formats").
    /// Specialization still teaches the in-context format (P6).
    /// </summary>
    public IReadOnlyList<TrainingFormat> GeneralistFormats { get; init; } = [TrainingFormat.ZeroShotCot, TrainingFormat.ZeroShotAnswerOnly];
    /// <summary>The zero-shot-only comparison's formats: the zero-shot members of <see cref="SpecializeFormats"/>.</summary>
    public IReadOnlyList<TrainingFormat> ZeroShotOnlyFormats => [.. SpecializeFormats.Where(Alignment.DistillFormats.IsZeroShot)];
    /// <summary>Share of micro-batches drawn from generic data in the replay variant.</summary>
    public double ReplayShare { get; init; } = 0.1;
    /// <summary>The students' peak learning rate (measured on the 0.27M student, gold math CoT: 6e-3 beat 3e-3 and 1e-2).</summary>
    public double Lr { get; init; } = 6e-3;
    /// <summary>
    /// The students compute each micro-batch in this many pieces of similar length (<see cref="Specialist.Training.TrainingConfig.LengthPieces"/>):
    /// the generic tasks' prompts and chains of thought differ in length several times over, so a whole micro-batch of
    /// the generalists' mixture is about half padding. Measured here (idle, BENCHMARKS.md): the s generalist 1.37 times the
    /// steps per second; the specialization runs 0.92 times (their in-context prompts are all cut to the same length).
    /// </summary>
    public int LengthPieces { get; init; } = 4;
    /// <summary>Micro-batch size of every format but zero-shot answer-only, which takes twice as many.</summary>
    public int CotBatch { get; init; } = 16;
    /// <summary>Encoder tokens kept (the last ones): four demonstrations of long generic tasks would be many more.</summary>
    public int MaxSourceLength { get; init; } = 128;
    public int MaxTargetLength { get; init; } = 128;
    public int MaxNewTokens { get; init; } = 128;

    /// <summary>
    /// Checkpoints, evenly spaced, that the training runs which evaluate only at their end (the teacher, the generalists)
    /// save along the way, so a killed run loses at most this fraction of its steps (specialization saves at each of its
    /// <see cref="Evaluations"/>). Saving changes nothing the run computes: a resumed run is the uninterrupted one.
    /// </summary>
    public int Checkpoints { get; init; } = 4;

    /// <summary>The <see cref="Specialist.Training.TrainingConfig.SaveEvery"/> of a run of <paramref name="steps"/> steps that saves <see cref="Checkpoints"/> times.</summary>
    internal int SaveEvery(int steps) => Math.Max(1, steps / Checkpoints);

    /// <summary>Runs that can train at once, each on one libtorch thread: tiny models use two threads poorly, two runs well.</summary>
    public int Parallel { get; init; } = 2;

    /// <summary>
    /// Also train and specialize a decoder-only family (<see cref="StudentSize.DecoderOnlyConfig"/>, one per size, with
    /// the same data, steps and rate) and compare it with the T5 students at equal parameters. About doubles the
    /// students' training time, so only the <c>full</c> profile has it on (<c>run --decoder-only</c> adds it to any).
    /// </summary>
    public bool DecoderOnlyFamily { get; init; }

    /// <summary>About a minute here: the end-to-end smoke test. Phenomena are reported but too small to show.</summary>
    public static RunProfile Quick { get; } = new()
    {
        Name = "quick",
        MathTrain = 600, TeacherMathTrain = 600, GenericTrainPerTask = 40, MathDev = 40, MathTest = 40, GenericDevPerTask = 8, GenericTestPerTask = 8,
        Teacher = new("teacher", 48, 2, 4), TeacherSteps = 150, TeacherLr = 3e-3, Samples = 2,
        Students = [new("s", 16, 1, 2), new("m", 24, 1, 2), new("l", 32, 1, 2)],
        GeneralistSteps = 40, SpecializeSteps = 30, Evaluations = 2,
    };

    /// <summary>The paper in miniature: students of about 110k, 160k and 270k parameters and a 0.9M-parameter teacher.</summary>
    public static RunProfile Default { get; } = new()
    {
        Name = "default",
        MathTrain = 6000, TeacherMathTrain = 4000, GenericTrainPerTask = 250, MathDev = 200, MathTest = 500, GenericDevPerTask = 40, GenericTestPerTask = 100,
        Teacher = new("teacher", 96, 3, 4), TeacherSteps = 4000, TeacherDtype = "bf16", Samples = 2,
        Students = [new("s", 40, 2, 4), new("m", 48, 2, 4), new("l", 64, 2, 4)],
        GeneralistSteps = 4400, SpecializeSteps = 2000, Evaluations = 6,
    };

    /// <summary>Longer and bigger: more data, a larger teacher, a fourth (deeper) student, longer training.</summary>
    public static RunProfile Full { get; } = new()
    {
        Name = "full",
        MathTrain = 8000, TeacherMathTrain = 8000, GenericTrainPerTask = 500, MathDev = 400, MathTest = 1000, GenericDevPerTask = 50, GenericTestPerTask = 200,
        Teacher = new("teacher", 128, 4, 4), TeacherSteps = 10000, TeacherLr = 1e-3, Samples = 4,
        Students = [new("s", 32, 2, 2), new("m", 48, 2, 4), new("l", 64, 2, 4), new("xl", 64, 4, 4)],
        GeneralistSteps = 8000, SpecializeSteps = 4000, Evaluations = 4,
        Seeds = [0, 1, 2], DecoderOnlyFamily = true,
    };

    /// <summary>The profile names <see cref="Parse"/> accepts.</summary>
    public static IReadOnlyList<string> Names { get; } = ["quick", "default", "full"];

    /// <summary>The profile called <paramref name="name"/>.</summary>
    public static RunProfile Parse(string name) => name switch
    {
        "quick" => Quick,
        "default" => Default,
        "full" => Full,
        _ => throw new SpecialistException($"unknown profile '{name}' (use {string.Join(", ", Names)})"),
    };
}
