using System.Text.RegularExpressions;
using System.Text.Json.Nodes;
using Specialist.Pipeline;
using Specialist.Prompts;
using Specialist.Teachers;
using Specialist.Training;

namespace Specialist.Tests.Pipeline;

/// <summary>The file of <c>specialist run --config</c>: the documented example reads, defaults fill in, and every mistake names the file, the section and the key.</summary>
public sealed class RunConfigTests
{
    /// <summary>A valid config (an existing student folder, the real data root) with <paramref name="edit"/> applied, written to a file.</summary>
    internal static string Write(Action<JsonObject>? edit = null)
    {
        var dir = TestPaths.NewTempDir();
        var student = Path.Combine(dir, "student");
        Directory.CreateDirectory(student);
        var config = new JsonObject
        {
            ["out"] = Path.Combine(dir, "run"),
            ["data_root"] = TestPaths.DataRoot,
            ["student"] = student,
            ["teacher"] = new JsonObject { ["endpoint"] = "http://127.0.0.1:8000/v1", ["model"] = "teacher" },
        };
        edit?.Invoke(config);
        var path = Path.Combine(dir, "run-config.json");
        File.WriteAllText(path, config.ToJsonString());
        return path;
    }

    private static string Error(Action<JsonObject> edit, out string path)
    {
        path = Write(edit);
        var file = path;
        return Assert.ThrowsAny<SpecialistException>(() => RunConfig.ReadFile(file)).Message;
    }

    [Fact]
    public void The_documented_example_reads_with_its_values()
    {
        var example = JsonNode.Parse(File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "docs", "run-config.example.json")))!.AsObject();
        var path = Write(c =>
        {
            foreach (var (key, value) in example.Where(p => p.Key is not ("student" or "data_root" or "out")).ToList())
                c[key] = value!.DeepClone();
        });
        var config = RunConfig.ReadFile(path);
        Assert.Equal(example["teacher"]!["model"]!.GetValue<string>(), config.Teacher.Model);
        Assert.Equal(new Uri(example["teacher"]!["endpoint"]!.GetValue<string>()), config.Teacher.Endpoint);
        Assert.Equal(example["teacher"]!["samples"]!.GetValue<int>(), config.Teacher.Samples);
        Assert.Equal(example["train"]!["lr"]!.GetValue<double>(), config.Train.Lr);
        Assert.Equal(example["train"]!["device"]!.GetValue<string>(), config.Train.Device);
        Assert.Equal(example["eval"]!["sets"]!.AsArray().Select(s => s!.GetValue<string>()), config.Eval.Sets);
        Assert.Equal(Path.GetFullPath(TestPaths.DataRoot), config.Train.DataRoot);
    }

    [Fact]
    public void Left_out_keys_take_the_documented_defaults_and_out_can_be_replaced()
    {
        var path = Write();
        var config = RunConfig.ReadFile(path, outOverride: "elsewhere");
        Assert.Equal(Path.GetFullPath("elsewhere"), config.Out);
        Assert.Equal(("gsm8k-train", 4, 0.5, 5, 256), (config.Teacher.Set, config.Teacher.Samples, config.Teacher.Temperature, config.Teacher.TopLogprobs, config.Teacher.MaxTokens));
        Assert.Equal(4, config.Distill.Formats.Count);
        Assert.Equal(25, config.Distill.BatchSizes[TrainingFormat.InContextCot]);
        Assert.Equal("gsm8k-dev", config.Distill.DevSet);
        Assert.Equal(new TrainingConfig().Lr, config.Train.Lr);
        Assert.Equal(["gsm8k-test", "multiarith-test", "asdiv-test", "svamp-test", "bbh"], config.Eval.Sets);
        Assert.Equal(("4shot", 16, 256), (config.Eval.Prompt, config.Eval.BatchSize, config.Eval.MaxNewTokens));
        // run.json's settings leave out where the run goes and where the teacher is reached.
        var settings = config.Settings();
        Assert.Null(settings["out"]);
        Assert.Null(settings["teacher"]!["endpoint"]);
        Assert.Equal(0.5, settings["teacher"]!["temperature"]!.GetValue<double>());
    }

    [Fact]
    public void Unknown_keys_name_the_file_the_line_and_the_key()
    {
        var top = Error(c => c["studnet"] = "x", out var path);
        Assert.Contains(path, top);
        Assert.Matches(@": line \d+: field 'studnet' is not a top-level setting", top);

        var teacher = Error(c => c["teacher"]!["temprature"] = 0.7, out path);
        Assert.Matches($@"{Regex.Escape(path)}: line \d+: field 'teacher.temprature' is not a teacher setting", teacher);

        var train = Error(c => c["train"] = new JsonObject { ["lr_schedule"] = "cosine" }, out path);
        Assert.Matches($@"{Regex.Escape(path)}: line \d+: field 'train.lr_schedule' is not a train setting", train);

        var owned = Error(c => c["train"] = new JsonObject { ["student"] = "other" }, out path);
        Assert.Matches($@"{Regex.Escape(path)}: line \d+: field 'train.student' is set by the run", owned);
    }

    [Theory]
    [InlineData("teacher")]
    [InlineData("distill")]
    [InlineData("train")]
    [InlineData("eval")]
    public void An_unknown_key_in_any_section_names_the_file_the_section_and_the_key(string section)
    {
        var message = Error(c => (c[section] ??= new JsonObject()).AsObject()["bogus_key"] = 1, out var path);
        Assert.Matches($@"^{Regex.Escape(path)}: line \d+: field '{section}.bogus_key' is not a {section} setting \(the keys are: ", message);
    }

    [Fact]
    public void A_value_out_of_range_is_refused_by_the_sections_validate_naming_the_key()
    {
        var message = Error(c => c["teacher"]!["max_tokens"] = 0, out var path);
        Assert.Equal($"{path}: line 1: field 'teacher.max_tokens' is 0, must be at least 1", message);
        Assert.Contains("field 'eval.batch_size' is 0, must be at least 1", Error(c => c["eval"] = new JsonObject { ["batch_size"] = 0 }, out _));
        Assert.Contains("field 'distill.formats' is empty", Error(c => c["distill"] = new JsonObject { ["formats"] = new JsonArray() }, out _));
        Assert.Matches(@": line \d+: field 'train.lr' is -1, must be positive", Error(c => c["train"] = new JsonObject { ["lr"] = -1 }, out _));

        // Validate itself, without a file, names the section and the key.
        var config = RunConfig.ReadFile(Write());
        var problem = Assert.ThrowsAny<SpecialistException>(() => (config with { Teacher = config.Teacher with { MaxTokens = 0 } }).Validate());
        Assert.Equal("teacher.max_tokens is 0, must be at least 1", problem.Message);
        Assert.Equal("max_tokens is 0, must be at least 1", Assert.ThrowsAny<SpecialistException>(() => (config.Teacher with { MaxTokens = 0 }).Validate()).Message);
    }

    [Fact]
    public void The_written_config_reads_back_as_the_same_config()
    {
        var path = Write(c =>
        {
            c["seed"] = 7;
            c["teacher"]!["api"] = "chat";
            c["teacher"]!["price"] = new JsonArray(0.15, 0.6);
            c["teacher"]!["seed"] = 3;
            c["teacher"]!["stop"] = new JsonArray("END");
            c["distill"] = new JsonObject { ["formats"] = new JsonArray("zs-cot", "ic-cot"), ["alignment"] = "paper", ["merge"] = true, ["batch_size"] = new JsonObject { ["ic-cot"] = 5 }, ["dev_set"] = "none" };
            c["train"] = new JsonObject { ["loss"] = "distribution", ["lr_horizon"] = "micro-steps", ["batch_size"] = new JsonObject { ["*"] = 8 }, ["ood_sets"] = new JsonArray("svamp-dev"), ["steps"] = 20 };
            c["eval"] = new JsonObject { ["bbh_mode"] = "ao", ["limit"] = 3, ["dtype"] = "bf16" };
        });
        var config = RunConfig.ReadFile(path);
        var written = Path.Combine(Path.GetDirectoryName(path)!, "written.json");
        File.WriteAllText(written, config.ToJson().ToJsonString());
        var back = RunConfig.ReadFile(written);

        Assert.Equal(config.ToJson().ToJsonString(), back.ToJson().ToJsonString());
        Assert.Equal(config.Settings().ToJsonString(), back.Settings().ToJsonString());
        Assert.Equal((config.Teacher with { Stop = null }, config.Eval with { Sets = [] }), (back.Teacher with { Stop = null }, back.Eval with { Sets = [] }));
        Assert.Equal(["END"], back.Teacher.Stop!);
        Assert.Equal(new TeacherPrice(0.15, 0.6), back.Teacher.Price);
        Assert.Equal([TrainingFormat.InContextCot, TrainingFormat.ZeroShotCot], back.Distill.Formats);
        Assert.Equal((Specialist.Alignment.AlignmentMode.Paper, false, true), (back.Distill.Alignment.Mode, back.Distill.Alignment.Renormalize, back.Distill.Alignment.Merge));
        Assert.Equal(5, back.Distill.BatchSizes[TrainingFormat.InContextCot]);
        Assert.Null(back.Distill.DevSet);
        Assert.Equal(config.Train.ToJson(), back.Train.ToJson());
        Assert.Equal((7L, 7L), (back.Seed, back.Train.Seed));
    }

    [Fact]
    public void Values_of_the_wrong_kind_or_range_name_the_key()
    {
        Assert.Contains("field 'teacher.samples' is \"4\", expected an integer", Error(c => c["teacher"]!["samples"] = "4", out _));
        Assert.Contains("field 'train.lr' is \"fast\", expected a number", Error(c => c["train"] = new JsonObject { ["lr"] = "fast" }, out _));
        Assert.Contains("field 'train.steps' is \"10\", expected an integer", Error(c => c["train"] = new JsonObject { ["steps"] = "10" }, out _));
        Assert.Contains("field 'eval.sets' is \"gsm8k-test\", expected a list of strings", Error(c => c["eval"] = new JsonObject { ["sets"] = "gsm8k-test" }, out _));
        Assert.Contains("field 'distill.alignment' unknown alignment mode 'exact'", Error(c => c["distill"] = new JsonObject { ["alignment"] = "exact" }, out _));
        Assert.Contains("field 'distill.batch_size.ic-cot' is 0, must be at least 1", Error(c => c["distill"] = new JsonObject { ["batch_size"] = new JsonObject { ["ic-cot"] = 0 } }, out _));
        Assert.Contains("field 'eval.prompt' unknown prompt '3shot'", Error(c => c["eval"] = new JsonObject { ["prompt"] = "3shot" }, out _));
        Assert.Contains("field 'train.eval_sets' must hold a set other than id_set",
            Error(c => c["train"] = new JsonObject { ["eval_sets"] = new JsonArray("gsm8k-dev") }, out _));
    }

    [Fact]
    public void A_missing_student_or_teacher_model_and_a_student_folder_that_is_not_there_are_named()
    {
        var missing = Error(c => c.Remove("student"), out var path);
        Assert.Matches($@"{Regex.Escape(path)}: line 1: field 'student' is missing", missing);

        var absent = Error(c => c["student"] = "/nonexistent/flan-t5-base", out _);
        Assert.Contains("field 'student' names /nonexistent/flan-t5-base, which is not a folder", absent);

        Assert.Contains("field 'teacher.model' is missing", Error(c => c["teacher"]!.AsObject().Remove("model"), out _));
    }

    [Fact]
    public void The_command_refuses_miniature_options_beside_a_config()
    {
        var path = Write();
        var result = CliRunner.Run("run", "--config", path, "--profile", "quick");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--profile applies to the miniature run only", result.Stderr);
        Assert.False(Directory.Exists(Path.Combine(Path.GetDirectoryName(path)!, "run")));
    }
}
