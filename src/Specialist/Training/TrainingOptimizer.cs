using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Specialist.Training;

/// <summary>
/// TorchSharp's AdamW (the same update in the same order, the same state and <c>optimizer.bin</c> format) with every
/// scalar operand created and disposed here. TorchSharp's own step converts doubles to temporary <see cref="Scalar"/>s
/// whose only owner is their finalizer and which nothing keeps alive during the native call: a garbage collection on
/// another thread (two runs training at once, each collecting every step) can free one mid-call, and libtorch then
/// aborts the process ("Expected false to be true" in <c>Scalar::toDouble</c>).
/// </summary>
internal sealed class TrainingOptimizer(IEnumerable<Parameter> parameters, double lr, double weightDecay)
    : AdamW(parameters, lr, beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: weightDecay)
{
    public override Tensor step(Func<Tensor>? closure = null) => _step<ParamGroup>(group =>
    {
        var options = (Options)group.Options;
        double beta1 = options.beta1!.Value, beta2 = options.beta2!.Value, lr = options.LearningRate!.Value;
        using var decay = (1 - lr * options.weight_decay!.Value).ToScalar();
        using var keep1 = beta1.ToScalar();
        using var new1 = (1 - beta1).ToScalar();
        using var keep2 = beta2.ToScalar();
        using var new2 = (1 - beta2).ToScalar();
        using var eps = options.eps!.Value.ToScalar();
        foreach (var param in group.Parameters)
        {
            var grad = param.grad;
            if (grad is null) continue;
            var state = (State)_state[param.Handle];
            state.step += 1;
            param.mul_(decay);
            state.exp_avg.mul_(keep1).add_(grad, alpha: new1);
            state.exp_avg_sq.mul_(keep2).addcmul_(grad, grad, value: new2);
            using var correction2 = Math.Sqrt(1 - Math.Pow(beta2, state.step)).ToScalar();
            using var stepSize = (-lr / (1 - Math.Pow(beta1, state.step))).ToScalar();
            var denominator = (state.exp_avg_sq.sqrt() / correction2).add_(eps);
            param.addcdiv_(state.exp_avg, denominator, value: stepSize);
        }
    }, closure);
}
