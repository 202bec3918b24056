using Specialist.Reports;

namespace Specialist.Tests.Reports;

/// <summary>
/// Each phenomenon's rule on synthetic outcomes built to make it say observed, not observed and inconclusive. Outcomes
/// are nested (model A right on items [0, a), model B on [0, b)), so every discordant pair favours one side and the
/// paired intervals are as tight as the counts allow; small sets leave an interval reaching its bar.
/// </summary>
public class PhenomenonRulesTests
{
    /// <summary>One stratum of <paramref name="n"/> items, right on items [<paramref name="from"/>, <paramref name="to"/>).</summary>
    private static IReadOnlyList<bool> Items(int n, int from, int to) => [.. Enumerable.Range(0, n).Select(i => i >= from && i < to)];

    private static ItemOutcomes Set(int n, int right) => new([Items(n, 0, right)]);

    private static ItemOutcomes Set(int n, int from, int to) => new([Items(n, from, to)]);

    // --- P1

    [Fact]
    public void Lift_is_observed_when_every_size_and_the_mean_clear_their_bars_and_the_control_is_beaten()
    {
        var p = PhenomenonRules.Lift("math-test", [new("s", Set(200, 10), Set(200, 80)), new("m", Set(200, 12), Set(200, 90))], ("s", Set(200, 20)));

        Assert.Equal(PhenomenonVerdict.Observed, p.Verdict);
        Assert.Equal(35, p.Numbers["lift_points"]!["s"]!["estimate"]!.GetValue<double>());
        Assert.True(p.Numbers["lift_points"]!["s"]!["low"]!.GetValue<double>() > 0);
        Assert.Equal(37, p.Numbers["mean_lift_points"]!["estimate"]!.GetValue<double>());
        Assert.Equal(30, p.Numbers["control"]!["specialized_minus_control_points"]!["estimate"]!.GetValue<double>());
        Assert.Equal(PhenomenonRules.LiftRule, p.Rule);
    }

    [Fact]
    public void Lift_without_a_control_is_decided_on_the_lifts_alone()
    {
        // With this control (90 %) the specialized s (80 %) would fail; without one only the lifts count.
        var sizes = new List<BeforeAfter> { new("s", Set(200, 10), Set(200, 80)), new("m", Set(200, 12), Set(200, 90)) };
        Assert.Equal(PhenomenonVerdict.NotObserved, PhenomenonRules.Lift("math-test", sizes, ("s", Set(200, 90))).Verdict);

        var p = PhenomenonRules.Lift("math-test", sizes, null);

        Assert.Equal(PhenomenonVerdict.Observed, p.Verdict);
        Assert.Equal(PhenomenonRules.LiftWithoutControlRule, p.Rule);
        Assert.Null(p.Numbers["control"]);
        Assert.DoesNotContain("control", p.Sentence);
        Assert.Equal(37, p.Numbers["mean_lift_points"]!["estimate"]!.GetValue<double>());
    }

    [Fact]
    public void Lift_is_not_observed_when_the_mean_lift_is_below_ten_points_however_sure()
    {
        var p = PhenomenonRules.Lift("math-test", [new("s", Set(400, 10), Set(400, 40)), new("m", Set(400, 10), Set(400, 40))], ("s", Set(400, 10)));

        Assert.Equal(PhenomenonVerdict.NotObserved, p.Verdict);
        Assert.Contains("the mean lift (7.5 points) at least 10 points", p.Sentence);
    }

    [Fact]
    public void Lift_is_not_observed_when_the_control_does_as_well()
    {
        var p = PhenomenonRules.Lift("math-test", [new("s", Set(200, 10), Set(200, 80))], ("s", Set(200, 90)));

        Assert.Equal(PhenomenonVerdict.NotObserved, p.Verdict);
        Assert.Contains("specialized s minus the control", p.Sentence);
    }

    [Fact]
    public void Lift_is_inconclusive_when_the_estimates_pass_but_a_small_set_leaves_an_interval_at_zero()
    {
        // 2 of 10 items: no draw of either in 10 draws happens 11 % of the time, so the interval's low end is 0.
        var p = PhenomenonRules.Lift("math-test", [new("s", Set(10, 0), Set(10, 2))], ("s", Set(10, 0)));

        Assert.Equal(PhenomenonVerdict.Inconclusive, p.Verdict);
        Assert.Equal(20, p.Numbers["lift_points"]!["s"]!["estimate"]!.GetValue<double>());
        Assert.Equal(0, p.Numbers["lift_points"]!["s"]!["low"]!.GetValue<double>());
    }

    // --- P2

    private static readonly (string, double)[] TwoTasks = [("yes_no", 0.5), ("free_form", 0)];

    private static ItemOutcomes Tasks(int n, int right) => new([Items(n, 0, right), Items(n, 0, right)]);

    [Fact]
    public void Generic_fall_is_observed_from_a_start_well_above_chance()
    {
        var p = PhenomenonRules.GenericFall([new("s", Tasks(100, 90), Tasks(100, 40))], TwoTasks);

        Assert.Equal(PhenomenonVerdict.Observed, p.Verdict);
        Assert.Equal(25, p.Numbers["suite_chance_points"]!.GetValue<double>());
        Assert.Equal(50, p.Numbers["chance_points"]!["yes_no"]!.GetValue<double>());
        Assert.Equal(50, p.Numbers["drop_points"]!["s"]!["estimate"]!.GetValue<double>());
    }

    [Fact]
    public void Generic_fall_is_not_observed_when_specialization_does_not_lower_it()
    {
        var p = PhenomenonRules.GenericFall([new("s", Tasks(100, 90), Tasks(100, 92))], TwoTasks);

        Assert.Equal(PhenomenonVerdict.NotObserved, p.Verdict);
    }

    [Fact]
    public void Generic_fall_is_inconclusive_from_the_floor_however_large_the_drop()
    {
        // 45 % is 20 points above the 25 % chance level: below the 25-point bar.
        var p = PhenomenonRules.GenericFall([new("s", Tasks(100, 45), Tasks(100, 0))], TwoTasks);

        Assert.Equal(PhenomenonVerdict.Inconclusive, p.Verdict);
        Assert.Contains("the generalist s (45.0 %) at least 25 points above chance (25.0 %)", p.Sentence);
    }

    [Fact]
    public void Generic_fall_is_inconclusive_when_the_drop_interval_reaches_zero()
    {
        var p = PhenomenonRules.GenericFall([new("s", Tasks(10, 9), Tasks(10, 8))], TwoTasks);

        Assert.Equal(PhenomenonVerdict.Inconclusive, p.Verdict);
        Assert.Contains("does not clear the bar for the generic drop of s", p.Sentence);
    }

    // --- P3

    [Fact]
    public void Scaling_is_observed_when_accuracy_rises_with_size_and_the_slope_interval_is_above_zero()
    {
        var p = PhenomenonRules.Scaling("math-test", [new("l", 400_000, Set(200, 100)), new("s", 100_000, Set(200, 20)), new("m", 200_000, Set(200, 60))]);

        Assert.Equal(PhenomenonVerdict.Observed, p.Verdict);
        Assert.Equal(["s", "m", "l"], p.Numbers["points"]!.AsArray().Select(n => n!["student"]!.GetValue<string>()));
        // 10, 30, 50 % at log10 steps of 0.301: 20 points per doubling.
        Assert.Equal(20 / Math.Log10(2), p.Numbers["slope_points_per_decade"]!["estimate"]!.GetValue<double>(), 2);
    }

    [Fact]
    public void Scaling_is_not_observed_when_the_largest_student_is_not_the_best()
    {
        var p = PhenomenonRules.Scaling("math-test", [new("s", 100_000, Set(200, 20)), new("m", 200_000, Set(200, 100)), new("l", 400_000, Set(200, 80))]);

        Assert.Equal(PhenomenonVerdict.NotObserved, p.Verdict);
        Assert.False(p.Numbers["strictly_increasing"]!.GetValue<bool>());
    }

    [Fact]
    public void Scaling_is_inconclusive_when_the_slope_interval_reaches_zero_or_there_is_one_size()
    {
        var small = PhenomenonRules.Scaling("math-test", [new("s", 100_000, Set(10, 1)), new("m", 200_000, Set(10, 2)), new("l", 400_000, Set(10, 3))]);
        var single = PhenomenonRules.Scaling("math-test", [new("s", 100_000, Set(200, 20))]);

        Assert.Equal(PhenomenonVerdict.Inconclusive, small.Verdict);
        Assert.True(small.Numbers["slope_points_per_decade"]!["low"]!.GetValue<double>() <= 0);
        Assert.Equal(PhenomenonVerdict.Inconclusive, single.Verdict);
        Assert.Contains("at least two sizes (1)", single.Sentence);
    }

    // --- P4

    private static ItemOutcomes Ood(int n, int right) => new([Items(n, 0, right), Items(n, 0, right)]);

    [Fact]
    public void Selection_is_observed_when_checkpoints_differ_and_ood_selection_wins_on_the_ood_test()
    {
        var p = PhenomenonRules.Selection(
        [
            new("s", 6, 100, 200, Ood(100, 60), Ood(100, 20)),
            new("m", 6, 300, 200, Ood(100, 50), Ood(100, 30)),
            new("l", 6, 300, 300, null, null),
        ]);

        Assert.Equal(PhenomenonVerdict.Observed, p.Verdict);
        Assert.Equal(40, p.Numbers["runs"]![0]!["ood_gain_points"]!["estimate"]!.GetValue<double>());
        Assert.Null(p.Numbers["runs"]![2]!["ood_gain_points"]);
    }

    [Fact]
    public void Selection_is_not_observed_when_the_checkpoints_mostly_agree_or_ood_selection_loses()
    {
        var agree = PhenomenonRules.Selection([new("s", 6, 100, 200, Ood(100, 60), Ood(100, 20)), new("m", 6, 200, 200, null, null), new("l", 6, 300, 300, null, null)]);
        var loses = PhenomenonRules.Selection([new("s", 6, 100, 200, Ood(100, 20), Ood(100, 30))]);

        Assert.Equal(PhenomenonVerdict.NotObserved, agree.Verdict);
        Assert.Contains("differ for at least half the sizes (1 of 3)", agree.Sentence);
        Assert.Equal(PhenomenonVerdict.NotObserved, loses.Verdict);
    }

    [Fact]
    public void Selection_is_inconclusive_with_too_few_evaluations_or_an_interval_at_zero()
    {
        var few = PhenomenonRules.Selection([new("s", 3, 100, 200, Ood(100, 60), Ood(100, 20))]);
        var small = PhenomenonRules.Selection([new("s", 6, 100, 200, Ood(10, 2), Ood(10, 1))]);

        Assert.Equal(PhenomenonVerdict.Inconclusive, few.Verdict);
        Assert.Contains("at least 6 dev evaluations in every run (fewest: 3)", few.Sentence);
        Assert.Equal(PhenomenonVerdict.Inconclusive, small.Verdict);
    }

    // --- P5

    private static DevPoint[] Curve(params double[] accuracies) => [.. accuracies.Select((a, i) => new DevPoint(100 * (i + 1), a))];

    [Fact]
    public void Convergence_is_observed_when_distribution_matching_reaches_the_target_first()
    {
        var p = PhenomenonRules.Convergence("s", Curve(0.2, 0.3, 0.3), Curve(0.1, 0.2, 0.3));

        Assert.Equal(PhenomenonVerdict.Observed, p.Verdict);
        Assert.Equal(200, p.Numbers["distribution_reaches_at_step"]!.GetValue<int>());
        Assert.Equal(300, p.Numbers["sample_reaches_at_step"]!.GetValue<int>());
        Assert.Equal(30, p.Numbers["target_points"]!.GetValue<double>());
    }

    [Fact]
    public void Convergence_is_not_observed_when_distribution_matching_never_reaches_the_target_or_is_not_earlier()
    {
        var never = PhenomenonRules.Convergence("s", Curve(0.1, 0.2, 0.25), Curve(0.1, 0.2, 0.3));
        var tie = PhenomenonRules.Convergence("s", Curve(0.3, 0.3, 0.3), Curve(0.3, 0.1, 0.3));

        Assert.Equal(PhenomenonVerdict.NotObserved, never.Verdict);
        Assert.Null(never.Numbers["distribution_reaches_at_step"]);
        Assert.Contains("it did at step never", never.Sentence);
        Assert.Equal(PhenomenonVerdict.NotObserved, tie.Verdict);
    }

    [Fact]
    public void Convergence_is_inconclusive_with_nothing_to_reach_or_curves_that_cannot_be_compared()
    {
        Assert.Equal(PhenomenonVerdict.Inconclusive, PhenomenonRules.Convergence("s", Curve(0.1, 0.2), Curve(0, 0)).Verdict);
        Assert.Equal(PhenomenonVerdict.Inconclusive, PhenomenonRules.Convergence("s", Curve(0.3), Curve(0.1)).Verdict);
        Assert.Equal(PhenomenonVerdict.Inconclusive, PhenomenonRules.Convergence("s", Curve(0.3, 0.4, 0.5), Curve(0.1, 0.2)).Verdict);
    }

    // --- P6

    [Fact]
    public void Formats_is_observed_when_zero_shot_is_kept_and_four_shot_is_lost()
    {
        var p = PhenomenonRules.Formats("s", "math-test", Set(200, 50), Set(200, 50), Set(200, 50), Set(200, 10));

        Assert.Equal(PhenomenonVerdict.Observed, p.Verdict);
        Assert.Equal(0, p.Numbers["zero_shot_difference_points"]!["low"]!.GetValue<double>());
        Assert.Equal(-20, p.Numbers["four_shot_difference_points"]!["estimate"]!.GetValue<double>());
    }

    [Fact]
    public void Formats_is_not_observed_when_zero_shot_only_training_keeps_in_context_ability()
    {
        var p = PhenomenonRules.Formats("s", "math-test", Set(200, 50), Set(200, 50), Set(200, 50), Set(200, 60));

        Assert.Equal(PhenomenonVerdict.NotObserved, p.Verdict);
        Assert.Contains("(b) 4-shot accuracy", p.Sentence);
    }

    [Fact]
    public void Formats_is_inconclusive_when_zero_shot_non_inferiority_is_not_shown()
    {
        // 4 points behind (inside the 5-point margin), but on 84 discordant items of 100: the interval reaches far below −5.
        var p = PhenomenonRules.Formats("s", "math-test", Set(100, 0, 40), Set(100, 50), Set(100, 40, 84), Set(100, 10));

        Assert.Equal(PhenomenonVerdict.Inconclusive, p.Verdict);
        Assert.Equal(-4, p.Numbers["zero_shot_difference_points"]!["estimate"]!.GetValue<double>());
        Assert.True(p.Numbers["zero_shot_difference_points"]!["low"]!.GetValue<double>() < -5);
    }
}
