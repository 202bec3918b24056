using Specialist.Data;
using Specialist.Pipeline;
using Specialist.Prompts;
using Specialist.Tokenization;

namespace Specialist.Tests.Pipeline;

/// <summary>The world `specialist run` writes: set files read by name, disjoint splits, prompts and two tokenizers.</summary>
public sealed class MiniatureWorldTests
{
    private static readonly Lazy<MiniatureWorld> World = new(() => MiniatureWorld.Build(Path.Combine(TestPaths.NewTempDir(), "world"), RunProfile.Quick, seed: 3));

    private static IReadOnlyList<Problem> Load(string set) => ProblemSets.Load(set, new DataOptions(World.Value.Root));

    [Fact]
    public void Every_split_loads_by_name_with_the_profile_s_sizes_and_splits_share_no_question()
    {
        var profile = RunProfile.Quick;
        foreach (var stem in MiniatureWorld.OutOfDistribution.Prepend(MiniatureWorld.Math))
        {
            var dev = Load(MiniatureWorld.Set(stem, "dev"));
            var test = Load(MiniatureWorld.Set(stem, "test"));
            Assert.Equal(profile.MathDev, dev.Count);
            Assert.Equal(profile.MathTest, test.Count);
            Assert.Empty(dev.Select(p => p.Question).Intersect(test.Select(p => p.Question)));
        }
        var train = Load(MiniatureWorld.Set(MiniatureWorld.Math, "train"));
        Assert.Equal(profile.MathTrain, train.Count);
        Assert.Empty(train.Select(p => p.Question).Intersect(Load(MiniatureWorld.Set(MiniatureWorld.Math, "test")).Select(p => p.Question)));
        // The teacher learns from its own split: none of the questions it annotates, nor a dev or test one.
        var teacher = Load(MiniatureWorld.Set(MiniatureWorld.Math, MiniatureWorld.TeacherSplit));
        Assert.Equal(profile.TeacherMathTrain, teacher.Count);
        foreach (var split in new[] { "train", "dev", "test" })
            Assert.Empty(teacher.Select(p => p.Question).Intersect(Load(MiniatureWorld.Set(MiniatureWorld.Math, split)).Select(p => p.Question)));

        var genericDev = Load(MiniatureWorld.Set(MiniatureWorld.Generic, "dev"));
        Assert.All(genericDev.GroupBy(p => DemoSampler.TaskOf(p.Id)), task => Assert.Equal(profile.GenericDevPerTask, task.Count()));
        Assert.All(Load(MiniatureWorld.Set(MiniatureWorld.Generic, "test")).GroupBy(p => DemoSampler.TaskOf(p.Id)), task => Assert.Equal(profile.GenericTestPerTask, task.Count()));
        Assert.Equal(8, genericDev.Select(p => DemoSampler.TaskOf(p.Id)).Distinct().Count());
        Assert.Empty(genericDev.Select(p => p.Question).Intersect(Load(MiniatureWorld.Set(MiniatureWorld.Generic, "train")).Select(p => p.Question)));

        // The generalist's mixture: every generic task, and math as much as three of them.
        var mixture = Load(MiniatureWorld.Mixture);
        Assert.Equal(3 * profile.GenericTrainPerTask, mixture.Count(p => p.Id.StartsWith("synth-math/", StringComparison.Ordinal)));
        Assert.Equal(9, mixture.Select(p => DemoSampler.TaskOf(p.Id)).Distinct().Count());
    }

    [Fact]
    public void The_4_shot_query_is_the_in_context_training_input_of_its_demonstrations()
    {
        var train = Load(MiniatureWorld.Set(MiniatureWorld.Math, "train"));
        var question = Load(MiniatureWorld.Set(MiniatureWorld.Math, "test"))[0];
        var query = new EvaluationQueries(World.Value.Root, MathPromptStyle.FourShot).Render(question);
        var training = TrainingPrompts.Input(TrainingFormat.InContextCot, question.Question, [.. train.Take(TrainingPrompts.DemoCount)]);
        Assert.Equal(training, query.TrimEnd());
        // Word-level tokenizers drop the trailing newline, so the student sees the very input it trained on.
        var student = Tokenizers.Load(World.Value.StudentTokenizer);
        Assert.Equal(student.Encode(training).Ids, student.Encode(query).Ids);
        Assert.Equal("Q: {question}\nLet's think step by step", File.ReadAllText(World.Value.TeacherPrompt));
    }

    [Fact]
    public void The_teacher_has_every_word_whole_and_the_student_spells_the_rare_ones()
    {
        var teacher = Tokenizers.Load(World.Value.TeacherTokenizer);
        var student = Tokenizers.Load(World.Value.StudentTokenizer);
        Assert.Equal(RunProfile.Quick.StudentVocabulary, student.VocabularySize);
        Assert.True(teacher.VocabularySize > student.VocabularySize);
        var text = string.Join("\n", Load(MiniatureWorld.Set(MiniatureWorld.Math, "train")).Take(40).Select(p => p.Question + "\n" + p.Rationale));
        var teacherPieces = teacher.Encode(text).Tokens;
        var studentPieces = student.Encode(text).Tokens;
        Assert.True(teacherPieces.Count < studentPieces.Count, $"{teacherPieces.Count} teacher tokens, {studentPieces.Count} student tokens");
        // A word the teacher keeps whole is several student tokens covering the same characters.
        var whole = teacherPieces.First(t => t.Length > 3 && studentPieces.Count(s => s.Start >= t.Start && s.Start + s.Length <= t.Start + t.Length) > 1);
        Assert.All(studentPieces.Where(s => s.Start >= whole.Start && s.Start < whole.Start + whole.Length), s => Assert.True(s.Length < whole.Length));
        // Both split numbers into digits, and both give the text back.
        foreach (var tokenizer in new[] { teacher, student })
            Assert.Equal(["1", "2", "0"], tokenizer.Encode("120").Tokens.Where(t => t.Id != tokenizer.EosId).Select(t => t.Piece));
        Assert.Equal(student.Decode(student.Encode(text).Ids), teacher.Decode(teacher.Encode(text).Ids));
    }
}
