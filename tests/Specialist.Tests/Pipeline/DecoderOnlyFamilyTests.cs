using System.Text.Json.Nodes;
using Specialist.Models;
using Specialist.Pipeline;

namespace Specialist.Tests.Pipeline;

/// <summary>
/// <c>specialist run --profile quick --decoder-only</c>: the miniature world with a decoder-only (Qwen2-shaped) student
/// per size next to the T5 ones, matched in parameters, trained and specialized the same way and compared in the report.
/// It reuses the teacher the uninterrupted quick run cached, and must leave the T5 students' phenomena as that run found them.
/// </summary>
public sealed class DecoderOnlyFamilyTests
{
    [Fact]
    public void Each_size_gets_a_decoder_only_counterpart_of_as_many_parameters()
    {
        foreach (var profile in new[] { RunProfile.Quick, RunProfile.Default, RunProfile.Full })
            foreach (var size in profile.Students)
            {
                var t5 = StudentModel.CountParameters(size.Config(600));
                var decoder = size.DecoderOnlyConfig(600, 256);
                Assert.Equal(LlamaConfig.Qwen2, decoder.ModelType);
                Assert.Equal(2 * size.Layers, decoder.NumHiddenLayers);
                decoder.Validate("test");
                // One unit of SwiGLU width is 3 · width · layers weights: the match is within half of that.
                Assert.InRange(Math.Abs(StudentModel.CountParameters(decoder) - t5), 0, 1.5 * size.DModel * decoder.NumHiddenLayers);
            }
    }

    [Fact]
    public void The_quick_profile_with_the_decoder_only_family_compares_the_two_families()
    {
        var quick = UninterruptedQuickRun.Get();
        Assert.True(quick.Result.ExitCode == 0, quick.Result.ToString());
        var folder = Path.Combine(quick.Temp, "decoder-only");
        var run = CliRunner.Run(["run", "--profile", "quick", "--decoder-only", "--out", folder, "--json"], null, UninterruptedQuickRun.Timeout, quick.Env);
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.True(JsonNode.Parse(run.Stdout)!["teacher_cached"]!.GetValue<bool>());

        JsonNode Json(params string[] path) => JsonNode.Parse(File.ReadAllText(Path.Combine([folder, .. path])))!;
        foreach (var size in RunProfile.Quick.Students)
        {
            Assert.Equal("qwen2", Json("students", $"qwen2-{size.Name}-init", "config.json")["model_type"]!.GetValue<string>());
            Assert.True(File.Exists(Path.Combine(folder, "students", $"qwen2-{size.Name}-specialized", "selection.json")));
            Assert.True(File.Exists(Path.Combine(folder, "eval", $"qwen2-{size.Name}-specialized-zeroshot", "results.json")));
        }
        Assert.Equal("qwen2", Json("distill", "student-tokenizer-decoder-only", "config.json")["model_type"]!.GetValue<string>());

        var phenomena = Json("report", "phenomena.json");
        // Adding the family changes nothing for the T5 students.
        Assert.Equal(Json(Path.GetRelativePath(folder, quick.Folder), "report", "phenomena.json")["phenomena"]!.ToJsonString(), phenomena["phenomena"]!.ToJsonString());
        var comparison = phenomena["decoder_only"]!;
        var sizes = comparison["sizes"]!.AsArray();
        Assert.Equal(RunProfile.Quick.Students.Select(s => s.Name), sizes.Select(s => s!["size"]!.GetValue<string>()));
        foreach (var s in sizes)
        {
            var (t5, decoder) = (s!["t5_params"]!.GetValue<long>(), s["decoder_only_params"]!.GetValue<long>());
            Assert.InRange(Math.Abs(decoder - t5) / (double)t5, 0, 0.02);
            foreach (var key in new[] { "before", "after", "lift" })
            {
                var e = s["decoder_only_minus_t5_points"]![key]!;
                Assert.InRange(e["estimate"]!.GetValue<double>(), e["low"]!.GetValue<double>(), e["high"]!.GetValue<double>());
            }
        }
        foreach (var rule in new[] { "lift", "scaling" })
            Assert.Contains(comparison[rule]!["verdict"]!.GetValue<string>(), new[] { "observed", "not observed", "inconclusive" });
        Assert.Null(comparison["lift"]!["numbers"]!["control"]);

        var report = File.ReadAllText(Path.Combine(folder, "report", "report.md"));
        Assert.Contains("## Encoder-decoder against decoder-only at equal parameters", report);
        Assert.Contains($"**P1, decoder-only family** — {comparison["lift"]!["verdict"]!.GetValue<string>()}.", report);
        Assert.Contains($"**P3, decoder-only family** — {comparison["scaling"]!["verdict"]!.GetValue<string>()}.", report);
        Assert.DoesNotContain(folder, report); // paths relative to the run folder
    }
}
