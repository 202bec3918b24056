using System.Globalization;
using System.Text.Json.Nodes;

namespace Specialist.Reports;

/// <summary>One student size's outcomes on the same test items before (the generalist) and after specialization.</summary>
internal sealed record BeforeAfter(string Size, ItemOutcomes Generalist, ItemOutcomes Specialized);

/// <summary>One student size's outcomes after specialization, with its parameter count.</summary>
internal sealed record SizedOutcomes(string Size, long Parameters, ItemOutcomes Specialized);

/// <summary>
/// A specialization run's checkpoint selection: how many dev evaluations it had, the ID-best and OOD-best steps, and
/// where they differ both checkpoints' outcomes on the out-of-distribution test sets (one stratum per set).
/// </summary>
internal sealed record CheckpointSelection(string Size, int Evaluations, int BestIdStep, int BestOodStep, ItemOutcomes? OodSelected, ItemOutcomes? IdSelected);

/// <summary>One dev evaluation of a training run: its step and in-distribution dev accuracy (0..1).</summary>
internal sealed record DevPoint(int Step, double Accuracy);

/// <summary>
/// The rules that decide the paper's six phenomena from a run's numbers: pure functions of per-item test outcomes and
/// dev curves, each returning its rule in words, its verdict, its numbers with 95 % intervals, and a sentence saying
/// which condition decided. A rule says <em>not observed</em> when a point estimate fails a condition,
/// <em>inconclusive</em> when no point estimate fails but an interval does not clear its bar or a precondition
/// (enough evaluations, a start above the floor) is not met, and <em>observed</em> otherwise.
/// </summary>
internal static class PhenomenonRules
{
    // Whole numbers, so the rule texts print them the same in every culture.
    public const int MinMeanLiftPoints = 10;
    public const int MinPointsAboveChance = 25;
    public const int MinDevEvaluations = 6;
    public const int ZeroShotMarginPoints = 5;

    /// <summary>How every interval is made, for the report.</summary>
    public static string IntervalMethod { get; } =
        $"Intervals are 95 %. Differences, means over several sets or tasks, and slopes: the paired bootstrap, {PairedBootstrap.Resamples.ToString("N0", CultureInfo.InvariantCulture)} resamples " +
        "of the test items (within each set or generic task, the same resampled items for every model compared; a fixed seed, so the numbers repeat exactly). " +
        "One model's accuracy on one set: the Wilson interval. Differences and accuracies are in percentage points.";

    public static string LiftRule { get; } =
        $"For every student size, the lift (specialized minus generalist accuracy on the in-distribution math test, paired by item) has a 95 % interval above 0; " +
        $"the mean lift over sizes is at least {MinMeanLiftPoints} points; and the specialized student beats the equal-compute control of its size " +
        "(same steps on the generalist mixture; paired, 95 % interval above 0). Not observed when a point estimate fails one of these; " +
        "inconclusive when every point estimate passes but an interval reaches 0.";

    public static string GenericFallRule { get; } =
        $"Judged only from a start above the floor: every generalist's generic accuracy (the mean over the generic tasks) must be at least {MinPointsAboveChance} points " +
        "above the suite's chance level (the mean over tasks of a uniform guess's accuracy: 1 / options, 50 % for Yes/No and True/False, 0 for free-form answers), " +
        "else inconclusive. Then, for every size, the generic drop (generalist minus specialized generic accuracy, paired by item) has a 95 % interval above 0. " +
        "Not observed when a drop's point estimate is 0 or below; inconclusive when every drop is positive but an interval reaches 0.";

    public static string ScalingRule { get; } =
        "Needs at least two sizes. After specialization, in-distribution math test accuracy strictly increases with parameter count, and the slope b of the " +
        "least-squares line accuracy = a + b · log10(parameters) has a 95 % interval above 0 (test items resampled jointly for all sizes). " +
        "Not observed when the accuracies do not strictly increase or the slope is 0 or below; inconclusive when both hold but the slope's interval reaches 0.";

    public static string SelectionRule { get; } =
        $"Needs at least {MinDevEvaluations} dev evaluations in every specialization run, else inconclusive. Observed when the ID-best and OOD-best checkpoints " +
        "(best in-distribution dev accuracy, best mean out-of-distribution dev accuracy) differ for at least half the sizes and, for every size where they differ, " +
        "the OOD-selected checkpoint's out-of-distribution test accuracy (mean over the OOD test sets) beats the ID-selected one's, paired by item, 95 % interval above 0. " +
        "Not observed when they differ for fewer than half the sizes or a gain's point estimate is 0 or below; inconclusive when every gain is positive but an interval reaches 0.";

    public static string ConvergenceRule { get; } =
        "The target is sample matching's in-distribution dev accuracy at its last evaluation. Observed when distribution matching first reaches the target " +
        "(dev accuracy at least the target) at an earlier evaluation step than sample matching first does. Not observed when distribution matching never " +
        "reaches it, or first reaches it at the same step or later. Inconclusive when the runs have fewer than two evaluations, were evaluated at different " +
        "steps, or the target is 0 (nothing to reach). Dev accuracies are single measurements (the trainer logs no per-item dev outcomes), so this rule has no interval.";

    public static string FormatsRule { get; } =
        $"Both halves on the in-distribution math test, paired by item, for the size trained both ways. (a) Training on in-context formats keeps zero-shot ability: " +
        $"zero-shot accuracy of the student trained on in-context + zero-shot formats minus that of the student trained on zero-shot formats only has a 95 % interval " +
        $"above −{ZeroShotMarginPoints} points (non-inferiority). (b) Zero-shot-only training loses in-context ability: 4-shot accuracy of the zero-shot-only student " +
        "minus the in-context-trained student's has a 95 % interval below 0. Not observed when a point estimate fails either half; inconclusive when both point " +
        "estimates pass but an interval does not clear its bar.";

    /// <summary>P1 for a family trained without an equal-compute control (the miniature world's decoder-only students): <see cref="LiftRule"/> less its last condition.</summary>
    public static string LiftWithoutControlRule { get; } =
        $"For every student size, the lift (specialized minus generalist accuracy on the in-distribution math test, paired by item) has a 95 % interval above 0, " +
        $"and the mean lift over sizes is at least {MinMeanLiftPoints} points (no equal-compute control is trained for this family). Not observed when a point " +
        "estimate fails one of these; inconclusive when every point estimate passes but an interval reaches 0.";

    /// <summary>
    /// P1: specialization lifts math chain-of-thought accuracy, every size, beyond the equal-compute control
    /// (<paramref name="control"/>: the size it was trained for and its outcomes; null: <see cref="LiftWithoutControlRule"/>).
    /// </summary>
    public static Phenomenon Lift(string testSet, IReadOnlyList<BeforeAfter> sizes, (string Size, ItemOutcomes Outcomes)? control)
    {
        var lifts = sizes.Select(s => (s.Size, Lift: PairedBootstrap.Estimate([s.Specialized, s.Generalist], a => 100 * (a[0] - a[1])))).ToList();
        var mean = PairedBootstrap.Estimate([.. sizes.SelectMany(s => new[] { s.Specialized, s.Generalist })],
            a => 100 * Enumerable.Range(0, sizes.Count).Average(i => a[2 * i] - a[2 * i + 1]));
        var accuracies = sizes.Select(s => (s.Size, Before: s.Generalist.AccuracyPoints(), After: s.Specialized.AccuracyPoints())).ToList();

        var conditions = lifts.Select(l => Above($"the lift of {l.Size}", l.Lift, 0))
            .Append(Point(string.Create(CultureInfo.InvariantCulture, $"the mean lift ({mean.Value:F1} points) at least {MinMeanLiftPoints} points"), mean.Value >= MinMeanLiftPoints))
            .ToList();
        var sentence = $"Accuracy on {testSet}, generalist → specialized: {Join(accuracies.Select(a => $"{a.Size} {a.Before} → {a.After} %"))}; " +
                       $"lifts {Join(lifts.Select(l => $"{l.Size} {l.Lift}"))} points, mean {mean}.";
        JsonObject? controlNumbers = null;
        if (control is var (controlSize, outcomes))
        {
            var specialized = sizes.Single(s => s.Size == controlSize).Specialized;
            var overControl = PairedBootstrap.Estimate([specialized, outcomes], a => 100 * (a[0] - a[1]));
            var controlAccuracy = outcomes.AccuracyPoints();
            conditions.Add(Above($"specialized {controlSize} minus the control", overControl, 0));
            sentence += $" The equal-compute control ({controlSize}) reached {controlAccuracy} %, the specialized student minus the control {overControl} points.";
            controlNumbers = new JsonObject
            {
                ["student"] = controlSize, ["accuracy_points"] = controlAccuracy.ToJson(), ["specialized_minus_control_points"] = overControl.ToJson(),
            };
        }
        var (verdict, decision) = Decide([], conditions);
        return new("P1", "Specialization lifts math chain-of-thought accuracy", control is null ? LiftWithoutControlRule : LiftRule, verdict, $"{sentence} {decision}", new JsonObject
        {
            ["set"] = testSet,
            ["accuracy_points"] = Object(accuracies.Select(a => (a.Size, (JsonNode)new JsonObject { ["generalist"] = a.Before.ToJson(), ["specialized"] = a.After.ToJson() }))),
            ["lift_points"] = Object(lifts.Select(l => (l.Size, (JsonNode)l.Lift.ToJson()))),
            ["mean_lift_points"] = mean.ToJson(),
            ["min_mean_lift_points"] = MinMeanLiftPoints,
            ["control"] = controlNumbers,
        });
    }

    /// <summary>
    /// P2: generic ability falls with specialization, judged from a start above the floor. <paramref name="tasks"/> are
    /// the generic tasks with their chance levels (0..1), in the order of the outcomes' strata.
    /// </summary>
    public static Phenomenon GenericFall(IReadOnlyList<BeforeAfter> sizes, IReadOnlyList<(string Task, double Chance)> tasks)
    {
        if (sizes.Any(s => s.Generalist.Strata.Count != tasks.Count))
            throw new ArgumentException("the generic outcomes need one stratum per task", nameof(sizes));
        var chance = 100 * tasks.Average(t => t.Chance);
        var floor = chance + MinPointsAboveChance;
        var generic = sizes.Select(s => (s.Size, Before: s.Generalist.AccuracyPoints(), After: s.Specialized.AccuracyPoints())).ToList();
        var drops = sizes.Select(s => (s.Size, Drop: PairedBootstrap.Estimate([s.Generalist, s.Specialized], a => 100 * (a[0] - a[1])))).ToList();

        var preconditions = generic.Select(g => Point(string.Create(CultureInfo.InvariantCulture,
            $"the generalist {g.Size} ({g.Before.Value:F1} %) at least {MinPointsAboveChance} points above chance ({chance:F1} %)"), g.Before.Value >= floor));
        var (verdict, decision) = Decide(preconditions, drops.Select(d => Above($"the generic drop of {d.Size}", d.Drop, 0)));
        var sentence = $"Generic accuracy (mean over {tasks.Count} tasks; chance {Number(chance)} %), generalist → specialized: " +
                       $"{Join(generic.Select(g => $"{g.Size} {g.Before} → {g.After} %"))}; drops {Join(drops.Select(d => $"{d.Size} {d.Drop}"))} points. {decision}";
        return new("P2", "Generic ability falls", GenericFallRule, verdict, sentence, new JsonObject
        {
            ["chance_points"] = Object(tasks.Select(t => (t.Task, (JsonNode)Estimate.Round(100 * t.Chance)))),
            ["suite_chance_points"] = Estimate.Round(chance),
            ["min_points_above_chance"] = MinPointsAboveChance,
            ["generic_points"] = Object(generic.Select(g => (g.Size, (JsonNode)new JsonObject { ["generalist"] = g.Before.ToJson(), ["specialized"] = g.After.ToJson() }))),
            ["drop_points"] = Object(drops.Select(d => (d.Size, (JsonNode)d.Drop.ToJson()))),
        });
    }

    /// <summary>P3: accuracy after specialization rises log-linearly with parameter count.</summary>
    public static Phenomenon Scaling(string testSet, IReadOnlyList<SizedOutcomes> sizes)
    {
        var ordered = sizes.OrderBy(s => s.Parameters).ToList();
        var parameters = ordered.Select(s => (double)s.Parameters).ToList();
        double Slope(IReadOnlyList<double> accuracies) =>
            LogLinear.Fit([.. parameters.Zip(accuracies, (n, a) => (n, 100 * a))])?.Slope ?? double.NaN;
        var accuracies = ordered.Select(s => (s.Size, s.Parameters, Accuracy: s.Specialized.AccuracyPoints())).ToList();
        var twoSizes = parameters.Distinct().Count() >= 2;
        var slope = twoSizes ? PairedBootstrap.Estimate([.. ordered.Select(s => s.Specialized)], Slope) : new Estimate(double.NaN, double.NaN, double.NaN);
        var fit = LogLinear.Fit([.. ordered.Select(s => ((double)s.Parameters, 100 * s.Specialized.Accuracy))]);
        var increasing = accuracies.Zip(accuracies.Skip(1)).All(p => p.Second.Accuracy.Value > p.First.Accuracy.Value && p.Second.Parameters > p.First.Parameters);

        var (verdict, decision) = Decide(
            [Point($"at least two sizes ({parameters.Distinct().Count()})", twoSizes)],
            twoSizes ? [Point("accuracy strictly increasing with parameters", increasing), Above("the slope", slope, 0)] : []);
        var sentence = $"Accuracy on {testSet} after specialization: {Join(accuracies.Select(a => $"{a.Size} ({ReportFigures.FormatParameters(a.Parameters)} parameters) {a.Accuracy} %"))}" +
                       (fit is { } f ? string.Create(CultureInfo.InvariantCulture, $"; fit {f.Intercept:F1} + {f.Slope:F1} · log10(parameters), slope {slope} points per tenfold parameters. ") : ". ") +
                       decision;
        return new("P3", "Accuracy rises with student size (log-linear)", ScalingRule, verdict, sentence, new JsonObject
        {
            ["set"] = testSet,
            ["points"] = new JsonArray([.. accuracies.Select(a => (JsonNode?)new JsonObject { ["student"] = a.Size, ["params"] = a.Parameters, ["accuracy_points"] = a.Accuracy.ToJson() })]),
            ["strictly_increasing"] = increasing,
            ["intercept_points"] = fit is { } g ? Estimate.Round(g.Intercept) : null,
            ["slope_points_per_decade"] = twoSizes ? slope.ToJson() : null,
        });
    }

    /// <summary>P4: selecting checkpoints by out-of-distribution dev accuracy picks other, better out-of-distribution checkpoints.</summary>
    public static Phenomenon Selection(IReadOnlyList<CheckpointSelection> runs)
    {
        var differing = runs.Where(r => r.BestIdStep != r.BestOodStep).ToList();
        var gains = differing.Select(r => (r.Size, Gain: PairedBootstrap.Estimate(
            [r.OodSelected ?? throw new ArgumentException($"{r.Size}: the OOD-selected checkpoint's outcomes are missing", nameof(runs)),
             r.IdSelected ?? throw new ArgumentException($"{r.Size}: the ID-selected checkpoint's outcomes are missing", nameof(runs))],
            a => 100 * (a[0] - a[1])))).ToList();
        var fewest = runs.Min(r => r.Evaluations);
        var (verdict, decision) = Decide(
            [Point($"at least {MinDevEvaluations} dev evaluations in every run (fewest: {fewest})", fewest >= MinDevEvaluations)],
            gains.Select(g => Above($"the OOD test gain of OOD selection for {g.Size}", g.Gain, 0))
                .Prepend(Point($"the checkpoints differ for at least half the sizes ({differing.Count} of {runs.Count})", 2 * differing.Count >= runs.Count)));
        var sentence = $"ID-best and OOD-best checkpoints (dev): {Join(runs.Select(r => $"{r.Size} steps {r.BestIdStep} and {r.BestOodStep}"))}" +
                       (gains.Count > 0 ? $"; where they differ, OOD test accuracy of the OOD-selected minus the ID-selected checkpoint: {Join(gains.Select(g => $"{g.Size} {g.Gain}"))} points. " : ". ") +
                       decision;
        return new("P4", "In-distribution and out-of-distribution selection pick different checkpoints", SelectionRule, verdict, sentence, new JsonObject
        {
            ["min_evaluations"] = MinDevEvaluations,
            ["runs"] = new JsonArray([.. runs.Select(r => (JsonNode?)new JsonObject
            {
                ["student"] = r.Size, ["evaluations"] = r.Evaluations, ["best_id_step"] = r.BestIdStep, ["best_ood_step"] = r.BestOodStep,
                ["ood_gain_points"] = gains.Where(g => g.Size == r.Size).Select(g => g.Gain.ToJson()).FirstOrDefault(),
            })]),
        });
    }

    /// <summary>P5: distribution matching reaches sample matching's final dev accuracy in fewer steps.</summary>
    public static Phenomenon Convergence(string size, IReadOnlyList<DevPoint> distribution, IReadOnlyList<DevPoint> sample)
    {
        var sameSteps = distribution.Select(p => p.Step).SequenceEqual(sample.Select(p => p.Step));
        var enough = Math.Min(distribution.Count, sample.Count) >= 2;
        var target = sample.Count > 0 ? sample[^1].Accuracy : 0;
        int? Reaches(IReadOnlyList<DevPoint> curve) => curve.FirstOrDefault(p => p.Accuracy >= target)?.Step;
        var (dm, sm) = (Reaches(distribution), Reaches(sample));
        var (verdict, decision) = Decide(
            [
                Point($"at least two evaluations in each run ({distribution.Count} and {sample.Count})", enough),
                Point("both runs evaluated at the same steps", sameSteps),
                Point("a target above 0", target > 0),
            ],
            [Point($"distribution matching to reach the target first (it did at step {dm?.ToString(CultureInfo.InvariantCulture) ?? "never"}, sample matching at step {sm})", dm < sm)]);
        string Curve(IReadOnlyList<DevPoint> c) => string.Join(", ", c.Select(p => $"{Number(100 * p.Accuracy)} %"));
        var sentence = $"In-distribution dev accuracy of {size} at steps {string.Join(", ", distribution.Select(p => p.Step))}: distribution matching {Curve(distribution)}; " +
                       $"sample matching {Curve(sample)} at steps {string.Join(", ", sample.Select(p => p.Step))}. Target {Number(100 * target)} %. {decision}";
        return new("P5", "Distribution matching converges faster than sample matching", ConvergenceRule, verdict, sentence, new JsonObject
        {
            ["student"] = size,
            ["target_points"] = Estimate.Round(100 * target),
            ["distribution_reaches_at_step"] = dm,
            ["sample_reaches_at_step"] = sm,
            ["distribution_id_dev"] = CurveJson(distribution),
            ["sample_id_dev"] = CurveJson(sample),
        });

        static JsonArray CurveJson(IReadOnlyList<DevPoint> curve) =>
            new([.. curve.Select(p => (JsonNode?)new JsonObject { ["step"] = p.Step, ["accuracy_points"] = Estimate.Round(100 * p.Accuracy) })]);
    }

    /// <summary>P6: in-context training keeps zero-shot ability; zero-shot-only training loses in-context ability.</summary>
    public static Phenomenon Formats(string size, string testSet, ItemOutcomes inContextZeroShot, ItemOutcomes inContextFourShot, ItemOutcomes zeroShotOnlyZeroShot, ItemOutcomes zeroShotOnlyFourShot)
    {
        var keeps = PairedBootstrap.Estimate([inContextZeroShot, zeroShotOnlyZeroShot], a => 100 * (a[0] - a[1]));
        var loses = PairedBootstrap.Estimate([zeroShotOnlyFourShot, inContextFourShot], a => 100 * (a[0] - a[1]));
        var (verdict, decision) = Decide([],
        [
            Above("(a) zero-shot accuracy, in-context-trained minus zero-shot-only", keeps, -ZeroShotMarginPoints),
            Below("(b) 4-shot accuracy, zero-shot-only minus in-context-trained", loses, 0),
        ]);
        var sentence = $"{size} on {testSet}: trained with in-context formats {inContextZeroShot.AccuracyPoints()} % zero-shot and {inContextFourShot.AccuracyPoints()} % 4-shot; " +
                       $"trained on zero-shot formats only {zeroShotOnlyZeroShot.AccuracyPoints()} % zero-shot and {zeroShotOnlyFourShot.AccuracyPoints()} % 4-shot. " +
                       $"(a) zero-shot difference {keeps} points; (b) 4-shot difference {loses} points. {decision}";
        JsonObject Pair(ItemOutcomes zero, ItemOutcomes four) => new() { ["zero_shot"] = zero.AccuracyPoints().ToJson(), ["four_shot"] = four.AccuracyPoints().ToJson() };
        return new("P6", "In-context formats keep zero-shot ability; zero-shot-only training loses in-context ability", FormatsRule, verdict, sentence, new JsonObject
        {
            ["student"] = size,
            ["set"] = testSet,
            ["with_in_context_points"] = Pair(inContextZeroShot, inContextFourShot),
            ["zero_shot_only_points"] = Pair(zeroShotOnlyZeroShot, zeroShotOnlyFourShot),
            ["zero_shot_difference_points"] = keeps.ToJson(),
            ["non_inferiority_margin_points"] = -ZeroShotMarginPoints,
            ["four_shot_difference_points"] = loses.ToJson(),
        });
    }

    private enum Outcome { Holds, Unsure, Fails }

    /// <summary>A condition of a rule as a sentence fragment, and whether it holds.</summary>
    private readonly record struct Condition(string Text, Outcome Outcome);

    private static Condition Point(string text, bool holds) => new(text, holds ? Outcome.Holds : Outcome.Fails);

    private static Condition Above(string what, Estimate e, double bar) =>
        new($"{what} ({e} points) above {Number(bar)}", e.Low > bar ? Outcome.Holds : e.Value > bar ? Outcome.Unsure : Outcome.Fails);

    private static Condition Below(string what, Estimate e, double bar) =>
        new($"{what} ({e} points) below {Number(bar)}", e.High < bar ? Outcome.Holds : e.Value < bar ? Outcome.Unsure : Outcome.Fails);

    /// <summary>A failed precondition makes the rule inconclusive whatever the conditions; then a failed point estimate, then an unsure interval.</summary>
    private static (PhenomenonVerdict, string) Decide(IEnumerable<Condition> preconditions, IEnumerable<Condition> conditions)
    {
        var unmet = preconditions.Where(c => c.Outcome != Outcome.Holds).ToList();
        if (unmet.Count > 0) return (PhenomenonVerdict.Inconclusive, $"Inconclusive: the rule needs {Join(unmet.Select(c => c.Text))}.");
        var all = conditions.ToList();
        var failed = all.Where(c => c.Outcome == Outcome.Fails).ToList();
        if (failed.Count > 0) return (PhenomenonVerdict.NotObserved, $"Not observed: the rule needs {Join(failed.Select(c => c.Text))}.");
        var unsure = all.Where(c => c.Outcome == Outcome.Unsure).ToList();
        if (unsure.Count > 0) return (PhenomenonVerdict.Inconclusive, $"Inconclusive: the point estimates pass, but the 95 % interval does not clear the bar for {Join(unsure.Select(c => c.Text))}.");
        return (PhenomenonVerdict.Observed, "Observed: every condition of the rule holds.");
    }

    private static JsonObject Object(IEnumerable<(string Key, JsonNode Value)> entries)
    {
        var o = new JsonObject();
        foreach (var (k, v) in entries) o[k] = v;
        return o;
    }

    private static string Join(IEnumerable<string> parts) => string.Join("; ", parts);
    private static string Number(double value) => value.ToString("0.#", CultureInfo.InvariantCulture);
}
