using System.Globalization;
using System.Text;

namespace Specialist.Reports;

/// <summary>
/// The report of a multi-seed run: report.md (in how many seeds each phenomenon holds; the students, the control and
/// the teacher as mean ± sd over the seeds; figures with error bars) and phenomena.json (<see cref="SeedAggregate.ToJson"/>).
/// </summary>
internal static class SeedReport
{
    /// <summary>
    /// Writes the report of <paramref name="aggregate"/> into <paramref name="folder"/>. Paths in it are relative:
    /// links to the seeds' reports relative to <paramref name="folder"/>, paths named in text relative to <paramref name="root"/>.
    /// </summary>
    public static void Write(SeedAggregate aggregate, string folder, string root)
    {
        Directory.CreateDirectory(folder);
        root = Path.GetFullPath(root);
        string Shown(string path) => Relative(root, path);
        aggregate.Write(Path.Combine(folder, Phenomena.FileName), Shown);

        string Label(ModelSpread m) => $"{m.Name} ({ReportFigures.FormatParameters(m.Params)})";
        var how = $"Bars: the mean over seeds {string.Join(", ", aggregate.Seeds)}; whiskers: ± 1 sample standard deviation; dots: each seed's value. " +
                  "Test sets, zero-shot chain of thought; before = the generalist, after = the OOD-best checkpoint of its specialization.";
        var figures = new List<ReportFigure>();
        try
        {
            figures.Add(ReportFigures.OverSeeds($"ID math accuracy over {aggregate.Seeds.Count} seeds (mean ± sd)", "student (parameters)", "ID math test accuracy (%)",
                [.. aggregate.Students.Select(s => new ReportFigures.SpreadBeforeAfter(Label(s), s["math_id_before"], s["math_id_after"]))], aggregate.Seeds, "math-id-over-seeds",
                "In-distribution math accuracy of every student size before and after specialization. " + how));
            figures.Add(ReportFigures.OverSeeds($"Generic accuracy over {aggregate.Seeds.Count} seeds (mean ± sd)", "student (parameters)", "generic (BBH-like) accuracy (%)",
                [.. aggregate.Students.Select(s => new ReportFigures.SpreadBeforeAfter(Label(s), s["generic_before"], s["generic_after"]))], aggregate.Seeds, "generic-over-seeds",
                "Generic (BBH-like) accuracy, the mean over the generic tasks, of every student size before and after specialization. " + how));
            foreach (var figure in figures) figure.Save(folder);
            var reports = aggregate.Files.Select(f => Path.Combine(Path.GetDirectoryName(f)!, Report.FileName)).ToList();
            AtomicFile.WriteText(Path.Combine(folder, Report.FileName), Markdown(aggregate, figures, [.. reports.Select(r => (Relative(folder, r), Shown(r)))]));
        }
        finally
        {
            foreach (var figure in figures) figure.Dispose();
        }
    }

    private static string Markdown(SeedAggregate aggregate, IReadOnlyList<ReportFigure> figures, IReadOnlyList<(string Link, string Text)> seedReports)
    {
        var md = new StringBuilder();
        md.Append($"# Specialist run over {aggregate.Seeds.Count} seeds: the paper in miniature\n\n");
        md.Append($"Profile `{aggregate.Profile}`, seeds {string.Join(", ", aggregate.Seeds)}: one complete run per seed, each with its own report (" +
                  string.Join(", ", aggregate.Seeds.Zip(seedReports, (s, r) => $"seed {s}: [{r.Text}]({r.Link})")) + "). " +
                  "The world's problems and its teacher are the same in every seed; a seed changes the students' initialisation, their data order " +
                  "and the chains of thought the teacher samples. Every figure here is the mean ± sample standard deviation (n − 1) over the seeds; " +
                  "each seed's figures, rules and intervals are in its own report.\n\n");

        md.Append("## The six phenomena: in how many seeds each holds\n\n");
        md.Append("Each seed's verdict is decided by the rule its report states, on that seed's numbers alone.\n\n");
        var verdicts = Phenomena.VerdictTexts;
        md.Append(new FigureTable(["", "phenomenon", .. verdicts, .. aggregate.Seeds.Select(s => $"seed {s}")],
            [.. aggregate.Phenomena.Select(p => (IReadOnlyList<string>)
            [
                p.Id, p.Title, .. verdicts.Select(v => $"{p.Verdicts.Count(x => x == v)} of {p.Verdicts.Count}"), .. p.Verdicts,
            ])]).ToMarkdown());

        md.Append("\n## Students, control and teacher\n\n");
        md.Append("Test-set accuracy, zero-shot chain of thought, mean ± sd over the seeds (sd in percentage points); before = the generalist, after = the OOD-best " +
                  "checkpoint of its specialization; OOD = the mean over the out-of-distribution math splits.\n\n");
        var control = aggregate.Control;
        md.Append(new FigureTable(["student", "parameters", "ID math before", "ID math after", "OOD mean before", "OOD mean after", "generic before", "generic after"],
            [
                .. aggregate.Students.Select(s => (IReadOnlyList<string>)[s.Name, s.Params.ToString("N0", CultureInfo.InvariantCulture), .. SeedAggregate.StudentFigures.Select(f => s[f].Percent())]),
                [$"{control.Name} control (the same steps on the generalist mixture)", control.Params.ToString("N0", CultureInfo.InvariantCulture),
                    "", control["math_id"].Percent(), "", control["ood"].Percent(), "", control["generic"].Percent()],
            ]).ToMarkdown());
        var teacher = aggregate.Teacher;
        md.Append($"\n**Teacher** ({teacher.Params.ToString("N0", CultureInfo.InvariantCulture)} parameters, the same model in every seed): " +
                  $"ID math {teacher["math_id"].Percent()}, OOD mean {teacher["ood"].Percent()}; of the chains of thought it sampled, {teacher["kept_rate"].Percent()} had the gold answer and were kept.\n\n");
        md.Append("The numbers, each seed's included, are in `phenomena.json`.\n\n");
        foreach (var figure in figures) md.Append(figure.ToMarkdown());
        return md.ToString();
    }

    // Forward slashes, so the links work wherever the report is read.
    private static string Relative(string from, string path) => Path.GetRelativePath(Path.GetFullPath(from), Path.GetFullPath(path)).Replace('\\', '/');
}
