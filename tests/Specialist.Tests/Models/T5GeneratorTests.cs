using Specialist.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Specialist.Tests.Models;

public class T5GeneratorTests
{
    // Different lengths, so the batch carries padding; each ends with </s> as the tokenizer leaves it.
    private static readonly IReadOnlyList<int>[] Prompts =
    [
        [37, 629, 19, 1627, 5, 1],
        [8774, 296, 1],
        [13959, 1566, 12, 2968, 10, 571, 625, 33, 25, 58, 1],
        [100, 1],
    ];

    private static readonly IReadOnlyList<int>[] SmallVocabularyPrompts = [.. Prompts.Select(p => (IReadOnlyList<int>)[.. p.Select(id => id % 500)])];

    [Fact]
    public void GreedyWithTheCacheEqualsGreedyWithout()
    {
        using var model = T5ModelTests.TinyModel(seed: 21);
        var generator = new T5Generator(model);
        var options = new GenerationOptions { MaxNewTokens = 12, BatchSize = 4 };
        var cached = generator.Generate(Prompts, options);
        var uncached = generator.Generate(Prompts, options with { UseCache = false });
        Assert.All(cached, s => Assert.Equal(12, s.Tokens.Count));
        Assert.Equal(cached.Select(s => s.Tokens), uncached.Select(s => s.Tokens));
        // Not all the same: the prompts matter.
        Assert.True(cached.Select(s => string.Join(",", s.Tokens)).Distinct().Count() > 1);
    }

    [Fact]
    public void BatchingDoesNotChangeTheResult()
    {
        using var model = T5ModelTests.TinyModel(seed: 22);
        var generator = new T5Generator(model);
        var options = new GenerationOptions { MaxNewTokens = 8, BatchSize = 4 };
        var batched = generator.Generate(Prompts, options);
        for (var i = 0; i < Prompts.Length; i++)
            Assert.Equal(generator.Generate([Prompts[i]], options)[0].Tokens, batched[i].Tokens);
    }

    [Fact]
    public void GreedyChoosesTheArgmaxOfAFullForwardPass()
    {
        using var model = T5ModelTests.TinyModel(seed: 23);
        var result = new T5Generator(model).Generate([Prompts[0]], new GenerationOptions { MaxNewTokens = 6, TopLogprobs = 5 })[0];
        using var scope = NewDisposeScope();
        var logprobs = FullForwardLogprobs(model, Prompts[0], result.Tokens);
        for (var t = 0; t < result.Tokens.Count; t++)
        {
            Assert.Equal(logprobs[t].argmax().item<long>(), result.Tokens[t]);
            var step = result.Logprobs![t];
            Assert.Equal(result.Tokens[t], step.Chosen.Id);
            Assert.Equal(logprobs[t][result.Tokens[t]].item<float>(), step.Chosen.Logprob, 1e-4f);
            Assert.Equal(5, step.Top.Count);
            Assert.Equal(step.Chosen, step.Top[0]);
            for (var c = 0; c < 5; c++)
            {
                Assert.True(step.Top[c].Logprob <= 0);
                if (c > 0) Assert.True(step.Top[c].Logprob <= step.Top[c - 1].Logprob);
                Assert.Equal(logprobs[t][step.Top[c].Id].item<float>(), step.Top[c].Logprob, 1e-4f);
            }
        }
    }

    [Fact]
    public void SamplingIsReproducibleWithASeedAndItsLogprobsMatchAFullForwardPass()
    {
        using var model = T5ModelTests.TinyModel(seed: 24);
        var generator = new T5Generator(model);
        var options = new GenerationOptions { MaxNewTokens = 10, Sample = true, Temperature = 2.0, TopK = 50, TopP = 0.9, Seed = 7, TopLogprobs = 3 };
        var first = generator.Generate(Prompts, options);
        var again = generator.Generate(Prompts, options);
        var otherSeed = generator.Generate(Prompts, options with { Seed = 8 });
        var greedy = generator.Generate(Prompts, new GenerationOptions { MaxNewTokens = 10 });
        Assert.Equal(first.Select(s => s.Tokens), again.Select(s => s.Tokens));
        Assert.NotEqual(first.Select(s => s.Tokens), otherSeed.Select(s => s.Tokens));
        Assert.NotEqual(first.Select(s => s.Tokens), greedy.Select(s => s.Tokens));

        // The reported distribution is the log-softmax after temperature.
        using var scope = NewDisposeScope();
        var logprobs = FullForwardLogprobs(model, Prompts[1], first[1].Tokens, temperature: 2.0);
        for (var t = 0; t < first[1].Tokens.Count; t++)
            Assert.Equal(logprobs[t][first[1].Tokens[t]].item<float>(), first[1].Logprobs![t].Chosen.Logprob, 1e-4f);
    }

    [Fact]
    public void TopKOneSamplesGreedily()
    {
        using var model = T5ModelTests.TinyModel(seed: 25);
        var generator = new T5Generator(model);
        var greedy = generator.Generate(Prompts, new GenerationOptions { MaxNewTokens = 6 });
        var topOne = generator.Generate(Prompts, new GenerationOptions { MaxNewTokens = 6, Sample = true, TopK = 1, Seed = 3 });
        var tinyTopP = generator.Generate(Prompts, new GenerationOptions { MaxNewTokens = 6, Sample = true, TopP = 1e-6, Seed = 4 });
        Assert.Equal(greedy.Select(s => s.Tokens), topOne.Select(s => s.Tokens));
        Assert.Equal(greedy.Select(s => s.Tokens), tinyTopP.Select(s => s.Tokens));
    }

    [Fact]
    public void EachSequenceStopsAtEndOfSequence()
    {
        using var model = T5ModelTests.TinyModel(seed: 26);
        var dir = TestPaths.NewTempDir();
        T5Checkpoint.Save(model, dir);
        var free = new T5Generator(model).Generate(Prompts, new GenerationOptions { MaxNewTokens = 10 });

        // Make the token the first prompt produces third the end-of-sequence id; the weights stay the same.
        var eos = free[0].Tokens[2];
        var configPath = Path.Combine(dir, "config.json");
        File.WriteAllText(configPath, (T5Config.Tiny with { EosTokenId = eos }).ToJson());
        using var stopping = T5Checkpoint.Load(dir);
        foreach (var useCache in new[] { true, false })
        {
            var results = new T5Generator(stopping).Generate(Prompts, new GenerationOptions { MaxNewTokens = 10, UseCache = useCache });
            for (var i = 0; i < Prompts.Length; i++)
            {
                var stop = free[i].Tokens.ToList().IndexOf(eos);
                var expected = stop >= 0 ? free[i].Tokens.Take(stop + 1) : free[i].Tokens;
                Assert.Equal(expected, results[i].Tokens);
                Assert.Equal(stop >= 0, results[i].Finished);
            }
            Assert.True(results[0].Finished);
            Assert.Equal(eos, results[0].Tokens[^1]);
        }
        Assert.Contains(free, s => !s.Tokens.Contains(eos)); // so one sequence ran on after another stopped

        // The first sequence leaves the batch when it finishes (a quarter of four rows): the others' tokens and log-probs
        // are those each gets alone.
        var withLogprobs = new GenerationOptions { MaxNewTokens = 10, TopLogprobs = 3, BatchSize = 4 };
        var batched = new T5Generator(stopping).Generate(Prompts, withLogprobs);
        for (var i = 0; i < Prompts.Length; i++)
        {
            var alone = new T5Generator(stopping).Generate([Prompts[i]], withLogprobs)[0];
            Assert.Equal(alone.Tokens, batched[i].Tokens);
            for (var t = 0; t < alone.Tokens.Count; t++)
            {
                Assert.Equal(alone.Logprobs![t].Chosen.Logprob, batched[i].Logprobs![t].Chosen.Logprob, 1e-4f);
                Assert.Equal(alone.Logprobs[t].Top.Select(c => c.Id), batched[i].Logprobs![t].Top.Select(c => c.Id));
            }
        }

        // MinNewTokens holds end-of-sequence back.
        var held = new T5Generator(stopping).Generate([Prompts[0]], new GenerationOptions { MaxNewTokens = 10, MinNewTokens = 10 });
        Assert.Equal(10, held[0].Tokens.Count);
        Assert.DoesNotContain(eos, held[0].Tokens);
    }

    [Fact]
    public void GenerationLeavesTheModelsModeAndRejectsBadInput()
    {
        using var model = T5ModelTests.TinyModel(seed: 27);
        model.train();
        var generator = new T5Generator(model);
        generator.Generate([Prompts[0]], new GenerationOptions { MaxNewTokens = 2 });
        Assert.True(model.training);
        Assert.Contains("outside the model's vocabulary", Assert.Throws<SpecialistException>(() => generator.Generate([[5, 40000]], new GenerationOptions())).Message);
        Assert.Contains("no tokens", Assert.Throws<SpecialistException>(() => generator.Generate([[]], new GenerationOptions())).Message);
        Assert.Contains("top-p", Assert.Throws<SpecialistException>(() => generator.Generate([[5]], new GenerationOptions { TopP = 0 })).Message);
    }

    [Fact]
    public void ASteppedBatchReadsAndStopsRowsMidWayAndAgreesWithTheWholeCall()
    {
        using var model = T5ModelTests.TinyModel(seed: 27);
        var generator = new T5Generator(model);
        var options = new GenerationOptions { MaxNewTokens = 6, BatchSize = 4, TopLogprobs = 2 };
        var whole = generator.Generate(Prompts, options);
        Assert.All(whole, s => Assert.Equal(6, s.Tokens.Count)); // none stops early, so every row runs the whole way

        var planned = generator.Plan(Prompts, options).Single();
        using (var batch = planned.Start())
        {
            batch.Step();
            batch.Step();
            var early = batch.Read([0, 1]);
            batch.Stop([0, 1]);
            Assert.Equal(2, batch.DecodingRows); // half the rows ended: they leave the batch at once
            while (!batch.Done) batch.Step();
            var late = batch.Read([2, 3]);
            for (var j = 0; j < 2; j++)
            {
                Assert.Equal(whole[planned.Rows[j]].Tokens.Take(2), early[j].Tokens);
                Assert.Equal(whole[planned.Rows[j]].Logprobs!.Take(2).Select(s => s.Chosen.Id), early[j].Logprobs!.Select(s => s.Chosen.Id));
                Assert.Equal(whole[planned.Rows[j + 2]].Tokens, late[j].Tokens);
            }
            Assert.Equal(6, batch.Steps);
        }

        DecodingBatchChecks.AssertCyclesLeakNothing(() => generator.Plan(Prompts, options).Single().Start(), 20);
    }

    [Fact]
    public void ManyCallsLeakNoTensors()
    {
        // Smaller than tiny, so the calls take seconds.
        var micro = T5Config.Tiny with { VocabSize = 512, DModel = 16, DFf = 32, DKv = 8, NumHeads = 2, NumLayers = 1, NumDecoderLayers = 1 };
        using var model = T5ModelTests.TinyModel(seed: 28, micro);
        var generator = new T5Generator(model);
        var options = new[]
        {
            new GenerationOptions { MaxNewTokens = 3 },
            new GenerationOptions { MaxNewTokens = 3, UseCache = false },
            new GenerationOptions { MaxNewTokens = 3, Sample = true, TopK = 5, TopP = 0.9, Seed = 1, TopLogprobs = 2 },
        };
        void Run(int calls)
        {
            for (var i = 0; i < calls; i++)
                generator.Generate([SmallVocabularyPrompts[i % Prompts.Length], SmallVocabularyPrompts[(i + 1) % Prompts.Length]], options[i % options.Length]);
        }
        Run(6);
        var live = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        Run(300);
        Assert.Equal(live, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }

    /// <summary>Log-softmax (after temperature) of every decoder position, from one forward pass over the prompt and the generated tokens.</summary>
    private static Tensor FullForwardLogprobs(T5Model model, IReadOnlyList<int> prompt, IReadOnlyList<int> generated, double temperature = 1.0)
    {
        var ids = tensor(prompt.Select(x => (long)x).ToArray(), 1, prompt.Count);
        var decoderIds = tensor(new long[] { model.Config.DecoderStartTokenId }.Concat(generated.SkipLast(1).Select(x => (long)x)).ToArray(), 1, generated.Count);
        return (model.forward(ids, ones_like(ids), decoderIds)[0] / temperature).log_softmax(-1);
    }
}
