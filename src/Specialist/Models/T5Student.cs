using static TorchSharp.torch;

namespace Specialist.Models;

/// <summary>
/// A T5 student (<see cref="StudentModel"/>): the prompt is the encoder's input, padded on the right; the target is the
/// decoder's, shifted right behind the decoder start token, so the decoder's logits line up with the target already.
/// </summary>
internal sealed class T5Student(T5Model model) : StudentModel
{
    public override IModelConfig Config => model.Config;

    internal override nn.Module Module => model;

    public override Device Device => model.Device;

    public override ScalarType? MatmulType { get => model.MatmulType; set => model.MatmulType = value; }

    public override IReadOnlyList<int> EosIds => [model.Config.EosTokenId];

    internal override int? MaxPositions => null;

    internal override int PadId => model.Config.PadTokenId;

    internal override bool PadsPromptsLeft => false;

    internal override Tensor TargetLogits(Tensor promptIds, Tensor promptMask, Tensor labels, Tensor labelMask) =>
        model.forward(promptIds, promptMask, model.ShiftRight(labels));

    internal override IReadOnlyList<PlannedBatch> Plan(IReadOnlyList<IReadOnlyList<int>> prompts, GenerationOptions options, int? vocabularySize) =>
        new T5Generator(model, vocabularySize).Plan(prompts, options);

    public override void Save(string directory, string tokenizerPath) => T5Checkpoint.Save(model, directory, tokenizerPath);
}
