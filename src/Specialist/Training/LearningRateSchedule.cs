namespace Specialist.Training;

/// <summary>The learning-rate curve after warm-up.</summary>
[System.Text.Json.Serialization.JsonConverter(typeof(System.Text.Json.Serialization.JsonStringEnumConverter<ScheduleKind>))]
public enum ScheduleKind
{
    /// <summary>Half a cosine from the peak down to 0 at the horizon (the paper's, as Hugging Face's <c>get_cosine_schedule_with_warmup</c>).</summary>
    [System.Text.Json.Serialization.JsonStringEnumMemberName("cosine")] Cosine,
    /// <summary>The peak rate throughout.</summary>
    [System.Text.Json.Serialization.JsonStringEnumMemberName("constant")] Constant,
    /// <summary>A straight line from the peak down to 0 at the horizon.</summary>
    [System.Text.Json.Serialization.JsonStringEnumMemberName("linear")] Linear,
}

/// <summary>What the schedule's horizon counts.</summary>
[System.Text.Json.Serialization.JsonConverter(typeof(System.Text.Json.Serialization.JsonStringEnumConverter<ScheduleHorizon>))]
public enum ScheduleHorizon
{
    /// <summary>Optimiser steps: the rate reaches its end at the run's last optimiser step.</summary>
    [System.Text.Json.Serialization.JsonStringEnumMemberName("steps")] Steps,
    /// <summary>
    /// Micro-batches, as the authors' code does (<c>num_training_steps = epochs × len(train_batches)</c> while the
    /// scheduler advances once per optimiser step): with gradient accumulation G the run ends 1/G of the way along
    /// the curve, so the rate barely decays. Kept to reproduce their runs.
    /// </summary>
    [System.Text.Json.Serialization.JsonStringEnumMemberName("micro-steps")] MicroSteps,
}

/// <summary>
/// Warm-up then decay, counted in optimiser steps: step s (1-based) has rate <c>peak · s / warmup</c> for
/// s ≤ warmup, then <c>peak · f((s − warmup) / (horizon − warmup))</c> with f = ½(1 + cos πx) (cosine), 1 − x
/// (linear) or 1 (constant), x capped at 1.
/// </summary>
/// <param name="Peak">The rate after warm-up.</param>
/// <param name="WarmupSteps">Optimiser steps of linear warm-up.</param>
/// <param name="Kind">The curve after warm-up.</param>
/// <param name="HorizonSteps">Where the curve reaches its end (the run's optimiser steps, or its micro-batches for <see cref="ScheduleHorizon.MicroSteps"/>).</param>
public sealed record LearningRateSchedule(double Peak, int WarmupSteps, ScheduleKind Kind, long HorizonSteps)
{
    /// <summary>The rate of optimiser step <paramref name="step"/> (1-based).</summary>
    public double At(long step)
    {
        if (step < 1) throw new ArgumentOutOfRangeException(nameof(step), "optimiser steps count from 1");
        if (step <= WarmupSteps) return Peak * step / WarmupSteps;
        if (Kind == ScheduleKind.Constant) return Peak;
        var span = HorizonSteps - WarmupSteps;
        var progress = span <= 0 ? 1.0 : Math.Min(1.0, (double)(step - WarmupSteps) / span);
        return Kind == ScheduleKind.Cosine ? Peak * 0.5 * (1 + Math.Cos(Math.PI * progress)) : Peak * (1 - progress);
    }
}
