using System.Globalization;
using ScottPlot;
using Specialist.Evaluation;
using Specialist.Training;

namespace Specialist.Reports;

/// <summary>A table of the numbers behind a figure, as report.md prints it.</summary>
internal sealed record FigureTable(IReadOnlyList<string> Header, IReadOnlyList<IReadOnlyList<string>> Rows)
{
    public string ToMarkdown()
    {
        static string Cell(string text) => text.Replace("|", "\\|", StringComparison.Ordinal).ReplaceLineEndings(" ");
        var lines = new List<string>
        {
            "| " + string.Join(" | ", Header.Select(Cell)) + " |",
            "|" + string.Join("|", Header.Select(_ => "---")) + "|",
        };
        lines.AddRange(Rows.Select(r => "| " + string.Join(" | ", r.Select(Cell)) + " |"));
        return string.Join("\n", lines) + "\n";
    }
}

/// <summary>One figure of the report: its plot, how it was made, and every number it shows.</summary>
/// <param name="FileStem">The PNG and SVG file name without extension.</param>
/// <param name="Title">The section and plot title.</param>
/// <param name="Caption">How the figure was made (inputs, settings, selection rule).</param>
/// <param name="Plot">The ScottPlot plot (disposed with the figure).</param>
/// <param name="Table">The numbers behind it.</param>
/// <param name="Fold">Whether report.md folds the table away (long per-step tables).</param>
internal sealed record ReportFigure(string FileStem, string Title, string Caption, Plot Plot, FigureTable Table, bool Fold = false) : IDisposable
{
    /// <summary>Saves the PNG and the SVG into <paramref name="folder"/>; returns the PNG's full path.</summary>
    public string Save(string folder)
    {
        var png = Path.GetFullPath(Path.Combine(folder, FileStem + ".png"));
        Plot.SavePng(png, ReportFigures.Width, ReportFigures.Height);
        Plot.SaveSvg(Path.Combine(folder, FileStem + ".svg"), ReportFigures.Width, ReportFigures.Height);
        return png;
    }

    /// <summary>The figure's section of report.md (beside the PNG and SVG): the image, its caption and its table.</summary>
    /// <param name="heading">The heading's marks: <c>##</c>, or <c>###</c> under a section of its own.</param>
    public string ToMarkdown(string heading = "##")
    {
        var md = new System.Text.StringBuilder();
        md.Append($"{heading} {Title}\n\n![{Title}]({FileStem}.png)\n\n");
        md.Append($"[SVG]({FileStem}.svg). {Caption}\n\n");
        if (Fold) md.Append($"<details><summary>The {Table.Rows.Count} rows behind the figure</summary>\n\n");
        md.Append(Table.ToMarkdown());
        if (Fold) md.Append("\n</details>\n");
        md.Append('\n');
        return md.ToString();
    }

    public void Dispose() => Plot.Dispose();
}

/// <summary>An evaluation folder's results and the label and stage the report shows it with.</summary>
/// <param name="Label">The folder's name (made unique).</param>
/// <param name="Folder">The folder.</param>
/// <param name="Results">Its results.json.</param>
/// <param name="Baseline">Whether it evaluates a model before specialization (<c>--baseline</c>) rather than after (<c>--eval</c>).</param>
internal sealed record LabelledEvaluation(string Label, string Folder, EvaluationResults Results, bool Baseline)
{
    public string Stage => Baseline ? "before" : "after";
}

/// <summary>
/// Builds the report's figures with ScottPlot; every figure uses the embedded font (<see cref="PlotFonts"/>) and has its
/// legend beside the plot, never over it (a legend inside the plot once hid a point of the scaling figure).
/// </summary>
internal static class ReportFigures
{
    public const int Width = 1100; // the legend beside the plot takes up to ~400 px
    public const int Height = 540;

    private static readonly IPalette Palette = new ScottPlot.Palettes.Category10();

    /// <summary>ID vs OOD dev accuracy of every evaluated checkpoint of a run, the ID-best and OOD-best ones marked.</summary>
    public static ReportFigure TrainingDynamics(TrainingRun run, string fileStem)
    {
        var plot = NewStepPlot($"Training dynamics: {run.Name}", "dev accuracy (%)");
        var steps = run.Evaluations.Select(e => (double)e.Step).ToArray();
        var id = AddLine(plot, steps, run.Evaluations.Select(e => 100 * e.IdAccuracy ?? double.NaN).ToArray(), $"ID: {run.IdSet}", Palette.GetColor(0), width: 2.5f);
        var ood = AddLine(plot, steps, run.Evaluations.Select(e => 100 * e.OodMean ?? double.NaN).ToArray(), "OOD mean", Palette.GetColor(1), width: 2.5f);
        for (var i = 0; i < run.OodSets.Count; i++)
        {
            var set = run.OodSets[i];
            var values = run.Evaluations.Select(e => e.Accuracy.TryGetValue(set, out var a) ? 100 * a : double.NaN).ToArray();
            if (values.All(double.IsNaN)) continue;
            var line = AddLine(plot, steps, values, set, Palette.GetColor(2 + i), width: 1);
            // Thin lines and small open markers rather than dashes: Skia's SVG backend cannot draw dash patterns.
            line.MarkerSize = 5;
            line.MarkerShape = MarkerShape.OpenCircle;
        }
        if (run.BestId is { } bestId)
            AddMark(plot, bestId.Step, 100 * bestId.Score, MarkerShape.FilledDiamond, id.Color, $"ID-best: step {bestId.Step} ({Percent(bestId.Score)})");
        if (run.BestOod is { } bestOod)
            AddMark(plot, bestOod.Step, 100 * bestOod.Score, MarkerShape.FilledSquare, ood.Color, $"OOD-best: step {bestOod.Step} ({Percent(bestOod.Score)})");
        plot.ShowLegend(Edge.Right);

        // The OOD sets, then any other set the trainer evaluated (the ID set has its own column).
        var sets = run.OodSets.Concat(run.Evaluations.SelectMany(e => e.Accuracy.Keys)).Where(s => s != run.IdSet).Distinct(StringComparer.Ordinal).ToList();
        var rows = run.Evaluations.Select(e => (IReadOnlyList<string>)
        [
            Int(e.Step), e.Checkpoint, e.IdAccuracy is { } idAccuracy ? Percent(idAccuracy) : "",
            .. sets.Select(s => e.Accuracy.TryGetValue(s, out var a) ? Percent(a) : ""),
            e.OodMean is { } oodMean ? Percent(oodMean) : "",
            string.Join(", ", new[] { run.BestId?.Step == e.Step ? "ID-best" : null, run.BestOod?.Step == e.Step ? "OOD-best" : null }.OfType<string>()),
        ]).ToList();
        var caption = $"Dev accuracy of each evaluated checkpoint of run `{run.Name}`, as training measured it (metrics.jsonl). " +
                      $"ID = {run.IdSet}; OOD mean = the mean over {string.Join(", ", run.OodSets)}. " +
                      "The OOD-best checkpoint is the one the paper selects (METHOD.md §7). The run's settings are in the Training runs table.";
        return new ReportFigure(fileStem, $"Training dynamics: {run.Name}", caption, plot,
            new FigureTable(["step", "checkpoint", $"ID: {run.IdSet}", .. sets, "OOD mean", "selected"], rows));
    }

    /// <summary>Training loss per step of every run with train steps, one line per run (sample vs distribution matching when both are given).</summary>
    public static ReportFigure LossCurves(IReadOnlyList<TrainingRun> runs, string fileStem)
    {
        var withSteps = runs.Where(r => r.TrainSteps.Count > 0).ToList();
        var losses = withSteps.Select(r => r.Loss ?? "?").Distinct(StringComparer.Ordinal).ToList();
        var title = losses.Count > 1 ? $"Training loss: {string.Join(" vs ", losses)}" : "Training loss";
        var plot = NewStepPlot(title, "training loss (per optimiser step)");
        for (var i = 0; i < withSteps.Count; i++)
        {
            var run = withSteps[i];
            var line = AddLine(plot, [.. run.TrainSteps.Select(s => (double)s.Step)], [.. run.TrainSteps.Select(s => s.Loss)], $"{run.Name} (loss: {run.Loss ?? "?"})", Palette.GetColor(i), width: 1.5f);
            line.MarkerSize = run.TrainSteps.Count > 50 ? 0 : 4;
        }
        plot.ShowLegend(Edge.Right);

        var steps = withSteps.SelectMany(r => r.TrainSteps.Select(s => s.Step)).Distinct().Order().ToList();
        var byRun = withSteps.Select(r => r.TrainSteps.GroupBy(s => s.Step).ToDictionary(g => g.Key, g => g.Last().Loss)).ToList();
        var rows = steps.Select(step => (IReadOnlyList<string>)[Int(step), .. byRun.Select(r => r.TryGetValue(step, out var l) ? Number(l, "F4") : "")]).ToList();
        var caption = "Training loss of every optimiser step (metrics.jsonl `train` lines), unsmoothed. Cross-entropy (sample matching) " +
                      "and KL divergence (distribution matching) are different quantities: compare how fast each falls, and the runs' " +
                      "training dynamics for accuracy. The runs' settings are in the Training runs table.";
        return new ReportFigure(fileStem, title, caption, plot,
            new FigureTable(["step", .. withSteps.Select(r => $"{r.Name} ({r.Loss ?? "?"})")], rows), Fold: rows.Count > 30);
    }

    /// <summary>A point of the scaling curve.</summary>
    internal sealed record ScalingPoint(string Group, string Model, long Parameters, double Accuracy, string Basis);

    /// <summary>Accuracy against parameter count on a log axis, per group, with each group's log-linear fit and its slope.</summary>
    public static ReportFigure Scaling(IReadOnlyList<ScalingPoint> points, string fileStem, string caption)
    {
        var plot = NewPlot("Scaling: accuracy vs parameters", "parameters (log scale)", "accuracy (%)");
        var groups = points.GroupBy(p => p.Group).ToList();
        var rows = new List<IReadOnlyList<string>>();
        for (var i = 0; i < groups.Count; i++)
        {
            var group = groups[i].OrderBy(p => p.Parameters).ToList();
            var color = Palette.GetColor(i);
            var fit = LogLinear.Fit([.. group.Select(p => ((double)p.Parameters, 100 * p.Accuracy))]);
            var markers = plot.Add.ScatterPoints(group.Select(p => Math.Log10(p.Parameters)).ToArray(), group.Select(p => 100 * p.Accuracy).ToArray(), color);
            markers.MarkerSize = 10;
            markers.LegendText = fit is { } f ? $"{group[0].Group}: {f.Slope:+0.0;-0.0;0.0} points per 10x parameters" : $"{group[0].Group} (one size: no fit)";
            if (fit is { } line)
            {
                double lo = Math.Log10(group[0].Parameters), hi = Math.Log10(group[^1].Parameters);
                var fitted = plot.Add.ScatterLine(new[] { lo, hi }, new[] { line.Intercept + line.Slope * lo, line.Intercept + line.Slope * hi }, color);
                fitted.LineWidth = 1.5f;
            }
            foreach (var p in group)
                rows.Add([p.Group, p.Model, Int(p.Parameters), FormatParameters(p.Parameters), Percent(p.Accuracy), p.Basis]);
            if (fit is { } g)
                rows.Add([group[0].Group, "log-linear fit", "", "", $"{g.Intercept:F2} + {g.Slope:F2} · log10(parameters)", $"slope {g.Slope:+0.00;-0.00;0.00} points per 10x parameters"]);
        }
        LogAxis(plot, points.Select(p => Math.Log10(p.Parameters)));
        plot.ShowLegend(Edge.Right);
        return new ReportFigure(fileStem, "Scaling: accuracy vs parameters", caption, plot,
            new FigureTable(["group", "model", "parameters", "", "accuracy", "what is measured"], rows));
    }

    /// <summary>
    /// Math average against BBH mean, one point per model (open before specialization, filled after); an arrow from each
    /// model before to after specialization (same parameter count), a pair in one colour. Models are named in the legend
    /// beside the plot, never as text beside their points: points of a trade-off sit close together, and their labels
    /// overlapped one another and ran off the plot's edge.
    /// </summary>
    public static ReportFigure TradeOff(IReadOnlyList<LabelledEvaluation> evaluations, string fileStem, string caption)
    {
        var plot = NewPlot("Trade-off: math vs BIG-Bench Hard", "BBH mean over tasks (%)", "math average (%)");
        // One colour per parameter count (a model before and after specialization); models of unknown size each their own.
        var pairs = evaluations.Select((e, i) => e.Results.Settings.Parameters?.ToString(CultureInfo.InvariantCulture) ?? $"#{i}").ToList();
        var colours = pairs.Distinct(StringComparer.Ordinal).Select((key, i) => (key, i)).ToDictionary(p => p.key, p => Palette.GetColor(p.i));
        // Before-specialization points first, so the legend reads each model's "before" above its "after".
        foreach (var (e, pair) in evaluations.Zip(pairs).OrderBy(x => x.First.Baseline ? 0 : 1))
        {
            var point = plot.Add.ScatterPoints(new[] { 100 * e.Results.BbhMean!.Value }, new[] { 100 * e.Results.MathMean!.Value }, colours[pair]);
            point.MarkerSize = 11;
            point.MarkerShape = e.Baseline ? MarkerShape.OpenCircle : MarkerShape.FilledCircle;
            point.LegendText = $"{e.Label} ({(e.Baseline ? "before" : "after")} specialization)";
        }
        foreach (var (before, pair) in evaluations.Zip(pairs).Where(x => x.First.Baseline && x.First.Results.Settings.Parameters is not null))
            foreach (var after in evaluations.Where(e => !e.Baseline && e.Results.Settings.Parameters == before.Results.Settings.Parameters))
            {
                var arrow = plot.Add.Arrow(
                    new Coordinates(100 * before.Results.BbhMean!.Value, 100 * before.Results.MathMean!.Value),
                    new Coordinates(100 * after.Results.BbhMean!.Value, 100 * after.Results.MathMean!.Value));
                arrow.ArrowFillColor = colours[pair].WithAlpha(0.6);
                arrow.ArrowLineWidth = 0;
                arrow.ArrowWidth = 2;
                arrow.ArrowheadWidth = 10;
                arrow.ArrowheadLength = 12;
            }
        plot.Axes.Margins(0.1, 0.1);
        plot.ShowLegend(Edge.Right);
        var rows = evaluations.Select(e => (IReadOnlyList<string>)
        [
            e.Stage, e.Label, e.Results.Settings.Parameters is { } n ? Int(n) : "", Percent(e.Results.MathMean!.Value),
            string.Join(", ", e.Results.Sets.Keys.Where(s => !SetScore.IsBbhSet(s))), Percent(e.Results.BbhMean!.Value),
            Int(e.Results.BbhMean.Tasks),
        ]).ToList();
        return new ReportFigure(fileStem, "Trade-off: math vs BIG-Bench Hard", caption, plot,
            new FigureTable(["stage", "model", "parameters", "math average", "math sets", "BBH mean", "BBH tasks"], rows));
    }

    /// <summary>One model's figure over seeds, before and after specialization.</summary>
    internal sealed record SpreadBeforeAfter(string Model, Spread Before, Spread After);

    /// <summary>
    /// Per model, a bar for the mean over seeds before and one after specialization, whiskers ± 1 sample sd, and each
    /// seed's value as a dot on its bar.
    /// </summary>
    public static ReportFigure OverSeeds(string title, string xLabel, string yLabel, IReadOnlyList<SpreadBeforeAfter> models, IReadOnlyList<ulong> seeds, string fileStem, string caption)
    {
        var plot = NewPlot(title, xLabel, yLabel);
        string[] stages = ["before specialization", "after specialization"];
        Color[] colors = [Colors.Gray, Palette.GetColor(0)];
        static Spread At(SpreadBeforeAfter m, int stage) => stage == 0 ? m.Before : m.After;
        // Two bars per model, then a gap of one bar.
        static double Position(int model, int stage) => 3 * model + stage;
        for (var j = 0; j < stages.Length; j++)
        {
            var stage = j;
            var bars = plot.Add.Bars(models.Select((m, i) => new Bar
            {
                Position = Position(i, stage), Value = 100 * At(m, stage).Mean, Error = 100 * At(m, stage).Sd, Size = 0.9,
                FillColor = colors[stage], LineColor = Colors.Black, LineWidth = 1.5f, // the outline and the whiskers
            }).ToList());
            bars.LegendText = stages[stage];
        }
        var dots = models.SelectMany((m, i) => Enumerable.Range(0, stages.Length).SelectMany(j => At(m, j).Values.Select(v => (X: Position(i, j), Y: 100 * v)))).ToList();
        var seedDots = plot.Add.ScatterPoints(dots.Select(d => d.X).ToArray(), dots.Select(d => d.Y).ToArray(), Colors.Black);
        seedDots.MarkerShape = MarkerShape.OpenCircle;
        seedDots.MarkerSize = 7;
        seedDots.LegendText = "one seed's value";

        plot.Axes.Bottom.SetTicks([.. models.Select((_, i) => Position(i, 0) + 0.5)], [.. models.Select(m => m.Model)]);
        plot.Axes.Bottom.MajorTickStyle.Length = 0;
        var top = models.SelectMany(m => new[] { m.Before, m.After }).SelectMany(s => s.Values.Append(s.Mean + s.Sd)).Max();
        plot.Axes.SetLimits(-0.8, Position(models.Count - 1, 1) + 0.8, 0, Math.Max(5, 100 * top * 1.12)); // at least 0–5 %: no magnified noise near zero
        plot.ShowLegend(Edge.Right);

        var rows = models.SelectMany(m => Enumerable.Range(0, stages.Length).Select(j => (IReadOnlyList<string>)
            [m.Model, stages[j], At(m, j).Percent(), .. At(m, j).Values.Select(Percent)])).ToList();
        return new ReportFigure(fileStem, title, caption, plot,
            new FigureTable(["student", "stage", "mean ± sd", .. seeds.Select(s => $"seed {s}")], rows));
    }

    /// <summary>A plot whose x axis counts training steps (whole numbers only).</summary>
    private static Plot NewStepPlot(string title, string yLabel)
    {
        var plot = NewPlot(title, "training step", yLabel);
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
        return plot;
    }

    private static Plot NewPlot(string title, string xLabel, string yLabel)
    {
        var plot = new Plot();
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        PlotFonts.Apply(plot);
        return plot;
    }

    private static ScottPlot.Plottables.Scatter AddLine(Plot plot, double[] xs, double[] ys, string legend, Color color, float width)
    {
        var line = plot.Add.Scatter(xs, ys, color);
        line.LegendText = legend;
        line.LineWidth = width;
        line.MarkerSize = 6;
        return line;
    }

    private static void AddMark(Plot plot, double x, double y, MarkerShape shape, Color color, string legend)
    {
        var mark = plot.Add.Marker(x, y, shape, 16, color);
        mark.MarkerLineColor = Colors.Black;
        mark.MarkerLineWidth = 1.5f;
        mark.LegendText = legend;
    }

    /// <summary>An x axis in log10 units labelled with parameter counts; powers of ten with minor ticks when the range spans a decade.</summary>
    private static void LogAxis(Plot plot, IEnumerable<double> log10Values)
    {
        var values = log10Values.ToList();
        var decades = values.Max() - values.Min() >= 1;
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
        {
            IntegerTicksOnly = decades,
            MinorTickGenerator = decades ? new ScottPlot.TickGenerators.LogMinorTickGenerator() : new ScottPlot.TickGenerators.EvenlySpacedMinorTickGenerator(0),
            LabelFormatter = v => FormatParameters(Math.Pow(10, v)),
        };
        plot.Axes.Margins(0.15, 0.15);
    }

    /// <summary>12,345,678 → "12.3M"; 2.85e9 → "2.85B".</summary>
    internal static string FormatParameters(double n) => n switch
    {
        >= 1e9 => Number(n / 1e9, "0.##") + "B",
        >= 1e6 => Number(n / 1e6, "0.##") + "M",
        >= 1e3 => Number(n / 1e3, "0.##") + "K",
        _ => Number(n, "0.##"),
    };

    internal static string Percent(double fraction) => Number(100 * fraction, "F1") + "%";

    internal static string Int(long n) => n.ToString(CultureInfo.InvariantCulture);

    internal static string Number(double x, string format) => x.ToString(format, CultureInfo.InvariantCulture);
}
