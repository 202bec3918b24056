namespace Specialist.Tests.Pipeline;

/// <summary>
/// One uninterrupted <c>specialist run --profile quick</c> of seed 0, made once per test process (it takes a minute or
/// two on 2 cores) and shared: the run command's test checks it and builds on it, the chaos test compares its killed
/// runs with it. Whichever asks first makes it; the other waits for it.
/// </summary>
internal static class UninterruptedQuickRun
{
    public static readonly TimeSpan Timeout = TimeSpan.FromMinutes(10);

    private static readonly Lazy<Made> Shared = new(Make);

    /// <summary>The run.</summary>
    /// <param name="Temp">A fresh folder holding everything below.</param>
    /// <param name="Env">The environment the command ran with: its own teacher cache in <paramref name="Temp"/>, which it filled.</param>
    /// <param name="Seeds">Where <c>run --seeds 0,1 --out Seeds</c> finds the run as its seed 0.</param>
    /// <param name="Folder">The run folder, <c>Seeds/seed-0</c>.</param>
    /// <param name="Result">What the command printed.</param>
    public sealed record Made(string Temp, IReadOnlyDictionary<string, string> Env, string Seeds, string Folder, CliRunner.Result Result);

    public static Made Get() => Shared.Value;

    private static Made Make()
    {
        var temp = TestPaths.NewTempDir();
        var env = new Dictionary<string, string> { ["SPECIALIST_CACHE"] = Path.Combine(temp, "cache") };
        var seeds = Path.Combine(temp, "seeds");
        var folder = Path.Combine(seeds, "seed-0");
        var result = CliRunner.Run(["run", "--profile", "quick", "--out", folder], null, Timeout, env);
        return new Made(temp, env, seeds, folder, result);
    }
}
