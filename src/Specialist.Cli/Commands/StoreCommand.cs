using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Spectre.Console;
using Specialist.Teachers;

namespace Specialist.Cli.Commands;

/// <summary><c>specialist store stats|export FILE.db</c>: what an annotation store holds, and its samples as JSONL or Parquet.</summary>
internal static class StoreCommand
{
    public static Command Create()
    {
        var command = new Command("store", "annotation stores: 'store stats', 'store export' (jsonl, parquet)") { Stats(), Export() };
        command.SetAction(CliApp.MissingSubcommand);
        return command;
    }

    private static Argument<string> StoreArgument() => new("FILE.db") { Description = "an annotation store (docs/annotation-store.md)" };

    private static Command Stats()
    {
        var path = StoreArgument();
        var json = CliOptions.Json();
        var command = new Command("stats", "what an annotation store holds: questions, samples, kept, requests, tokens, cost") { path, json };
        command.SetAction(parsed =>
        {
            using var store = AnnotationStore.Open(parsed.GetValue(path)!, create: false);
            PrintStats(store.Stats(), parsed.GetValue(json));
        });
        return command;
    }

    private static Command Export()
    {
        var path = StoreArgument();
        var format = new ParsedOption<ExportFormat>("--format", StoreExport.ParseFormat, "jsonl|parquet", "the output's format") { Required = true };
        var output = CliOptions.Text("--out", "PATH", "the file to write", required: true);
        var keptOnly = CliOptions.Flag("--kept-only", "only the samples whose answer is the gold one");
        var json = CliOptions.Json();
        var command = new Command("export",
            "one row per sample: question_id, sample_index, text, kept, answer, finish_reason, tokens, token_logprobs, top_logprobs " +
            "(per position a list of [token, logprob]; in Parquet a struct {token, logprob})")
        {
            path, format, output, keptOnly, json,
        };
        command.SetAction(parsed =>
        {
            using var store = AnnotationStore.Open(parsed.GetValue(path)!, create: false);
            var outPath = parsed.GetValue(output)!;
            var chosen = format.Read(parsed);
            var rows = StoreExport.Write(store, outPath, chosen, parsed.GetValue(keptOnly));
            if (parsed.GetValue(json)) Console.WriteLine(JsonSerializer.Serialize(new { rows, format = chosen.ToString().ToLowerInvariant(), path = Path.GetFullPath(outPath) }));
            else Console.WriteLine($"wrote {rows} samples to {Path.GetFullPath(outPath)}");
        });
        return command;
    }

    private static void PrintStats(StoreStats s, bool json)
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
            return;
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
    }

    private static string Int(long n) => n.ToString("N0", CultureInfo.InvariantCulture);
}
