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

    /// <summary>
    /// Ids that end a sequence besides the model's own end-of-sequence ids (config.json's): a chat template's end of
    /// answer, which <see cref="StudentEncoding"/> puts here, as Hugging Face's generation config lists it.
    /// </summary>
    public IReadOnlyList<int> EndIds { get; init; } = [];

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
        if (EndIds.Any(id => id < 0 || id >= vocabSize)) problems.Add($"end ids [{string.Join(", ", EndIds)}] must be in [0, {vocabSize})");
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
/// stops when all of its sequences have (see <see cref="T5DecodingBatch"/>).
/// </summary>
/// <param name="model">The model.</param>
/// <param name="vocabularySize">
/// The tokenizer's vocabulary size when it is smaller than the model's head: T5's head has 32,128 rows but its
/// tokenizer 32,100 pieces, and ids without a piece can't be decoded, so they are never generated.
/// </param>
public sealed class T5Generator(T5Model model, int? vocabularySize = null)
{
    /// <summary>Generates a continuation of each prompt (token ids, normally ending with end-of-sequence); results in prompt order.</summary>
    public IReadOnlyList<GeneratedSequence> Generate(IReadOnlyList<IReadOnlyList<int>> prompts, GenerationOptions options) =>
        GenerationPlan.Run(model, Plan(prompts, options), prompts.Count);

    /// <summary>The prompts' batches (<see cref="GenerationPlan.Plan"/>); each starts when asked (the model must then be in evaluation mode).</summary>
    internal IReadOnlyList<PlannedBatch> Plan(IReadOnlyList<IReadOnlyList<int>> prompts, GenerationOptions options) =>
        GenerationPlan.Plan(prompts, options, model.Config.VocabSize, (rows, seeds) => new T5DecodingBatch(model, vocabularySize, rows, options, seeds));
}

/// <summary>What every model's generator does the same way: check the prompts and options, draw the seeds, batch, run.</summary>
internal static class GenerationPlan
{
    /// <summary>
    /// Checks the prompts and options and splits the prompts into the batches they decode in: longest prompts first, so a
    /// batch carries little padding, <see cref="GenerationOptions.BatchSize"/> prompts at a time. Each batch starts when
    /// asked, through <paramref name="start"/> (the batch's prompts and their seeds, null for greedy); the server's
    /// queue steps several in turn.
    /// </summary>
    public static IReadOnlyList<PlannedBatch> Plan(IReadOnlyList<IReadOnlyList<int>> prompts, GenerationOptions options, int modelVocabulary,
        Func<IReadOnlyList<IReadOnlyList<int>>, long[]?, IDecodingBatch> start)
    {
        options.Validate(modelVocabulary);
        for (var i = 0; i < prompts.Count; i++)
        {
            if (prompts[i].Count == 0) throw new SpecialistException($"prompt {i + 1} has no tokens");
            foreach (var id in prompts[i])
                if (id < 0 || id >= modelVocabulary)
                    throw new SpecialistException($"prompt {i + 1}: token id {id} is outside the model's vocabulary (0..{modelVocabulary - 1})");
        }
        TorchRuntime.EnsureLoaded();

        if (options.PromptSeeds is { } given && given.Count != prompts.Count)
            throw new SpecialistException($"{given.Count} prompt seeds for {prompts.Count} prompts");
        var callSeed = options.Seed ?? Random.Shared.NextInt64();
        var seeds = options.Sample ? Enumerable.Range(0, prompts.Count).Select(i => options.PromptSeeds?[i] ?? SampleStream.Derive(callSeed, i)).ToArray() : null;

        var order = Enumerable.Range(0, prompts.Count).OrderByDescending(i => prompts[i].Count).ToArray();
        return [.. order.Chunk(options.BatchSize).Select(rows => new PlannedBatch(rows, () =>
            start([.. rows.Select(i => prompts[i])], seeds is null ? null : [.. rows.Select(i => seeds[i])])))];
    }

    /// <summary>Decodes every batch to its end, in evaluation mode (the model's mode is restored); results in prompt order.</summary>
    public static IReadOnlyList<GeneratedSequence> Run(TorchSharp.torch.nn.Module model, IReadOnlyList<PlannedBatch> batches, int prompts)
    {
        var results = new GeneratedSequence[prompts];
        var wasTraining = model.training;
        model.eval();
        try
        {
            foreach (var planned in batches)
            {
                using var batch = planned.Start();
                while (!batch.Done) batch.Step();
                var sequences = batch.Read([.. Enumerable.Range(0, planned.Rows.Count)]);
                for (var j = 0; j < planned.Rows.Count; j++) results[planned.Rows[j]] = sequences[j];
            }
        }
        finally
        {
            if (wasTraining) model.train();
        }
        return results;
    }
}
