using System.Globalization;
using System.Text.RegularExpressions;
using Specialist.Reports;

namespace Specialist.Pipeline;

/// <summary>What <c>specialist run --seeds</c> runs.</summary>
/// <param name="Profile">Sizes and budgets, the same for every seed.</param>
/// <param name="OutputFolder">The multi-seed folder: a complete run folder <c>seed-N/</c> per seed and the aggregate in <c>report/</c>.</param>
/// <param name="Seeds">Two or more distinct seeds, in the order they run and are reported.</param>
public sealed record MultiSeedOptions(RunProfile Profile, string OutputFolder, IReadOnlyList<ulong> Seeds);

/// <summary>What a multi-seed run made.</summary>
/// <param name="OutputFolder">The multi-seed folder.</param>
/// <param name="ReportPath">The aggregate report.md.</param>
/// <param name="PhenomenaPath">The aggregate phenomena.json.</param>
/// <param name="Runs">Each seed's run, in the order of the seeds.</param>
/// <param name="Phenomena">Each phenomenon's verdict per seed.</param>
public sealed record MultiSeedSummary(string OutputFolder, string ReportPath, string PhenomenaPath, IReadOnlyList<RunSummary> Runs, IReadOnlyList<PhenomenonTally> Phenomena);

/// <summary>
/// <c>specialist run --seeds 0,1,2</c>: the miniature run once per seed, each into its own complete run folder
/// <c>OUT/seed-N/</c> — exactly the folder <c>specialist run --seed N --out OUT/seed-N</c> makes, so either command
/// reuses the other's finished stages — then the aggregate report in <c>OUT/report/</c>: every per-seed figure as
/// mean ± sd over the seeds, and for each phenomenon how many seeds gave each verdict.
/// </summary>
public static partial class MultiSeedRun
{
    /// <summary>The aggregate's folder inside the multi-seed folder.</summary>
    public const string ReportFolderName = "report";

    /// <summary>The run folder of <paramref name="seed"/> inside the multi-seed folder <paramref name="outputFolder"/>.</summary>
    public static string SeedFolder(string outputFolder, ulong seed) => Path.Combine(outputFolder, $"seed-{seed.ToString(CultureInfo.InvariantCulture)}");

    /// <summary>Seeds as <c>--seeds</c> writes them, <c>0,1,2</c>: two or more distinct non-negative integers.</summary>
    public static IReadOnlyList<ulong> ParseSeeds(string text)
    {
        var seeds = text.Split(',', StringSplitOptions.TrimEntries).Select(part =>
            ulong.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var seed) ? seed
                : throw new SpecialistException($"seeds '{text}': '{part}' is not a non-negative integer (write them as 0,1,2)")).ToList();
        SeedAggregate.CheckSeeds(seeds);
        return seeds;
    }

    public static async Task<MultiSeedSummary> RunAsync(MultiSeedOptions options, Action<ulong, RunEvent>? report = null, CancellationToken stop = default)
    {
        SeedAggregate.CheckSeeds(options.Seeds);
        var output = Path.GetFullPath(options.OutputFolder);
        CheckFolder(output);
        var runs = new List<RunSummary>();
        foreach (var seed in options.Seeds)
            runs.Add(await MiniatureRun.RunAsync(new RunOptions(options.Profile, SeedFolder(output, seed), seed), report is null ? null : e => report(seed, e), stop));

        var aggregate = SeedAggregate.Of([.. options.Seeds.Zip(runs, (seed, run) => SeedPhenomena.Read(seed, run.PhenomenaPath))]);
        var folder = Path.Combine(output, ReportFolderName);
        // The report is written again in full; what an earlier call killed while writing it left is removed.
        if (Directory.Exists(folder)) AtomicFolder.RemoveLeftovers(folder);
        SeedReport.Write(aggregate, folder, output);
        return new MultiSeedSummary(output, Path.Combine(folder, Report.FileName), Path.Combine(folder, Phenomena.FileName), runs, aggregate.Phenomena);
    }

    // A multi-seed folder holds seed folders and the aggregate only: never a single run's folder, whose report/ the aggregate would overwrite.
    private static void CheckFolder(string output)
    {
        if (!Directory.Exists(output)) return;
        if (File.Exists(Path.Combine(output, RunStages.SettingsFileName)))
            throw new SpecialistException($"{output} holds a single-seed run ({RunStages.SettingsFileName}): choose another --out for several seeds, or continue it with --seed");
        var other = Directory.EnumerateFileSystemEntries(output).Select(Path.GetFileName)
            .FirstOrDefault(name => !(Directory.Exists(Path.Combine(output, name!)) && (name == ReportFolderName || SeedFolderName().IsMatch(name!))));
        if (other is not null)
            throw new SpecialistException($"{output} holds {other}, which is not a seed's run folder (seed-N) or the aggregate report: choose an empty or new --out");
    }

    [GeneratedRegex("^seed-[0-9]+$")]
    private static partial Regex SeedFolderName();
}
