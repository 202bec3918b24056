using System.Text.Json.Nodes;
using Specialist.Tokenization;
using TorchSharp;
using static TorchSharp.torch;

namespace Specialist.Models;

/// <summary>The config of a model family, as every family's <c>config.json</c> has it.</summary>
public interface IModelConfig
{
    /// <summary>config.json's <c>model_type</c>: <c>t5</c>, <c>llama</c> or <c>qwen2</c>.</summary>
    string ModelType { get; }

    /// <summary>The rows of the embedding and the output layer.</summary>
    int VocabSize { get; }

    /// <summary>The config.json keys that tell models of the family apart, with their values, for people.</summary>
    JsonObject Shape();
}

/// <summary>What a model folder holds, read from its headers without loading any weights.</summary>
/// <param name="Directory">The model folder.</param>
/// <param name="Config">Its <c>config.json</c>.</param>
/// <param name="ParameterCount">The number of weights.</param>
/// <param name="StoredDType">The stored dtype(s), e.g. <c>F32</c> or <c>BF16</c> (comma-separated if mixed).</param>
/// <param name="Files">The weight files, relative to the folder.</param>
/// <param name="TensorBytes">The bytes of tensor data.</param>
public sealed record CheckpointSummary<TConfig>(string Directory, TConfig Config, long ParameterCount, string StoredDType, IReadOnlyList<string> Files, long TensorBytes)
    where TConfig : IModelConfig;

/// <summary>
/// A student of either family, the one seam the stages train, evaluate and serve through: T5 (encoder-decoder; the
/// prompt goes to the encoder, the target to the decoder) or a decoder-only model of the Llama family (Llama, Qwen2;
/// prompt and target are one sequence). The family is config.json's <c>model_type</c>. What differs between them is
/// here: how a folder loads and saves, how a training batch's prompts are padded, how the forward pass gives the
/// logits of the target positions (so one cross-entropy and one KL serve both), and how generation runs.
/// </summary>
public abstract class StudentModel : IDisposable
{
    private protected StudentModel()
    {
    }

    /// <summary>The config the model was built from.</summary>
    public abstract IModelConfig Config { get; }

    /// <summary>The model's weights as a module (for the optimiser, train and eval mode).</summary>
    internal abstract nn.Module Module { get; }

    /// <summary>The number of weights.</summary>
    public long ParameterCount => Module.parameters().Sum(p => p.numel());

    /// <summary>The device the weights are on.</summary>
    public abstract Device Device { get; }

    /// <summary>
    /// The dtype the matrix multiplies run in; null (the default): the weights'. bf16 over fp32 weights is
    /// mixed-precision training: fp32 weights, gradients, optimiser state, norms, softmax and loss, bf16 multiplies.
    /// </summary>
    public abstract ScalarType? MatmulType { get; set; }

    /// <summary>The ids that end a generated sequence.</summary>
    public abstract IReadOnlyList<int> EosIds { get; }

    /// <summary>
    /// The longest training sequence (prompt and target together) the model's config allows, null when it has no such
    /// limit (T5's relative positions). Generation is not held to it, as transformers does not hold it.
    /// </summary>
    internal abstract int? MaxPositions { get; }

    /// <summary>The id padding positions hold (they are masked, so any id in the vocabulary would do).</summary>
    internal abstract int PadId { get; }

    /// <summary>Whether training batches pad prompts on the left (decoder-only, as its generator does: every prompt then ends in the same column).</summary>
    internal abstract bool PadsPromptsLeft { get; }

    /// <summary>
    /// The logits (batch × target length × vocab) that predict each target token: <paramref name="labels"/>
    /// (batch × target length, right-padded, <paramref name="labelMask"/> 1 on real tokens) given the prompts
    /// <paramref name="promptIds"/> (padded as <see cref="PadsPromptsLeft"/> says, <paramref name="promptMask"/> 1 on
    /// real tokens). Position t of the result is the distribution of label t, for both families.
    /// </summary>
    internal abstract Tensor TargetLogits(Tensor promptIds, Tensor promptMask, Tensor labels, Tensor labelMask);

    /// <summary>The prompts' generation batches (see <see cref="GenerationPlan.Plan"/>); ids past <paramref name="vocabularySize"/> are never generated.</summary>
    internal abstract IReadOnlyList<PlannedBatch> Plan(IReadOnlyList<IReadOnlyList<int>> prompts, GenerationOptions options, int? vocabularySize);

    /// <summary>
    /// Generates a continuation of each prompt (ids from <see cref="StudentEncoding.Prompt"/>, which
    /// <see cref="StudentEncoding.Generate"/> passes with its end of answer in the options), in prompt order. Ids past
    /// <paramref name="vocabularySize"/> (the tokenizer's, when smaller than the model's head) are never generated.
    /// </summary>
    public IReadOnlyList<GeneratedSequence> Generate(IReadOnlyList<IReadOnlyList<int>> prompts, GenerationOptions options, int? vocabularySize = null) =>
        GenerationPlan.Run(Module, Plan(prompts, options, vocabularySize), prompts.Count);

    /// <summary>Fails unless <paramref name="tokenizer"/> suits the model (<see cref="EnsureFits(IModelConfig, ITokenizer, string)"/>).</summary>
    public void EnsureFits(ITokenizer tokenizer, string tokenizerPath) => EnsureFits(Config, tokenizer, tokenizerPath);

    /// <summary>
    /// Fails unless <paramref name="tokenizer"/> (read from <paramref name="tokenizerPath"/>) suits a model of
    /// <paramref name="config"/>: every id has a row in the embedding (libtorch would fail on the first larger id, deep
    /// in a step), and, for a decoder-only model, the tokenizer's end of sequence, where it has one, is one the model
    /// stops at (a tokenizer with neither one nor a chat template is refused by <see cref="StudentEncoding.For"/>).
    /// </summary>
    public static void EnsureFits(IModelConfig config, ITokenizer tokenizer, string tokenizerPath)
    {
        if (tokenizer.VocabularySize > config.VocabSize)
            throw new SpecialistException($"tokenizer {tokenizerPath} has {tokenizer.VocabularySize} ids, more than the config's vocab_size {config.VocabSize}");
        if (config is LlamaConfig llama && tokenizer.EosId is { } eos && !llama.EosTokenIds.Contains(eos))
            throw new SpecialistException($"tokenizer {tokenizerPath} ends sequences with id {eos}, but the config's eos_token_id is [{string.Join(", ", llama.EosTokenIds)}]: set eos_token_id to {eos} in config.json");
    }

    /// <summary>Saves the model into <paramref name="directory"/> in Hugging Face layout, with the tokenizer file copied in (see <see cref="CheckpointFiles.CopyTokenizer"/>).</summary>
    public abstract void Save(string directory, string tokenizerPath);

    /// <summary>
    /// Sets every gradient to zero in place. Training loops call this instead of <c>Optimizer.zero_grad()</c>: TorchSharp
    /// 0.107's leaves one tensor handle per parameter outside any dispose scope every step, so memory creeps up over a run.
    /// </summary>
    internal void ZeroGradients()
    {
        using var scope = NewDisposeScope();
        foreach (var p in Module.parameters()) p.grad?.zero_();
    }

    public void Dispose() => Module.Dispose();

    /// <summary>
    /// A model folder's config: <c>model_type</c> <c>llama</c> or <c>qwen2</c> is read as <see cref="LlamaConfig"/>,
    /// <c>t5</c> or none as <see cref="T5Config"/>; any other is refused naming the file, line and key.
    /// </summary>
    public static IModelConfig ReadConfig(string directory) =>
        ReadConfigFile(CheckpointFiles.ConfigPath(directory, CheckpointFiles.ConfigFileName));

    private static IModelConfig ReadConfigFile(string path)
    {
        var type = JsonSection.ReadFile(path) is var s && s.String("model_type") is { } t ? t : null;
        return type switch
        {
            LlamaConfig.Llama or LlamaConfig.Qwen2 => LlamaConfig.Read(path),
            null or "t5" => T5Config.Read(path),
            _ => throw s.Error("model_type", $"is '{type}', not 't5', 'llama' or 'qwen2' (the student families)"),
        };
    }

    /// <summary>A built-in T5 config by name (<see cref="T5Config.BuiltInNames"/>), else the config.json at that path (or in that folder) of any family.</summary>
    public static IModelConfig ResolveConfig(string nameOrPath)
    {
        if (T5Config.BuiltInNames.Contains(nameOrPath, StringComparer.OrdinalIgnoreCase)) return T5Config.Resolve(nameOrPath);
        var path = System.IO.Directory.Exists(nameOrPath) ? Path.Combine(nameOrPath, CheckpointFiles.ConfigFileName) : nameOrPath;
        if (File.Exists(path)) return ReadConfigFile(path);
        throw new SpecialistException(
            $"config '{nameOrPath}' is neither a built-in config ({string.Join(", ", T5Config.BuiltInNames)}) nor a config.json file");
    }

    /// <summary>A new model of <paramref name="config"/> with Hugging Face's random initialisation, drawn from <paramref name="generator"/> (null: libtorch's global one).</summary>
    public static StudentModel Create(IModelConfig config, Generator? generator = null) => config switch
    {
        T5Config t5 => new T5Student(new T5Model(t5, ScalarType.Float32, initialize: true, generator)),
        LlamaConfig llama => new LlamaStudent(new LlamaModel(llama, ScalarType.Float32, initialize: true, generator)),
        _ => throw new ArgumentException($"no model family for {config.GetType().Name}", nameof(config)),
    };

    /// <summary>
    /// Loads a model folder of either family as <paramref name="dtype"/>, in eval mode, on <paramref name="device"/>
    /// (null: the CPU); weights holding NaN or infinity are refused, or told to <paramref name="nonFinite"/> and loaded
    /// (<see cref="T5Checkpoint.Load"/>, <see cref="LlamaCheckpoint.Load"/>).
    /// </summary>
    public static StudentModel Load(string directory, ScalarType dtype = ScalarType.Float32, Device? device = null, Action<string>? nonFinite = null) =>
        ReadConfig(directory) is LlamaConfig
            ? new LlamaStudent(LlamaCheckpoint.Load(directory, dtype, device, nonFinite))
            : new T5Student(T5Checkpoint.Load(directory, dtype, device, nonFinite));

    /// <summary>Checks a model folder of either family and summarises it, reading only config.json and the safetensors headers.</summary>
    public static CheckpointSummary<IModelConfig> Inspect(string directory)
    {
        if (ReadConfig(directory) is LlamaConfig)
        {
            var (llama, entries) = LlamaCheckpoint.Open(directory);
            return CheckpointFiles.Summarize<IModelConfig>(directory, llama, entries);
        }
        var (t5, t5Entries) = T5Checkpoint.Open(directory);
        return CheckpointFiles.Summarize<IModelConfig>(directory, t5, t5Entries);
    }

    /// <summary>The parameter count a model folder's config.json describes, without reading any weights.</summary>
    public static long CountParameters(string directory) => CountParameters(ReadConfig(directory));

    /// <summary>The parameter count of a model of <paramref name="config"/>.</summary>
    public static long CountParameters(IModelConfig config) => config switch
    {
        LlamaConfig llama => LlamaModel.ParameterShapes(llama).Sum(p => p.Shape.Aggregate(1L, (a, b) => a * b)),
        T5Config t5 => T5Model.ParameterShapes(t5).Sum(p => p.Shape.Aggregate(1L, (a, b) => a * b)),
        var other => throw new ArgumentException($"no model family for {other.GetType().Name}"),
    };

    /// <summary>
    /// Writes a randomly initialised model of <paramref name="config"/> (Hugging Face's initialisation, seeded) with its
    /// tokenizer: the layout a downloaded model has, for tests, benchmarks and experiments. Fails, before anything is
    /// written, when the tokenizer does not suit the config (<see cref="EnsureFits(IModelConfig, ITokenizer, string)"/>).
    /// </summary>
    public static CheckpointSummary<IModelConfig> WriteRandom(IModelConfig config, string directory, string tokenizerPath, long seed)
    {
        if (!File.Exists(tokenizerPath)) throw new SpecialistException($"tokenizer {tokenizerPath} is not a file (give a SentencePiece model such as spiece.model, or a word-level tokenizer.json)");
        EnsureFits(config, Tokenizers.Load(tokenizerPath), tokenizerPath);
        TorchRuntime.EnsureLoaded();
        // A generator of its own, not libtorch's global one: the miniature run initialises two students at once.
        using var generator = new torch.Generator((ulong)seed);
        using (var model = Create(config, generator)) model.Save(directory, tokenizerPath);
        return Inspect(directory);
    }
}
