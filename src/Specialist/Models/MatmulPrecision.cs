using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Specialist.Models;

/// <summary>
/// The dtype a model's matrix multiplies run in: its linear layers, attention scores and values, and its output layer.
/// Off (null), they run in the weights' own dtype. bf16 over fp32 weights is mixed-precision training as
/// <c>torch.autocast</c> does it on the CPU (TorchSharp 0.107 has no autocast): each multiply casts its operands to
/// bf16 (AMX-BF16 runs it ~2.5× faster than fp32) and its result back to the input's dtype, so norms, softmax, the loss
/// and every weight and its gradient stay fp32; autograd carries the gradients through the casts to the fp32 weights.
/// One instance is shared by all the layers of a model, so setting it switches the whole model.
/// </summary>
internal sealed class MatmulPrecision
{
    /// <summary>The dtype multiplies run in; null: the operands' own.</summary>
    public ScalarType? ComputeType { get; set; }

    /// <summary><paramref name="layer"/> applied to <paramref name="x"/>.</summary>
    public Tensor Linear(Linear layer, Tensor x) =>
        Casts(x, layer.weight!) is { } compute ? Cast(x, () => F.linear(x.to(compute), layer.weight!.to(compute), layer.bias?.to(compute))) : layer.call(x);

    /// <summary>x·Wᵀ without a bias (a tied output layer).</summary>
    public Tensor Linear(Tensor x, Tensor weight) =>
        Casts(x, weight) is { } compute ? Cast(x, () => F.linear(x.to(compute), weight.to(compute))) : F.linear(x, weight);

    /// <summary>a·b (attention's scores and values).</summary>
    public Tensor Matmul(Tensor a, Tensor b) =>
        Casts(a, b) is { } compute ? Cast(a, () => matmul(a.to(compute), b.to(compute))) : matmul(a, b);

    // Only when an operand is not already in the compute dtype: a bf16 model is left as it is.
    private ScalarType? Casts(Tensor a, Tensor b) => ComputeType is { } compute && (a.dtype != compute || b.dtype != compute) ? compute : null;

    private static Tensor Cast(Tensor like, Func<Tensor> multiply)
    {
        using var scope = NewDisposeScope();
        return multiply().to(like.dtype).MoveToOuterDisposeScope();
    }
}
