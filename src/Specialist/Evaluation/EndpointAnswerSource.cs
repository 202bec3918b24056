using Specialist.Teachers;

namespace Specialist.Evaluation;

/// <summary>
/// A model behind an OpenAI-compatible endpoint, asked through <see cref="TeacherClient"/> (with its retries) at
/// temperature 0 with a fixed seed (so a server that batches requests, as <c>specialist serve</c> does, answers each
/// the same whatever else is in flight). Through completions a call's <see cref="PromptsPerCall"/> prompts go as one
/// request (a <c>prompt</c> array, decoded together); through chat, one request per prompt, all in flight at once. Completions stop at
/// a blank line (the end of an answer in the few-shot prompts); a request that still fails after its retries stops
/// the evaluation with an error (what was answered before is kept, so running again resumes).
/// </summary>
public sealed class EndpointAnswerSource : IAnswerSource
{
    private readonly TeacherClient _client;
    private readonly AnnotationConfig _config;

    /// <param name="client">The client; it is not disposed here.</param>
    /// <param name="model">The model name the endpoint serves.</param>
    /// <param name="api">Completions (the prompt as it is) or chat (the prompt as one user message).</param>
    /// <param name="maxNewTokens">The most tokens per answer.</param>
    /// <param name="concurrency">Prompts answered at once: one request through completions, that many through chat.</param>
    public EndpointAnswerSource(TeacherClient client, string model, TeacherApi api = TeacherApi.Completions, int maxNewTokens = 256, int concurrency = 8)
    {
        if (concurrency < 1) throw new SpecialistException($"concurrency is {concurrency}, must be at least 1");
        _client = client;
        _config = new AnnotationConfig(model, api, PromptHash: "", Temperature: 0, TopP: 1, maxNewTokens, TopLogprobs: 0, AnnotationConfig.DefaultStop(api), Seed: 0);
        _config.Validate();
        PromptsPerCall = concurrency;
        Name = $"{model} @ {TeacherClientOptions.Redact(client.Endpoint)}";
    }

    public string Name { get; }

    public int PromptsPerCall { get; }

    public IReadOnlyList<string> Answer(IReadOnlyList<string> prompts)
    {
        IEnumerable<IReadOnlyList<string>> calls = _config.Api == TeacherApi.Completions ? [prompts] : prompts.Chunk(1);
        return [.. Task.WhenAll(calls.Select(AskAsync)).GetAwaiter().GetResult().SelectMany(texts => texts)];
    }

    private async Task<IReadOnlyList<string>> AskAsync(IReadOnlyList<string> prompts)
    {
        var requests = prompts.Select(p => TeacherRequest.Create(_config, questionId: "eval", firstSample: 0, n: 1, p)).ToList();
        var outcome = await _client.SendAsync(new TeacherCall(requests), _config, CancellationToken.None);
        return outcome.Completion is { } completion
            ? [.. completion.Samples.Select(s => s.Text)]
            : throw new SpecialistException($"{Name}: a request failed after {outcome.Attempts} attempt(s): {outcome.Error ?? "no answer"}; run the same command again to resume");
    }
}
