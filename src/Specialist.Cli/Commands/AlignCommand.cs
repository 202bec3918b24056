using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Spectre.Console;
using Specialist.Alignment;
using Specialist.Benchmarks;
using Specialist.Data;
using Specialist.Tokenization;

namespace Specialist.Cli.Commands;

/// <summary>
/// <c>specialist align (--input FILE.jsonl | --store FILE.db) --student-tokenizer spiece.model|DIR</c>: the student
/// tokens of each teacher text and their sparse targets (METHOD.md §3).
/// </summary>
internal static class AlignCommand
{
    public static Command Create()
    {
        var input = CliOptions.Text("--input", "FILE.jsonl",
            "lines {\"text\", \"teacher_tokens\": [..], \"teacher_topk\": [[[token, p], ..], ..]} (sampled token first)");
        var store = CliOptions.Text("--store", "FILE.db", "an annotation store: every kept sample (its trimmed chain of thought)");
        var tokenizer = CliOptions.Text("--student-tokenizer", "spiece.model|DIR", "the student's tokenizer, or a model folder holding it", required: true);
        var mode = new ParsedOption<AlignmentMode>("--mode", AlignmentOptions.ParseMode, "paper|fast",
            "paper: the authors' rule exactly; fast: the same from character offsets", AlignmentOptions.ModeName(new AlignmentOptions().Mode));
        var renormalize = CliOptions.Flag("--renormalize", "renormalise each position's kept probabilities to sum to 1");
        var merge = CliOptions.Flag("--merge", "merge the targets of teacher tokens that map to one student token");
        var form = new ParsedOption<TeacherTokenForm>("--teacher-form", TeacherTokens.ParseForm, "auto|text|byte-level", "how the teacher's tokens are written", "auto");
        var outPath = CliOptions.Text("--out", "FILE.jsonl", "write one line per text here, {\"student_tokens\": [..], \"targets\": [[[piece, p], ..], ..]} (store lines also carry question_id and " +
            "sample_index), then print a summary");
        var json = CliOptions.Json("the lines on stdout (with --out: the summary as JSON)");
        var command = new Command("align",
            "align teacher tokens with student tokens: sparse top-k targets (paper's rule or fast); without --out or --json, a table per text")
        {
            input, store, tokenizer, mode, renormalize, merge, form, outPath, json,
        };
        command.SetAction(parsed => Run(parsed.GetValue(input), parsed.GetValue(store), parsed.GetValue(tokenizer)!,
            new AlignmentOptions(mode.Read(parsed), parsed.GetValue(renormalize), parsed.GetValue(merge)), form.Read(parsed), parsed.GetValue(outPath), parsed.GetValue(json)));
        return command;
    }

    private static void Run(string? input, string? storePath, string tokenizerPath, AlignmentOptions options, TeacherTokenForm form, string? outPath, bool json)
    {
        if ((input is null) == (storePath is null)) throw new UsageException("give exactly one of --input and --store");

        var aligner = new TokenAligner(Tokenizers.Load(tokenizerPath), options);
        var vocabulary = new TeacherVocabulary();
        var items = input is not null ? AlignmentFiles.ReadInput(input, vocabulary, form) : AlignmentFiles.ReadStore(storePath!, vocabulary, form);

        if (outPath is null && !json)
        {
            var summary = AlignmentFiles.Run(items, aligner, (item, aligned) => PrintTable(item, aligned, aligner));
            AnsiConsole.WriteLine($"{summary.Samples} texts, {summary.StudentTokens} student tokens, {summary.SoftShare:P1} with a soft target");
            return;
        }
        if (outPath is null)
        {
            using var stdout = Console.OpenStandardOutput();
            AlignmentFiles.WriteJsonl(items, aligner, stdout);
            return;
        }
        // Written atomically: an input that fails half way (a bad line, a missing file) leaves no partial or empty --out.
        AlignmentSummary result = null!;
        AtomicFile.Write(outPath, stream => result = AlignmentFiles.WriteJsonl(items, aligner, stream));
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                mode = result.Mode,
                samples = result.Samples,
                student_tokens = result.StudentTokens,
                soft_targets = result.SoftTargets,
                soft_share = result.SoftShare,
                by_offsets = result.ByOffsets,
                seconds = result.Seconds,
            }));
            return;
        }
        var table = new Table().AddColumns("figure", "value");
        table.AddRow("mode", result.Mode);
        table.AddRow("texts", result.Samples.ToString(CultureInfo.InvariantCulture));
        table.AddRow("student tokens", result.StudentTokens.ToString(CultureInfo.InvariantCulture));
        table.AddRow("soft targets", $"{result.SoftTargets} ({result.SoftShare:P1})");
        table.AddRow("aligned by offsets", result.ByOffsets.ToString(CultureInfo.InvariantCulture));
        table.AddRow("seconds", result.Seconds.ToString("F2", CultureInfo.InvariantCulture));
        AnsiConsole.Write(table);
        AnsiConsole.WriteLine($"wrote {Path.GetFullPath(outPath)}");
    }

    /// <summary>
    /// <c>specialist bench align</c>: texts per second of both modes and the options' agreement with the paper's rule
    /// (<see cref="AlignBenchmark"/>).
    /// </summary>
    public static Command Benchmark()
    {
        var tokenizer = CliOptions.Text("--student-tokenizer", "spiece.model", "the student's tokenizer (default: <data root>/tokenizers/t5/spiece.model)");
        var teacher = CliOptions.Text("--teacher", "ENCODING", "the teacher's tiktoken encoding", "gpt2");
        var repeats = CliOptions.Int("--repeats", "N", "timed passes over the texts after two seconds of warm-up; the best counts", 10);
        var json = CliOptions.Json();
        var command = new Command("align", "alignment texts/s, paper and fast, on GSM8K rationales with the real T5 tokenizer") { tokenizer, teacher, repeats, json };
        var data = new DataArgs(command, customSet: false);
        command.SetAction(parsed =>
        {
            var root = data.Root(parsed);
            Benchmark(root, parsed.GetValue(tokenizer) ?? Path.Combine(root, "tokenizers", "t5", Tokenizers.SentencePieceFileName), parsed.GetValue(teacher)!,
                parsed.GetValue(repeats), parsed.GetValue(json));
        });
        return command;
    }

    private static void Benchmark(string root, string tokenizer, string teacher, int repeats, bool json)
    {
        if (repeats < 1) throw new UsageException("--repeats must be at least 1");
        var stop = MachineLoad.Start();
        var result = ProgressDisplay.Run("bench align", json, display => AlignBenchmark.Run(root, tokenizer, teacher, repeats, display.Log));
        var load = stop();
        if (json)
        {
            BenchCommand.WriteJson(result, load);
            return;
        }
        var table = new Table().AddColumns("figure", "value");
        string Rate(double r) => $"{r.ToString("F0", CultureInfo.InvariantCulture)} texts/s";
        table.AddRow("texts", $"{result.Samples} GSM8K rationales, {result.MeanTeacherTokens:F1} teacher / {result.MeanStudentTokens:F1} student tokens on average");
        string Rates(double wall, double cpu) => $"{Rate(wall)}, {cpu.ToString("F0", CultureInfo.InvariantCulture)} per CPU-second";
        table.AddRow("fast, end to end", Rates(result.FastSamplesPerSecond, result.FastSamplesPerCpuSecond));
        table.AddRow("fast, given student tokens", Rates(result.FastAlignOnlySamplesPerSecond, result.FastAlignOnlySamplesPerCpuSecond));
        table.AddRow("paper, given student tokens", Rates(result.PaperSamplesPerSecond, result.PaperSamplesPerCpuSecond));
        table.AddRow("student tokenization alone", $"{Rates(result.StudentTokenizeSamplesPerSecond, result.StudentTokenizeSamplesPerCpuSecond)} ({result.TokenizationShare:P0} of fast end to end)");
        foreach (var v in result.Variants)
            table.AddRow(v.Name, $"soft {v.SoftShare:P2}, agreement {v.Agreement:P4} (ids {v.SupportAgreement:P4}), {v.SamplesDiffering} texts differ");
        AnsiConsole.Write(table);
        AnsiConsole.WriteLine($"{result.Threads} threads, best of {result.Repeats} passes; the process had {result.CpuSecondsPerWallSecond:F2} CPU-seconds per second");
        BenchCommand.WriteLoad(load);
    }

    private static void PrintTable(AlignmentItem item, AlignedText aligned, TokenAligner aligner)
    {
        var title = item.QuestionId is null ? "" : $"{item.QuestionId} sample {item.SampleIndex}: ";
        AnsiConsole.WriteLine($"{title}{Visible(item.Teacher.Text)}");
        var table = new Table().AddColumns("#", "student piece", "target");
        table.Columns[0].RightAligned();
        for (var j = 0; j < aligned.StudentPieces.Length; j++)
        {
            var ids = aligned.Targets.Ids(j).ToArray();
            var probabilities = aligned.Targets.Probabilities(j).ToArray();
            var target = string.Join("  ", ids.Zip(probabilities, (id, p) =>
                $"{Visible(aligned.TargetPiece(j, id, aligner.Student))} {p.ToString("0.####", CultureInfo.InvariantCulture)}"));
            table.AddRow(j.ToString(CultureInfo.InvariantCulture), Markup.Escape(Visible(aligned.StudentPieces[j])), Markup.Escape(target));
        }
        AnsiConsole.Write(table);
    }

    private static string Visible(string s) => s.Replace("\n", "\\n", StringComparison.Ordinal);
}
