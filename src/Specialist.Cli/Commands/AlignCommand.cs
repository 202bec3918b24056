using System.Globalization;
using System.Text.Json;
using Spectre.Console;
using Specialist.Alignment;
using Specialist.Benchmarks;
using Specialist.Data;
using Specialist.Tokenization;

namespace Specialist.Cli.Commands;

/// <summary>
/// <c>specialist align (--input FILE.jsonl | --store FILE.db) --student-tokenizer spiece.model|DIR [--mode paper|fast]
/// [--renormalize] [--merge] [--teacher-form auto|text|byte-level] [--out FILE.jsonl] [--json]</c>: the student tokens of
/// each teacher text and their sparse targets (METHOD.md §3).
/// </summary>
internal static class AlignCommand
{
    private const string Usage =
        "usage: specialist align (--input FILE.jsonl | --store FILE.db) --student-tokenizer spiece.model|DIR\n" +
        "                        [--mode paper|fast] [--renormalize] [--merge] [--teacher-form auto|text|byte-level]\n" +
        "                        [--out FILE.jsonl] [--json]\n" +
        "  --input   lines {\"text\", \"teacher_tokens\": [..], \"teacher_topk\": [[[token, p], ..], ..]} (sampled token first)\n" +
        "  --store   an annotation store: every kept sample (its trimmed chain of thought)\n" +
        "  --mode    paper: the authors' rule exactly; fast (default): the same from character offsets\n" +
        "  output    one line per text {\"student_tokens\": [..], \"targets\": [[[piece, p], ..], ..]} (store lines also\n" +
        "            carry question_id and sample_index): on stdout with --json, into --out FILE (then a summary is printed);\n" +
        "            without either, a table per text";

    public static int Run(string[] args)
    {
        var parsed = CommandArgs.Parse(args, "json", "help", "renormalize", "merge");
        if (parsed.Flag("help"))
        {
            Console.WriteLine(Usage);
            return 0;
        }
        var input = parsed.Get("input");
        var storePath = parsed.Get("store");
        var tokenizerPath = parsed.Require("student-tokenizer");
        var mode = parsed.Get("mode", "fast", AlignmentOptions.ParseMode);
        var form = parsed.Get("teacher-form", "auto", TeacherTokens.ParseForm);
        var options = new AlignmentOptions(mode, parsed.Flag("renormalize"), parsed.Flag("merge"));
        var outPath = parsed.Get("out");
        var json = parsed.Flag("json");
        parsed.EnsureAllUsed();
        if ((input is null) == (storePath is null)) throw new UsageException("give exactly one of --input and --store");

        var aligner = new TokenAligner(Tokenizers.Load(tokenizerPath), options);
        var vocabulary = new TeacherVocabulary();
        var items = input is not null ? AlignmentFiles.ReadInput(input, vocabulary, form) : AlignmentFiles.ReadStore(storePath!, vocabulary, form);

        if (outPath is null && !json)
        {
            var summary = AlignmentFiles.Run(items, aligner, (item, aligned) => PrintTable(item, aligned, aligner));
            AnsiConsole.WriteLine($"{summary.Samples} texts, {summary.StudentTokens} student tokens, {summary.SoftShare:P1} with a soft target");
            return 0;
        }
        if (outPath is null)
        {
            using var stdout = Console.OpenStandardOutput();
            AlignmentFiles.WriteJsonl(items, aligner, stdout);
            return 0;
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
            return 0;
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
        return 0;
    }

    /// <summary>
    /// <c>specialist bench align [--data-root DIR] [--student-tokenizer spiece.model] [--teacher gpt2] [--repeats N] [--json]</c>:
    /// texts per second of both modes and the options' agreement with the paper's rule (<see cref="AlignBenchmark"/>).
    /// </summary>
    public static int Benchmark(string[] args)
    {
        var parsed = CommandArgs.Parse(args, "json");
        var root = DataRoot.Resolve(parsed.Get("data-root"));
        var tokenizer = parsed.Get("student-tokenizer") ?? Path.Combine(root, "tokenizers", "t5", Tokenizers.SentencePieceFileName);
        var teacher = parsed.Get("teacher") ?? "gpt2";
        var repeats = parsed.GetInt("repeats", 3);
        var json = parsed.Flag("json");
        parsed.EnsureAllUsed();
        if (repeats < 1) throw new UsageException("--repeats must be at least 1");

        var result = AlignBenchmark.Run(root, tokenizer, teacher, repeats, line => Console.Error.WriteLine($"bench align: {line}"));
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(result, BenchJson));
            return 0;
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
        return 0;
    }

    private static readonly JsonSerializerOptions BenchJson = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

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
