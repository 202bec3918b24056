using static TorchSharp.torch;

namespace Specialist.Models;

/// <summary>
/// Batched generation with a model of the Llama family: prompts left-padded (so every row's next token sits in the last
/// column), each row's positions counting its own tokens, and the keys and values of the positions decoded so far kept
/// (<see cref="LlamaCache"/>) so each step runs the new token only. Greedy or sampled, with top-k log-probabilities, as
/// <see cref="T5Generator"/>; a sequence stops at any end-of-sequence id.
/// </summary>
/// <param name="model">The model.</param>
/// <param name="vocabularySize">The tokenizer's vocabulary size when it is smaller than the model's head: ids past it are never generated.</param>
public sealed class LlamaGenerator(LlamaModel model, int? vocabularySize = null)
{
    /// <summary>Generates a continuation of each prompt (token ids, normally ending with end-of-sequence); results in prompt order.</summary>
    public IReadOnlyList<GeneratedSequence> Generate(IReadOnlyList<IReadOnlyList<int>> prompts, GenerationOptions options) =>
        GenerationPlan.Run(model, Plan(prompts, options), prompts.Count);

    /// <summary>The prompts' batches (<see cref="GenerationPlan.Plan"/>); each starts when asked (the model must then be in evaluation mode).</summary>
    internal IReadOnlyList<PlannedBatch> Plan(IReadOnlyList<IReadOnlyList<int>> prompts, GenerationOptions options) =>
        GenerationPlan.Plan(prompts, options, model.Config.VocabSize, (rows, seeds) => new LlamaDecodingBatch(model, vocabularySize, rows, options, seeds));
}

/// <summary>
/// <see cref="DecodingBatch"/> for the Llama family: the prompts run once (filling the cache), then one step per token;
/// without the cache every step reruns the whole sequence (the baseline the cache is measured against).
/// </summary>
internal sealed class LlamaDecodingBatch : DecodingBatch
{
    private readonly LlamaModel _model;
    private readonly LlamaCache? _cache;
    // With the cache, the tokens not yet run (the prompts, then the newest token); without it, every token so far.
    private Tensor _input;
    // The positions of _input, and the attention mask of every position so far (0 on the left padding).
    private Tensor _positions;
    private Tensor _mask;

    public LlamaDecodingBatch(LlamaModel model, int? vocabularySize, IReadOnlyList<IReadOnlyList<int>> prompts, GenerationOptions options, long[]? seeds)
        : base(prompts.Count, model.Config.VocabSize, vocabularySize, model.Config.PaddingId, model.Config.EosTokenIds, options, seeds, DeviceOf(() => model.Device))
    {
        _model = model;
        using var inference = inference_mode();
        using var scope = NewDisposeScope();
        var longest = prompts.Max(p => p.Count);
        var ids = new long[prompts.Count * longest];
        var mask = new long[prompts.Count * longest];
        Array.Fill(ids, model.Config.PaddingId);
        for (var b = 0; b < prompts.Count; b++)
        {
            var offset = b * longest + longest - prompts[b].Count;
            for (var t = 0; t < prompts[b].Count; t++)
            {
                ids[offset + t] = prompts[b][t];
                mask[offset + t] = 1;
            }
        }
        _input = tensor(ids, prompts.Count, longest, device: Device).DetachFromDisposeScope();
        _mask = tensor(mask, prompts.Count, longest, device: Device).DetachFromDisposeScope();
        _positions = LlamaModel.PositionIds(_mask).DetachFromDisposeScope();
        if (options.UseCache) _cache = new LlamaCache(model.Config.NumHiddenLayers);
    }

    protected override Tensor StepLogits(int step) => _model.forward(_input, _mask, _positions, _cache).select(1, -1);

    protected override void Feed(Tensor next)
    {
        var rows = next.shape[0];
        var nextPositions = _positions.select(1, -1).unsqueeze(1) + 1;
        var mask = cat([_mask, ones(rows, 1, ScalarType.Int64, Device)], 1);
        var (input, positions) = _cache is not null
            ? (next.unsqueeze(1), nextPositions)
            : (cat([_input, next.unsqueeze(1)], 1), cat([_positions, nextPositions], 1));
        foreach (var old in new[] { _input, _positions, _mask }) old.Dispose();
        (_input, _positions, _mask) = (input.DetachFromDisposeScope(), positions.DetachFromDisposeScope(), mask.DetachFromDisposeScope());
    }

    protected override void KeepStateRows(Tensor rows)
    {
        _input = SelectRows(_input, rows).DetachFromDisposeScope();
        _positions = SelectRows(_positions, rows).DetachFromDisposeScope();
        _mask = SelectRows(_mask, rows).DetachFromDisposeScope();
        _cache?.KeepRows(rows);
    }

    protected override IEnumerable<Tensor?> State => [_input, _positions, _mask, .. _cache?.Tensors ?? []];
}
