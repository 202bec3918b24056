using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Specialist.Alignment;
using Specialist.Answers;
using Specialist.Data;
using Specialist.Models;
using Specialist.Prompts;
using Specialist.Teachers;
using Specialist.Training;

namespace Specialist.Pipeline;

/// <summary>The <c>teacher</c> section of a run config: who annotates, what and how (<c>specialist annotate</c>'s settings).</summary>
public sealed record RunTeacher
{
    /// <summary>
    /// Every optional setting at its default: the one place the teacher's defaults live (the run config reads missing keys
    /// from it, <c>specialist annotate</c> and <c>specialist eval --endpoint</c> take theirs from it). Its endpoint and
    /// model are placeholders: a run config must name both.
    /// </summary>
    public static RunTeacher Defaults { get; } = new() { Endpoint = new Uri("http://127.0.0.1/v1"), Model = "" };

    /// <summary>The OpenAI-compatible base URL including <c>/v1</c>; the key comes from <c>$OPENAI_API_KEY</c>.</summary>
    public required Uri Endpoint { get; init; }
    /// <summary>The model name the endpoint serves.</summary>
    public required string Model { get; init; }
    public TeacherApi Api { get; init; } = TeacherApi.Completions;
    /// <summary>The set whose questions are annotated; the distillation set is built from its questions and demonstrations.</summary>
    public string Set { get; init; } = DistillSetRequest.DefaultTrainSet;
    public int Samples { get; init; } = 4;
    /// <summary>The API's <c>n</c> per request; null = <see cref="Samples"/>, at most 16 (<see cref="RequestSamples"/>).</summary>
    public int? SamplesPerRequest { get; init; }
    /// <summary>The samples one request asks for: <see cref="SamplesPerRequest"/> or its default.</summary>
    public int RequestSamples => SamplesPerRequest ?? Math.Min(Samples, 16);
    /// <summary>Questions per completions request (<see cref="AnnotationJob.QuestionsPerRequest"/>).</summary>
    public int QuestionsPerRequest { get; init; } = 1;
    public double Temperature { get; init; } = 0.5;
    public double TopP { get; init; } = 1.0;
    public int MaxTokens { get; init; } = 256;
    public int TopLogprobs { get; init; } = 5;
    /// <summary>Stop sequences; null = the API's default (<see cref="AnnotationConfig.DefaultStop"/>).</summary>
    public IReadOnlyList<string>? Stop { get; init; }
    /// <summary>Seeds the requests (<see cref="AnnotationConfig.Seed"/>); null sends no seed.</summary>
    public long? Seed { get; init; }
    /// <summary>The prompt template; null = the data root's teacher prompt (<c>prompts/prompt_complex.txt</c>).</summary>
    public string? PromptFile { get; init; }
    /// <summary>Annotate only the first this many questions (after the dev questions are left out); null = all.</summary>
    public int? Limit { get; init; }
    public int Concurrency { get; init; } = 8;
    /// <summary>The longest one attempt may take, in seconds.</summary>
    public double Timeout { get; init; } = 120;
    public int MaxRetries { get; init; } = 5;
    /// <summary>Dollars per million prompt and completion tokens, to record a cost per request; null records none.</summary>
    public TeacherPrice? Price { get; init; }

    /// <summary>The sampling settings the store records, for a prompt template with hash <paramref name="promptHash"/>.</summary>
    public AnnotationConfig Sampling(string promptHash) =>
        new(Model, Api, promptHash, Temperature, TopP, MaxTokens, TopLogprobs, Stop ?? Teachers.AnnotationConfig.DefaultStop(Api), Seed);
}

/// <summary>The <c>distill</c> section: how the distillation set is built from the store (<c>specialist distill-set build</c>).</summary>
public sealed record RunDistill
{
    /// <summary>Every setting at its default: the one place the distillation set's defaults live.</summary>
    public static RunDistill Defaults { get; } = new();

    public IReadOnlyList<TrainingFormat> Formats { get; init; } = DistillFormats.All;
    public AlignmentOptions Alignment { get; init; } = new();
    /// <summary>Micro-batch size per format (the paper's 250M sizes unless set).</summary>
    public IReadOnlyDictionary<TrainingFormat, int> BatchSizes { get; init; } = DistillFormats.PaperBatchSizes;
    /// <summary>Questions left out of training and of the annotation, as questions and demonstrations; null = none.</summary>
    public string? DevSet { get; init; } = DistillSetRequest.DefaultDevSet;
}

/// <summary>The <c>eval</c> section: what the student is evaluated on before and after (<c>specialist eval</c>'s settings).</summary>
public sealed record RunEvaluation
{
    /// <summary>Every setting at its default: the one place the evaluation's defaults live (the run config and <c>specialist eval</c> read theirs from it).</summary>
    public static RunEvaluation Defaults { get; } = new();

    public IReadOnlyList<string> Sets { get; init; } = ["gsm8k-test", "multiarith-test", "asdiv-test", "svamp-test", "bbh"];
    /// <summary><c>4shot</c>, <c>zeroshot</c> or <c>teacher</c>.</summary>
    public string Prompt { get; init; } = "4shot";
    [JsonConverter(typeof(JsonStringEnumConverter<BbhMode>))]
    public BbhMode BbhMode { get; init; } = BbhMode.Cot;
    /// <summary>The first this many problems of each set (and of each BBH task); null = all.</summary>
    public int? Limit { get; init; }
    public int BatchSize { get; init; } = 16;
    public int MaxNewTokens { get; init; } = 256;
    /// <summary><c>fp32</c>, <c>bf16</c> or <c>fp16</c>.</summary>
    public string Dtype { get; init; } = "fp32";
}

/// <summary>The JSON contracts of the run config's sections, generated at build time (snake_case keys in declaration order, nulls written).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(RunEvaluation))]
internal sealed partial class RunConfigJson : JsonSerializerContext;

/// <summary>
/// The file of <c>specialist run --config FILE</c> (docs/run-config.md): one JSON object that chains annotate, align,
/// train, eval and report on a real student, teacher endpoint and data root. Paths are resolved against the working
/// directory when the file is read.
/// </summary>
public sealed record RunConfig
{
    /// <summary>The run folder; every stage writes under it.</summary>
    public required string Out { get; init; }
    /// <summary>The data root (sets, prompts).</summary>
    public required string DataRoot { get; init; }
    /// <summary>The student's Hugging Face model folder, evaluated as "before" and trained from.</summary>
    public required string Student { get; init; }
    /// <summary>Seeds the demonstration draws and the training run.</summary>
    public long Seed { get; init; }
    public required RunTeacher Teacher { get; init; }
    public RunDistill Distill { get; init; } = new();
    /// <summary>The training settings; <see cref="ConfiguredRun"/> fills in the distillation set and the run folder.</summary>
    public required TrainingConfig Train { get; init; }
    public RunEvaluation Eval { get; init; } = new();

    private const string TopLevel = "top level";

    /// <summary>Training keys the run sets itself: from the top level, or from the stages before training.</summary>
    private static readonly string[] RunOwnedTrainingKeys = ["student", "data", "out", "data_root", "seed"];

    /// <summary>The top-level keys and each section's keys.</summary>
    public static IReadOnlyDictionary<string, IReadOnlyList<string>> Keys { get; } = new Dictionary<string, IReadOnlyList<string>>
    {
        [TopLevel] = ["out", "data_root", "student", "seed", "teacher", "distill", "train", "eval"],
        ["teacher"] = ["endpoint", "model", "api", "set", "samples", "samples_per_request", "questions_per_request", "temperature", "top_p", "max_tokens", "top_logprobs",
            "stop", "seed", "prompt_file", "limit", "concurrency", "timeout", "max_retries", "price"],
        ["distill"] = ["formats", "alignment", "renormalize", "merge", "batch_size", "dev_set"],
        ["train"] = [.. TrainingConfig.Keys.Except(RunOwnedTrainingKeys)],
        ["eval"] = ["sets", "prompt", "bbh_mode", "limit", "batch_size", "max_new_tokens", "dtype"],
    };

    /// <summary>
    /// Reads and checks a run config. An unknown key, a value of the wrong kind or out of range, a missing required
    /// key or a path that does not exist is a <see cref="DataFormatException"/> naming the file, the line and the key
    /// (<c>teacher.samples</c>).
    /// </summary>
    /// <param name="path">The file.</param>
    /// <param name="outOverride">Replaces the file's <c>out</c> (the command line's <c>--out</c>).</param>
    public static RunConfig ReadFile(string path, string? outOverride = null)
    {
        var top = JsonSection.ReadFile(path);
        top.AllowOnly(Keys[TopLevel], "a top-level setting");
        var output = outOverride ?? top.String("out") ?? throw top.Error("out", "is missing: the run folder (or give --out)");
        var dataRoot = ExistingPath(top, "data_root", Data.DataRoot.Resolve(null), directory: true);
        var student = ExistingPath(top, "student", null, directory: true);
        var seed = top.Long("seed") ?? 0;
        if (seed < 0) throw top.Error("seed", $"is {seed}, must be at least 0");
        var distill = ReadDistill(Section(top, "distill", required: false));
        return new RunConfig
        {
            Out = Path.GetFullPath(output),
            DataRoot = dataRoot,
            Student = student,
            Seed = seed,
            Teacher = ReadTeacher(Section(top, "teacher", required: true)),
            Distill = distill,
            Train = ReadTrain(Section(top, "train", required: false), student, dataRoot, seed, distill),
            Eval = ReadEval(Section(top, "eval", required: false)),
        };
    }

    private static RunTeacher ReadTeacher(JsonSection s)
    {
        var endpointText = s.String("endpoint") ?? Environment.GetEnvironmentVariable("OPENAI_BASE_URL")
            ?? throw s.Error("endpoint", "is missing (and $OPENAI_BASE_URL is not set): the teacher's base URL including /v1");
        var samples = s.Int("samples") ?? RunTeacher.Defaults.Samples;
        var teacher = new RunTeacher
        {
            Endpoint = s.Parse("endpoint", endpointText, TeacherClientOptions.ParseEndpoint),
            Model = s.String("model") ?? throw s.Error("model", "is missing: the model name the endpoint serves"),
            Api = s.Parse("api", s.String("api") ?? Teachers.AnnotationConfig.ApiName(RunTeacher.Defaults.Api), Teachers.AnnotationConfig.ParseApi),
            Set = s.String("set") ?? RunTeacher.Defaults.Set,
            Samples = samples,
            SamplesPerRequest = s.Int("samples_per_request"),
            QuestionsPerRequest = s.Int("questions_per_request") ?? RunTeacher.Defaults.QuestionsPerRequest,
            Temperature = s.Double("temperature") ?? RunTeacher.Defaults.Temperature,
            TopP = s.Double("top_p") ?? RunTeacher.Defaults.TopP,
            MaxTokens = s.Int("max_tokens") ?? RunTeacher.Defaults.MaxTokens,
            TopLogprobs = s.Int("top_logprobs") ?? RunTeacher.Defaults.TopLogprobs,
            Stop = s.Strings("stop"),
            Seed = s.Long("seed"),
            PromptFile = s.Has("prompt_file") ? ExistingPath(s, "prompt_file", null, directory: false) : null,
            Limit = s.Int("limit"),
            Concurrency = s.Int("concurrency") ?? RunTeacher.Defaults.Concurrency,
            Timeout = s.Double("timeout") ?? RunTeacher.Defaults.Timeout,
            MaxRetries = s.Int("max_retries") ?? RunTeacher.Defaults.MaxRetries,
            Price = s.Numbers("price") switch
            {
                null => null,
                [var input, var output] when input >= 0 && output >= 0 => new TeacherPrice(input, output),
                _ => throw s.Error("price", "must be [input, output]: dollars per million prompt and completion tokens, each at least 0"),
            },
        };
        s.AtLeast("samples", teacher.Samples, 1);
        s.AtLeast("samples_per_request", teacher.SamplesPerRequest, 1);
        s.AtLeast("questions_per_request", teacher.QuestionsPerRequest, 1);
        if (teacher.QuestionsPerRequest > 1 && teacher.Api != TeacherApi.Completions)
            throw s.Error("questions_per_request", $"is {teacher.QuestionsPerRequest}, but the chat API takes one prompt per request: use \"api\": \"completions\" or 1");
        s.AtLeast("limit", teacher.Limit, 1);
        s.AtLeast("concurrency", teacher.Concurrency, 1);
        s.AtLeast("max_retries", teacher.MaxRetries, 0);
        if (!(teacher.Timeout > 0)) throw s.Error("timeout", $"is {teacher.Timeout}, must be a positive number of seconds");
        try
        {
            teacher.Sampling("").Validate();
        }
        catch (SpecialistException e)
        {
            throw s.Error(null, e.Message);
        }
        return teacher;
    }

    private static RunDistill ReadDistill(JsonSection s)
    {
        var formats = s.Strings("formats") is { } names
            ? names.Count == 0 ? throw s.Error("formats", "is empty: name at least one of ic-cot, ic-ao, zs-cot, zs-ao")
                : s.Parse("formats", string.Join(",", names), DistillFormats.ParseList)
            : RunDistill.Defaults.Formats;
        var sizes = new Dictionary<TrainingFormat, int>(RunDistill.Defaults.BatchSizes);
        if (s.Child("batch_size", required: false) is { } batch)
            foreach (var name in batch.Names)
            {
                var size = batch.Int(name) ?? throw batch.Error(name, "is null, expected an integer");
                batch.AtLeast(name, size, 1);
                sizes[batch.Parse(name, name, DistillFormats.Parse)] = size;
            }
        var devSet = s.String("dev_set") ?? RunDistill.Defaults.DevSet ?? "none";
        return new RunDistill
        {
            Formats = formats,
            Alignment = new AlignmentOptions(s.Parse("alignment", s.String("alignment") ?? AlignmentOptions.ModeName(RunDistill.Defaults.Alignment.Mode), AlignmentOptions.ParseMode), s.Bool("renormalize") ?? RunDistill.Defaults.Alignment.Renormalize, s.Bool("merge") ?? RunDistill.Defaults.Alignment.Merge),
            BatchSizes = sizes,
            DevSet = devSet == "none" ? null : devSet,
        };
    }

    private static TrainingConfig ReadTrain(JsonSection s, string student, string dataRoot, long seed, RunDistill distill)
    {
        var config = TrainingConfig.Read(s, TrainingConfig.Defaults) with { Student = student, DataRoot = dataRoot, Seed = seed };
        try
        {
            (config with { Data = "distill", Out = "train" }).Validate();
        }
        catch (SpecialistException e)
        {
            throw s.Error(null, e.Message);
        }
        if (config.OodSets.Count == 0)
            throw s.Error("eval_sets", "must hold a set other than id_set: the run evaluates the best OOD checkpoint (best-ood) after training");
        var built = distill.Formats.Select(DistillFormats.Name).ToList();
        foreach (var format in config.Formats)
            if (!built.Contains(format)) throw s.Error("formats", $"names {format}, which distill.formats does not build ({string.Join(", ", built)})");
        return config;
    }

    private static RunEvaluation ReadEval(JsonSection s)
    {
        var sets = s.Strings("sets");
        if (sets is { Count: 0 }) throw s.Error("sets", "is empty: name at least one set");
        var eval = new RunEvaluation
        {
            Sets = sets ?? RunEvaluation.Defaults.Sets,
            Prompt = s.String("prompt") ?? RunEvaluation.Defaults.Prompt,
            BbhMode = s.Parse("bbh_mode", s.String("bbh_mode") ?? BbhAnswerScorer.ModeName(RunEvaluation.Defaults.BbhMode), BbhAnswerScorer.ParseMode),
            Limit = s.Int("limit"),
            BatchSize = s.Int("batch_size") ?? RunEvaluation.Defaults.BatchSize,
            MaxNewTokens = s.Int("max_new_tokens") ?? RunEvaluation.Defaults.MaxNewTokens,
            Dtype = s.String("dtype") ?? RunEvaluation.Defaults.Dtype,
        };
        s.Parse("prompt", eval.Prompt, EvaluationQueries.ParseStyle);
        s.Parse("dtype", eval.Dtype, T5Checkpoint.ParseDType);
        s.AtLeast("limit", eval.Limit, 1);
        s.AtLeast("batch_size", eval.BatchSize, 1);
        s.AtLeast("max_new_tokens", eval.MaxNewTokens, 1);
        return eval;
    }

    /// <summary>
    /// Every setting that shapes the results, resolved (defaults filled in, paths absolute): what a run folder's
    /// <c>run.json</c> records. Left out: <c>out</c>, and the teacher's endpoint, concurrency, timeout, retries and price,
    /// which change where and how fast the same work is done, not the work.
    /// </summary>
    internal JsonObject Settings()
    {
        static JsonArray Strings(IEnumerable<string> items) => new([.. items.Select(s => (JsonNode?)JsonValue.Create(s))]);
        var batch = new JsonObject();
        foreach (var format in DistillFormats.All.Where(Distill.Formats.Contains)) batch[DistillFormats.Name(format)] = Distill.BatchSizes[format];
        var train = JsonNode.Parse(Train.ToJson())!.AsObject();
        foreach (var key in RunOwnedTrainingKeys) train.Remove(key);
        var teacher = new JsonObject
        {
            ["model"] = Teacher.Model,
            ["api"] = Teachers.AnnotationConfig.ApiName(Teacher.Api),
            ["set"] = Teacher.Set,
            ["samples"] = Teacher.Samples,
            ["samples_per_request"] = Teacher.RequestSamples,
            ["temperature"] = Teacher.Temperature,
            ["top_p"] = Teacher.TopP,
            ["max_tokens"] = Teacher.MaxTokens,
            ["top_logprobs"] = Teacher.TopLogprobs,
            ["stop"] = Strings(Teacher.Sampling("").Stop),
            ["prompt_file"] = Teacher.PromptFile,
            ["limit"] = Teacher.Limit,
        };
        // Only when set: a run folder recorded before teacher seeds existed still matches its config.
        if (Teacher.Seed is { } teacherSeed) teacher["seed"] = teacherSeed;
        if (Teacher.QuestionsPerRequest != 1) teacher["questions_per_request"] = Teacher.QuestionsPerRequest;
        return new JsonObject
        {
            ["data_root"] = DataRoot,
            ["student"] = Student,
            ["seed"] = Seed,
            ["teacher"] = teacher,
            ["distill"] = new JsonObject
            {
                ["formats"] = Strings(Distill.Formats.Select(DistillFormats.Name)),
                ["alignment"] = AlignmentOptions.ModeName(Distill.Alignment.Mode),
                ["renormalize"] = Distill.Alignment.Renormalize,
                ["merge"] = Distill.Alignment.Merge,
                ["batch_size"] = batch,
                ["dev_set"] = Distill.DevSet,
            },
            ["train"] = train,
            ["eval"] = JsonSerializer.SerializeToNode(Eval, RunConfigJson.Default.RunEvaluation),
        };
    }

    /// <summary>A path (made absolute) that must exist; <paramref name="fallback"/> when absent, or an error when that is null too.</summary>
    private static string ExistingPath(JsonSection s, string key, string? fallback, bool directory)
    {
        var given = s.String(key);
        var path = Path.GetFullPath(given ?? fallback ?? throw s.Error(key, $"is missing: the {(directory ? "folder" : "file")} it names is required"));
        if (directory ? !Directory.Exists(path) : !File.Exists(path))
            throw s.Error(key, $"{(given is null ? "defaults to" : "names")} {path}, which is not a{(directory ? " folder" : " file")}");
        return path;
    }

    /// <summary>The section <paramref name="key"/> of <paramref name="parent"/>, its keys checked against <see cref="Keys"/>.</summary>
    private static JsonSection Section(JsonSection parent, string key, bool required)
    {
        var section = parent.Child(key, required);
        if (key == "train")
            foreach (var owned in RunOwnedTrainingKeys.Where(section.Has))
                throw section.Error(owned, "is set by the run (student, data_root and seed at the top level; data and out in the run folder): leave it out of train");
        if (Keys.TryGetValue(key, out var known)) section.AllowOnly(known, $"a {key} setting");
        return section;
    }
}
