using ScottPlot;
using SkiaSharp;
using Specialist.Models;
using Specialist.Reports;
using Specialist.Training;
using static Specialist.Tests.Reports.ReportTestKit;

namespace Specialist.Tests.Reports;

public class ReportFiguresTests
{
    [Fact]
    public void FiguresDrawTheirTextWithTheEmbeddedFontWhateverTheSystemHas()
    {
        using var plot = new Plot();
        plot.Title("Training dynamics");
        PlotFonts.Apply(plot);

        // ScottPlot resolves the figures' font name to the typeface read from this assembly, never to a system font:
        // so a machine without fontconfig or /usr/share/fonts draws the same text.
        Assert.Same(PlotFonts.Typeface, Fonts.GetTypeface(PlotFonts.Name, bold: true, italic: false));
        Assert.Same(PlotFonts.Typeface, Fonts.GetTypeface(PlotFonts.Name, bold: false, italic: false));
        Assert.Equal("DejaVu Sans", PlotFonts.Typeface.FamilyName);
        using var font = new SKFont(PlotFonts.Typeface);
        Assert.True(font.ContainsGlyphs("Training dynamics: run-1 ID-best OOD mean accuracy (%) 0123456789 · 10x"));
        Assert.Equal(PlotFonts.Name, plot.Axes.Title.Label.FontName);
        Assert.Equal(PlotFonts.Name, plot.Axes.Bottom.TickLabelStyle.FontName);
    }

    [Fact]
    public void TheTitleAndAxisLabelBandsHaveInkOnlyFromTheirText()
    {
        // The pixel measure the command tests use, checked both ways on the same figure.
        var run = TrainingRun.Read(WriteRun(TestPaths.NewTempDir(), "run", "sample", 8, [new(4, 0.1, 0.2, 0.2, 0.2), new(8, 0.2, 0.1, 0.1, 0.1)], T5Config.Tiny));
        using var figure = ReportFigures.TrainingDynamics(run, "dynamics");
        var titled = Render(figure.Plot);
        // Same layout, text drawn in the background colour: what a figure without a usable font looks like there.
        figure.Plot.Axes.Title.Label.ForeColor = Colors.White;
        figure.Plot.Axes.Bottom.Label.ForeColor = Colors.White;
        var untitled = Render(figure.Plot);

        Assert.True(ReportCommandTests.DarkPixels(titled, 0, 0, titled.Width, 32) > 150);
        Assert.Equal(0, ReportCommandTests.DarkPixels(untitled, 0, 0, untitled.Width, 32));
        Assert.True(ReportCommandTests.DarkPixels(titled, 0, titled.Height - 22, titled.Width, titled.Height) > 100);
        Assert.Equal(0, ReportCommandTests.DarkPixels(untitled, 0, untitled.Height - 22, untitled.Width, untitled.Height));
    }

    [Fact]
    public void TheTradeOffNamesEveryModelInItsLegendAndWritesNoTextOverItsPoints()
    {
        // Points of a trade-off crowd together (here two generalists 0.5 points apart): text beside them overlapped and
        // ran off the plot's right edge. Each model is a legend entry beside the plot instead.
        var root = TestPaths.NewTempDir();
        LabelledEvaluation Evaluation(string name, long parameters, int mathCorrect, int bbhCorrect, bool baseline)
        {
            var folder = WriteEvaluation(root, name, parameters, new Dictionary<string, int> { ["gsm8k-test"] = mathCorrect }, bbhCorrect);
            return new LabelledEvaluation(name, folder, Specialist.Evaluation.EvaluationResults.Read(folder), baseline);
        }
        LabelledEvaluation[] evaluations =
        [
            Evaluation("m-generalist-zeroshot", 158_656, 2, 62, baseline: true),
            Evaluation("l-generalist-zeroshot", 268_800, 2, 63, baseline: true),
            Evaluation("m-specialized-zeroshot", 158_656, 7, 1, baseline: false),
            Evaluation("l-specialized-zeroshot", 268_800, 18, 0, baseline: false),
        ];

        using var figure = ReportFigures.TradeOff(evaluations, "trade-off", "caption");

        Assert.Empty(figure.Plot.GetPlottables().OfType<ScottPlot.Plottables.Text>());
        var legend = figure.Plot.GetPlottables().SelectMany(p => p.LegendItems).Select(i => i.LabelText).Where(t => t.Length > 0).ToList();
        Assert.Equal(
        [
            "m-generalist-zeroshot (before specialization)", "l-generalist-zeroshot (before specialization)",
            "m-specialized-zeroshot (after specialization)", "l-specialized-zeroshot (after specialization)",
        ], legend);
        // A model keeps its colour before and after; the two sizes differ.
        var colours = figure.Plot.GetPlottables().OfType<ScottPlot.Plottables.Scatter>().Select(p => p.Color).ToList();
        Assert.Equal(colours[0], colours[2]);
        Assert.Equal(colours[1], colours[3]);
        Assert.NotEqual(colours[0], colours[1]);
        Assert.Equal(2, figure.Plot.GetPlottables().OfType<ScottPlot.Plottables.Arrow>().Count());
    }

    private static SKBitmap Render(Plot plot)
    {
        var bytes = plot.GetImage(ReportFigures.Width, ReportFigures.Height).GetImageBytes(ImageFormat.Png, 100);
        return SKBitmap.Decode(bytes);
    }
}
