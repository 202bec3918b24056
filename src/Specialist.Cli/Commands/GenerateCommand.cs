using System.CommandLine;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using Spectre.Console;
using Specialist.Data;
using Specialist.Models;
using Specialist.Tokenization;

namespace Specialist.Cli.Commands;

/// <summary>
/// <c>specialist generate --model DIR (--prompt P | --input FILE.jsonl) ...</c>: continues each prompt with a student
/// model folder (T5, Llama or Qwen2); with <c>--json</c> one line <c>{"output", "tokens"}</c> per prompt, in input order.
/// </summary>
internal sealed class GenerateCommand
{
    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>The defaults, which live in the library (<see cref="GenerationOptions"/>).</summary>
    private static readonly GenerationOptions D = new();

    private readonly Option<int> _maxNewTokens = CliOptions.Int("--max-new-tokens", "N", "the most tokens to generate per prompt", D.MaxNewTokens);
    private readonly Option<int> _batchSize = CliOptions.Int("--batch-size", "B", "prompts decoded together", D.BatchSize);
    private readonly Option<bool> _noCache = CliOptions.Flag("--no-cache", "decode without the KV cache (slower; for comparison)");
    private readonly Option<bool> _sample = CliOptions.Flag("--sample", "sample instead of greedy decoding");
    private readonly Option<double> _temperature = CliOptions.Number("--temperature", "T", "sampling temperature (--sample only)", D.Temperature);
    private readonly Option<double> _topP = CliOptions.Number("--top-p", "P", "nucleus sampling's mass (--sample only)", D.TopP);
    private readonly Option<int> _topK = CliOptions.Int("--top-k", "K", "sample among the K likeliest tokens, 0: all (--sample only)", D.TopK);
    private readonly Option<int?> _seed = CliOptions.OptionalInt("--seed", "S", "the sampling seed (--sample only)");

    /// <summary>The command, its options bound to <see cref="Options"/>.</summary>
    public Command Command { get; }

    public GenerateCommand()
    {
        var model = CliOptions.Text("--model", "DIR", "a Hugging Face folder: config.json (t5, llama or qwen2), model.safetensors (or shards), the tokenizer", required: true);
        var prompt = CliOptions.Text("--prompt", "P", "the prompt to continue");
        var input = CliOptions.Text("--input", "FILE.jsonl", "JSONL, one {\"prompt\": ...} per line (an \"id\" is carried on to the output)");
        var dtype = new ParsedOption<TorchSharp.torch.ScalarType>("--dtype", T5Checkpoint.ParseDType, "fp32|bf16|fp16", "the weights' type in memory", "fp32");
        var device = CliOptions.Text("--device", "cpu|cuda|cuda:N", "where the model runs; cuda needs the CUDA build (README, \"Devices\")", TorchRuntime.DefaultDeviceName);
        var strict = CliOptions.Flag("--strict", "refuse weights holding NaN or infinity (by default a warning)");
        var json = CliOptions.Json("one {\"output\", \"tokens\"} line per prompt, in input order");
        Command = new Command("generate", "generate text with a model folder (greedy or sampling, batched, KV cache)")
        {
            model, prompt, input, _maxNewTokens, _batchSize, _noCache, _sample, _temperature, _topP, _topK, _seed, dtype, device, strict, json,
        };
        Command.SetAction(parsed => Run(parsed.GetValue(model)!, parsed.GetValue(prompt), parsed.GetValue(input), Options(parsed), dtype.Read(parsed),
            parsed.GetValue(device)!, parsed.GetValue(strict), parsed.GetValue(json)));
    }

    /// <summary>The generation settings the command line gives.</summary>
    internal GenerationOptions Options(ParseResult parsed)
    {
        var sample = parsed.GetValue(_sample);
        if (!sample && parsed.GivenNames(_temperature, _topP, _topK, _seed).Count > 0)
            throw new UsageException("--temperature, --top-p, --top-k and --seed apply to --sample only");
        return new GenerationOptions
        {
            MaxNewTokens = parsed.GetValue(_maxNewTokens),
            BatchSize = parsed.GetValue(_batchSize),
            UseCache = !parsed.GetValue(_noCache),
            Sample = sample,
            Temperature = parsed.GetValue(_temperature),
            TopP = parsed.GetValue(_topP),
            TopK = parsed.GetValue(_topK),
            Seed = parsed.GetValue(_seed),
        };
    }

    private static void Run(string modelDir, string? prompt, string? input, GenerationOptions options, TorchSharp.torch.ScalarType dtype, string deviceName, bool strict, bool json)
    {
        if ((prompt is null) == (input is null)) throw new UsageException("give exactly one of --prompt and --input");
        var device = TorchRuntime.ResolveDevice(deviceName);
        List<(string? Id, string Text)> prompts = prompt is not null ? [(null, prompt)] : ReadPrompts(input!);
        var tokenizer = Tokenizers.LoadFromModelFolder(modelDir);
        using var model = StudentModel.Load(modelDir, dtype, device, strict ? null : CliApp.Warn);
        model.EnsureFits(tokenizer, Tokenizers.ModelTokenizerFile(modelDir));
        var results = StudentEncoding.Read(modelDir, tokenizer).Generate(model, [.. prompts.Select(p => p.Text)], options);

        if (json)
        {
            using var stdout = new StreamWriter(Console.OpenStandardOutput());
            for (var i = 0; i < results.Count; i++)
                stdout.WriteLine(JsonSerializer.Serialize(new { id = prompts[i].Id, output = tokenizer.Decode(results[i].Tokens), tokens = results[i].Tokens.Count }, JsonOptions));
            return;
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
    }

    /// <summary>Lines <c>{"prompt": ...}</c>, optionally with an <c>"id"</c> that the output line carries on (as <c>data prompts</c> writes them, for <c>score</c>).</summary>
    private static List<(string? Id, string Text)> ReadPrompts(string path) =>
        DataFiles.ReadJsonl(path, DataFiles.ReadUserFile(path), record =>
        {
            var value = record.Field("prompt");
            var text = value.ValueKind == JsonValueKind.String
                ? value.GetString()!
                : throw record.Error("prompt", $"is {FieldPath.Describe(value.ValueKind)}, not a string");
            string? id = null;
            if (record.Element.TryGetProperty("id", out var idValue))
                id = idValue.ValueKind == JsonValueKind.String ? idValue.GetString() : throw record.Error("id", $"is {FieldPath.Describe(idValue.ValueKind)}, not a string");
            return (id, text);
        });
}
