using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Spectre.Console;
using Specialist.Data;
using Specialist.Tokenization;

namespace Specialist.Cli.Commands;

/// <summary>
/// <c>specialist tokenize --tokenizer FILE|FOLDER|NAME (--text T | --input FILE.jsonl)</c>: the tokens of each
/// text (input lines <c>{"text": ...}</c>); with <c>--json</c> one line <c>{"ids": [...], "pieces": [...]}</c> per text.
/// </summary>
internal static class TokenizeCommand
{
    private static readonly JsonSerializerOptions JsonOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static Command Create()
    {
        var tokenizer = CliOptions.Text("--tokenizer", "FILE|FOLDER|NAME",
            "a model folder (spiece.model, tokenizer.model or tokenizer.json), one of those files, or gpt2, cl100k_base, o200k_base", required: true);
        var text = CliOptions.Text("--text", "T", "the text to encode");
        var input = CliOptions.Text("--input", "FILE.jsonl", "JSONL, one {\"text\": ...} per line");
        var json = CliOptions.Json("one {\"ids\", \"pieces\"} line per text");
        var command = new Command("tokenize", "encode texts with a SentencePiece, Hugging Face BPE or tiktoken tokenizer") { tokenizer, text, input, json };
        command.SetAction(parsed => Run(parsed.GetValue(tokenizer)!, parsed.GetValue(text), parsed.GetValue(input), parsed.GetValue(json)));
        return command;
    }

    private static void Run(string tokenizerName, string? text, string? input, bool json)
    {
        if ((text is null) == (input is null)) throw new UsageException("give exactly one of --text and --input");

        var tokenizer = Tokenizers.Load(tokenizerName);
        List<string> texts = text is not null ? [text] : ReadTexts(input!);
        if (json)
        {
            using var stdout = new StreamWriter(Console.OpenStandardOutput()) { AutoFlush = false };
            foreach (var t in texts)
            {
                var tokens = tokenizer.Encode(t).Tokens;
                stdout.WriteLine(JsonSerializer.Serialize(
                    new { ids = tokens.Select(x => x.Id), pieces = tokens.Select(x => x.Piece) }, JsonOptions));
            }
            return;
        }
        foreach (var t in texts) PrintTable(tokenizer.Encode(t));
    }

    private static List<string> ReadTexts(string path) =>
        DataFiles.ReadJsonl(path, DataFiles.ReadUserFile(path), record =>
        {
            var value = record.Field("text");
            return value.ValueKind == JsonValueKind.String
                ? value.GetString()!
                : throw record.Error("text", $"is {FieldPath.Describe(value.ValueKind)}, not a string");
        });

    private static void PrintTable(TokenizedText encoded)
    {
        var table = new Table().AddColumns("#", "id", "piece", "text");
        table.Columns[0].RightAligned();
        table.Columns[1].RightAligned();
        for (var i = 0; i < encoded.Tokens.Count; i++)
        {
            var token = encoded.Tokens[i];
            table.AddRow(
                i.ToString(CultureInfo.InvariantCulture),
                token.Id.ToString(CultureInfo.InvariantCulture),
                Markup.Escape(Visible(token.Piece)),
                Markup.Escape(Visible(encoded.Text.Substring(token.Start, token.Length))));
        }
        AnsiConsole.WriteLine($"{encoded.Tokens.Count} tokens: {Visible(encoded.Text)}");
        AnsiConsole.Write(table);
    }

    /// <summary>The text in quotes with control characters escaped, so a table cell shows its whitespace.</summary>
    private static string Visible(string s)
    {
        var quoted = new StringBuilder("\"", s.Length + 2);
        foreach (var c in s)
        {
            quoted.Append(c switch
            {
                '\n' => "\\n",
                '\t' => "\\t",
                '\r' => "\\r",
                '"' => "\\\"",
                '\\' => "\\\\",
                _ when char.IsControl(c) => $"\\u{(int)c:x4}",
                _ => c.ToString(),
            });
        }
        return quoted.Append('"').ToString();
    }
}
