using System.Runtime.ExceptionServices;

namespace Specialist.Pipeline;

/// <summary>
/// Runs jobs on a fixed number of workers, where a job may have to wait for another one: a free worker takes the first
/// job, in the order given, whose prerequisite has finished. So a job that is ready never waits behind a stage
/// barrier, and the caller's order decides which ready job goes first.
/// </summary>
internal static class JobSchedule
{
    /// <summary>
    /// Runs every job of <paramref name="ordered"/> once with <paramref name="run"/>, at most <paramref name="workers"/>
    /// at once, each after its <paramref name="prerequisite"/> (null: none; it must be one of the jobs). The first job
    /// that throws stops the rest: no job starts after it, the running ones see their token cancelled, and its
    /// exception is rethrown once they have returned.
    /// </summary>
    public static void Run<T>(IReadOnlyList<T> ordered, Func<T, T?> prerequisite, int workers, Action<T, CancellationToken> run, CancellationToken stop)
        where T : class
    {
        var pending = ordered.ToList();
        if (pending.Find(j => prerequisite(j) is { } p && !pending.Contains(p)) is { } orphan)
            throw new ArgumentException($"a job's prerequisite is not among the jobs: {orphan}", nameof(ordered));
        var finished = new HashSet<T>(ReferenceEqualityComparer.Instance);
        var gate = new object();
        ExceptionDispatchInfo? failure = null;
        using var halt = CancellationTokenSource.CreateLinkedTokenSource(stop);

        T? Take()
        {
            lock (gate)
                while (true)
                {
                    if (failure is not null || pending.Count == 0) return null;
                    var ready = pending.Find(j => prerequisite(j) is not { } p || finished.Contains(p));
                    if (ready is not null)
                    {
                        pending.Remove(ready);
                        return ready;
                    }
                    Monitor.Wait(gate); // every pending job waits for one that another worker is running
                }
        }

        void Work()
        {
            while (Take() is { } job)
            {
                try
                {
                    run(job, halt.Token);
                }
                catch (Exception e)
                {
                    lock (gate)
                    {
                        failure ??= ExceptionDispatchInfo.Capture(e);
                        Monitor.PulseAll(gate);
                    }
                    halt.Cancel();
                    return;
                }
                lock (gate)
                {
                    finished.Add(job);
                    Monitor.PulseAll(gate);
                }
            }
        }

        Task.WaitAll([.. Enumerable.Range(0, Math.Max(1, workers)).Select(_ => Task.Factory.StartNew(Work, TaskCreationOptions.LongRunning))]);
        failure?.Throw();
    }
}
