using Specialist.Models;
using Specialist.Training;
using static TorchSharp.torch;

namespace Specialist.Tests.Training;

/// <summary>
/// The losses on tiny tensors against values worked out by hand. For logits (1, 2, 3) over a vocabulary of 3:
/// logsumexp = 3 + ln(1 + e⁻¹ + e⁻²) = 3.40760596, so log q = (−2.40760596, −1.40760596, −0.40760596).
/// </summary>
public class SequenceLossesTests
{
    private const double LogQ0 = -2.40760596444438, LogQ2 = -0.40760596444438013;

    public SequenceLossesTests() => TorchRuntime.EnsureLoaded();

    // (batch 1, length 2, vocab 3): both positions carry the logits (1, 2, 3).
    private static Tensor Logits(bool requiresGrad = false) =>
        tensor(new float[] { 1, 2, 3, 1, 2, 3 }, [1, 2, 3]).requires_grad_(requiresGrad);

    private static Tensor Ids(params long[] values) => tensor(values, [1, values.Length]);

    [Fact]
    public void Cross_entropy_is_the_masked_mean_of_minus_log_q_of_each_label()
    {
        // Labels 0 and 2: (2.40760596 + 0.40760596) / 2.
        using var both = SequenceLosses.CrossEntropy(Logits(), Ids(0, 2), Ids(1, 1));
        Assert.Equal((-LogQ0 - LogQ2) / 2, both.item<float>(), 5);
        // The second position is padding (its label, -100, is not even a valid id): only −log q(0) counts.
        using var masked = SequenceLosses.CrossEntropy(Logits(), Ids(0, -100), Ids(1, 0));
        Assert.Equal(-LogQ0, masked.item<float>(), 5);
    }

    [Fact]
    public void Distribution_matching_is_kl_from_the_sparse_teacher_without_renormalising()
    {
        // Teacher 0.7 on id 0, 0.2 on id 2 (sum 0.9, kept as is): 0.7·(ln 0.7 + 2.40760596) + 0.2·(ln 0.2 + 0.40760596) = 1.19528532.
        // Position 2 is padding with an all-zero target.
        var ids = tensor(new long[] { 0, 2, 0, 0 }, [1, 2, 2]);
        var probabilities = tensor(new float[] { 0.7f, 0.2f, 0, 0 }, [1, 2, 2]);
        var logits = Logits(requiresGrad: true);
        using var loss = SequenceLosses.Distribution(logits, ids, probabilities, Ids(1, 0));
        Assert.Equal(0.7 * (Math.Log(0.7) - LogQ0) + 0.2 * (Math.Log(0.2) - LogQ2), loss.item<float>(), 5);
        Assert.Equal(1.19528532, loss.item<float>(), 5);

        // ∂KL/∂logits = (Σp)·softmax − p = 0.9·(0.09003057, 0.24472847, 0.66524096) − (0.7, 0, 0.2) at the real position, 0 at the padding.
        loss.backward();
        var grad = logits.grad!.data<float>().ToArray();
        double[] expected = [-0.61897248, 0.22025562, 0.39871686, 0, 0, 0];
        for (var i = 0; i < expected.Length; i++) Assert.Equal(expected[i], grad[i], 5);
    }

    [Fact]
    public void One_hot_targets_reduce_distribution_matching_to_cross_entropy_exactly()
    {
        var random = randn(2, 5, 11);
        var labels = tensor(new long[] { 3, 0, 10, 7, 1, 4, 4, 9, 2, 6 }, [2, 5]);
        var mask = tensor(new long[] { 1, 1, 1, 1, 0, 1, 1, 1, 0, 0 }, [2, 5]);
        using var ce = SequenceLosses.CrossEntropy(random, labels, mask);
        // One-hot in the first slot; a second slot at probability 0 changes nothing.
        var ids = stack([labels, zeros_like(labels)], 2);
        var probabilities = stack([ones(2, 5), zeros(2, 5)], 2);
        using var kl = SequenceLosses.Distribution(random, ids, probabilities, mask);
        Assert.Equal(ce.item<float>(), kl.item<float>());
    }
}
