using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Specialist.Teachers;

/// <summary>Which OpenAI endpoint a teacher is asked through.</summary>
public enum TeacherApi
{
    /// <summary><c>POST /v1/completions</c>: the prompt as it is; top-k log-probs via <c>logprobs: k</c>.</summary>
    Completions,

    /// <summary><c>POST /v1/chat/completions</c>: the prompt as one user message; <c>logprobs: true, top_logprobs: k</c>.</summary>
    Chat,
}

/// <summary>
/// Everything that determines a teacher's answers to a question, apart from the question: recorded once per store,
/// so samples drawn with another teacher, prompt or sampling setting can never be mixed into it.
/// </summary>
/// <param name="Teacher">The model name the endpoint serves (e.g. <c>gpt-4o-mini</c>).</param>
/// <param name="Api">Completions or chat.</param>
/// <param name="PromptHash">SHA-256 (hex) of the prompt template (see <see cref="HashPrompt"/>).</param>
/// <param name="Temperature">Sampling temperature.</param>
/// <param name="TopP">Nucleus sampling threshold (1 = off).</param>
/// <param name="MaxTokens">The most tokens per sample.</param>
/// <param name="TopLogprobs">Top-k log-probs per position (0 = none, and then no token strings either).</param>
/// <param name="Stop">Stop sequences (at most 4, as OpenAI allows).</param>
/// <param name="Seed">
/// Seeds every request (OpenAI's <c>seed</c>) with a number derived from this, the question and the request's first
/// sample index (see <see cref="RequestSeed"/>), so a teacher that honours seeds draws the same samples again; null
/// sends none.
/// </param>
public sealed record AnnotationConfig(
    string Teacher, TeacherApi Api, string PromptHash, double Temperature, double TopP, int MaxTokens, int TopLogprobs, IReadOnlyList<string> Stop,
    long? Seed = null)
{
    /// <summary>The most top log-probs a chat request may ask for (OpenAI's limit; completions allow 5 on OpenAI, more elsewhere).</summary>
    public const int MaxTopLogprobs = 20;

    /// <summary>The stop sequences used when none are given: the blank line between the teacher prompt's exemplars (completions), none for chat.</summary>
    public static IReadOnlyList<string> DefaultStop(TeacherApi api) => api == TeacherApi.Completions ? ["\n\n"] : [];

    /// <summary>
    /// The <c>seed</c> a request for samples <paramref name="firstSample"/> onwards of <paramref name="questionId"/> sends:
    /// the first 53 bits of SHA-256 over the three (an integer every JSON reader keeps exactly).
    /// </summary>
    public static long RequestSeed(long seed, string questionId, int firstSample)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{seed}\n{questionId}\n{firstSample}")));
        return (long)(BitConverter.ToUInt64(hash) & ((1UL << 53) - 1));
    }

    /// <summary>SHA-256 (lower-case hex) of a prompt template's UTF-8 bytes.</summary>
    public static string HashPrompt(string promptTemplate) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(promptTemplate)));

    /// <summary>Throws <see cref="SpecialistException"/> listing every setting out of range.</summary>
    public void Validate()
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(Teacher)) problems.Add("the teacher model name is empty");
        if (!(Temperature >= 0 && Temperature <= 2)) problems.Add($"temperature {Temperature.ToString(CultureInfo.InvariantCulture)} is outside [0, 2]");
        if (!(TopP > 0 && TopP <= 1)) problems.Add($"top-p {TopP.ToString(CultureInfo.InvariantCulture)} is outside (0, 1]");
        if (MaxTokens < 1) problems.Add($"max tokens {MaxTokens} must be at least 1");
        if (TopLogprobs < 0 || TopLogprobs > MaxTopLogprobs) problems.Add($"top logprobs {TopLogprobs} is outside [0, {MaxTopLogprobs}]");
        if (Stop.Count > 4) problems.Add($"{Stop.Count} stop sequences given; OpenAI allows at most 4");
        if (Stop.Any(s => s.Length == 0)) problems.Add("a stop sequence is empty");
        if (problems.Count > 0) throw new SpecialistException("invalid annotation settings: " + string.Join("; ", problems));
    }

    /// <summary>The canonical JSON form: stored in the annotation store and compared field by field.</summary>
    public string ToJson() => ToJsonObject().ToJsonString();

    internal JsonObject ToJsonObject()
    {
        var json = new JsonObject
        {
            ["teacher"] = Teacher,
            ["api"] = ApiName(Api),
            ["prompt_hash"] = PromptHash,
            ["temperature"] = Temperature,
            ["top_p"] = TopP,
            ["max_tokens"] = MaxTokens,
            ["top_logprobs"] = TopLogprobs,
            ["stop"] = new JsonArray([.. Stop.Select(s => (JsonNode?)JsonValue.Create(s))]),
        };
        // Only when set, so that unseeded settings (and the request keys hashed from them) read as before seeds existed.
        if (Seed is { } seed) json["seed"] = seed;
        return json;
    }

    /// <summary>Reads <see cref="ToJson"/>'s form; <paramref name="source"/> names where it came from in errors.</summary>
    internal static AnnotationConfig FromJson(string json, string source)
    {
        try
        {
            var o = JsonNode.Parse(json)!.AsObject();
            return new AnnotationConfig(
                o["teacher"]!.GetValue<string>(),
                ParseApi(o["api"]!.GetValue<string>()),
                o["prompt_hash"]!.GetValue<string>(),
                o["temperature"]!.GetValue<double>(),
                o["top_p"]!.GetValue<double>(),
                o["max_tokens"]!.GetValue<int>(),
                o["top_logprobs"]!.GetValue<int>(),
                [.. o["stop"]!.AsArray().Select(s => s!.GetValue<string>())],
                o["seed"]?.GetValue<long>());
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or NullReferenceException or FormatException or SpecialistException)
        {
            throw new SpecialistException($"{source}: the recorded annotation settings are unreadable ({e.Message})");
        }
    }

    /// <summary>The fields where <paramref name="other"/> differs, as "name: this → other".</summary>
    internal IReadOnlyList<string> Differences(AnnotationConfig other)
    {
        var mine = ToJsonObject();
        var theirs = other.ToJsonObject();
        return [.. mine.Select(p => p.Key).Union(theirs.Select(p => p.Key))
            .Where(k => !JsonNode.DeepEquals(mine[k], theirs[k]))
            .Select(k => $"{k}: {mine[k]?.ToJsonString() ?? "none"} → {theirs[k]?.ToJsonString() ?? "none"}")];
    }

    /// <summary><c>completions</c> or <c>chat</c>.</summary>
    public static string ApiName(TeacherApi api) => api == TeacherApi.Completions ? "completions" : "chat";

    /// <summary>Reads <c>completions</c> or <c>chat</c>.</summary>
    public static TeacherApi ParseApi(string name) => name switch
    {
        "completions" => TeacherApi.Completions,
        "chat" => TeacherApi.Chat,
        _ => throw new SpecialistException($"unknown teacher API '{name}': use 'completions' or 'chat'"),
    };
}

/// <summary>Prices in US dollars per million tokens, to put a cost on each request.</summary>
/// <param name="InputPerMillion">Per million prompt tokens.</param>
/// <param name="OutputPerMillion">Per million completion tokens.</param>
public sealed record TeacherPrice(double InputPerMillion, double OutputPerMillion)
{
    /// <summary>Reads <c>IN,OUT</c> (e.g. <c>0.15,0.60</c>).</summary>
    public static TeacherPrice Parse(string text)
    {
        var parts = text.Split(',');
        if (parts.Length == 2
            && double.TryParse(parts[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var input) && input >= 0
            && double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var output) && output >= 0)
            return new TeacherPrice(input, output);
        throw new SpecialistException($"price '{text}' is not 'IN,OUT' (dollars per million prompt and completion tokens, e.g. 0.15,0.60)");
    }

    /// <summary>The cost of a request with these token counts.</summary>
    public double Cost(long promptTokens, long completionTokens) => (promptTokens * InputPerMillion + completionTokens * OutputPerMillion) / 1e6;
}
