using System.Diagnostics;
using Specialist.Pipeline;

namespace Specialist.Tests.Pipeline;

/// <summary>
/// The teacher cache's lock: a run that finds another run training the same teacher waits for it (so two seeds run side
/// by side never train one teacher into the same work folder twice), and a killed holder releases it.
/// </summary>
public sealed class MiniatureTeacherTests
{
    [Fact]
    public void The_default_teachers_cache_folder_depends_on_the_teacher_alone()
    {
        // The default world's teacher as cached since the v6 teacher trained in bf16: a new key retires every user's cached
        // teacher (6 minutes on two cores), so it may change only on purpose: a new teacher recipe, dtype, tokenizer or split.
        var world = MiniatureWorld.Build(Path.Combine(TestPaths.NewTempDir(), "world"), RunProfile.Default, RunProfile.WorldSeed);
        var folder = MiniatureTeacher.Folder("/cache", world, RunProfile.Default);
        Assert.Equal(Path.Combine("/cache", "teachers", "default-c6d986922cf9"), folder);
        // The same teacher in fp32 is another teacher, under the key it had before the dtype was part of it.
        Assert.Equal(Path.Combine("/cache", "teachers", "default-6a71d37aeead"), MiniatureTeacher.Folder("/cache", world, RunProfile.Default with { TeacherDtype = "fp32" }));
        // What the students do is not the teacher's business.
        var students = RunProfile.Default with { Students = [new("s", 8, 1, 2)], GeneralistSteps = 1, DecoderOnlyFamily = true, Seeds = [4] };
        Assert.Equal(folder, MiniatureTeacher.Folder("/cache", world, students));
    }

    [Fact]
    public async Task A_second_run_waits_for_the_lock_and_gets_it_when_the_first_lets_go()
    {
        var folder = Path.Combine(TestPaths.NewTempDir(), "teachers", "default-0123456789ab");
        var first = MiniatureTeacher.Lock(folder, () => throw new Xunit.Sdk.XunitException("the first run has nobody to wait for"), CancellationToken.None);
        var waiting = new TaskCompletionSource();
        var second = Task.Run(() => MiniatureTeacher.Lock(folder, () => waiting.TrySetResult(), CancellationToken.None));
        await waiting.Task.WaitAsync(TimeSpan.FromSeconds(120));
        Assert.False(second.IsCompleted);
        first.Dispose();
        (await second.WaitAsync(TimeSpan.FromSeconds(120))).Dispose();
    }

    [Fact]
    public async Task A_holder_killed_with_SIGKILL_releases_the_lock()
    {
        var folder = Path.Combine(TestPaths.NewTempDir(), "teachers", "default-0123456789ab");
        Directory.CreateDirectory(Path.GetDirectoryName(MiniatureTeacher.LockFile(folder))!);
        // util-linux's flock takes the same kind of lock .NET takes for FileShare.None, from another process.
        using var holder = Process.Start(new ProcessStartInfo("flock", ["--exclusive", MiniatureTeacher.LockFile(folder), "sleep", "600"]))!;
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (!IsHeld(folder) && DateTime.UtcNow < deadline) await Task.Delay(50);
        Assert.True(IsHeld(folder), "the flock process did not take the lock");

        using var stop = new CancellationTokenSource();
        var waiting = new TaskCompletionSource();
        var waiter = Task.Run(() => MiniatureTeacher.Lock(folder, () => waiting.TrySetResult(), stop.Token));
        await waiting.Task.WaitAsync(TimeSpan.FromSeconds(120));
        holder.Kill(entireProcessTree: true);
        (await waiter.WaitAsync(TimeSpan.FromSeconds(120))).Dispose();
    }

    [Fact]
    public async Task A_stopped_run_stops_waiting()
    {
        var folder = Path.Combine(TestPaths.NewTempDir(), "teachers", "default-0123456789ab");
        using var first = MiniatureTeacher.Lock(folder, () => { }, CancellationToken.None);
        using var stop = new CancellationTokenSource();
        var waiting = new TaskCompletionSource();
        var waiter = Task.Run(() => MiniatureTeacher.Lock(folder, () => waiting.TrySetResult(), stop.Token));
        await waiting.Task.WaitAsync(TimeSpan.FromSeconds(120));
        stop.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiter.WaitAsync(TimeSpan.FromSeconds(120)));
    }

    private static bool IsHeld(string folder)
    {
        try
        {
            using var probe = new FileStream(MiniatureTeacher.LockFile(folder), FileMode.Open, FileAccess.ReadWrite, FileShare.None);
            return false;
        }
        catch (FileNotFoundException)
        {
            return false;
        }
        catch (IOException)
        {
            return true;
        }
    }
}
