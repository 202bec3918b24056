using System.Text.Json.Nodes;
using Specialist.Alignment;
using Specialist.Answers;
using Specialist.Data;
using Specialist.Evaluation;
using Specialist.Models;
using Specialist.Pipeline;
using Specialist.Teachers;
using Specialist.Tests.Teachers;
using Specialist.Tests.Training;
using Specialist.Tokenization;

namespace Specialist.Tests.Pipeline;

/// <summary>
/// Issue 17's acceptance: a random-init Qwen2-shaped student of about 5M parameters through <c>specialist run
/// --config</c>, small, on the miniature world's data root. The teacher is a tiny T5 trained here (a few seconds) to
/// answer "The answer is 7" to a set of the world's math questions whose gold answer is 7, so its samples are kept,
/// behind the real <c>specialist serve</c> on 127.0.0.1. Every stage runs: annotate from serve, align the teacher's
/// top-k onto the student's tokenizer, train with distribution matching, evaluate before and after, report.
/// </summary>
public sealed class DecoderOnlyRunTests
{
    [Fact]
    public void A_qwen2_shaped_student_goes_through_every_stage_of_run_config()
    {
        var temp = TestPaths.NewTempDir();
        var world = MiniatureWorld.Build(Path.Combine(temp, "world"), RunProfile.Quick, RunProfile.WorldSeed);
        var seven = GoldAnswer.FromNumber(7);
        SetFile.Write(world.SetFile(SevenSet), ProblemSets.Load("synth-math-train", new DataOptions(world.Root)).Take(16)
            .Select(p => p with { Answer = seven, Rationale = "Count them." }));
        var teacher = TrainTeacher(world, temp);

        var configFile = Path.Combine(temp, "qwen2.json");
        var vocabulary = Tokenizers.Load(world.StudentTokenizer).VocabularySize;
        File.WriteAllText(configFile, TrainingTestKit.DecoderOnlyConfig(vocabulary, hidden: 256, intermediate: 768, layers: 6).ToJsonString());
        var student = Path.Combine(temp, "student");
        TrainingTestKit.Check(CliRunner.Run("model", "init", "--config", configFile, "--tokenizer", world.StudentTokenizer, "--out", student, "--seed", "7"));
        Assert.InRange(StudentModel.Inspect(student).ParameterCount, 4_500_000, 5_500_000);

        using var serve = TeacherTestKit.Start("serve", "--model", teacher, "--port", "0", "--name", "seven-teacher");
        var url = serve.WaitForLine(@"^listening on (\S+)$", TimeSpan.FromMinutes(2));
        Assert.StartsWith("http://127.0.0.1:", url);

        var output = Path.Combine(temp, "run");
        var file = Path.Combine(temp, "run-config.json");
        File.WriteAllText(file, new JsonObject
        {
            ["out"] = output,
            ["data_root"] = world.Root,
            ["student"] = student,
            ["seed"] = 3,
            ["teacher"] = new JsonObject
            {
                ["endpoint"] = url + "/v1", ["model"] = "seven-teacher", ["set"] = SevenSet, ["prompt_file"] = world.TeacherPrompt,
                ["samples"] = 2, ["max_tokens"] = 32, ["concurrency"] = 2,
            },
            ["distill"] = new JsonObject
            {
                ["formats"] = new JsonArray("ic-cot", "zs-cot", "zs-ao"), ["dev_set"] = "none",
                ["batch_size"] = new JsonObject { ["ic-cot"] = 2, ["zs-cot"] = 2, ["zs-ao"] = 4 },
            },
            ["train"] = new JsonObject
            {
                ["loss"] = "distribution", ["steps"] = 4, ["warmup"] = 1, ["lr"] = 5e-3, ["eval_every"] = 0,
                ["eval_sets"] = new JsonArray("synth-math-dev", "synth-multiarith-dev"), ["id_set"] = "synth-math-dev",
                ["eval_limit"] = 2, ["eval_prompt"] = "zeroshot", ["eval_max_new_tokens"] = 8, ["max_source_len"] = 64, ["max_target_len"] = 48, ["threads"] = 1,
            },
            ["eval"] = new JsonObject
            {
                ["sets"] = new JsonArray("synth-math-test", "synth-multiarith-test"), ["prompt"] = "zeroshot", ["limit"] = 4, ["batch_size"] = 4, ["max_new_tokens"] = 8,
            },
        }.ToJsonString());

        var run = CliRunner.Run(["run", "--config", file, "--json"], null, TimeSpan.FromMinutes(10));
        Assert.True(run.ExitCode == 0, run.ToString());
        var printed = JsonNode.Parse(run.Stdout)!;
        Assert.Equal(ConfiguredRun.Stages, printed["stages"]!.AsObject().Select(s => s.Key));

        // annotate: through serve, the teacher's answers right (kept).
        using (var store = AnnotationStore.Open(Path.Combine(output, "annotate", "annotations.db"), create: false))
        {
            var stats = store.Stats();
            Assert.Equal((16, 32L), (stats.Questions, stats.Samples));
            Assert.True(stats.Kept > 16, $"the teacher kept {stats.Kept} of 32");
        }
        // align: the teacher's top-k mapped onto the student's vocabulary, with soft targets.
        using (var set = DistillSet.Open(Path.Combine(output, "distill")))
        {
            Assert.Equal(Path.GetFullPath(student), set.Manifest.StudentFolder);
            Assert.Equal(vocabulary, set.Manifest.VocabularySize);
            Assert.True(set.Manifest.Alignment!.SoftTargets > 0);
        }
        // train: 4 steps of distribution matching; the checkpoints are Qwen2 folders.
        Assert.Equal(4, TrainingTestKit.Losses(Path.Combine(output, "train")).Count);
        var bestOod = Path.Combine(output, "train", "best-ood");
        Assert.Equal("qwen2", StudentModel.Inspect(bestOod).Config.ModelType);
        // eval: before (the random student) and after (best OOD), as qwen2 models.
        var before = EvaluationResults.Read(Path.Combine(output, "eval", "before"));
        var after = EvaluationResults.Read(Path.Combine(output, "eval", "after"));
        Assert.Equal(Path.GetFullPath(student), before.Settings.Model);
        Assert.Equal(bestOod, after.Settings.Model);
        Assert.StartsWith("qwen2:", after.Settings.ModelFingerprint);
        foreach (var results in new[] { before, after })
            Assert.Equal([("synth-math-test", 4), ("synth-multiarith-test", 4)], results.Sets.Select(s => (s.Key, s.Value.Total)));
        // report
        var report = File.ReadAllText(Path.Combine(output, "report", "report.md"));
        Assert.Contains("before", report);
        Assert.Contains("after", report);
    }

    /// <summary>The set the teacher annotates: world math questions, each with gold answer 7 and the rationale "Count them."</summary>
    private const string SevenSet = "synth-seven-train";

    /// <summary>A tiny T5 with the world's teacher tokenizer, trained on the seven set's gold chains of thought; returns its last checkpoint.</summary>
    private static string TrainTeacher(MiniatureWorld world, string temp)
    {
        var init = Path.Combine(temp, "teacher-init");
        TrainingTestKit.Check(CliRunner.Run("model", "init", "--config", "tiny", "--tokenizer", world.TeacherTokenizer, "--out", init, "--seed", "1"));
        var set = Path.Combine(temp, "teacher-set");
        TrainingTestKit.Check(CliRunner.Run("distill-set", "build", "--gold", SevenSet, "--student", init, "--out", set, "--formats", "zs-cot",
            "--batch-size", "zs-cot=8", "--dev-set", "none", "--data-root", world.Root));
        var run = Path.Combine(temp, "teacher-run");
        TrainingTestKit.Check(CliRunner.Run(["train", "--student", init, "--data", set, "--out", run, "--data-root", world.Root, "--steps", "40",
            "--lr", "1e-2", "--warmup", "2", "--eval-sets", "", "--threads", "1"], null, TimeSpan.FromMinutes(5)));
        return Path.Combine(run, "checkpoints", "step-000040");
    }
}
