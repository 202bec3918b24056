using Specialist.Answers;
using Specialist.Data;
using Specialist.Prompts;

namespace Specialist.Evaluation;

/// <summary>What <c>specialist eval</c> evaluates and how.</summary>
/// <param name="Sets">Set names (<see cref="ProblemSets.Names"/>, or <c>bbh/&lt;task&gt;</c>), in the order to report them.</param>
/// <param name="DataRoot">The data root.</param>
/// <param name="Prompt">The math prompt name: <c>4shot</c>, <c>zeroshot</c> or <c>teacher</c>.</param>
/// <param name="BbhMode">BIG-Bench Hard prompting.</param>
/// <param name="Limit">The first this many problems of each set, and of each task for <c>bbh</c>; null for all.</param>
/// <param name="OutputFolder">Where <c>predictions.jsonl</c> and <c>results.json</c> go (created when missing).</param>
public sealed record EvaluationRequest(IReadOnlyList<string> Sets, string DataRoot, string Prompt, BbhMode BbhMode, int? Limit, string OutputFolder);

/// <summary>What an evaluation found and how much decoding it took.</summary>
/// <param name="Results">The numbers, as written to <c>results.json</c>.</param>
/// <param name="Decoded">Problems answered by the model in this call.</param>
/// <param name="Reused">Problems whose recorded answer was reused.</param>
public sealed record EvaluationOutcome(EvaluationResults Results, int Decoded, int Reused);

/// <summary>
/// <c>specialist eval</c>: answers every problem of the requested sets with the paper's evaluation queries (METHOD.md
/// §6), records each answer in <c>predictions.jsonl</c> as its batch finishes and writes <c>results.json</c>
/// (accuracy with 95 % Wilson intervals per set, BBH per task file and their mean over tasks (<see cref="BbhTaskMean"/>), the settings).
/// Answers already recorded for the same problem, query, model and decoding are reused, never decoded again.
/// </summary>
public static class EvaluationRun
{
    public static EvaluationOutcome Run(EvaluatedModel model, EvaluationRequest request, Action<string>? progress = null)
    {
        if (request.Sets.Count == 0) throw new SpecialistException("no sets to evaluate");
        if (request.Limit is < 1) throw new SpecialistException($"the limit is {request.Limit}, must be at least 1");
        var queries = new EvaluationQueries(request.DataRoot, EvaluationQueries.ParseStyle(request.Prompt), request.BbhMode);
        var data = new DataOptions(request.DataRoot);
        // Load every set first, so a misspelt set name fails before any decoding.
        var sets = request.Sets.Distinct(StringComparer.Ordinal).Select(name => (Name: name, Problems: Select(name, data, request.Limit))).ToList();

        Directory.CreateDirectory(request.OutputFolder);
        var settings = new EvaluationSettings(model.Name, model.Fingerprint, model.Parameters, request.Prompt,
            request.BbhMode == BbhMode.Cot ? "cot" : "ao", model.Decoding, model.MaxNewTokens, request.Limit, EvaluatedModel.CodeCommit());
        var decoding = PredictionsLog.DecodingKey(model.Decoding, model.MaxNewTokens);
        using var log = PredictionsLog.Open(request.OutputFolder);
        var accuracies = new Dictionary<string, SetAccuracy>(StringComparer.Ordinal);
        var bbhRecords = new Dictionary<string, PredictionRecord>(StringComparer.Ordinal);
        int decoded = 0, reused = 0;
        EvaluationResults results = new(settings, accuracies, null);
        foreach (var (name, problems) in sets)
        {
            var records = new PredictionRecord?[problems.Count];
            var missing = new List<int>();
            for (var i = 0; i < problems.Count; i++)
            {
                var hash = SetEvaluator.HashPrompt(queries.Render(problems[i]));
                if (log.Find(problems[i].Id, hash, model.Fingerprint, decoding) is { } output)
                    records[i] = SetEvaluator.Score(problems[i], hash, output, request.BbhMode);
                else missing.Add(i);
            }
            progress?.Invoke($"{name}: {problems.Count} problems, {problems.Count - missing.Count} already answered, {missing.Count} to decode");
            if (missing.Count > 0)
            {
                var fresh = SetEvaluator.Evaluate(model.Source, name, [.. missing.Select(i => problems[i])], queries, request.BbhMode,
                    record => log.Append(name, model.Fingerprint, decoding, record));
                for (var j = 0; j < missing.Count; j++) records[missing[j]] = fresh.Predictions[j];
            }
            decoded += missing.Count;
            reused += problems.Count - missing.Count;

            var result = SetEvaluator.Result(name, records!);
            accuracies[name] = new SetAccuracy(result.Correct, result.Total);
            foreach (var r in result.Predictions.Where(r => Problem.BbhTaskOf(r.Id) is not null)) bbhRecords[r.Id] = r;
            results = new EvaluationResults(settings, new Dictionary<string, SetAccuracy>(accuracies), bbhRecords.Count > 0 ? BbhTaskAccuracies(bbhRecords.Values) : null);
            results.Write(request.OutputFolder);
        }
        return new EvaluationOutcome(results, decoded, reused);
    }

    /// <summary>A set's problems; with a limit, its first <paramref name="limit"/> (for <c>bbh</c>: of each task).</summary>
    internal static IReadOnlyList<Problem> Select(string setName, DataOptions data, int? limit)
    {
        var problems = ProblemSets.Load(setName, data);
        if (limit is not { } n) return problems;
        return setName == "bbh"
            ? [.. problems.GroupBy(p => p.BbhTask, StringComparer.Ordinal).SelectMany(task => task.Take(n))]
            : [.. problems.Take(n)];
    }

    private static SortedDictionary<string, SetAccuracy> BbhTaskAccuracies(IEnumerable<PredictionRecord> records) =>
        new(records.GroupBy(r => Problem.BbhTaskOf(r.Id)!, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => new SetAccuracy(g.Count(r => r.Correct), g.Count()), StringComparer.Ordinal), StringComparer.Ordinal);
}
