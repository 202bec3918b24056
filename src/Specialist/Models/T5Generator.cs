using TorchSharp;
using static TorchSharp.torch;

namespace Specialist.Models;

/// <summary>How <see cref="T5Generator.Generate"/> decodes.</summary>
public sealed record GenerationOptions
{
    /// <summary>The most tokens generated per prompt (the end-of-sequence token included).</summary>
    public int MaxNewTokens { get; init; } = 128;

    /// <summary>End-of-sequence is suppressed until this many tokens are generated (Hugging Face's min_new_tokens).</summary>
    public int MinNewTokens { get; init; }

    /// <summary>Prompts run together; prompts are grouped by length so a batch carries little padding.</summary>
    public int BatchSize { get; init; } = 16;

    /// <summary>Keep decoder keys and values between steps (the default); false recomputes the whole decoder every step.</summary>
    public bool UseCache { get; init; } = true;

    /// <summary>Sample from the distribution instead of taking the most likely token (greedy).</summary>
    public bool Sample { get; init; }

    /// <summary>Divides the logits before sampling (sampling only).</summary>
    public double Temperature { get; init; } = 1.0;

    /// <summary>Nucleus sampling: sample from the smallest set of tokens whose probability reaches this (1 = off).</summary>
    public double TopP { get; init; } = 1.0;

    /// <summary>Sample from the this many most likely tokens only (0 = off).</summary>
    public int TopK { get; init; }

    /// <summary>Seeds sampling so that the same prompts and options give the same output; null draws a seed at random.</summary>
    public long? Seed { get; init; }

    /// <summary>
    /// Per prompt, a seed of its own (an entry that is null, or no list at all: one derived from <see cref="Seed"/> and the
    /// prompt's index). Every prompt samples from its own random stream, so the tokens of a prompt with a seed of its own
    /// depend only on that seed, the prompt and these options: not on the other prompts of the call, their number or order.
    /// </summary>
    public IReadOnlyList<long?>? PromptSeeds { get; init; }

    /// <summary>
    /// Also return, per generated position, the chosen token's log-probability and the this many most likely tokens'
    /// (0 = none). The distribution is the log-softmax of the logits after temperature, before top-k/top-p filtering.
    /// </summary>
    public int TopLogprobs { get; init; }

    internal void Validate(int vocabSize)
    {
        var problems = new List<string>();
        if (MaxNewTokens < 1) problems.Add($"max new tokens is {MaxNewTokens}, must be at least 1");
        if (MinNewTokens < 0 || MinNewTokens > MaxNewTokens) problems.Add($"min new tokens is {MinNewTokens}, must be in [0, max new tokens {MaxNewTokens}]");
        if (BatchSize < 1) problems.Add($"batch size is {BatchSize}, must be at least 1");
        if (!(Temperature > 0) || double.IsInfinity(Temperature)) problems.Add($"temperature is {Temperature}, must be positive");
        if (!(TopP > 0 && TopP <= 1)) problems.Add($"top-p is {TopP}, must be in (0, 1]");
        if (TopK < 0) problems.Add($"top-k is {TopK}, must be 0 (off) or positive");
        if (TopLogprobs < 0 || TopLogprobs > vocabSize) problems.Add($"top logprobs is {TopLogprobs}, must be in [0, {vocabSize}]");
        if (problems.Count > 0) throw new SpecialistException("invalid generation options: " + string.Join("; ", problems));
    }
}

/// <summary>A token id and its log-probability.</summary>
public readonly record struct TokenLogprob(int Id, float Logprob);

/// <summary>One generated position: the chosen token and the most likely ones, most likely first.</summary>
public sealed record StepLogprobs(TokenLogprob Chosen, IReadOnlyList<TokenLogprob> Top);

/// <summary>The tokens generated for one prompt.</summary>
/// <param name="Tokens">Generated ids, ending with the end-of-sequence id when <paramref name="Finished"/>.</param>
/// <param name="Finished">Whether generation stopped at end-of-sequence rather than at the token limit.</param>
/// <param name="Logprobs">Per position, when <see cref="GenerationOptions.TopLogprobs"/> asked for them.</param>
public sealed record GeneratedSequence(IReadOnlyList<int> Tokens, bool Finished, IReadOnlyList<StepLogprobs>? Logprobs);

/// <summary>
/// Batched generation with a T5 model: prompts padded on the right and masked, the encoder run once, then one decoder
/// step per token with cached self-attention keys/values and cross-attention keys/values computed once. A sequence
/// stops at end-of-sequence (padding afterwards); finished sequences leave the batch as they accumulate, and a batch
/// stops when all of its sequences have.
/// </summary>
/// <param name="model">The model.</param>
/// <param name="vocabularySize">
/// The tokenizer's vocabulary size when it is smaller than the model's head: T5's head has 32,128 rows but its
/// tokenizer 32,100 pieces, and ids without a piece can't be decoded, so they are never generated.
/// </param>
public sealed class T5Generator(T5Model model, int? vocabularySize = null)
{
    /// <summary>Generates a continuation of each prompt (token ids, normally ending with end-of-sequence); results in prompt order.</summary>
    public IReadOnlyList<GeneratedSequence> Generate(IReadOnlyList<IReadOnlyList<int>> prompts, GenerationOptions options)
    {
        var config = model.Config;
        options.Validate(config.VocabSize);
        for (var i = 0; i < prompts.Count; i++)
        {
            if (prompts[i].Count == 0) throw new SpecialistException($"prompt {i + 1} has no tokens");
            foreach (var id in prompts[i])
                if (id < 0 || id >= config.VocabSize)
                    throw new SpecialistException($"prompt {i + 1}: token id {id} is outside the model's vocabulary (0..{config.VocabSize - 1})");
        }
        TorchRuntime.EnsureLoaded();

        if (options.PromptSeeds is { } given && given.Count != prompts.Count)
            throw new SpecialistException($"{given.Count} prompt seeds for {prompts.Count} prompts");
        var callSeed = options.Seed ?? Random.Shared.NextInt64();
        var seeds = options.Sample ? Enumerable.Range(0, prompts.Count).Select(i => options.PromptSeeds?[i] ?? SampleStream.Derive(callSeed, i)).ToArray() : null;

        var results = new GeneratedSequence[prompts.Count];
        var order = Enumerable.Range(0, prompts.Count).OrderByDescending(i => prompts[i].Count).ToArray();
        var wasTraining = model.training;
        model.eval();
        try
        {
            using var inference = inference_mode();
            foreach (var batch in order.Chunk(options.BatchSize))
            {
                var sequences = GenerateBatch([.. batch.Select(i => prompts[i])], options, seeds is null ? null : [.. batch.Select(i => seeds[i])]);
                for (var j = 0; j < batch.Length; j++) results[batch[j]] = sequences[j];
            }
        }
        finally
        {
            if (wasTraining) model.train();
        }
        return results;
    }

    private GeneratedSequence[] GenerateBatch(IReadOnlyList<IReadOnlyList<int>> prompts, GenerationOptions options, long[]? seeds)
    {
        using var scope = NewDisposeScope();
        var config = model.Config;
        // Every tensor of the batch lives where the model does; only the finished ids come back to the CPU, once.
        var device = model.Device;
        var (inputIds, mask) = PadRight(prompts, config.PadTokenId, device);
        var encoded = model.Encode(inputIds, mask);
        var cache = options.UseCache ? model.StartDecoding(encoded, mask, options.MaxNewTokens) : null;

        long batch = prompts.Count, maxNew = options.MaxNewTokens, k = options.TopLogprobs;
        var generated = full(batch, maxNew, config.PadTokenId, ScalarType.Int64, device);
        var chosenLogprobs = k > 0 ? zeros(batch, maxNew, ScalarType.Float32, device) : null;
        var topLogprobs = k > 0 ? zeros(batch, maxNew, k, ScalarType.Float32, device) : null;
        var topIds = k > 0 ? zeros(batch, maxNew, k, ScalarType.Int64, device) : null;
        var pad = tensor((long)config.PadTokenId, device: device);
        // With the cache the decoder sees only the newest token; without it, everything generated so far.
        var decoderInput = full(batch, 1, config.DecoderStartTokenId, ScalarType.Int64, device);
        // The batch shrinks as sequences finish: row i of the decoder's inputs is prompt active[i].
        var active = arange(batch, ScalarType.Int64, device);
        var finished = zeros(batch, ScalarType.Bool, device);
        // Row b's draw at step t: the t-th number of its own stream, whatever else runs beside it.
        var uniforms = seeds is null ? null : tensor(SampleStream.Uniforms(seeds, (int)maxNew), batch, maxNew, device: device);

        var steps = 0;
        while (steps < maxNew)
        {
            long rows = active.shape[0], done;
            using (NewDisposeScope())
            {
                var logits = cache is not null
                    ? model.DecodeStep(decoderInput, steps, cache)
                    : model.Logits(model.DecoderHidden(decoderInput, null, encoded, mask).select(1, -1));
                var scores = logits.to(ScalarType.Float32);
                if (steps < options.MinNewTokens) scores.select(1, config.EosTokenId).fill_(double.NegativeInfinity);
                if (vocabularySize is { } size && size < config.VocabSize) scores.narrow(1, size, config.VocabSize - size).fill_(double.NegativeInfinity);
                if (options.Sample && options.Temperature != 1.0) scores = scores / options.Temperature;

                var next = uniforms is not null ? SampleFrom(scores, options, uniforms.select(1, steps).index_select(0, active)) : scores.argmax(-1);
                next = where(finished, pad, next);
                generated.select(1, steps).index_copy_(0, active, next);
                if (k > 0)
                {
                    var logprobs = scores.log_softmax(-1);
                    chosenLogprobs!.select(1, steps).index_copy_(0, active, logprobs.gather(1, next.unsqueeze(1)).squeeze(1));
                    var (values, indices) = logprobs.topk((int)k, dim: -1);
                    topLogprobs!.select(1, steps).index_copy_(0, active, values);
                    topIds!.select(1, steps).index_copy_(0, active, indices);
                }
                finished.logical_or_(next.eq(config.EosTokenId));
                steps++;

                var nextInput = cache is not null ? next.unsqueeze(1) : cat([decoderInput, next.unsqueeze(1)], 1);
                decoderInput.Dispose();
                decoderInput = nextInput.MoveToOuterDisposeScope();
                done = finished.sum().item<long>();
            }
            if (done == rows) break;

            // Finished rows would only decode padding, often for a hundred steps behind one long sequence: once they are
            // a quarter of the batch, drop them from every per-row tensor. (Their rows of the result hold padding already.)
            if (done * 4 >= rows)
            {
                using var keep = finished.logical_not().nonzero().squeeze(1);
                active = DecoderCache.KeepRows(active, keep);
                finished = DecoderCache.KeepRows(finished, keep);
                decoderInput = DecoderCache.KeepRows(decoderInput, keep);
                if (cache is not null) cache = cache.KeepRows(keep);
                else
                {
                    encoded = DecoderCache.KeepRows(encoded, keep);
                    mask = DecoderCache.KeepRows(mask, keep);
                }
            }
        }

        // One copy to managed memory at the end rather than one per step.
        var ids = generated.narrow(1, 0, steps).cpu().contiguous().data<long>().ToArray();
        var chosen = chosenLogprobs?.narrow(1, 0, steps).cpu().contiguous().data<float>().ToArray();
        var top = topLogprobs?.narrow(1, 0, steps).cpu().contiguous().data<float>().ToArray();
        var topId = topIds?.narrow(1, 0, steps).cpu().contiguous().data<long>().ToArray();

        var sequences = new GeneratedSequence[batch];
        for (var b = 0; b < batch; b++)
        {
            var row = ids.AsSpan(b * steps, steps);
            var eos = row.IndexOf(config.EosTokenId);
            var length = eos >= 0 ? eos + 1 : steps;
            var tokens = new int[length];
            for (var t = 0; t < length; t++) tokens[t] = (int)row[t];
            StepLogprobs[]? logprobs = null;
            if (k > 0)
            {
                logprobs = new StepLogprobs[length];
                for (var t = 0; t < length; t++)
                {
                    var at = (b * steps + t) * (int)k;
                    var candidates = new TokenLogprob[k];
                    for (var c = 0; c < k; c++) candidates[c] = new TokenLogprob((int)topId![at + c], top![at + c]);
                    logprobs[t] = new StepLogprobs(new TokenLogprob(tokens[t], chosen![b * steps + t]), candidates);
                }
            }
            sequences[b] = new GeneratedSequence(tokens, eos >= 0, logprobs);
        }
        return sequences;
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
