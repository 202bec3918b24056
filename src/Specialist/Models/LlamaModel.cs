using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Specialist.Models;

// Llama (Touvron et al. 2023) and Qwen2, decoder-only, in the layout of Hugging Face's modeling_llama.py and
// modeling_qwen2.py, so that parameter names are the checkpoint keys: "model.layers.0.self_attn.q_proj.weight".
// What sets the family apart from a textbook transformer: pre-norm blocks with RMSNorm (computed in fp32); rotary
// position embeddings on queries and keys (the first and second half of each head rotate together, as Hugging Face
// permutes Meta's checkpoints); grouped-query attention (each key/value head serves several query heads); a SwiGLU
// MLP, down(silu(gate(x)) * up(x)); no biases but Qwen2's on q, k and v. Batches are left-padded: a row's positions
// count its real tokens only (position ids from the attention mask), and padded keys are masked out.

/// <summary>
/// A causal language model of the Llama family (Hugging Face's <c>LlamaForCausalLM</c>, <c>Qwen2ForCausalLM</c>):
/// <see cref="forward"/> gives logits for left-padded batches, with a <see cref="LlamaCache"/> for incremental
/// decoding. Parameter names equal the Hugging Face checkpoint keys. A new model has random weights initialised as
/// Hugging Face does; <see cref="LlamaCheckpoint.Load"/> gives trained ones.
/// </summary>
public sealed class LlamaModel : nn.Module
{
    private readonly LlamaDecoder model;
    private readonly Linear? lm_head;
    private readonly MatmulPrecision precision = new();

    /// <summary>The configuration the model was built from.</summary>
    public LlamaConfig Config { get; }

    /// <summary>
    /// The dtype the matrix multiplies run in (linear layers, attention, the output layer); null (the default): the
    /// weights'. bf16 over fp32 weights is mixed-precision training (see <see cref="MatmulPrecision"/>).
    /// </summary>
    public ScalarType? MatmulType { get => precision.ComputeType; set => precision.ComputeType = value; }

    /// <summary>The dtype of the weights.</summary>
    public ScalarType DType => model.EmbeddingWeight.dtype;

    /// <summary>The device the weights are on.</summary>
    public Device Device => model.EmbeddingWeight.device;

    /// <summary>Builds a model with Hugging Face's random initialisation (normal, standard deviation 0.02).</summary>
    public LlamaModel(LlamaConfig config, ScalarType dtype = ScalarType.Float32) : this(config, dtype, initialize: true) { }

    /// <param name="config">The configuration.</param>
    /// <param name="dtype">The dtype of the weights.</param>
    /// <param name="initialize">Draw random weights (false: they are loaded next).</param>
    /// <param name="generator">What the random weights are drawn from; null: libtorch's global generator.</param>
    internal LlamaModel(LlamaConfig config, ScalarType dtype, bool initialize, Generator? generator = null) : base(config.ModelType == LlamaConfig.Qwen2 ? "Qwen2ForCausalLM" : "LlamaForCausalLM")
    {
        config.Validate($"{config.ModelType} config");
        // float64 is for exact comparisons (the Hugging Face parity test), not for training or serving.
        if (dtype is not (ScalarType.Float32 or ScalarType.BFloat16 or ScalarType.Float16 or ScalarType.Float64))
            throw new ArgumentException($"weights are float32, bfloat16, float16 or float64, not {dtype}", nameof(dtype));
        TorchRuntime.EnsureLoaded();
        Config = config;
        model = new LlamaDecoder(config, dtype, precision);
        if (!config.TieWordEmbeddings) lm_head = nn.Linear(config.HiddenSize, config.VocabSize, hasBias: false, dtype: dtype);
        RegisterComponents();
        if (initialize) InitializeWeights(generator);
    }

    /// <summary>
    /// The parameter names and shapes a checkpoint of <paramref name="config"/> holds, in model order, computed without
    /// libtorch so a checkpoint can be checked before anything is allocated. Equal to <c>named_parameters()</c>.
    /// </summary>
    public static IReadOnlyList<(string Name, long[] Shape)> ParameterShapes(LlamaConfig config)
    {
        long d = config.HiddenSize, q = (long)config.NumAttentionHeads * config.HeadDim, kv = (long)config.NumKeyValueHeads * config.HeadDim, ff = config.IntermediateSize;
        var list = new List<(string, long[])> { ("model.embed_tokens.weight", [config.VocabSize, d]) };
        for (var i = 0; i < config.NumHiddenLayers; i++)
        {
            var p = $"model.layers.{i}.";
            foreach (var (name, rows) in new[] { ("q_proj", q), ("k_proj", kv), ("v_proj", kv) })
            {
                list.Add(($"{p}self_attn.{name}.weight", [rows, d]));
                if (config.QkvBias) list.Add(($"{p}self_attn.{name}.bias", [rows]));
            }
            list.Add(($"{p}self_attn.o_proj.weight", [d, q]));
            if (config.OutputBias) list.Add(($"{p}self_attn.o_proj.bias", [d]));
            list.Add(($"{p}mlp.gate_proj.weight", [ff, d]));
            list.Add(($"{p}mlp.up_proj.weight", [ff, d]));
            list.Add(($"{p}mlp.down_proj.weight", [d, ff]));
            list.Add(($"{p}input_layernorm.weight", [d]));
            list.Add(($"{p}post_attention_layernorm.weight", [d]));
        }
        list.Add(("model.norm.weight", [d]));
        if (!config.TieWordEmbeddings) list.Add(("lm_head.weight", [config.VocabSize, d]));
        return list;
    }

    /// <summary>The number of weights.</summary>
    public long ParameterCount => parameters().Sum(p => p.numel());

    // Hugging Face's LlamaPreTrainedModel._init_weights: linear and embedding weights normal(0, initializer_range 0.02),
    // biases zero, the padding row of the embedding zero; norms start at 1.
    private void InitializeWeights(Generator? generator)
    {
        using var _ = no_grad();
        foreach (var (name, p) in named_parameters())
        {
            if (name.EndsWith("layernorm.weight", StringComparison.Ordinal) || name == "model.norm.weight") continue;
            if (name.EndsWith(".bias", StringComparison.Ordinal)) p.zero_();
            // Tensor.normal_, not nn.init.normal_: TorchSharp 0.107's nn.init ignores the generator it is given.
            else p.normal_(0, 0.02, generator);
        }
        if (Config.PadTokenId is { } pad) model.EmbeddingWeight[pad].zero_();
    }

    /// <summary>
    /// Logits (batch × length × vocab) for <paramref name="inputIds"/>. <paramref name="attentionMask"/> (batch × all
    /// positions so far, 1 for a real token, 0 for padding) covers the cached positions and the new ones;
    /// <paramref name="positionIds"/> (batch × length) are the new tokens' positions (<see cref="PositionIds"/>). With a
    /// <paramref name="cache"/>, the new keys and values are appended to it.
    /// </summary>
    public Tensor forward(Tensor inputIds, Tensor attentionMask, Tensor positionIds, LlamaCache? cache = null)
    {
        using var scope = NewDisposeScope();
        var hidden = model.forward(inputIds, attentionMask, positionIds, cache);
        return Logits(hidden).MoveToOuterDisposeScope();
    }

    /// <summary>The final hidden states (after the last norm), batch × length × hidden: <see cref="forward"/> without the output layer.</summary>
    public Tensor Hidden(Tensor inputIds, Tensor attentionMask, Tensor positionIds, LlamaCache? cache = null) =>
        model.forward(inputIds, attentionMask, positionIds, cache);

    /// <summary>The output layer: the embedding matrix when tied, else <c>lm_head</c>.</summary>
    internal Tensor Logits(Tensor hidden) => lm_head is null ? precision.Linear(hidden, model.EmbeddingWeight) : precision.Linear(lm_head, hidden);

    /// <summary>
    /// The positions of a left-padded batch, as Hugging Face's <c>generate</c> makes them: each row counts its real
    /// tokens from 0; padded places get 1 (they are masked out, so any value would do).
    /// </summary>
    public static Tensor PositionIds(Tensor attentionMask)
    {
        using var scope = NewDisposeScope();
        var mask = attentionMask.to(ScalarType.Int64);
        return (mask.cumsum(-1, ScalarType.Int64) - 1).masked_fill(mask.eq(0), 1).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// The keys and values of every layer for the positions decoded so far (batch × key/value heads × positions × head
/// width), grown by each <see cref="LlamaModel.forward"/> that is given it. Dispose it when decoding ends.
/// </summary>
public sealed class LlamaCache : IDisposable
{
    private readonly Tensor?[] _keys;
    private readonly Tensor?[] _values;

    public LlamaCache(int layers)
    {
        _keys = new Tensor?[layers];
        _values = new Tensor?[layers];
    }

    /// <summary>Positions cached so far.</summary>
    public long Length => _keys[0]?.shape[2] ?? 0;

    /// <summary>Appends a layer's new keys and values; returns all of them, cached ones first.</summary>
    internal (Tensor Keys, Tensor Values) Append(int layer, Tensor keys, Tensor values)
    {
        var allKeys = _keys[layer] is { } k ? cat([k, keys], 2) : keys.alias();
        var allValues = _values[layer] is { } v ? cat([v, values], 2) : values.alias();
        _keys[layer]?.Dispose();
        _values[layer]?.Dispose();
        // Held past the caller's dispose scope; the caller gets aliases it may dispose.
        _keys[layer] = allKeys.DetachFromDisposeScope();
        _values[layer] = allValues.DetachFromDisposeScope();
        return (allKeys.alias(), allValues.alias());
    }

    /// <summary>Keeps only the batch rows <paramref name="rows"/> of every layer's keys and values.</summary>
    internal void KeepRows(Tensor rows)
    {
        for (var layer = 0; layer < _keys.Length; layer++)
        {
            if (_keys[layer] is { } k) _keys[layer] = DecodingBatch.SelectRows(k, rows).DetachFromDisposeScope();
            if (_values[layer] is { } v) _values[layer] = DecodingBatch.SelectRows(v, rows).DetachFromDisposeScope();
        }
    }

    /// <summary>Every tensor of the cache, for an owner that disposes them itself.</summary>
    internal IEnumerable<Tensor> Tensors => _keys.Concat(_values).OfType<Tensor>();

    public void Dispose()
    {
        foreach (var t in Tensors) t.Dispose();
    }
}

/// <summary>The decoder (Hugging Face's <c>LlamaModel</c>, the <c>model.</c> prefix): embedding, layers, final norm.</summary>
internal sealed class LlamaDecoder : nn.Module
{
    private readonly Embedding embed_tokens;
    private readonly ModuleList<LlamaDecoderLayer> layers;
    private readonly RmsNorm norm;
    private readonly LlamaConfig _config;

    public LlamaDecoder(LlamaConfig config, ScalarType dtype, MatmulPrecision precision) : base("model")
    {
        _config = config;
        embed_tokens = nn.Embedding(config.VocabSize, config.HiddenSize, dtype: dtype);
        layers = new ModuleList<LlamaDecoderLayer>([.. Enumerable.Range(0, config.NumHiddenLayers).Select(i => new LlamaDecoderLayer(config, i, dtype, precision))]);
        norm = new RmsNorm(config.HiddenSize, config.RmsNormEps, dtype);
        RegisterComponents();
    }

    public Tensor EmbeddingWeight => embed_tokens.weight!;

    public Tensor forward(Tensor inputIds, Tensor attentionMask, Tensor positionIds, LlamaCache? cache)
    {
        using var scope = NewDisposeScope();
        var hidden = embed_tokens.call(inputIds);
        var (cos, sin) = Rotary(positionIds, hidden.dtype);
        var mask = CausalMask(attentionMask, inputIds.shape[1], hidden.dtype);
        foreach (var layer in layers) hidden = layer.forward(hidden, cos, sin, mask, cache);
        return norm.forward(hidden).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// cos and sin of each position's rotation angles (batch × length × head width), as Hugging Face's rotary
    /// embedding computes them: inverse frequencies theta^(-2i/d) and angles in fp32 (fp64 for an fp64 model), then
    /// cast to the model's dtype.
    /// </summary>
    private (Tensor Cos, Tensor Sin) Rotary(Tensor positionIds, ScalarType dtype)
    {
        var wide = TorchRuntime.AccumulationType(dtype);
        var dim = _config.HeadDim;
        var exponents = arange(0, dim, 2, dtype: ScalarType.Int64, device: positionIds.device).to(wide) / dim;
        var inverseFrequencies = pow(tensor(_config.RopeTheta, wide, positionIds.device), exponents).reciprocal();
        var angles = positionIds.to(wide).unsqueeze(-1) * inverseFrequencies;
        var both = cat([angles, angles], -1);
        return (both.cos().to(dtype), both.sin().to(dtype));
    }

    /// <summary>
    /// The additive mask (batch × 1 × new × all positions): 0 where a new position may attend (a real token, not after
    /// it), the dtype's lowest value elsewhere, as Hugging Face's eager attention (a fully masked padded row then
    /// stays finite, so it cannot spread NaN into real rows).
    /// </summary>
    private static Tensor CausalMask(Tensor attentionMask, long newPositions, ScalarType dtype)
    {
        var total = attentionMask.shape[1];
        var past = total - newPositions;
        var query = arange(past, total, dtype: ScalarType.Int64, device: attentionMask.device).unsqueeze(1);
        var key = arange(0, total, dtype: ScalarType.Int64, device: attentionMask.device).unsqueeze(0);
        var blocked = key.gt(query).unsqueeze(0) | attentionMask.eq(0).unsqueeze(1);
        return zeros(blocked.shape, dtype, attentionMask.device).masked_fill(blocked, finfo(dtype).min).unsqueeze(1);
    }
}

/// <summary>One pre-norm block: attention, then the MLP, each added to the residual stream.</summary>
internal sealed class LlamaDecoderLayer : nn.Module
{
    private readonly LlamaAttention self_attn;
    private readonly LlamaMlp mlp;
    private readonly RmsNorm input_layernorm;
    private readonly RmsNorm post_attention_layernorm;

    public LlamaDecoderLayer(LlamaConfig config, int index, ScalarType dtype, MatmulPrecision precision) : base($"layer{index}")
    {
        self_attn = new LlamaAttention(config, index, dtype, precision);
        mlp = new LlamaMlp(config, dtype, precision);
        input_layernorm = new RmsNorm(config.HiddenSize, config.RmsNormEps, dtype);
        post_attention_layernorm = new RmsNorm(config.HiddenSize, config.RmsNormEps, dtype);
        RegisterComponents();
    }

    public Tensor forward(Tensor hidden, Tensor cos, Tensor sin, Tensor mask, LlamaCache? cache)
    {
        using var scope = NewDisposeScope();
        hidden = hidden + self_attn.forward(input_layernorm.forward(hidden), cos, sin, mask, cache);
        return (hidden + mlp.forward(post_attention_layernorm.forward(hidden))).MoveToOuterDisposeScope();
    }
}

/// <summary>Grouped-query self-attention with rotary embeddings, scores scaled by 1/sqrt(head width).</summary>
internal sealed class LlamaAttention : nn.Module
{
    private readonly Linear q_proj, k_proj, v_proj, o_proj;
    private readonly int _heads, _kvHeads, _headDim, _layer;
    private readonly MatmulPrecision _precision;

    public LlamaAttention(LlamaConfig config, int layer, ScalarType dtype, MatmulPrecision precision) : base("self_attn")
    {
        _precision = precision;
        (_heads, _kvHeads, _headDim, _layer) = (config.NumAttentionHeads, config.NumKeyValueHeads, config.HeadDim, layer);
        q_proj = nn.Linear(config.HiddenSize, _heads * _headDim, hasBias: config.QkvBias, dtype: dtype);
        k_proj = nn.Linear(config.HiddenSize, _kvHeads * _headDim, hasBias: config.QkvBias, dtype: dtype);
        v_proj = nn.Linear(config.HiddenSize, _kvHeads * _headDim, hasBias: config.QkvBias, dtype: dtype);
        o_proj = nn.Linear(_heads * _headDim, config.HiddenSize, hasBias: config.OutputBias, dtype: dtype);
        RegisterComponents();
    }

    public Tensor forward(Tensor hidden, Tensor cos, Tensor sin, Tensor mask, LlamaCache? cache)
    {
        using var scope = NewDisposeScope();
        long batch = hidden.shape[0], length = hidden.shape[1];
        Tensor Heads(Linear projection, int heads) => _precision.Linear(projection, hidden).view(batch, length, heads, _headDim).transpose(1, 2);
        var (c, s) = (cos.unsqueeze(1), sin.unsqueeze(1));
        var q = Rotate(Heads(q_proj, _heads), c, s);
        var k = Rotate(Heads(k_proj, _kvHeads), c, s);
        var v = Heads(v_proj, _kvHeads);
        if (cache is not null) (k, v) = cache.Append(_layer, k, v);
        // Each key/value head serves heads / kvHeads query heads in a row (Hugging Face's repeat_kv).
        var groups = _heads / _kvHeads;
        if (groups > 1)
        {
            k = k.repeat_interleave(groups, 1);
            v = v.repeat_interleave(groups, 1);
        }
        var scores = _precision.Matmul(q, k.transpose(2, 3)) / Math.Sqrt(_headDim) + mask;
        var weights = F.softmax(scores.to(TorchRuntime.AccumulationType(scores.dtype)), -1).to(scores.dtype);
        var output = _precision.Matmul(weights, v).transpose(1, 2).reshape(batch, length, _heads * _headDim);
        return _precision.Linear(o_proj, output).MoveToOuterDisposeScope();
    }

    /// <summary>x·cos + rotate_half(x)·sin, rotate_half swapping the head's halves as (−second, first).</summary>
    private static Tensor Rotate(Tensor x, Tensor cos, Tensor sin)
    {
        var half = x.shape[^1] / 2;
        var rotated = cat([-x.narrow(-1, half, half), x.narrow(-1, 0, half)], -1);
        return x * cos + rotated * sin;
    }
}

/// <summary>SwiGLU: down(silu(gate(x)) · up(x)).</summary>
internal sealed class LlamaMlp : nn.Module
{
    private readonly Linear gate_proj, up_proj, down_proj;
    private readonly MatmulPrecision _precision;

    public LlamaMlp(LlamaConfig config, ScalarType dtype, MatmulPrecision precision) : base("mlp")
    {
        _precision = precision;
        gate_proj = nn.Linear(config.HiddenSize, config.IntermediateSize, hasBias: false, dtype: dtype);
        up_proj = nn.Linear(config.HiddenSize, config.IntermediateSize, hasBias: false, dtype: dtype);
        down_proj = nn.Linear(config.IntermediateSize, config.HiddenSize, hasBias: false, dtype: dtype);
        RegisterComponents();
    }

    public Tensor forward(Tensor x) => _precision.Linear(down_proj, F.silu(_precision.Linear(gate_proj, x)) * _precision.Linear(up_proj, x));
}
