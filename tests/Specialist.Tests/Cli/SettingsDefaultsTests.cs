using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Specialist.Answers;
using Specialist.Pipeline;
using Specialist.Teachers;
using Specialist.Training;

namespace Specialist.Tests.Cli;

/// <summary>
/// Each settings default lives once, in the library's settings records (<see cref="TrainingConfig.Defaults"/>,
/// <see cref="RunTeacher.Defaults"/>, <see cref="RunEvaluation.Defaults"/>, <see cref="RunDistill.Defaults"/>): the
/// command line's <c>--help</c> shows those values and a run config that leaves a key out reads that value. Unknown keys
/// are refused naming the file, the section and the key. (The help is generated now: each option's row shows its
/// default as <c>[default: X]</c>, where the hand-written usage showed <c>--option X</c>.)
/// </summary>
public sealed class SettingsDefaultsTests
{
    private static string Num(double value) => value.ToString(CultureInfo.InvariantCulture);

    [Fact]
    public void Train_help_shows_the_training_records_defaults()
    {
        var d = TrainingConfig.Defaults;
        var help = CliRunner.Run("train", "--help");
        Assert.Equal(0, help.ExitCode);
        foreach (var (option, shown) in new[]
                 {
                     ("--lr", Num(d.Lr)), ("--warmup", $"{d.Warmup}"), ("--weight-decay", Num(d.WeightDecay)), ("--max-grad-norm", Num(d.MaxGradNorm)),
                     ("--epochs", $"{d.Epochs}"), ("--eval-every", $"{d.EvalEvery}"), ("--eval-sets", string.Join(",", d.EvalSets)), ("--id-set", d.IdSet),
                     ("--eval-max-new-tokens", $"{d.EvalMaxNewTokens}"), ("--eval-batch-size", $"{d.EvalBatchSize}"), ("--replay-share", Num(d.ReplayShare)),
                     ("--keep-last", $"{d.KeepLast}"),
                 })
            Assert.Equal(shown, HelpText.Default(help.Stdout, option));
    }

    [Fact]
    public void Annotate_help_shows_the_teacher_records_defaults()
    {
        var d = RunTeacher.Defaults;
        var help = CliRunner.Run("annotate", "--help");
        Assert.Equal(0, help.ExitCode);
        foreach (var (option, shown) in new[]
                 {
                     ("--temperature", Num(d.Temperature)), ("--top-p", Num(d.TopP)), ("--max-tokens", $"{d.MaxTokens}"), ("--top-logprobs", $"{d.TopLogprobs}"),
                     ("--questions-per-request", $"{d.QuestionsPerRequest}"), ("--concurrency", $"{d.Concurrency}"), ("--timeout", Num(d.Timeout)),
                     ("--max-retries", $"{d.MaxRetries}"),
                 })
            Assert.Equal(shown, HelpText.Default(help.Stdout, option));
    }

    [Fact]
    public void Eval_help_shows_the_evaluation_records_defaults()
    {
        var e = RunEvaluation.Defaults;
        var t = RunTeacher.Defaults;
        var help = CliRunner.Run("eval", "--help");
        Assert.Equal(0, help.ExitCode);
        foreach (var (option, shown) in new[]
                 {
                     ("--batch-size", $"{e.BatchSize}"), ("--max-new-tokens", $"{e.MaxNewTokens}"), ("--concurrency", $"{t.Concurrency}"), ("--timeout", Num(t.Timeout)),
                     ("--max-retries", $"{t.MaxRetries}"), ("--prompt", e.Prompt), ("--bbh-mode", BbhAnswerScorer.ModeName(e.BbhMode)),
                 })
            Assert.Equal(shown, HelpText.Default(help.Stdout, option));
    }


    [Fact]
    public void A_run_config_that_leaves_keys_out_reads_the_records_defaults()
    {
        var config = RunConfig.ReadFile(Tests.Pipeline.RunConfigTests.Write());
        Assert.Equal(RunTeacher.Defaults with { Endpoint = config.Teacher.Endpoint, Model = config.Teacher.Model }, config.Teacher);
        // Lists compare by reference in a record's Equals: the sets are compared item by item.
        Assert.Equal(RunEvaluation.Defaults with { Sets = config.Eval.Sets }, config.Eval);
        Assert.Equal(RunEvaluation.Defaults.Sets, config.Eval.Sets);
        Assert.Equal(RunDistill.Defaults.Formats, config.Distill.Formats);
        Assert.Equal(RunDistill.Defaults.BatchSizes, config.Distill.BatchSizes);
        Assert.Equal((RunDistill.Defaults.DevSet, RunDistill.Defaults.Alignment), (config.Distill.DevSet, config.Distill.Alignment));
        var train = config.Train with { Student = "", DataRoot = "" };
        Assert.Equal(TrainingConfig.Defaults.ToJson(), train.ToJson());
    }

    [Fact]
    public void Run_json_records_the_eval_section_with_the_same_keys_and_values_as_before()
    {
        var config = RunConfig.ReadFile(Tests.Pipeline.RunConfigTests.Write(c => c["eval"] = new JsonObject { ["bbh_mode"] = "ao", ["limit"] = 3 }));
        Assert.Equal(
            """{"sets":["gsm8k-test","multiarith-test","asdiv-test","svamp-test","bbh"],"prompt":"4shot","bbh_mode":"ao","limit":3,"batch_size":16,"max_new_tokens":256,"dtype":"fp32"}""",
            config.Settings()["eval"]!.ToJsonString());
        var plain = RunConfig.ReadFile(Tests.Pipeline.RunConfigTests.Write()).Settings()["eval"]!;
        Assert.Equal("cot", plain["bbh_mode"]!.GetValue<string>());
        Assert.Null(plain["limit"]);
        Assert.True(plain.AsObject().ContainsKey("limit"));
    }

    [Fact]
    public void Unknown_keys_in_every_section_name_the_file_the_section_and_the_key()
    {
        foreach (var section in new[] { "distill", "eval" })
        {
            var path = Pipeline.RunConfigTests.Write(c => c[section] = new JsonObject { ["bogus_key"] = 1 });
            var message = Assert.Throws<DataFormatException>(() => RunConfig.ReadFile(path)).Message;
            Assert.Matches($@"{Regex.Escape(path)}: line \d+: field '{section}.bogus_key' is not a {section} setting", message);
        }

        var file = Path.Combine(TestPaths.NewTempDir(), "train.json");
        File.WriteAllText(file, "{\n  \"lr\": 0.001,\n  \"lr_schedule\": \"cosine\"\n}\n");
        var training = Assert.Throws<DataFormatException>(() => TrainingConfig.ReadFile(file)).Message;
        Assert.Matches($@"{Regex.Escape(file)}: line 3: field 'lr_schedule' is not a training setting", training);
    }
}
