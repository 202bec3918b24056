using System.Text.Json.Nodes;
using Specialist.Data;
using Specialist.Prompts;

namespace Specialist.Teachers;

/// <summary>What to annotate: the questions, the prompt, the teacher settings and how many samples each question gets.</summary>
/// <param name="SetName">The set the problems come from (recorded with each question).</param>
/// <param name="Problems">The questions, in order (already limited, GSM8K dev items already left out).</param>
/// <param name="PromptTemplate">
/// The prompt: a template holding <c>{question}</c> gives each query as itself with the question in the placeholder's
/// place (<c>Q: {question}\nLet's think step by step</c> is a zero-shot prompt); any other text is a few-shot prompt, and
/// each query is <see cref="EvaluationPrompts.Teacher"/> of it and the question.
/// </param>
/// <param name="Config">The teacher and its sampling settings.</param>
/// <param name="Samples">Samples per question (indices 0 … Samples − 1).</param>
/// <param name="SamplesPerRequest">The most samples one request asks for (the API's <c>n</c>): the prompt is billed once per request.</param>
/// <param name="Price">Dollars per million tokens, to record a cost per request; null records none.</param>
public sealed record AnnotationJob(
    string SetName, IReadOnlyList<Problem> Problems, string PromptTemplate, AnnotationConfig Config, int Samples, int SamplesPerRequest, TeacherPrice? Price)
{
    /// <summary>
    /// The requests still to make: per question, the sample indices missing from the store, in runs of at most
    /// <see cref="SamplesPerRequest"/>. Work already stored is never asked for again.
    /// </summary>
    internal IReadOnlyList<TeacherRequest> Plan(Dictionary<string, HashSet<int>> stored)
    {
        if (Samples < 1) throw new SpecialistException($"samples per question is {Samples}, must be at least 1");
        if (SamplesPerRequest < 1) throw new SpecialistException($"samples per request is {SamplesPerRequest}, must be at least 1");
        var requests = new List<TeacherRequest>();
        foreach (var problem in Problems)
        {
            stored.TryGetValue(problem.Id, out var have);
            string? prompt = null;
            var index = 0;
            while (index < Samples)
            {
                if (have?.Contains(index) == true) { index++; continue; }
                var first = index;
                while (index < Samples && index - first < SamplesPerRequest && have?.Contains(index) != true) index++;
                prompt ??= Query(problem.Question);
                requests.Add(TeacherRequest.Create(Config, problem.Id, first, index - first, prompt));
            }
        }
        return requests;
    }

    /// <summary>The placeholder a template puts its question in.</summary>
    internal const string QuestionPlaceholder = "{question}";

    /// <summary>The teacher's query for <paramref name="question"/> (see <see cref="PromptTemplate"/>).</summary>
    internal string Query(string question) =>
        PromptTemplate.Contains(QuestionPlaceholder, StringComparison.Ordinal)
            ? PromptTemplate.Replace(QuestionPlaceholder, question, StringComparison.Ordinal)
            : EvaluationPrompts.Teacher(PromptTemplate, question);

    /// <summary>The run's parameters as recorded in the store's <c>runs.params</c>.</summary>
    internal string RunParameters(JsonObject? extra = null)
    {
        var parameters = new JsonObject
        {
            ["questions"] = Problems.Count,
            ["samples"] = Samples,
            ["samples_per_request"] = SamplesPerRequest,
            ["price"] = Price is null ? null : new JsonArray(Price.InputPerMillion, Price.OutputPerMillion),
        };
        if (extra is not null)
            foreach (var (k, v) in extra) parameters[k] = v?.DeepClone();
        return parameters.ToJsonString();
    }
}
