using System.Text.Json;

namespace Specialist.Teachers;

/// <summary>A teacher response that is not what the OpenAI API documents (truncated, not JSON, wrong fields): the request failed.</summary>
internal sealed class MalformedResponseException(string message) : Exception(message);

/// <summary>
/// Reads an OpenAI completions or chat-completions response body into samples. Anything short of the documented shape
/// throws <see cref="MalformedResponseException"/>: truncated JSON, missing <c>choices</c>, fewer choices than asked for,
/// missing text, or missing / inconsistent log-probs when they were asked for.
/// </summary>
internal static class TeacherResponseParser
{
    public static TeacherCompletion Parse(ReadOnlySpan<byte> body, TeacherApi api, int expectedChoices, int topLogprobs)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body.ToArray());
        }
        catch (JsonException e)
        {
            throw new MalformedResponseException($"the response is not valid JSON ({e.Message}; {body.Length} bytes, truncated?)");
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw Malformed("the response is not a JSON object");
            if (!root.TryGetProperty("choices", out var choices) || choices.ValueKind != JsonValueKind.Array)
                throw Malformed("the response has no 'choices' array");
            if (choices.GetArrayLength() != expectedChoices)
                throw Malformed($"the response has {choices.GetArrayLength()} choices, {expectedChoices} were asked for");

            var samples = new TeacherSample?[expectedChoices];
            var position = 0;
            foreach (var choice in choices.EnumerateArray())
            {
                if (choice.ValueKind != JsonValueKind.Object) throw Malformed($"choice {position} is not an object");
                var index = position;
                if (choice.TryGetProperty("index", out var i) && i.ValueKind != JsonValueKind.Null && !(i.ValueKind == JsonValueKind.Number && i.TryGetInt32(out index)))
                    throw Malformed($"choice {position} has index {JsonInput.Show(i.GetRawText())}, not an integer");
                if (index < 0 || index >= expectedChoices || samples[index] is not null) throw Malformed($"choice {position} has index {index}, out of range or repeated");
                samples[index] = api == TeacherApi.Completions ? ParseCompletionChoice(choice, position, topLogprobs) : ParseChatChoice(choice, position, topLogprobs);
                position++;
            }

            long promptTokens = 0, completionTokens = 0;
            if (root.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object)
            {
                promptTokens = OptionalLong(usage, "prompt_tokens");
                completionTokens = OptionalLong(usage, "completion_tokens");
            }
            return new TeacherCompletion([.. samples.Select(s => s!)], promptTokens, completionTokens);
        }
    }

    private static TeacherSample ParseCompletionChoice(JsonElement choice, int at, int topLogprobs)
    {
        var text = RequiredString(choice, "text", $"choice {at}");
        var finish = OptionalString(choice, "finish_reason");
        if (topLogprobs == 0) return new TeacherSample(text, finish, null);

        if (!choice.TryGetProperty("logprobs", out var logprobs) || logprobs.ValueKind != JsonValueKind.Object)
            throw Malformed($"choice {at} has no 'logprobs' object though top log-probs were asked for");
        var tokens = RequiredArray(logprobs, "tokens", at);
        var tokenLogprobs = RequiredArray(logprobs, "token_logprobs", at);
        var tops = RequiredArray(logprobs, "top_logprobs", at);
        var count = tokens.GetArrayLength();
        if (tokenLogprobs.GetArrayLength() != count || tops.GetArrayLength() != count)
            throw Malformed($"choice {at}: logprobs has {count} tokens, {tokenLogprobs.GetArrayLength()} token_logprobs and {tops.GetArrayLength()} top_logprobs");

        var positions = new TokenPosition[count];
        for (var p = 0; p < count; p++)
        {
            var token = tokens[p].ValueKind == JsonValueKind.String ? tokens[p].GetString()! : throw Malformed($"choice {at}: token {p} is not a string");
            var top = new List<TopCandidate>();
            // Completions give each position's candidates as an object {token: logprob}, in the endpoint's order.
            if (tops[p].ValueKind == JsonValueKind.Object)
                foreach (var candidate in tops[p].EnumerateObject())
                    top.Add(new TopCandidate(candidate.Name, Logprob(candidate.Value, $"choice {at}: top_logprobs[{p}]")));
            else if (tops[p].ValueKind != JsonValueKind.Null)
                throw Malformed($"choice {at}: top_logprobs[{p}] is not an object");
            positions[p] = new TokenPosition(token, Logprob(tokenLogprobs[p], $"choice {at}: token_logprobs[{p}]"), top);
        }
        return new TeacherSample(text, finish, positions);
    }

    private static TeacherSample ParseChatChoice(JsonElement choice, int at, int topLogprobs)
    {
        if (!choice.TryGetProperty("message", out var message) || message.ValueKind != JsonValueKind.Object)
            throw Malformed($"choice {at} has no 'message' object");
        var text = RequiredString(message, "content", $"choice {at}: message");
        var finish = OptionalString(choice, "finish_reason");
        if (topLogprobs == 0) return new TeacherSample(text, finish, null);

        if (!choice.TryGetProperty("logprobs", out var logprobs) || logprobs.ValueKind != JsonValueKind.Object)
            throw Malformed($"choice {at} has no 'logprobs' object though log-probs were asked for");
        if (!logprobs.TryGetProperty("content", out var content) || content.ValueKind is not (JsonValueKind.Array or JsonValueKind.Null))
            throw Malformed($"choice {at}: logprobs has no 'content' array");
        var positions = new List<TokenPosition>();
        if (content.ValueKind == JsonValueKind.Array)
            foreach (var entry in content.EnumerateArray())
            {
                var where = $"choice {at}: logprobs.content[{positions.Count}]";
                if (entry.ValueKind != JsonValueKind.Object) throw Malformed($"{where} is not an object");
                var top = new List<TopCandidate>();
                if (entry.TryGetProperty("top_logprobs", out var tops) && tops.ValueKind == JsonValueKind.Array)
                    foreach (var candidate in tops.EnumerateArray())
                    {
                        if (candidate.ValueKind != JsonValueKind.Object) throw Malformed($"{where}.top_logprobs has a non-object entry");
                        top.Add(new TopCandidate(RequiredString(candidate, "token", where + ".top_logprobs"), Logprob(candidate, "logprob", where + ".top_logprobs")));
                    }
                positions.Add(new TokenPosition(RequiredString(entry, "token", where), Logprob(entry, "logprob", where), top));
            }
        return new TeacherSample(text, finish, positions);
    }

    private static MalformedResponseException Malformed(string message) => new(message);

    private static string RequiredString(JsonElement o, string name, string where) =>
        o.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : throw Malformed($"{where} has no string '{name}'");

    private static string? OptionalString(JsonElement o, string name) =>
        o.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static long OptionalLong(JsonElement o, string name) =>
        o.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var n) ? n : 0;

    private static JsonElement RequiredArray(JsonElement o, string name, int at) =>
        o.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Array ? v : throw Malformed($"choice {at}: logprobs has no '{name}' array");

    private static float Logprob(JsonElement o, string name, string where) =>
        o.TryGetProperty(name, out var v) ? Logprob(v, $"{where}.{name}") : throw Malformed($"{where} has no '{name}'");

    // A null log-prob (OpenAI gives one for an echoed first token) is kept as NaN rather than dropping the sample. A
    // number must be a log-probability: at most 0, and not so large (1e300) that it reads as infinity.
    private static float Logprob(JsonElement v, string where) => v.ValueKind switch
    {
        JsonValueKind.Number when (float)v.GetDouble() is var p && float.IsFinite(p) && p <= 0 => p,
        JsonValueKind.Number => throw Malformed($"{where} is {JsonInput.Show(v.GetRawText())}, not a log-probability (a finite number at most 0)"),
        JsonValueKind.Null => float.NaN,
        _ => throw Malformed($"{where} is not a number"),
    };
}
