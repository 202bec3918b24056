using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using Spectre.Console;
using Specialist.Data;
using Specialist.Models;
using Specialist.Tokenization;

namespace Specialist.Cli.Commands;

/// <summary>
/// <c>specialist generate --model DIR (--prompt P | --input FILE.jsonl) ...</c>: continues each prompt with a T5 model
/// folder; with <c>--json</c> one line <c>{"output", "tokens"}</c> per prompt, in input order.
/// </summary>
internal static class GenerateCommand
{
    private const string Usage =
        "usage: specialist generate --model DIR (--prompt P | --input FILE.jsonl) [--max-new-tokens N] [--batch-size B] [--no-cache]\n" +
        "                           [--sample [--temperature T] [--top-p P] [--top-k K] [--seed S]] [--dtype fp32|bf16|fp16] [--json]\n" +
        "  --model   a Hugging Face T5 folder: config.json, model.safetensors (or shards), spiece.model\n" +
        "  --input   JSONL, one {\"prompt\": ...} per line; --json prints one {\"output\", \"tokens\"} line per prompt\n" +
        "  defaults: greedy, --max-new-tokens 128, --batch-size 16, KV cache on, fp32";

    private static readonly JsonSerializerOptions JsonOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static int Run(string[] args)
    {
        var parsed = CommandArgs.Parse(args, "json", "help", "no-cache", "sample");
        if (parsed.Flag("help"))
        {
            Console.WriteLine(Usage);
            return 0;
        }
        var modelDir = parsed.Require("model");
        var prompt = parsed.Get("prompt");
        var input = parsed.Get("input");
        var sample = parsed.Flag("sample");
        var options = new GenerationOptions
        {
            MaxNewTokens = parsed.GetInt("max-new-tokens", 128),
            BatchSize = parsed.GetInt("batch-size", 16),
            UseCache = !parsed.Flag("no-cache"),
            Sample = sample,
            Temperature = parsed.GetDouble("temperature", 1.0),
            TopP = parsed.GetDouble("top-p", 1.0),
            TopK = parsed.GetInt("top-k", 0),
            Seed = parsed.GetInt("seed"),
        };
        var dtype = T5Checkpoint.ParseDType(parsed.Get("dtype") ?? "fp32");
        var json = parsed.Flag("json");
        parsed.EnsureAllUsed();
        if ((prompt is null) == (input is null)) throw new UsageException("give exactly one of --prompt and --input");
        if (!sample && (parsed.Get("temperature") ?? parsed.Get("top-p") ?? parsed.Get("top-k") ?? parsed.Get("seed")) is not null)
            throw new UsageException("--temperature, --top-p, --top-k and --seed apply to --sample only");

        List<string> prompts = prompt is not null ? [prompt] : ReadPrompts(input!);
        var tokenizer = Tokenizers.LoadFromModelFolder(modelDir);
        using var model = T5Checkpoint.Load(modelDir, dtype);
        var generator = new T5Generator(model);
        var results = generator.Generate([.. prompts.Select(p => tokenizer.Encode(p).Ids)], options);

        if (json)
        {
            using var stdout = new StreamWriter(Console.OpenStandardOutput());
            foreach (var r in results)
                stdout.WriteLine(JsonSerializer.Serialize(new { output = tokenizer.Decode(r.Tokens), tokens = r.Tokens.Count }, JsonOptions));
            return 0;
        }
        var table = new Table().AddColumns("#", "tokens", "output");
        table.Columns[0].RightAligned();
        table.Columns[1].RightAligned();
        for (var i = 0; i < results.Count; i++)
            table.AddRow(
                (i + 1).ToString(CultureInfo.InvariantCulture),
                results[i].Tokens.Count.ToString(CultureInfo.InvariantCulture),
                Markup.Escape(tokenizer.Decode(results[i].Tokens)));
        AnsiConsole.Write(table);
        return 0;
    }

    private static List<string> ReadPrompts(string path) =>
        DataFiles.ReadJsonl(path, DataFiles.ReadUserFile(path), record =>
        {
            var value = record.Field("prompt");
            return value.ValueKind == JsonValueKind.String
                ? value.GetString()!
                : throw record.Error("prompt", $"is {FieldPath.Describe(value.ValueKind)}, not a string");
        });
}
