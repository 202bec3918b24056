using Specialist.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Specialist.Tests.Models;

/// <summary>Sampling and log-probabilities of <see cref="LlamaGenerator"/> on the Qwen2 parity fixture's model (greedy parity is in <see cref="LlamaParityTests"/>).</summary>
public class LlamaGeneratorTests
{
    private static readonly IReadOnlyList<int>[] Prompts = [[1, 280, 243, 51, 68, 275, 134, 66], [1, 207, 212, 17], [1, 378, 6, 192, 50, 61]];

    private static LlamaModel Load() => LlamaCheckpoint.Load(Path.Combine(TestPaths.RepoRoot, "tests", "Specialist.Tests", "Models", "parity-fixture", "qwen2"));

    [Fact]
    public void A_seeded_sample_is_the_same_with_and_without_the_cache_and_beside_other_prompts()
    {
        using var model = Load();
        var generator = new LlamaGenerator(model);
        var options = new GenerationOptions { MaxNewTokens = 10, Sample = true, Temperature = 1.0, TopK = 50, PromptSeeds = [11, 12, 13], TopLogprobs = 3 };
        var cached = generator.Generate(Prompts, options);
        var uncached = generator.Generate(Prompts, options with { UseCache = false });
        var alone = generator.Generate([Prompts[1]], options with { PromptSeeds = [12] });

        Assert.Equal(cached.Select(s => s.Tokens), uncached.Select(s => s.Tokens));
        Assert.Equal(cached[1].Tokens, alone[0].Tokens);
        Assert.All(cached, s => Assert.Equal(10, s.Tokens.Count));
        // Another seed draws other tokens (the model's distribution is far from one-hot).
        var other = generator.Generate(Prompts, options with { PromptSeeds = [21, 22, 23] });
        Assert.NotEqual(cached.Select(s => string.Join(",", s.Tokens)), other.Select(s => string.Join(",", s.Tokens)));
        for (var b = 0; b < Prompts.Length; b++)
            for (var t = 0; t < 10; t++)
                Assert.Equal((double)cached[b].Logprobs![t].Chosen.Logprob, uncached[b].Logprobs![t].Chosen.Logprob, 1e-4); // a tolerance: rounding to 4 places splits values 1e-6 apart
    }

    [Fact]
    public void Log_probabilities_are_those_of_the_whole_sequence_run_at_once()
    {
        using var model = Load();
        var generated = new LlamaGenerator(model).Generate(Prompts, new GenerationOptions { MaxNewTokens = 6, TopLogprobs = 4 });
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        for (var b = 0; b < Prompts.Length; b++)
        {
            var sequence = Prompts[b].Concat(generated[b].Tokens).Select(id => (long)id).ToArray();
            var ids = tensor(sequence, [1, sequence.Length]);
            var mask = ones_like(ids);
            var logprobs = model.forward(ids, mask, LlamaModel.PositionIds(mask))[0].log_softmax(-1);
            for (var t = 0; t < generated[b].Tokens.Count; t++)
            {
                var at = logprobs[Prompts[b].Count - 1 + t];
                var step = generated[b].Logprobs![t];
                Assert.Equal((double)at[step.Chosen.Id].item<float>(), step.Chosen.Logprob, 1e-4);
                // Greedy: the chosen token is the most likely one, listed first among the top 4, which are in order.
                Assert.Equal(at.argmax().item<long>(), step.Chosen.Id);
                Assert.Equal(step.Chosen.Id, step.Top[0].Id);
                Assert.True(step.Top.Zip(step.Top.Skip(1)).All(p => p.First.Logprob >= p.Second.Logprob));
            }
        }
    }

    [Fact]
    public void A_stepped_batch_stops_rows_mid_way_agrees_with_the_whole_call_and_leaks_no_tensor()
    {
        using var model = Load();
        var generator = new LlamaGenerator(model);
        var options = new GenerationOptions { MaxNewTokens = 5, TopLogprobs = 2 };
        var whole = generator.Generate(Prompts, options);
        var planned = generator.Plan(Prompts, options).Single();
        using (var batch = planned.Start())
        {
            batch.Step();
            batch.Step();
            batch.Stop([0]);
            Assert.Equal(2, batch.DecodingRows); // a third of the rows ended: they leave the batch
            while (!batch.Done) batch.Step();
            var rest = batch.Read([1, 2]);
            Assert.Equal(whole[planned.Rows[1]].Tokens, rest[0].Tokens);
            Assert.Equal(whole[planned.Rows[2]].Tokens, rest[1].Tokens);
        }
        DecodingBatchChecks.AssertCyclesLeakNothing(() => generator.Plan(Prompts, options).Single().Start(), 10);
        DecodingBatchChecks.AssertCyclesLeakNothing(() => generator.Plan(Prompts, options with { UseCache = false }).Single().Start(), 10);
    }

    [Fact]
    public void Ids_outside_the_vocabulary_are_refused_before_libtorch_sees_them()
    {
        using var model = Load();
        var error = Assert.Throws<SpecialistException>(() => new LlamaGenerator(model).Generate([[1, 384]], new GenerationOptions { MaxNewTokens = 2 }));
        Assert.Contains("token id 384 is outside the model's vocabulary", error.Message);
    }
}
