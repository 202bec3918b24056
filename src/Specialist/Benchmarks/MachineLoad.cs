using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;

namespace Specialist.Benchmarks;

/// <summary>
/// The machine's 1-minute load average read before and after a benchmark's measurement. Figures taken while other work
/// ran are not comparable with an idle machine's, so above <see cref="Limit"/> at either point they are marked as
/// taken under load. The reading after includes the benchmark's own threads, which on a 2-core machine would mark
/// every run of a minute or more by itself; their share (<see cref="OwnShare"/>) is taken off that reading first.
/// </summary>
/// <param name="Before">The load average when the measurement started; null where <c>/proc/loadavg</c> is absent.</param>
/// <param name="After">The load average when it ended; null where <c>/proc/loadavg</c> is absent.</param>
/// <param name="OwnShare">This process's part of <paramref name="After"/>: its mean busy cores over the measurement
/// (CPU time ÷ wall time) as the kernel's 1-minute exponential average counts them, 1 − e^(−wall/60) of it. An
/// underestimate when the process waited for a core (waiting threads count in the load average, not in CPU time), so
/// it errs towards marking figures as taken under load.</param>
public sealed record MachineLoad(double? Before, double? After, double OwnShare)
{
    /// <summary>The load average above which figures are marked as taken under load.</summary>
    public const double Limit = 1.5;

    private static readonly string LoadAverageFile = "/proc/loadavg";

    /// <summary>The load other work put on the machine at the end: <see cref="After"/> less this process's share.</summary>
    public double? OthersAfter => After is { } after ? Math.Max(0, after - OwnShare) : null;

    /// <summary>Whether the load average was above <see cref="Limit"/> before the measurement or, without this process's share, after it.</summary>
    public bool UnderLoad => Before > Limit || OthersAfter > Limit;

    /// <summary>One line with both readings.</summary>
    public string Summary => Before is null || After is null
        ? "load average unknown (no /proc/loadavg)"
        : string.Create(CultureInfo.InvariantCulture, $"load average {Before:F2} before, {After:F2} after ({OwnShare:F2} of it this benchmark's own)");

    /// <summary>The line that marks figures taken under load; null when they were not.</summary>
    public string? Warning => UnderLoad
        ? string.Create(CultureInfo.InvariantCulture, $"load average {Math.Max(Before ?? 0, OthersAfter ?? 0):F2} > {Limit}: figures taken under load, not quotable")
        : null;

    /// <summary>
    /// Reads the load average now and returns what ends the measurement: called when it is done, it reads the load
    /// average again and gives both readings.
    /// </summary>
    public static Func<MachineLoad> Start() => Start(ReadLoadAverage);

    /// <summary><see cref="Start()"/> reading the load average from <paramref name="readLoadAverage"/> (tests give a fake one).</summary>
    internal static Func<MachineLoad> Start(Func<double?> readLoadAverage)
    {
        var before = readLoadAverage();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        return () =>
        {
            var wall = clock.Elapsed.TotalSeconds;
            var busyCores = wall > 0 ? (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds / wall : 0;
            return new MachineLoad(before, readLoadAverage(), busyCores * (1 - Math.Exp(-wall / 60)));
        };
    }

    /// <summary>The 1-minute load average (the first field of <c>/proc/loadavg</c>); null where the file is absent or unreadable.</summary>
    public static double? ReadLoadAverage()
    {
        try
        {
            var first = File.ReadAllText(LoadAverageFile).Split(' ', 2)[0];
            return double.TryParse(first, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) ? value : null;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Adds the readings to a benchmark's JSON figures: <c>load_average_before</c>, <c>load_average_after</c>, <c>load_average_own</c> and <c>under_load</c>.</summary>
    public JsonObject AddTo(JsonObject figures)
    {
        figures["load_average_before"] = Before;
        figures["load_average_after"] = After;
        figures["load_average_own"] = Math.Round(OwnShare, 3);
        figures["under_load"] = UnderLoad;
        return figures;
    }
}
