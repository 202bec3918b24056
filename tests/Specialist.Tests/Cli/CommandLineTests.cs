using System.CommandLine;
using Spectre.Console;
using Specialist.Cli;
using Specialist.Cli.Commands;
using Specialist.Models;
using Specialist.Teachers.Serving;
using Specialist.Training;

namespace Specialist.Tests.Cli;

/// <summary>
/// The command line on System.CommandLine: parse errors are wrong command lines (exit 2) naming the option, options
/// bind to the library's records, completion answers from the command tree, and the one progress display.
/// </summary>
public sealed class CommandLineTests
{
    [Theory]
    [InlineData("unknown option: --frob", "doctor", "--frob")]
    [InlineData("option --limit: 'many' is not an integer", "data", "prompts", "gsm8k-test", "--limit", "many")]
    [InlineData("option --temperature: 'hot' is not a number", "generate", "--model", "m", "--prompt", "p", "--temperature", "hot")]
    [InlineData("option --seed: '-1' is not a non-negative integer", "synth", "--task", "math", "--count", "2", "--seed", "-1", "--out", "x.jsonl")]
    [InlineData("option --api: unknown teacher API 'responses'", "eval", "--model", "m", "--sets", "svamp", "--out", "o", "--api", "responses")]
    [InlineData("--tokenizer", "tokenize", "--text", "a")]
    [InlineData("unexpected argument 'extra'", "data", "stats", "gsm8k-test", "extra")]
    [InlineData("unknown subcommand 'frobnicate'", "store", "frobnicate")]
    [InlineData("missing argument <set>", "score", "--predictions", "p.jsonl")]
    public void Parse_errors_are_wrong_command_lines_that_name_the_option(string message, params string[] args)
    {
        var r = CliRunner.Run(args);
        Assert.True(r.ExitCode == 2, r.ToString());
        Assert.StartsWith("error: ", r.Stderr);
        Assert.Contains(message, r.Stderr);
        Assert.Contains($"(see 'specialist {args[0]}", r.Stderr);
        Assert.Empty(r.Stdout);
    }

    [Fact]
    public void A_command_that_needs_a_subcommand_names_them_as_a_wrong_command_line()
    {
        var r = CliRunner.Run("distill-set");
        Assert.True(r.ExitCode == 2, r.ToString());
        Assert.Contains("error: missing subcommand: specialist distill-set build, specialist distill-set info <SET>", r.Stderr);
    }

    [Fact]
    public void Train_options_of_each_kind_reach_the_training_config()
    {
        var train = new TrainCommand();
        var config = train.Config(Parse(train.Command,
            "--student", "s", "--data", "d", "--out", "o", "--warmup", "2", "--lr", "0.01", "--warmup", "7", "--schedule", "linear", "--eval-sets", "a,b,c",
            "--id-set", "a", "--ood-sets", "c", "--eval-limit", "5", "--batch-size", "ic-cot=3", "--replay", "gold", "--seed", "42"))!;
        Assert.Equal(0.01, config.Lr);
        Assert.Equal(7, config.Warmup);
        Assert.Equal(ScheduleKind.Linear, config.Schedule);
        Assert.Equal(["a", "b", "c"], config.EvalSets);
        Assert.Equal(["c"], config.OodSets);
        Assert.Equal(5, config.EvalLimit);
        Assert.Equal(3, config.BatchSize["ic-cot"]);
        Assert.Equal("gold", config.Replay);
        Assert.Equal(42, config.Seed);
        // An option given twice takes its last value; what is not given keeps the record's default.
        Assert.Equal(TrainingConfig.Defaults.Epochs, config.Epochs);
        Assert.Equal(TrainingConfig.Defaults.ReplayShare, config.ReplayShare);
    }

    [Fact]
    public void Train_options_override_the_config_file_and_leave_its_other_keys()
    {
        var file = Path.Combine(TestPaths.NewTempDir(), "train.json");
        File.WriteAllText(file, """{"student": "s", "data": "d", "out": "o", "lr": 0.002, "warmup": 3}""");
        var train = new TrainCommand();
        var config = train.Config(Parse(train.Command, "--config", file, "--warmup", "9"))!;
        Assert.Equal(0.002, config.Lr);
        Assert.Equal(9, config.Warmup);
        Assert.Null(train.Config(Parse(train.Command, "--resume", "run")));
    }

    [Fact]
    public void Generate_options_reach_the_generation_options()
    {
        var generate = new GenerateCommand();
        Assert.Equal(new GenerationOptions(), generate.Options(Parse(generate.Command, "--model", "m", "--prompt", "p")));
        var sampled = generate.Options(Parse(generate.Command,
            "--model", "m", "--prompt", "p", "--max-new-tokens", "5", "--no-cache", "--sample", "--temperature", "0.7", "--top-k", "4", "--seed", "3"));
        Assert.Equal(new GenerationOptions { MaxNewTokens = 5, UseCache = false, Sample = true, Temperature = 0.7, TopK = 4, Seed = 3 }, sampled);
        Assert.Throws<UsageException>(() => generate.Options(Parse(generate.Command, "--model", "m", "--prompt", "p", "--top-p", "0.5")));
    }

    [Fact]
    public void Serve_options_reach_the_server_options()
    {
        var serve = new ServeCommand();
        var options = serve.Options(Parse(serve.Command, "--model", "m", "--port", "0", "--allowed-hosts", "a.example, b.example", "--no-batching", "--max-tokens", "64"));
        Assert.Equal("m", options.ModelDirectory);
        Assert.Equal(0, options.Port);
        Assert.Equal(["a.example", "b.example"], options.AllowedHosts);
        Assert.False(options.Batching);
        Assert.Equal(64, options.MaxTokens);
        Assert.Equal(new ServeOptions { ModelDirectory = "" }.MaxPromptTokens, options.MaxPromptTokens);
    }

    [Fact]
    public void Repeated_options_keep_every_value_in_order()
    {
        var report = new ReportCommand();
        var inputs = report.Inputs(Parse(report.Command, "--run", "r1", "--eval", "e1", "--run", "r2", "--baseline", "b1", "--out", "o"));
        Assert.Equal(["r1", "r2"], inputs.Runs);
        Assert.Equal(["e1"], inputs.Evaluations);
        Assert.Equal(["b1"], inputs.Baselines);
    }

    [Fact]
    public void Completion_offers_the_commands_and_options_that_fit_the_word()
    {
        var root = CliApp.Root();
        Assert.Equal(["--length-pieces", "--loss", "--lr", "--lr-horizon"], CompletionCommand.Suggest(root, "train --l").Order(StringComparer.Ordinal));
        Assert.Equal(["distill-set"], CompletionCommand.Suggest(root, "dist"));
        Assert.Equal(["stats"], CompletionCommand.Suggest(root, "store st"));
        Assert.Contains("--top-logprobs", CompletionCommand.Suggest(root, "annotate "));

        // The same through the command the bash script calls, and the script itself.
        var suggested = CliRunner.Run("completion", "suggest", "--", "eval --max");
        Assert.True(suggested.ExitCode == 0, suggested.ToString());
        Assert.Equal(["--max-new-tokens", "--max-retries"], suggested.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal));
        var script = CliRunner.Run("completion", "bash");
        Assert.True(script.ExitCode == 0, script.ToString());
        Assert.Contains("completion suggest --", script.Stdout);
        Assert.Contains("complete -o default -F _specialist_complete specialist", script.Stdout);
    }

    [Fact]
    public void Plain_progress_lines_name_the_command_and_task_and_thin_out_by_the_step()
    {
        var lines = new StringWriter();
        var display = ProgressDisplay.Plain(lines, "train", plainStep: 0.25);
        for (var step = 0; step <= 10; step++) display.Report("train", $"step {step}/10", step / 10.0, TimeSpan.FromSeconds(70));
        display.Log("saved step-10");
        Assert.Equal(
            ["train: train [  0 %] ETA 01:10 step 0/10", "train: train [ 30 %] ETA 01:10 step 3/10", "train: train [ 60 %] ETA 01:10 step 6/10",
             "train: train [ 90 %] ETA 01:10 step 9/10", "train: train [100 %] ETA 01:10 step 10/10", "train: saved step-10"],
            lines.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task The_live_display_draws_a_bar_per_task_and_keeps_logged_lines()
    {
        var output = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.Yes, Interactive = InteractionSupport.Yes, ColorSystem = ColorSystemSupport.NoColors, Out = new AnsiConsoleOutput(output),
        });
        var result = await ProgressDisplay.RunLiveAsync(console, "run", display =>
        {
            display.Report("annotate", "4/8 requests", 0.5);
            display.Log("teacher eval: done");
            display.Report("train", "step 10/10", 1);
            return Task.FromResult(7);
        });
        Assert.Equal(7, result);
        var text = output.ToString();
        Assert.Contains("annotate 4/8 requests", text);
        Assert.Contains("train step 10/10", text);
        Assert.Contains("100%", text);
        Assert.Contains("teacher eval: done", text);
    }

    private static ParseResult Parse(Command command, params string[] args)
    {
        var parsed = command.Parse(args);
        Assert.True(parsed.Errors.Count == 0, string.Join("; ", parsed.Errors.Select(e => e.Message)));
        return parsed;
    }
}
