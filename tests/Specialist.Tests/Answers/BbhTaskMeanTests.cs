using Specialist.Answers;
using Specialist.Data;
using Specialist.Synthetic;

namespace Specialist.Tests.Answers;

/// <summary><see cref="BbhTaskMean"/>: BBH's 27 task files are 23 tasks, and the mean weighs each task once.</summary>
public class BbhTaskMeanTests
{
    [Fact]
    public void The27RealTaskFilesAre23Tasks()
    {
        var files = BbhData.TaskNames(TestPaths.DataRoot);
        Assert.Equal(27, files.Count);
        var tasks = files.GroupBy(BbhTaskMean.TaskOf).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(23, tasks.Count);
        Assert.Equal(3, tasks["logical_deduction"]);
        Assert.Equal(3, tasks["tracking_shuffled_objects"]);
        Assert.All(tasks.Where(t => t.Key is not ("logical_deduction" or "tracking_shuffled_objects")), t => Assert.Equal(1, t.Value));

        var mean = BbhTaskMean.Of(files.Select(f => (f, 0.5)))!;
        Assert.Equal((23, 27), (mean.Tasks, mean.Files));
        Assert.Equal("mean over 23 tasks (27 task files; a task's 3/5/7-object files averaged first)", mean.Description);
    }

    [Fact]
    public void AThreeFileTaskCountsOnceWithTheMeanOfItsFiles()
    {
        var mean = BbhTaskMean.Of([
            ("logical_deduction_three_objects", 0.2), ("logical_deduction_five_objects", 0.5), ("logical_deduction_seven_objects", 0.8),
            ("navigate", 0.1)])!;
        // Per file the mean would be 0.4; per task it is (0.5 + 0.1) / 2.
        Assert.Equal(0.3, mean.Value, 12);
        Assert.Equal((2, 4), (mean.Tasks, mean.Files));
    }

    [Fact]
    public void TheSyntheticSuiteKeepsOneTaskPerFileItsSingleTrackingTaskIncluded()
    {
        var names = SyntheticTasks.GenericTaskNames;
        Assert.Contains("tracking_shuffled_objects_three_objects", names);
        var mean = BbhTaskMean.Of(names.Select((n, i) => (n, i / 10.0)))!;
        Assert.Equal((names.Count, names.Count), (mean.Tasks, mean.Files));
        Assert.Equal(names.Select((_, i) => i / 10.0).Average(), mean.Value, 12);
        Assert.Equal($"mean over {names.Count} tasks", mean.Description);
    }

    [Fact]
    public void NoFilesNoMean() => Assert.Null(BbhTaskMean.Of([]));
}
