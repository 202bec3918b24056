using static TorchSharp.torch;

namespace Specialist.Models;

/// <summary>
/// A decoder-only student of the Llama family (<see cref="StudentModel"/>): prompt and target are one sequence, the
/// prompts padded on the left so that every row's prompt ends in the same column and its target starts in the next;
/// the logits of that column and the ones after it predict the target tokens. Prompt and target ids are written by
/// <see cref="StudentEncoding"/> (the beginning of sequence once and the chat template in the prompt, the end of answer
/// ending the target), as a distillation set stores them.
/// </summary>
internal sealed class LlamaStudent(LlamaModel model) : StudentModel
{
    public override IModelConfig Config => model.Config;

    internal override nn.Module Module => model;

    public override Device Device => model.Device;

    public override ScalarType? MatmulType { get => model.MatmulType; set => model.MatmulType = value; }

    public override IReadOnlyList<int> EosIds => model.Config.EosTokenIds;

    internal override int? MaxPositions => model.Config.MaxPositionEmbeddings;

    internal override int PadId => model.Config.PaddingId;

    internal override bool PadsPromptsLeft => true;

    internal override Tensor TargetLogits(Tensor promptIds, Tensor promptMask, Tensor labels, Tensor labelMask)
    {
        using var scope = NewDisposeScope();
        var mask = cat([promptMask, labelMask], 1);
        var hidden = model.Hidden(cat([promptIds, labels], 1), mask, LlamaModel.PositionIds(mask));
        // The last prompt column predicts the first target token; the last target token predicts nothing trained.
        var promptLength = promptIds.shape[1];
        return model.Logits(hidden.narrow(1, promptLength - 1, labels.shape[1])).MoveToOuterDisposeScope();
    }

    internal override IReadOnlyList<PlannedBatch> Plan(IReadOnlyList<IReadOnlyList<int>> prompts, GenerationOptions options, int? vocabularySize) =>
        new LlamaGenerator(model, vocabularySize).Plan(prompts, options);

    public override void Save(string directory, string tokenizerPath) => LlamaCheckpoint.Save(model, directory, tokenizerPath);
}
