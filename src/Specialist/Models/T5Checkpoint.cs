using System.Text.Json;
using System.Text.Json.Nodes;
using Specialist.Tokenization;
using TorchSharp;
using static TorchSharp.torch;

namespace Specialist.Models;

/// <summary>
/// T5 models in the Hugging Face folder layout: <c>config.json</c> plus <c>model.safetensors</c>, or shards listed by
/// <c>model.safetensors.index.json</c>, plus the tokenizer: T5's <c>spiece.model</c>, or the word-level
/// <c>tokenizer.json</c> of a student trained from scratch (<see cref="Tokenizers.ModelTokenizerFile"/>). Pickled <c>pytorch_model.bin</c>
/// files are refused (loading a pickle can run code). Everything about a checkpoint is checked against its config
/// before any weight is allocated.
/// </summary>
public static class T5Checkpoint
{
    public const string ConfigFileName = CheckpointFiles.ConfigFileName;
    public const string WeightsFileName = CheckpointFiles.WeightsFileName;
    public const string IndexFileName = CheckpointFiles.IndexFileName;

    /// <summary>Hugging Face's default largest shard (5 GB).</summary>
    public const long DefaultMaxShardBytes = 5_000_000_000;

    /// <summary>
    /// Tensors a Hugging Face checkpoint may carry that the model does not use, with their shapes: copies of
    /// shared.weight (and of lm_head when tied), and the cross-attention position bias that transformers before 3.x
    /// saved for decoder block 0 (transformers lists it in _keys_to_ignore_on_load_unexpected).
    /// </summary>
    private static Dictionary<string, long[]> Ignorable(T5Config c)
    {
        var ignorable = new Dictionary<string, long[]>(StringComparer.Ordinal)
        {
            ["encoder.embed_tokens.weight"] = [c.VocabSize, c.DModel],
            ["decoder.embed_tokens.weight"] = [c.VocabSize, c.DModel],
            ["decoder.block.0.layer.1.EncDecAttention.relative_attention_bias.weight"] = [c.RelativeAttentionNumBuckets, c.NumHeads],
        };
        if (c.TieWordEmbeddings) ignorable["lm_head.weight"] = [c.VocabSize, c.DModel];
        return ignorable;
    }

    /// <summary>Parses a dtype name: fp32/float32, bf16/bfloat16, fp16/float16.</summary>
    public static ScalarType ParseDType(string name) => name.ToLowerInvariant() switch
    {
        "fp32" or "float32" or "f32" => ScalarType.Float32,
        "bf16" or "bfloat16" => ScalarType.BFloat16,
        "fp16" or "float16" or "f16" or "half" => ScalarType.Float16,
        _ => throw new SpecialistException($"unknown dtype '{name}' (use fp32, bf16 or fp16)"),
    };

    /// <summary>The Hugging Face name of a dtype, as config.json's <c>torch_dtype</c> holds it.</summary>
    public static string TorchDTypeName(ScalarType type) => type switch
    {
        ScalarType.Float32 => "float32",
        ScalarType.BFloat16 => "bfloat16",
        ScalarType.Float16 => "float16",
        ScalarType.Float64 => "float64",
        _ => throw new ArgumentException($"T5 weights are float32, bfloat16, float16 or float64, not {type}"),
    };

    /// <summary>Checks a model folder and summarises it, reading only config.json and the safetensors headers.</summary>
    public static CheckpointSummary<T5Config> Inspect(string directory)
    {
        var (config, entries) = Open(directory);
        return CheckpointFiles.Summarize(directory, config, entries);
    }

    /// <summary>
    /// Loads a model folder as <paramref name="dtype"/> (stored weights are converted after reading), in eval mode, on
    /// <paramref name="device"/> (from <see cref="TorchRuntime.ResolveDevice"/>; null: the CPU). Throws
    /// <see cref="SpecialistException"/> naming every missing, unexpected and mis-shaped tensor at once.
    /// Weights that hold NaN or infinity (a diverged or corrupt save: such a model generates empty text without a word)
    /// are refused, or, when <paramref name="nonFinite"/> is given, told to it and loaded.
    /// </summary>
    public static T5Model Load(string directory, ScalarType dtype = ScalarType.Float32, Device? device = null, Action<string>? nonFinite = null)
    {
        var (config, entries) = Open(directory);
        TorchRuntime.EnsureLoaded();
        var model = new T5Model(config, dtype, initialize: false);
        CheckpointFiles.LoadInto(model, entries, device, nonFinite);
        return model;
    }

    /// <summary>
    /// Saves <paramref name="model"/> into <paramref name="directory"/> (created if needed): config.json, then
    /// model.safetensors, or shards of at most <paramref name="maxShardBytes"/> with their index when it is larger;
    /// files of the other layout left from an earlier save are removed. Each file is written atomically.
    /// <paramref name="tokenizerPath"/> is copied in under the name a model folder keeps it by: a word-level
    /// <c>*.json</c> tokenizer as tokenizer.json, a SentencePiece model as spiece.model.
    /// </summary>
    public static void Save(T5Model model, string directory, string? tokenizerPath = null, long maxShardBytes = DefaultMaxShardBytes)
    {
        CheckpointFiles.WriteWeights(model, directory, maxShardBytes);
        AtomicFile.WriteText(Path.Combine(directory, ConfigFileName), model.Config.ToJson(TorchDTypeName(model.DType)));
        if (tokenizerPath is not null) CheckpointFiles.CopyTokenizer(tokenizerPath, directory);
    }

    /// <summary>
    /// Writes a randomly initialised model (Hugging Face's initialisation, seeded) with its tokenizer: the same layout a
    /// downloaded FlanT5 has, for tests, benchmarks and experiments. <paramref name="tokenizerPath"/> is a SentencePiece
    /// model or a word-level <c>tokenizer.json</c>, copied in as <see cref="Save"/> copies it. Fails if the tokenizer has
    /// more ids than the config's vocabulary.
    /// </summary>
    public static CheckpointSummary<T5Config> WriteRandom(T5Config config, string directory, string tokenizerPath, long seed)
    {
        StudentModel.WriteRandom(config, directory, tokenizerPath, seed);
        return Inspect(directory);
    }

    /// <summary>Reads config.json and every safetensors header, and checks them against each other.</summary>
    internal static (T5Config Config, Dictionary<string, CheckpointFiles.Found> Entries) Open(string directory)
    {
        var configPath = CheckpointFiles.ConfigPath(directory, ConfigFileName);
        var config = T5Config.Read(configPath);
        var expected = T5Model.ParameterShapes(config).ToDictionary(p => p.Name, p => p.Shape, StringComparer.Ordinal);
        return (config, CheckpointFiles.Match(directory, config.ToString(), expected, Ignorable(config), PickleAdvice));
    }

    private const string PickleAdvice =
        "Convert it once to safetensors with Python's transformers: python -c \"from transformers import T5ForConditionalGeneration as M; " +
        "M.from_pretrained('DIR').save_pretrained('OUT', safe_serialization=True)\" and use OUT (copy spiece.model too).";
}
