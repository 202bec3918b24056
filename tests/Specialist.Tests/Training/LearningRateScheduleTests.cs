using Specialist.Training;

namespace Specialist.Tests.Training;

public class LearningRateScheduleTests
{
    [Fact]
    public void Warm_up_rises_linearly_over_optimiser_steps_then_the_cosine_falls_to_zero_at_the_horizon()
    {
        var s = new LearningRateSchedule(Peak: 5e-4, WarmupSteps: 10, ScheduleKind.Cosine, HorizonSteps: 110);
        Assert.Equal(5e-5, s.At(1), 12);
        Assert.Equal(2.5e-4, s.At(5), 12);
        Assert.Equal(5e-4, s.At(10), 12);
        Assert.Equal(5e-4 * 0.5 * (1 + Math.Cos(Math.PI * 0.25)), s.At(35), 12); // a quarter of the way: ½(1 + cos π/4)
        Assert.Equal(2.5e-4, s.At(60), 12);                                       // half way
        Assert.Equal(0, s.At(110), 12);
        Assert.Equal(0, s.At(150), 12);                                           // past the horizon it stays at the end
        Assert.Throws<ArgumentOutOfRangeException>(() => s.At(0));
    }

    [Fact]
    public void Linear_and_constant_schedules()
    {
        var linear = new LearningRateSchedule(1.0, 0, ScheduleKind.Linear, 100);
        Assert.Equal(0.75, linear.At(25), 12);
        Assert.Equal(0, linear.At(100), 12);
        var constant = new LearningRateSchedule(1.0, 4, ScheduleKind.Constant, 100);
        Assert.Equal(0.5, constant.At(2), 12);
        Assert.Equal(1.0, constant.At(99), 12);
    }

    [Fact]
    public void The_authors_micro_step_horizon_leaves_the_rate_high_at_the_end_of_the_run()
    {
        // 100 optimiser steps with 8 micro-batches each: counting micro-steps the cosine has 800 steps to go, so at the
        // run's last step it is an eighth of the way along (rate ≈ 0.96 × peak), while counting optimiser steps ends at 0.
        var steps = new LearningRateSchedule(1.0, 10, ScheduleKind.Cosine, HorizonSteps: 100);
        var micro = new LearningRateSchedule(1.0, 10, ScheduleKind.Cosine, HorizonSteps: 800);
        Assert.Equal(0, steps.At(100), 12);
        Assert.Equal(0.5 * (1 + Math.Cos(Math.PI * 90 / 790)), micro.At(100), 12);
        Assert.True(micro.At(100) > 0.95);
    }
}
