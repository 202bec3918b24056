using System.Collections.Concurrent;
using Specialist.Pipeline;

namespace Specialist.Tests.Pipeline;

/// <summary>
/// The schedule the run trains its students by: two workers, three generalists and their specializations. Each job
/// blocks until the test lets it finish, so the order of events is the test's, not the machine's.
/// </summary>
public sealed class JobScheduleTests
{
    private sealed record Job(string Name, Job? After)
    {
        public override string ToString() => Name;
    }

    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    private sealed class Jobs
    {
        private readonly ConcurrentDictionary<Job, SemaphoreSlim> _gates = new();
        public ConcurrentQueue<string> Started { get; } = new();
        public ConcurrentQueue<string> Cancelled { get; } = new();
        public Job? Failing { get; init; }

        public void Run(Job job, CancellationToken token)
        {
            Started.Enqueue(job.Name);
            try
            {
                _gates.GetOrAdd(job, _ => new SemaphoreSlim(0)).Wait(token);
            }
            catch (OperationCanceledException)
            {
                Cancelled.Enqueue(job.Name);
                throw;
            }
            if (job == Failing) throw new InvalidOperationException($"{job.Name} failed");
        }

        public void Finish(Job job) => _gates.GetOrAdd(job, _ => new SemaphoreSlim(0)).Release();

        public void WaitForStarts(int count)
        {
            Assert.True(SpinWait.SpinUntil(() => Started.Count >= count, Patience), $"started {string.Join(", ", Started)}, expected {count}");
            Thread.Sleep(50); // a worker that should stay idle has had time to take a job it must not take
            Assert.Equal(count, Started.Count);
        }
    }

    [Fact]
    public void A_free_worker_takes_the_first_job_whose_generalist_is_done_without_waiting_for_the_other_generalists()
    {
        var (l, m, s) = (new Job("l-generalist", null), new Job("m-generalist", null), new Job("s-generalist", null));
        var (lSpec, mSpec) = (new Job("l-specialized", l), new Job("m-specialized", m));
        var (sSpec, sControl) = (new Job("s-specialized", s), new Job("s-control", s));
        Job[] ordered = [l, lSpec, m, mSpec, s, sSpec, sControl]; // the schedule keeps the order it is given
        var jobs = new Jobs();
        var run = Task.Run(() => JobSchedule.Run(ordered, j => j.After, 2, jobs.Run, CancellationToken.None));

        jobs.WaitForStarts(2);
        Assert.Equal(["l-generalist", "m-generalist"], jobs.Started.ToArray());
        jobs.Finish(m); // m's specialization is ready and comes before s's generalist in the order
        jobs.WaitForStarts(3);
        Assert.Equal("m-specialized", jobs.Started.Last());
        jobs.Finish(l); // l's specialization starts while m's runs, though s's generalist has not even begun
        jobs.WaitForStarts(4);
        Assert.Equal("l-specialized", jobs.Started.Last());
        jobs.Finish(mSpec);
        jobs.WaitForStarts(5);
        Assert.Equal("s-generalist", jobs.Started.Last());
        jobs.Finish(lSpec); // nothing is ready: s's runs wait for its generalist, so this worker idles
        Thread.Sleep(100);
        Assert.Equal(5, jobs.Started.Count);
        jobs.Finish(s);
        jobs.WaitForStarts(7);
        Assert.Equal(["s-control", "s-specialized"], jobs.Started.Skip(5).Order().ToArray());
        jobs.Finish(sSpec);
        jobs.Finish(sControl);
        Assert.True(run.Wait(Patience));
    }

    [Fact]
    public void The_run_starts_the_smallest_generalist_at_once_as_five_runs_wait_for_it_and_every_run_after_its_generalist()
    {
        var temp = TestPaths.NewTempDir();
        var world = MiniatureWorld.Build(Path.Combine(temp, "world"), RunProfile.Quick, RunProfile.WorldSeed);
        var order = MiniatureRun.TrainingOrder(MiniatureRun.TrainingJobs(world, RunProfile.Default, 0, new RunLayout(Path.Combine(temp, "run"))));
        var names = order.Select(j => $"{j.Size}-{j.Name}").ToList();
        // By cost alone m's generalist (d 48) would come before s's (d 40), and s's five runs would start last; by the
        // work it unlocks s's generalist is one of the two the workers take at once, m's comes after both.
        Assert.Contains("s-generalist", names.Take(RunProfile.Default.Parallel));
        Assert.Equal("m-generalist", names.Where(n => n.EndsWith("-generalist", StringComparison.Ordinal)).Last());
        Assert.Equal(10, order.Count);
        Assert.All(order.Where(j => j.After is not null), j => Assert.True(names.IndexOf($"{j.After!.Size}-{j.After.Name}") < names.IndexOf($"{j.Size}-{j.Name}")));
    }

    [Fact]
    public void The_first_failure_cancels_the_running_job_starts_no_other_and_is_rethrown()
    {
        var (l, m) = (new Job("l-generalist", null), new Job("m-generalist", null));
        Job[] ordered = [l, m, new Job("l-specialized", l), new Job("m-specialized", m), new Job("s-generalist", null)];
        var jobs = new Jobs { Failing = m };
        var run = Task.Run(() => JobSchedule.Run(ordered, j => j.After, 2, jobs.Run, CancellationToken.None));

        jobs.WaitForStarts(2);
        jobs.Finish(m);
        var thrown = Assert.Throws<AggregateException>(() => run.Wait(Patience)).InnerException;
        Assert.Equal("m-generalist failed", Assert.IsType<InvalidOperationException>(thrown).Message);
        Assert.Equal(["l-generalist"], jobs.Cancelled.ToArray());
        Assert.Equal(["l-generalist", "m-generalist"], jobs.Started.ToArray());
    }

    [Fact]
    public void A_prerequisite_that_is_not_among_the_jobs_is_refused_before_anything_runs()
    {
        var outside = new Job("l-generalist", null);
        var jobs = new Jobs();
        var error = Assert.Throws<ArgumentException>(() => JobSchedule.Run([new Job("l-specialized", outside)], j => j.After, 2, jobs.Run, CancellationToken.None));
        Assert.Contains("l-specialized", error.Message);
        Assert.Empty(jobs.Started);
    }
}
