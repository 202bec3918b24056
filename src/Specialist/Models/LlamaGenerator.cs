using static TorchSharp.torch;

namespace Specialist.Models;

/// <summary>
/// Greedy decoding for the Llama family, batched: prompts are left-padded (so every row's next token sits in the last
/// column), each row's positions count its own tokens, and the keys and values of the positions decoded so far are
/// kept (<see cref="LlamaCache"/>) so each step runs the new token only. A row that emits an end-of-sequence id is
/// done: its tokens end there (Hugging Face's <c>generate</c> pads its later places), and it decodes a pad meanwhile.
/// </summary>
public static class LlamaGenerator
{
    /// <summary>
    /// Up to <paramref name="maxNewTokens"/> greedy tokens after each prompt (the end-of-sequence id included when one
    /// is emitted). <paramref name="useCache"/> false reruns the whole sequence every step (the baseline the cache is
    /// measured against; the tokens are the same).
    /// </summary>
    public static IReadOnlyList<int[]> Greedy(LlamaModel model, IReadOnlyList<IReadOnlyList<int>> prompts, int maxNewTokens, bool useCache = true)
    {
        if (prompts.Count == 0) return [];
        if (maxNewTokens < 0) throw new ArgumentOutOfRangeException(nameof(maxNewTokens));
        var config = model.Config;
        // Checked here: libtorch would fail inside the embedding on an id outside the vocabulary.
        for (var r = 0; r < prompts.Count; r++)
        {
            if (prompts[r].Count == 0) throw new SpecialistException($"prompt {r} is empty");
            if (prompts[r].FirstOrDefault(id => id < 0 || id >= config.VocabSize, -1) is var bad and not -1)
                throw new SpecialistException($"prompt {r} holds token id {bad}, outside the vocabulary [0, {config.VocabSize})");
        }
        var pad = config.PadTokenId ?? config.EosTokenIds[0];
        var longest = prompts.Max(p => p.Count);
        var ids = new long[prompts.Count * longest];
        var mask = new long[prompts.Count * longest];
        for (var r = 0; r < prompts.Count; r++)
        {
            var offset = r * longest + longest - prompts[r].Count;
            for (var i = 0; i < longest - prompts[r].Count; i++) ids[r * longest + i] = pad;
            for (var i = 0; i < prompts[r].Count; i++)
            {
                ids[offset + i] = prompts[r][i];
                mask[offset + i] = 1;
            }
        }

        var outputs = prompts.Select(_ => new List<int>(maxNewTokens)).ToArray();
        var done = new bool[prompts.Count];
        using var _ = no_grad();
        using var cache = useCache ? new LlamaCache(config.NumHiddenLayers) : null;
        var device = model.Device;
        var allIds = tensor(ids, [prompts.Count, longest], device: device);
        var allMask = tensor(mask, [prompts.Count, longest], device: device);
        var positions = LlamaModel.PositionIds(allMask);
        var input = allIds.alias();
        var inputPositions = positions.alias();
        try
        {
            for (var step = 0; step < maxNewTokens && !done.All(d => d); step++)
            {
                long[] next;
                using (NewDisposeScope())
                {
                    var logits = model.forward(input, allMask, inputPositions, cache);
                    next = logits.select(1, -1).argmax(-1).to(ScalarType.Int64).cpu().data<long>().ToArray();
                }
                for (var r = 0; r < prompts.Count; r++)
                {
                    if (done[r]) next[r] = pad;
                    else
                    {
                        outputs[r].Add((int)next[r]);
                        done[r] = config.EosTokenIds.Contains((int)next[r]);
                    }
                }
                using var nextIds = tensor(next, [prompts.Count, 1], device: device);
                var nextPositions = inputPositions.select(1, -1).unsqueeze(1) + 1;
                var grownMask = cat([allMask, ones([prompts.Count, 1], ScalarType.Int64, device)], 1);
                allMask.Dispose();
                allMask = grownMask;
                if (useCache)
                {
                    input.Dispose();
                    inputPositions.Dispose();
                    input = nextIds.alias();
                    inputPositions = nextPositions;
                }
                else
                {
                    var grownIds = cat([input, nextIds], 1);
                    var grownPositions = cat([inputPositions, nextPositions], 1);
                    input.Dispose();
                    inputPositions.Dispose();
                    nextPositions.Dispose();
                    (input, inputPositions) = (grownIds, grownPositions);
                }
            }
        }
        finally
        {
            foreach (var t in new[] { allIds, allMask, positions, input, inputPositions }) t.Dispose();
        }
        return [.. outputs.Select(o => o.ToArray())];
    }
}
