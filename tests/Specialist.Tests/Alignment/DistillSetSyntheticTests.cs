using System.Security.Cryptography;
using System.Text.Json;
using Specialist.Alignment;
using Specialist.Data;
using Specialist.Models;
using Specialist.Prompts;
using Specialist.Synthetic;
using Specialist.Tokenization;

namespace Specialist.Tests.Alignment;

/// <summary>
/// A gold distillation set built from a set file mixing synthetic math and generic (BBH-like) problems, for a student
/// with a word-level tokenizer: the miniature world's path through the builder.
/// </summary>
public sealed class DistillSetSyntheticTests
{
    private sealed record World(string Root, List<Problem> Problems, string Student, WordLevelTokenizer Tokenizer);

    private static readonly Lazy<World> Mix = new(() =>
    {
        var root = TestPaths.NewTempDir();
        var problems = SyntheticTasks.Generate(SyntheticTaskKind.Math, 24, seed: 5)
            .Concat(SyntheticTasks.Generate(SyntheticTaskKind.Generic, 64, seed: 5)).ToList();
        SetFile.Write(ProblemSets.SetFilePath(root, "mix-train"), problems);
        var tokenizer = WordLevelTokenizer.Build(problems.SelectMany(p => new[] { p.Question, p.Rationale! }), maxVocabulary: 1500);
        var tokenizerPath = Path.Combine(TestPaths.NewTempDir(), WordLevelTokenizer.FileName);
        tokenizer.Save(tokenizerPath);
        var student = TestPaths.NewTempDir();
        T5Checkpoint.WriteRandom(T5Config.Tiny with { VocabSize = tokenizer.VocabularySize }, student, tokenizerPath, seed: 1);
        return new World(root, problems, student, tokenizer);
    });

    private static readonly string GoldDirectory = TestPaths.NewTempDir();

    private static readonly Lazy<DistillSetManifest> Built = new(() =>
        DistillSetBuilder.Build(new DistillSetRequest(Path.Combine(GoldDirectory, "set"), Mix.Value.Student, null, Mix.Value.Root, DistillFormats.All,
            DistillFormats.PaperBatchSizes, 9, new AlignmentOptions()) { TrainSet = "mix-train", DevSet = null }));

    private static DistillSet Open()
    {
        _ = Built.Value;
        return DistillSet.Open(Path.Combine(GoldDirectory, "set"));
    }

    [Fact]
    public void The_manifest_names_the_train_set_and_the_word_level_tokenizer()
    {
        var manifest = Built.Value;

        Assert.Equal("gold", manifest.Source);
        Assert.Equal("mix-train", manifest.SourcePath);
        Assert.Equal(Mix.Value.Problems.Count, manifest.Questions);
        Assert.Equal(0, manifest.ExcludedDevQuestions);
        Assert.Equal(Mix.Value.Tokenizer.VocabularySize, manifest.VocabularySize);
        var tokenizerFile = Path.Combine(Mix.Value.Student, WordLevelTokenizer.FileName);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(tokenizerFile))), manifest.TokenizerSha256);
    }

    [Fact]
    public void In_context_demonstrations_come_from_the_question_s_task()
    {
        using var set = Open();
        var byId = Mix.Value.Problems.ToDictionary(p => p.Id);
        var questionsOfTask = Mix.Value.Problems.GroupBy(p => DemoSampler.TaskOf(p.Id)).ToDictionary(g => g.Key, g => g.Select(p => p.Question).ToHashSet());
        var navigate = 0;
        foreach (var (format, afterQuestion) in new[] { (TrainingFormat.InContextCot, "\nLet's think step by step"), (TrainingFormat.InContextAnswerOnly, "\nA:") })
        {
            for (var i = 0; i < set.Count(format); i++)
            {
                var example = set.Read(format, i);
                var task = DemoSampler.TaskOf(example.QuestionId);
                var input = Mix.Value.Tokenizer.Decode(example.EncoderIds);
                var blocks = input.Split("Q: ")[1..];
                Assert.Equal(5, blocks.Length);
                var demoQuestions = blocks.Select(b => b[..b.IndexOf(afterQuestion, StringComparison.Ordinal)]).ToList();
                Assert.Equal(byId[example.QuestionId].Question, demoQuestions[^1]);
                demoQuestions.RemoveAt(4);
                Assert.All(demoQuestions, q => Assert.Contains(q, questionsOfTask[task]));
                Assert.DoesNotContain(byId[example.QuestionId].Question, demoQuestions);
                if (task == "synth-bbh/navigate") navigate++;
            }
        }
        Assert.Equal(2 * 8, navigate);
    }

    [Fact]
    public void Gold_chains_of_thought_state_the_answer_once()
    {
        using var set = Open();
        var byId = Mix.Value.Problems.ToDictionary(p => p.Id);
        var generic = 0;
        for (var i = 0; i < set.Count(TrainingFormat.ZeroShotCot); i++)
        {
            var example = set.Read(TrainingFormat.ZeroShotCot, i);
            var problem = byId[example.QuestionId];
            var target = Mix.Value.Tokenizer.Decode(example.DecoderIds);
            if (example.QuestionId.StartsWith(SyntheticTasks.GenericIdPrefix, StringComparison.Ordinal))
            {
                generic++;
                Assert.EndsWith($"So the answer is {problem.Answer.Text}.", target);
                Assert.Equal(problem.Rationale!.Trim(), target);
                Assert.DoesNotContain("\nThe answer is", target);
            }
            else
            {
                Assert.Equal(problem.Rationale!.TrimEnd() + "\nThe answer is " + problem.Answer.Text, target);
                Assert.Single(target.Split('\n'), line => line.Contains("answer is", StringComparison.OrdinalIgnoreCase));
            }
        }
        Assert.Equal(64, generic);
    }

    [Fact]
    public void The_command_line_builds_from_a_named_train_set_and_checks_gold_against_it()
    {
        var directory = Path.Combine(TestPaths.NewTempDir(), "set");

        var result = CliRunner.Run("distill-set", "build", "--gold", "mix-train", "--dev-set", "none", "--student", Mix.Value.Student,
            "--out", directory, "--data-root", Mix.Value.Root, "--formats", "zs-ao", "--json");

        Assert.True(result.ExitCode == 0, result.ToString());
        var json = JsonDocument.Parse(result.Stdout).RootElement;
        Assert.Equal("mix-train", json.GetProperty("source_path").GetString());
        Assert.Equal(Mix.Value.Problems.Count, json.GetProperty("questions").GetInt32());
        var mismatch = CliRunner.Run("distill-set", "build", "--gold", "gsm8k-train", "--train-set", "mix-train", "--student", Mix.Value.Student,
            "--out", Path.Combine(TestPaths.NewTempDir(), "set"), "--data-root", Mix.Value.Root);
        Assert.Equal(2, mismatch.ExitCode);
        Assert.Contains("--gold takes the train set mix-train", mismatch.Stderr);
    }
}
