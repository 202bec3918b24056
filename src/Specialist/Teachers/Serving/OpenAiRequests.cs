using System.Text;
using System.Text.Json;

namespace Specialist.Teachers.Serving;

/// <summary>A request the server refuses: the HTTP status and OpenAI's error fields.</summary>
internal sealed class ApiException(int status, string message, string? param = null, string? code = null) : Exception(message)
{
    public int Status { get; } = status;
    public string? Param { get; } = param;
    public string? Code { get; } = code;
}

/// <summary>A <c>POST /v1/completions</c> request, checked. <c>Logprobs</c>: top-k per position (0: only the sampled tokens'), or null for none.</summary>
internal sealed record CompletionRequest(string Model, IReadOnlyList<string> Prompts, int MaxTokens, SamplingSettings Sampling, int N, IReadOnlyList<string> Stop, int? Logprobs);

/// <summary>
/// A <c>POST /v1/chat/completions</c> request, checked; the messages' texts become one prompt. <c>TopLogprobs</c>: top-k
/// per position when log-probs were asked for (<c>logprobs: true</c>), else null.
/// </summary>
internal sealed record ChatRequest(string Model, string Prompt, int MaxTokens, SamplingSettings Sampling, int N, IReadOnlyList<string> Stop, int? TopLogprobs);

/// <summary>
/// Reads OpenAI request bodies, with the documented defaults (<c>max_tokens</c> 16 for completions, temperature 1,
/// <c>top_p</c> 1, <c>n</c> 1) and this server's limits; every problem is an <see cref="ApiException"/> (400) naming the field.
/// </summary>
internal static class OpenAiRequests
{
    /// <summary>The most top log-probs per position (OpenAI's chat limit).</summary>
    public const int MaxTopLogprobs = 20;

    /// <summary>The most choices per prompt.</summary>
    public const int MaxN = 64;

    /// <summary>The most prompts in one completions request.</summary>
    public const int MaxPrompts = 64;

    /// <summary>A chat request's <c>max_tokens</c> when it gives none (OpenAI's default is the model's whole context).</summary>
    public const int DefaultChatMaxTokens = 256;

    public static CompletionRequest ParseCompletion(JsonElement root, int maxTokensLimit)
    {
        RequireObject(root);
        Unsupported(root);
        if (root.TryGetProperty("echo", out var echo) && echo.ValueKind == JsonValueKind.True) throw Invalid("echo is not supported", "echo");
        var prompts = root.TryGetProperty("prompt", out var prompt) ? prompt.ValueKind switch
        {
            JsonValueKind.String => [prompt.GetString()!],
            JsonValueKind.Array when prompt.GetArrayLength() > 0 && prompt.EnumerateArray().All(p => p.ValueKind == JsonValueKind.String) =>
                prompt.EnumerateArray().Select(p => p.GetString()!).ToList(),
            JsonValueKind.Array => throw Invalid("prompt must be a string or a non-empty array of strings (token-id prompts are not supported)", "prompt"),
            _ => throw Invalid("prompt must be a string or an array of strings", "prompt"),
        } : throw Invalid("prompt is required", "prompt");
        if (prompts.Count > MaxPrompts) throw Invalid($"prompt has {prompts.Count} entries, at most {MaxPrompts} are served per request", "prompt");

        var n = Int(root, "n", 1, 1, MaxN);
        if (root.TryGetProperty("best_of", out var bestOf) && bestOf.ValueKind != JsonValueKind.Null && Int(root, "best_of", n, n, n) != n)
            throw Invalid("best_of other than n is not supported", "best_of");
        int? logprobs = root.TryGetProperty("logprobs", out var lp) && lp.ValueKind != JsonValueKind.Null ? Int(root, "logprobs", 0, 0, MaxTopLogprobs) : null;
        return new CompletionRequest(Model(root), prompts, Int(root, "max_tokens", 16, 1, maxTokensLimit), Sampling(root), n, Stop(root), logprobs);
    }

    public static ChatRequest ParseChat(JsonElement root, int maxTokensLimit)
    {
        RequireObject(root);
        Unsupported(root);
        if (!root.TryGetProperty("messages", out var messages) || messages.ValueKind != JsonValueKind.Array || messages.GetArrayLength() == 0)
            throw Invalid("messages must be a non-empty array", "messages");
        var texts = new List<string>();
        var index = 0;
        foreach (var message in messages.EnumerateArray())
        {
            var where = $"messages[{index++}]";
            if (message.ValueKind != JsonValueKind.Object) throw Invalid($"{where} must be an object", where);
            var role = message.TryGetProperty("role", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString() : null;
            if (role is not ("system" or "developer" or "user" or "assistant")) throw Invalid($"{where}.role must be system, developer, user or assistant", where + ".role");
            texts.Add(MessageText(message, where));
        }

        var logprobs = root.TryGetProperty("logprobs", out var lp) && lp.ValueKind != JsonValueKind.Null
            ? lp.ValueKind is JsonValueKind.True or JsonValueKind.False ? lp.GetBoolean() : throw Invalid("logprobs must be a boolean", "logprobs")
            : false;
        var hasTop = root.TryGetProperty("top_logprobs", out var top) && top.ValueKind != JsonValueKind.Null;
        if (hasTop && !logprobs) throw Invalid("top_logprobs needs logprobs: true", "top_logprobs");
        int? topLogprobs = logprobs ? (hasTop ? Int(root, "top_logprobs", 0, 0, MaxTopLogprobs) : 0) : null;

        // max_completion_tokens is the newer name of max_tokens; either may be given.
        var tokensField = root.TryGetProperty("max_completion_tokens", out var mct) && mct.ValueKind != JsonValueKind.Null ? "max_completion_tokens" : "max_tokens";
        return new ChatRequest(Model(root), string.Join("\n\n", texts), Int(root, tokensField, Math.Min(DefaultChatMaxTokens, maxTokensLimit), 1, maxTokensLimit),
            Sampling(root), Int(root, "n", 1, 1, MaxN), Stop(root), topLogprobs);
    }

    private static string MessageText(JsonElement message, string where)
    {
        if (!message.TryGetProperty("content", out var content)) throw Invalid($"{where}.content is required", where + ".content");
        switch (content.ValueKind)
        {
            case JsonValueKind.String:
                return content.GetString()!;
            case JsonValueKind.Array:
                var text = new StringBuilder();
                foreach (var part in content.EnumerateArray())
                {
                    if (part.ValueKind != JsonValueKind.Object || !part.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String || type.GetString() != "text"
                        || !part.TryGetProperty("text", out var partText) || partText.ValueKind != JsonValueKind.String)
                        throw Invalid($"{where}.content: only text parts are supported", where + ".content");
                    text.Append(partText.GetString());
                }
                return text.ToString();
            default:
                throw Invalid($"{where}.content must be a string or an array of text parts", where + ".content");
        }
    }

    private static void RequireObject(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object) throw Invalid("the request body must be a JSON object");
    }

    private static void Unsupported(JsonElement root)
    {
        if (root.TryGetProperty("stream", out var stream) && stream.ValueKind == JsonValueKind.True) throw Invalid("streaming is not supported", "stream");
    }

    private static string Model(JsonElement root) =>
        root.TryGetProperty("model", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString()! : throw Invalid("model is required", "model");

    private static SamplingSettings Sampling(JsonElement root)
    {
        var temperature = Double(root, "temperature", 1.0, 0, 2);
        var topP = Double(root, "top_p", 1.0, double.Epsilon, 1);
        long? seed = root.TryGetProperty("seed", out var s) && s.ValueKind != JsonValueKind.Null
            ? s.ValueKind == JsonValueKind.Number && s.TryGetInt64(out var v) ? v : throw Invalid("seed must be an integer", "seed")
            : null;
        return new SamplingSettings(temperature, topP, seed);
    }

    private static IReadOnlyList<string> Stop(JsonElement root)
    {
        if (!root.TryGetProperty("stop", out var stop) || stop.ValueKind == JsonValueKind.Null) return [];
        List<string> stops = stop.ValueKind switch
        {
            JsonValueKind.String => [stop.GetString()!],
            JsonValueKind.Array when stop.EnumerateArray().All(x => x.ValueKind == JsonValueKind.String) => [.. stop.EnumerateArray().Select(x => x.GetString()!)],
            _ => throw Invalid("stop must be a string or an array of strings", "stop"),
        };
        if (stops.Count > 4) throw Invalid($"stop has {stops.Count} sequences, at most 4 are allowed", "stop");
        if (stops.Any(x => x.Length == 0)) throw Invalid("stop sequences must not be empty", "stop");
        return stops;
    }

    private static int Int(JsonElement root, string name, int fallback, int min, int max)
    {
        if (!root.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return fallback;
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt32(out var value)) throw Invalid($"{name} must be an integer", name);
        if (value < min || value > max) throw Invalid($"{name} is {value}; this server accepts {min} to {max}", name);
        return value;
    }

    private static double Double(JsonElement root, string name, double fallback, double min, double max)
    {
        if (!root.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return fallback;
        if (v.ValueKind != JsonValueKind.Number) throw Invalid($"{name} must be a number", name);
        var value = v.GetDouble();
        if (value < min || value > max) throw Invalid($"{name} is {value}; it must be in [{(min == double.Epsilon ? 0 : min)}, {max}]", name);
        return value;
    }

    public static ApiException Invalid(string message, string? param = null, string? code = null) => new(400, message, param, code);
}
