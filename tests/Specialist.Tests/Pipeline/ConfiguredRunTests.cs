using System.Globalization;
using System.Text.Json.Nodes;
using Specialist.Alignment;
using Specialist.Data;
using Specialist.Evaluation;
using Specialist.Pipeline;
using Specialist.Teachers;
using Specialist.Tests.Teachers;
using Specialist.Tests.Training;

namespace Specialist.Tests.Pipeline;

/// <summary>
/// <c>specialist run --config</c> end to end on the real data root, small: a tiny student with T5's tokenizer, a
/// teacher over real HTTP that answers every GSM8K question correctly (so its samples are kept), 8 questions, 4
/// training steps, 4 problems of two test sets; then the same command again, which reuses every stage, and one with a
/// changed setting, which is refused.
/// </summary>
public sealed class ConfiguredRunTests
{
    [Fact]
    public async Task A_config_runs_every_stage_into_its_folder_and_a_second_call_reuses_them_all()
    {
        await using var teacher = await FaultServer.StartAsync(GoldTeacher(_ => TimeSpan.Zero));

        var temp = TestPaths.NewTempDir();
        var output = Path.Combine(temp, "run");
        var file = Path.Combine(temp, "run-config.json");
        var settings = SmallConfig(temp, teacher.BaseUrl, steps: 4, saveEvery: null);
        File.WriteAllText(file, settings.ToJsonString());

        var events = new List<RunEvent>();
        var summary = ConfiguredRun.Run(RunConfig.ReadFile(file, outOverride: output), events.Add);

        Assert.Equal(ConfiguredRun.Stages, summary.Timings.Select(t => t.Stage));
        Assert.All(summary.Timings, t => Assert.False(t.Reused, t.Stage));
        Assert.Contains(events, e => e.Stage == "train" && e.Message.StartsWith("step 4/4 loss", StringComparison.Ordinal));
        // annotate: one request per question (n = 2), every sample kept.
        Assert.Equal(8, teacher.Calls.Count);
        using (var store = AnnotationStore.Open(Path.Combine(output, "annotate", "annotations.db"), create: false))
        {
            var stats = store.Stats();
            Assert.Equal((8, 16L, 16L), (stats.Questions, stats.Samples, stats.Kept));
        }
        // align: the store's 8 questions, a chain of thought per kept sample in each CoT format, with soft targets.
        using (var set = DistillSet.Open(Path.Combine(output, "distill")))
        {
            Assert.Equal("store", set.Manifest.Source);
            Assert.Equal(8, set.Manifest.Questions);
            Assert.Equal([("ic-cot", 16), ("zs-cot", 16), ("zs-ao", 8)], set.Manifest.Formats.Select(f => (f.Name, f.Examples)));
            Assert.True(set.Manifest.Alignment!.SoftTargets > 0);
        }
        // train: 4 steps, a best OOD checkpoint selected.
        var selection = JsonNode.Parse(File.ReadAllText(Path.Combine(output, "train", "selection.json")))!;
        Assert.Equal(4, selection["best_ood"]!["step"]!.GetValue<long>());
        Assert.True(Directory.Exists(Path.Combine(output, "train", "best-ood")));
        // eval: the student before, the best OOD checkpoint after, on 4 problems of each set.
        var before = EvaluationResults.Read(Path.Combine(output, "eval", "before"));
        var after = EvaluationResults.Read(Path.Combine(output, "eval", "after"));
        Assert.Equal(Path.GetFullPath(TrainingTestKit.Student), before.Settings.Model);
        Assert.Equal(Path.Combine(output, "train", "best-ood"), after.Settings.Model);
        foreach (var results in new[] { before, after })
            Assert.Equal([("gsm8k-test", 4), ("multiarith-test", 4)], results.Sets.Select(s => (s.Key, s.Value.Total)));
        Assert.Equal(summary.After.Sets.Keys, after.Sets.Keys);
        // report: the training run and both evaluations.
        var report = File.ReadAllText(summary.ReportPath);
        Assert.Equal(Path.Combine(output, "report", "report.md"), summary.ReportPath);
        Assert.Contains("before", report);
        Assert.Contains("after", report);

        // The same command again (the real CLI, --out replacing the file's out): every stage is reused, the teacher is not asked.
        var again = CliRunner.Run("run", "--config", file, "--out", output, "--json");
        Assert.True(again.ExitCode == 0, again.ToString());
        var printed = JsonNode.Parse(again.Stdout)!;
        Assert.Equal(ConfiguredRun.Stages, printed["stages"]!.AsObject().Select(s => s.Key));
        Assert.All(printed["stages"]!.AsObject(), s => Assert.True(s.Value!["reused"]!.GetValue<bool>(), s.Key));
        Assert.Equal(after.Sets["gsm8k-test"].Correct, printed["after"]!["sets"]!["gsm8k-test"]!["correct"]!.GetValue<int>());
        Assert.Equal(8, teacher.Calls.Count);
        Assert.False(Directory.Exists(Path.Combine(temp, "the-file-out")));

        // Other settings for the same folder are refused, naming what changed.
        settings["eval"]!["limit"] = 3;
        settings["train"]!["steps"] = 5;
        File.WriteAllText(file, settings.ToJsonString());
        var changed = CliRunner.Run("run", "--config", file, "--out", output);
        Assert.Equal(1, changed.ExitCode);
        Assert.Contains("train.steps, eval.limit differ from", changed.Stderr);
    }

    /// <summary>
    /// A teacher that answers every GSM8K training question with its gold answer (so every sample is kept), one chain of
    /// thought per choice asked for, each sent after <paramref name="delay"/>(the call).
    /// </summary>
    internal static Func<FaultCall, FaultReply> GoldTeacher(Func<FaultCall, TimeSpan> delay)
    {
        var gold = ProblemSets.Load("gsm8k-train", new DataOptions(TestPaths.DataRoot))
            .GroupBy(p => p.Question).ToDictionary(g => g.Key, g => g.First().Answer.Number!.Value);
        return call => new FaultReply.Answer([.. Enumerable.Range(0, call.N).Select(i =>
            $"Step {i + 1}: work it out. The answer is {gold[call.Question].ToString(CultureInfo.InvariantCulture)}")], delay(call));
    }

    /// <summary>
    /// A small run: the tiny student with T5's tokenizer, 8 GSM8K training questions with 2 samples each, three formats,
    /// <paramref name="steps"/> steps of distribution matching (a checkpoint every <paramref name="saveEvery"/> when set),
    /// evaluated on 2 problems of two dev sets at the end and before and after on 4 of two test sets.
    /// </summary>
    internal static JsonObject SmallConfig(string temp, Uri teacher, int steps, int? saveEvery)
    {
        var train = new JsonObject
        {
            ["loss"] = "distribution", ["steps"] = steps, ["warmup"] = 1, ["lr"] = 5e-3, ["eval_every"] = 0, ["eval_sets"] = new JsonArray("gsm8k-dev", "multiarith-dev"),
            ["eval_limit"] = 2, ["eval_prompt"] = "zeroshot", ["eval_max_new_tokens"] = 8, ["max_source_len"] = 64, ["max_target_len"] = 48, ["threads"] = 1,
        };
        if (saveEvery is { } every) train["save_every"] = every;
        return new JsonObject
        {
            ["out"] = Path.Combine(temp, "the-file-out"), // replaced by --out / outOverride
            ["data_root"] = TestPaths.DataRoot,
            ["student"] = TrainingTestKit.Student,
            ["seed"] = 3,
            ["teacher"] = new JsonObject
            {
                ["endpoint"] = teacher.ToString(), ["model"] = "fault-teacher", ["samples"] = 2, ["limit"] = 8, ["max_tokens"] = 64, ["concurrency"] = 4,
            },
            ["distill"] = new JsonObject
            {
                ["formats"] = new JsonArray("ic-cot", "zs-cot", "zs-ao"),
                ["batch_size"] = new JsonObject { ["ic-cot"] = 2, ["zs-cot"] = 2, ["zs-ao"] = 4 },
            },
            ["train"] = train,
            ["eval"] = new JsonObject
            {
                ["sets"] = new JsonArray("gsm8k-test", "multiarith-test"), ["prompt"] = "zeroshot", ["limit"] = 4, ["batch_size"] = 4, ["max_new_tokens"] = 8,
            },
        };
    }
}
