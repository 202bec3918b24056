namespace Specialist.Answers;

/// <summary>The Wilson score interval for a binomial proportion (here: accuracy).</summary>
public static class WilsonInterval
{
    /// <summary>The 97.5 % quantile of the standard normal distribution, for a two-sided 95 % interval.</summary>
    private const double Z95 = 1.959963984540054;

    /// <summary>
    /// The 95 % Wilson score interval of <paramref name="correct"/> successes out of <paramref name="total"/>.
    /// With <paramref name="total"/> = 0 nothing is known, so the interval is the whole range (0, 1).
    /// </summary>
    public static (double Lo, double Hi) Compute(int correct, int total)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(total);
        if (correct < 0 || correct > total) throw new ArgumentOutOfRangeException(nameof(correct), $"correct must be in 0..{total}, not {correct}");
        if (total == 0) return (0, 1);
        double n = total, p = correct / n, z2 = Z95 * Z95;
        var denominator = 1 + z2 / n;
        var centre = (p + z2 / (2 * n)) / denominator;
        var halfWidth = Z95 / denominator * Math.Sqrt(p * (1 - p) / n + z2 / (4 * n * n));
        // Clamp rounding noise at the ends (correct = 0 or total give exactly 0 or 1 in exact arithmetic).
        return (Math.Max(0, centre - halfWidth), Math.Min(1, centre + halfWidth));
    }
}
