namespace Specialist.Reports;

/// <summary>The scaling law's form: the least-squares line y = intercept + slope · log10(x), e.g. accuracy against parameters.</summary>
internal static class LogLinear
{
    /// <summary>The fit, or null when the points have fewer than two distinct x (no line is defined).</summary>
    public static (double Intercept, double Slope)? Fit(IReadOnlyList<(double X, double Y)> points)
    {
        if (points.Select(p => p.X).Distinct().Count() < 2) return null;
        var xs = points.Select(p => Math.Log10(p.X)).ToArray();
        double mx = xs.Average(), my = points.Average(p => p.Y);
        var slope = xs.Zip(points).Sum(p => (p.First - mx) * (p.Second.Y - my)) / xs.Sum(x => (x - mx) * (x - mx));
        return (my - slope * mx, slope);
    }
}
