using System.Globalization;
using System.Text.Json;
using Spectre.Console;
using Specialist.Teachers;

namespace Specialist.Cli.Commands;

/// <summary><c>specialist store stats|export FILE.db</c>: what an annotation store holds, and its samples as JSONL or Parquet.</summary>
internal static class StoreCommand
{
    private const string Usage =
        "usage: specialist store stats FILE.db [--json]\n" +
        "       specialist store export FILE.db --format jsonl|parquet --out PATH [--kept-only] [--json]\n" +
        "  export writes one row per sample: question_id, sample_index, text, kept, answer, finish_reason, tokens,\n" +
        "  token_logprobs, top_logprobs (per position a list of [token, logprob]; in Parquet a struct {token, logprob})";

    public static int Run(string[] args)
    {
        var parsed = CommandArgs.Parse(args, "json", "help", "kept-only");
        if (parsed.Flag("help") || parsed.Positionals.Count == 0)
        {
            Console.WriteLine(Usage);
            return parsed.Flag("help") ? 0 : 2;
        }
        var json = parsed.Flag("json");
        switch (parsed.Positional(0, "stats|export"))
        {
            case "stats":
            {
                var path = parsed.Positional(1, "FILE.db");
                parsed.EnsureAllUsed(maxPositionals: 2);
                using var store = AnnotationStore.Open(path, create: false);
                return PrintStats(store.Stats(), json);
            }
            case "export":
            {
                var path = parsed.Positional(1, "FILE.db");
                if (parsed.Get("format") is null) throw new UsageException("missing required option --format (jsonl or parquet)");
                var format = parsed.Get("format", "jsonl", StoreExport.ParseFormat);
                var output = parsed.Require("out");
                var keptOnly = parsed.Flag("kept-only");
                parsed.EnsureAllUsed(maxPositionals: 2);
                using var store = AnnotationStore.Open(path, create: false);
                var rows = StoreExport.Write(store, output, format, keptOnly);
                if (json) Console.WriteLine(JsonSerializer.Serialize(new { rows, format = format.ToString().ToLowerInvariant(), path = Path.GetFullPath(output) }));
                else Console.WriteLine($"wrote {rows} samples to {Path.GetFullPath(output)}");
                return 0;
            }
            default:
                throw new UsageException($"unknown store command '{parsed.Positionals[0]}': use 'stats' or 'export'");
        }
    }

    private static int PrintStats(StoreStats s, bool json)
    {
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                teacher = s.Teacher,
                runs = s.Runs,
                questions = s.Questions,
                samples = s.Samples,
                kept = s.Kept,
                kept_rate = s.KeptRate,
                completed = s.Completed,
                failed = s.Failed,
                pending = s.Pending,
                prompt_tokens = s.PromptTokens,
                completion_tokens = s.CompletionTokens,
                cost = s.Cost,
            }));
            return 0;
        }
        var table = new Table().AddColumns("store", "").HideHeaders();
        table.Columns[1].RightAligned();
        table.AddRow("teacher", Markup.Escape(s.Teacher ?? "-"));
        table.AddRow("runs", Int(s.Runs));
        table.AddRow("questions", Int(s.Questions));
        table.AddRow("samples", Int(s.Samples));
        table.AddRow("kept (answer = gold)", $"{Int(s.Kept)} ({(100 * s.KeptRate).ToString("F1", CultureInfo.InvariantCulture)}%)");
        table.AddRow("requests completed / failed / pending", $"{Int(s.Completed)} / {Int(s.Failed)} / {Int(s.Pending)}");
        table.AddRow("tokens in / out", $"{Int(s.PromptTokens)} / {Int(s.CompletionTokens)}");
        table.AddRow("cost", s.Cost is { } c ? "$" + c.ToString("F6", CultureInfo.InvariantCulture) : "-");
        AnsiConsole.Write(table);
        return 0;
    }

    private static string Int(long n) => n.ToString("N0", CultureInfo.InvariantCulture);
}
