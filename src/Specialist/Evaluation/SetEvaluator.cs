using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Specialist.Answers;
using Specialist.Data;
using Specialist.Prompts;

namespace Specialist.Evaluation;

/// <summary>One problem answered and scored.</summary>
/// <param name="Id">The problem's id.</param>
/// <param name="PromptHash">SHA-256 (lower-case hex) of the exact query the source was asked (see <see cref="SetEvaluator.HashPrompt"/>).</param>
/// <param name="Output">What the source answered.</param>
/// <param name="Extracted">The answer read from the output (a number, or the stated text), or null when none could be read.</param>
/// <param name="Gold">The gold answer's text.</param>
/// <param name="Correct">Whether the output gets the gold answer right.</param>
public sealed record PredictionRecord(string Id, string PromptHash, string Output, string? Extracted, string Gold, bool Correct);

/// <summary>How a source did on one set.</summary>
/// <param name="Set">The set's name.</param>
/// <param name="Correct">Problems answered correctly.</param>
/// <param name="Total">Problems evaluated.</param>
/// <param name="Predictions">One record per problem, in the set's order.</param>
public sealed record SetResult(string Set, int Correct, int Total, IReadOnlyList<PredictionRecord> Predictions)
{
    /// <summary>Correct / Total (0 for no problems).</summary>
    public double Accuracy => Total == 0 ? 0 : (double)Correct / Total;

    /// <summary>The 95 % Wilson interval of <see cref="Accuracy"/>.</summary>
    public (double Lo, double Hi) Ci95 => WilsonInterval.Compute(Correct, Total);
}

/// <summary>Asks a source every problem of a set with the paper's evaluation queries and scores the answers.</summary>
public static class SetEvaluator
{
    /// <summary>
    /// Renders each problem's query with <paramref name="queries"/> (<see cref="EvaluationQueries"/>), answers them in
    /// calls of <see cref="IAnswerSource.PromptsPerCall"/> prompts (longest queries first, so a batch carries little
    /// padding), scores them (math with <see cref="AnswerScorer"/>, BBH problems (<see cref="Problem.BbhTask"/>) with
    /// <see cref="BbhAnswerScorer"/> in <paramref name="bbhMode"/>) and calls <paramref name="onPrediction"/> for each
    /// problem as soon as its call returns, so a caller can record finished work as it goes.
    /// </summary>
    /// <remarks><paramref name="bbhMode"/> decides how BBH outputs are read; it should be the mode <paramref name="queries"/> renders in.</remarks>
    public static SetResult Evaluate(IAnswerSource source, string setName, IReadOnlyList<Problem> problems,
        EvaluationQueries queries, BbhMode bbhMode = BbhMode.Cot, Action<PredictionRecord>? onPrediction = null)
    {
        var prompts = problems.Select(queries.Render).ToArray();
        var records = new PredictionRecord[problems.Count];
        var order = Enumerable.Range(0, problems.Count).OrderByDescending(i => prompts[i].Length).ToArray();
        foreach (var chunk in order.Chunk(Math.Max(1, source.PromptsPerCall)))
        {
            var outputs = source.Answer([.. chunk.Select(i => prompts[i])]);
            if (outputs.Count != chunk.Length)
                throw new SpecialistException($"{source.Name} returned {outputs.Count} answers for {chunk.Length} prompts");
            for (var j = 0; j < chunk.Length; j++)
            {
                var i = chunk[j];
                records[i] = Score(problems[i], HashPrompt(prompts[i]), outputs[j], bbhMode);
                onPrediction?.Invoke(records[i]);
            }
        }
        return Result(setName, records);
    }

    /// <summary>A set's result from its records (in the set's order).</summary>
    internal static SetResult Result(string setName, IReadOnlyList<PredictionRecord> records) =>
        new(setName, records.Count(r => r.Correct), records.Count, records);

    /// <summary>Scores one output: BBH problems (<see cref="Problem.BbhTask"/>) by their target, every other problem by its gold answer.</summary>
    internal static PredictionRecord Score(Problem problem, string promptHash, string output, BbhMode bbhMode)
    {
        var gold = problem.Answer;
        if (problem.BbhTask is not null)
            return new PredictionRecord(problem.Id, promptHash, output, BbhAnswerScorer.StatedAnswer(output, bbhMode), gold.Text,
                BbhAnswerScorer.IsCorrect(output, gold.Text, bbhMode));
        var extracted = gold.IsNumeric
            ? AnswerExtractor.Extract(output)?.ToString("R", CultureInfo.InvariantCulture)
            : AnswerExtractor.StatedAnswer(output) ?? NullIfEmpty(AnswerExtractor.LastLine(output));
        return new PredictionRecord(problem.Id, promptHash, output, extracted, gold.Text, AnswerScorer.IsCorrect(output, gold));
    }

    /// <summary>SHA-256 (lower-case hex) of the query's UTF-8 bytes: a prediction is reused only for the very same query.</summary>
    public static string HashPrompt(string prompt) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(prompt)));

    private static string? NullIfEmpty(string text) => text.Length == 0 ? null : text;
}
