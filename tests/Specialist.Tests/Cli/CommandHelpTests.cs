using System.Text.RegularExpressions;

namespace Specialist.Tests.Cli;

/// <summary>
/// Every command's generated <c>--help</c> lists the options the hand-written usage text listed before the command line
/// moved to System.CommandLine (issue 16): the names below were copied from that text, so a lost option fails here.
/// </summary>
public sealed class CommandHelpTests
{
    private const string DataSet = "--data-root --path --question-field --answer-field --id-field";

    /// <summary>The command (with its subcommand) and the options its usage text named.</summary>
    public static TheoryData<string, string> Commands => new()
    {
        { "data stats", $"{DataSet} --json" },
        { "data prompts", $"{DataSet} --prompt --bbh-mode --limit --out" },
        { "score", $"{DataSet} --predictions --bbh-mode --json" },
        { "tokenize", "--tokenizer --text --input --json" },
        { "model init", "--config --tokenizer --out --seed --json" },
        { "model info", "--model --json" },
        {
            "generate", "--model --prompt --input --max-new-tokens --batch-size --no-cache --sample --temperature --top-p --top-k --seed " +
                        "--dtype --device --strict --json"
        },
        { "bench model", "--config --steps --train-only --json" },
        { "bench eval", "--configs --batches --new-tokens --data-root --json" },
        { "bench serve", "--model --config --data-root --requests --concurrency --max-tokens --json" },
        // --repeats: the documented option (BENCHMARKS.md) of the benchmark the command now runs.
        { "bench align", "--data-root --student-tokenizer --teacher --repeats --json" },
        { "bench train", "--configs --steps --dtype --losses --curves --memory-steps --data-root --json" },
        {
            "serve", "--model --host --port --allowed-hosts --name --device --max-request-bytes --max-tokens --max-prompt-tokens " +
                     "--max-request-tokens --max-active-rows --no-batching --api-key"
        },
        {
            "annotate", $"--endpoint --model --set --samples --store --limit --temperature --top-p --max-tokens --top-logprobs --seed " +
                        $"--prompt-file --api --stop --samples-per-request --questions-per-request --concurrency --timeout --max-retries " +
                        $"--price --include-dev {DataSet} --json --batch-export --batch-import"
        },
        { "store stats", "--json" },
        { "store export", "--format --out --kept-only --json" },
        { "align", "--input --store --student-tokenizer --mode --renormalize --merge --teacher-form --out --json" },
        {
            "eval", "--model --endpoint --sets --out --prompt --bbh-mode --limit --batch-size --max-new-tokens --dtype --device --strict " +
                    "--api --concurrency --timeout --max-retries --data-root --json"
        },
        {
            "distill-set build", "--store --gold --student --out --train-set --dev-set --formats --seed --batch-size --mode --renormalize " +
                                 "--merge --data-root --json"
        },
        { "distill-set info", "--json" },
        {
            "train", "--student --data --out --config --json --resume --loss --formats --batch-size --lr --warmup --schedule " +
                     "--weight-decay --max-grad-norm --lr-horizon --epochs --steps --grad-accum --eval-every --eval-sets --id-set " +
                     "--eval-limit --ood-sets --eval-prompt --eval-max-new-tokens --eval-batch-size --replay --replay-share " +
                     "--save-every --keep-last --max-source-len --max-target-len --length-pieces --seed --threads --device --dtype --data-root"
        },
        { "report", "--run --eval --baseline --out --json" },
        { "synth", "--task --count --seed --out --json" },
        { "run", "--profile --out --seed --seeds --decoder-only --json --config" },
        { "doctor", "--data-root --json" },
    };

    [Theory]
    [MemberData(nameof(Commands))]
    public void Help_lists_the_same_options_as_the_usage_text_did(string command, string options)
    {
        var help = CliRunner.Run([.. command.Split(' '), "--help"], null, TimeSpan.FromMinutes(1));
        Assert.True(help.ExitCode == 0, help.ToString());
        var expected = options.Split(' ').Append("--help").Order(StringComparer.Ordinal).ToList();
        Assert.Equal(expected, HelpText.OptionNames(help.Stdout));
    }

    [Fact]
    public void The_top_level_help_lists_every_command_and_the_exit_codes()
    {
        var help = CliRunner.Run("--help");
        Assert.True(help.ExitCode == 0, help.ToString());
        foreach (var command in Commands.Select(row => ((string)row[0]).Split(' ')[0]).Distinct().Append("completion"))
            Assert.Matches($@"(?m)^  {Regex.Escape(command)}\b", help.Stdout);
        Assert.Contains("2 wrong command line", help.Stdout);
        Assert.Equal(["--help", "--version"], HelpText.OptionNames(help.Stdout));
        // Without a command: the same help, as a wrong command line.
        var bare = CliRunner.Run([], null, TimeSpan.FromMinutes(1));
        Assert.Equal(2, bare.ExitCode);
        Assert.Equal(help.Stdout, bare.Stdout);
    }
}
