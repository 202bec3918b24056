using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Specialist.Models;
using Specialist.Teachers.Serving;
using Specialist.Tokenization;

namespace Specialist.Tests.Teachers;

/// <summary><c>specialist serve</c>'s server over a tiny random T5, in process, on a free port of 127.0.0.1, with an API key.</summary>
public sealed class TinyServerFixture : IAsyncLifetime
{
    public const string ApiKey = "test-key";

    public TeacherServer Server { get; private set; } = null!;

    public HttpClient Http { get; private set; } = null!;

    public string Model => Server.ModelName;

    public async Task InitializeAsync()
    {
        Server = await TeacherServer.StartAsync(new ServeOptions
        {
            ModelDirectory = TeacherTestKit.TinyModelDirectory,
            Port = 0,
            ApiKey = ApiKey,
            MaxRequestBytes = 64 * 1024,
            MaxTokens = 64,
        });
        Http = new HttpClient { BaseAddress = Server.Url };
        Http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ApiKey);
    }

    public async Task<(HttpStatusCode Status, JsonObject Body)> PostAsync(string path, string json)
    {
        using var response = await Http.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));
        return (response.StatusCode, JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject());
    }

    public async Task DisposeAsync()
    {
        Http.Dispose();
        await Server.DisposeAsync();
    }
}

public class ServeTests(TinyServerFixture fixture) : IClassFixture<TinyServerFixture>
{
    private const string Prompt = "Question: Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May. How many clips did she sell?\nLet's think step by step";

    private string Body(string fields) => "{\"model\": \"" + fixture.Model + "\", " + fields + "}";

    private static List<string> Strings(JsonNode? array) => [.. array!.AsArray().Select(x => x!.GetValue<string>())];

    [Fact]
    public async Task CompletionsLogprobsAgreeWithTheTextAndCarryTopK()
    {
        var (status, body) = await fixture.PostAsync("/v1/completions",
            Body($"\"prompt\": {JsonValue.Create(Prompt).ToJsonString()}, \"max_tokens\": 12, \"temperature\": 0.7, \"n\": 2, \"logprobs\": 5"));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("text_completion", body["object"]!.GetValue<string>());
        Assert.Equal(fixture.Model, body["model"]!.GetValue<string>());
        var choices = body["choices"]!.AsArray();
        Assert.Equal([0, 1], choices.Select(c => c!["index"]!.GetValue<int>()));
        var tokenizer = Tokenizers.LoadFromModelFolder(TeacherTestKit.TinyModelDirectory);
        Assert.Equal(tokenizer.Encode(Prompt).Ids.Count, body["usage"]!["prompt_tokens"]!.GetValue<int>());

        var shown = 0;
        foreach (var choice in choices)
        {
            var text = choice!["text"]!.GetValue<string>();
            var logprobs = choice["logprobs"]!;
            var tokens = Strings(logprobs["tokens"]);
            var tokenLogprobs = logprobs["token_logprobs"]!.AsArray().Select(x => x!.GetValue<double>()).ToList();
            var tops = logprobs["top_logprobs"]!.AsArray().Select(x => x!.AsObject()).ToList();
            var offsets = logprobs["text_offset"]!.AsArray().Select(x => x!.GetValue<int>()).ToList();
            Assert.InRange(tokens.Count, 1, 12);
            Assert.Equal(tokens.Count, tokenLogprobs.Count);
            Assert.Equal(tokens.Count, tops.Count);
            Assert.Equal(tokens.Count, offsets.Count);
            Assert.Equal(text, string.Concat(tokens));
            for (var i = 0; i < tokens.Count; i++)
            {
                Assert.Equal(tokens[i], text.Substring(offsets[i], tokens[i].Length));
                Assert.Equal(5, tops[i].Count);
                var best = tops[i].Select(t => t.Value!.GetValue<double>()).ToList();
                Assert.Equal(best.OrderByDescending(x => x), best);
                Assert.True(tokenLogprobs[i] <= best[0] + 1e-5, $"sampled log-prob {tokenLogprobs[i]} above the best {best[0]}");
                Assert.True(tokenLogprobs[i] < 0);
            }
            var finish = choice["finish_reason"]!.GetValue<string>();
            Assert.Contains(finish, new[] { "stop", "length" });
            Assert.Equal(finish == "length", tokens.Count == 12);
            shown += tokens.Count + (finish == "stop" ? 1 : 0);
        }
        Assert.Equal(shown, body["usage"]!["completion_tokens"]!.GetValue<int>());
    }

    [Fact]
    public async Task AGreedyCompletionIsTheModelsOwnGreedyOutput()
    {
        var (_, body) = await fixture.PostAsync("/v1/completions", Body($"\"prompt\": {JsonValue.Create(Prompt).ToJsonString()}, \"max_tokens\": 12, \"temperature\": 0, \"logprobs\": 3"));
        var choice = body["choices"]![0]!;

        var tokenizer = Tokenizers.LoadFromModelFolder(TeacherTestKit.TinyModelDirectory);
        using var model = T5Checkpoint.Load(TeacherTestKit.TinyModelDirectory);
        var expected = new T5Generator(model).Generate([tokenizer.Encode(Prompt).Ids], new GenerationOptions { MaxNewTokens = 12 }).Single();
        var texts = TokenTexts.Build(tokenizer, model.Config.VocabSize);
        var ids = expected.Finished ? expected.Tokens.Take(expected.Tokens.Count - 1) : expected.Tokens;
        Assert.Equal(string.Concat(ids.Select(id => texts[id])), choice["text"]!.GetValue<string>());
        Assert.Equal(expected.Finished ? "stop" : "length", choice["finish_reason"]!.GetValue<string>());
        // Greedy: the chosen token is the most likely one.
        var logprobs = choice["logprobs"]!;
        for (var i = 0; i < logprobs["tokens"]!.AsArray().Count; i++)
        {
            var top = logprobs["top_logprobs"]![i]!.AsObject().First();
            Assert.Equal(logprobs["tokens"]![i]!.GetValue<string>(), top.Key);
            Assert.Equal(top.Value!.GetValue<double>(), logprobs["token_logprobs"]![i]!.GetValue<double>(), 5);
        }
    }

    [Fact]
    public async Task ASeedRepeatsTheSamplesAndPromptListsGetNChoicesEach()
    {
        var request = Body("\"prompt\": [\"Question: 2 + 2?\", \"Question: 3 + 5?\"], \"max_tokens\": 6, \"temperature\": 1.0, \"n\": 3, \"seed\": 1234");
        var (status, first) = await fixture.PostAsync("/v1/completions", request);
        Assert.Equal(HttpStatusCode.OK, status);
        var (_, second) = await fixture.PostAsync("/v1/completions", request);
        var choices = first["choices"]!.AsArray();
        Assert.Equal([0, 1, 2, 3, 4, 5], choices.Select(c => c!["index"]!.GetValue<int>()));
        Assert.Null(choices[0]!["logprobs"]);
        Assert.Equal(choices.Select(c => c!["text"]!.GetValue<string>()), second["choices"]!.AsArray().Select(c => c!["text"]!.GetValue<string>()));
    }

    [Fact]
    public async Task AStopSequenceCutsTheChoiceBeforeIt()
    {
        var greedy = Body($"\"prompt\": {JsonValue.Create(Prompt).ToJsonString()}, \"max_tokens\": 8, \"temperature\": 0, \"logprobs\": 1");
        var (_, full) = await fixture.PostAsync("/v1/completions", greedy);
        var fullChoice = full["choices"]![0]!;
        var fullText = fullChoice["text"]!.GetValue<string>();
        var tokens = Strings(fullChoice["logprobs"]!["tokens"]);
        Assert.True(tokens.Count >= 4, fullText);
        var stop = tokens[3];
        var cut = fullText.IndexOf(stop, StringComparison.Ordinal);

        var (_, stopped) = await fixture.PostAsync("/v1/completions", greedy[..^1] + $", \"stop\": [{JsonValue.Create(stop).ToJsonString()}]}}");
        var choice = stopped["choices"]![0]!;
        var text = choice["text"]!.GetValue<string>();
        Assert.Equal("stop", choice["finish_reason"]!.GetValue<string>());
        Assert.StartsWith(text, fullText);
        Assert.True(text.Length <= cut);
        Assert.DoesNotContain(stop, text);
        Assert.Equal(text, string.Concat(Strings(choice["logprobs"]!["tokens"])));
    }

    [Fact]
    public async Task ChatCompletionsCarryLogprobsWithBytes()
    {
        var (status, body) = await fixture.PostAsync("/v1/chat/completions",
            Body("\"messages\": [{\"role\": \"system\", \"content\": \"Solve it.\"}, {\"role\": \"user\", \"content\": [{\"type\": \"text\", \"text\": \"What is 2 + 2?\"}]}], " +
                 "\"max_tokens\": 8, \"temperature\": 0.5, \"logprobs\": true, \"top_logprobs\": 4"));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("chat.completion", body["object"]!.GetValue<string>());
        var choice = body["choices"]![0]!;
        Assert.Equal("assistant", choice["message"]!["role"]!.GetValue<string>());
        var content = choice["logprobs"]!["content"]!.AsArray();
        Assert.InRange(content.Count, 1, 8);
        Assert.Equal(choice["message"]!["content"]!.GetValue<string>(), string.Concat(content.Select(c => c!["token"]!.GetValue<string>())));
        foreach (var entry in content)
        {
            var token = entry!["token"]!.GetValue<string>();
            Assert.Equal(Encoding.UTF8.GetBytes(token).Select(b => (int)b), entry["bytes"]!.AsArray().Select(b => b!.GetValue<int>()));
            var top = entry["top_logprobs"]!.AsArray();
            Assert.Equal(4, top.Count);
            Assert.All(top, t => Assert.Equal(Encoding.UTF8.GetByteCount(t!["token"]!.GetValue<string>()), t["bytes"]!.AsArray().Count));
        }
        var tokenizer = Tokenizers.LoadFromModelFolder(TeacherTestKit.TinyModelDirectory);
        Assert.Equal(tokenizer.Encode("Solve it.\n\nWhat is 2 + 2?").Ids.Count, body["usage"]!["prompt_tokens"]!.GetValue<int>());
    }

    [Theory]
    [InlineData("\"prompt\": \"x\", \"max_tokens\": 65", 400, "max_tokens", null)]
    [InlineData("\"prompt\": \"x\", \"logprobs\": 21", 400, "logprobs", null)]
    [InlineData("\"prompt\": \"x\", \"temperature\": 3", 400, "temperature", null)]
    [InlineData("\"prompt\": \"x\", \"n\": 0", 400, "n", null)]
    [InlineData("\"prompt\": \"x\", \"stream\": true", 400, "stream", null)]
    [InlineData("\"prompt\": [1, 2, 3]", 400, "prompt", null)]
    [InlineData("\"prompt\": \"x\", \"stop\": [\"a\", \"b\", \"c\", \"d\", \"e\"]", 400, "stop", null)]
    [InlineData("\"max_tokens\": 4", 400, "prompt", null)]
    public async Task BadCompletionRequestsGetOpenAiErrors(string fields, int status, string param, string? code)
    {
        var (actual, body) = await fixture.PostAsync("/v1/completions", Body(fields));
        AssertError(actual, body, status, param, code);
    }

    [Fact]
    public async Task BadRequestsOfEveryOtherKindGetOpenAiErrors()
    {
        var (status, body) = await fixture.PostAsync("/v1/completions", "{\"model\": \"gpt-nope\", \"prompt\": \"x\"}");
        AssertError(status, body, 404, "model", "model_not_found");

        (status, body) = await fixture.PostAsync("/v1/completions", "{\"model\": ");
        AssertError(status, body, 400, null, null);
        Assert.Contains("not valid JSON", body["error"]!["message"]!.GetValue<string>());

        (status, body) = await fixture.PostAsync("/v1/chat/completions", Body("\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"top_logprobs\": 3"));
        AssertError(status, body, 400, "top_logprobs", null);

        (status, body) = await fixture.PostAsync("/v1/chat/completions", Body("\"messages\": [{\"role\": \"tool\", \"content\": \"x\"}]"));
        AssertError(status, body, 400, "messages[0].role", null);

        (status, body) = await fixture.PostAsync("/v1/completions", Body($"\"prompt\": \"{new string('x', 70 * 1024)}\""));
        AssertError(status, body, 400, null, "request_too_large");

        (status, body) = await fixture.PostAsync("/v1/completions", Body($"\"prompt\": \"{string.Concat(Enumerable.Repeat("seven apples ", 3000))}\""));
        AssertError(status, body, 400, "prompt", "context_length_exceeded");

        (status, body) = await fixture.PostAsync("/v1/embeddings", Body("\"input\": \"x\""));
        AssertError(status, body, 404, null, "unknown_url");
    }

    [Fact]
    public async Task TheKeyGuardsV1ButNotHealth()
    {
        using var anonymous = new HttpClient { BaseAddress = fixture.Server.Url };
        using var noKey = await anonymous.PostAsync("/v1/completions", new StringContent(Body("\"prompt\": \"x\""), Encoding.UTF8, "application/json"));
        AssertError(noKey.StatusCode, JsonNode.Parse(await noKey.Content.ReadAsStringAsync())!.AsObject(), 401, null, "invalid_api_key");

        anonymous.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "test-kez");
        using var wrongKey = await anonymous.GetAsync("/v1/models");
        Assert.Equal(HttpStatusCode.Unauthorized, wrongKey.StatusCode);
        Assert.DoesNotContain(TinyServerFixture.ApiKey, await wrongKey.Content.ReadAsStringAsync());

        // Health answers everyone, but names the model (and the rows in flight) only to the key's holders.
        using var health = await anonymous.GetAsync("/health");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        var anonymousHealth = JsonNode.Parse(await health.Content.ReadAsStringAsync())!.AsObject();
        Assert.Equal("ok", anonymousHealth["status"]!.GetValue<string>());
        Assert.Equal(["status"], anonymousHealth.Select(p => p.Key));
        var keyedHealth = JsonNode.Parse(await fixture.Http.GetStringAsync("/health"))!;
        Assert.Equal(fixture.Model, keyedHealth["model"]!.GetValue<string>());
        Assert.Equal(0, keyedHealth["waiting_rows"]!.GetValue<int>());

        var models = JsonNode.Parse(await fixture.Http.GetStringAsync("/v1/models"))!;
        Assert.Equal("list", models["object"]!.GetValue<string>());
        Assert.Equal([fixture.Model], models["data"]!.AsArray().Select(m => m!["id"]!.GetValue<string>()));
        using var one = await fixture.Http.GetAsync("/v1/models/" + fixture.Model);
        Assert.Equal(HttpStatusCode.OK, one.StatusCode);
        using var other = await fixture.Http.GetAsync("/v1/models/gpt-4o");
        Assert.Equal(HttpStatusCode.NotFound, other.StatusCode);
    }

    [Fact]
    public async Task ARequestOverTheTokenLimitIsRefusedWithTheLimit()
    {
        // 64 prompts × n 64 = 4,096 rows, each within every per-field limit: 4,096 × (prompt + 64) tokens in all.
        var prompts = new JsonArray([.. Enumerable.Range(0, 64).Select(i => (JsonNode?)JsonValue.Create($"Question: what is {i} + {i}?"))]);
        var (status, body) = await fixture.PostAsync("/v1/completions", Body($"\"prompt\": {prompts.ToJsonString()}, \"n\": 64, \"max_tokens\": 64"));
        AssertError(status, body, 400, null, "request_tokens_exceeded");
        var message = body["error"]!["message"]!.GetValue<string>();
        Assert.Contains("4096 rows (64 prompts × n 64)", message);
        Assert.Contains("limit of 262,144 per request (--max-request-tokens)", message);
        Assert.Equal(0, fixture.Server.Queue.WaitingRows + fixture.Server.Queue.DecodingRows);
    }

    [Theory]
    [InlineData("text/plain")]                          // what a web page's form or fetch may send without a CORS preflight
    [InlineData("application/x-www-form-urlencoded")]
    [InlineData("multipart/form-data; boundary=x")]
    [InlineData(null)]
    public async Task APostThatIsNotJsonIsRefused(string? contentType)
    {
        var content = new StringContent(Body("\"prompt\": \"x\", \"max_tokens\": 2"), Encoding.UTF8);
        content.Headers.ContentType = contentType is null ? null : MediaTypeHeaderValue.Parse(contentType);
        using var response = await fixture.Http.PostAsync("/v1/completions", content);
        AssertError(response.StatusCode, JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject(), 415, null, "unsupported_media_type");
    }

    [Theory]
    [InlineData("localhost", HttpStatusCode.OK)]
    [InlineData("LOCALHOST:8000", HttpStatusCode.OK)]
    [InlineData("[::1]", HttpStatusCode.OK)]
    [InlineData("127.0.0.1:1", HttpStatusCode.OK)]
    [InlineData("attacker.example", HttpStatusCode.Forbidden)]   // DNS rebinding: the page's own name, resolving to 127.0.0.1
    [InlineData("127.0.0.1.nip.io", HttpStatusCode.Forbidden)]
    [InlineData("192.168.1.20:8000", HttpStatusCode.Forbidden)]
    public async Task OnlyLoopbackHostNamesAreServedByDefault(string host, HttpStatusCode expected)
    {
        foreach (var (method, path) in new[] { (HttpMethod.Get, "/health"), (HttpMethod.Get, "/v1/models"), (HttpMethod.Post, "/v1/completions") })
        {
            using var request = new HttpRequestMessage(method, path);
            request.Headers.Host = host;
            if (method == HttpMethod.Post) request.Content = new StringContent(Body("\"prompt\": \"x\", \"max_tokens\": 2"), Encoding.UTF8, "application/json");
            using var response = await fixture.Http.SendAsync(request);
            Assert.Equal(expected, response.StatusCode);
            if (expected == HttpStatusCode.Forbidden)
            {
                var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
                AssertError(response.StatusCode, body, 403, null, "host_not_allowed");
                Assert.DoesNotContain(fixture.Model, body.ToJsonString());
            }
        }
    }

    [Fact]
    public async Task BindingBeyondLoopbackNeedsTheHostNamesItAnswersTo()
    {
        var e = await Assert.ThrowsAsync<SpecialistException>(() => TeacherServer.StartAsync(
            new ServeOptions { ModelDirectory = TeacherTestKit.TinyModelDirectory, Host = "0.0.0.0", Port = 0 }));
        Assert.Contains("--allowed-hosts", e.Message);
    }

    [Fact]
    public async Task ABusyPortIsAClearError()
    {
        var e = await Assert.ThrowsAsync<SpecialistException>(() => TeacherServer.StartAsync(
            new ServeOptions { ModelDirectory = TeacherTestKit.TinyModelDirectory, Port = fixture.Server.Url.Port }));
        Assert.Contains($"cannot listen on 127.0.0.1:{fixture.Server.Url.Port}", e.Message);
        var host = await Assert.ThrowsAsync<SpecialistException>(() => TeacherServer.StartAsync(
            new ServeOptions { ModelDirectory = TeacherTestKit.TinyModelDirectory, Host = "example.com", Port = 0 }));
        Assert.Contains("is not an IP address", host.Message);
    }

    [Fact]
    public async Task ConcurrentRequestsAllGetTheirOwnAnswers()
    {
        var prompts = Enumerable.Range(0, 6).Select(i => $"Question: what is {i} + {i}?").ToList();
        var answers = await Task.WhenAll(prompts.Select(p => fixture.PostAsync("/v1/completions",
            Body($"\"prompt\": {JsonValue.Create(p).ToJsonString()}, \"max_tokens\": 4, \"temperature\": 0"))));
        Assert.All(answers, a => Assert.Equal(HttpStatusCode.OK, a.Status));
        // Greedy answers do not depend on what else shared the batch.
        for (var i = 0; i < prompts.Count; i++)
        {
            var (_, alone) = await fixture.PostAsync("/v1/completions", Body($"\"prompt\": {JsonValue.Create(prompts[i]).ToJsonString()}, \"max_tokens\": 4, \"temperature\": 0"));
            Assert.Equal(alone["choices"]![0]!["text"]!.GetValue<string>(), answers[i].Body["choices"]![0]!["text"]!.GetValue<string>());
        }
    }

    private static void AssertError(HttpStatusCode actual, JsonObject body, int status, string? param, string? code)
    {
        Assert.Equal(status, (int)actual);
        var error = body["error"]!.AsObject();
        Assert.False(string.IsNullOrWhiteSpace(error["message"]!.GetValue<string>()));
        Assert.Equal(status >= 500 ? "server_error" : "invalid_request_error", error["type"]!.GetValue<string>());
        Assert.Equal(param, error["param"]?.GetValue<string>());
        Assert.Equal(code, error["code"]?.GetValue<string>());
    }
}
