using Specialist.Models;
using Specialist.Training;
using static Specialist.Tests.Reports.ReportTestKit;

namespace Specialist.Tests.Training;

public class TrainingRunTests
{
    private static readonly Eval[] Evals = [new(2, 0.10, 0.30, 0.20, 0.10), new(4, 0.20, 0.10, 0.10, 0.10), new(6, 0.20, 0.30, 0.20, 0.10)];

    [Fact]
    public void ReadsSelectionJsonWhenThereIsOne()
    {
        var run = TrainingRun.Read(WriteRun(TestPaths.NewTempDir(), "r", "sample", 6, Evals, T5Config.Tiny));
        Assert.Equal(6, run.TrainSteps.Count);
        Assert.Equal([2, 4, 6], run.Evaluations.Select(e => e.Step));
        Assert.Equal("gsm8k-dev", run.IdSet);
        Assert.Equal(["multiarith-dev", "asdiv-dev", "svamp-dev"], run.OodSets);
        Assert.Equal(new SelectedCheckpoint(4, "checkpoints/step-000004", 0.20), run.BestId);
        Assert.Equal(2, run.BestOod!.Step);
        Assert.Equal("sample", run.Loss);
        Assert.Equal(T5Model.ParameterShapes(T5Config.Tiny).Sum(p => p.Shape.Aggregate(1L, (a, b) => a * b)), run.Parameters);
    }

    [Fact]
    public void WithoutSelectionJsonTheFirstBestEvaluationsAreSelectedAndAHalfWrittenLineIsIgnored()
    {
        var folder = WriteRun(TestPaths.NewTempDir(), "r", "distribution", 6, Evals, T5Config.Tiny, selection: false);
        File.AppendAllText(Path.Combine(folder, "metrics.jsonl"), "{\"kind\":\"train\",\"step\":7,\"lo");

        var run = TrainingRun.Read(folder);

        Assert.Equal(6, run.TrainSteps.Count);
        Assert.Equal((4, 0.20), (run.BestId!.Step, run.BestId.Score));
        Assert.Equal((2, Evals[0].OodMean), (run.BestOod!.Step, run.BestOod.Score));
        Assert.Equal("gsm8k-dev", run.IdSet);
        Assert.Equal(["multiarith-dev", "asdiv-dev", "svamp-dev"], run.OodSets);
    }

    [Fact]
    public void AMalformedLineNamesTheFileLineAndField()
    {
        var folder = WriteRun(TestPaths.NewTempDir(), "r", "sample", 2, [new(2, 0.1, 0.1, 0.1, 0.1)], T5Config.Tiny);
        File.AppendAllText(Path.Combine(folder, "metrics.jsonl"), "{\"kind\":\"eval\",\"step\":3,\"accuracy\":{\"gsm8k-dev\":\"high\"},\"id_accuracy\":0.1,\"ood_mean\":0.1}\n");
        var error = Assert.Throws<DataFormatException>(() => TrainingRun.Read(folder));
        Assert.Contains("metrics.jsonl: line 4: field 'accuracy.gsm8k-dev'", error.Message);
    }
}
