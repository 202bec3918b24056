using Specialist.Answers;

namespace Specialist.Tests.Answers;

public class WilsonIntervalTests
{
    [Fact]
    public void Eight_of_ten_matches_the_hand_computed_interval()
    {
        // p = 0.8, z = 1.959964, z²/n = 0.3841459: centre = (0.8 + 0.1920729) / 1.3841459 = 0.7167401,
        // half-width = 1.959964 / 1.3841459 * sqrt(0.016 + 0.0096037) = 0.2265777 → (0.4902, 0.9433).
        var (lo, hi) = WilsonInterval.Compute(8, 10);
        Assert.Equal(0.4901624715366418, lo, 12);
        Assert.Equal(0.9433178485456248, hi, 12);
    }

    [Fact]
    public void The_ends_are_clamped_and_asymmetric()
    {
        var (lo, hi) = WilsonInterval.Compute(0, 10);
        Assert.Equal(0, lo);
        Assert.Equal(0.2775327998628892, hi, 12); // z² / (n + z²)
        (lo, hi) = WilsonInterval.Compute(10, 10);
        Assert.Equal(0.7224672001371107, lo, 12);
        Assert.True(hi <= 1 && hi > 0.9999999);
    }

    [Fact]
    public void No_trials_give_the_whole_range() => Assert.Equal((0.0, 1.0), WilsonInterval.Compute(0, 0));

    [Theory]
    [InlineData(-1, 10)]
    [InlineData(11, 10)]
    [InlineData(0, -1)]
    public void Impossible_counts_throw(int correct, int total) =>
        Assert.ThrowsAny<ArgumentOutOfRangeException>(() => WilsonInterval.Compute(correct, total));
}
