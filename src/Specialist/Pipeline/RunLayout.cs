using Specialist.Training;

namespace Specialist.Pipeline;

/// <summary>
/// Where each stage of a run keeps its files, for <c>run --config</c> and the miniature world alike: one folder per
/// stage (<c>annotate</c>, <c>distill</c>, training, <c>eval</c>, <c>report</c>), each read by the stages after it.
/// </summary>
internal sealed class RunLayout(string root)
{
    public string Root { get; } = root;

    /// <summary>The miniature world's sets, prompts and tokenizers.</summary>
    public string World => Path.Combine(Root, "world");

    public string Annotate => Path.Combine(Root, "annotate");
    public string Store => Path.Combine(Annotate, "annotations.db");
    /// <summary>The miniature teacher's greedy accuracy on the test sets.</summary>
    public string TeacherEvaluation => Path.Combine(Annotate, "teacher-eval");
    /// <summary>The miniature teacher's greedy accuracy on the first of the questions it annotates.</summary>
    public string TeacherAnnotatedEvaluation => Path.Combine(Annotate, "teacher-eval-annotated");

    /// <summary>Distillation sets.</summary>
    public string Distill => Path.Combine(Root, "distill");
    public string MixtureSet => Path.Combine(Distill, "mixture-gold");
    public string TeacherSet => Path.Combine(Distill, "math-teacher");
    public string GenericSet => Path.Combine(Distill, "generic-gold");
    /// <summary>The mixture and the teacher's set again, encoded for the decoder-only family (prompt and target as one sequence).</summary>
    public string DecoderOnlyMixtureSet => Path.Combine(Distill, "mixture-gold-decoder-only");
    public string DecoderOnlyTeacherSet => Path.Combine(Distill, "math-teacher-decoder-only");

    /// <summary>The training run of <c>run --config</c>, and its OOD-best checkpoint.</summary>
    public string Train => Path.Combine(Root, "train");
    public string BestOod => Path.Combine(Train, RunSelection.BestOodLink);

    /// <summary>The miniature world's training runs, one per student size and run (<see cref="Model"/>).</summary>
    public string Students => Path.Combine(Root, "students");
    public string Student(string size, string run) => Path.Combine(Students, Model(size, run));

    /// <summary>A miniature student's name, as its run folder and its evaluations are named: size, then run.</summary>
    public static string Model(string size, string run) => $"{size}-{run}";

    // The miniature world's runs of a student size: before and after specialization, and the comparisons made on one size.
    public const string Generalist = "generalist";
    public const string Specialized = "specialized";
    public const string SampleMatching = "sample-matching";
    public const string ZeroShotOnly = "zero-shot-only";
    public const string Replay = "replay";
    public const string Control = "control";

    /// <summary>The comparison runs, made on one size only (the smallest).</summary>
    public static IReadOnlyList<string> Variants { get; } = [SampleMatching, ZeroShotOnly, Replay, Control];

    /// <summary>Evaluations of <c>run --config</c>: the student before and after training.</summary>
    public string Before => Path.Combine(Root, "eval", "before");
    public string After => Path.Combine(Root, "eval", "after");
    /// <summary>An evaluation of the miniature world.</summary>
    public string Evaluation(string model, string prompt) => Path.Combine(Root, "eval", $"{model}-{prompt}");

    public string Report => Path.Combine(Root, "report");
    public string PhenomenaFile => Path.Combine(Report, "phenomena.json");
}
