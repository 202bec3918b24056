using Specialist.Answers;
using Specialist.Data;
using Specialist.Evaluation;
using Specialist.Models;
using Specialist.Prompts;
using Specialist.Tokenization;

namespace Specialist.Tests.Evaluation;

public class SetEvaluatorTests
{
    /// <summary>Answers from a function of the prompt and records every call.</summary>
    private sealed class ScriptedSource(Func<string, string> answer, int promptsPerCall) : IAnswerSource
    {
        public List<IReadOnlyList<string>> Calls { get; } = [];
        public string Name => "scripted";
        public int PromptsPerCall => promptsPerCall;

        public IReadOnlyList<string> Answer(IReadOnlyList<string> prompts)
        {
            Calls.Add(prompts);
            return [.. prompts.Select(answer)];
        }
    }

    private static readonly DataOptions Data = new(TestPaths.DataRoot);

    [Fact]
    public void AsksTheRenderedQueriesInCallsOfTheSourcesSizeAndScoresEachAnswer()
    {
        var problems = ProblemSets.Load("gsm8k-test", Data).Take(7).ToList();
        var queries = new EvaluationQueries(TestPaths.DataRoot, MathPromptStyle.ZeroShot);
        // Right for problems 0, 2, 4, 6 (stated as "The answer is N"), wrong for the rest.
        var right = problems.Where((_, i) => i % 2 == 0).Select(p => p.Id).ToHashSet();
        var byPrompt = problems.ToDictionary(queries.Render, p => p);
        var source = new ScriptedSource(prompt =>
        {
            var p = byPrompt[prompt];
            return right.Contains(p.Id) ? $"We add things.\nThe answer is {p.Answer.Text}" : "I do not know";
        }, promptsPerCall: 3);
        var seen = new List<PredictionRecord>();

        var result = SetEvaluator.Evaluate(source, "gsm8k-test", problems, queries, onPrediction: seen.Add);

        Assert.Equal(new[] { 3, 3, 1 }, source.Calls.Select(c => c.Count));
        Assert.Equal(problems.Select(queries.Render).Order(), source.Calls.SelectMany(c => c).Order());
        Assert.Equal(7, result.Total);
        Assert.Equal(4, result.Correct);
        Assert.Equal(4 / 7.0, result.Accuracy, 12);
        Assert.Equal(WilsonInterval.Compute(4, 7), result.Ci95);
        Assert.Equal(problems.Select(p => p.Id), result.Predictions.Select(r => r.Id));
        Assert.Equal(7, seen.Count);
        foreach (var (record, problem) in result.Predictions.Zip(problems))
        {
            Assert.Equal(SetEvaluator.HashPrompt(queries.Render(problem)), record.PromptHash);
            Assert.Equal(problem.Answer.Text, record.Gold);
            Assert.Equal(right.Contains(problem.Id), record.Correct);
            Assert.Equal(right.Contains(problem.Id) ? problem.Answer.Number!.Value.ToString("R", System.Globalization.CultureInfo.InvariantCulture) : null, record.Extracted);
        }
    }

    [Fact]
    public void ScoresBbhProblemsByTheirTargetInTheGivenMode()
    {
        var problems = ProblemSets.Load("bbh/navigate", Data).Take(2).ToList();
        var queries = new EvaluationQueries(TestPaths.DataRoot, MathPromptStyle.FourShot, BbhMode.AnswerOnly);
        var first = queries.Render(problems[0]);
        Assert.EndsWith("\nA:", first);
        var source = new ScriptedSource(prompt => prompt == first ? " " + problems[0].Answer.Text : "Maybe.", promptsPerCall: 16);

        var result = SetEvaluator.Evaluate(source, "bbh/navigate", problems, queries, BbhMode.AnswerOnly);

        Assert.Equal([true, false], result.Predictions.Select(r => r.Correct));
        Assert.Equal(problems[0].Answer.Text, result.Predictions[0].Extracted);
        // In CoT mode an answer without "the answer is" states nothing.
        var cot = SetEvaluator.Evaluate(source, "bbh/navigate", problems, new EvaluationQueries(TestPaths.DataRoot, MathPromptStyle.FourShot), BbhMode.Cot);
        Assert.Equal(0, cot.Correct);
    }

    [Fact]
    public void ModelSourceAnswersEveryPromptLikeTheGeneratorDoes()
    {
        var tokenizer = Tokenizers.Load(TestPaths.T5SpieceModel);
        TorchRuntime.EnsureLoaded();
        TorchSharp.torch.manual_seed(3);
        using var model = new T5Model(T5Config.Tiny);
        var source = new ModelAnswerSource(model, tokenizer, batchSize: 2, maxNewTokens: 6);
        string[] prompts = ["Q: What is 2 + 3?\nLet's think step by step\n", "Hello", "Q: a much longer question about apples and pears?"];

        var outputs = source.Answer(prompts);

        Assert.Equal(2, source.PromptsPerCall);
        var expected = new T5Generator(model).Generate([.. prompts.Select(p => tokenizer.Encode(p).Ids)], new GenerationOptions { MaxNewTokens = 6, BatchSize = 2 });
        Assert.Equal(expected.Select(g => tokenizer.Decode(g.Tokens)), outputs);
    }

    [Fact]
    public void ModelSourceNeverAnswersWithIdsPastTheTokenizersVocabulary()
    {
        var tokenizer = Tokenizers.Load(TestPaths.T5SpieceModel);
        TorchRuntime.EnsureLoaded();
        using var model = new T5Model(T5Config.Tiny);
        // Only two padding rows of the output layer (ids 32110 and 32111, which no text maps to) get non-zero logits,
        // of opposite signs, so one of them wins every step unless generation is kept to the tokenizer's vocabulary.
        using (TorchSharp.torch.no_grad())
        {
            var head = model.get_parameter("lm_head.weight")!;
            head.zero_();
            head[32110].fill_(1);
            head[32111].fill_(-1);
        }
        var generated = new T5Generator(model).Generate([tokenizer.Encode("Hello").Ids], new GenerationOptions { MaxNewTokens = 3 });
        Assert.All(generated[0].Tokens, id => Assert.True(id >= tokenizer.VocabularySize));

        Assert.Equal([""], new ModelAnswerSource(model, tokenizer, maxNewTokens: 3).Answer(["Hello"]));
    }
}
