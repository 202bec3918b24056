using System.Text.Json.Nodes;
using SkiaSharp;
using Specialist.Answers;
using Specialist.Evaluation;
using Specialist.Models;
using static Specialist.Tests.Reports.ReportTestKit;

namespace Specialist.Tests.Reports;

/// <summary><c>specialist report</c> run as the real command over hand-made run and evaluation folders.</summary>
public class ReportCommandTests
{
    /// <summary>Pixels clearly darker than the white background in a rectangle of a PNG.</summary>
    internal static int DarkPixels(SKBitmap image, int left, int top, int right, int bottom)
    {
        var count = 0;
        for (var y = top; y < bottom; y++)
            for (var x = left; x < right; x++)
            {
                var c = image.GetPixel(x, y);
                if (c.Red + c.Green + c.Blue < 3 * 160) count++;
            }
        return count;
    }

    /// <summary>Asserts that the title (top band), x-axis label (bottom band) and y-axis label (left band) have drawn text.</summary>
    internal static void AssertTitleAndAxisLabelsAreVisible(string png)
    {
        using var image = SKBitmap.Decode(png);
        Assert.NotNull(image);
        Assert.True(DarkPixels(image, 0, 0, image.Width, 32) > 150, $"{png}: no title drawn");
        Assert.True(DarkPixels(image, 0, image.Height - 22, image.Width, image.Height) > 100, $"{png}: no x-axis label drawn");
        Assert.True(DarkPixels(image, 0, 0, 20, image.Height) > 100, $"{png}: no y-axis label drawn");
    }

    [Fact]
    public void ReportOverRunsWithTwoEvaluationsWritesTablesAndFiguresWithVisibleLabels()
    {
        var root = TestPaths.NewTempDir();
        Eval[] evals = [new(4, 0.10, 0.30, 0.20, 0.10), new(8, 0.15, 0.10, 0.10, 0.10)];
        var sample = WriteRun(root, "run-sample", "sample", 10, evals, T5Config.Tiny);
        var distribution = WriteRun(root, "run-distribution", "distribution", 10, evals, T5Config.Tiny, selection: false);
        var outFolder = Path.Combine(root, "report");

        var r = CliRunner.Run("report", "--run", sample, "--run", distribution, "--out", outFolder, "--json");

        Assert.True(r.ExitCode == 0, r.ToString());
        var summary = JsonNode.Parse(r.Stdout)!;
        var figures = summary["figures"]!.AsArray().Select(f => Path.GetFileName(f!.GetValue<string>())).ToList();
        Assert.Equal(["dynamics-run-sample.png", "dynamics-run-distribution.png", "loss-curves.png"], figures);
        foreach (var figure in figures)
        {
            AssertTitleAndAxisLabelsAreVisible(Path.Combine(outFolder, figure));
            var svg = File.ReadAllText(Path.Combine(outFolder, Path.ChangeExtension(figure, ".svg")));
            Assert.Contains("<text", svg);
        }
        Assert.Contains(summary["not_drawn"]!.AsArray(), n => n!.GetValue<string>().StartsWith("scaling curve", StringComparison.Ordinal));

        var report = File.ReadAllText(Path.Combine(outFolder, "report.md"));
        Assert.Contains("![Training dynamics: run-sample](dynamics-run-sample.png)", report);
        // Step 4 is the OOD-best (mean 20 %), step 8 the ID-best (15 %), in both the written and the derived selection.
        Assert.Equal(2, Count(report, "| 4 | checkpoints/step-000004 | 10.0% | 30.0% | 20.0% | 10.0% | 20.0% | OOD-best |"));
        Assert.Equal(2, Count(report, "| 8 | checkpoints/step-000008 | 15.0% | 10.0% | 10.0% | 10.0% | 10.0% | ID-best |"));
        Assert.Contains("## Training loss: sample vs distribution", report);
        for (var step = 1; step <= 10; step++)
            Assert.Contains($"| {step} | {Loss("sample", step):F4} | {Loss("distribution", step):F4} |", report);
    }

    [Fact]
    public void ScalingAndTradeOffComeFromEvaluationsBeforeAndAfterSpecialization()
    {
        var root = TestPaths.NewTempDir();
        // Math averages: after 20 % (100M) and 30 % (1B): +10 points per 10x; before 10 % and 12 %: +2 points per 10x.
        var after100M = WriteEvaluation(root, "small-specialized", 100_000_000, new Dictionary<string, int> { ["gsm8k-test"] = 10, ["svamp"] = 30 }, 30);
        var after1B = WriteEvaluation(root, "large-specialized", 1_000_000_000, new Dictionary<string, int> { ["gsm8k-test"] = 20, ["svamp"] = 40 }, 35);
        var before100M = WriteEvaluation(root, "small", 100_000_000, new Dictionary<string, int> { ["gsm8k-test"] = 5, ["svamp"] = 15 }, 40);
        var before1B = WriteEvaluation(root, "large", 1_000_000_000, new Dictionary<string, int> { ["gsm8k-test"] = 6, ["svamp"] = 18 }, 45);
        var teacher = WriteEvaluation(root, "teacher", null, new Dictionary<string, int> { ["gsm8k-test"] = 60 }, 70);
        var outFolder = Path.Combine(root, "report");

        var r = CliRunner.Run("report", "--eval", after100M, "--eval", after1B, "--baseline", before100M, "--baseline", before1B, "--eval", teacher, "--out", outFolder, "--json");

        Assert.True(r.ExitCode == 0, r.ToString());
        var summary = JsonNode.Parse(r.Stdout)!;
        Assert.Equal(["scaling.png", "trade-off.png"], summary["figures"]!.AsArray().Select(f => Path.GetFileName(f!.GetValue<string>())));
        AssertTitleAndAxisLabelsAreVisible(Path.Combine(outFolder, "scaling.png"));
        AssertTitleAndAxisLabelsAreVisible(Path.Combine(outFolder, "trade-off.png"));
        Assert.Contains(summary["not_drawn"]!.AsArray(), n => n!.GetValue<string>() == "scaling point of `teacher`: its parameter count is unknown (an endpoint)");

        var report = File.ReadAllText(Path.Combine(outFolder, "report.md"));
        Assert.Contains("| after specialization | log-linear fit |  |  | -60.00 + 10.00 · log10(parameters) | slope +10.00 points per 10x parameters |", report);
        Assert.Contains("| before specialization | log-linear fit |  |  | -6.00 + 2.00 · log10(parameters) | slope +2.00 points per 10x parameters |", report);
        Assert.Contains("| after specialization | large-specialized | 1000000000 | 1B | 30.0% |", report);
        Assert.Contains("| before | small | 100000000 | 10.0% | gsm8k-test, svamp | 45.0% | 2 |", report);
        Assert.Contains("| after | teacher |  | 60.0% | gsm8k-test | 75.0% | 2 |", report);
        // The accuracy table carries each set's Wilson interval.
        var (lo, hi) = Specialist.Answers.WilsonInterval.Compute(10, 100);
        Assert.Contains($"10.0% [{100 * lo:F1}%, {100 * hi:F1}%] (10/100)", report);
    }

    [Fact]
    public void TheReportGivesTheBbhMeanOverTasksAndEachTaskFile()
    {
        var root = TestPaths.NewTempDir();
        var folder = Path.Combine(root, "student");
        Directory.CreateDirectory(folder);
        var settings = new EvaluationSettings("/models/student", "t5:student", 1000, "4shot", "cot", "greedy (float32)", 256, null, "0123abc");
        new EvaluationResults(settings, new Dictionary<string, SetAccuracy> { ["gsm8k-test"] = new(10, 100), ["bbh"] = new(30, 80) }, new Dictionary<string, SetAccuracy>
        {
            ["logical_deduction_three_objects"] = new(16, 20), ["logical_deduction_five_objects"] = new(10, 20),
            ["logical_deduction_seven_objects"] = new(4, 20), ["navigate"] = new(0, 20),
        }).Write(folder);
        var outFolder = Path.Combine(root, "report");

        var r = CliRunner.Run("report", "--eval", folder, "--out", outFolder);

        Assert.True(r.ExitCode == 0, r.ToString());
        var report = File.ReadAllText(Path.Combine(outFolder, "report.md"));
        Assert.Contains("so BBH's 27 task files count as 23 tasks", report);
        // logical_deduction (80 %, 50 %, 20 %: 50 %) and navigate (0 %) are two tasks: 25 %, where the files' mean is 37.5 %.
        Assert.Contains("| BBH mean over tasks |", report);
        Assert.Contains("| 25.0% (2 tasks) |", report);
        Assert.Contains("## BBH per task file", report);
        Assert.Contains("| task file | task | student (after) |", report);
        Assert.Contains("| logical_deduction_five_objects | logical_deduction | 50.0% (10/20) |", report);
        Assert.Contains("| navigate | navigate | 0.0% (0/20) |", report);
        Assert.Contains("| mean over tasks |  | 25.0% (2 tasks, 4 files) |", report);
        Assert.Contains("| after | student | 1000 | 10.0% | gsm8k-test | 25.0% | 2 |", report);
    }

    [Fact]
    public void MissingInputsAreErrorsThatNameThePath()
    {
        var root = TestPaths.NewTempDir();
        var none = CliRunner.Run("report", "--out", root);
        Assert.Equal(2, none.ExitCode);
        var notARun = CliRunner.Run("report", "--run", root, "--out", Path.Combine(root, "out"));
        Assert.Equal(1, notARun.ExitCode);
        Assert.Contains(root, notARun.Stderr);
        Assert.Contains("metrics.jsonl", notARun.Stderr);
        var noResults = CliRunner.Run("report", "--eval", root, "--out", Path.Combine(root, "out"));
        Assert.Equal(1, noResults.ExitCode);
        Assert.Contains("results.json", noResults.Stderr);
    }

    private static int Count(string text, string part)
    {
        var count = 0;
        for (var at = text.IndexOf(part, StringComparison.Ordinal); at >= 0; at = text.IndexOf(part, at + 1, StringComparison.Ordinal)) count++;
        return count;
    }
}
