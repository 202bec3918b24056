using System.CommandLine;
using System.Text.Json.Nodes;
using Specialist.Reports;

namespace Specialist.Cli.Commands;

/// <summary><c>specialist report (--run RUN ... | --eval DIR ... | --baseline DIR ...) --out DIR</c>: report.md with figures (PNG and SVG).</summary>
internal sealed class ReportCommand
{
    private readonly Option<string[]> _runs = CliOptions.Repeated("--run", "RUN", "a training run folder (config.json, metrics.jsonl, selection.json, checkpoints/); repeatable");
    private readonly Option<string[]> _evals = CliOptions.Repeated("--eval", "DIR", "an evaluation folder (specialist eval --out) of a specialized model; repeatable");
    private readonly Option<string[]> _baselines = CliOptions.Repeated("--baseline", "DIR",
        "an evaluation folder of a model before specialization (the trade-off figure joins it to the --eval model with the same parameter count); repeatable");

    /// <summary>The command, its options bound to <see cref="Inputs"/>.</summary>
    public Command Command { get; }

    public ReportCommand()
    {
        var output = CliOptions.Text("--out", "DIR", "writes DIR/report.md and the figures as PNG and SVG: training dynamics per run (ID vs OOD dev accuracy, " +
            "ID-best and OOD-best marked), loss curves of the runs, the scaling curve (log-linear fit and slope), the math-vs-BBH trade-off, each " +
            "with how it was made and a table of its numbers; figures the inputs cannot support are listed as not drawn", required: true);
        var json = CliOptions.Json();
        Command = new Command("report",
            "report.md with figures (PNG, SVG) from training runs and evaluations: dynamics, scaling, trade-off, loss")
        {
            _runs, _evals, _baselines, output, json,
        };
        Command.SetAction(parsed => Run(Inputs(parsed), parsed.GetValue(output)!, parsed.GetValue(json)));
    }

    /// <summary>The folders the report reads, as given.</summary>
    internal ReportInputs Inputs(ParseResult parsed)
    {
        var inputs = new ReportInputs([.. parsed.GetValue(_runs)!], [.. parsed.GetValue(_evals)!], [.. parsed.GetValue(_baselines)!]);
        if (inputs.Runs.Count + inputs.Evaluations.Count + inputs.Baselines.Count == 0)
            throw new UsageException("give at least one --run, --eval or --baseline folder");
        return inputs;
    }

    private static void Run(ReportInputs inputs, string outFolder, bool json)
    {
        var summary = Report.Write(inputs, outFolder);
        if (json)
        {
            Console.WriteLine(new JsonObject
            {
                ["report"] = summary.ReportPath,
                ["figures"] = new JsonArray([.. summary.Figures.Select(f => (JsonNode?)JsonValue.Create(f))]),
                ["not_drawn"] = new JsonArray([.. summary.NotDrawn.Select(f => (JsonNode?)JsonValue.Create(f))]),
            }.ToJsonString());
            return;
        }
        Console.WriteLine($"wrote {summary.ReportPath}");
        foreach (var figure in summary.Figures) Console.WriteLine($"  {figure} (+ .svg)");
        foreach (var reason in summary.NotDrawn) Console.WriteLine($"  not drawn: {reason}");
    }
}
