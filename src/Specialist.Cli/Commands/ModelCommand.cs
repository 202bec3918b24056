using System.CommandLine;
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
    public static Command Create()
    {
        var command = new Command("model", "models in Hugging Face layout: 'model init' writes a random-init T5, Llama or Qwen2, 'model info' describes one")
        {
            Init(), Info(),
        };
        command.SetAction(CliApp.MissingSubcommand);
        return command;
    }

    private static Command Init()
    {
        var config = CliOptions.Text("--config", "NAME|config.json", $"a built-in T5 config ({string.Join(", ", T5Config.BuiltInNames)}) or a config.json of model_type t5, llama or qwen2", required: true);
        var tokenizer = CliOptions.Text("--tokenizer", "spiece.model|tokenizer.json", "the tokenizer the folder gets", required: true);
        var output = CliOptions.Text("--out", "DIR", "the model folder to write", required: true);
        var seed = CliOptions.Int("--seed", "N", "the initialisation's seed", 0);
        var json = CliOptions.Json();
        var command = new Command("init", "write a randomly initialised T5, Llama or Qwen2 in the Hugging Face layout") { config, tokenizer, output, seed, json };
        command.SetAction(parsed =>
        {
            var summary = StudentModel.WriteRandom(StudentModel.ResolveConfig(parsed.GetValue(config)!), parsed.GetValue(output)!, parsed.GetValue(tokenizer)!, parsed.GetValue(seed));
            Print(summary, parsed.GetValue(json), extra: new() { ["seed"] = parsed.GetValue(seed) });
        });
        return command;
    }

    private static Command Info()
    {
        var model = CliOptions.Text("--model", "DIR", "a model folder", required: true);
        var json = CliOptions.Json();
        var command = new Command("info", "describe a model folder: its config, parameters, files and dtype") { model, json };
        command.SetAction(parsed => Print(StudentModel.Inspect(parsed.GetValue(model)!), parsed.GetValue(json), extra: new()));
        return command;
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
