using Specialist.Models;
using TorchSharp;

namespace Specialist.Tests.Models;

/// <summary>What every model's decoding batch must do alike.</summary>
internal static class DecodingBatchChecks
{
    /// <summary>
    /// Batches outlive dispose scopes and own their tensors: starting, stepping, stopping a row (which drops it), reading
    /// and disposing a batch <paramref name="cycles"/> times leaves no tensor alive.
    /// </summary>
    public static void AssertCyclesLeakNothing(Func<IDecodingBatch> start, int cycles)
    {
        void Cycle()
        {
            using var batch = start();
            batch.Step();
            batch.Stop([1]);
            batch.Step();
            batch.Read([0, 1]);
        }
        Cycle();
        var live = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (var i = 0; i < cycles; i++) Cycle();
        Assert.Equal(live, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }
}
