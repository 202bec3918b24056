using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Specialist.Tests.Teachers;

/// <summary>A request the fault server received: the question asked, how many choices, and the how-many-th time this question came.</summary>
internal sealed record FaultCall(string Question, int N, int Attempt, JsonObject Body, DateTime At);

/// <summary>What the fault server answers to one call.</summary>
internal abstract record FaultReply
{
    /// <summary>A well-formed completions answer with these choice texts (tokens: the texts split at spaces, top-k made up).</summary>
    public sealed record Answer(IReadOnlyList<string> Texts, TimeSpan Delay = default) : FaultReply;

    /// <summary>An error status, with <c>Retry-After</c> seconds when given.</summary>
    public sealed record Status(int Code, int? RetryAfterSeconds = null) : FaultReply;

    /// <summary>Never answers (until the client gives up).</summary>
    public sealed record Hang : FaultReply;

    /// <summary>200 with a JSON body cut off in the middle.</summary>
    public sealed record Truncated : FaultReply;

    /// <summary>200 with valid JSON of the wrong shape.</summary>
    public sealed record WrongSchema : FaultReply;
}

/// <summary>
/// A real HTTP server on 127.0.0.1 (Kestrel, free port) that speaks just enough of the completions API for the
/// teacher client, and answers each call as a test's script says: normally, with 429 / 5xx, by hanging, with
/// truncated JSON or with the wrong schema. It logs every call.
/// </summary>
internal sealed class FaultServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, int> _attempts = new();

    private FaultServer(WebApplication app) => _app = app;

    public Uri BaseUrl { get; private set; } = null!;

    public ConcurrentQueue<FaultCall> Calls { get; } = new();

    /// <summary>Answers that were sent complete (2xx, well-formed).</summary>
    public int Answered => _answered;

    private int _answered;

    public static async Task<FaultServer> StartAsync(Func<FaultCall, FaultReply> script, int topLogprobs = 5)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(System.Net.IPAddress.Loopback, 0));
        builder.Services.Configure<Microsoft.Extensions.Hosting.HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(1));
        var app = builder.Build();
        var server = new FaultServer(app);
        app.MapPost("/v1/completions", async context =>
        {
            var body = (await JsonNode.ParseAsync(context.Request.Body))!.AsObject();
            var question = TeacherTestKit.QuestionOf(body["prompt"]!.GetValue<string>());
            var n = body["n"]?.GetValue<int>() ?? 1;
            var attempt = server._attempts.AddOrUpdate(question, 1, (_, a) => a + 1);
            var call = new FaultCall(question, n, attempt, body, DateTime.UtcNow);
            server.Calls.Enqueue(call);
            switch (script(call))
            {
                case FaultReply.Answer answer:
                    if (answer.Delay > TimeSpan.Zero) await Task.Delay(answer.Delay, context.RequestAborted);
                    await Write(context, 200, Completion(answer.Texts, topLogprobs).ToJsonString());
                    Interlocked.Increment(ref server._answered);
                    break;
                case FaultReply.Status status:
                    if (status.RetryAfterSeconds is { } seconds) context.Response.Headers.RetryAfter = seconds.ToString();
                    await Write(context, status.Code, """{"error": {"message": "scripted failure", "type": "server_error", "param": null, "code": null}}""");
                    break;
                case FaultReply.Hang:
                    await Task.Delay(Timeout.Infinite, context.RequestAborted).ContinueWith(_ => { });
                    break;
                case FaultReply.Truncated:
                    var full = Completion(["The answer is 1"], topLogprobs).ToJsonString();
                    await Write(context, 200, full[..(full.Length / 2)]);
                    break;
                case FaultReply.WrongSchema:
                    await Write(context, 200, """{"id": "x", "object": "text_completion", "results": [{"output": "The answer is 1"}]}""");
                    break;
            }
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server.BaseUrl = new Uri(address.TrimEnd('/') + "/v1");
        return server;
    }

    /// <summary>A completions body: one choice per text, tokens = the text split before spaces, each with top-k made-up candidates.</summary>
    public static JsonObject Completion(IReadOnlyList<string> texts, int topLogprobs)
    {
        var choices = new JsonArray();
        for (var i = 0; i < texts.Count; i++)
        {
            var tokens = SplitTokens(texts[i]);
            var offsets = new JsonArray();
            var offset = 0;
            foreach (var t in tokens) { offsets.Add(offset); offset += t.Length; }
            choices.Add(new JsonObject
            {
                ["text"] = texts[i],
                ["index"] = i,
                ["logprobs"] = topLogprobs == 0 ? null : new JsonObject
                {
                    ["tokens"] = new JsonArray([.. tokens.Select(t => (JsonNode?)t)]),
                    ["token_logprobs"] = new JsonArray([.. tokens.Select(_ => (JsonNode?)(-0.25))]),
                    ["top_logprobs"] = new JsonArray([.. tokens.Select(t =>
                    {
                        var top = new JsonObject { [t] = -0.25 };
                        for (var k = 1; k < topLogprobs; k++) top[$"{t}~{k}"] = -1.0 - k;
                        return (JsonNode?)top;
                    })]),
                    ["text_offset"] = offsets,
                },
                ["finish_reason"] = "stop",
            });
        }
        return new JsonObject
        {
            ["id"] = "cmpl-fault",
            ["object"] = "text_completion",
            ["created"] = 0,
            ["model"] = "fault-teacher",
            ["choices"] = choices,
            ["usage"] = new JsonObject { ["prompt_tokens"] = 100, ["completion_tokens"] = 10 * texts.Count, ["total_tokens"] = 100 + 10 * texts.Count },
        };
    }

    private static List<string> SplitTokens(string text)
    {
        var tokens = new List<string>();
        var start = 0;
        for (var i = 1; i <= text.Length; i++)
            if (i == text.Length || text[i] == ' ')
            {
                tokens.Add(text[start..i]);
                start = i;
            }
        return tokens;
    }

    private static async Task Write(HttpContext context, int status, string body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        var bytes = Encoding.UTF8.GetBytes(body);
        context.Response.ContentLength = bytes.Length;
        await context.Response.Body.WriteAsync(bytes);
    }

    public async ValueTask DisposeAsync()
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        await _app.StopAsync(stop.Token);
        await _app.DisposeAsync();
    }
}
