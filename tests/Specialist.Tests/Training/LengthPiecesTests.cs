using Specialist.Alignment;
using Specialist.Models;
using Specialist.Prompts;
using Specialist.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Specialist.Tests.Training;

/// <summary><c>length_pieces</c>: a micro-batch computed in pieces of similar length gives the whole micro-batch's loss and gradient.</summary>
public class LengthPiecesTests
{
    private const int Vocab = 64;

    // Eight examples, prompts of 3–40 tokens and targets of 2–30, in no order of length.
    private static TrainingMicroBatch Batch(TrainingFormat format)
    {
        var random = new Random(9);
        return new TrainingMicroBatch(format, [.. Enumerable.Range(0, 8).Select(i =>
        {
            int[] prompt = [.. Enumerable.Range(0, random.Next(3, 41)).Select(_ => random.Next(3, Vocab)), 1];
            int[] target = [.. Enumerable.Range(0, random.Next(2, 31)).Select(_ => random.Next(3, Vocab)), 1];
            return new DistillExample(format, $"q/{i}", -1, prompt, target, SparseTargets.OneHot(target));
        })]);
    }

    [Fact]
    public void Pieces_hold_every_example_once_shortest_first_in_nearly_equal_parts()
    {
        var batch = Batch(TrainingFormat.ZeroShotCot);
        Assert.Same(batch, Assert.Single(batch.PiecesByLength(1, null, null)));
        var pieces = batch.PiecesByLength(3, maxSourceLength: 20, maxTargetLength: null);
        Assert.Equal([2, 3, 3], pieces.Select(p => p.Examples.Count));
        Assert.All(pieces, p => Assert.Equal(batch.Format, p.Format));
        Assert.Equal(batch.Examples.Select(e => e.QuestionId).Order(), pieces.SelectMany(p => p.Examples).Select(e => e.QuestionId).Order());
        // Sorted by prompt (at most 20 tokens: the limit applies) plus target length.
        var lengths = pieces.SelectMany(p => p.Examples).Select(e => Math.Min(e.EncoderIds.Length, 20) + e.DecoderIds.Length).ToList();
        Assert.Equal(lengths.Order(), lengths);
        Assert.Equal(8, batch.PiecesByLength(20, null, null).Count);
    }

    [Theory]
    [InlineData("t5", false)]
    [InlineData("t5", true)]
    [InlineData("qwen2", false)]
    [InlineData("qwen2", true)]
    public void In_pieces_the_loss_and_the_gradient_are_the_whole_micro_batchs(string family, bool sparse)
    {
        TorchRuntime.EnsureLoaded();
        var batch = Batch(TrainingFormat.ZeroShotCot);
        var config = new TrainingConfig { GradAccum = 2, MaxSourceLen = 32 };
        var (whole, wholeGradients) = Gradients(family, batch, config, sparse);
        var (inPieces, piecesGradients) = Gradients(family, batch, config with { LengthPieces = 3 }, sparse);
        Assert.Equal(whole.Loss, inPieces.Loss, 4);
        Assert.Equal(whole.Tokens, inPieces.Tokens);
        Assert.Equal(wholeGradients.Count, piecesGradients.Count);
        for (var i = 0; i < wholeGradients.Count; i++)
        {
            var scale = wholeGradients[i].Select(Math.Abs).Max();
            Assert.True(scale > 0);
            var difference = wholeGradients[i].Zip(piecesGradients[i], (a, b) => Math.Abs(a - b)).Max();
            Assert.True(difference <= 1e-4 * scale, $"parameter {i}: gradients differ by {difference} (largest {scale})");
        }
    }

    private static ((float Loss, long Tokens) Result, List<float[]> Gradients) Gradients(string family, TrainingMicroBatch batch, TrainingConfig config, bool sparse)
    {
        manual_seed(5);
        IModelConfig model = family == "t5"
            ? T5Config.Tiny with { VocabSize = Vocab, DropoutRate = 0 }
            : new LlamaConfig
            {
                ModelType = LlamaConfig.Qwen2, VocabSize = Vocab, HiddenSize = 32, IntermediateSize = 64, NumHiddenLayers = 2, NumAttentionHeads = 4,
                NumKeyValueHeads = 2, MaxPositionEmbeddings = 128, TieWordEmbeddings = true, EosTokenIds = [1], PadTokenId = 0,
            };
        using var student = StudentModel.Create(model);
        student.Module.train();
        student.ZeroGradients();
        var result = TrainingRecipe.Backward(student, batch, promptHead: 0, config, sparse, CPU);
        var gradients = student.Module.parameters().Select(p => p.grad!.to_type(ScalarType.Float32).data<float>().ToArray()).ToList();
        return (result, gradients);
    }
}
