using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace Specialist.Teachers;

/// <summary>
/// One request to the teacher: samples <see cref="FirstSample"/> … <see cref="FirstSample"/> + <see cref="N"/> − 1 of one
/// question. <see cref="Key"/> hashes everything that determines the answer (settings with their seed, rendered prompt,
/// question and sample slots) and not how it is sent (endpoint, key, live or Batch API), so the same work always has the
/// same key. <see cref="Seed"/> is the request's <c>seed</c> (<see cref="AnnotationConfig.RequestSeed"/>), null when the settings have none.
/// A request sent in a <see cref="TeacherCall"/> with other questions' samples has its group in its key, and the group's
/// seed: a seeded teacher samples a group's rows together, so they depend on the whole group.
/// </summary>
internal sealed record TeacherRequest(string QuestionId, int FirstSample, int N, string Prompt, string Key, long? Seed)
{
    /// <summary>The request for samples <paramref name="firstSample"/> onwards of a question; <paramref name="group"/>: the question ids of the call it is sent in, in order (null or one id: a call of its own).</summary>
    public static TeacherRequest Create(AnnotationConfig config, string questionId, int firstSample, int n, string prompt, IReadOnlyList<string>? group = null)
    {
        var identity = new JsonObject
        {
            ["v"] = 1,
            ["config"] = config.ToJsonObject(),
            ["prompt"] = prompt,
            ["question_id"] = questionId,
            ["first_sample"] = firstSample,
            ["n"] = n,
        };
        var grouped = group is { Count: > 1 };
        if (grouped) identity["group"] = new JsonArray([.. group!.Select(id => (JsonNode?)JsonValue.Create(id))]);
        var key = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(identity.ToJsonString())));
        var seed = config.Seed is { } s ? AnnotationConfig.RequestSeed(s, grouped ? group![0] : questionId, firstSample) : (long?)null;
        return new TeacherRequest(questionId, firstSample, n, prompt, key, seed);
    }

    /// <summary>The path under the <c>/v1</c> base: <c>/completions</c> or <c>/chat/completions</c>.</summary>
    public static string Path(TeacherApi api) => api == TeacherApi.Completions ? "/completions" : "/chat/completions";

    /// <summary>The JSON body OpenAI documents for this request (the same for live calls and Batch API lines).</summary>
    public JsonObject Body(AnnotationConfig config)
    {
        var body = new JsonObject { ["model"] = config.Teacher };
        if (config.Api == TeacherApi.Completions) body["prompt"] = Prompt;
        else body["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = Prompt });
        body["max_tokens"] = config.MaxTokens;
        body["temperature"] = config.Temperature;
        body["top_p"] = config.TopP;
        body["n"] = N;
        if (Seed is { } seed) body["seed"] = seed;
        if (config.TopLogprobs > 0)
        {
            if (config.Api == TeacherApi.Completions) body["logprobs"] = config.TopLogprobs;
            else
            {
                body["logprobs"] = true;
                body["top_logprobs"] = config.TopLogprobs;
            }
        }
        if (config.Stop.Count > 0) body["stop"] = new JsonArray([.. config.Stop.Select(s => (JsonNode?)JsonValue.Create(s))]);
        return body;
    }
}

/// <summary>
/// One HTTP request: the same sample slots (<see cref="TeacherRequest.FirstSample"/>, <see cref="TeacherRequest.N"/>)
/// of one or more questions, their prompts sent as one completions <c>prompt</c> array (choice <c>q × n + i</c> is
/// sample <c>i</c> of question <c>q</c>), with the group's seed.
/// </summary>
internal sealed record TeacherCall(IReadOnlyList<TeacherRequest> Requests)
{
    /// <summary>The choices the answer must hold.</summary>
    public int Choices => Requests.Count * Requests[0].N;

    /// <summary>The JSON body: the first request's, with every request's prompt when there are several.</summary>
    public JsonObject Body(AnnotationConfig config)
    {
        var body = Requests[0].Body(config);
        if (Requests.Count > 1) body["prompt"] = new JsonArray([.. Requests.Select(r => (JsonNode?)JsonValue.Create(r.Prompt))]);
        return body;
    }

    /// <summary>The samples of request <paramref name="index"/> out of the call's completion, with its share of the tokens billed.</summary>
    public TeacherCompletion Share(TeacherCompletion completion, int index)
    {
        var n = Requests[0].N;
        long Part(long total) => total / Requests.Count + (index == 0 ? total % Requests.Count : 0);
        return new TeacherCompletion([.. completion.Samples.Skip(index * n).Take(n)], Part(completion.PromptTokens), Part(completion.CompletionTokens));
    }
}
