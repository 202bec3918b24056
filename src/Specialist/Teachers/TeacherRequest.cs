using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace Specialist.Teachers;

/// <summary>
/// One request to the teacher: samples <see cref="FirstSample"/> … <see cref="FirstSample"/> + <see cref="N"/> − 1 of one
/// question. <see cref="Key"/> hashes everything that determines the answer (settings with their seed, rendered prompt,
/// question and sample slots) and not how it is sent (endpoint, key, live or Batch API), so the same work always has the
/// same key. <see cref="Seed"/> is the request's <c>seed</c> (<see cref="AnnotationConfig.RequestSeed"/>), null when the settings have none.
/// </summary>
internal sealed record TeacherRequest(string QuestionId, int FirstSample, int N, string Prompt, string Key, long? Seed)
{
    public static TeacherRequest Create(AnnotationConfig config, string questionId, int firstSample, int n, string prompt)
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
        var key = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(identity.ToJsonString())));
        var seed = config.Seed is { } s ? AnnotationConfig.RequestSeed(s, questionId, firstSample) : (long?)null;
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
