using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Specialist.Models;

/// <summary>
/// The shape of a T5 model, read from and written to a Hugging Face <c>config.json</c> (the keys of
/// <c>transformers.T5Config</c>; unknown keys are ignored, missing ones take Hugging Face's defaults).
/// v1.0 (<c>t5-small</c> …) uses <c>feed_forward_proj: "relu"</c> and tied embeddings; v1.1 and FlanT5 use
/// <c>"gated-gelu"</c> and an untied <c>lm_head</c>.
/// </summary>
public sealed record T5Config : IModelConfig
{
    public int VocabSize { get; init; } = 32128;
    public int DModel { get; init; } = 512;
    public int DKv { get; init; } = 64;
    public int DFf { get; init; } = 2048;
    public int NumLayers { get; init; } = 6;
    public int NumDecoderLayers { get; init; } = 6;
    public int NumHeads { get; init; } = 8;
    public int RelativeAttentionNumBuckets { get; init; } = 32;
    public int RelativeAttentionMaxDistance { get; init; } = 128;
    public double DropoutRate { get; init; } = 0.1;
    public double LayerNormEpsilon { get; init; } = 1e-6;
    /// <summary><c>"relu"</c> (T5 v1.0) or <c>"gated-gelu"</c> (T5 v1.1, FlanT5: GELU with the tanh approximation).</summary>
    public string FeedForwardProj { get; init; } = "relu";
    public bool TieWordEmbeddings { get; init; } = true;
    public int PadTokenId { get; init; }
    public int EosTokenId { get; init; } = 1;
    public int DecoderStartTokenId { get; init; }

    /// <summary>config.json's <c>model_type</c>.</summary>
    public string ModelType => "t5";

    /// <summary>Whether the feed-forward block is gated (<c>wi_0</c>, <c>wi_1</c>) rather than one <c>wi</c>.</summary>
    public bool IsGatedAct => FeedForwardProj == GatedGelu;

    internal const string Relu = "relu";
    internal const string GatedGelu = "gated-gelu";

    /// <summary>A test-sized v1.1 model (gated-gelu, untied): quick to build, run and save.</summary>
    public static T5Config Tiny { get; } = new()
    {
        DModel = 64, DFf = 128, DKv = 16, NumHeads = 4, NumLayers = 2, NumDecoderLayers = 2,
        FeedForwardProj = GatedGelu, TieWordEmbeddings = false,
    };

    // The published Hugging Face configs (google-t5/t5-*, google/flan-t5-*).
    private static readonly Dictionary<string, T5Config> BuiltIns = new(StringComparer.OrdinalIgnoreCase)
    {
        ["tiny"] = Tiny,
        ["t5-small"] = new() { DModel = 512, DFf = 2048, NumHeads = 8, NumLayers = 6, NumDecoderLayers = 6 },
        ["t5-base"] = new() { DModel = 768, DFf = 3072, NumHeads = 12, NumLayers = 12, NumDecoderLayers = 12 },
        ["t5-large"] = new() { DModel = 1024, DFf = 4096, NumHeads = 16, NumLayers = 24, NumDecoderLayers = 24 },
        ["flan-t5-small"] = Flan(512, 1024, 6, 8),
        ["flan-t5-base"] = Flan(768, 2048, 12, 12),
        ["flan-t5-large"] = Flan(1024, 2816, 16, 24),
        ["flan-t5-xl"] = Flan(2048, 5120, 32, 24),
        ["flan-t5-xxl"] = Flan(4096, 10240, 64, 24),
    };

    private static T5Config Flan(int dModel, int dFf, int heads, int layers) => new()
    {
        DModel = dModel, DFf = dFf, NumHeads = heads, NumLayers = layers, NumDecoderLayers = layers,
        FeedForwardProj = GatedGelu, TieWordEmbeddings = false,
    };

    /// <summary>The names <see cref="Resolve"/> knows: <c>tiny</c>, <c>t5-small|base|large</c>, <c>flan-t5-small|base|large|xl|xxl</c>.</summary>
    public static IReadOnlyList<string> BuiltInNames { get; } = [.. BuiltIns.Keys];

    /// <summary>A built-in config by name, or else the <c>config.json</c> at that path (or in that folder).</summary>
    public static T5Config Resolve(string nameOrPath)
    {
        if (BuiltIns.TryGetValue(nameOrPath, out var config)) return config;
        var path = Directory.Exists(nameOrPath) ? Path.Combine(nameOrPath, "config.json") : nameOrPath;
        if (File.Exists(path)) return Read(path);
        throw new SpecialistException(
            $"config '{nameOrPath}' is neither a built-in config ({string.Join(", ", BuiltInNames)}) nor a config.json file");
    }

    /// <summary>
    /// Reads a Hugging Face <c>config.json</c>; a missing key takes Hugging Face's default, a malformed one (a duplicate,
    /// a value of the wrong kind) is an error naming the file, the line and the key.
    /// </summary>
    public static T5Config Read(string path)
    {
        var s = JsonSection.ReadFile(path);
        if (s.String("model_type") is { } type && type != "t5") throw s.Error("model_type", $"is '{type}', not 't5'");

        var d = new T5Config();
        var numLayers = s.Int("num_layers") ?? d.NumLayers;
        var pad = s.Int("pad_token_id") ?? d.PadTokenId;
        var config = new T5Config
        {
            VocabSize = s.Int("vocab_size") ?? d.VocabSize,
            DModel = s.Int("d_model") ?? d.DModel,
            DKv = s.Int("d_kv") ?? d.DKv,
            DFf = s.Int("d_ff") ?? d.DFf,
            NumLayers = numLayers,
            NumDecoderLayers = s.Int("num_decoder_layers") ?? numLayers,
            NumHeads = s.Int("num_heads") ?? d.NumHeads,
            RelativeAttentionNumBuckets = s.Int("relative_attention_num_buckets") ?? d.RelativeAttentionNumBuckets,
            RelativeAttentionMaxDistance = s.Int("relative_attention_max_distance") ?? d.RelativeAttentionMaxDistance,
            DropoutRate = s.Double("dropout_rate") ?? d.DropoutRate,
            LayerNormEpsilon = s.Double("layer_norm_epsilon") ?? d.LayerNormEpsilon,
            FeedForwardProj = s.String("feed_forward_proj") ?? d.FeedForwardProj,
            TieWordEmbeddings = s.Bool("tie_word_embeddings") ?? d.TieWordEmbeddings,
            PadTokenId = pad,
            EosTokenId = s.Int("eos_token_id") ?? d.EosTokenId,
            // Hugging Face's T5 checkpoints all start decoding with the pad id.
            DecoderStartTokenId = s.Int("decoder_start_token_id") ?? pad,
        };
        config.Validate(path);
        return config;
    }

    /// <summary>Fails with every problem at once when the config cannot describe a T5 model.</summary>
    internal void Validate(string source)
    {
        var problems = new List<string>();
        // The upper bounds are far above any T5 (FlanT5-XXL: d_ff 10,240, 24 layers; mT5: 250,112 pieces); they stop a
        // typo from asking libtorch for an impossible tensor, or from listing billions of layers, before anything is allocated.
        void Positive(string key, int value, int most = 1 << 20) { if (value <= 0 || value > most) problems.Add($"{key} is {value}, must be in [1, {most}]"); }
        void TokenId(string key, int value) { if (value < 0 || value >= VocabSize) problems.Add($"{key} is {value}, must be in [0, vocab_size {VocabSize})"); }
        Positive("vocab_size", VocabSize, 1 << 24);
        Positive("d_model", DModel);
        Positive("d_kv", DKv);
        Positive("d_ff", DFf);
        Positive("num_layers", NumLayers, 1024);
        Positive("num_decoder_layers", NumDecoderLayers, 1024);
        Positive("num_heads", NumHeads, 1024);
        // Bidirectional buckets halve the count, and half of those are exact: at least 4 keeps one exact bucket per side.
        if (RelativeAttentionNumBuckets is < 4 or > 1 << 16) problems.Add($"relative_attention_num_buckets is {RelativeAttentionNumBuckets}, must be in [4, 65536]");
        if (RelativeAttentionMaxDistance <= RelativeAttentionNumBuckets / 2)
            problems.Add($"relative_attention_max_distance is {RelativeAttentionMaxDistance}, must exceed relative_attention_num_buckets / 2");
        if (DropoutRate is < 0 or >= 1 || double.IsNaN(DropoutRate)) problems.Add($"dropout_rate is {DropoutRate}, must be in [0, 1)");
        if (!(LayerNormEpsilon > 0)) problems.Add($"layer_norm_epsilon is {LayerNormEpsilon}, must be positive");
        if (FeedForwardProj is not (Relu or GatedGelu))
            problems.Add($"feed_forward_proj is '{FeedForwardProj}', supported: '{Relu}' (T5 v1.0), '{GatedGelu}' (T5 v1.1, FlanT5)");
        if (VocabSize > 0)
        {
            TokenId("pad_token_id", PadTokenId);
            TokenId("eos_token_id", EosTokenId);
            TokenId("decoder_start_token_id", DecoderStartTokenId);
        }
        if (problems.Count > 0) throw new SpecialistException($"{source}: not a usable T5 config: {string.Join("; ", problems)}");
    }

    /// <summary>The <c>config.json</c> text Hugging Face's <c>T5ForConditionalGeneration.from_pretrained</c> reads.</summary>
    /// <param name="torchDtype">The stored weights' dtype as Hugging Face names it (<c>float32</c>, <c>bfloat16</c>, <c>float16</c>).</param>
    public string ToJson(string torchDtype = "float32")
    {
        var json = new JsonObject
        {
            ["architectures"] = new JsonArray("T5ForConditionalGeneration"),
            ["model_type"] = "t5",
            ["d_ff"] = DFf,
            ["d_kv"] = DKv,
            ["d_model"] = DModel,
            ["decoder_start_token_id"] = DecoderStartTokenId,
            ["dense_act_fn"] = IsGatedAct ? "gelu_new" : "relu",
            ["dropout_rate"] = DropoutRate,
            ["eos_token_id"] = EosTokenId,
            ["feed_forward_proj"] = FeedForwardProj,
            ["initializer_factor"] = 1.0,
            ["is_encoder_decoder"] = true,
            ["is_gated_act"] = IsGatedAct,
            ["layer_norm_epsilon"] = LayerNormEpsilon,
            ["num_decoder_layers"] = NumDecoderLayers,
            ["num_heads"] = NumHeads,
            ["num_layers"] = NumLayers,
            ["pad_token_id"] = PadTokenId,
            ["relative_attention_max_distance"] = RelativeAttentionMaxDistance,
            ["relative_attention_num_buckets"] = RelativeAttentionNumBuckets,
            ["tie_word_embeddings"] = TieWordEmbeddings,
            ["torch_dtype"] = torchDtype,
            ["use_cache"] = true,
            ["vocab_size"] = VocabSize,
        };
        return json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n";
    }

    public JsonObject Shape() => new()
    {
        ["feed_forward_proj"] = FeedForwardProj,
        ["tie_word_embeddings"] = TieWordEmbeddings,
        ["d_model"] = DModel,
        ["d_ff"] = DFf,
        ["d_kv"] = DKv,
        ["num_heads"] = NumHeads,
        ["num_layers"] = NumLayers,
        ["num_decoder_layers"] = NumDecoderLayers,
        ["vocab_size"] = VocabSize,
    };

    /// <summary>One line for people: the sizes that tell T5 models apart.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"T5 {FeedForwardProj} d_model={DModel} d_ff={DFf} d_kv={DKv} heads={NumHeads} layers={NumLayers}+{NumDecoderLayers} vocab={VocabSize} {(TieWordEmbeddings ? "tied" : "untied")}");
}
