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
    [JsonConverter(typeof(EndpointJson))]
    public required Uri Endpoint { get; init; }
    /// <summary>The model name the endpoint serves.</summary>
    public required string Model { get; init; }
    [JsonConverter(typeof(TeacherApiJson))]
    public TeacherApi Api { get; init; } = TeacherApi.Completions;
    /// <summary>The set whose questions are annotated; the distillation set is built from its questions and demonstrations.</summary>
    public string Set { get; init; } = DistillSetRequest.DefaultTrainSet;
    public int Samples { get; init; } = 4;
    /// <summary>The API's <c>n</c>; null = <see cref="Samples"/>, at most 16 (<see cref="RequestSamples"/>).</summary>
    public int? SamplesPerRequest { get; init; }
    /// <summary>The samples one request asks for: <see cref="SamplesPerRequest"/> or its default.</summary>
    [JsonIgnore]
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
    [JsonConverter(typeof(TeacherPriceJson))]
    public TeacherPrice? Price { get; init; }

    /// <summary>The sampling settings the store records, for a prompt template with hash <paramref name="promptHash"/>.</summary>
    public AnnotationConfig Sampling(string promptHash) =>
        new(Model, Api, promptHash, Temperature, TopP, MaxTokens, TopLogprobs, Stop ?? Teachers.AnnotationConfig.DefaultStop(Api), Seed);

    /// <summary>Fails, naming the key (<c>samples is 0, must be at least 1</c>), when a setting is out of range.</summary>
    public void Validate()
    {
        SettingException.AtLeast("samples", Samples, 1);
        SettingException.AtLeast("samples_per_request", SamplesPerRequest, 1);
        SettingException.AtLeast("questions_per_request", QuestionsPerRequest, 1);
        SettingException.AtLeast("max_tokens", MaxTokens, 1);
        if (QuestionsPerRequest > 1 && Api != TeacherApi.Completions)
            throw new SettingException("questions_per_request", $"is {QuestionsPerRequest}, but the chat API takes one prompt per request: use \"api\": \"completions\" or 1");
        SettingException.AtLeast("limit", Limit, 1);
        SettingException.AtLeast("concurrency", Concurrency, 1);
        SettingException.AtLeast("max_retries", MaxRetries, 0);
        if (!(Timeout > 0)) throw new SettingException("timeout", string.Create(CultureInfo.InvariantCulture, $"is {Timeout}, must be a positive number of seconds"));
        if (Price is { InputPerMillion: < 0 } or { OutputPerMillion: < 0 }) throw new SettingException("price", TeacherPriceJson.Expected);
        try
        {
            Sampling("").Validate();
        }
        catch (SpecialistException e) when (e is not SettingException)
        {
            throw new SettingException(null, e.Message);
        }
    }
}

/// <summary>The <c>distill</c> section: how the distillation set is built from the store (<c>specialist distill-set build</c>).</summary>
public sealed record RunDistill
{
    /// <summary>Every setting at its default: the one place the distillation set's defaults live.</summary>
    public static RunDistill Defaults { get; } = new();

    [JsonConverter(typeof(FormatListJson))]
    public IReadOnlyList<TrainingFormat> Formats { get; init; } = DistillFormats.All;
    [JsonIgnore]
    public AlignmentOptions Alignment { get; init; } = new();

    // The file spells Alignment out as three keys.
    [JsonInclude, JsonPropertyName("alignment"), JsonConverter(typeof(AlignmentModeJson))]
    internal AlignmentMode AlignmentMode { get => Alignment.Mode; init => Alignment = Alignment with { Mode = value }; }
    [JsonInclude, JsonPropertyName("renormalize")]
    internal bool Renormalize { get => Alignment.Renormalize; init => Alignment = Alignment with { Renormalize = value }; }
    [JsonInclude, JsonPropertyName("merge")]
    internal bool Merge { get => Alignment.Merge; init => Alignment = Alignment with { Merge = value }; }

    /// <summary>Micro-batch size per format (the paper's 250M sizes unless set); a file's sizes replace those of the formats it names.</summary>
    [JsonPropertyName("batch_size"), JsonConverter(typeof(FormatBatchSizesJson))]
    public IReadOnlyDictionary<TrainingFormat, int> BatchSizes { get; init; } = DistillFormats.PaperBatchSizes;
    /// <summary>Questions left out of training and of the annotation, as questions and demonstrations; null = none (<c>"none"</c> in a file).</summary>
    [JsonConverter(typeof(DevSetJson))]
    public string? DevSet { get; init; } = DistillSetRequest.DefaultDevSet;

    /// <summary>Fails, naming the key, when a setting is out of range.</summary>
    public void Validate()
    {
        if (Formats.Count == 0) throw new SettingException("formats", $"is empty: name at least one of {string.Join(", ", DistillFormats.All.Select(DistillFormats.Name))}");
        foreach (var (format, size) in BatchSizes) SettingException.AtLeast($"batch_size.{DistillFormats.Name(format)}", size, 1);
    }
}

/// <summary>The <c>eval</c> section: what the student is evaluated on before and after (<c>specialist eval</c>'s settings).</summary>
public sealed record RunEvaluation
{
    /// <summary>Every setting at its default: the one place the evaluation's defaults live (the run config and <c>specialist eval</c> read theirs from it).</summary>
    public static RunEvaluation Defaults { get; } = new();

    public IReadOnlyList<string> Sets { get; init; } = ["gsm8k-test", "multiarith-test", "asdiv-test", "svamp-test", "bbh"];
    /// <summary><c>4shot</c>, <c>zeroshot</c> or <c>teacher</c>.</summary>
    public string Prompt { get; init; } = "4shot";
    [JsonConverter(typeof(BbhModeJson))]
    public BbhMode BbhMode { get; init; } = BbhMode.Cot;
    /// <summary>The first this many problems of each set (and of each BBH task); null = all.</summary>
    public int? Limit { get; init; }
    public int BatchSize { get; init; } = 16;
    public int MaxNewTokens { get; init; } = 256;
    /// <summary><c>fp32</c>, <c>bf16</c> or <c>fp16</c>.</summary>
    public string Dtype { get; init; } = "fp32";

    /// <summary>Fails, naming the key, when a setting is out of range or an unknown name.</summary>
    public void Validate()
    {
        if (Sets.Count == 0) throw new SettingException("sets", "is empty: name at least one set");
        Named("prompt", Prompt, EvaluationQueries.ParseStyle);
        Named("dtype", Dtype, T5Checkpoint.ParseDType);
        SettingException.AtLeast("limit", Limit, 1);
        SettingException.AtLeast("batch_size", BatchSize, 1);
        SettingException.AtLeast("max_new_tokens", MaxNewTokens, 1);
    }

    private static void Named<T>(string key, string name, Func<string, T> parse)
    {
        try
        {
            parse(name);
        }
        catch (SpecialistException e)
        {
            throw new SettingException(key, e.Message);
        }
    }
}

/// <summary>
/// The JSON contracts of the run config and its sections, generated at build time: snake_case keys in declaration
/// order, nulls written, unknown keys refused (<see cref="SettingsFile"/> names them first).
/// </summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow)]
[JsonSerializable(typeof(RunConfig))]
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
    /// <summary>Seeds the demonstration draws and the training run; 0 when a file leaves it out (default(long): the top level has no Defaults record).</summary>
    public long Seed { get; init; }
    public required RunTeacher Teacher { get; init; }
    public RunDistill Distill { get; init; } = RunDistill.Defaults;
    /// <summary>The training settings; <see cref="ConfiguredRun"/> fills in the distillation set and the run folder.</summary>
    public TrainingConfig Train { get; init; } = TrainingConfig.Defaults;
    public RunEvaluation Eval { get; init; } = RunEvaluation.Defaults;

    /// <summary>Training keys the run sets itself: from the top level, or from the stages before training.</summary>
    private static readonly string[] RunOwnedTrainingKeys = ["student", "data", "out", "data_root", "seed"];

    /// <summary>
    /// Reads and checks a run config. An unknown key, a value of the wrong kind or out of range, a missing required
    /// key or a path that does not exist is a <see cref="DataFormatException"/> naming the file, the line and the key
    /// (<c>teacher.samples</c>).
    /// </summary>
    /// <param name="path">The file.</param>
    /// <param name="outOverride">Replaces the file's <c>out</c> (the command line's <c>--out</c>).</param>
    public static RunConfig ReadFile(string path, string? outOverride = null)
    {
        var file = SettingsFile.Read(path, "a top-level setting");
        var root = file.Root;
        // The command line and the environment stand in for keys the file leaves out.
        if (outOverride is not null) root["out"] = outOverride;
        if (root["out"] is null) throw file.Error("out", "is missing: the run folder (or give --out)");
        var dataRootGiven = root["data_root"] is not null;
        if (!dataRootGiven) root["data_root"] = Data.DataRoot.Resolve(null);
        if (root["teacher"] is JsonObject teacher && teacher["endpoint"] is null)
            teacher["endpoint"] = Environment.GetEnvironmentVariable("OPENAI_BASE_URL")
                ?? throw file.Error("teacher.endpoint", "is missing (and $OPENAI_BASE_URL is not set): the teacher's base URL including /v1");
        if (root["train"] is JsonObject train)
            foreach (var owned in RunOwnedTrainingKeys.Where(key => train[key] is not null))
                throw file.Error($"train.{owned}", "is set by the run (student, data_root and seed at the top level; data and out in the run folder): leave it out of train");

        var read = file.Deserialize(RunConfigJson.Default.RunConfig, RunTeacher.Defaults, RunDistill.Defaults, TrainingConfig.Defaults, RunEvaluation.Defaults);
        var dataRoot = ExistingPath(file, "data_root", read.DataRoot, dataRootGiven, directory: true);
        var student = ExistingPath(file, "student", read.Student, given: true, directory: true);
        var config = read with
        {
            Out = Path.GetFullPath(read.Out),
            DataRoot = dataRoot,
            Student = student,
            Teacher = read.Teacher.PromptFile is { } prompt
                ? read.Teacher with { PromptFile = ExistingPath(file, "teacher.prompt_file", prompt, given: true, directory: false) }
                : read.Teacher,
            Train = read.Train with { Student = student, DataRoot = dataRoot, Seed = read.Seed },
        };
        file.Check(config.Validate);
        return config;
    }

    /// <summary>
    /// Fails, naming the section and the key (<c>teacher.max_tokens is 0, must be at least 1</c>), when a setting is out
    /// of range or the sections disagree.
    /// </summary>
    public void Validate()
    {
        SettingException.AtLeast("seed", Seed, 0);
        SettingException.Within("teacher", Teacher.Validate);
        SettingException.Within("distill", Distill.Validate);
        SettingException.Within("train", () =>
        {
            var train = Train with { Data = "distill", Out = "train" };
            train.ValidateValues();
            try
            {
                train.Validate();
            }
            catch (SpecialistException e)
            {
                throw new SettingException(null, e.Message);
            }
            if (Train.OodSets.Count == 0)
                throw new SettingException("eval_sets", "must hold a set other than id_set: the run evaluates the best OOD checkpoint (best-ood) after training");
            var built = Distill.Formats.Select(DistillFormats.Name).ToList();
            foreach (var format in Train.Formats.Where(f => !built.Contains(f)))
                throw new SettingException("formats", $"names {format}, which distill.formats does not build ({string.Join(", ", built)})");
        });
        SettingException.Within("eval", Eval.Validate);
    }

    /// <summary>The resolved config as <see cref="ReadFile"/> reads it back (through <see cref="RunConfigJson"/>; train without the keys the run sets).</summary>
    internal JsonObject ToJson()
    {
        var json = JsonSerializer.SerializeToNode(this, RunConfigJson.Default.RunConfig)!.AsObject();
        foreach (var key in RunOwnedTrainingKeys) json["train"]!.AsObject().Remove(key);
        return json;
    }

    /// <summary>
    /// Every setting that shapes the results, resolved (defaults filled in, paths absolute): what a run folder's
    /// <c>run.json</c> records. Left out: <c>out</c>, and the teacher's endpoint, concurrency, timeout, retries and price,
    /// which change where and how fast the same work is done, not the work.
    /// </summary>
    internal JsonObject Settings()
    {
        var settings = ToJson();
        settings.Remove("out");
        var teacher = settings["teacher"]!.AsObject();
        foreach (var key in new[] { "endpoint", "concurrency", "timeout", "max_retries", "price" }) teacher.Remove(key);
        teacher["samples_per_request"] = Teacher.RequestSamples;
        teacher["stop"] = new JsonArray([.. Teacher.Sampling("").Stop.Select(s => (JsonNode?)JsonValue.Create(s))]);
        // Only when set: a run folder recorded before teacher seeds (or several questions per request) existed still matches its config.
        if (Teacher.Seed is null) teacher.Remove("seed");
        if (Teacher.QuestionsPerRequest == 1) teacher.Remove("questions_per_request");
        var distill = settings["distill"]!.AsObject();
        // The sizes of the formats built, as recorded before the section was read through its contract.
        var batch = new JsonObject();
        foreach (var format in DistillFormats.All.Where(Distill.Formats.Contains)) batch[DistillFormats.Name(format)] = Distill.BatchSizes[format];
        distill["batch_size"] = batch;
        distill["dev_set"] = Distill.DevSet;
        return settings;
    }

    /// <summary><paramref name="path"/> made absolute; it must exist. <paramref name="given"/>: the file names it (else it is the default).</summary>
    private static string ExistingPath(SettingsFile file, string field, string path, bool given, bool directory)
    {
        var full = Path.GetFullPath(path);
        if (directory ? !Directory.Exists(full) : !File.Exists(full))
            throw file.Error(field, $"{(given ? "names" : "defaults to")} {full}, which is not a{(directory ? " folder" : " file")}");
        return full;
    }
}

/// <summary>The teacher's base URL, read by <see cref="TeacherClientOptions.ParseEndpoint"/>.</summary>
internal sealed class EndpointJson() : NameConverter<Uri>(TeacherClientOptions.ParseEndpoint, uri => uri.OriginalString);

internal sealed class TeacherApiJson() : NameConverter<TeacherApi>(Teachers.AnnotationConfig.ParseApi, Teachers.AnnotationConfig.ApiName);

internal sealed class AlignmentModeJson() : NameConverter<AlignmentMode>(AlignmentOptions.ParseMode, AlignmentOptions.ModeName);

internal sealed class BbhModeJson() : NameConverter<BbhMode>(BbhAnswerScorer.ParseMode, BbhAnswerScorer.ModeName);

/// <summary>The dev set: a set name, or <c>"none"</c> for none (a JSON null is the key left out: the default set).</summary>
internal sealed class DevSetJson() : NameConverter<string?>(name => name == "none" ? null : name, name => name ?? "none")
{
    public override bool HandleNull => true;
}

/// <summary>Distillation formats by name, in <see cref="DistillFormats.All"/>'s order, each once (<see cref="DistillFormats.ParseList"/>).</summary>
internal sealed class FormatListJson : JsonConverter<IReadOnlyList<TrainingFormat>>
{
    public override IReadOnlyList<TrainingFormat> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        SettingsJson.ReadStrings(ref reader) is { Count: > 0 } names ? SettingsJson.Parse(string.Join(",", names), DistillFormats.ParseList) : [];

    public override void Write(Utf8JsonWriter writer, IReadOnlyList<TrainingFormat> value, JsonSerializerOptions options) =>
        SettingsJson.WriteStrings(writer, value.Select(DistillFormats.Name));
}

/// <summary>Micro-batch sizes <c>{format: N}</c>: the formats named take their size, the others keep <see cref="RunDistill.Defaults"/>' sizes.</summary>
internal sealed class FormatBatchSizesJson : JsonConverter<IReadOnlyDictionary<TrainingFormat, int>>
{
    public override IReadOnlyDictionary<TrainingFormat, int> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var sizes = new Dictionary<TrainingFormat, int>(RunDistill.Defaults.BatchSizes);
        foreach (var (_, format, size) in SettingsJson.ReadIntegers(ref reader, DistillFormats.Parse)) sizes[format] = size;
        return sizes;
    }

    public override void Write(Utf8JsonWriter writer, IReadOnlyDictionary<TrainingFormat, int> value, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        foreach (var format in DistillFormats.All.Where(value.ContainsKey)) writer.WriteNumber(DistillFormats.Name(format), value[format]);
        writer.WriteEndObject();
    }
}

/// <summary>A price as <c>[input, output]</c> dollars per million prompt and completion tokens.</summary>
internal sealed class TeacherPriceJson : JsonConverter<TeacherPrice>
{
    public const string Expected = "must be [input, output]: dollars per million prompt and completion tokens, each at least 0";

    public override TeacherPrice Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var numbers = new List<double>();
        if (reader.TokenType == JsonTokenType.StartArray)
            while (reader.Read() && reader.TokenType == JsonTokenType.Number && reader.TryGetDouble(out var number) && double.IsFinite(number)) numbers.Add(number);
        return reader.TokenType == JsonTokenType.EndArray && numbers is [var input, var output] ? new TeacherPrice(input, output) : throw new SettingValueException(Expected);
    }

    public override void Write(Utf8JsonWriter writer, TeacherPrice value, JsonSerializerOptions options)
    {
        writer.WriteStartArray();
        writer.WriteNumberValue(value.InputPerMillion);
        writer.WriteNumberValue(value.OutputPerMillion);
        writer.WriteEndArray();
    }
}
