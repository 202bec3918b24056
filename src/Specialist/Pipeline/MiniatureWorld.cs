using Specialist.Data;
using Specialist.Prompts;
using Specialist.Synthetic;
using Specialist.Tokenization;

namespace Specialist.Pipeline;

/// <summary>
/// The miniature world's data root: synthetic sets as set files (<c>sets/&lt;name&gt;.jsonl</c>, read by name like
/// any set), the prompts the stages read (<c>prompts/</c>) and the two tokenizers (<c>tokenizers/</c>). Every stage
/// after this one reads it as it reads the real data root.
/// </summary>
/// <param name="Root">The data root.</param>
/// <param name="TeacherTokenizer">The teacher's word-level tokenizer.json: every word of the world is one piece.</param>
/// <param name="StudentTokenizer">The students' word-level tokenizer.json: the frequent words; the others are spelt letter by letter.</param>
public sealed record MiniatureWorld(string Root, string TeacherTokenizer, string StudentTokenizer)
{
    /// <summary>The in-distribution math sets' stem (<c>synth-math-train</c>, <c>-dev</c>, <c>-test</c>, <c>-teacher</c>).</summary>
    public const string Math = "synth-math";
    /// <summary>
    /// The split the teacher is trained on (<c>synth-math-teacher</c>): disjoint from the training questions it annotates,
    /// so its chains of thought there are what it knows, not what it memorised.
    /// </summary>
    public const string TeacherSplit = "teacher";
    /// <summary>The generic (BBH-like) sets' stem.</summary>
    public const string Generic = "synth-bbh";
    /// <summary>
    /// The generalist's training mixture: the generic training problems and as many math ones as three generic tasks
    /// have (FlanT5's mixture held math chains of thought too, a minority of it).
    /// </summary>
    public const string Mixture = "synth-mix-train";

    /// <summary>The out-of-distribution math stems: held-out phrasings of familiar shapes, then MultiArith-, ASDiv- and SVAMP-like.</summary>
    public static IReadOnlyList<string> OutOfDistribution { get; } = ["synth-math-mild", "synth-multiarith", "synth-asdiv", "synth-svamp"];

    /// <summary>The annotation prompt of the miniature teacher: zero-shot, as it was trained.</summary>
    public const string TeacherPromptFile = "teacher_zero_shot.txt";

    /// <summary>A set's name: <paramref name="stem"/> and its split (<c>train</c>, <c>dev</c>, <c>test</c>).</summary>
    public static string Set(string stem, string split) => $"{stem}-{split}";

    /// <summary>The teacher's annotation prompt file.</summary>
    public string TeacherPrompt => Path.Combine(Root, "prompts", TeacherPromptFile);

    /// <summary>
    /// Writes the world into <paramref name="root"/>: per kind one seeded call sliced into disjoint train, dev and test
    /// sets (and, for in-distribution math, the teacher's own training split); the 4-shot evaluation prompt from four training problems; the tokenizers built from every question and
    /// the training chains of thought (a pretrained tokenizer knows the words of the test questions too).
    /// </summary>
    public static MiniatureWorld Build(string root, RunProfile profile, ulong seed)
    {
        var sets = new Dictionary<string, IReadOnlyList<Problem>>(StringComparer.Ordinal);
        void Split(string stem, IReadOnlyList<Problem> problems, int train, int dev, int test)
        {
            if (train > 0) sets[Set(stem, "train")] = [.. problems.Take(train)];
            sets[Set(stem, "dev")] = [.. problems.Skip(train).Take(dev)];
            sets[Set(stem, "test")] = [.. problems.Skip(train + dev).Take(test)];
        }

        var math = SyntheticTasks.Generate(SyntheticTaskKind.Math, profile.MathTrain + profile.MathDev + profile.MathTest + profile.TeacherMathTrain, seed);
        Split(Math, math, profile.MathTrain, profile.MathDev, profile.MathTest);
        sets[Set(Math, TeacherSplit)] = [.. math.Skip(profile.MathTrain + profile.MathDev + profile.MathTest)];
        var oodKinds = new[] { SyntheticTaskKind.MathMild, SyntheticTaskKind.MultiArith, SyntheticTaskKind.Asdiv, SyntheticTaskKind.Svamp };
        for (var i = 0; i < oodKinds.Length; i++)
            Split(OutOfDistribution[i], SyntheticTasks.Generate(oodKinds[i], profile.MathDev + profile.MathTest, seed), 0, profile.MathDev, profile.MathTest);

        // Generic sets hold every task in equal numbers, each task's problems in their own disjoint slices.
        var (genericTrain, genericDev, genericTest) = (profile.GenericTrainPerTask, profile.GenericDevPerTask, profile.GenericTestPerTask);
        var perTask = SyntheticTasks.GenericTaskNames
            .Select(task => SyntheticTasks.GenerateGeneric(task, genericTrain + genericDev + genericTest, seed))
            .ToList();
        foreach (var (split, skip, take) in new[] { ("train", 0, genericTrain), ("dev", genericTrain, genericDev), ("test", genericTrain + genericDev, genericTest) })
            sets[Set(Generic, split)] = [.. perTask.SelectMany(t => t.Skip(skip).Take(take))];
        sets[Mixture] = [.. sets[Set(Math, "train")].Take(3 * profile.GenericTrainPerTask), .. sets[Set(Generic, "train")]];

        var world = new MiniatureWorld(Path.GetFullPath(root), Path.GetFullPath(Path.Combine(root, TokenizersFolder, "teacher.json")),
            Path.GetFullPath(Path.Combine(root, TokenizersFolder, "student.json")));
        Directory.CreateDirectory(Path.Combine(root, "sets"));
        foreach (var (name, problems) in sets) Data.SetFile.Write(world.SetFile(name), problems);

        // The student's 4-shot prompt lays its demonstrations out as the in-context training inputs do; the paper's
        // prompt file ends with one newline, and the query adds "\nQ: ...".
        var train = sets[Set(Math, "train")];
        var prompts = Path.Combine(root, "prompts");
        Directory.CreateDirectory(prompts);
        AtomicFile.WriteText(Path.Combine(prompts, EvaluationPrompts.FewShotMathFile),
            TrainingPrompts.Demonstrations(TrainingFormat.InContextCot, [.. train.Take(TrainingPrompts.DemoCount)]).TrimEnd('\n') + "\n");
        AtomicFile.WriteText(Path.Combine(prompts, TeacherPromptFile), TrainingPrompts.Input(TrainingFormat.ZeroShotCot, "{question}"));

        // The teacher's tokenizer reads math only, its one job, so the generic tasks can change without a new teacher.
        var mathSets = sets.Where(s => !s.Key.StartsWith(Generic, StringComparison.Ordinal) && s.Key != Mixture).SelectMany(s => s.Value).ToList();
        var mathCorpus = mathSets.Select(p => p.Question).Concat(train.Concat(sets[Set(Math, TeacherSplit)]).Select(TrainingPrompts.GoldChainOfThought))
            .Append(TrainingPrompts.Input(TrainingFormat.InContextAnswerOnly, "", [.. train.Take(1)]))
            .ToList();
        var corpus = mathCorpus.Concat(sets.Where(s => s.Key.StartsWith(Generic, StringComparison.Ordinal)).SelectMany(s => s.Value).Select(p => p.Question))
            .Concat(sets[Set(Generic, "train")].Select(TrainingPrompts.GoldChainOfThought))
            .ToList();
        Directory.CreateDirectory(Path.Combine(root, TokenizersFolder));
        WordLevelTokenizer.Build(mathCorpus, profile.TeacherVocabulary).Save(world.TeacherTokenizer);
        WordLevelTokenizer.Build(corpus, profile.StudentVocabulary).Save(world.StudentTokenizer);
        return world;
    }

    private const string TokenizersFolder = "tokenizers";

    /// <summary>The file of the set called <paramref name="name"/>.</summary>
    public string SetFile(string name) => Path.Combine(Root, "sets", name + ".jsonl");

    /// <summary>The world a finished <see cref="Build"/> left in <paramref name="root"/>.</summary>
    public static MiniatureWorld Open(string root) =>
        new(Path.GetFullPath(root), Path.GetFullPath(Path.Combine(root, TokenizersFolder, "teacher.json")), Path.GetFullPath(Path.Combine(root, TokenizersFolder, "student.json")));
}
