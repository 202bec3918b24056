using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Specialist.Models;

/// <summary>
/// The shape of a decoder-only student of the Llama family, read from and written to a Hugging Face <c>config.json</c>
/// with <c>model_type</c> <c>llama</c> (Llama 2 and 3, SmolLM2) or <c>qwen2</c> (Qwen2, Qwen2.5): the keys of
/// <c>transformers.LlamaConfig</c> and <c>Qwen2Config</c>. A missing key takes Hugging Face's default; what this code
/// does not implement (rope scaling, sliding-window attention, an activation other than SiLU) is refused by name.
/// Qwen2 is Llama with biases on the query, key and value projections.
/// </summary>
public sealed record LlamaConfig : IModelConfig
{
    public const string Llama = "llama";
    public const string Qwen2 = "qwen2";

    /// <summary><c>llama</c> or <c>qwen2</c>.</summary>
    public string ModelType { get; init; } = Llama;
    public int VocabSize { get; init; } = 32000;
    public int HiddenSize { get; init; } = 4096;
    public int IntermediateSize { get; init; } = 11008;
    public int NumHiddenLayers { get; init; } = 32;
    public int NumAttentionHeads { get; init; } = 32;
    /// <summary>Key and value heads (grouped-query attention when fewer than <see cref="NumAttentionHeads"/>).</summary>
    public int NumKeyValueHeads { get; init; } = 32;
    public double RmsNormEps { get; init; } = 1e-6;
    public double RopeTheta { get; init; } = 10000;
    public int MaxPositionEmbeddings { get; init; } = 2048;
    public bool TieWordEmbeddings { get; init; }
    /// <summary>Biases on the q, k, v and o projections (Llama's <c>attention_bias</c>); Qwen2 has them on q, k and v always.</summary>
    public bool AttentionBias { get; init; }
    public int? BosTokenId { get; init; } = 1;
    /// <summary>The end-of-sequence ids (Llama 3 lists several).</summary>
    public IReadOnlyList<int> EosTokenIds { get; init; } = [2];
    public int? PadTokenId { get; init; }

    /// <summary>What padding holds: the pad id, or the first end-of-sequence id for a model without one (it is masked either way).</summary>
    internal int PaddingId => PadTokenId ?? EosTokenIds[0];

    /// <summary>Each head's width.</summary>
    public int HeadDim => HiddenSize / NumAttentionHeads;

    /// <summary>Whether q, k and v have biases.</summary>
    public bool QkvBias => ModelType == Qwen2 || AttentionBias;

    /// <summary>Whether o has a bias (Llama's <c>attention_bias</c> only).</summary>
    public bool OutputBias => ModelType == Llama && AttentionBias;

    /// <summary>
    /// Reads a Hugging Face <c>config.json</c>; a missing key takes Hugging Face's default, a malformed one (a duplicate,
    /// a value of the wrong kind) is an error naming the file, the line and the key.
    /// </summary>
    public static LlamaConfig Read(string path)
    {
        var s = JsonSection.ReadFile(path);
        var type = s.String("model_type") ?? throw s.Error("model_type", "is missing: expected 'llama' or 'qwen2'");
        if (type is not (Llama or Qwen2)) throw s.Error("model_type", $"is '{type}': decoder-only students are 'llama' or 'qwen2'");
        if (s.Has("rope_scaling"))
            throw s.Error("rope_scaling", $"is {s.Node["rope_scaling"]!.ToJsonString()}: rope scaling (linear, dynamic, llama3, yarn) is not supported; only plain rotary embeddings are");
        if (s.Bool("use_sliding_window") == true) throw s.Error("use_sliding_window", "is true: sliding-window attention is not supported");
        if (s.String("hidden_act") is { } act && act != "silu") throw s.Error("hidden_act", $"is '{act}': only 'silu' (SwiGLU) is supported");
        if (s.Bool("mlp_bias") == true) throw s.Error("mlp_bias", "is true: biases in the MLP are not supported");

        var d = type == Qwen2 ? new LlamaConfig { ModelType = Qwen2, VocabSize = 151936, HiddenSize = 4096, IntermediateSize = 22016, RopeTheta = 10000, MaxPositionEmbeddings = 32768 } : new LlamaConfig();
        var heads = s.Int("num_attention_heads") ?? d.NumAttentionHeads;
        var config = new LlamaConfig
        {
            ModelType = type,
            VocabSize = s.Int("vocab_size") ?? d.VocabSize,
            HiddenSize = s.Int("hidden_size") ?? d.HiddenSize,
            IntermediateSize = s.Int("intermediate_size") ?? d.IntermediateSize,
            NumHiddenLayers = s.Int("num_hidden_layers") ?? d.NumHiddenLayers,
            NumAttentionHeads = heads,
            NumKeyValueHeads = s.Int("num_key_value_heads") ?? heads,
            RmsNormEps = s.Double("rms_norm_eps") ?? d.RmsNormEps,
            RopeTheta = s.Double("rope_theta") ?? d.RopeTheta,
            MaxPositionEmbeddings = s.Int("max_position_embeddings") ?? d.MaxPositionEmbeddings,
            TieWordEmbeddings = s.Bool("tie_word_embeddings") ?? false,
            AttentionBias = s.Bool("attention_bias") ?? false,
            BosTokenId = s.Int("bos_token_id") ?? d.BosTokenId,
            EosTokenIds = s.Node["eos_token_id"] is JsonArray ? [.. s.Longs("eos_token_id", 0)!.Select(id => (int)Math.Min(id, int.MaxValue))]
                : s.Int("eos_token_id") is { } eos ? [eos] : d.EosTokenIds,
            PadTokenId = s.Int("pad_token_id"),
        };
        if (s.Int("head_dim") is { } headDim && headDim != config.HeadDim)
            throw s.Error("head_dim", $"is {headDim}, but hidden_size / num_attention_heads is {config.HeadDim}: a separate head width is not supported");
        config.Validate(path);
        return config;
    }

    /// <summary>Fails with every problem at once when the config cannot describe a model of the family.</summary>
    internal void Validate(string source)
    {
        var problems = new List<string>();
        // Far above any published model; they stop a typo from asking libtorch for an impossible tensor.
        void Positive(string key, int value, int most = 1 << 20) { if (value <= 0 || value > most) problems.Add($"{key} is {value}, must be in [1, {most}]"); }
        void TokenId(string key, int? value) { if (value is { } v && (v < 0 || v >= VocabSize)) problems.Add($"{key} is {v}, must be in [0, vocab_size {VocabSize})"); }
        if (ModelType is not (Llama or Qwen2)) problems.Add($"model_type is '{ModelType}', must be '{Llama}' or '{Qwen2}'");
        Positive("vocab_size", VocabSize, 1 << 24);
        Positive("hidden_size", HiddenSize);
        Positive("intermediate_size", IntermediateSize);
        Positive("num_hidden_layers", NumHiddenLayers, 1024);
        Positive("num_attention_heads", NumAttentionHeads, 1024);
        Positive("num_key_value_heads", NumKeyValueHeads, 1024);
        Positive("max_position_embeddings", MaxPositionEmbeddings, 1 << 24);
        if (NumAttentionHeads > 0 && HiddenSize % NumAttentionHeads != 0)
            problems.Add($"hidden_size {HiddenSize} is not a multiple of num_attention_heads {NumAttentionHeads}");
        else if (NumAttentionHeads > 0 && HeadDim % 2 != 0) problems.Add($"the head width {HeadDim} is odd: rotary embeddings need an even one");
        if (NumKeyValueHeads > 0 && NumAttentionHeads % NumKeyValueHeads != 0)
            problems.Add($"num_attention_heads {NumAttentionHeads} is not a multiple of num_key_value_heads {NumKeyValueHeads}");
        if (!(RmsNormEps > 0)) problems.Add($"rms_norm_eps is {RmsNormEps}, must be positive");
        if (!(RopeTheta > 0) || double.IsInfinity(RopeTheta)) problems.Add($"rope_theta is {RopeTheta}, must be positive");
        if (VocabSize > 0)
        {
            TokenId("bos_token_id", BosTokenId);
            TokenId("pad_token_id", PadTokenId);
            foreach (var eos in EosTokenIds) TokenId("eos_token_id", eos);
        }
        if (EosTokenIds.Count == 0) problems.Add("eos_token_id is an empty list");
        if (problems.Count > 0) throw new SpecialistException($"{source}: not a usable {ModelType} config: {string.Join("; ", problems)}");
    }

    /// <summary>The <c>config.json</c> text Hugging Face's <c>AutoModelForCausalLM.from_pretrained</c> reads.</summary>
    /// <param name="torchDtype">The stored weights' dtype as Hugging Face names it (<c>float32</c>, <c>bfloat16</c>, <c>float16</c>).</param>
    public string ToJson(string torchDtype = "float32")
    {
        var json = new JsonObject
        {
            ["architectures"] = new JsonArray(ModelType == Qwen2 ? "Qwen2ForCausalLM" : "LlamaForCausalLM"),
            ["model_type"] = ModelType,
            ["vocab_size"] = VocabSize,
            ["hidden_size"] = HiddenSize,
            ["intermediate_size"] = IntermediateSize,
            ["num_hidden_layers"] = NumHiddenLayers,
            ["num_attention_heads"] = NumAttentionHeads,
            ["num_key_value_heads"] = NumKeyValueHeads,
            ["hidden_act"] = "silu",
            ["rms_norm_eps"] = RmsNormEps,
            ["rope_theta"] = RopeTheta,
            ["max_position_embeddings"] = MaxPositionEmbeddings,
            ["tie_word_embeddings"] = TieWordEmbeddings,
            ["bos_token_id"] = BosTokenId,
            ["eos_token_id"] = EosTokenIds.Count == 1 ? EosTokenIds[0] : new JsonArray([.. EosTokenIds.Select(id => (JsonNode?)id)]),
            ["pad_token_id"] = PadTokenId,
            ["torch_dtype"] = torchDtype,
            ["use_cache"] = true,
        };
        if (ModelType == Llama) json["attention_bias"] = AttentionBias;
        return json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n";
    }

    public JsonObject Shape() => new()
    {
        ["model_type"] = ModelType,
        ["hidden_size"] = HiddenSize,
        ["intermediate_size"] = IntermediateSize,
        ["num_hidden_layers"] = NumHiddenLayers,
        ["num_attention_heads"] = NumAttentionHeads,
        ["num_key_value_heads"] = NumKeyValueHeads,
        ["max_position_embeddings"] = MaxPositionEmbeddings,
        ["tie_word_embeddings"] = TieWordEmbeddings,
        ["vocab_size"] = VocabSize,
    };

    /// <summary>One line for people: the sizes that tell models of the family apart.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{ModelType} hidden={HiddenSize} intermediate={IntermediateSize} layers={NumHiddenLayers} heads={NumAttentionHeads}/{NumKeyValueHeads} vocab={VocabSize} rope_theta={RopeTheta} {(TieWordEmbeddings ? "tied" : "untied")}");
}
