using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Specialist.Models;

/// <summary>
/// RMS norm without mean or bias (T5's layer norm; Llama's and Qwen2's RMSNorm): the mean square is taken in fp32 or
/// wider whatever the weights' dtype, and the normed values are cast back before the weight scales them.
/// </summary>
internal sealed class RmsNorm : nn.Module
{
    private readonly Parameter weight;
    private readonly double eps;

    public RmsNorm(int size, double eps, ScalarType dtype) : base("RmsNorm")
    {
        weight = new Parameter(ones(size, dtype)); // on the CPU, as every module's weights start; Module.to moves them
        this.eps = eps;
        RegisterComponents();
    }

    public Tensor forward(Tensor hidden)
    {
        using var scope = NewDisposeScope();
        var variance = hidden.to(TorchRuntime.AccumulationType(hidden.dtype)).pow(2).mean([-1], keepdim: true);
        var normed = hidden * rsqrt(variance + eps);
        if (weight.dtype != ScalarType.Float32) normed = normed.to(weight.dtype);
        return (weight * normed).MoveToOuterDisposeScope();
    }
}
