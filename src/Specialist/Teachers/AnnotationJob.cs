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
    /// The most questions one request carries (a completions <c>prompt</c> array; 1 for chat, which has none). A teacher
    /// that batches, as <c>specialist serve</c> does, then decodes them together even when requests are seeded: the
    /// questions are grouped by their place in <see cref="Problems"/>, so the groups, and a seeded teacher's samples,
    /// are the same in every run.
    /// </summary>
    public int QuestionsPerRequest { get; init; } = 1;

    /// <summary>
    /// The calls still to make: per question, the sample indices missing from the store, in runs of at most
    /// <see cref="SamplesPerRequest"/>; a call asks for one run of each question of its group. Work already stored is
    /// never asked for again, except beside a group member that needs it: a group is always sent whole, so that what an
    /// interrupted run stored cannot change the group, and with it a seeded teacher's samples.
    /// </summary>
    internal IReadOnlyList<TeacherCall> Plan(Dictionary<string, HashSet<int>> stored)
    {
        if (Samples < 1) throw new SpecialistException($"samples per question is {Samples}, must be at least 1");
        if (SamplesPerRequest < 1) throw new SpecialistException($"samples per request is {SamplesPerRequest}, must be at least 1");
        if (QuestionsPerRequest < 1) throw new SpecialistException($"questions per request is {QuestionsPerRequest}, must be at least 1");
        if (QuestionsPerRequest > 1 && Config.Api != TeacherApi.Completions)
            throw new SpecialistException($"questions per request is {QuestionsPerRequest}, but the chat API takes one prompt per request: use the completions API or 1");
        var calls = new List<TeacherCall>();
        foreach (var group in Problems.Chunk(QuestionsPerRequest))
        {
            var ids = group.Select(p => p.Id).ToList();
            var runs = group.SelectMany(p => Missing(stored.GetValueOrDefault(p.Id))).Distinct().Order();
            foreach (var (first, n) in runs)
                calls.Add(new TeacherCall([.. group.Select(p => TeacherRequest.Create(Config, p.Id, first, n, Query(p.Question), ids))]));
        }
        return calls;
    }

    /// <summary>The runs (first index, count) of sample indices missing from <paramref name="have"/>, each at most <see cref="SamplesPerRequest"/> long.</summary>
    private IEnumerable<(int First, int N)> Missing(HashSet<int>? have)
    {
        var index = 0;
        while (index < Samples)
        {
            if (have?.Contains(index) == true) { index++; continue; }
            var first = index;
            while (index < Samples && index - first < SamplesPerRequest && have?.Contains(index) != true) index++;
            yield return (first, index - first);
        }
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
            ["questions_per_request"] = QuestionsPerRequest,
            ["price"] = Price is null ? null : new JsonArray(Price.InputPerMillion, Price.OutputPerMillion),
        };
        if (extra is not null)
            foreach (var (k, v) in extra) parameters[k] = v?.DeepClone();
        return parameters.ToJsonString();
    }
}
