using System.Text.Json;
using Specialist.Alignment;
using Specialist.Data;
using Specialist.Prompts;
using Specialist.Tokenization;

namespace Specialist.Tests.Alignment;

public sealed class DistillSetTests
{
    private static readonly ITokenizer T5 = Tokenizers.Load(TestPaths.T5SpieceModel);
    private static readonly DataOptions Data = new(TestPaths.DataRoot);
    private static readonly Lazy<string> Student = new(StoreKit.StudentFolder);

    /// <summary>The full gold set, built once through the CLI (all four formats over GSM8K train).</summary>
    private static readonly Lazy<(string Directory, CliRunner.Result Result)> Gold = new(() =>
    {
        var directory = Path.Combine(TestPaths.NewTempDir(), "gold");
        var result = CliRunner.Run("distill-set", "build", "--gold", "gsm8k-train", "--student", Student.Value, "--out", directory,
            "--data-root", TestPaths.DataRoot, "--seed", "7", "--json");
        return (directory, result);
    });

    private static (StoreKit.Built Store, List<Problem> Dev) SmallStore()
    {
        var train = ProblemSets.Load("gsm8k-train", Data);
        var devSet = ProblemSets.Load("gsm8k-dev", Data);
        var devIds = devSet.Select(p => p.Id).ToHashSet();
        var dev = devSet.Take(2).ToList();
        var problems = train.Where(p => !devIds.Contains(p.Id)).Take(14).Concat(dev).ToList();
        return (StoreKit.Create(problems, q => 1 + q % 4), dev);
    }

    [Fact]
    public void GoldSetHasOneExampleOfEachFormatPerTrainingQuestionOutsideDev()
    {
        var (directory, result) = Gold.Value;
        Assert.True(result.ExitCode == 0, result.ToString());
        var json = JsonDocument.Parse(result.Stdout).RootElement;
        var train = ProblemSets.Load("gsm8k-train", Data);
        var dev = ProblemSets.Load("gsm8k-dev", Data).Select(p => p.Id).ToHashSet();
        var expected = train.Count - dev.Count;
        Assert.Equal(expected, json.GetProperty("questions").GetInt32());
        Assert.Equal(dev.Count, json.GetProperty("excluded_dev_questions").GetInt32());
        foreach (var (name, size) in new[] { ("ic-cot", 25), ("ic-ao", 35), ("zs-cot", 40), ("zs-ao", 60) })
        {
            var format = json.GetProperty("formats").GetProperty(name);
            Assert.Equal(expected, format.GetProperty("examples").GetInt32());
            Assert.Equal(size, format.GetProperty("micro_batch_size").GetInt32());
            Assert.Equal((expected + size - 1) / size, format.GetProperty("micro_batches").GetInt32());
        }

        using var set = DistillSet.Open(directory);
        Assert.Equal("gold", set.Manifest.Source);
        Assert.Null(set.Manifest.Alignment);
        // The plan covers every example of every format exactly once, in single-format micro-batches of the format's size.
        foreach (var format in DistillFormats.All)
        {
            var batches = set.Plan.Where(b => b.Format == format).ToList();
            Assert.Equal(Enumerable.Range(0, expected), batches.SelectMany(b => b.Examples).Order());
            Assert.All(batches, b => Assert.InRange(b.Examples.Count, 1, DistillFormats.PaperBatchSizes[format]));
            Assert.Equal(1, batches.Count(b => b.Examples.Count < DistillFormats.PaperBatchSizes[format]));
        }
        // Formats are interleaved, not one after another.
        Assert.True(set.Plan.Take(20).Select(b => b.Format).Distinct().Count() > 1);
    }

    [Fact]
    public void GoldExamplesHoldThePromptsAndTheHumanRationaleWithOneHotTargets()
    {
        var (directory, result) = Gold.Value;
        Assert.True(result.ExitCode == 0, result.ToString());
        using var set = DistillSet.Open(directory);
        var train = ProblemSets.Load("gsm8k-train", Data).ToDictionary(p => p.Id);
        var dev = ProblemSets.Load("gsm8k-dev", Data).Select(p => p.Id).ToHashSet();
        foreach (var format in DistillFormats.All)
        {
            for (var i = 0; i < set.Count(format); i += 997)
            {
                var example = set.Read(format, i);
                Assert.DoesNotContain(example.QuestionId, dev);
                var problem = train[example.QuestionId];
                var input = T5.Decode(example.EncoderIds);
                var target = T5.Decode(example.DecoderIds);
                Assert.Equal(1, example.EncoderIds[^1]);
                Assert.Equal(1, example.DecoderIds[^1]);
                Assert.EndsWith(T5.Decode(T5.Encode("Q: " + problem.Question + (format switch
                {
                    TrainingFormat.ZeroShotAnswerOnly => " A:",
                    TrainingFormat.InContextAnswerOnly => "\nA:",
                    _ => "\nLet's think step by step",
                })).Ids), input);
                // In-context inputs carry 4 demonstrations before the question.
                Assert.Equal(TrainingPrompts.IsInContext(format) ? 5 : 1, input.Split("Q: ").Length - 1);
                var expected = TrainingPrompts.IsCot(format)
                    ? GsmRationale.StripCalculatorMarks(problem.Rationale!).Trim() + "\nThe answer is " + problem.Answer.Text
                    : "The answer is " + problem.Answer.Text;
                Assert.Equal(T5.Decode(T5.Encode(expected).Ids), target);
                Assert.Equal(-1, example.SampleIndex);
                Assert.Equal(example.DecoderIds.Length, example.Targets.Count);
                for (var t = 0; t < example.DecoderIds.Length; t++)
                {
                    Assert.Equal([example.DecoderIds[t]], example.Targets.Ids(t).ToArray());
                    Assert.Equal([1.0], example.Targets.Probabilities(t).ToArray());
                }
            }
        }
    }

    [Fact]
    public void StoreSetHasEveryKeptChainOfThoughtInEachCotFormatAndOneAnswerOnlyExamplePerQuestion()
    {
        var (store, dev) = SmallStore();
        var directory = Path.Combine(TestPaths.NewTempDir(), "set");

        var result = CliRunner.Run("distill-set", "build", "--store", store.Path, "--student", Student.Value, "--out", directory, "--data-root", TestPaths.DataRoot, "--json");

        Assert.True(result.ExitCode == 0, result.ToString());
        var devIds = dev.Select(p => p.Id).ToHashSet();
        var questions = store.Problems.Count(p => !devIds.Contains(p.Id));
        var kept = store.Kept.Where(k => !devIds.Contains(k.Key)).Sum(k => k.Value);
        Assert.True(kept < store.Samples.Values.Sum(), "the store should hold some samples that are not kept");
        var json = JsonDocument.Parse(result.Stdout).RootElement;
        Assert.Equal(questions, json.GetProperty("questions").GetInt32());
        Assert.Equal(devIds.Count, json.GetProperty("excluded_dev_questions").GetInt32());
        var formats = json.GetProperty("formats");
        Assert.Equal(questions, formats.GetProperty("zs-ao").GetProperty("examples").GetInt32());
        Assert.Equal(questions, formats.GetProperty("ic-ao").GetProperty("examples").GetInt32());
        Assert.Equal(kept, formats.GetProperty("zs-cot").GetProperty("examples").GetInt32());
        Assert.Equal(kept, formats.GetProperty("ic-cot").GetProperty("examples").GetInt32());

        using var set = DistillSet.Open(directory);
        var alignment = set.Manifest.Alignment!;
        Assert.Equal("fast", alignment.Mode);
        Assert.InRange(alignment.SoftTargets, 1, alignment.TargetTokens - 1);
        var fromStore = Specialist.Teachers.AnnotationStore.Open(store.Path, create: false);
        // The set keeps the store's order (question ids as text, then sample index).
        var keptSamples = fromStore.ReadSamples(keptOnly: true).Where(s => !devIds.Contains(s.QuestionId)).ToList();
        fromStore.Dispose();
        foreach (var format in new[] { TrainingFormat.ZeroShotCot, TrainingFormat.InContextCot })
        {
            var examples = Enumerable.Range(0, set.Count(format)).Select(i => set.Read(format, i)).ToList();
            Assert.Equal(keptSamples.Select(s => (s.QuestionId, s.SampleIndex)), examples.Select(e => (e.QuestionId, e.SampleIndex)));
            foreach (var (example, sample) in examples.Zip(keptSamples))
            {
                Assert.Equal(T5.Encode(sample.Text.Trim()).Ids, example.DecoderIds);
                Assert.Contains(Enumerable.Range(0, example.Targets.Count), t => example.Targets.Kind(t) == TargetKind.Teacher);
                // Soft targets are the aligner's, stored in fp16.
                var aligned = new TokenAligner(T5).Align(AlignmentFiles.FromStored(sample.Text, sample.Positions!, new TeacherVocabulary(), TeacherTokenForm.Auto));
                for (var t = 0; t < aligned.Targets.Count; t++)
                {
                    Assert.Equal(aligned.Targets.Ids(t).ToArray(), example.Targets.Ids(t).ToArray());
                    Assert.Equal(aligned.Targets.Probabilities(t).ToArray().Select(p => (double)(Half)p), example.Targets.Probabilities(t).ToArray());
                }
                Assert.Equal([1], example.Targets.Ids(example.Targets.Count - 1).ToArray());
            }
        }
    }

    [Fact]
    public void TheSameSeedBuildsTheSameSetAndAnotherSeedAnother()
    {
        var (store, _) = SmallStore();
        string Build(string seed)
        {
            var directory = Path.Combine(TestPaths.NewTempDir(), "set");
            DistillSetBuilder.Build(new DistillSetRequest(directory, Student.Value, store.Path, TestPaths.DataRoot, DistillFormats.All,
                DistillFormats.ParseBatchSizes("ic-cot=3,zs-ao=4"), ulong.Parse(seed), new AlignmentOptions()));
            return directory;
        }
        var first = Build("5");
        var again = Build("5");
        var other = Build("6");
        foreach (var file in Directory.GetFiles(first).Select(Path.GetFileName).Where(f => f != "manifest.json"))
        {
            Assert.Equal(File.ReadAllBytes(Path.Combine(first, file!)), File.ReadAllBytes(Path.Combine(again, file!)));
        }
        Assert.NotEqual(File.ReadAllBytes(Path.Combine(first, "ic-cot.examples")), File.ReadAllBytes(Path.Combine(other, "ic-cot.examples")));
        Assert.NotEqual(File.ReadAllText(Path.Combine(first, "plan.jsonl")), File.ReadAllText(Path.Combine(other, "plan.jsonl")));
        // Zero-shot inputs draw no demonstrations, so they are the same under any seed.
        Assert.Equal(File.ReadAllBytes(Path.Combine(first, "zs-cot.examples")), File.ReadAllBytes(Path.Combine(other, "zs-cot.examples")));
        using var set = DistillSet.Open(first);
        Assert.All(set.Plan.Where(b => b.Format == TrainingFormat.InContextCot), b => Assert.InRange(b.Examples.Count, 1, 3));
    }

    [Fact]
    public void ExampleRecordsRoundTripWithHalfPrecisionProbabilities()
    {
        var vocabulary = new TeacherVocabulary();
        var teacher = TeacherSequence.Create("She earned 5", vocabulary,
        [
            [new TeacherCandidate("She", 0.9)],
            [new TeacherCandidate(" earned", 0.6123), new TeacherCandidate(" made", 0.3), new TeacherCandidate(" earned", 0.6123)],
            [new TeacherCandidate(" 5", 0.75), new TeacherCandidate(" 6", 0.0001)],
        ]);
        var aligned = new TokenAligner(T5).Align(teacher);
        var decoder = aligned.StudentIds.Append(1).ToArray();
        var bytes = DistillSet.EncodeExample("gsm8k-train/3", 2, [10, 20, 1], decoder, aligned.Targets.WithOneHotEnd([1]));

        var example = DistillSet.DecodeExample(TrainingFormat.ZeroShotCot, bytes);

        Assert.Equal(("gsm8k-train/3", 2), (example.QuestionId, example.SampleIndex));
        Assert.Equal([10, 20, 1], example.EncoderIds);
        Assert.Equal(decoder, example.DecoderIds);
        Assert.Equal(TargetKind.OneHot, example.Targets.Kind(0));
        Assert.Equal([T5.Encode(" earned").Ids[0], T5.Encode(" made").Ids[0]], example.Targets.Ids(1).ToArray());
        Assert.Equal([(double)(Half)0.6123, (double)(Half)0.3], example.Targets.Probabilities(1).ToArray());
        Assert.Equal((double)(Half)0.0001, example.Targets.Probabilities(2)[1]);
        Assert.Equal([1.0], example.Targets.Probabilities(3).ToArray());
    }

    [Fact]
    public void ABrokenSetIsReportedByFile()
    {
        var (store, _) = SmallStore();
        var directory = Path.Combine(TestPaths.NewTempDir(), "set");
        DistillSetBuilder.Build(new DistillSetRequest(directory, Student.Value, store.Path, TestPaths.DataRoot, [TrainingFormat.ZeroShotAnswerOnly],
            DistillFormats.PaperBatchSizes, 1, new AlignmentOptions()));
        var examples = Path.Combine(directory, "zs-ao.examples");
        File.WriteAllBytes(examples, File.ReadAllBytes(examples)[..^3]);

        var result = CliRunner.Run("distill-set", "info", directory);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("zs-ao.examples", result.Stderr);
        Assert.Contains("truncated", result.Stderr);
        Assert.Equal(1, CliRunner.Run("distill-set", "info", TestPaths.NewTempDir()).ExitCode);
        // An existing non-empty folder is never overwritten.
        var again = CliRunner.Run("distill-set", "build", "--store", store.Path, "--student", Student.Value, "--out", directory, "--data-root", TestPaths.DataRoot);
        Assert.Equal(1, again.ExitCode);
        Assert.Contains("already exists", again.Stderr);
    }
}
