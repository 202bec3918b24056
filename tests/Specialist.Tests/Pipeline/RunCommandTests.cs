using System.Text.Json.Nodes;
using Specialist.Pipeline;

namespace Specialist.Tests.Pipeline;

/// <summary>
/// <c>specialist run --profile quick</c> end to end, as a real process: the smoke test of the whole pipeline (teacher
/// trained and cached, served and annotated over HTTP, aligned, students trained, evaluated, reported), then the same
/// command again (every stage reused) and a new run folder with the cached teacher, which must find the same.
/// </summary>
public sealed class RunCommandTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(10);

    [Fact]
    public void The_quick_profile_runs_every_stage_then_reuses_its_stages_and_the_cached_teacher()
    {
        var temp = TestPaths.NewTempDir();
        var env = new Dictionary<string, string> { ["SPECIALIST_CACHE"] = Path.Combine(temp, "cache") };
        var first = Path.Combine(temp, "first");

        var run = CliRunner.Run(["run", "--profile", "quick", "--out", first], null, Timeout, env);
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

        // Specialization trains the chain-of-thought formats (zero-shot CoT alone for the comparison); the control keeps the mixture's four.
        string[] Names(JsonNode? list) => [.. list!.AsArray().Select(n => n is JsonObject o ? o["name"]!.GetValue<string>() : n!.GetValue<string>())];
        JsonNode Json(params string[] path) => JsonNode.Parse(File.ReadAllText(Path.Combine([first, .. path])))!;
        Assert.Equal(["ic-cot", "zs-cot"], Names(Json("distill", "math-teacher", "manifest.json")["formats"]));
        Assert.Equal(["ic-cot", "zs-cot"], Names(Json("students", "l-specialized", "config.json")["formats"]));
        Assert.Equal(["zs-cot"], Names(Json("students", "s-zero-shot-only", "config.json")["formats"]));
        Assert.Equal(["ic-cot", "ic-ao", "zs-cot", "zs-ao"], Names(Json("students", "s-control", "config.json")["formats"]));

        // The report states the six phenomena; phenomena.json holds their numbers and the per-student figures.
        var report = File.ReadAllText(Path.Combine(first, "report", "report.md"));
        foreach (var id in new[] { "P1", "P2", "P3", "P4", "P5", "P6" }) Assert.Contains($"**{id}. ", report);
        Assert.Contains("soft (teacher) target", report);
        Assert.True(File.Exists(Path.Combine(first, "report", "scaling.png")));
        var phenomena = JsonNode.Parse(File.ReadAllText(Path.Combine(first, "report", "phenomena.json")))!;
        foreach (var id in new[] { "P1", "P2", "P3", "P4", "P5", "P6" })
        {
            var p = phenomena["phenomena"]![id]!;
            var observed = p["observed"]!.GetValue<bool>();
            Assert.NotEmpty(p["numbers"]!.AsObject());
            Assert.Contains($"{id} {(observed ? "observed" : "not observed")}", run.Stdout);
        }
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

        // A new run folder: the teacher comes from the cache, and the output says so.
        var second = CliRunner.Run(["run", "--profile", "quick", "--out", Path.Combine(temp, "second")], null, Timeout, env);
        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.Contains("teacher: reused the cached teacher", second.Stdout);
        Assert.Equal(File.ReadAllText(Path.Combine(first, "world", "sets", "synth-math-test.jsonl")),
            File.ReadAllText(Path.Combine(temp, "second", "world", "sets", "synth-math-test.jsonl")));

        // Reproducible: the same seed and teacher give the same findings to the byte, though the first run trained the
        // teacher and the second took it from the cache, and the server batched the annotation requests as they came.
        Assert.Equal(File.ReadAllText(Path.Combine(first, "report", "phenomena.json")), File.ReadAllText(Path.Combine(temp, "second", "report", "phenomena.json")));
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
    }
}
