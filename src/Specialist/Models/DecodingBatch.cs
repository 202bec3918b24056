using TorchSharp;
using static TorchSharp.torch;

namespace Specialist.Models;

/// <summary>
/// One batch of prompts that decodes a step at a time, so that a scheduler can interleave several batches on one thread
/// (the server's generation queue) and stop rows whose result it no longer needs. Rows are numbered as the batch's
/// prompts.
/// </summary>
internal interface IDecodingBatch : IDisposable
{
    /// <summary>Decoder steps run so far: the tokens generated per row, at most.</summary>
    int Steps { get; }

    /// <summary>The rows the next step computes (the work of one step).</summary>
    int DecodingRows { get; }

    /// <summary>Whether every row has ended or the token limit is reached: no step is left to run.</summary>
    bool Done { get; }

    /// <summary>Whether <paramref name="row"/> has ended: it generated end-of-sequence or was stopped.</summary>
    bool Ended(int row);

    /// <summary>Runs one decoder step for every row that has not ended.</summary>
    void Step();

    /// <summary>Ends <paramref name="rows"/>: later steps no longer compute them; what they generated so far stays readable.</summary>
    void Stop(IEnumerable<int> rows);

    /// <summary>What <paramref name="rows"/> generated so far, in that order.</summary>
    IReadOnlyList<GeneratedSequence> Read(IReadOnlyList<int> rows);
}

/// <summary>A batch of a generate call, not yet started: which prompts of the call it holds, and how to start decoding them (which runs the encoder).</summary>
/// <param name="Rows">Indices into the call's prompts.</param>
/// <param name="Start">Encodes the batch's prompts and returns it ready for its first step.</param>
internal sealed record PlannedBatch(IReadOnlyList<int> Rows, Func<IDecodingBatch> Start);

/// <summary>
/// What every model's <see cref="IDecodingBatch"/> keeps the same way: the generated tokens, their log-probabilities,
/// each row's sampling stream, which rows have ended, and shrinking the batch as they accumulate. A model's batch adds
/// the logits of a step (<see cref="StepLogits"/>), how the chosen tokens go back in (<see cref="Feed"/>) and how its
/// own per-row state shrinks (<see cref="KeepStateRows"/>). A row stops at end-of-sequence (padding afterwards).
/// The batch owns its tensors (they are detached from every dispose scope) because it outlives the scope it was made
/// in: the server keeps several batches alive on one thread and steps them in turn. Every operation runs in inference
/// mode, as the tensors were made in it.
/// </summary>
internal abstract class DecodingBatch : IDecodingBatch
{
    private readonly GenerationOptions _options;
    private readonly int _modelVocabulary;
    private readonly int? _vocabularySize;
    private readonly IReadOnlyList<int> _eosIds;
    private readonly Tensor _generated;
    private readonly Tensor? _chosenLogprobs;
    private readonly Tensor? _topLogprobs;
    private readonly Tensor? _topIds;
    private readonly Tensor _pad;
    private readonly Tensor? _uniforms;
    // The batch shrinks as rows end: row i of the model's inputs is prompt _activeRows[i] (the tensor for index_copy_).
    private Tensor _active;
    private Tensor _finished;
    private List<int> _activeRows;
    private readonly bool[] _ended;

    /// <param name="rows">The batch's prompts.</param>
    /// <param name="modelVocabulary">The rows of the model's output layer.</param>
    /// <param name="vocabularySize">The tokenizer's vocabulary size when it is smaller than the model's head: ids past it are never generated.</param>
    /// <param name="padId">What an ended row generates.</param>
    /// <param name="eosIds">The model's ids that end a row (<see cref="GenerationOptions.EndIds"/> end it too).</param>
    /// <param name="options">How to decode, checked.</param>
    /// <param name="seeds">Per prompt, its sampling stream's seed; null for greedy decoding.</param>
    /// <param name="device">Where the model is: every tensor of the batch lives there; only what is read comes back to the CPU.</param>
    protected DecodingBatch(int rows, int modelVocabulary, int? vocabularySize, int padId, IReadOnlyList<int> eosIds, GenerationOptions options, long[]? seeds, Device device)
    {
        _options = options;
        _modelVocabulary = modelVocabulary;
        _vocabularySize = vocabularySize;
        _eosIds = [.. eosIds.Union(options.EndIds)];
        Device = device;
        using var inference = inference_mode();
        using var scope = NewDisposeScope();
        long maxNew = options.MaxNewTokens, k = options.TopLogprobs;
        _generated = full(rows, maxNew, padId, ScalarType.Int64, device).DetachFromDisposeScope();
        if (k > 0)
        {
            _chosenLogprobs = zeros(rows, maxNew, ScalarType.Float32, device).DetachFromDisposeScope();
            _topLogprobs = zeros(rows, maxNew, k, ScalarType.Float32, device).DetachFromDisposeScope();
            _topIds = zeros(rows, maxNew, k, ScalarType.Int64, device).DetachFromDisposeScope();
        }
        _pad = tensor((long)padId, device: device).DetachFromDisposeScope();
        _active = arange(rows, ScalarType.Int64, device).DetachFromDisposeScope();
        _finished = zeros(rows, ScalarType.Bool, device).DetachFromDisposeScope();
        // Row b's draw at step t: the t-th number of its own stream, whatever else runs beside it.
        _uniforms = seeds is null ? null : tensor(SampleStream.Uniforms(seeds, (int)maxNew), rows, maxNew, device: device).DetachFromDisposeScope();
        _activeRows = [.. Enumerable.Range(0, rows)];
        _ended = new bool[rows];
    }

    protected Device Device { get; }

    /// <summary>
    /// Where <paramref name="model"/>'s weights are. Read in a dispose scope of its own: TorchSharp wraps the weight it
    /// asks anew, and a wrapper made outside any scope would stay alive after the batch.
    /// </summary>
    protected static Device DeviceOf(Func<Device> model)
    {
        using var scope = NewDisposeScope();
        return model();
    }

    protected GenerationOptions Options => _options;

    /// <summary>The logits (active rows × model vocabulary) of step <paramref name="step"/>, in this scope.</summary>
    protected abstract Tensor StepLogits(int step);

    /// <summary>Takes the tokens just chosen (one per active row) as the next step's input.</summary>
    protected abstract void Feed(Tensor next);

    /// <summary>Keeps only <paramref name="rows"/> (positions among the active rows) of the model's per-row state.</summary>
    protected abstract void KeepStateRows(Tensor rows);

    /// <summary>The model's own tensors, disposed with the batch.</summary>
    protected abstract IEnumerable<Tensor?> State { get; }

    public int Steps { get; private set; }

    public int DecodingRows => _activeRows.Count;

    public bool Done => Steps >= _options.MaxNewTokens || _activeRows.All(r => _ended[r]);

    public bool Ended(int row) => _ended[row];

    public void Step()
    {
        if (Done) throw new InvalidOperationException("the batch has no step left to run");
        var steps = Steps;
        using var inference = inference_mode();
        using (NewDisposeScope())
        {
            var scores = StepLogits(steps).to(ScalarType.Float32);
            if (steps < _options.MinNewTokens) foreach (var eos in _eosIds) scores.select(1, eos).fill_(double.NegativeInfinity);
            if (_vocabularySize is { } size && size < _modelVocabulary) scores.narrow(1, size, _modelVocabulary - size).fill_(double.NegativeInfinity);
            if (_options.Sample && _options.Temperature != 1.0) scores = scores / _options.Temperature;

            var next = _uniforms is not null ? SampleFrom(scores, _options, _uniforms.select(1, steps).index_select(0, _active)) : scores.argmax(-1);
            next = where(_finished, _pad, next);
            _generated.select(1, steps).index_copy_(0, _active, next);
            if (_options.TopLogprobs > 0)
            {
                var logprobs = scores.log_softmax(-1);
                _chosenLogprobs!.select(1, steps).index_copy_(0, _active, logprobs.gather(1, next.unsqueeze(1)).squeeze(1));
                var (values, indices) = logprobs.topk(_options.TopLogprobs, dim: -1);
                _topLogprobs!.select(1, steps).index_copy_(0, _active, values);
                _topIds!.select(1, steps).index_copy_(0, _active, indices);
            }
            foreach (var eos in _eosIds) _finished.logical_or_(next.eq(eos));
            Steps++;
            Feed(next);
            var finished = _finished.cpu().data<bool>().ToArray();
            for (var i = 0; i < finished.Length; i++)
                if (finished[i]) _ended[_activeRows[i]] = true;
        }
        DropEnded();
    }

    public void Stop(IEnumerable<int> rows)
    {
        // Rows that have not ended are still in the batch (only ended rows are dropped).
        var stopping = rows.Where(r => !_ended[r]).Distinct().ToArray();
        if (stopping.Length == 0) return;
        var positions = stopping.Select(r => (long)_activeRows.IndexOf(r)).ToArray();
        foreach (var row in stopping) _ended[row] = true;
        using var inference = inference_mode();
        using (NewDisposeScope()) _finished.index_fill_(0, tensor(positions, device: Device), true);
        DropEnded();
    }

    /// <summary>
    /// Ended rows would only decode padding, often for a hundred steps behind one long sequence: once they are a quarter
    /// of the batch, drop them from every per-row tensor. (Their rows of the result are kept.)
    /// </summary>
    private void DropEnded()
    {
        var ended = _activeRows.Count(r => _ended[r]);
        if (Done || ended * 4 < _activeRows.Count) return;
        var keep = Enumerable.Range(0, _activeRows.Count).Where(i => !_ended[_activeRows[i]]).ToArray();
        using var inference = inference_mode();
        using (NewDisposeScope())
        {
            var rows = tensor(keep.Select(i => (long)i).ToArray(), device: Device);
            _active = SelectRows(_active, rows).DetachFromDisposeScope();
            _finished = SelectRows(_finished, rows).DetachFromDisposeScope();
            KeepStateRows(rows);
        }
        _activeRows = [.. keep.Select(i => _activeRows[i])];
    }

    /// <summary>Rows <paramref name="rows"/> of <paramref name="tensor"/> (dimension 0) as a new tensor in the caller's scope; <paramref name="tensor"/> is disposed.</summary>
    internal static Tensor SelectRows(Tensor tensor, Tensor rows)
    {
        var kept = tensor.index_select(0, rows);
        tensor.Dispose();
        return kept;
    }

    public IReadOnlyList<GeneratedSequence> Read(IReadOnlyList<int> rows)
    {
        long steps = Steps, k = _options.TopLogprobs;
        using var inference = inference_mode();
        using var scope = NewDisposeScope();
        // One copy to managed memory per read rather than one per step.
        var index = tensor(rows.Select(r => (long)r).ToArray(), device: Device);
        var ids = _generated.index_select(0, index).narrow(1, 0, steps).cpu().contiguous().data<long>().ToArray();
        var chosen = _chosenLogprobs?.index_select(0, index).narrow(1, 0, steps).cpu().contiguous().data<float>().ToArray();
        var top = _topLogprobs?.index_select(0, index).narrow(1, 0, steps).cpu().contiguous().data<float>().ToArray();
        var topId = _topIds?.index_select(0, index).narrow(1, 0, steps).cpu().contiguous().data<long>().ToArray();

        var sequences = new GeneratedSequence[rows.Count];
        for (var b = 0; b < rows.Count; b++)
        {
            var row = ids.AsSpan((int)(b * steps), (int)steps);
            var eos = -1;
            for (var t = 0; t < row.Length && eos < 0; t++)
                if (_eosIds.Contains((int)row[t])) eos = t;
            var length = eos >= 0 ? eos + 1 : (int)steps;
            var tokens = new int[length];
            for (var t = 0; t < length; t++) tokens[t] = (int)row[t];
            StepLogprobs[]? logprobs = null;
            if (k > 0)
            {
                logprobs = new StepLogprobs[length];
                for (var t = 0; t < length; t++)
                {
                    var at = (int)((b * steps + t) * k);
                    var candidates = new TokenLogprob[k];
                    for (var c = 0; c < k; c++) candidates[c] = new TokenLogprob((int)topId![at + c], top![at + c]);
                    logprobs[t] = new StepLogprobs(new TokenLogprob(tokens[t], chosen![b * steps + t]), candidates);
                }
            }
            sequences[b] = new GeneratedSequence(tokens, eos >= 0, logprobs);
        }
        return sequences;
    }

    public void Dispose()
    {
        Tensor?[] owned = [_generated, _chosenLogprobs, _topLogprobs, _topIds, _pad, _uniforms, _active, _finished];
        foreach (var tensor in owned.Concat(State)) tensor?.Dispose();
    }

    /// <summary>
    /// Top-k, then top-p filtering (as Hugging Face's logits warpers), then one draw per row by inverse transform: the first
    /// token whose cumulative probability exceeds the row's uniform number in [0, 1). A row's token depends on its own
    /// scores and number only.
    /// </summary>
    private static Tensor SampleFrom(Tensor scores, GenerationOptions options, Tensor uniform)
    {
        var vocab = scores.shape[1];
        if (options.TopK > 0 && options.TopK < vocab)
        {
            var kth = scores.topk(options.TopK, dim: -1).values.narrow(1, options.TopK - 1, 1);
            scores = scores.masked_fill(scores.lt(kth), double.NegativeInfinity);
        }
        if (options.TopP < 1.0)
        {
            var (sorted, indices) = scores.sort(-1, descending: true);
            var probabilities = sorted.softmax(-1);
            // Drop a token once the more likely ones already reach top-p; the most likely token always stays.
            var dropSorted = (probabilities.cumsum(-1) - probabilities).ge(options.TopP);
            var drop = zeros_like(dropSorted).scatter(1, indices, dropSorted);
            scores = scores.masked_fill(drop, double.NegativeInfinity);
        }
        var distribution = scores.softmax(-1);
        var cumulative = distribution.cumsum(-1);
        var target = uniform.unsqueeze(1) * cumulative.narrow(1, vocab - 1, 1);
        // Rounding can put the target at the total: then the last token that has any probability.
        var lastPossible = distribution.gt(0).cumsum(-1).argmax(-1);
        return minimum(cumulative.le(target).sum(-1), lastPossible);
    }
}

/// <summary>
/// <see cref="DecodingBatch"/> for a T5 model: prompts padded on the right and masked, the encoder run once, then one
/// decoder step per token with cached self-attention keys/values and cross-attention keys/values computed once.
/// </summary>
internal sealed class T5DecodingBatch : DecodingBatch
{
    private readonly T5Model _model;
    // Kept only without the cache, whose cross-attention keys and values replace them.
    private Tensor? _encoded;
    private Tensor? _mask;
    private DecoderCache? _cache;
    // With the cache the decoder sees only the newest token; without it, everything generated so far.
    private Tensor _decoderInput;

    /// <param name="model">The model, in evaluation mode.</param>
    /// <param name="vocabularySize">The tokenizer's vocabulary size when it is smaller than the model's head (see <see cref="T5Generator"/>).</param>
    /// <param name="prompts">The batch's prompts, checked.</param>
    /// <param name="options">How to decode, checked.</param>
    /// <param name="seeds">Per prompt, its sampling stream's seed; null for greedy decoding.</param>
    public T5DecodingBatch(T5Model model, int? vocabularySize, IReadOnlyList<IReadOnlyList<int>> prompts, GenerationOptions options, long[]? seeds)
        : base(prompts.Count, model.Config.VocabSize, vocabularySize, model.Config.PadTokenId, [model.Config.EosTokenId], options, seeds, DeviceOf(() => model.Device))
    {
        _model = model;
        var config = model.Config;
        using var inference = inference_mode();
        using var scope = NewDisposeScope();
        var (inputIds, mask) = PadRight(prompts, config.PadTokenId, Device);
        var encoded = model.Encode(inputIds, mask);
        if (options.UseCache) _cache = Own(model.StartDecoding(encoded, mask, options.MaxNewTokens));
        else (_encoded, _mask) = (encoded.DetachFromDisposeScope(), mask.DetachFromDisposeScope());
        _decoderInput = full(prompts.Count, 1, config.DecoderStartTokenId, ScalarType.Int64, Device).DetachFromDisposeScope();
    }

    protected override Tensor StepLogits(int step) => _cache is not null
        ? _model.DecodeStep(_decoderInput, step, _cache)
        : _model.Logits(_model.DecoderHidden(_decoderInput, null, _encoded!, _mask!).select(1, -1));

    protected override void Feed(Tensor next)
    {
        var nextInput = _cache is not null ? next.unsqueeze(1) : cat([_decoderInput, next.unsqueeze(1)], 1);
        _decoderInput.Dispose();
        _decoderInput = nextInput.DetachFromDisposeScope();
    }

    protected override void KeepStateRows(Tensor rows)
    {
        _decoderInput = SelectRows(_decoderInput, rows).DetachFromDisposeScope();
        if (_cache is not null) _cache = Own(_cache.KeepRows(rows));
        else
        {
            _encoded = SelectRows(_encoded!, rows).DetachFromDisposeScope();
            _mask = SelectRows(_mask!, rows).DetachFromDisposeScope();
        }
    }

    protected override IEnumerable<Tensor?> State => [_encoded, _mask, _decoderInput, .. _cache?.Tensors ?? []];

    private static DecoderCache Own(DecoderCache cache)
    {
        foreach (var tensor in cache.Tensors) tensor.DetachFromDisposeScope();
        return cache;
    }

    private static (Tensor Ids, Tensor Mask) PadRight(IReadOnlyList<IReadOnlyList<int>> prompts, int pad, Device device)
    {
        var length = prompts.Max(p => p.Count);
        var ids = new long[prompts.Count * length];
        var mask = new long[prompts.Count * length];
        Array.Fill(ids, pad);
        for (var b = 0; b < prompts.Count; b++)
            for (var t = 0; t < prompts[b].Count; t++)
            {
                ids[b * length + t] = prompts[b][t];
                mask[b * length + t] = 1;
            }
        return (tensor(ids, prompts.Count, length, device: device), tensor(mask, prompts.Count, length, device: device));
    }
}
