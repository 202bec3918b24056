using System.Text.Json.Nodes;
using Specialist.Reports;

namespace Specialist.Cli.Commands;

/// <summary><c>specialist report (--run RUN ... | --eval DIR ... | --baseline DIR ...) --out DIR [--json]</c>: report.md with figures (PNG and SVG).</summary>
internal static class ReportCommand
{
    private const string Usage =
        "usage: specialist report [--run RUN]... [--eval DIR]... [--baseline DIR]... --out DIR [--json]\n" +
        "  --run       a training run folder (config.json, metrics.jsonl, selection.json, checkpoints/)\n" +
        "  --eval      an evaluation folder (specialist eval --out) of a specialized model\n" +
        "  --baseline  an evaluation folder of a model before specialization (the trade-off figure joins it to the\n" +
        "              --eval model with the same parameter count)\n" +
        "Writes DIR/report.md and the figures as PNG and SVG: training dynamics per run (ID vs OOD dev accuracy, ID-best and\n" +
        "OOD-best marked), loss curves of the runs, the scaling curve (log-linear fit and slope), the math-vs-BBH trade-off,\n" +
        "each with how it was made and a table of its numbers. Figures the inputs cannot support are listed as not drawn.";

    public static int Run(string[] args)
    {
        var parsed = CommandArgs.Parse(args, "json", "help");
        if (parsed.Flag("help"))
        {
            Console.WriteLine(Usage);
            return 0;
        }
        var inputs = new ReportInputs([.. parsed.GetAll("run")], [.. parsed.GetAll("eval")], [.. parsed.GetAll("baseline")]);
        var outFolder = parsed.Require("out");
        var json = parsed.Flag("json");
        parsed.EnsureAllUsed();
        if (inputs.Runs.Count + inputs.Evaluations.Count + inputs.Baselines.Count == 0)
            throw new UsageException("give at least one --run, --eval or --baseline folder");

        var summary = Report.Write(inputs, outFolder);
        if (json)
        {
            Console.WriteLine(new JsonObject
            {
                ["report"] = summary.ReportPath,
                ["figures"] = new JsonArray([.. summary.Figures.Select(f => (JsonNode?)JsonValue.Create(f))]),
                ["not_drawn"] = new JsonArray([.. summary.NotDrawn.Select(f => (JsonNode?)JsonValue.Create(f))]),
            }.ToJsonString());
            return 0;
        }
        Console.WriteLine($"wrote {summary.ReportPath}");
        foreach (var figure in summary.Figures) Console.WriteLine($"  {figure} (+ .svg)");
        foreach (var reason in summary.NotDrawn) Console.WriteLine($"  not drawn: {reason}");
        return 0;
    }
}
