using Specialist.Answers;
using Specialist.Reports;

namespace Specialist.Tests.Reports;

public class PairedBootstrapTests
{
    private static ItemOutcomes Outcomes(params bool[][] strata) => new([.. strata]);

    private static bool[] Right(int n, int right) => [.. Enumerable.Range(0, n).Select(i => i < right)];

    [Fact]
    public void The_same_outcomes_give_the_same_interval_every_time()
    {
        var a = Outcomes(Right(50, 30), Right(40, 10));
        var b = Outcomes(Right(50, 20), Right(40, 15));

        var first = PairedBootstrap.Estimate([a, b], x => 100 * (x[0] - x[1]));
        var second = PairedBootstrap.Estimate([a, b], x => 100 * (x[0] - x[1]));

        Assert.Equal(first, second);
        // The estimate is the statistic on the items as they are: the mean over strata of the per-stratum differences.
        Assert.Equal(100 * ((30 - 20) / 50.0 + (10 - 15) / 40.0) / 2, first.Value, 10);
        Assert.True(first.Low < first.Value && first.Value < first.High);
    }

    [Fact]
    public void Pairing_cancels_what_both_models_share()
    {
        // The same answers: every resample gives a difference of exactly 0.
        var a = Outcomes(Right(100, 37));
        Assert.Equal(new Estimate(0, 0, 0), PairedBootstrap.Estimate([a, a], x => 100 * (x[0] - x[1])));

        // One extra item right out of 100: the difference is 1 point, never negative, and 0 when that item is not drawn (37 % of resamples).
        var d = PairedBootstrap.Estimate([Outcomes(Right(100, 38)), a], x => 100 * (x[0] - x[1]));
        Assert.Equal(1, d.Value, 10);
        Assert.Equal(0, d.Low);
        Assert.True(d.High >= 2);
    }

    [Fact]
    public void Models_with_different_items_cannot_be_paired()
    {
        Assert.Throws<ArgumentException>(() => PairedBootstrap.Estimate([Outcomes(Right(10, 1)), Outcomes(Right(11, 1))], x => x[0] - x[1]));
        Assert.Throws<ArgumentException>(() => PairedBootstrap.Estimate([Outcomes(Right(10, 1)), Outcomes(Right(10, 1), Right(10, 1))], x => x[0] - x[1]));
        Assert.Throws<ArgumentException>(() => PairedBootstrap.Estimate([Outcomes(Right(0, 0))], x => x[0]));
    }

    [Fact]
    public void One_set_accuracy_carries_the_wilson_interval_and_a_mean_over_tasks_the_bootstrap_one()
    {
        var (lo, hi) = WilsonInterval.Compute(12, 40);
        Assert.Equal(new Estimate(30, 100 * lo, 100 * hi), Outcomes(Right(40, 12)).AccuracyPoints());

        var tasks = Outcomes(Right(40, 12), Right(40, 20));
        Assert.Equal(PairedBootstrap.Estimate([tasks], x => 100 * x[0]), tasks.AccuracyPoints());
        Assert.Equal(40, tasks.AccuracyPoints().Value, 10);
    }
}
