using System.Globalization;
using System.Text.Json;
using Spectre.Console;
using Specialist.Alignment;
using Specialist.Data;

namespace Specialist.Cli.Commands;

/// <summary>
/// <c>specialist distill-set build (--store FILE.db | --gold TRAIN-SET) --student DIR --out SET [--train-set NAME]
/// [--dev-set NAME|none] [--formats ...] [--seed S] [--batch-size ic-cot=25,...] [--mode paper|fast] [--renormalize]
/// [--merge] [--data-root DIR] [--json]</c> and
/// <c>specialist distill-set info SET [--json]</c>: the training examples of the four formats, with sparse teacher targets.
/// </summary>
internal static class DistillSetCommand
{
    private const string Usage =
        "usage: specialist distill-set build (--store FILE.db | --gold TRAIN-SET) --student DIR --out SET\n" +
        "                                    [--train-set NAME] [--dev-set NAME|none]\n" +
        "                                    [--formats ic-cot,ic-ao,zs-cot,zs-ao] [--seed S] [--batch-size ic-cot=25,ic-ao=35,zs-cot=40,zs-ao=60]\n" +
        "                                    [--mode paper|fast] [--renormalize] [--merge] [--data-root DIR] [--json]\n" +
        "       specialist distill-set info SET [--json]\n" +
        "  --store      teacher chains of thought (every kept sample) with aligned top-k targets\n" +
        "  --gold       the train set's human rationales with one-hot targets (the no-teacher baseline)\n" +
        "  --student    the student's Hugging Face model folder (config.json, spiece.model or a word-level tokenizer.json)\n" +
        "  --train-set  the set the questions and demonstrations come from (default: --gold's set, else gsm8k-train);\n" +
        "               a store may hold only its questions; any set name, e.g. one in <data root>/sets/NAME.jsonl\n" +
        "  --dev-set    questions left out of the train set, as questions and demonstrations (default gsm8k-dev; 'none' for none)\n" +
        "  Demonstrations come from the question's task (its id up to the last '/'); layout of SET: docs/distill-set.md";

    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static int Run(string[] args)
    {
        if (args.Length == 0 || args[0] is "--help" or "-h" or "help")
        {
            Console.WriteLine(Usage);
            return args.Length == 0 ? 2 : 0;
        }
        return args[0] switch
        {
            "build" => Build(args[1..]),
            "info" => Info(args[1..]),
            _ => throw new UsageException($"unknown subcommand '{args[0]}' (build, info)"),
        };
    }

    private static int Build(string[] args)
    {
        var parsed = CommandArgs.Parse(args, "json", "renormalize", "merge");
        var store = parsed.Get("store");
        var gold = parsed.Get("gold");
        var trainSet = parsed.Get("train-set") ?? gold ?? DistillSetRequest.DefaultTrainSet;
        var devSet = parsed.Get("dev-set") ?? DistillSetRequest.DefaultDevSet;
        var student = parsed.Require("student");
        var output = parsed.Require("out");
        var formats = parsed.Get("formats", "ic-cot,ic-ao,zs-cot,zs-ao", DistillFormats.ParseList);
        var seedText = parsed.Get("seed") ?? "1";
        var sizes = parsed.Get("batch-size", "", DistillFormats.ParseBatchSizes);
        var mode = parsed.Get("mode", "fast", AlignmentOptions.ParseMode);
        var alignment = new AlignmentOptions(mode, parsed.Flag("renormalize"), parsed.Flag("merge"));
        var root = DataRoot.Resolve(parsed.Get("data-root"));
        var json = parsed.Flag("json");
        parsed.EnsureAllUsed();
        if ((store is null) == (gold is null)) throw new UsageException("give exactly one of --store and --gold");
        if (gold is not null && gold != trainSet) throw new UsageException($"--gold takes the train set {trainSet} (the set whose rationales are the targets), not '{gold}'");
        if (!ulong.TryParse(seedText, NumberStyles.None, CultureInfo.InvariantCulture, out var seed)) throw new UsageException($"option --seed: '{seedText}' is not a non-negative integer");

        var manifest = DistillSetBuilder.Build(
            new DistillSetRequest(output, student, store, root, formats, sizes, seed, alignment) { TrainSet = trainSet, DevSet = devSet == "none" ? null : devSet },
            line => Console.Error.WriteLine($"distill-set: {line}"));
        Print(Path.GetFullPath(output), manifest, json);
        return 0;
    }

    private static int Info(string[] args)
    {
        var parsed = CommandArgs.Parse(args, "json");
        var path = parsed.Positional(0, "set");
        var json = parsed.Flag("json");
        parsed.EnsureAllUsed(maxPositionals: 1);
        using var set = DistillSet.Open(path);
        Print(set.Directory, set.Manifest, json);
        return 0;
    }

    private static void Print(string directory, DistillSetManifest manifest, bool json)
    {
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                set = directory,
                source = manifest.Source,
                source_path = manifest.SourcePath,
                questions = manifest.Questions,
                excluded_dev_questions = manifest.ExcludedDevQuestions,
                seed = manifest.Seed,
                formats = manifest.Formats.ToDictionary(f => f.Name, f => new { examples = f.Examples, micro_batch_size = f.MicroBatchSize, micro_batches = f.MicroBatches }),
                alignment = manifest.Alignment,
            }, Json));
            return;
        }
        AnsiConsole.WriteLine($"{directory}: {manifest.Source} ({manifest.SourcePath}), {manifest.Questions} questions, {manifest.ExcludedDevQuestions} dev questions left out, seed {manifest.Seed}");
        var table = new Table().AddColumns("format", "examples", "micro-batch size", "micro-batches");
        foreach (var column in table.Columns.Skip(1)) column.RightAligned();
        foreach (var f in manifest.Formats)
            table.AddRow(f.Name, f.Examples.ToString(CultureInfo.InvariantCulture), f.MicroBatchSize.ToString(CultureInfo.InvariantCulture), f.MicroBatches.ToString(CultureInfo.InvariantCulture));
        AnsiConsole.Write(table);
        if (manifest.Alignment is { } a)
            AnsiConsole.WriteLine($"alignment: {a.Mode}{(a.Renormalize ? ", renormalised" : "")}{(a.Merge ? ", merged" : "")}; " +
                                  $"{a.SoftTargets} of {a.TargetTokens} chain-of-thought target tokens soft ({(a.TargetTokens == 0 ? 0 : (double)a.SoftTargets / a.TargetTokens):P1})");
    }
}
