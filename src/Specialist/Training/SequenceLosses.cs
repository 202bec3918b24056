using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Specialist.Training;

/// <summary>
/// The two training losses of METHOD.md §4, both a masked mean over the target positions of one micro-batch (the
/// authors' <c>(loss * mask).sum() / mask.sum()</c>), computed in fp32 whatever the logits' dtype.
/// </summary>
/// <remarks>
/// Both start from the student's log-probabilities <c>log_softmax(logits)</c> and only ever gather from them: cross-entropy
/// gathers the gold id, distribution matching gathers the few ids of each position's sparse teacher target. No dense
/// [batch, length, vocab] target is built. With a one-hot target (one id, probability 1) the KL term
/// <c>1·(log 1 − log q(id))</c> is exactly the cross-entropy <c>−log q(id)</c>.
/// </remarks>
internal static class SequenceLosses
{
    /// <summary>
    /// Cross-entropy of <paramref name="labels"/> (batch, length) under <paramref name="logits"/> (batch, length, vocab),
    /// averaged over the positions where <paramref name="mask"/> (batch, length; 1 real, 0 padding) is 1, or summed
    /// over them and divided by <paramref name="positions"/> when given (one piece of a micro-batch computed in pieces:
    /// the pieces' losses then add up to the whole micro-batch's mean).
    /// </summary>
    public static Tensor CrossEntropy(Tensor logits, Tensor labels, Tensor mask, long? positions = null)
    {
        using var scope = NewDisposeScope();
        var logProbs = F.log_softmax(logits.to(ScalarType.Float32), -1);
        // Padding labels may hold any id (e.g. -100); they are masked out, but gather needs a valid index.
        var safeLabels = labels.masked_fill(mask.eq(0), 0);
        var perPosition = -logProbs.gather(2, safeLabels.unsqueeze(2)).squeeze(2);
        return MaskedMean(perPosition, mask, positions).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// KL(teacher ‖ student) = Σₖ pₖ (log pₖ − log q(idₖ)) per position, the teacher being the sparse target
    /// <paramref name="targetIds"/> / <paramref name="targetProbabilities"/> (batch, length, k; unused slots have
    /// probability 0 and contribute nothing), averaged over the positions where <paramref name="mask"/> is 1 (or divided
    /// by <paramref name="positions"/>, as <see cref="CrossEntropy"/>). The kept probabilities need not sum to 1 (the
    /// original rule does not renormalise them).
    /// </summary>
    public static Tensor Distribution(Tensor logits, Tensor targetIds, Tensor targetProbabilities, Tensor mask, long? positions = null)
    {
        using var scope = NewDisposeScope();
        var logProbs = F.log_softmax(logits.to(ScalarType.Float32), -1);
        var studentAtTargets = logProbs.gather(2, targetIds);
        var p = targetProbabilities.to(ScalarType.Float32);
        // xlogy gives p·log p with 0·log 0 = 0, so empty slots add nothing.
        var perPosition = (p.xlogy(p) - p * studentAtTargets).sum(2);
        return MaskedMean(perPosition, mask, positions).MoveToOuterDisposeScope();
    }

    private static Tensor MaskedMean(Tensor perPosition, Tensor mask, long? positions)
    {
        var weights = mask.to(ScalarType.Float32);
        var sum = (perPosition * weights).sum();
        return positions is { } count ? sum / Math.Max(count, 1) : sum / weights.sum().clamp_min(1);
    }
}
