using System.Diagnostics;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Specialist.Evaluation;
using Specialist.Pipeline;
using Specialist.Teachers;
using Specialist.Tests.Teachers;
using Specialist.Tests.Training;
using Specialist.Training;
using Xunit.Abstractions;

namespace Specialist.Tests.Pipeline;

/// <summary>
/// Crash anywhere, resume: <c>specialist run --profile quick</c> as a real process, killed with SIGKILL at eleven points
/// spread over its stages — each chosen by watching the run's progress lines and files, never by a sleep — and started
/// again after each kill until it finishes. The run must end complete and find, to the byte, what the uninterrupted run
/// of the same seed (<see cref="UninterruptedQuickRun"/>) found.
/// </summary>
public sealed partial class RunChaosTests(ITestOutputHelper output)
{
    private const int TeacherSteps = 150, GeneralistSteps = 40, SpecializeSteps = 30; // the quick profile's
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(10);

    /// <summary>Where to kill: when <see cref="When"/> holds (given the process's stderr lines so far), then <see cref="Landed"/> checks what the kill left.</summary>
    private sealed record KillPoint(string Name, Func<IReadOnlyList<string>, bool> When, Action Landed);

    [Fact]
    public void The_quick_profile_killed_at_eleven_points_over_its_stages_finishes_with_the_uninterrupted_runs_findings_and_models()
    {
        var temp = TestPaths.NewTempDir();
        // A cache of its own: the teacher is trained (and killed) here, not reused from the uninterrupted run's cache.
        var cache = Path.Combine(temp, "cache");
        var env = new Dictionary<string, string> { ["SPECIALIST_CACHE"] = cache };
        var run = Path.Combine(temp, "run");
        string[] command = ["run", "--profile", "quick", "--out", run];
        var teachers = Path.Combine(cache, "teachers");
        string TeacherRun() => Path.Combine(Directory.GetDirectories(teachers, "*.building").Single(), "run");
        bool TeacherBuilding() => Directory.Exists(teachers) && Directory.GetDirectories(teachers, "*.building").Length == 1
            && File.Exists(Path.Combine(TeacherRun(), TrainingRecipe.ConfigFileName));
        string Student(string name) => Path.Combine(run, "students", name);
        var generalists = new[] { "s", "m", "l" }.Select(size => Student($"{size}-generalist")).ToList();
        var specializations = new[] { "s-specialized", "m-specialized", "l-specialized", "s-sample-matching", "s-zero-shot-only", "s-replay", "s-control" }
            .Select(Student).ToList();
        bool Began(IEnumerable<string> runs) => runs.Any(r => Logged(r) > 0);
        bool Saved(IEnumerable<string> runs) => runs.Any(r => Checkpoints(r).Count > 0);
        bool Unfinished(IEnumerable<string> runs, long steps) => runs.Any(r => RunSelection.LastStep(r) != steps);
        void NotDone(string stage) => Assert.Equal(MiniatureRun.Stages.TakeWhile(s => s != stage), Stages(run));

        KillPoint[] points =
        [
            new("teacher training, before its first checkpoint",
                _ => TeacherBuilding() && Logged(TeacherRun()) > 0 && Checkpoints(TeacherRun()).Count == 0,
                () =>
                {
                    NotDone("teacher");
                    Assert.Empty(Checkpoints(TeacherRun())); // the run holds its config and no checkpoint: the reported stuck case
                }),
            new("teacher training, after a checkpoint",
                _ => TeacherBuilding() && Checkpoints(TeacherRun()).Count > 0,
                () =>
                {
                    NotDone("teacher");
                    Assert.NotEmpty(Checkpoints(TeacherRun()));
                    Assert.NotEqual(TeacherSteps, RunSelection.LastStep(TeacherRun()));
                }),
            new("annotate: the teacher's own evaluation in flight",
                lines => lines.Any(l => l.Contains("teacher eval: synth-multiarith-test", StringComparison.Ordinal)),
                () =>
                {
                    NotDone("annotate");
                    Assert.True(File.Exists(Path.Combine(run, "annotate", "teacher-eval", "results.json")));
                }),
            new("annotate: samples in flight",
                lines => lines.Any(l => Requests().Match(l) is { Success: true } m && int.Parse(m.Groups[1].Value) >= 100),
                () =>
                {
                    NotDone("annotate");
                    using var store = AnnotationStore.Open(Path.Combine(run, "annotate", "annotations.db"), create: false);
                    Assert.InRange(store.Stats().Questions, 1, 599);
                }),
            // The quick profile aligns in half a second, so a kill sent on the first set's line may land after the
            // stage: then it interrupts the generalists' start instead, and the continuation must match all the same.
            new("align, after its first set",
                lines => lines.Any(l => l.StartsWith("run: align mixture-gold:", StringComparison.Ordinal)),
                () =>
                {
                    var done = Stages(run);
                    Assert.True(done.SequenceEqual(MiniatureRun.Stages.TakeWhile(s => s != "align")) || done.SequenceEqual(MiniatureRun.Stages.TakeWhile(s => s != "students")),
                        $"stages done when killed: {string.Join(", ", done)}");
                }),
            new("generalists, before their first checkpoint",
                _ => Began(generalists) && !Saved(generalists),
                () =>
                {
                    NotDone("students");
                    // A training run holds its config and no checkpoint: the case reported stuck, refused by both start and resume.
                    Assert.Contains(generalists, g => File.Exists(Path.Combine(g, TrainingRecipe.ConfigFileName)));
                    Assert.False(Saved(generalists));
                }),
            new("generalists, after the first checkpoint",
                _ => Saved(generalists) && Unfinished(generalists, GeneralistSteps),
                () =>
                {
                    NotDone("students");
                    Assert.Contains(generalists, g => Checkpoints(g).Count > 0 && RunSelection.LastStep(g) != GeneralistSteps);
                }),
            new("specialization, before its first checkpoint",
                _ => Began(specializations) && !Saved(specializations),
                () =>
                {
                    NotDone("students");
                    Assert.Contains(specializations, s => File.Exists(Path.Combine(s, TrainingRecipe.ConfigFileName)));
                    Assert.False(Saved(specializations));
                }),
            new("specialization, after the first checkpoint",
                _ => Saved(specializations) && Unfinished(specializations, SpecializeSteps),
                () =>
                {
                    NotDone("students");
                    Assert.Contains(specializations, s => Checkpoints(s).Count > 0 && RunSelection.LastStep(s) != SpecializeSteps);
                }),
            new("eval, after two of its evaluations",
                lines => lines.Any(l => l.StartsWith("run: eval [", StringComparison.Ordinal) && l.Contains(" s-specialized (zeroshot):", StringComparison.Ordinal)),
                () =>
                {
                    NotDone("eval");
                    Assert.True(File.Exists(Path.Combine(run, "eval", "s-specialized-zeroshot", "results.json")));
                }),
            new("report",
                lines => lines.Contains("run: report [  0 %] started"),
                () => NotDone("report")),
        ];

        var clock = Stopwatch.StartNew();
        KillAt(command, env, points, clock);
        var finished = CliRunner.Run(command, null, Timeout, env);
        output.WriteLine($"{clock.Elapsed.TotalSeconds,6:F1} s  finished");
        Assert.True(finished.ExitCode == 0, finished.ToString());

        // Complete: every stage recorded, the same files as the uninterrupted run (no temporaries, nothing missing), and
        // the teacher cache holds the finished teacher alone.
        var reference = UninterruptedQuickRun.Get();
        Assert.True(reference.Result.ExitCode == 0, reference.Result.ToString());
        Assert.Equal(MiniatureRun.Stages, Stages(run));
        Assert.Equal(Files(reference.Folder), Files(run));
        var teacher = Assert.Single(Directory.GetFileSystemEntries(teachers));
        var referenceTeacher = Assert.Single(Directory.GetDirectories(Path.Combine(reference.Env["SPECIALIST_CACHE"], "teachers")));
        Assert.Equal(Files(referenceTeacher), Files(teacher));

        // The same findings to the byte, from the same models: the teacher and every kept checkpoint of every student.
        Assert.Equal(File.ReadAllText(Path.Combine(reference.Folder, "report", "phenomena.json")), File.ReadAllText(Path.Combine(run, "report", "phenomena.json")));
        Assert.Equal(File.ReadAllBytes(Path.Combine(referenceTeacher, "model.safetensors")), File.ReadAllBytes(Path.Combine(teacher, "model.safetensors")));
        foreach (var weights in Files(reference.Folder).Where(f => f.StartsWith("students/", StringComparison.Ordinal) && f.EndsWith("/model.safetensors", StringComparison.Ordinal)))
            Assert.True(File.ReadAllBytes(Path.Combine(reference.Folder, weights)).SequenceEqual(File.ReadAllBytes(Path.Combine(run, weights))), weights);
    }

    [Fact]
    public async Task A_config_run_killed_during_annotate_and_during_train_finishes_as_the_uninterrupted_run_does()
    {
        // Until released, the teacher answers the first four calls at once and holds the others, so that the kill finds
        // annotation in flight (four questions stored, four asked and unanswered).
        using var release = new CancellationTokenSource();
        var calls = 0;
        await using var teacher = await FaultServer.StartAsync(ConfiguredRunTests.GoldTeacher(_ =>
            Interlocked.Increment(ref calls) > 4 && !release.IsCancellationRequested ? TimeSpan.FromMinutes(5) : TimeSpan.Zero));
        var temp = TestPaths.NewTempDir();
        var file = Path.Combine(temp, "run-config.json");
        const int steps = 12;
        File.WriteAllText(file, ConfiguredRunTests.SmallConfig(temp, teacher.BaseUrl, steps, saveEvery: 6).ToJsonString());
        var killed = Path.Combine(temp, "killed");
        var train = Path.Combine(killed, "train");
        string[] command = ["run", "--config", file, "--out", killed];
        int Stored()
        {
            using var store = AnnotationStore.Open(Path.Combine(killed, "annotate", "annotations.db"), create: false);
            return store.Stats().Questions;
        }
        void NotDone(string stage) => Assert.Equal(ConfiguredRun.Stages.TakeWhile(s => s != stage), Stages(killed));

        var clock = Stopwatch.StartNew();
        KillAt(command, null,
        [
            new("annotate, half the questions stored and the rest in flight",
                // Progress is reported once an answer is stored.
                lines => lines.Any(l => l.StartsWith("run: annotate [", StringComparison.Ordinal) && l.Contains(" 4/8 requests", StringComparison.Ordinal)),
                () =>
                {
                    NotDone("annotate");
                    Assert.Equal(4, Stored());
                    release.Cancel();
                }),
            new("train, before its first checkpoint",
                _ => Logged(train) > 0 && Checkpoints(train).Count == 0,
                () =>
                {
                    NotDone("train");
                    // The run holds its config and no checkpoint: the case reported stuck, refused by both start and resume.
                    Assert.True(File.Exists(Path.Combine(train, TrainingRecipe.ConfigFileName)));
                    Assert.Empty(Checkpoints(train));
                }),
            new("train, after its first checkpoint",
                _ => Checkpoints(train).Count > 0 && RunSelection.LastStep(train) != steps,
                () =>
                {
                    NotDone("train");
                    Assert.NotEmpty(Checkpoints(train));
                }),
        ], clock);
        var finished = CliRunner.Run(command);
        output.WriteLine($"{clock.Elapsed.TotalSeconds,6:F1} s  finished");
        Assert.True(finished.ExitCode == 0, finished.ToString());

        // The same run uninterrupted: the same files, the same training, the same model and the same evaluations.
        var whole = Path.Combine(temp, "whole");
        var uninterrupted = CliRunner.Run("run", "--config", file, "--out", whole);
        Assert.True(uninterrupted.ExitCode == 0, uninterrupted.ToString());
        Assert.Equal(ConfiguredRun.Stages, Stages(killed));
        Assert.Equal(Files(whole), Files(killed));
        using (var store = AnnotationStore.Open(Path.Combine(killed, "annotate", "annotations.db"), create: false))
            Assert.Equal((8, 16L), (store.Stats().Questions, store.Stats().Samples));
        Assert.Equal(TrainingTestKit.Losses(Path.Combine(whole, "train")), TrainingTestKit.Losses(train));
        Assert.Equal(File.ReadAllText(Path.Combine(whole, "train", RunSelection.FileName)), File.ReadAllText(Path.Combine(train, RunSelection.FileName)));
        var weights = Path.Combine("checkpoints", $"step-{steps:D6}", "model.safetensors");
        Assert.True(File.ReadAllBytes(Path.Combine(whole, "train", weights)).SequenceEqual(File.ReadAllBytes(Path.Combine(train, weights))));
        foreach (var evaluation in new[] { "before", "after" })
            Assert.Equal(EvaluationResults.Read(Path.Combine(whole, "eval", evaluation)).Sets, EvaluationResults.Read(Path.Combine(killed, "eval", evaluation)).Sets);
    }

    /// <summary>
    /// For each point in turn: starts <paramref name="command"/>, kills it with SIGKILL as soon as the point's condition
    /// holds (watched every 5 ms), checks that the signal ended it, and checks what the kill left.
    /// </summary>
    private void KillAt(IReadOnlyList<string> command, IReadOnlyDictionary<string, string>? env, IEnumerable<KillPoint> points, Stopwatch clock)
    {
        foreach (var point in points)
        {
            using var process = CliRunner.Start(command, env);
            var started = clock.Elapsed;
            while (!Holds(point, process.Stderr))
            {
                Assert.False(process.HasExited, $"the run ended before the kill point '{point.Name}':\n{string.Join("\n", process.Stderr)}");
                Assert.True(clock.Elapsed < Timeout, $"the kill point '{point.Name}' did not come in {Timeout}");
                Thread.Sleep(5);
            }
            var exit = process.Kill();
            output.WriteLine($"{clock.Elapsed.TotalSeconds,6:F1} s  killed at '{point.Name}', {(clock.Elapsed - started).TotalSeconds:F1} s after the start; its last line: {process.Stderr.LastOrDefault()}");
            Assert.True(exit == 137, $"'{point.Name}': the process ended with {exit}, not by the kill");
            point.Landed();
        }
    }

    // The run renames and deletes files and folders while it is watched: a condition that meets one mid-way is not met yet.
    private static bool Holds(KillPoint point, IReadOnlyList<string> lines)
    {
        try
        {
            return point.When(lines);
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>The stages <c>stages.json</c> records as finished, in order.</summary>
    private static List<string> Stages(string run)
    {
        var path = Path.Combine(run, RunStages.StagesFileName);
        return File.Exists(path) ? [.. JsonNode.Parse(File.ReadAllText(path))!.AsObject().Select(p => p.Key)] : [];
    }

    /// <summary>The complete checkpoints of a training run.</summary>
    private static IReadOnlyList<(long Step, string Relative)> Checkpoints(string trainingRun) => RunCheckpoints.List(trainingRun);

    /// <summary>The optimiser steps a training run has logged so far.</summary>
    private static int Logged(string trainingRun)
    {
        var path = Path.Combine(trainingRun, TrainingRecipe.MetricsFileName);
        if (!File.Exists(path)) return 0;
        using var reader = new StreamReader(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete));
        return reader.ReadToEnd().Split('\n').Count(l => l.StartsWith("{\"kind\":\"train\"", StringComparison.Ordinal));
    }

    /// <summary>Every file under <paramref name="folder"/> (links included), relative, sorted.</summary>
    private static List<string> Files(string folder) =>
        [.. Directory.EnumerateFileSystemEntries(folder, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 })
            .Where(e => !Directory.Exists(e) || new DirectoryInfo(e).LinkTarget is not null)
            .Select(e => Path.GetRelativePath(folder, e).Replace('\\', '/'))
            .Order(StringComparer.Ordinal)];

    [GeneratedRegex(@"^run: annotate .* (\d+)/600 requests")]
    private static partial Regex Requests();
}
