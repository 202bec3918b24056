using static TorchSharp.torch;

namespace Specialist.Models;

/// <summary>
/// Models of the Llama family in the Hugging Face folder layout: <c>config.json</c> (<c>model_type</c> <c>llama</c>
/// or <c>qwen2</c>) plus <c>model.safetensors</c> or shards with their index (<see cref="CheckpointFiles"/>), in fp32,
/// bf16 or fp16. Everything is checked against the config before any weight is allocated.
/// </summary>
public static class LlamaCheckpoint
{
    public const string ConfigFileName = CheckpointFiles.ConfigFileName;

    /// <summary>
    /// Tensors a checkpoint may carry that the model does not use: the output layer when it is tied to the embedding,
    /// and the rotary inverse frequencies older transformers saved as buffers.
    /// </summary>
    private static Dictionary<string, long[]> Ignorable(LlamaConfig c)
    {
        var ignorable = new Dictionary<string, long[]>(StringComparer.Ordinal);
        for (var i = 0; i < c.NumHiddenLayers; i++) ignorable[$"model.layers.{i}.self_attn.rotary_emb.inv_freq"] = [c.HeadDim / 2];
        if (c.TieWordEmbeddings) ignorable["lm_head.weight"] = [c.VocabSize, c.HiddenSize];
        return ignorable;
    }

    /// <summary>
    /// Saves <paramref name="model"/> into <paramref name="directory"/>: config.json, then the weights
    /// (<see cref="CheckpointFiles.WriteWeights"/>), each file atomically, and <paramref name="tokenizerPath"/>, when
    /// given, copied in (<see cref="CheckpointFiles.CopyTokenizer"/>).
    /// </summary>
    public static void Save(LlamaModel model, string directory, string? tokenizerPath = null, long maxShardBytes = T5Checkpoint.DefaultMaxShardBytes)
    {
        CheckpointFiles.WriteWeights(model, directory, maxShardBytes);
        AtomicFile.WriteText(Path.Combine(directory, ConfigFileName), model.Config.ToJson(T5Checkpoint.TorchDTypeName(model.DType)));
        if (tokenizerPath is not null) CheckpointFiles.CopyTokenizer(tokenizerPath, directory);
    }

    /// <summary>Reads a model folder's config (checked, see <see cref="LlamaConfig.Read"/>).</summary>
    public static LlamaConfig ReadConfig(string directory) => LlamaConfig.Read(CheckpointFiles.ConfigPath(directory, ConfigFileName));

    /// <summary>Checks a model folder and summarises it, reading only config.json and the safetensors headers.</summary>
    public static CheckpointSummary<LlamaConfig> Inspect(string directory)
    {
        var (config, entries) = Open(directory);
        return CheckpointFiles.Summarize(directory, config, entries);
    }

    /// <summary>
    /// Loads a model folder as <paramref name="dtype"/> (stored weights are converted after reading), in eval mode, on
    /// <paramref name="device"/> (null: the CPU). Throws <see cref="SpecialistException"/> naming every missing,
    /// unexpected and mis-shaped tensor at once, and for weights holding NaN or infinity unless
    /// <paramref name="nonFinite"/> is given (it is told, and they are loaded).
    /// </summary>
    public static LlamaModel Load(string directory, ScalarType dtype = ScalarType.Float32, Device? device = null, Action<string>? nonFinite = null)
    {
        var (config, entries) = Open(directory);
        TorchRuntime.EnsureLoaded();
        var model = new LlamaModel(config, dtype, initialize: false);
        CheckpointFiles.LoadInto(model, entries, device, nonFinite);
        return model;
    }

    /// <summary>Reads config.json and every safetensors header, and checks them against each other.</summary>
    internal static (LlamaConfig Config, Dictionary<string, CheckpointFiles.Found> Entries) Open(string directory)
    {
        var config = ReadConfig(directory);
        var expected = LlamaModel.ParameterShapes(config).ToDictionary(p => p.Name, p => p.Shape, StringComparer.Ordinal);
        return (config, CheckpointFiles.Match(directory, config.ToString(), expected, Ignorable(config),
            "Convert it once to safetensors with Python's transformers: python -c \"from transformers import AutoModelForCausalLM as M; " +
            "M.from_pretrained('DIR').save_pretrained('OUT', safe_serialization=True)\" and use OUT (copy the tokenizer files too)."));
    }
}
