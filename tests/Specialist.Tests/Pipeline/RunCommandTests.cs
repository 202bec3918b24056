using System.Text.Json.Nodes;
using Specialist.Pipeline;

namespace Specialist.Tests.Pipeline;

/// <summary>
/// <c>specialist run --profile quick</c> end to end, as a real process: the smoke test of the whole pipeline (teacher
/// trained and cached, served and annotated over HTTP, aligned, students trained, evaluated, reported; the run is
/// <see cref="UninterruptedQuickRun"/>), then the same command again (every stage reused), a second seed with the cached
/// teacher, <c>--seeds</c> aggregating the two, and the first seed again in a new folder, which must find the same to
/// the byte.
/// </summary>
public sealed class RunCommandTests
{
    private static readonly TimeSpan Timeout = UninterruptedQuickRun.Timeout;

    [Fact]
    public void The_quick_profile_runs_every_stage_then_reuses_its_stages_and_the_cached_teacher_aggregates_two_seeds_and_repeats_to_the_byte()
    {
        var (temp, env, seeds, first, run) = UninterruptedQuickRun.Get();
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("teacher: trained and cached in", run.Stdout);

        // Every stage left its files in the run folder.
        var stages = JsonNode.Parse(File.ReadAllText(Path.Combine(first, "stages.json")))!.AsObject();
        Assert.Equal(MiniatureRun.Stages, stages.Select(s => s.Key));
        Assert.True(File.Exists(Path.Combine(first, "world", "sets", "synth-math-train.jsonl")));
        Assert.True(File.Exists(Path.Combine(first, "annotate", "annotations.db")));
        Assert.True(File.Exists(Path.Combine(first, "annotate", "teacher-eval", "results.json")));
        Assert.True(File.Exists(Path.Combine(first, "distill", "math-teacher", "manifest.json")));
        foreach (var student in new[] { "s-specialized", "m-specialized", "l-specialized", "s-sample-matching", "s-zero-shot-only", "s-replay", "s-control" })
            Assert.True(File.Exists(Path.Combine(first, "students", student, "selection.json")), student);

        // Specialization trains the chain-of-thought formats (zero-shot CoT alone for the comparison); the generalists, the
        // control and the replay set train the mixture's zero-shot formats.
        string[] Names(JsonNode? list) => [.. list!.AsArray().Select(n => n is JsonObject o ? o["name"]!.GetValue<string>() : n!.GetValue<string>())];
        JsonNode Json(params string[] path) => JsonNode.Parse(File.ReadAllText(Path.Combine([first, .. path])))!;
        Assert.Equal(["ic-cot", "zs-cot"], Names(Json("distill", "math-teacher", "manifest.json")["formats"]));
        Assert.Equal(["ic-cot", "zs-cot"], Names(Json("students", "l-specialized", "config.json")["formats"]));
        Assert.Equal(["zs-cot"], Names(Json("students", "s-zero-shot-only", "config.json")["formats"]));
        Assert.Equal(["zs-cot", "zs-ao"], Names(Json("distill", "mixture-gold", "manifest.json")["formats"]));
        Assert.Equal(["zs-cot", "zs-ao"], Names(Json("distill", "generic-gold", "manifest.json")["formats"]));
        Assert.Equal(["zs-cot", "zs-ao"], Names(Json("students", "s-control", "config.json")["formats"]));

        // The report states the six phenomena; phenomena.json holds their numbers and the per-student figures.
        var report = File.ReadAllText(Path.Combine(first, "report", "report.md"));
        foreach (var id in new[] { "P1", "P2", "P3", "P4", "P5", "P6" }) Assert.Contains($"**{id}. ", report);
        Assert.Contains("soft (teacher) target", report);
        Assert.True(File.Exists(Path.Combine(first, "report", "scaling.png")));
        var phenomena = JsonNode.Parse(File.ReadAllText(Path.Combine(first, "report", "phenomena.json")))!;
        foreach (var id in new[] { "P1", "P2", "P3", "P4", "P5", "P6" })
        {
            var p = phenomena["phenomena"]![id]!;
            var verdict = p["verdict"]!.GetValue<string>();
            Assert.Contains(verdict, new[] { "observed", "not observed", "inconclusive" });
            Assert.Equal(verdict == "observed", p["observed"]!.GetValue<bool>());
            Assert.NotEmpty(p["rule"]!.GetValue<string>());
            Assert.NotEmpty(p["numbers"]!.AsObject());
            Assert.Contains($"{id} {verdict} ", run.Stdout);
            Assert.Contains($"**{id}. {p["title"]!.GetValue<string>()}** — {verdict}.\n\n*Rule:* {p["rule"]!.GetValue<string>()}", report);
        }
        // Intervals: P1's lifts carry an estimate and its 95 % interval.
        var lift = phenomena["phenomena"]!["P1"]!["numbers"]!["lift_points"]!["s"]!;
        Assert.InRange(lift["estimate"]!.GetValue<double>(), lift["low"]!.GetValue<double>(), lift["high"]!.GetValue<double>());
        // No machine paths in the report, and nothing in phenomena.json that differs between a fresh and a cached teacher.
        Assert.DoesNotContain(temp, report);
        Assert.Null(phenomena["teacher"]!["cached"]);
        var students = phenomena["students"]!.AsArray();
        Assert.Equal(3, students.Count);
        foreach (var s in students)
        {
            Assert.True(s!["params"]!.GetValue<long>() > 0);
            foreach (var key in new[] { "math_id_before", "math_id_after", "generic_before", "generic_after" })
                Assert.InRange(s[key]!.GetValue<double>(), 0, 1);
        }
        Assert.True(students[0]!["params"]!.GetValue<long>() < students[2]!["params"]!.GetValue<long>());
        Assert.NotNull(phenomena["control"]!["math_id"]);
        Assert.InRange(phenomena["teacher"]!["kept_rate"]!.GetValue<double>(), 0, 1);
        Assert.InRange(phenomena["alignment"]!["soft_target_share"]!.GetValue<double>(), 0.01, 1);

        // The same command again: every stage is done already.
        var again = CliRunner.Run(["run", "--profile", "quick", "--out", first, "--json"], null, Timeout, env);
        Assert.True(again.ExitCode == 0, again.ToString());
        var summary = JsonNode.Parse(again.Stdout)!;
        Assert.All(summary["stages"]!.AsObject(), s => Assert.True(s.Value!["reused"]!.GetValue<bool>(), s.Key));

        // A new run folder and seed: the teacher comes from the cache, and the output says so; the world is the same.
        var second = CliRunner.Run(["run", "--profile", "quick", "--seed", "1", "--out", Path.Combine(seeds, "seed-1")], null, Timeout, env);
        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.Contains("teacher: reused the cached teacher", second.Stdout);
        Assert.Equal(File.ReadAllText(Path.Combine(first, "world", "sets", "synth-math-test.jsonl")),
            File.ReadAllText(Path.Combine(seeds, "seed-1", "world", "sets", "synth-math-test.jsonl")));

        // Both seeds at once: every stage of both runs is reused, and the aggregate counts each phenomenon's verdicts over them.
        var both = CliRunner.Run(["run", "--profile", "quick", "--seeds", "0,1", "--out", seeds, "--json"], null, Timeout, env);
        Assert.True(both.ExitCode == 0, both.ToString());
        var aggregate = JsonNode.Parse(both.Stdout)!;
        foreach (var seed in new[] { "0", "1" })
            Assert.All(aggregate["seeds"]![seed]!["stages"]!.AsObject(), s => Assert.True(s.Value!["reused"]!.GetValue<bool>(), $"seed {seed}: {s.Key}"));
        var numbers = JsonNode.Parse(File.ReadAllText(Path.Combine(seeds, "report", "phenomena.json")))!;
        Assert.Equal([0UL, 1UL], numbers["seeds"]!.AsArray().Select(n => n!.GetValue<ulong>()));
        foreach (var id in new[] { "P1", "P2", "P3", "P4", "P5", "P6" })
        {
            var verdicts = aggregate["verdicts"]![id]!.AsObject();
            Assert.Equal(2, verdicts.Sum(v => v.Value!.GetValue<int>()));
            Assert.Equal(verdicts["observed"]!.GetValue<int>(), numbers["phenomena"]![id]!["holds_in"]!.GetValue<int>());
        }
        var s0 = phenomena["students"]![0]!["math_id_after"]!.GetValue<double>();
        var s1 = JsonNode.Parse(File.ReadAllText(Path.Combine(seeds, "seed-1", "report", "phenomena.json")))!["students"]![0]!["math_id_after"]!.GetValue<double>();
        var spread = numbers["students"]![0]!["math_id_after"]!;
        Assert.Equal(Math.Round((s0 + s1) / 2, 4), spread["mean"]!.GetValue<double>());
        Assert.Equal(Math.Round(Math.Abs(s0 - s1) / Math.Sqrt(2), 4), spread["sd"]!.GetValue<double>());
        var md = File.ReadAllText(Path.Combine(seeds, "report", "report.md"));
        Assert.DoesNotContain(temp, md);
        Assert.Contains("](../seed-1/report/report.md)", md);
        Assert.True(File.Exists(Path.Combine(seeds, "report", "math-id-over-seeds.png")));

        // Reproducible: seed 0 again, in a new folder with the teacher from the cache (the first run trained it), gives the
        // same findings to the byte, though the server answered the annotation requests as they came.
        var repeat = CliRunner.Run(["run", "--profile", "quick", "--out", Path.Combine(temp, "seed-0-again")], null, Timeout, env);
        Assert.True(repeat.ExitCode == 0, repeat.ToString());
        Assert.Equal(File.ReadAllText(Path.Combine(first, "report", "phenomena.json")), File.ReadAllText(Path.Combine(temp, "seed-0-again", "report", "phenomena.json")));
    }

    [Fact]
    public void Bad_options_and_a_folder_of_something_else_are_refused_before_any_work()
    {
        var temp = TestPaths.NewTempDir();
        var profile = CliRunner.Run("run", "--profile", "huge", "--out", Path.Combine(temp, "x"));
        Assert.Equal(2, profile.ExitCode);
        Assert.Contains("unknown profile 'huge'", profile.Stderr);
        Assert.False(Directory.Exists(Path.Combine(temp, "x")));

        var busy = Path.Combine(temp, "busy");
        Directory.CreateDirectory(busy);
        File.WriteAllText(Path.Combine(busy, "notes.txt"), "mine");
        var refused = CliRunner.Run("run", "--profile", "quick", "--out", busy);
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("is not empty and holds no run", refused.Stderr);
        Assert.Equal(["notes.txt"], Directory.GetFileSystemEntries(busy).Select(Path.GetFileName));

        var seed = CliRunner.Run("run", "--seed", "-1", "--out", Path.Combine(temp, "y"));
        Assert.Equal(2, seed.ExitCode);
        Assert.Contains("--seed", seed.Stderr);

        // --seeds: not with --seed, two or more distinct seeds, and never into a single run's folder (its report would be overwritten).
        var both = CliRunner.Run("run", "--seed", "1", "--seeds", "0,1", "--out", Path.Combine(temp, "z"));
        Assert.Equal(2, both.ExitCode);
        Assert.Contains("--seed and --seeds exclude each other", both.Stderr);
        foreach (var (seeds, message) in new[] { ("3", "at least two"), ("0,0", "more than once"), ("0,x", "'x' is not a non-negative integer") })
        {
            var bad = CliRunner.Run("run", "--profile", "quick", "--seeds", seeds, "--out", Path.Combine(temp, "z"));
            Assert.Equal(2, bad.ExitCode);
            Assert.Contains(message, bad.Stderr);
        }
        Assert.False(Directory.Exists(Path.Combine(temp, "z")));
        var single = Path.Combine(temp, "single");
        Directory.CreateDirectory(single);
        File.WriteAllText(Path.Combine(single, "run.json"), """{"profile":"quick","seed":0}""");
        var onto = CliRunner.Run("run", "--profile", "quick", "--seeds", "0,1", "--out", single);
        Assert.Equal(1, onto.ExitCode);
        Assert.Contains("holds a single-seed run", onto.Stderr);
        Assert.Equal(["run.json"], Directory.GetFileSystemEntries(single).Select(Path.GetFileName));
    }
}
