using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Spectre.Console;
using Specialist.Models;

namespace Specialist.Cli.Commands;

/// <summary>
/// <c>specialist model init|info</c>: write a randomly initialised student (a built-in T5 shape, or a T5, Llama or Qwen2
/// config.json) in the Hugging Face layout, or describe a model folder.
/// </summary>
internal static class ModelCommand
{
    private const string Usage =
        "usage: specialist model init --config NAME|config.json --tokenizer spiece.model|tokenizer.json --out DIR [--seed N] [--json]\n" +
        "       (config.json: model_type t5, llama or qwen2)\n" +
        "       specialist model info --model DIR [--json]";

    public static int Run(string[] args)
    {
        if (args.Length == 0) throw new UsageException($"missing subcommand; {Usage}");
        if (args[0] is "-h" or "--help" or "help")
        {
            Console.WriteLine(Usage);
            Console.WriteLine($"built-in configs: {string.Join(", ", T5Config.BuiltInNames)}");
            return 0;
        }
        return args[0] switch
        {
            "init" => Init(args[1..]),
            "info" => Info(args[1..]),
            _ => throw new UsageException($"unknown subcommand '{args[0]}'; {Usage}"),
        };
    }

    private static int Init(string[] words)
    {
        var args = CommandArgs.Parse(words, "json");
        var configName = args.Require("config");
        var tokenizer = args.Require("tokenizer");
        var output = args.Require("out");
        var seed = args.GetInt("seed", 0);
        var json = args.Flag("json");
        args.EnsureAllUsed();

        var summary = StudentModel.WriteRandom(StudentModel.ResolveConfig(configName), output, tokenizer, seed);
        Print(summary, json, extra: new() { ["seed"] = seed });
        return 0;
    }

    private static int Info(string[] words)
    {
        var args = CommandArgs.Parse(words, "json");
        var model = args.Require("model");
        var json = args.Flag("json");
        args.EnsureAllUsed();
        Print(StudentModel.Inspect(model), json, extra: new());
        return 0;
    }

    private static void Print(CheckpointSummary<IModelConfig> summary, bool json, JsonObject extra)
    {
        var facts = new JsonObject
        {
            ["model"] = summary.Directory,
            ["parameters"] = summary.ParameterCount,
            ["dtype"] = summary.StoredDType,
            ["files"] = new JsonArray([.. summary.Files.Select(f => JsonValue.Create(f))]),
            ["tensor_bytes"] = summary.TensorBytes,
        };
        foreach (var (k, v) in summary.Config.Shape().Concat(extra)) facts[k] = v?.DeepClone();
        if (json)
        {
            Console.WriteLine(facts.ToJsonString(new JsonSerializerOptions { WriteIndented = false }));
            return;
        }
        var table = new Table().AddColumn("model " + Markup.Escape(summary.Directory)).AddColumn(new TableColumn("value").RightAligned());
        foreach (var (k, v) in facts.Skip(1))
        {
            var text = v switch
            {
                JsonArray files => string.Join(", ", files),
                JsonValue n when n.GetValueKind() == JsonValueKind.Number => long.Parse(n.ToJsonString(), CultureInfo.InvariantCulture).ToString("N0", CultureInfo.InvariantCulture),
                _ => v?.ToString() ?? "",
            };
            table.AddRow(new Text(k), new Text(text));
        }
        AnsiConsole.Write(table);
    }
}
