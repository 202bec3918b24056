using Specialist.Reports;

namespace Specialist.Tests.Reports;

public class LogLinearTests
{
    [Fact]
    public void Fit_recovers_the_line_through_exact_points_and_needs_two_distinct_x()
    {
        (double, double) Point(double n) => (n, 5 + 10 * Math.Log10(n));
        var fit = LogLinear.Fit([Point(1_000_000), Point(30_000_000), Point(700_000_000)])!.Value;
        Assert.Equal(10, fit.Slope, 9);
        Assert.Equal(5, fit.Intercept, 9);
        Assert.Null(LogLinear.Fit([Point(1_000_000), Point(1_000_000)]));
    }
}
