using Specialist.Alignment;
using Specialist.Models;
using Specialist.Prompts;
using static TorchSharp.torch;

namespace Specialist.Training;

/// <summary>A micro-batch: examples of one format, as a distillation set holds them.</summary>
/// <param name="Format">The format.</param>
/// <param name="Examples">Its examples.</param>
internal sealed record TrainingMicroBatch(TrainingFormat Format, IReadOnlyList<DistillExample> Examples)
{
    /// <summary>The format's name (<c>ic-cot</c>, <c>zs-ao</c> …).</summary>
    public string Name => DistillFormats.Name(Format);

    /// <summary>Whether its targets are chains of thought (distribution matching applies) rather than "The answer is N".</summary>
    public bool IsCot => TrainingPrompts.IsCot(Format);

    /// <summary>
    /// This micro-batch as <paramref name="pieces"/> micro-batches (fewer when it has fewer examples) of examples of
    /// similar length, prompt plus target after the two limits, shortest first: computed one after the other, each pads
    /// only to its own longest example. <paramref name="pieces"/> 1 is the micro-batch itself.
    /// </summary>
    public IReadOnlyList<TrainingMicroBatch> PiecesByLength(int pieces, int? maxSourceLength, int? maxTargetLength)
    {
        if (pieces <= 1 || Examples.Count <= 1) return [this];
        var sorted = Examples.OrderBy(e => Math.Min(e.EncoderIds.Length, maxSourceLength ?? int.MaxValue) + Math.Min(e.DecoderIds.Length, maxTargetLength ?? int.MaxValue)).ToList();
        var count = Math.Min(pieces, sorted.Count);
        return [.. Enumerable.Range(0, count).Select(k => this with { Examples = sorted[(k * sorted.Count / count)..((k + 1) * sorted.Count / count)] })];
    }
}

/// <summary>
/// A micro-batch as padded tensors for a student (<see cref="StudentModel"/>): prompt ids and mask (the student's
/// prompts, padded on the side it reads them from), target labels and mask (right padding with the pad id) and, for
/// distribution matching, the sparse targets as (batch, length, k) ids and probabilities, k the most candidates any
/// position has, unused slots at probability 0. Labels and sparse targets index the target positions alike for every
/// family.
/// </summary>
internal sealed class MicroBatchTensors : IDisposable
{
    public required Tensor InputIds { get; init; }
    public required Tensor AttentionMask { get; init; }
    public required Tensor Labels { get; init; }
    public required Tensor LabelMask { get; init; }
    public Tensor? TargetIds { get; init; }
    public Tensor? TargetProbabilities { get; init; }
    /// <summary>Real (unpadded) source plus target tokens.</summary>
    public required long Tokens { get; init; }
    /// <summary>Real target positions: what the losses average over.</summary>
    public required long TargetPositions { get; init; }

    /// <summary>
    /// Pads <paramref name="batch"/> for <paramref name="student"/>: its prompts padded on its side, and its longest
    /// sequence; a prompt cut to <paramref name="maxSourceLength"/> keeps its first <paramref name="promptHead"/> ids
    /// (<see cref="StudentEncoding.PromptHeadLength"/>) as well (see the other overload).
    /// </summary>
    public static MicroBatchTensors Build(TrainingMicroBatch batch, StudentModel student, int promptHead, int? maxSourceLength, int? maxTargetLength, bool sparse, Device device) =>
        Build(batch, student.Config.VocabSize, student.PadId, maxSourceLength, maxTargetLength, sparse, device, student.PadsPromptsLeft, student.MaxPositions, promptHead);

    /// <summary>
    /// Pads <paramref name="batch"/>. Sources (prompts as the set's student reads them, <see cref="StudentEncoding.Prompt"/>)
    /// longer than <paramref name="maxSourceLength"/> keep their last tokens (the question and what follows it; the first
    /// demonstrations go) after their first <paramref name="promptHead"/> (a decoder-only prompt's BOS and template
    /// head), targets longer than <paramref name="maxTargetLength"/> their first; sources are padded on the
    /// left when <paramref name="padPromptsLeft"/>. With <paramref name="sparse"/> the sparse targets are built too.
    /// Fails, before libtorch sees them, on ids outside the vocabulary and on a prompt and target longer together than
    /// <paramref name="maxPositions"/>.
    /// </summary>
    public static MicroBatchTensors Build(TrainingMicroBatch batch, int vocabSize, int padId, int? maxSourceLength, int? maxTargetLength, bool sparse, Device device,
        bool padPromptsLeft = false, int? maxPositions = null, int promptHead = 0)
    {
        CheckIds(batch, vocabSize);
        if (maxSourceLength is { } limit && limit <= promptHead)
            throw new SpecialistException($"max_source_len {limit} leaves nothing of a prompt's text after the {promptHead} ids its chat template begins with: raise it");
        var sources = batch.Examples.Select(e => e.EncoderIds)
            .Select(s => maxSourceLength is { } ms && s.Length > ms ? [.. s[..promptHead], .. s[^(ms - promptHead)..]] : s).ToArray();
        var targets = batch.Examples.Select(e => maxTargetLength is { } mt && e.DecoderIds.Length > mt ? e.DecoderIds[..mt] : e.DecoderIds).ToArray();
        if (maxPositions is { } positions && sources.Max(s => s.Length) + targets.Max(t => t.Length) > positions)
            throw new SpecialistException($"a {batch.Name} micro-batch needs {sources.Max(s => s.Length)} prompt and {targets.Max(t => t.Length)} target positions, " +
                $"more than the student's max_position_embeddings {positions} (config.json): lower max_source_len and max_target_len");
        var (inputIds, attentionMask) = Pad(sources, padId, padPromptsLeft, device);
        var (labels, labelMask) = Pad(targets, padId, left: false, device);
        Tensor? targetIds = null, targetProbabilities = null;
        if (sparse) (targetIds, targetProbabilities) = SparseTensors(batch.Examples, targets, device);
        return new MicroBatchTensors
        {
            InputIds = inputIds, AttentionMask = attentionMask, Labels = labels, LabelMask = labelMask,
            TargetIds = targetIds, TargetProbabilities = targetProbabilities,
            Tokens = sources.Sum(s => (long)s.Length) + targets.Sum(t => (long)t.Length),
            TargetPositions = targets.Sum(t => (long)t.Length),
        };
    }

    // An id past the embedding would make libtorch fail deep inside the forward pass; say which data is at fault instead.
    private static void CheckIds(TrainingMicroBatch batch, int vocabSize)
    {
        void Check(int id)
        {
            if (id < 0 || id >= vocabSize)
                throw new SpecialistException($"a {batch.Name} example holds token id {id}, outside the student's vocabulary (0..{vocabSize - 1}): " +
                    "the distillation set was built for another tokenizer");
        }
        foreach (var e in batch.Examples)
        {
            foreach (var id in e.EncoderIds) Check(id);
            foreach (var id in e.DecoderIds) Check(id);
            for (var t = 0; t < e.Targets.Count; t++)
                foreach (var id in e.Targets.Ids(t)) Check(id);
        }
    }

    private static (Tensor Ids, Tensor Mask) Pad(int[][] rows, int padId, bool left, Device device)
    {
        var length = rows.Max(r => r.Length);
        var ids = new long[rows.Length * length];
        var mask = new long[rows.Length * length];
        Array.Fill(ids, padId);
        for (var b = 0; b < rows.Length; b++)
        {
            var offset = b * length + (left ? length - rows[b].Length : 0);
            for (var t = 0; t < rows[b].Length; t++)
            {
                ids[offset + t] = rows[b][t];
                mask[offset + t] = 1;
            }
        }
        return (tensor(ids, [rows.Length, length], device: device), tensor(mask, [rows.Length, length], device: device));
    }

    private static (Tensor Ids, Tensor Probabilities) SparseTensors(IReadOnlyList<DistillExample> examples, int[][] targets, Device device)
    {
        var length = targets.Max(t => t.Length);
        // A position whose candidates were all dropped (none in the student vocabulary) falls back to one-hot.
        static bool HasCandidates(DistillExample e, int position) => position < e.Targets.Count && e.Targets.Ids(position).Length > 0;
        int Candidates(DistillExample e, int position) => HasCandidates(e, position) ? e.Targets.Ids(position).Length : 1;
        var k = 1;
        for (var b = 0; b < examples.Count; b++)
            for (var t = 0; t < targets[b].Length; t++) k = Math.Max(k, Candidates(examples[b], t));
        var ids = new long[examples.Count * length * k];
        var probabilities = new float[examples.Count * length * k];
        for (var b = 0; b < examples.Count; b++)
            for (var t = 0; t < targets[b].Length; t++)
            {
                var at = (b * length + t) * k;
                if (HasCandidates(examples[b], t))
                {
                    var candidateIds = examples[b].Targets.Ids(t);
                    var candidateProbabilities = examples[b].Targets.Probabilities(t);
                    for (var j = 0; j < candidateIds.Length; j++)
                    {
                        ids[at + j] = candidateIds[j];
                        probabilities[at + j] = (float)candidateProbabilities[j];
                    }
                }
                else
                {
                    ids[at] = targets[b][t];
                    probabilities[at] = 1;
                }
            }
        return (tensor(ids, [examples.Count, length, k], device: device), tensor(probabilities, [examples.Count, length, k], device: device));
    }

    public void Dispose()
    {
        InputIds.Dispose();
        AttentionMask.Dispose();
        Labels.Dispose();
        LabelMask.Dispose();
        TargetIds?.Dispose();
        TargetProbabilities?.Dispose();
    }
}
