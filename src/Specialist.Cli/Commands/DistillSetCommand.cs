using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Spectre.Console;
using Specialist.Alignment;
using Specialist.Pipeline;
using Specialist.Prompts;

namespace Specialist.Cli.Commands;

/// <summary>
/// <c>specialist distill-set build (--store FILE.db | --gold TRAIN-SET) --student DIR --out SET</c> and
/// <c>specialist distill-set info SET</c>: the training examples of the four formats, with sparse teacher targets.
/// </summary>
internal static class DistillSetCommand
{
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>The defaults, which live in the library (<see cref="RunDistill.Defaults"/>).</summary>
    private static RunDistill D => RunDistill.Defaults;

    public static Command Create()
    {
        var command = new Command("distill-set", "distillation sets: 'distill-set build' (four formats, aligned top-k targets), 'distill-set info'") { Build(), Info() };
        command.SetAction(CliApp.MissingSubcommand);
        return command;
    }

    private static Command Build()
    {
        var store = CliOptions.Text("--store", "FILE.db", "teacher chains of thought (every kept sample) with aligned top-k targets");
        var gold = CliOptions.Text("--gold", "TRAIN-SET", "the train set's human rationales with one-hot targets (the no-teacher baseline)");
        var student = CliOptions.Text("--student", "DIR", "the student's Hugging Face model folder (config.json, spiece.model or a word-level tokenizer.json)", required: true);
        var output = CliOptions.Text("--out", "SET", "the set folder to write (layout: docs/distill-set.md)", required: true);
        var trainSet = CliOptions.Text("--train-set", "NAME",
            $"the set the questions and demonstrations come from (default: --gold's set, else {DistillSetRequest.DefaultTrainSet}); a store may hold only " +
            "its questions; any set name, e.g. one in <data root>/sets/NAME.jsonl");
        var devSet = CliOptions.Text("--dev-set", "NAME|none", "questions left out of the train set, as questions and demonstrations ('none' for none)", D.DevSet ?? "none");
        var formats = new ParsedOption<IReadOnlyList<TrainingFormat>>("--formats", DistillFormats.ParseList, "ic-cot,ic-ao,...", "the formats to write",
            string.Join(",", D.Formats.Select(DistillFormats.Name)));
        var seed = CliOptions.Seed("demonstrations' draw and the examples' order", 1);
        var sizes = new ParsedOption<IReadOnlyDictionary<TrainingFormat, int>>("--batch-size", DistillFormats.ParseBatchSizes, "ic-cot=25,...",
            $"micro-batch size per format; formats not named keep theirs (default: {string.Join(",", D.BatchSizes.Select(p => $"{DistillFormats.Name(p.Key)}={p.Value}"))})");
        var mode = new ParsedOption<AlignmentMode>("--mode", AlignmentOptions.ParseMode, "paper|fast", "the alignment rule (align --help)", AlignmentOptions.ModeName(D.Alignment.Mode));
        var renormalize = CliOptions.Flag("--renormalize", "renormalise each position's kept probabilities to sum to 1");
        var merge = CliOptions.Flag("--merge", "merge the targets of teacher tokens that map to one student token");
        var json = CliOptions.Json();
        var command = new Command("build", "build a distillation set; demonstrations come from the question's task (its id up to the last '/')")
        {
            store, gold, student, output, trainSet, devSet, formats, seed, sizes, mode, renormalize, merge, json,
        };
        var data = new DataArgs(command, customSet: false);
        command.SetAction(parsed =>
        {
            var storePath = parsed.GetValue(store);
            var goldSet = parsed.GetValue(gold);
            var train = parsed.GetValue(trainSet) ?? goldSet ?? DistillSetRequest.DefaultTrainSet;
            if ((storePath is null) == (goldSet is null)) throw new UsageException("give exactly one of --store and --gold");
            if (goldSet is not null && goldSet != train) throw new UsageException($"--gold takes the train set {train} (the set whose rationales are the targets), not '{goldSet}'");
            var dev = parsed.GetValue(devSet)!;
            var outPath = parsed.GetValue(output)!;
            var request = new DistillSetRequest(outPath, parsed.GetValue(student)!, storePath, data.Root(parsed), formats.Read(parsed),
                sizes.ReadOrNull(parsed) ?? D.BatchSizes,
                parsed.GetValue(seed), new AlignmentOptions(mode.Read(parsed), parsed.GetValue(renormalize), parsed.GetValue(merge)))
            {
                TrainSet = train,
                DevSet = dev == "none" ? null : dev,
            };
            var manifest = ProgressDisplay.Run("distill-set", parsed.GetValue(json), display => DistillSetBuilder.Build(request, display.Log));
            Print(Path.GetFullPath(outPath), manifest, parsed.GetValue(json));
        });
        return command;
    }

    private static Command Info()
    {
        var set = new Argument<string>("SET") { Description = "a distillation set folder" };
        var json = CliOptions.Json();
        var command = new Command("info", "what a distillation set holds: its source, questions and formats") { set, json };
        command.SetAction(parsed =>
        {
            using var opened = DistillSet.Open(parsed.GetValue(set)!);
            Print(opened.Directory, opened.Manifest, parsed.GetValue(json));
        });
        return command;
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
