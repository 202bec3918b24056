using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Specialist.Models;

// T5 encoder-decoder (Raffel et al. 2020) in the layout of Hugging Face's modeling_t5.py, so that parameter names are
// the checkpoint keys: fields carry the Hugging Face attribute names (shared, encoder, block, layer, SelfAttention, q …)
// and RegisterComponents() turns them into "encoder.block.0.layer.0.SelfAttention.q.weight".
// What sets T5 apart from a textbook transformer: RMS layer norm without mean or bias, computed in fp32; pre-norm
// residual blocks; no 1/sqrt(d) scaling of attention scores (the initialisation absorbs it); learned relative-position
// buckets instead of absolute positions, held by the first block's self-attention and shared by every block; v1.0 ties
// the output layer to the input embedding and rescales by d_model^-0.5 first.

/// <summary>
/// T5 for conditional generation (Hugging Face's <c>T5ForConditionalGeneration</c>): <see cref="forward"/> gives logits,
/// <see cref="Encode"/> runs the encoder alone. Parameter names equal the Hugging Face checkpoint keys.
/// A new model has random weights initialised as Hugging Face does (seed with <c>torch.manual_seed</c>);
/// <see cref="T5Checkpoint.Load"/> gives trained ones.
/// </summary>
public sealed class T5Model : nn.Module
{
    private readonly Embedding shared;
    private readonly T5Stack encoder;
    private readonly T5Stack decoder;
    private readonly Linear? lm_head;
    private readonly MatmulPrecision precision = new();

    /// <summary>The configuration the model was built from.</summary>
    public T5Config Config { get; }

    /// <summary>
    /// The dtype the matrix multiplies run in (linear layers, attention, the output layer); null (the default): the
    /// weights'. bf16 over fp32 weights is mixed-precision training (see <see cref="MatmulPrecision"/>).
    /// </summary>
    public ScalarType? MatmulType { get => precision.ComputeType; set => precision.ComputeType = value; }

    /// <summary>The dtype of the weights.</summary>
    public ScalarType DType => shared.weight!.dtype;

    /// <summary>The device the weights are on; inputs go there (<see cref="T5Generator"/> puts its own tensors there too).</summary>
    public Device Device => shared.weight!.device;

    /// <summary>Builds a model with Hugging Face's random initialisation (factor 1.0).</summary>
    public T5Model(T5Config config, ScalarType dtype = ScalarType.Float32) : this(config, dtype, initialize: true) { }

    /// <param name="config">The configuration.</param>
    /// <param name="dtype">The dtype of the weights.</param>
    /// <param name="initialize">Draw random weights (false: they are loaded next).</param>
    /// <param name="generator">What the random weights are drawn from; null: libtorch's global generator.</param>
    internal T5Model(T5Config config, ScalarType dtype, bool initialize, Generator? generator = null) : base("T5ForConditionalGeneration")
    {
        config.Validate("T5 config");
        // float64 is for exact comparisons (the Hugging Face parity test), not for training or serving.
        if (dtype is not (ScalarType.Float32 or ScalarType.BFloat16 or ScalarType.Float16 or ScalarType.Float64))
            throw new ArgumentException($"T5 weights are float32, bfloat16, float16 or float64, not {dtype}", nameof(dtype));
        TorchRuntime.EnsureLoaded();
        Config = config;
        shared = nn.Embedding(config.VocabSize, config.DModel, dtype: dtype);
        encoder = new T5Stack(config, isDecoder: false, dtype, precision);
        decoder = new T5Stack(config, isDecoder: true, dtype, precision);
        if (!config.TieWordEmbeddings) lm_head = nn.Linear(config.DModel, config.VocabSize, hasBias: false, dtype: dtype);
        RegisterComponents();
        if (initialize) InitializeWeights(generator);
    }

    /// <summary>
    /// The parameter names and shapes a checkpoint of <paramref name="config"/> holds, in model order, computed without
    /// libtorch so a checkpoint can be checked before anything is allocated. Equal to <c>named_parameters()</c>.
    /// </summary>
    public static IReadOnlyList<(string Name, long[] Shape)> ParameterShapes(T5Config config)
    {
        long d = config.DModel, inner = (long)config.NumHeads * config.DKv, ff = config.DFf;
        var list = new List<(string, long[])> { ("shared.weight", [config.VocabSize, d]) };
        foreach (var (stack, layers) in new[] { ("encoder", config.NumLayers), ("decoder", config.NumDecoderLayers) })
        {
            for (var b = 0; b < layers; b++)
            {
                var prefix = $"{stack}.block.{b}.layer.";
                void Attention(string layer, string name, bool relative)
                {
                    foreach (var w in new[] { "q", "k", "v" }) list.Add(($"{prefix}{layer}.{name}.{w}.weight", [inner, d]));
                    list.Add(($"{prefix}{layer}.{name}.o.weight", [d, inner]));
                    if (relative) list.Add(($"{prefix}{layer}.{name}.relative_attention_bias.weight", [config.RelativeAttentionNumBuckets, config.NumHeads]));
                    list.Add(($"{prefix}{layer}.layer_norm.weight", [d]));
                }
                Attention("0", "SelfAttention", relative: b == 0);
                if (stack == "decoder") Attention("1", "EncDecAttention", relative: false);
                var ffLayer = stack == "decoder" ? "2" : "1";
                if (config.IsGatedAct)
                {
                    list.Add(($"{prefix}{ffLayer}.DenseReluDense.wi_0.weight", [ff, d]));
                    list.Add(($"{prefix}{ffLayer}.DenseReluDense.wi_1.weight", [ff, d]));
                }
                else list.Add(($"{prefix}{ffLayer}.DenseReluDense.wi.weight", [ff, d]));
                list.Add(($"{prefix}{ffLayer}.DenseReluDense.wo.weight", [d, ff]));
                list.Add(($"{prefix}{ffLayer}.layer_norm.weight", [d]));
            }
            list.Add(($"{stack}.final_layer_norm.weight", [d]));
        }
        if (!config.TieWordEmbeddings) list.Add(("lm_head.weight", [config.VocabSize, d]));
        return list;
    }

    /// <summary>The number of weights.</summary>
    public long ParameterCount => parameters().Sum(p => p.numel());

    // Hugging Face's T5PreTrainedModel._init_weights with initializer_factor 1.0 (Mesh TensorFlow's initialisation).
    private void InitializeWeights(Generator? generator)
    {
        using var _ = no_grad();
        double d = Config.DModel, dKv = Config.DKv, heads = Config.NumHeads;
        foreach (var (name, p) in named_parameters())
        {
            var leaf = name.Split('.')[^2];
            double? std = leaf switch
            {
                "shared" or "lm_head" => 1.0,
                "q" => Math.Pow(d * dKv, -0.5),
                "k" or "v" or "relative_attention_bias" or "wi" or "wi_0" or "wi_1" => Math.Pow(d, -0.5),
                "o" => Math.Pow(heads * dKv, -0.5),
                "wo" => Math.Pow(Config.DFf, -0.5),
                _ => null, // layer norms
            };
            // Tensor.normal_, not nn.init.normal_: TorchSharp 0.107's nn.init ignores the generator it is given.
            if (std is { } s) p.normal_(0, s, generator);
            else p.fill_(1.0);
        }
    }

    /// <summary>
    /// Logits (batch, decoder length, vocab) for <paramref name="decoderInputIds"/> (labels shifted right, see
    /// <see cref="ShiftRight"/>) given the encoder input. Masks hold 1 for real tokens and 0 for padding.
    /// </summary>
    public Tensor forward(Tensor inputIds, Tensor attentionMask, Tensor decoderInputIds, Tensor? decoderAttentionMask = null)
    {
        CheckIds(decoderInputIds, decoderAttentionMask, "decoder_input_ids");
        if (decoderInputIds.shape[0] != inputIds.shape[0])
            throw new ArgumentException($"decoder_input_ids has batch {decoderInputIds.shape[0]}, input_ids {inputIds.shape[0]}");
        using var scope = NewDisposeScope();
        var encoded = Encode(inputIds, attentionMask);
        return Logits(DecoderHidden(decoderInputIds, decoderAttentionMask, encoded, attentionMask)).MoveToOuterDisposeScope();
    }

    /// <summary>The encoder's output (batch, length, d_model).</summary>
    public Tensor Encode(Tensor inputIds, Tensor attentionMask)
    {
        CheckIds(inputIds, attentionMask, "input_ids");
        using var scope = NewDisposeScope();
        var bias = encoder.SelfAttentionBias(inputIds.shape[1], inputIds.shape[1], 0, attentionMask);
        return encoder.forward(shared.call(inputIds), bias, null, null).MoveToOuterDisposeScope();
    }

    /// <summary>Logits (batch, decoder length, vocab) from an <see cref="Encode"/> output.</summary>
    public Tensor Decode(Tensor decoderInputIds, Tensor? decoderAttentionMask, Tensor encoderHidden, Tensor encoderAttentionMask)
    {
        CheckIds(decoderInputIds, decoderAttentionMask, "decoder_input_ids");
        if (encoderHidden.dim() != 3 || encoderHidden.shape[2] != Config.DModel || encoderHidden.shape[0] != decoderInputIds.shape[0]
            || !encoderAttentionMask.shape.SequenceEqual(encoderHidden.shape[..2]))
            throw new ArgumentException($"encoder output [{string.Join(", ", encoderHidden.shape)}] and its mask [{string.Join(", ", encoderAttentionMask.shape)}] " +
                $"do not fit decoder input [{string.Join(", ", decoderInputIds.shape)}] and d_model {Config.DModel}");
        using var scope = NewDisposeScope();
        return Logits(DecoderHidden(decoderInputIds, decoderAttentionMask, encoderHidden, encoderAttentionMask)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The decoder input for <paramref name="labels"/> (batch, length): the decoder start token, then the labels without
    /// their last token; -100 (ignored label positions) becomes the pad id.
    /// </summary>
    public Tensor ShiftRight(Tensor labels)
    {
        if (labels.dim() != 2) throw new ArgumentException($"labels must be (batch, length), got [{string.Join(", ", labels.shape)}]");
        using var scope = NewDisposeScope();
        var start = full(labels.shape[0], 1, Config.DecoderStartTokenId, dtype: labels.dtype, device: labels.device);
        var shifted = cat([start, labels.narrow(1, 0, labels.shape[1] - 1)], 1);
        return shifted.masked_fill(shifted.eq(-100), Config.PadTokenId).MoveToOuterDisposeScope();
    }

    internal Tensor DecoderHidden(Tensor decoderInputIds, Tensor? decoderAttentionMask, Tensor encoderHidden, Tensor encoderAttentionMask)
    {
        var length = decoderInputIds.shape[1];
        var selfBias = decoder.SelfAttentionBias(length, length, 0, decoderAttentionMask);
        return decoder.forward(shared.call(decoderInputIds), selfBias, encoderHidden, PaddingBias(encoderAttentionMask, DType));
    }

    internal Tensor Logits(Tensor decoderHidden)
    {
        if (lm_head is not null) return precision.Linear(lm_head, decoderHidden);
        // Tied embeddings (v1.0): Mesh TensorFlow rescales the decoder output before reusing the embedding matrix.
        return precision.Linear(decoderHidden * Math.Pow(Config.DModel, -0.5), shared.weight!);
    }

    // --- Incremental decoding: one new token per step against cached keys and values. ---

    /// <summary>
    /// Prepares a decoder cache for up to <paramref name="maxLength"/> decoder positions: the cross-attention keys and
    /// values of every layer (computed once), empty self-attention key/value buffers, and the self-attention position
    /// bias for every distance, so a step only slices it. Its tensors belong to the caller's dispose scope.
    /// </summary>
    internal DecoderCache StartDecoding(Tensor encoderHidden, Tensor encoderAttentionMask, int maxLength) =>
        decoder.StartDecoding(encoderHidden, PaddingBias(encoderAttentionMask, DType), maxLength);

    /// <summary>Logits (batch, vocab) of the next token after <paramref name="tokens"/> (batch, 1) at decoder position <paramref name="position"/>.</summary>
    internal Tensor DecodeStep(Tensor tokens, int position, DecoderCache cache)
    {
        using var scope = NewDisposeScope();
        var hidden = decoder.Step(shared.call(tokens), position, cache);
        return Logits(hidden.squeeze(1)).MoveToOuterDisposeScope();
    }

    /// <summary>Additive attention bias (batch, 1, 1, keys) from a 1/0 padding mask: 0 where attended, the dtype's minimum where masked.</summary>
    internal static Tensor PaddingBias(Tensor mask, ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        var masked = mask.eq(0).unsqueeze(1).unsqueeze(1);
        return zeros(masked.shape, dtype, masked.device).masked_fill(masked, finfo(dtype).min).MoveToOuterDisposeScope();
    }

    // libtorch aborts the process (instead of throwing) on some shape errors, so shapes are checked here first.
    private static void CheckIds(Tensor ids, Tensor? mask, string name)
    {
        if (ids.dim() != 2 || ids.shape[1] == 0)
            throw new ArgumentException($"{name} must be (batch, length) with length > 0, got [{string.Join(", ", ids.shape)}]");
        if (ids.dtype is not (ScalarType.Int64 or ScalarType.Int32))
            throw new ArgumentException($"{name} must hold integer ids, got {ids.dtype}");
        if (mask is not null && !mask.shape.SequenceEqual(ids.shape))
            throw new ArgumentException($"the mask of {name} is [{string.Join(", ", mask.shape)}], {name} [{string.Join(", ", ids.shape)}]");
    }
}

/// <summary>A stack of T5 blocks (Hugging Face's T5Stack) with its final layer norm; the embedding is the model's.</summary>
internal sealed class T5Stack : nn.Module
{
    private readonly ModuleList<T5Block> block;
    private readonly RmsNorm final_layer_norm;
    private readonly bool isDecoder;
    private readonly double dropoutRate;

    public T5Stack(T5Config config, bool isDecoder, ScalarType dtype, MatmulPrecision precision) : base(isDecoder ? "decoder" : "encoder")
    {
        this.isDecoder = isDecoder;
        dropoutRate = config.DropoutRate;
        var count = isDecoder ? config.NumDecoderLayers : config.NumLayers;
        block = new ModuleList<T5Block>([.. Enumerable.Range(0, count).Select(i => new T5Block(config, isDecoder, hasRelativeAttentionBias: i == 0, dtype, precision))]);
        final_layer_norm = new RmsNorm(config.DModel, config.LayerNormEpsilon, dtype);
        RegisterComponents();
    }

    private T5Attention FirstSelfAttention => block[0].SelfAttention;

    /// <summary>
    /// The self-attention bias every block adds to its scores (1 or batch, heads, queries, keys): relative positions
    /// for queries at <paramref name="queryOffset"/>… plus padding (and in the decoder, causal) masking.
    /// </summary>
    public Tensor SelfAttentionBias(long queryLength, long keyLength, long queryOffset, Tensor? paddingMask)
    {
        using var scope = NewDisposeScope();
        var bias = FirstSelfAttention.PositionBias(queryLength, keyLength, queryOffset);
        // One boolean mask filled once: adding two minimums would overflow to -inf.
        Tensor? blocked = paddingMask?.eq(0).unsqueeze(1).unsqueeze(1);
        if (isDecoder)
        {
            var future = ones(queryLength, keyLength, ScalarType.Bool, bias.device).triu(queryOffset + 1);
            blocked = blocked is null ? future : blocked.logical_or(future);
        }
        if (blocked is not null) bias = where(blocked, tensor(finfo(bias.dtype).min, bias.dtype, bias.device), bias);
        return bias.MoveToOuterDisposeScope();
    }

    public Tensor forward(Tensor embedded, Tensor selfBias, Tensor? encoderHidden, Tensor? crossBias)
    {
        using var scope = NewDisposeScope();
        var hidden = Dropout(embedded);
        foreach (var b in block) hidden = b.forward(hidden, selfBias, encoderHidden, crossBias);
        return Dropout(final_layer_norm.forward(hidden)).MoveToOuterDisposeScope();
    }

    public DecoderCache StartDecoding(Tensor encoderHidden, Tensor crossBias, int maxLength)
    {
        var layers = block.Select(b => b.StartDecoding(encoderHidden, maxLength)).ToArray();
        // Bias for a key d positions back is at index maxLength-1-d, so the keys 0..t of query t are the last t+1 entries.
        var distances = FirstSelfAttention.PositionBias(1, maxLength, maxLength - 1);
        return new DecoderCache(layers, crossBias, distances, maxLength);
    }

    public Tensor Step(Tensor embedded, int position, DecoderCache cache)
    {
        if (position < 0 || position >= cache.MaxLength)
            throw new ArgumentOutOfRangeException(nameof(position), $"position {position} is outside the cache's {cache.MaxLength} positions");
        var selfBias = cache.SelfBiasByDistance.narrow(3, cache.MaxLength - 1 - position, position + 1);
        var hidden = embedded;
        for (var i = 0; i < block.Count; i++) hidden = block[i].Step(hidden, selfBias, position, cache.Layers[i], cache.CrossBias);
        return final_layer_norm.forward(hidden);
    }

    private Tensor Dropout(Tensor x) => training && dropoutRate > 0 ? F.dropout(x, dropoutRate, training) : x;
}

/// <summary>One block: self-attention, cross-attention (decoder only), feed-forward; each pre-normed and residual.</summary>
internal sealed class T5Block : nn.Module
{
    private readonly ModuleList<nn.Module> layer;

    public T5Block(T5Config config, bool isDecoder, bool hasRelativeAttentionBias, ScalarType dtype, MatmulPrecision precision) : base("T5Block")
    {
        layer = new ModuleList<nn.Module>(new T5LayerSelfAttention(config, isDecoder, hasRelativeAttentionBias, dtype, precision));
        if (isDecoder) layer.Add(new T5LayerCrossAttention(config, dtype, precision));
        layer.Add(new T5LayerFF(config, dtype, precision));
        RegisterComponents();
    }

    public T5Attention SelfAttention => SelfAttentionLayer.SelfAttention;
    private T5LayerSelfAttention SelfAttentionLayer => (T5LayerSelfAttention)layer[0];
    private T5LayerCrossAttention CrossAttentionLayer => (T5LayerCrossAttention)layer[1];
    private T5LayerFF FeedForward => (T5LayerFF)layer[^1];

    public Tensor forward(Tensor hidden, Tensor selfBias, Tensor? encoderHidden, Tensor? crossBias)
    {
        // A scope per block frees what backward does not need as soon as the block is done.
        using var scope = NewDisposeScope();
        hidden = ClampInFloat16(SelfAttentionLayer.forward(hidden, selfBias));
        if (encoderHidden is not null) hidden = ClampInFloat16(CrossAttentionLayer.forward(hidden, encoderHidden, crossBias!));
        return ClampInFloat16(FeedForward.forward(hidden)).MoveToOuterDisposeScope();
    }

    public LayerCache StartDecoding(Tensor encoderHidden, int maxLength) =>
        new(SelfAttention.EmptyCache(encoderHidden.shape[0], maxLength), CrossAttentionLayer.EncDecAttention.KeysAndValues(encoderHidden));

    public Tensor Step(Tensor hidden, Tensor selfBias, int position, LayerCache cache, Tensor crossBias)
    {
        using var scope = NewDisposeScope();
        hidden = ClampInFloat16(SelfAttentionLayer.Step(hidden, selfBias, position, cache.Self));
        hidden = ClampInFloat16(CrossAttentionLayer.Step(hidden, cache.Cross, crossBias));
        return ClampInFloat16(FeedForward.forward(hidden)).MoveToOuterDisposeScope();
    }

    // As Hugging Face does for fp16 (whose range T5 activations can exceed): clamp to the finite range, with a
    // margin once something has overflowed to infinity.
    private static Tensor ClampInFloat16(Tensor hidden)
    {
        if (hidden.dtype != ScalarType.Float16) return hidden;
        var max = finfo(ScalarType.Float16).max;
        var limit = hidden.isinf().any().item<bool>() ? max - 1000 : max;
        return hidden.clamp(-limit, limit);
    }
}

internal sealed class T5LayerSelfAttention : nn.Module
{
    public readonly T5Attention SelfAttention;
    private readonly RmsNorm layer_norm;
    private readonly double dropoutRate;

    public T5LayerSelfAttention(T5Config config, bool isDecoder, bool hasRelativeAttentionBias, ScalarType dtype, MatmulPrecision precision) : base("T5LayerSelfAttention")
    {
        SelfAttention = new T5Attention(config, hasRelativeAttentionBias, bidirectional: !isDecoder, dtype, precision);
        layer_norm = new RmsNorm(config.DModel, config.LayerNormEpsilon, dtype);
        dropoutRate = config.DropoutRate;
        RegisterComponents();
    }

    public Tensor forward(Tensor hidden, Tensor bias)
    {
        var normed = layer_norm.forward(hidden);
        var attended = SelfAttention.forward(normed, normed, bias);
        return hidden + (training && dropoutRate > 0 ? F.dropout(attended, dropoutRate, training) : attended);
    }

    public Tensor Step(Tensor hidden, Tensor bias, int position, KeyValues cache) =>
        hidden + SelfAttention.Step(layer_norm.forward(hidden), bias, position, cache);
}

internal sealed class T5LayerCrossAttention : nn.Module
{
    public readonly T5Attention EncDecAttention;
    private readonly RmsNorm layer_norm;
    private readonly double dropoutRate;

    public T5LayerCrossAttention(T5Config config, ScalarType dtype, MatmulPrecision precision) : base("T5LayerCrossAttention")
    {
        EncDecAttention = new T5Attention(config, hasRelativeAttentionBias: false, bidirectional: true, dtype, precision);
        layer_norm = new RmsNorm(config.DModel, config.LayerNormEpsilon, dtype);
        dropoutRate = config.DropoutRate;
        RegisterComponents();
    }

    public Tensor forward(Tensor hidden, Tensor encoderHidden, Tensor bias)
    {
        var attended = EncDecAttention.forward(layer_norm.forward(hidden), encoderHidden, bias);
        return hidden + (training && dropoutRate > 0 ? F.dropout(attended, dropoutRate, training) : attended);
    }

    public Tensor Step(Tensor hidden, KeyValues encoder, Tensor bias) =>
        hidden + EncDecAttention.Attend(EncDecAttention.QueryHeads(layer_norm.forward(hidden)), encoder.Keys, encoder.Values, bias);
}

internal sealed class T5LayerFF : nn.Module
{
    private readonly T5FeedForward DenseReluDense;
    private readonly RmsNorm layer_norm;
    private readonly double dropoutRate;

    public T5LayerFF(T5Config config, ScalarType dtype, MatmulPrecision precision) : base("T5LayerFF")
    {
        DenseReluDense = config.IsGatedAct ? new T5DenseGatedActDense(config, dtype, precision) : new T5DenseActDense(config, dtype, precision);
        layer_norm = new RmsNorm(config.DModel, config.LayerNormEpsilon, dtype);
        dropoutRate = config.DropoutRate;
        RegisterComponents();
    }

    public Tensor forward(Tensor hidden)
    {
        var normed = layer_norm.forward(hidden);
        var ff = DenseReluDense.forward(normed);
        return hidden + (training && dropoutRate > 0 ? F.dropout(ff, dropoutRate, training) : ff);
    }
}

/// <summary>
/// What both T5 feed-forwards share: the output projection <c>wo</c> after dropout. The input side differs (v1.0 one
/// ReLU projection, v1.1 a gated GELU pair), and the modules keep Hugging Face's names so that checkpoint keys map 1:1.
/// </summary>
internal abstract class T5FeedForward : nn.Module
{
    protected readonly Linear wo;
    private readonly double dropoutRate;
    protected readonly MatmulPrecision precision;

    protected T5FeedForward(string name, T5Config config, ScalarType dtype, MatmulPrecision precision) : base(name)
    {
        this.precision = precision;
        wo = nn.Linear(config.DFf, config.DModel, hasBias: false, dtype: dtype);
        dropoutRate = config.DropoutRate;
    }

    public abstract Tensor forward(Tensor x);

    protected Tensor Project(Tensor h) => precision.Linear(wo, training && dropoutRate > 0 ? F.dropout(h, dropoutRate, training) : h);
}

/// <summary>T5 v1.0 feed-forward: wo(dropout(relu(wi(x)))).</summary>
internal sealed class T5DenseActDense : T5FeedForward
{
    private readonly Linear wi;

    public T5DenseActDense(T5Config config, ScalarType dtype, MatmulPrecision precision) : base("T5DenseActDense", config, dtype, precision)
    {
        wi = nn.Linear(config.DModel, config.DFf, hasBias: false, dtype: dtype);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => Project(F.relu(precision.Linear(wi, x)));
}

/// <summary>T5 v1.1 / FlanT5 feed-forward: wo(dropout(gelu_tanh(wi_0(x)) * wi_1(x))).</summary>
internal sealed class T5DenseGatedActDense : T5FeedForward
{
    private readonly Linear wi_0, wi_1;

    public T5DenseGatedActDense(T5Config config, ScalarType dtype, MatmulPrecision precision) : base("T5DenseGatedActDense", config, dtype, precision)
    {
        wi_0 = nn.Linear(config.DModel, config.DFf, hasBias: false, dtype: dtype);
        wi_1 = nn.Linear(config.DModel, config.DFf, hasBias: false, dtype: dtype);
        RegisterComponents();
    }

    // Hugging Face's "gelu_new" is GELU with the tanh approximation.
    public override Tensor forward(Tensor x) => Project(F.gelu(precision.Linear(wi_0, x), GELU.Approximate.tanh) * precision.Linear(wi_1, x));
}

/// <summary>Multi-head attention without score scaling, with an optional relative-position bias table.</summary>
internal sealed class T5Attention : nn.Module
{
    private readonly Linear q, k, v, o;
    private readonly Embedding? relative_attention_bias;
    private readonly int heads, dKv, numBuckets, maxDistance;
    private readonly bool bidirectional;
    private readonly double dropoutRate;
    private readonly MatmulPrecision precision;

    public T5Attention(T5Config config, bool hasRelativeAttentionBias, bool bidirectional, ScalarType dtype, MatmulPrecision precision) : base("T5Attention")
    {
        this.precision = precision;
        heads = config.NumHeads;
        dKv = config.DKv;
        numBuckets = config.RelativeAttentionNumBuckets;
        maxDistance = config.RelativeAttentionMaxDistance;
        this.bidirectional = bidirectional;
        dropoutRate = config.DropoutRate;
        var inner = heads * dKv;
        q = nn.Linear(config.DModel, inner, hasBias: false, dtype: dtype);
        k = nn.Linear(config.DModel, inner, hasBias: false, dtype: dtype);
        v = nn.Linear(config.DModel, inner, hasBias: false, dtype: dtype);
        o = nn.Linear(inner, config.DModel, hasBias: false, dtype: dtype);
        if (hasRelativeAttentionBias) relative_attention_bias = nn.Embedding(numBuckets, heads, dtype: dtype);
        RegisterComponents();
    }

    /// <summary>Attention of <paramref name="hidden"/> over <paramref name="source"/> (itself for self-attention) with an additive bias.</summary>
    public Tensor forward(Tensor hidden, Tensor source, Tensor bias)
    {
        using var scope = NewDisposeScope();
        return Attend(QueryHeads(hidden), Heads(k, source), Heads(v, source), bias).MoveToOuterDisposeScope();
    }

    public Tensor QueryHeads(Tensor hidden) => Heads(q, hidden);

    public KeyValues KeysAndValues(Tensor source) => new(Heads(k, source), Heads(v, source));

    public KeyValues EmptyCache(long batch, int maxLength) => new(
        empty(batch, heads, maxLength, dKv, k.weight.dtype, k.weight.device),
        empty(batch, heads, maxLength, dKv, v.weight.dtype, v.weight.device));

    /// <summary>Self-attention of one new position: its key and value go into the cache, its query attends to positions 0..position.</summary>
    public Tensor Step(Tensor hidden, Tensor bias, int position, KeyValues cache)
    {
        using var scope = NewDisposeScope();
        cache.Keys.narrow(2, position, 1).copy_(Heads(k, hidden));
        cache.Values.narrow(2, position, 1).copy_(Heads(v, hidden));
        var keys = cache.Keys.narrow(2, 0, position + 1);
        var values = cache.Values.narrow(2, 0, position + 1);
        return Attend(QueryHeads(hidden), keys, values, bias).MoveToOuterDisposeScope();
    }

    /// <summary>softmax(q·kᵀ + bias)·v over heads (batch, heads, length, d_kv), then the output projection.</summary>
    public Tensor Attend(Tensor queries, Tensor keys, Tensor values, Tensor bias)
    {
        using var scope = NewDisposeScope();
        var scores = precision.Matmul(queries, keys.transpose(2, 3)) + bias;
        var weights = F.softmax(scores.to(TorchRuntime.AccumulationType(scores.dtype)), -1).to(scores.dtype);
        if (training && dropoutRate > 0) weights = F.dropout(weights, dropoutRate, training);
        var context = precision.Matmul(weights, values).transpose(1, 2);
        return precision.Linear(o, context.reshape(context.shape[0], context.shape[1], heads * dKv)).MoveToOuterDisposeScope();
    }

    // (batch, length, d_model) -> (batch, heads, length, d_kv)
    private Tensor Heads(Linear projection, Tensor x) => precision.Linear(projection, x).view(x.shape[0], x.shape[1], heads, dKv).transpose(1, 2);

    /// <summary>The learned bias (1, heads, queries, keys) for queries at positions offset… and keys at 0…</summary>
    public Tensor PositionBias(long queryLength, long keyLength, long queryOffset)
    {
        if (relative_attention_bias is null) throw new InvalidOperationException("only the first block's self-attention holds the position bias");
        using var scope = NewDisposeScope();
        var device = relative_attention_bias.weight!.device;
        var queryPositions = arange(queryOffset, queryOffset + queryLength, dtype: ScalarType.Int64, device: device).unsqueeze(1);
        var keyPositions = arange(keyLength, dtype: ScalarType.Int64, device: device).unsqueeze(0);
        var buckets = RelativePositionBucket(keyPositions - queryPositions, bidirectional, numBuckets, maxDistance);
        return relative_attention_bias.call(buckets).permute(2, 0, 1).unsqueeze(0).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Mesh TensorFlow's bucketing of relative positions (key − query): exact buckets for small distances, then
    /// logarithmically wider ones up to <paramref name="maxDistance"/>; bidirectional uses half the buckets per
    /// direction, unidirectional (causal) maps every future position to bucket 0. Arithmetic as Hugging Face's (fp32).
    /// </summary>
    internal static Tensor RelativePositionBucket(Tensor relativePosition, bool bidirectional, int numBuckets, int maxDistance)
    {
        using var scope = NewDisposeScope();
        Tensor? direction = null;
        Tensor distance;
        if (bidirectional)
        {
            numBuckets /= 2;
            direction = relativePosition.gt(0).to(ScalarType.Int64) * numBuckets;
            distance = relativePosition.abs();
        }
        else distance = (-relativePosition).clamp_min(0);
        var maxExact = numBuckets / 2;
        var logRatio = (distance.to(ScalarType.Float32) / maxExact).log() / Math.Log((double)maxDistance / maxExact) * (numBuckets - maxExact);
        var large = (logRatio.to(ScalarType.Int64) + maxExact).clamp_max(numBuckets - 1);
        var bucket = where(distance.lt(maxExact), distance, large);
        return (direction is null ? bucket : direction + bucket).MoveToOuterDisposeScope();
    }
}

/// <summary>A layer's keys and values (batch, heads, length, d_kv).</summary>
internal sealed record KeyValues(Tensor Keys, Tensor Values);

/// <summary>One decoder block's cache: self-attention buffers filled step by step, cross-attention computed once.</summary>
internal sealed record LayerCache(KeyValues Self, KeyValues Cross);

/// <summary>
/// What incremental decoding keeps between steps. <see cref="SelfBiasByDistance"/> (1, heads, 1, max length) holds the
/// position bias of a key d positions before the query at index max length − 1 − d.
/// </summary>
internal sealed record DecoderCache(LayerCache[] Layers, Tensor CrossBias, Tensor SelfBiasByDistance, int MaxLength)
{
    /// <summary>Every tensor of the cache, for an owner that disposes them itself.</summary>
    public IEnumerable<Tensor> Tensors =>
        [.. Layers.SelectMany(l => new[] { l.Self.Keys, l.Self.Values, l.Cross.Keys, l.Cross.Values }), CrossBias, SelfBiasByDistance];

    /// <summary>
    /// The cache of the batch rows <paramref name="rows"/> only, as new tensors in the caller's dispose scope; this
    /// cache's per-row tensors are disposed (the position bias is shared).
    /// </summary>
    public DecoderCache KeepRows(Tensor rows) => this with
    {
        Layers = [.. Layers.Select(l => new LayerCache(
            new KeyValues(DecodingBatch.SelectRows(l.Self.Keys, rows), DecodingBatch.SelectRows(l.Self.Values, rows)),
            new KeyValues(DecodingBatch.SelectRows(l.Cross.Keys, rows), DecodingBatch.SelectRows(l.Cross.Values, rows))))],
        CrossBias = DecodingBatch.SelectRows(CrossBias, rows),
    };
}
