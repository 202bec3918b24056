using System.Globalization;
using System.Text.Json.Nodes;
using Specialist.Answers;
using Specialist.Prompts;

namespace Specialist.Reports;

/// <summary>
/// Whether a model answered each test item correctly, per stratum (a test set, or one generic task). Models compared
/// hold the same items in the same order, so item i of one is item i of the other: comparisons are paired.
/// </summary>
/// <param name="Strata">Per stratum, one entry per item: answered correctly or not.</param>
internal sealed record ItemOutcomes(IReadOnlyList<IReadOnlyList<bool>> Strata)
{
    /// <summary>The mean over strata of each stratum's accuracy (the unweighted mean over sets or tasks), 0..1.</summary>
    public double Accuracy => Strata.Average(s => (double)s.Count(c => c) / s.Count);

    /// <summary>
    /// The accuracy in percentage points with its 95 % interval: Wilson's for one stratum (a proportion), the bootstrap's
    /// for a mean over several.
    /// </summary>
    public Estimate AccuracyPoints()
    {
        if (Strata.Count != 1) return PairedBootstrap.Estimate([this], a => 100 * a[0]);
        var (lo, hi) = WilsonInterval.Compute(Strata[0].Count(c => c), Strata[0].Count);
        return new Estimate(100 * Accuracy, 100 * lo, 100 * hi);
    }
}

/// <summary>A figure (in percentage points, or points per tenfold parameters) with its 95 % interval.</summary>
internal readonly record struct Estimate(double Value, double Low, double High)
{
    /// <summary><c>{"estimate", "low", "high"}</c>, rounded to 0.01 so the file does not show floating-point noise.</summary>
    public JsonObject ToJson() => new() { ["estimate"] = Round(Value), ["low"] = Round(Low), ["high"] = Round(High) };

    /// <summary>"12.5 [4.0, 21.0]".</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Value:F1} [{Low:F1}, {High:F1}]");

    internal static double Round(double value) => Math.Round(value, 2);
}

/// <summary>
/// The paired bootstrap over test items: resample the items of each stratum with replacement, score every model on
/// the same resampled items, and take the 2.5th and 97.5th percentiles of the statistic as its 95 % interval. The
/// generator's seed is fixed, so the same outcomes give the same interval on every run and platform.
/// </summary>
internal static class PairedBootstrap
{
    public const int Resamples = 2000;

    // Any fixed value: intervals must repeat byte for byte (phenomena.json), not vary with the run's seed.
    private const ulong Seed = 20230130;

    /// <summary>
    /// <paramref name="statistic"/> of the models' accuracies (0..1, in the order given) on the items as they are, with
    /// its 95 % percentile interval over <see cref="Resamples"/> joint resamples of the items.
    /// </summary>
    public static Estimate Estimate(IReadOnlyList<ItemOutcomes> models, Func<IReadOnlyList<double>, double> statistic)
    {
        if (models.Count == 0) throw new ArgumentException("no models to compare", nameof(models));
        var sizes = models[0].Strata.Select(s => s.Count).ToArray();
        if (sizes.Length == 0 || sizes.Any(n => n == 0)) throw new ArgumentException("every stratum needs at least one item", nameof(models));
        if (models.Any(m => !m.Strata.Select(s => s.Count).SequenceEqual(sizes)))
            throw new ArgumentException("paired models must have the same strata and items", nameof(models));

        var value = statistic([.. models.Select(m => m.Accuracy)]);
        var random = new SplitMix64(Seed);
        var draws = new double[Resamples];
        var accuracies = new double[models.Count];
        var correct = new int[models.Count];
        for (var r = 0; r < Resamples; r++)
        {
            Array.Clear(accuracies);
            for (var s = 0; s < sizes.Length; s++)
            {
                Array.Clear(correct);
                for (var k = 0; k < sizes[s]; k++)
                {
                    var item = random.NextBelow(sizes[s]);
                    for (var m = 0; m < models.Count; m++)
                        if (models[m].Strata[s][item]) correct[m]++;
                }
                for (var m = 0; m < models.Count; m++) accuracies[m] += (double)correct[m] / sizes[s] / sizes.Length;
            }
            draws[r] = statistic(accuracies);
        }
        Array.Sort(draws);
        return new Estimate(value, draws[(int)(0.025 * Resamples)], draws[(int)Math.Ceiling(0.975 * Resamples) - 1]);
    }
}
