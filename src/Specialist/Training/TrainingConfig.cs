using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Specialist.Alignment;

namespace Specialist.Training;

/// <summary>Which loss CoT micro-batches train with (METHOD.md §4); answer-only micro-batches always use cross-entropy.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<LossKind>))]
public enum LossKind
{
    /// <summary>Cross-entropy on the target text (the authors' default).</summary>
    [JsonStringEnumMemberName("sample")] Sample,
    /// <summary>KL(teacher ‖ student) against the sparse teacher targets.</summary>
    [JsonStringEnumMemberName("distribution")] Distribution,
}

/// <summary>
/// The JSON contract of <see cref="TrainingConfig"/>, generated at build time: config files and the run folder's
/// <c>config.json</c> are read and written through it (snake_case keys in declaration order, nulls written, indented,
/// unknown keys refused).
/// </summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never, UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow)]
[JsonSerializable(typeof(TrainingConfig))]
internal sealed partial class TrainingConfigJson : JsonSerializerContext;

/// <summary>
/// Everything a training run depends on. The command line's options and a <c>--config run.json</c> file use the same
/// keys (<see cref="Keys"/>); the run folder's <c>config.json</c> records the resolved values, and <c>--resume</c>
/// reads them back.
/// </summary>
public sealed record TrainingConfig
{
    /// <summary>Every setting at its default: the one place the training defaults live (config files, run configs and the command line start from it).</summary>
    public static TrainingConfig Defaults { get; } = new();

    /// <summary>The student model folder (Hugging Face layout with spiece.model, or a word-level tokenizer.json).</summary>
    public string Student { get; init; } = "";
    /// <summary>The distillation set folder (<c>specialist distill-set build</c>).</summary>
    public string Data { get; init; } = "";
    /// <summary>The run folder.</summary>
    public string Out { get; init; } = "";
    [JsonConverter(typeof(LossJson))]
    public LossKind Loss { get; init; } = LossKind.Sample;
    /// <summary>The formats trained on (names as in the distillation set, e.g. <c>ic-cot</c>); empty = all the set holds.</summary>
    [JsonConverter(typeof(FormatNamesJson))]
    public IReadOnlyList<string> Formats { get; init; } = [];
    public double Lr { get; init; } = 5e-4;
    /// <summary>Warm-up in optimiser steps.</summary>
    public int Warmup { get; init; } = 10;
    [JsonConverter(typeof(ScheduleJson))]
    public ScheduleKind Schedule { get; init; } = ScheduleKind.Cosine;
    [JsonConverter(typeof(HorizonJson))]
    public ScheduleHorizon LrHorizon { get; init; } = ScheduleHorizon.Steps;
    /// <summary>Passes over the data; used when <see cref="Steps"/> is null.</summary>
    public int Epochs { get; init; } = 10;
    /// <summary>Optimiser steps; overrides <see cref="Epochs"/> when set.</summary>
    public int? Steps { get; init; }
    /// <summary>Micro-batches per optimiser step.</summary>
    public int GradAccum { get; init; } = 1;
    /// <summary>
    /// Examples per micro-batch, by format name; <c>"*"</c> applies to every format not named; formats named nowhere
    /// keep the distillation set's sizes (by default the paper's 250M sizes: ic-cot 25, ic-ao 35, zs-cot 40, zs-ao 60).
    /// </summary>
    [JsonConverter(typeof(BatchSizesJson))]
    public IReadOnlyDictionary<string, int> BatchSize
    {
        get => _batchSize;
        init => _batchSize = new SortedDictionary<string, int>(value.ToDictionary(), StringComparer.Ordinal); // config.json lists formats in order
    }
    private readonly IReadOnlyDictionary<string, int> _batchSize = new SortedDictionary<string, int>(StringComparer.Ordinal);
    /// <summary>Gradient-norm clipping (L2 over all parameters); 0 turns it off (the authors' script does not clip).</summary>
    public double MaxGradNorm { get; init; } = 1.0;
    /// <summary>Decoupled weight decay (torch.optim.AdamW's default, which the authors kept).</summary>
    public double WeightDecay { get; init; } = 0.01;
    /// <summary>Evaluate every this many optimiser steps (and at the end); 0 = only at the end.</summary>
    public int EvalEvery { get; init; } = 500;
    public IReadOnlyList<string> EvalSets { get; init; } = ["gsm8k-dev", "multiarith-dev", "asdiv-dev", "svamp-dev"];
    /// <summary>The in-distribution set; the other <see cref="EvalSets"/> are out-of-distribution. When it is not evaluated, no best ID checkpoint is named.</summary>
    public string IdSet { get; init; } = "gsm8k-dev";

    /// <summary>
    /// The OOD sets, whose mean accuracy selects the best OOD checkpoint: those set here (<c>ood_sets</c>, each an
    /// evaluation set other than <see cref="IdSet"/>), or, when none is set, every evaluation set other than
    /// <see cref="IdSet"/>. Evaluation sets in neither role (a generic-ability set, say) are tracked in the metrics only.
    /// </summary>
    [JsonIgnore]
    public IReadOnlyList<string> OodSets
    {
        get => _oodSets.Count > 0 ? _oodSets : [.. EvalSets.Where(s => s != IdSet)];
        init => _oodSets = value;
    }
    private readonly IReadOnlyList<string> _oodSets = [];

    /// <summary>The OOD sets as given (<c>ood_sets</c>: empty when they follow from the evaluation sets), as <c>config.json</c> records them.</summary>
    [JsonInclude, JsonPropertyName("ood_sets"), JsonPropertyOrder(1)]
    internal IReadOnlyList<string> OodSetsGiven { get => _oodSets; init => _oodSets = value; }
    /// <summary>Evaluate only the first this many problems of each set; null = all.</summary>
    public int? EvalLimit { get; init; }
    /// <summary><c>4shot</c> or <c>zeroshot</c> (Prompts.EvaluationQueries).</summary>
    public string EvalPrompt { get; init; } = "4shot";
    public int EvalMaxNewTokens { get; init; } = 256;
    public int EvalBatchSize { get; init; } = 16;
    /// <summary>Save every this many optimiser steps; null = at every evaluation. Evaluated steps are always saved.</summary>
    public int? SaveEvery { get; init; }
    /// <summary>How many of the latest checkpoints to keep (the selected ones are kept besides).</summary>
    public int KeepLast { get; init; } = 2;
    public string DataRoot { get; init; } = "";
    public long Seed { get; init; }
    /// <summary><c>cpu</c>, <c>cuda</c> or <c>cuda:N</c> (<see cref="Models.TorchRuntime.ResolveDevice"/>).</summary>
    public string Device { get; init; } = Models.TorchRuntime.DefaultDeviceName;
    /// <summary>
    /// <c>fp32</c>, or <c>bf16</c>: mixed precision, the matrix multiplies in bf16 (<see cref="Models.StudentModel.MatmulType"/>)
    /// while weights, gradients, optimiser state, norms, softmax, the loss and checkpoints stay fp32.
    /// </summary>
    public string Dtype { get; init; } = "fp32";

    /// <summary>The dtype the student's matrix multiplies run in, as <see cref="Dtype"/> says; null: fp32, the weights'.</summary>
    internal TorchSharp.torch.ScalarType? MatmulType => Dtype == "bf16" ? TorchSharp.torch.ScalarType.BFloat16 : null;
    /// <summary>libtorch intra-op threads; fixed per run because CPU results depend on it (exact resume).</summary>
    public int Threads { get; init; }
    /// <summary>Keep at most this many prompt tokens (the last ones: the question and what follows it, after a decoder-only prompt's BOS and template head); null = all.</summary>
    public int? MaxSourceLen { get; init; }
    /// <summary>Keep at most this many decoder target tokens (the first ones); null = all.</summary>
    public int? MaxTargetLen { get; init; }
    /// <summary>
    /// Compute each micro-batch in this many pieces of examples of similar length (prompt plus target), one after the
    /// other, each padded to its own longest: the same examples and the same gradient (up to rounding) with less
    /// padding. Pays where lengths vary and the model is small, on a CPU (the miniature world uses 4); 1, the whole
    /// micro-batch at once, suits GPUs.
    /// </summary>
    public int LengthPieces { get; init; } = 1;
    /// <summary>
    /// A second distillation set (gold data, encoded for the same student) replayed during training; empty = none. Its
    /// micro-batches keep the set's own sizes and formats, always train with cross-entropy, and are logged as
    /// <c>replay:FORMAT</c>; epochs count the main set only.
    /// </summary>
    [JsonPropertyOrder(2)]
    public string Replay { get; init; } = "";
    /// <summary>The chance that a micro-batch comes from <see cref="Replay"/>, drawn per micro-batch from the seed.</summary>
    [JsonPropertyOrder(3)]
    public double ReplayShare { get; init; } = 0.1;

    /// <summary>How one key is set from its text on the command line (a file's values are read through <see cref="TrainingConfigJson"/>).</summary>
    private delegate TrainingConfig Setting(TrainingConfig config, string text);

    // Every key, in the order the docs and the recorded config.json list them, with the kind of value it takes.
    private static readonly (string Key, Setting Setting)[] Table =
    [
        ("student", Text((c, v) => c with { Student = v })),
        ("data", Text((c, v) => c with { Data = v })),
        ("out", Text((c, v) => c with { Out = v })),
        ("loss", Choice(ParseLoss, (c, v) => c with { Loss = v })),
        ("formats", Names((c, v) => c with { Formats = v }, FormatNamesJson.Normalize)),
        ("lr", Number((c, v) => c with { Lr = v })),
        ("warmup", Integer((c, v) => c with { Warmup = v })),
        ("schedule", Choice(ParseSchedule, (c, v) => c with { Schedule = v })),
        ("lr_horizon", Choice(ParseHorizon, (c, v) => c with { LrHorizon = v })),
        ("epochs", Integer((c, v) => c with { Epochs = v })),
        ("steps", OptionalInteger((c, v) => c with { Steps = v })),
        ("grad_accum", Integer((c, v) => c with { GradAccum = v })),
        ("batch_size", (c, text) => c with { BatchSize = text.Length == 0 ? new Dictionary<string, int>() : ParseBatchSizes(text) }),
        ("max_grad_norm", Number((c, v) => c with { MaxGradNorm = v })),
        ("weight_decay", Number((c, v) => c with { WeightDecay = v })),
        ("eval_every", Integer((c, v) => c with { EvalEvery = v })),
        ("eval_sets", Names((c, v) => c with { EvalSets = v })),
        ("id_set", Text((c, v) => c with { IdSet = v })),
        ("eval_limit", OptionalInteger((c, v) => c with { EvalLimit = v })),
        ("eval_prompt", Text((c, v) => c with { EvalPrompt = v })),
        ("eval_max_new_tokens", Integer((c, v) => c with { EvalMaxNewTokens = v })),
        ("eval_batch_size", Integer((c, v) => c with { EvalBatchSize = v })),
        ("save_every", OptionalInteger((c, v) => c with { SaveEvery = v })),
        ("keep_last", Integer((c, v) => c with { KeepLast = v })),
        ("data_root", Text((c, v) => c with { DataRoot = v })),
        ("seed", (c, text) => c with { Seed = long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : throw NotAnInteger(text) }),
        ("device", Text((c, v) => c with { Device = v })),
        ("dtype", Text((c, v) => c with { Dtype = v })),
        ("threads", Integer((c, v) => c with { Threads = v })),
        ("max_source_len", OptionalInteger((c, v) => c with { MaxSourceLen = v })),
        ("max_target_len", OptionalInteger((c, v) => c with { MaxTargetLen = v })),
        ("length_pieces", Integer((c, v) => c with { LengthPieces = v })),
        ("ood_sets", Names((c, v) => c with { OodSets = v })),
        ("replay", Text((c, v) => c with { Replay = v })),
        ("replay_share", Number((c, v) => c with { ReplayShare = v })),
    ];

    private static readonly Dictionary<string, Setting> Settings = Table.ToDictionary(t => t.Key, t => t.Setting, StringComparer.Ordinal);

    /// <summary>
    /// The keys of config files and (as <c>--key-name</c>) of the command line: the record's JSON contract
    /// (<see cref="TrainingConfigJson"/>), which the table of parsers above must cover key for key, in order.
    /// </summary>
    public static IReadOnlyList<string> Keys { get; } = ContractKeys();

    private static string[] ContractKeys()
    {
        string[] keys = [.. TrainingConfigJson.Default.TrainingConfig.Properties.OrderBy(p => p.Order).Select(p => p.Name)];
        if (!keys.SequenceEqual(Table.Select(t => t.Key)))
            throw new InvalidOperationException($"TrainingConfig's parsers ({string.Join(", ", Table.Select(t => t.Key))}) do not match its JSON keys ({string.Join(", ", keys)})");
        return keys;
    }

    /// <summary>
    /// Reads a config file (JSON object with the <see cref="Keys"/>); missing keys keep their defaults. An unknown key, a
    /// value of the wrong kind or out of range is an error naming the file, the line and the key; problems between keys
    /// (which the command line may still settle) are left to <see cref="Validate"/>.
    /// </summary>
    public static TrainingConfig ReadFile(string path)
    {
        var file = SettingsFile.Read(path, "a training setting");
        var config = file.Deserialize(TrainingConfigJson.Default.TrainingConfig, Defaults);
        file.Check(() => config.ValidateValues(file.Has));
        return config;
    }

    /// <summary>
    /// This config with <paramref name="key"/> set from its text form, as the command line gives it: numbers, names,
    /// comma-separated lists (<c>formats</c>, <c>eval_sets</c>, <c>ood_sets</c>), <c>batch_size</c> as <c>N</c> or <c>ic-cot=25,zs-ao=60</c>
    /// (empty: the set's sizes, as a config file records an empty object); <c>none</c> clears an optional number.
    /// </summary>
    public TrainingConfig With(string key, string value) =>
        Settings.TryGetValue(key, out var setting)
            ? setting(this, value)
            : throw new SpecialistException($"'{key}' is not a training setting (the settings are: {string.Join(", ", Keys)})");

    private static Setting Text(Func<TrainingConfig, string, TrainingConfig> set) => (c, text) => set(c, text);

    /// <summary>A string read by <paramref name="parse"/>, which refuses the names it does not know.</summary>
    private static Setting Choice<T>(Func<string, T> parse, Func<TrainingConfig, T, TrainingConfig> set) => (c, text) => set(c, parse(text));

    private static Setting Integer(Func<TrainingConfig, int, TrainingConfig> set) => (c, text) => set(c, ParseInt(text));

    /// <summary>An integer or none: <c>none</c> (or nothing) on the command line.</summary>
    private static Setting OptionalInteger(Func<TrainingConfig, int?, TrainingConfig> set) =>
        (c, text) => set(c, text is "none" or "null" or "" ? null : ParseInt(text));

    private static Setting Number(Func<TrainingConfig, double, TrainingConfig> set) =>
        (c, text) => set(c, double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v) ? v : throw new SpecialistException($"'{text}' is not a number"));

    /// <summary>A list of names, comma-separated; <paramref name="check"/> reads each.</summary>
    private static Setting Names(Func<TrainingConfig, IReadOnlyList<string>, TrainingConfig> set, Func<string, string>? check = null)
    {
        var read = check ?? (name => name);
        return (c, text) => set(c, [.. text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(read)]);
    }

    private static int ParseInt(string text) =>
        int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : throw NotAnInteger(text);

    private static SpecialistException NotAnInteger(string text) => new($"'{text}' is not an integer");

    /// <summary>
    /// Fails, naming the key (<see cref="SettingException"/>), at the first value out of range among the keys
    /// <paramref name="given"/> (all when null); problems between keys are left to <see cref="Validate"/>.
    /// </summary>
    internal void ValidateValues(Func<string, bool>? given = null)
    {
        foreach (var (key, problem) in Problems())
            if (key is not null && (given is null || given(key))) throw new SettingException(key, problem);
    }

    /// <summary>Fails with every problem at once when the config cannot run.</summary>
    public void Validate()
    {
        var problems = Problems();
        if (problems.Count > 0) throw new SpecialistException("training config: " + string.Join("; ", problems.Select(p => p.Key is null ? p.Problem : $"{p.Key} {p.Problem}")));
    }

    /// <summary>What keeps the config from running: the key whose value is out of range and what is wrong with it, or (no key) a problem between keys.</summary>
    private List<(string? Key, string Problem)> Problems()
    {
        var problems = new List<(string?, string)>();
        void Require(bool ok, string? key, string problem) { if (!ok) problems.Add((key, problem)); }
        Require(Student.Length > 0, "student", "is not set (--student DIR)");
        Require(Data.Length > 0, "data", "is not set (--data SET)");
        Require(Out.Length > 0, "out", "is not set (--out RUN)");
        Require(Lr > 0, "lr", $"is {Lr}, must be positive");
        Require(Warmup >= 0, "warmup", $"is {Warmup}, must be at least 0");
        Require(Epochs >= 1, "epochs", $"is {Epochs}, must be at least 1");
        Require(Steps is null or >= 1, "steps", $"is {Steps}, must be at least 1");
        Require(GradAccum >= 1, "grad_accum", $"is {GradAccum}, must be at least 1");
        Require(BatchSize.Values.All(v => v >= 1), "batch_size", "must give every format a size of at least 1");
        Require(MaxGradNorm >= 0, "max_grad_norm", $"is {MaxGradNorm}, must be at least 0 (0 = no clipping)");
        Require(WeightDecay >= 0, "weight_decay", $"is {WeightDecay}, must be at least 0");
        Require(EvalEvery >= 0, "eval_every", $"is {EvalEvery}, must be at least 0 (0 = only at the end)");
        Require(EvalSets.Distinct().Count() == EvalSets.Count, "eval_sets", "names a set twice");
        Require(_oodSets.Distinct().Count() == _oodSets.Count, "ood_sets", "names a set twice");
        foreach (var set in _oodSets)
        {
            Require(EvalSets.Contains(set), null, $"ood_sets names {set}, which eval_sets does not");
            Require(set != IdSet, null, $"ood_sets names {set}, the id_set");
        }
        Require(EvalLimit is null or >= 1, "eval_limit", $"is {EvalLimit}, must be at least 1");
        Require(EvalPrompt is "4shot" or "zeroshot", "eval_prompt", $"is '{EvalPrompt}', must be 4shot or zeroshot");
        Require(EvalMaxNewTokens >= 1, "eval_max_new_tokens", $"is {EvalMaxNewTokens}, must be at least 1");
        Require(EvalBatchSize >= 1, "eval_batch_size", $"is {EvalBatchSize}, must be at least 1");
        Require(SaveEvery is null or >= 1, "save_every", $"is {SaveEvery}, must be at least 1");
        Require(KeepLast >= 1, "keep_last", $"is {KeepLast}, must be at least 1 (resuming needs the latest checkpoint)");
        Require(Models.TorchRuntime.IsDeviceName(Device), "device", $"is '{Device}', must be cpu, cuda or cuda:N");
        Require(Dtype is "fp32" or "bf16", "dtype", $"is '{Dtype}', must be fp32 or bf16");
        Require(Threads >= 0, "threads", $"is {Threads}, must be at least 0 (0 = libtorch's default)");
        Require(MaxSourceLen is null or >= 2, "max_source_len", $"is {MaxSourceLen}, must be at least 2");
        Require(MaxTargetLen is null or >= 1, "max_target_len", $"is {MaxTargetLen}, must be at least 1");
        Require(LengthPieces >= 1, "length_pieces", $"is {LengthPieces}, must be at least 1 (1 = the whole micro-batch at once)");
        Require(ReplayShare is >= 0 and < 1, "replay_share", $"is {ReplayShare}, must be at least 0 and below 1");
        Require(Replay.Length == 0 || ReplayShare > 0, null, "replay_share is 0, must be above 0 when a replay set is given");
        return problems;
    }

    /// <summary>The resolved config as the run folder records it (every key, snake_case; <see cref="TrainingConfigJson"/>).</summary>
    public string ToJson() => JsonSerializer.Serialize(this, TrainingConfigJson.Default.TrainingConfig) + "\n";

    internal static LossKind ParseLoss(string name) => name switch
    {
        "sample" => LossKind.Sample,
        "distribution" => LossKind.Distribution,
        _ => throw new SpecialistException($"unknown loss '{name}' (use sample or distribution)"),
    };

    internal static ScheduleKind ParseSchedule(string name) => name switch
    {
        "cosine" => ScheduleKind.Cosine,
        "constant" => ScheduleKind.Constant,
        "linear" => ScheduleKind.Linear,
        _ => throw new SpecialistException($"unknown schedule '{name}' (use cosine, constant or linear)"),
    };

    internal static ScheduleHorizon ParseHorizon(string name) => name switch
    {
        "steps" => ScheduleHorizon.Steps,
        "micro-steps" => ScheduleHorizon.MicroSteps,
        _ => throw new SpecialistException($"unknown lr horizon '{name}' (use steps, or micro-steps to reproduce the authors' schedule)"),
    };

    /// <summary><c>N</c> (every format) or <c>format=N,...</c>, as the command line gives batch_size.</summary>
    internal static IReadOnlyDictionary<string, int> ParseBatchSizes(string text)
    {
        var sizes = new List<(string, int)>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var eq = part.IndexOf('=');
            var number = eq < 0 ? part : part[(eq + 1)..].Trim();
            if (!int.TryParse(number, NumberStyles.Integer, CultureInfo.InvariantCulture, out var size))
                throw new SpecialistException($"batch size '{part}' is not N or format=N");
            sizes.Add((eq < 0 ? "*" : part[..eq].Trim(), size));
        }
        if (sizes.Count == 0) throw new SpecialistException($"batch size '{text}' names no size");
        return BatchSizes(sizes, (_, problem) => new SpecialistException(problem));
    }

    /// <summary>
    /// Sizes by format name (<c>*</c>: every format not named), each format once, known (a misspelt name would otherwise
    /// be ignored and its format keep the set's size) and sized at least 1; <paramref name="error"/> blames a format.
    /// </summary>
    internal static IReadOnlyDictionary<string, int> BatchSizes(IReadOnlyList<(string Format, int Size)> sizes, Func<string, string, Exception> error)
    {
        var table = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (format, size) in sizes)
        {
            if (format != "*" && !DistillFormats.All.Select(DistillFormats.Name).Contains(format))
                throw error(format, $"unknown format '{format}' (use {string.Join(", ", DistillFormats.All.Select(DistillFormats.Name))}, or * for every format)");
            if (size < 1) throw error(format, $"size {size} for '{format}' must be at least 1");
            if (!table.TryAdd(format, size)) throw error(format, $"size for '{format}' is given twice");
        }
        return table;
    }
}

internal sealed class LossJson() : NameConverter<LossKind>(TrainingConfig.ParseLoss, loss => loss == LossKind.Sample ? "sample" : "distribution");

internal sealed class ScheduleJson() : NameConverter<ScheduleKind>(TrainingConfig.ParseSchedule, schedule => schedule.ToString().ToLowerInvariant());

internal sealed class HorizonJson() : NameConverter<ScheduleHorizon>(TrainingConfig.ParseHorizon, horizon => horizon == ScheduleHorizon.Steps ? "steps" : "micro-steps");

/// <summary>Format names, each read by <see cref="DistillFormats.Parse"/> (a misspelt one is refused, not ignored).</summary>
internal sealed class FormatNamesJson : JsonConverter<IReadOnlyList<string>>
{
    public static string Normalize(string name) => DistillFormats.Name(DistillFormats.Parse(name));

    public override IReadOnlyList<string> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        [.. SettingsJson.ReadStrings(ref reader).Select(name => SettingsJson.Parse(name, Normalize))];

    public override void Write(Utf8JsonWriter writer, IReadOnlyList<string> value, JsonSerializerOptions options) => SettingsJson.WriteStrings(writer, value);
}

/// <summary>batch_size: one integer for every format, or an object <c>{format: N}</c> (<c>*</c>: every format not named; empty: the set's sizes).</summary>
internal sealed class BatchSizesJson : JsonConverter<IReadOnlyDictionary<string, int>>
{
    public override IReadOnlyDictionary<string, int> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var size))
            return TrainingConfig.BatchSizes([("*", size)], (_, problem) => new SettingValueException(problem));
        if (reader.TokenType == JsonTokenType.StartObject)
            return TrainingConfig.BatchSizes([.. SettingsJson.ReadIntegers(ref reader, name => name).Select(e => (e.Name, e.Value))],
                (format, problem) => new SettingValueException(problem, format));
        var number = reader.TokenType == JsonTokenType.Number;
        var text = JsonInput.Show(JsonDocument.ParseValue(ref reader).RootElement.GetRawText());
        throw new SettingValueException(number ? $"is {text}, expected an integer" : $"is {text}, expected an integer or an object {{\"format\": N}}");
    }

    public override void Write(Utf8JsonWriter writer, IReadOnlyDictionary<string, int> value, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        foreach (var (format, size) in value) writer.WriteNumber(format, size);
        writer.WriteEndObject();
    }
}
