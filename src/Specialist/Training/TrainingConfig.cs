using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Specialist.Training;

/// <summary>Which loss CoT micro-batches train with (METHOD.md §4); answer-only micro-batches always use cross-entropy.</summary>
public enum LossKind
{
    /// <summary>Cross-entropy on the target text (the authors' default).</summary>
    Sample,
    /// <summary>KL(teacher ‖ student) against the sparse teacher targets.</summary>
    Distribution,
}

/// <summary>
/// Everything a training run depends on. The command line's options and a <c>--config run.json</c> file use the same
/// keys (<see cref="Keys"/>); the run folder's <c>config.json</c> records the resolved values, and <c>--resume</c>
/// reads them back.
/// </summary>
public sealed record TrainingConfig
{
    /// <summary>The student model folder (Hugging Face layout with spiece.model, or a word-level tokenizer.json).</summary>
    public string Student { get; init; } = "";
    /// <summary>The distillation set folder (<c>specialist distill-set build</c>).</summary>
    public string Data { get; init; } = "";
    /// <summary>The run folder.</summary>
    public string Out { get; init; } = "";
    public LossKind Loss { get; init; } = LossKind.Sample;
    /// <summary>The formats trained on (names as in the distillation set, e.g. <c>ic-cot</c>); empty = all the set holds.</summary>
    public IReadOnlyList<string> Formats { get; init; } = [];
    public double Lr { get; init; } = 5e-4;
    /// <summary>Warm-up in optimiser steps.</summary>
    public int Warmup { get; init; } = 10;
    public ScheduleKind Schedule { get; init; } = ScheduleKind.Cosine;
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
    public IReadOnlyDictionary<string, int> BatchSize { get; init; } = new Dictionary<string, int>();
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
    public IReadOnlyList<string> OodSets
    {
        get => _oodSets.Count > 0 ? _oodSets : [.. EvalSets.Where(s => s != IdSet)];
        init => _oodSets = value;
    }
    private readonly IReadOnlyList<string> _oodSets = [];
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
    /// <summary><c>fp32</c> or <c>bf16</c> weights (no mixed precision, as the paper).</summary>
    public string Dtype { get; init; } = "fp32";
    /// <summary>libtorch intra-op threads; fixed per run because CPU results depend on it (exact resume).</summary>
    public int Threads { get; init; }
    /// <summary>Keep at most this many encoder tokens (the last ones: the question and the end of sequence); null = all.</summary>
    public int? MaxSourceLen { get; init; }
    /// <summary>Keep at most this many decoder target tokens (the first ones); null = all.</summary>
    public int? MaxTargetLen { get; init; }
    /// <summary>
    /// A second distillation set (gold data, encoded for the same student) replayed during training; empty = none. Its
    /// micro-batches keep the set's own sizes and formats, always train with cross-entropy, and are logged as
    /// <c>replay:FORMAT</c>; epochs count the main set only.
    /// </summary>
    public string Replay { get; init; } = "";
    /// <summary>The chance that a micro-batch comes from <see cref="Replay"/>, drawn per micro-batch from the seed.</summary>
    public double ReplayShare { get; init; } = 0.1;

    /// <summary>The keys of config files and (as <c>--key-name</c>) of the command line.</summary>
    public static IReadOnlyList<string> Keys { get; } =
    [
        "student", "data", "out", "loss", "formats", "lr", "warmup", "schedule", "lr_horizon", "epochs", "steps", "grad_accum",
        "batch_size", "max_grad_norm", "weight_decay", "eval_every", "eval_sets", "id_set", "eval_limit", "eval_prompt",
        "eval_max_new_tokens", "eval_batch_size", "save_every", "keep_last", "data_root", "seed", "device", "dtype", "threads",
        "max_source_len", "max_target_len", "ood_sets", "replay", "replay_share",
    ];

    /// <summary>
    /// Reads a config file (JSON object with the <see cref="Keys"/>); missing keys keep <paramref name="start"/>'s
    /// values. An unknown key or a value of the wrong kind is an error naming the file and the key.
    /// </summary>
    public static TrainingConfig ReadFile(string path, TrainingConfig start)
    {
        JsonObject root;
        try
        {
            root = JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new DataFormatException(path, "top level", null, "is not a JSON object");
        }
        catch (JsonException e)
        {
            throw new DataFormatException(path, $"line {e.LineNumber + 1}", null, "is not valid JSON: " + e.Message);
        }
        catch (IOException e)
        {
            throw new SpecialistException($"cannot read {path}: {e.Message}");
        }
        return Read(root, path, "top level", start);
    }

    /// <summary>
    /// <paramref name="start"/> with the settings of <paramref name="settings"/>, a JSON object with the <see cref="Keys"/>
    /// found at <paramref name="location"/> of <paramref name="path"/> (errors name both and the key).
    /// </summary>
    internal static TrainingConfig Read(JsonObject settings, string path, string location, TrainingConfig start)
    {
        var config = start;
        foreach (var (key, node) in settings)
        {
            if (!Keys.Contains(key)) throw new DataFormatException(path, location, key, $"is not a training setting (the settings are: {string.Join(", ", Keys)})");
            try
            {
                config = config.With(key, JsonText(node));
            }
            catch (SpecialistException e) when (e is not DataFormatException)
            {
                throw new DataFormatException(path, location, key, e.Message);
            }
        }
        return config;
    }

    /// <summary>
    /// This config with <paramref name="key"/> set from its text form, as the command line gives it: numbers, names,
    /// comma-separated lists (<c>formats</c>, <c>eval_sets</c>, <c>ood_sets</c>), <c>batch_size</c> as <c>N</c> or <c>ic-cot=25,zs-ao=60</c>
    /// (empty: the set's sizes, as a config file records an empty object); <c>none</c> clears an optional number.
    /// </summary>
    public TrainingConfig With(string key, string value)
    {
        int Int() => int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : throw new SpecialistException($"'{value}' is not an integer");
        int? OptionalInt() => value is "none" or "null" or "" ? null : Int();
        double Double() => double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v) ? v : throw new SpecialistException($"'{value}' is not a number");
        IReadOnlyList<string> List() => [.. value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
        return key switch
        {
            "student" => this with { Student = value },
            "data" => this with { Data = value },
            "out" => this with { Out = value },
            "loss" => this with { Loss = ParseLoss(value) },
            "formats" => this with { Formats = List() },
            "lr" => this with { Lr = Double() },
            "warmup" => this with { Warmup = Int() },
            "schedule" => this with { Schedule = ParseSchedule(value) },
            "lr_horizon" => this with { LrHorizon = ParseHorizon(value) },
            "epochs" => this with { Epochs = Int() },
            "steps" => this with { Steps = OptionalInt() },
            "grad_accum" => this with { GradAccum = Int() },
            "batch_size" => this with { BatchSize = value.Length == 0 ? new Dictionary<string, int>() : ParseBatchSizes(value) },
            "max_grad_norm" => this with { MaxGradNorm = Double() },
            "weight_decay" => this with { WeightDecay = Double() },
            "eval_every" => this with { EvalEvery = Int() },
            "eval_sets" => this with { EvalSets = List() },
            "id_set" => this with { IdSet = value },
            "eval_limit" => this with { EvalLimit = OptionalInt() },
            "eval_prompt" => this with { EvalPrompt = value },
            "eval_max_new_tokens" => this with { EvalMaxNewTokens = Int() },
            "eval_batch_size" => this with { EvalBatchSize = Int() },
            "save_every" => this with { SaveEvery = OptionalInt() },
            "keep_last" => this with { KeepLast = Int() },
            "data_root" => this with { DataRoot = value },
            "seed" => this with { Seed = long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var s) ? s : throw new SpecialistException($"'{value}' is not an integer") },
            "device" => this with { Device = value },
            "dtype" => this with { Dtype = value },
            "threads" => this with { Threads = Int() },
            "max_source_len" => this with { MaxSourceLen = OptionalInt() },
            "max_target_len" => this with { MaxTargetLen = OptionalInt() },
            "ood_sets" => this with { OodSets = List() },
            "replay" => this with { Replay = value },
            "replay_share" => this with { ReplayShare = Double() },
            _ => throw new SpecialistException($"'{key}' is not a training setting (the settings are: {string.Join(", ", Keys)})"),
        };
    }

    /// <summary>Fails with every problem at once when the config cannot run.</summary>
    public void Validate()
    {
        var problems = new List<string>();
        void Require(bool ok, string problem) { if (!ok) problems.Add(problem); }
        Require(Student.Length > 0, "student is not set (--student DIR)");
        Require(Data.Length > 0, "data is not set (--data SET)");
        Require(Out.Length > 0, "out is not set (--out RUN)");
        Require(Lr > 0, $"lr is {Lr}, must be positive");
        Require(Warmup >= 0, $"warmup is {Warmup}, must be at least 0");
        Require(Epochs >= 1, $"epochs is {Epochs}, must be at least 1");
        Require(Steps is null or >= 1, $"steps is {Steps}, must be at least 1");
        Require(GradAccum >= 1, $"grad_accum is {GradAccum}, must be at least 1");
        Require(BatchSize.Values.All(v => v >= 1), "batch_size must give every format a size of at least 1");
        Require(MaxGradNorm >= 0, $"max_grad_norm is {MaxGradNorm}, must be at least 0 (0 = no clipping)");
        Require(WeightDecay >= 0, $"weight_decay is {WeightDecay}, must be at least 0");
        Require(EvalEvery >= 0, $"eval_every is {EvalEvery}, must be at least 0 (0 = only at the end)");
        Require(EvalSets.Distinct().Count() == EvalSets.Count, "eval_sets names a set twice");
        Require(_oodSets.Distinct().Count() == _oodSets.Count, "ood_sets names a set twice");
        foreach (var set in _oodSets)
        {
            Require(EvalSets.Contains(set), $"ood_sets names {set}, which eval_sets does not");
            Require(set != IdSet, $"ood_sets names {set}, the id_set");
        }
        Require(EvalLimit is null or >= 1, $"eval_limit is {EvalLimit}, must be at least 1");
        Require(EvalPrompt is "4shot" or "zeroshot", $"eval_prompt is '{EvalPrompt}', must be 4shot or zeroshot");
        Require(EvalMaxNewTokens >= 1, $"eval_max_new_tokens is {EvalMaxNewTokens}, must be at least 1");
        Require(EvalBatchSize >= 1, $"eval_batch_size is {EvalBatchSize}, must be at least 1");
        Require(SaveEvery is null or >= 1, $"save_every is {SaveEvery}, must be at least 1");
        Require(KeepLast >= 1, $"keep_last is {KeepLast}, must be at least 1 (resuming needs the latest checkpoint)");
        Require(Models.TorchRuntime.IsDeviceName(Device), $"device is '{Device}', must be cpu, cuda or cuda:N");
        Require(Dtype is "fp32" or "bf16", $"dtype is '{Dtype}', must be fp32 or bf16");
        Require(Threads >= 0, $"threads is {Threads}, must be at least 0 (0 = libtorch's default)");
        Require(MaxSourceLen is null or >= 2, $"max_source_len is {MaxSourceLen}, must be at least 2");
        Require(MaxTargetLen is null or >= 1, $"max_target_len is {MaxTargetLen}, must be at least 1");
        Require(Replay.Length == 0 ? ReplayShare is >= 0 and < 1 : ReplayShare is > 0 and < 1,
            $"replay_share is {ReplayShare}, must be {(Replay.Length == 0 ? "at least 0" : "above 0")} and below 1");
        if (problems.Count > 0) throw new SpecialistException("training config: " + string.Join("; ", problems));
    }

    /// <summary>The resolved config as the run folder records it (every key, snake_case).</summary>
    public string ToJson()
    {
        JsonNode? Optional(int? v) => v is { } x ? JsonValue.Create(x) : null;
        JsonArray Strings(IEnumerable<string> items) => new([.. items.Select(s => (JsonNode?)JsonValue.Create(s))]);
        var batch = new JsonObject();
        foreach (var (format, size) in BatchSize.OrderBy(p => p.Key, StringComparer.Ordinal)) batch[format] = size;
        var json = new JsonObject
        {
            ["student"] = Student,
            ["data"] = Data,
            ["out"] = Out,
            ["loss"] = Name(Loss),
            ["formats"] = Strings(Formats),
            ["lr"] = Lr,
            ["warmup"] = Warmup,
            ["schedule"] = Name(Schedule),
            ["lr_horizon"] = LrHorizon == ScheduleHorizon.MicroSteps ? "micro-steps" : "steps",
            ["epochs"] = Epochs,
            ["steps"] = Optional(Steps),
            ["grad_accum"] = GradAccum,
            ["batch_size"] = batch,
            ["max_grad_norm"] = MaxGradNorm,
            ["weight_decay"] = WeightDecay,
            ["eval_every"] = EvalEvery,
            ["eval_sets"] = Strings(EvalSets),
            ["id_set"] = IdSet,
            ["eval_limit"] = Optional(EvalLimit),
            ["eval_prompt"] = EvalPrompt,
            ["eval_max_new_tokens"] = EvalMaxNewTokens,
            ["eval_batch_size"] = EvalBatchSize,
            ["save_every"] = Optional(SaveEvery),
            ["keep_last"] = KeepLast,
            ["data_root"] = DataRoot,
            ["seed"] = Seed,
            ["device"] = Device,
            ["dtype"] = Dtype,
            ["threads"] = Threads,
            ["max_source_len"] = Optional(MaxSourceLen),
            ["max_target_len"] = Optional(MaxTargetLen),
            ["ood_sets"] = Strings(_oodSets),
            ["replay"] = Replay,
            ["replay_share"] = ReplayShare,
        };
        return json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n";
    }

    private static string Name<T>(T value) where T : Enum => value.ToString().ToLowerInvariant();

    // A JSON value in the text form With() reads: lists comma-joined, batch_size objects as "format=N,...".
    private static string JsonText(JsonNode? node) => node switch
    {
        null => "none",
        JsonArray array => string.Join(",", array.Select(item => item is JsonValue v && v.GetValueKind() == JsonValueKind.String
            ? v.GetValue<string>() : throw new SpecialistException($"holds {item?.ToJsonString() ?? "null"}, expected strings"))),
        JsonObject obj => string.Join(",", obj.Select(p => $"{p.Key}={JsonText(p.Value)}")),
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        JsonValue v when v.GetValueKind() == JsonValueKind.Number => v.ToJsonString(),
        _ => throw new SpecialistException($"is {node.ToJsonString()}, expected a string, a number, a list or (batch_size) an object"),
    };

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

    /// <summary><c>N</c> (every format) or <c>format=N,...</c>.</summary>
    internal static IReadOnlyDictionary<string, int> ParseBatchSizes(string text)
    {
        var sizes = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var eq = part.IndexOf('=');
            var format = eq < 0 ? "*" : part[..eq].Trim();
            var number = eq < 0 ? part : part[(eq + 1)..].Trim();
            if (!int.TryParse(number, NumberStyles.Integer, CultureInfo.InvariantCulture, out var size) || size < 1)
                throw new SpecialistException($"batch size '{part}' is not N or format=N with N ≥ 1");
            if (!sizes.TryAdd(format, size)) throw new SpecialistException($"batch size for '{format}' is given twice");
        }
        if (sizes.Count == 0) throw new SpecialistException($"batch size '{text}' names no size");
        return sizes;
    }
}
