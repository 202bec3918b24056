using System.Text;
using Specialist.Answers;
using Specialist.Evaluation;
using Specialist.Training;

namespace Specialist.Reports;

/// <summary>What a report is made from.</summary>
/// <param name="Runs">Training run folders (<c>--run</c>).</param>
/// <param name="Evaluations">Evaluation folders of specialized models (<c>--eval</c>).</param>
/// <param name="Baselines">Evaluation folders of the same kind of models before specialization (<c>--baseline</c>).</param>
public sealed record ReportInputs(IReadOnlyList<string> Runs, IReadOnlyList<string> Evaluations, IReadOnlyList<string> Baselines)
{
    /// <summary>
    /// The folder report.md writes paths relative to (e.g. a run folder); null: the report's own folder. Never absolute
    /// paths, so a report reads the same wherever its folders are.
    /// </summary>
    public string? PathsRelativeTo { get; init; }

    /// <summary>The report's title (its <c>#</c> heading).</summary>
    public string Title { get; init; } = "Report";

    /// <summary>
    /// Markdown that comes first, below the title (such as a run's findings, with <c>##</c> headings of its own); the
    /// figures and tables then follow under <c>## Figures and tables</c>, one level down.
    /// </summary>
    public IReadOnlyList<string> Sections { get; init; } = [];
}

/// <summary>What <see cref="Report.Write"/> wrote.</summary>
/// <param name="ReportPath">report.md.</param>
/// <param name="Figures">The PNG files (each has an SVG beside it).</param>
/// <param name="NotDrawn">Each figure that could not be drawn from the inputs, and why.</param>
public sealed record ReportSummary(string ReportPath, IReadOnlyList<string> Figures, IReadOnlyList<string> NotDrawn);

/// <summary>
/// <c>specialist report</c>: report.md with figures as PNG and SVG (ScottPlot), each followed by how it was made and
/// a table of every number it shows:
/// <list type="bullet">
/// <item>training dynamics per run: ID vs OOD dev accuracy per checkpoint, the ID-best and OOD-best marked;</item>
/// <item>loss curves: training loss per step of every run (e.g. sample vs distribution matching);</item>
/// <item>scaling: accuracy against parameter count (log axis), with each group's log-linear fit and slope;</item>
/// <item>trade-off: math average against the BBH mean, before (<c>--baseline</c>) and after (<c>--eval</c>) specialization.</item>
/// </list>
/// </summary>
public static class Report
{
    public const string FileName = "report.md";

    public static ReportSummary Write(ReportInputs inputs, string outputFolder)
    {
        if (inputs.Runs.Count + inputs.Evaluations.Count + inputs.Baselines.Count == 0)
            throw new SpecialistException("nothing to report: give at least one training run or evaluation folder");
        var runs = inputs.Runs.Select(TrainingRun.Read).ToList();
        var evaluations = Label(inputs.Evaluations, baseline: false).Concat(Label(inputs.Baselines, baseline: true)).ToList();
        Directory.CreateDirectory(outputFolder);

        var figures = new List<ReportFigure>();
        var notDrawn = new List<string>();
        var stems = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            foreach (var run in runs)
            {
                if (run.Evaluations.Count > 0) figures.Add(ReportFigures.TrainingDynamics(run, UniqueStem(stems, "dynamics-" + run.Name)));
                else notDrawn.Add($"training dynamics of `{run.Name}`: its metrics.jsonl has no `eval` line yet");
            }
            if (runs.Any(r => r.TrainSteps.Count > 0)) figures.Add(ReportFigures.LossCurves(runs, UniqueStem(stems, "loss-curves")));
            else if (runs.Count > 0) notDrawn.Add("loss curves: no run has `train` lines in metrics.jsonl");

            var scaling = ScalingPoints(runs, evaluations, notDrawn);
            if (scaling.GroupBy(p => p.Group).Any(g => g.Select(p => p.Parameters).Distinct().Count() >= 2))
                figures.Add(ReportFigures.Scaling(scaling, UniqueStem(stems, "scaling"), ScalingCaption(evaluations)));
            else notDrawn.Add("scaling curve: needs models of at least two sizes in one group (evaluations after, evaluations before, or training runs)");

            var tradeOff = evaluations.Where(e => e.Results.MathMean is not null && e.Results.BbhMean is not null).ToList();
            foreach (var e in evaluations.Except(tradeOff))
                notDrawn.Add($"trade-off point of `{e.Label}`: it was not evaluated on {(e.Results.BbhMean is null ? "BBH" : "any math set")}");
            if (tradeOff.Count > 0) figures.Add(ReportFigures.TradeOff(tradeOff, UniqueStem(stems, "trade-off"), TradeOffCaption(tradeOff)));
            else if (evaluations.Count == 0) notDrawn.Add("trade-off: needs evaluations, before or after specialization, with math sets and BBH");

            var written = new List<string>();
            foreach (var figure in figures) written.Add(figure.Save(outputFolder));
            var reportPath = Path.Combine(outputFolder, FileName);
            var root = Path.GetFullPath(inputs.PathsRelativeTo ?? outputFolder);
            AtomicFile.WriteText(reportPath, Markdown(inputs, runs, evaluations, figures, notDrawn, path => Path.IsPathRooted(path) ? Path.GetRelativePath(root, path) : path));
            return new ReportSummary(Path.GetFullPath(reportPath), written, notDrawn);
        }
        finally
        {
            foreach (var figure in figures) figure.Dispose();
        }
    }

    private static IEnumerable<LabelledEvaluation> Label(IReadOnlyList<string> folders, bool baseline) =>
        folders.Select(f => new LabelledEvaluation(Path.GetFileName(Path.GetFullPath(f).TrimEnd(Path.DirectorySeparatorChar)), Path.GetFullPath(f), EvaluationResults.Read(f), baseline));

    /// <summary>Points per group: evaluations after and before (math average of their test sets) and runs (OOD dev mean at the OOD-best checkpoint).</summary>
    private static List<ReportFigures.ScalingPoint> ScalingPoints(IReadOnlyList<TrainingRun> runs, IReadOnlyList<LabelledEvaluation> evaluations, List<string> notDrawn)
    {
        var points = new List<ReportFigures.ScalingPoint>();
        foreach (var e in evaluations)
        {
            if (e.Results.Settings.Parameters is not { } n) notDrawn.Add($"scaling point of `{e.Label}`: its parameter count is unknown (an endpoint)");
            else if (e.Results.MathMean is not { } math) notDrawn.Add($"scaling point of `{e.Label}`: it was not evaluated on a math set");
            else points.Add(new(e.Baseline ? "before specialization" : "after specialization", e.Label, n, math,
                "math average over " + string.Join(", ", e.Results.Sets.Keys.Where(s => !SetScore.IsBbhSet(s)))));
        }
        foreach (var run in runs)
        {
            if (run.Parameters is not { } n) notDrawn.Add($"scaling point of run `{run.Name}`: no checkpoint config.json to count its parameters");
            else if (run.BestOod is not { } best) notDrawn.Add($"scaling point of run `{run.Name}`: no evaluation yet");
            else points.Add(new("training runs (OOD dev)", run.Name, n, best.Score, $"OOD dev mean at the OOD-best checkpoint (step {best.Step})"));
        }
        return points;
    }

    private static string ScalingCaption(IReadOnlyList<LabelledEvaluation> evaluations) =>
        "Accuracy against parameter count (x axis in log10 units). Each group with two or more sizes gets the least-squares line " +
        "accuracy = a + b · log10(parameters); b, the slope, is the gain in percentage points per tenfold parameters. " +
        "Evaluations count the unweighted mean over their math sets; training runs their OOD dev mean at the OOD-best checkpoint. " +
        (evaluations.Count > 0 ? "Evaluation settings are in the Evaluations table above." : "");

    private static string TradeOffCaption(IReadOnlyList<LabelledEvaluation> evaluations) =>
        "One point per evaluated model: x = the BBH mean over tasks (a task's 3/5/7-object files averaged first), y = the unweighted mean over its math sets. " +
        "Hollow grey points are models before specialization, filled ones after; an arrow joins a model before " +
        "to one after with the same parameter count. Settings per model are in the Evaluations table above.";

    /// <summary>
    /// The training runs' settings (config.json) once: those every run shares in one line, the others as a table with a
    /// row per run, so no figure caption repeats them.
    /// </summary>
    private static string RunSettings(IReadOnlyList<TrainingRun> runs, Func<string, string> shown, string heading)
    {
        // Arrays and objects (formats, batch sizes) come indented from config.json: one line each in a table cell.
        string Value(TrainingRun run, string key) => run.Settings.FirstOrDefault(s => s.Key == key).Value switch
        {
            null => "",
            ['[' or '{', ..] json => System.Text.Json.Nodes.JsonNode.Parse(json)!.ToJsonString(),
            var v => shown(v),
        };
        var keys = runs.SelectMany(r => r.Settings.Select(s => s.Key)).Distinct(StringComparer.Ordinal).ToList();
        var differing = keys.Where(k => runs.Select(r => Value(r, k)).Distinct(StringComparer.Ordinal).Count() > 1).ToList();
        var shared = keys.Except(differing).Select(k => $"{k}={Value(runs[0], k)}").ToList();
        var md = new StringBuilder($"{heading} Training runs\n\n");
        md.Append($"Settings from each run's {TrainingRun.ConfigFileName}. Shared by every run: {(shared.Count > 0 ? string.Join(", ", shared) : "none")}.\n\n");
        md.Append(new FigureTable(["run", "folder", .. differing], [.. runs.Select(r => (IReadOnlyList<string>)[r.Name, shown(r.Folder), .. differing.Select(k => Value(r, k))])]).ToMarkdown());
        md.Append('\n');
        return md.ToString();
    }

    /// <summary>What the reports' BBH mean is, in one sentence.</summary>
    private const string BbhMeanDefinition =
        "BBH mean = the unweighted mean over tasks, as the paper and BIG-Bench Hard's authors report it: the 3/5/7-object files of " +
        "logical_deduction and tracking_shuffled_objects are averaged into one task first, so BBH's 27 task files count as 23 tasks.";

    /// <summary>Each BBH task file's accuracy per evaluation, and the mean over tasks; empty when no evaluation has BBH results.</summary>
    private static string BbhTaskTable(IReadOnlyList<LabelledEvaluation> evaluations, string heading)
    {
        var withBbh = evaluations.Where(e => e.Results.BbhTasks is { Count: > 0 }).ToList();
        if (withBbh.Count == 0) return "";
        var files = withBbh.SelectMany(e => e.Results.BbhTasks!.Keys).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var rows = files.Select(f => (IReadOnlyList<string>)
            [f, BbhTaskMean.TaskOf(f), .. withBbh.Select(e => e.Results.BbhTasks!.TryGetValue(f, out var a) ? $"{ReportFigures.Percent(a.Accuracy)} ({a.Correct}/{a.Total})" : "")]).ToList();
        rows.Add(["mean over tasks", "", .. withBbh.Select(e => $"{ReportFigures.Percent(e.Results.BbhMean!.Value)} ({e.Results.BbhMean.Tasks} tasks, {e.Results.BbhMean.Files} files)")]);
        return $"{heading} BBH per task file\n\nAccuracy on each task file; the task column says which task a file counts towards in the mean (last row).\n\n" +
            new FigureTable(["task file", "task", .. withBbh.Select(e => $"{e.Label} ({e.Stage})")], rows).ToMarkdown() + "\n";
    }

    private static string UniqueStem(HashSet<string> used, string name)
    {
        var safe = new string([.. name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_')]);
        var stem = safe;
        for (var i = 2; !used.Add(stem); i++) stem = $"{safe}-{i}";
        return stem;
    }

    // shown: how a path appears in the report (relative, see ReportInputs.PathsRelativeTo).
    private static string Markdown(ReportInputs inputs, IReadOnlyList<TrainingRun> runs, IReadOnlyList<LabelledEvaluation> evaluations, IReadOnlyList<ReportFigure> figures,
        IReadOnlyList<string> notDrawn, Func<string, string> shown)
    {
        var md = new StringBuilder();
        md.Append($"# {inputs.Title}\n\n");
        foreach (var section in inputs.Sections) md.Append(section.TrimEnd('\n')).Append("\n\n");
        // Under sections of their own, the figures and tables are one section, each of its parts a level down.
        var h = inputs.Sections.Count > 0 ? "###" : "##";
        if (inputs.Sections.Count > 0) md.Append("## Figures and tables\n\n");
        md.Append($"Written by `specialist report` (code commit {EvaluatedModel.CodeCommit()}) from ");
        md.Append(string.Join(", ", runs.Select(r => $"training run `{shown(r.Folder)}`").Concat(evaluations.Select(e => $"evaluation `{shown(e.Folder)}` ({e.Stage})"))));
        md.Append(".\n\n");
        if (runs.Count > 0) md.Append(RunSettings(runs, shown, h));
        if (evaluations.Count > 0)
        {
            md.Append($"{h} Evaluations\n\nHow each evaluation was made (its results.json settings):\n\n");
            md.Append(new FigureTable(["model", "stage", "evaluated", "parameters", "prompt", "BBH mode", "decoding", "max new tokens", "limit", "commit"],
                [.. evaluations.Select(e => (IReadOnlyList<string>)
                [
                    e.Label, e.Stage, shown(e.Results.Settings.Model), e.Results.Settings.Parameters is { } n ? ReportFigures.Int(n) : "unknown",
                    e.Results.Settings.Prompt, e.Results.Settings.BbhMode, e.Results.Settings.Decoding, ReportFigures.Int(e.Results.Settings.MaxNewTokens),
                    e.Results.Settings.Limit is { } l ? $"first {l} per set (per task for bbh)" : "all", e.Results.Settings.Commit,
                ])]).ToMarkdown());
            md.Append($"\n{h} Accuracy\n\nAccuracy with its 95 % Wilson interval; " + BbhMeanDefinition + "\n\n");
            var sets = evaluations.SelectMany(e => e.Results.Sets.Keys).Distinct(StringComparer.Ordinal).ToList();
            md.Append(new FigureTable(["model", "stage", .. sets, "BBH mean over tasks"],
                [.. evaluations.Select(e => (IReadOnlyList<string>)
                [
                    e.Label, e.Stage,
                    .. sets.Select(s => e.Results.Sets.TryGetValue(s, out var a)
                        ? $"{ReportFigures.Percent(a.Accuracy)} [{ReportFigures.Percent(a.Ci95.Lo)}, {ReportFigures.Percent(a.Ci95.Hi)}] ({a.Correct}/{a.Total})"
                        : ""),
                    e.Results.BbhMean is { } m ? $"{ReportFigures.Percent(m.Value)} ({m.Tasks} tasks)" : "",
                ])]).ToMarkdown());
            md.Append('\n');
            md.Append(BbhTaskTable(evaluations, h));
        }
        foreach (var figure in figures) md.Append(figure.ToMarkdown(h));
        if (notDrawn.Count > 0)
        {
            md.Append($"{h} Not drawn\n\n");
            foreach (var reason in notDrawn) md.Append($"- {reason}\n");
        }
        return md.ToString();
    }
}
