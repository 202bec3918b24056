using Specialist.Prompts;

namespace Specialist.Training;

/// <summary>
/// The endless sequence of micro-batches a run trains on: epoch 0's order, then epoch 1's, and so on, each epoch's
/// order fixed by the data (seed, epoch). The position (<see cref="Epoch"/>, <see cref="Index"/>) of the next
/// micro-batch is all a checkpoint needs to continue it.
/// </summary>
internal sealed class TrainingStream : IDisposable
{
    private readonly Func<int, IEnumerable<TrainingMicroBatch>> _epochOrder;
    private IEnumerator<TrainingMicroBatch> _current;

    /// <param name="epochOrder">The micro-batches of an epoch, in that epoch's order (the same every time it is asked).</param>
    /// <param name="perEpoch">How many micro-batches an epoch has.</param>
    /// <param name="epoch">The epoch of the next micro-batch.</param>
    /// <param name="index">Its index in that epoch.</param>
    public TrainingStream(Func<int, IEnumerable<TrainingMicroBatch>> epochOrder, int perEpoch, int epoch, int index)
    {
        if (perEpoch < 1) throw new SpecialistException("the training data has no micro-batches (is the distillation set empty, or are all its formats left out?)");
        if (index < 0 || index >= perEpoch) throw new SpecialistException($"data position {index} is outside an epoch of {perEpoch} micro-batches: the checkpoint belongs to other data");
        _epochOrder = epochOrder;
        PerEpoch = perEpoch;
        Epoch = epoch;
        Index = index;
        _current = epochOrder(epoch).Skip(index).GetEnumerator();
    }

    public int PerEpoch { get; }

    /// <summary>The epoch of the next micro-batch.</summary>
    public int Epoch { get; private set; }

    /// <summary>The index of the next micro-batch in its epoch.</summary>
    public int Index { get; private set; }

    /// <summary>The next micro-batch and the epoch it belongs to.</summary>
    public (TrainingMicroBatch Batch, int Epoch) Next()
    {
        if (!_current.MoveNext())
            throw new SpecialistException($"epoch {Epoch} ended after {Index} of its {PerEpoch} micro-batches: the data changed while training");
        var result = (_current.Current, Epoch);
        if (++Index == PerEpoch)
        {
            _current.Dispose();
            Epoch++;
            Index = 0;
            _current = _epochOrder(Epoch).GetEnumerator();
        }
        return result;
    }

    public void Dispose() => _current.Dispose();
}

/// <summary>
/// Which micro-batches of a run come from its replay set: micro-batch g (counted from 0 over the whole run) does when
/// draw g of a SplitMix64 stream seeded from the run's seed falls below the share. A pure function of (seed, g), so a
/// resumed run draws the same; the two sets' own positions are all the state it needs besides.
/// </summary>
internal readonly struct ReplayMix(long seed, double share)
{
    /// <summary>The prefix that names replayed micro-batches in the metrics (<c>replay:zs-cot</c>).</summary>
    public const string Prefix = "replay:";

    // Keeps the draws apart from the other streams taken from the same seed.
    private const ulong Salt = 0x5245504C41590000UL;
    private const ulong Gamma = 0x9E3779B97F4A7C15UL;

    /// <summary>Whether micro-batch <paramref name="microBatch"/> comes from the replay set (never when the share is 0).</summary>
    public bool IsReplay(long microBatch)
    {
        // The g-th output of SplitMix64 from a state is one step from state + g × its gamma.
        var draw = new SplitMix64(unchecked(((ulong)seed ^ Salt) + (ulong)microBatch * Gamma)).NextUInt64();
        return (draw >> 11) * (1.0 / (1UL << 53)) < share;
    }

    /// <summary>How many micro-batches, counted from the start of a run, hold exactly <paramref name="main"/> from the main set.</summary>
    public long MicroBatchesFor(long main)
    {
        if (share == 0) return main;
        long all = 0;
        for (long taken = 0; taken < main; all++)
            if (!IsReplay(all)) taken++;
        return all;
    }
}
