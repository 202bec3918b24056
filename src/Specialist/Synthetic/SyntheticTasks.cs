using Specialist.Data;
using Specialist.Prompts;

namespace Specialist.Synthetic;

/// <summary>The synthetic sets <see cref="SyntheticTasks"/> makes.</summary>
public enum SyntheticTaskKind
{
    /// <summary>In-distribution GSM8K-like word problems, 2–4 operations (ids <c>synth-math/N</c>).</summary>
    Math,
    /// <summary>
    /// The mild out-of-distribution split: the in-distribution problem shapes with exactly two operations, worded only
    /// with phrasings held out of <see cref="Math"/> (ids <c>synth-math-mild/N</c>).
    /// </summary>
    MathMild,
    /// <summary>MultiArith-like fixed two-step patterns (ids <c>synth-multiarith/N</c>).</summary>
    MultiArith,
    /// <summary>ASDiv-like one- to three-step problems with units (ids <c>synth-asdiv/N</c>).</summary>
    Asdiv,
    /// <summary>SVAMP-like variations: an irrelevant number, the question first, a changed question (ids <c>synth-svamp/N</c>).</summary>
    Svamp,
    /// <summary>The BIG-Bench-Hard-like generic suite, its tasks in turn (ids <c>synth-bbh/&lt;task&gt;/N</c>).</summary>
    Generic,
}

/// <summary>
/// Seeded synthetic tasks with gold chains of thought, as <see cref="Problem"/>s the rest of the pipeline treats like
/// real sets. The same kind, count and seed give the same problems on any platform and .NET version, and a longer set
/// begins with the shorter one; the problems of one call have distinct questions, so disjoint train, dev and test
/// splits come from slicing one call's problems.
/// </summary>
/// <remarks>
/// <para>Math problems follow GSM8K's layout: <see cref="Problem.Rationale"/> has one step per line, each with one
/// <c>a op b = c</c> (op one of <c>+ - * /</c>), and, like GSM8K's rationales before <c>#### N</c>, stops before the
/// final "The answer is N", which the prompts and training targets append. Every number in a step comes from the
/// question or an earlier step, and every result is a whole number from 1 to 100.</para>
/// <para>Generic problems follow BBH's exemplars: the rationale ends "So the answer is X." and the gold answer is the
/// target text X (<c>True</c>, <c>(B)</c>, <c>] ) }</c>, <c>-12</c>, …).</para>
/// </remarks>
public static class SyntheticTasks
{
    // Before GenericTaskNames, which static initialisation reads it for.
    private static readonly (string Name, ProblemSource Draw, double Chance)[] GenericTasks =
    [
        (BooleanExpressionTask.Name, BooleanExpressionTask.Draw, BooleanExpressionTask.Chance),
        (WordSortingTask.Name, WordSortingTask.Draw, WordSortingTask.Chance),
        (ObjectCountingTask.Name, ObjectCountingTask.Draw, ObjectCountingTask.Chance),
        (DyckLanguageTask.Name, DyckLanguageTask.Draw, DyckLanguageTask.Chance),
        (NavigateTask.Name, NavigateTask.Draw, NavigateTask.Chance),
        (MultistepArithmeticTask.Name, MultistepArithmeticTask.Draw, MultistepArithmeticTask.Chance),
        (ShuffledObjectsTask.Name, ShuffledObjectsTask.Draw, ShuffledObjectsTask.Chance),
        (DateArithmeticTask.Name, DateArithmeticTask.Draw, DateArithmeticTask.Chance),
    ];

    /// <summary>The kinds' names, as <c>specialist synth --task</c> takes them, in <see cref="SyntheticTaskKind"/> order.</summary>
    public static IReadOnlyList<string> KindNames { get; } = ["math", "math-mild", "multiarith", "asdiv", "svamp", "generic"];

    /// <summary>The generic suite's tasks, named as in BIG-Bench Hard.</summary>
    public static IReadOnlyList<string> GenericTaskNames { get; } = [.. GenericTasks.Select(t => t.Name)];

    /// <summary>
    /// The accuracy of guessing uniformly on one generic task (one of <see cref="GenericTaskNames"/>): 1 / options for
    /// the tasks that list their options (Yes/No and True/False tasks 0.5), 0 for free-form answers (a sorted word
    /// list, a number, a bracket sequence), which a guess practically never hits.
    /// </summary>
    public static double GenericTaskChance(string task) => GenericTasks[GenericTaskIndex(task)].Chance;

    /// <summary>The id prefix of generic problems: <c>synth-bbh/&lt;task&gt;/N</c>.</summary>
    public const string GenericIdPrefix = Problem.SyntheticBbhPrefix;

    // A source whose draws keep repeating questions or breaking its rules this many times in a row has run dry.
    private const int MaxMissesInARow = 100_000;

    /// <summary>The name of <paramref name="kind"/> (<c>math</c>, <c>math-mild</c>, …).</summary>
    public static string KindName(SyntheticTaskKind kind) => KindNames[(int)kind];

    /// <summary>The kind called <paramref name="name"/>; throws <see cref="SpecialistException"/> listing the names otherwise.</summary>
    public static SyntheticTaskKind ParseKind(string name)
    {
        var index = KindNames.ToList().IndexOf(name);
        return index >= 0 ? (SyntheticTaskKind)index : throw new SpecialistException($"unknown synthetic task '{name}'; the tasks are: {string.Join(", ", KindNames)}");
    }

    /// <summary>
    /// <paramref name="count"/> problems of <paramref name="kind"/> from <paramref name="seed"/>. For
    /// <see cref="SyntheticTaskKind.Generic"/> the tasks take turns (problem i is of task i mod 8), and each task's
    /// problems are those <see cref="GenerateGeneric"/> gives.
    /// </summary>
    public static IReadOnlyList<Problem> Generate(SyntheticTaskKind kind, int count, ulong seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (kind == SyntheticTaskKind.Generic)
        {
            var tasks = GenericTasks.Length;
            var perTask = GenericTasks.Select((t, k) => GenerateGeneric(t.Name, count / tasks + (k < count % tasks ? 1 : 0), seed)).ToList();
            return [.. Enumerable.Range(0, count).Select(i => perTask[i % tasks][i / tasks])];
        }
        ProblemSource source = kind switch
        {
            SyntheticTaskKind.Math => (ref SplitMix64 r) => GsmLikeProblems.Draw(ref r, Wording.Familiar),
            SyntheticTaskKind.MathMild => (ref SplitMix64 r) => GsmLikeProblems.Draw(ref r, Wording.HeldOut),
            SyntheticTaskKind.MultiArith => MultiArithLikeProblems.Draw,
            SyntheticTaskKind.Asdiv => AsdivLikeProblems.Draw,
            SyntheticTaskKind.Svamp => SvampLikeProblems.Draw,
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
        };
        var name = KindName(kind);
        return Draw("synth-" + name, name, count, seed, source);
    }

    /// <summary><paramref name="count"/> problems of one generic task (one of <see cref="GenericTaskNames"/>) from <paramref name="seed"/>.</summary>
    public static IReadOnlyList<Problem> GenerateGeneric(string task, int count, ulong seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        return Draw(GenericIdPrefix + task, "generic/" + task, count, seed, GenericTasks[GenericTaskIndex(task)].Draw);
    }

    private static int GenericTaskIndex(string task)
    {
        var index = Array.FindIndex(GenericTasks, t => t.Name == task);
        return index >= 0 ? index : throw new SpecialistException($"unknown generic task '{task}'; the tasks are: {string.Join(", ", GenericTaskNames)}");
    }

    private static List<Problem> Draw(string idPrefix, string streamName, int count, ulong seed, ProblemSource source)
    {
        var random = Stream(seed, streamName);
        var problems = new List<Problem>(count);
        var questions = new HashSet<string>(StringComparer.Ordinal);
        for (var misses = 0; problems.Count < count;)
        {
            if (source(ref random) is { } item && questions.Add(item.Question))
            {
                problems.Add(new Problem($"{idPrefix}/{problems.Count}", item.Question, item.Answer, item.Rationale));
                misses = 0;
            }
            else if (++misses == MaxMissesInARow)
                throw new SpecialistException($"cannot make {count} distinct {idPrefix} problems: only {problems.Count} exist for this generator");
        }
        return problems;
    }

    // Each set draws from its own stream, so adding a task or changing one never changes the others' problems.
    private static SplitMix64 Stream(ulong seed, string name)
    {
        var hash = 14695981039346656037UL; // FNV-1a over the name's UTF-16 code units
        foreach (var c in name)
        {
            hash ^= c;
            hash *= 1099511628211UL;
        }
        return new SplitMix64(seed ^ hash);
    }
}
