using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Specialist.Models;
using Specialist.Tokenization;

namespace Specialist.Teachers.Serving;

/// <summary>How <c>specialist serve</c> runs.</summary>
public sealed record ServeOptions
{
    /// <summary>The model folder (Hugging Face layout: config.json of a T5, Llama or Qwen2 model, safetensors weights, the tokenizer).</summary>
    public required string ModelDirectory { get; init; }

    /// <summary>Where the model runs: <c>cpu</c>, <c>cuda</c> or <c>cuda:N</c> (<see cref="TorchRuntime.ResolveDevice"/>).</summary>
    public string Device { get; init; } = TorchRuntime.DefaultDeviceName;

    /// <summary>
    /// The address to bind: an IP address (<c>0.0.0.0</c> for every interface) or <c>localhost</c>. An address other than
    /// loopback needs <see cref="AllowedHosts"/>.
    /// </summary>
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>The port; 0 picks a free one (see <see cref="TeacherServer.Url"/>).</summary>
    public int Port { get; init; } = 8000;

    /// <summary>When set, <c>/v1/*</c> requests must send <c>Authorization: Bearer KEY</c>, and <c>/health</c> names the model only to them.</summary>
    public string? ApiKey { get; init; }

    /// <summary>
    /// The host names requests may name in their <c>Host</c> header (with any port), compared without case; <c>*</c>
    /// allows any. Null: the loopback names <c>localhost</c>, <c>127.0.0.1</c> and <c>[::1]</c>, so that a web page
    /// cannot reach a local server through DNS rebinding (its requests carry the page's host name). Binding an address
    /// other than loopback requires it.
    /// </summary>
    public IReadOnlyList<string>? AllowedHosts { get; init; }

    /// <summary>The model name clients ask for; default: the folder's name.</summary>
    public string? ModelName { get; init; }

    /// <summary>The largest request body accepted.</summary>
    public int MaxRequestBytes { get; init; } = 1 << 20;

    /// <summary>The largest <c>max_tokens</c> a request may ask for.</summary>
    public int MaxTokens { get; init; } = 1024;

    /// <summary>The longest prompt, in tokens.</summary>
    public int MaxPromptTokens { get; init; } = 4096;

    /// <summary>
    /// The most tokens one request may have the model process: over its rows (prompts × n), each row's prompt tokens
    /// plus <c>max_tokens</c>. Bounds the work of a request that is within every per-field limit.
    /// </summary>
    public int MaxRequestTokens { get; init; } = 262_144;

    /// <summary>The most rows decoding at once, across requests (at least <see cref="MaxBatchRows"/>); past it new requests wait in arrival order.</summary>
    public int MaxActiveRows { get; init; } = 256;

    /// <summary>Whether concurrent requests share generate calls.</summary>
    public bool Batching { get; init; } = true;

    /// <summary>How long an idle server waits for more requests after the first, to batch a burst.</summary>
    public TimeSpan BatchWindow { get; init; } = TimeSpan.FromMilliseconds(5);

    /// <summary>The most rows (prompts × n) one generate call runs.</summary>
    public int MaxBatchRows { get; init; } = 64;

    /// <summary>The most prompt tokens (rows × longest prompt) encoded at once; bounds the encoder's memory with long few-shot prompts.</summary>
    public int MaxBatchTokens { get; init; } = 16_384;
}

/// <summary>A loaded model with what serving it needs.</summary>
internal sealed class ServedModel : IDisposable
{
    private ServedModel(string name, StudentModel model, StudentEncoding encoding)
    {
        Name = name;
        Model = model;
        Encoding = encoding;
        Texts = TokenTexts.Build(encoding.Tokenizer, model.Config.VocabSize);
        EndIds = [.. model.EosIds.Union(encoding.StopIds)];
    }

    public string Name { get; }
    public StudentModel Model { get; }

    /// <summary>How the model reads a prompt: a request's prompt (or user message) is written as the student was trained on it.</summary>
    public StudentEncoding Encoding { get; }

    public ITokenizer Tokenizer => Encoding.Tokenizer;
    public TokenTexts Texts { get; }

    /// <summary>The ids that end a choice (finish reason <c>stop</c>, left out of its text): the model's end of sequence and the student's end of answer.</summary>
    public IReadOnlyList<int> EndIds { get; }

    /// <summary>The generation batches of prompts from <see cref="StudentEncoding.Prompt"/>, stopping at <see cref="EndIds"/>.</summary>
    public IReadOnlyList<PlannedBatch> Plan(IReadOnlyList<IReadOnlyList<int>> prompts, GenerationOptions options) =>
        Model.Plan(prompts, Encoding.Stopping(options), Tokenizer.VocabularySize);

    /// <summary>Loads a model folder of any student family on <paramref name="device"/> (null: the CPU).</summary>
    public static ServedModel Load(string directory, string? name, TorchSharp.torch.Device? device = null)
    {
        var tokenizer = Tokenizers.LoadFromModelFolder(directory);
        var model = StudentModel.Load(directory, device: device);
        StudentEncoding encoding;
        try
        {
            model.EnsureFits(tokenizer, Tokenizers.ModelTokenizerFile(directory));
            encoding = StudentEncoding.Read(directory, tokenizer);
        }
        catch
        {
            model.Dispose();
            throw;
        }
        return new ServedModel(name ?? new DirectoryInfo(Path.GetFullPath(directory)).Name, model, encoding);
    }

    public void Dispose() => Model.Dispose();
}

/// <summary>
/// <c>specialist serve</c>: an OpenAI-compatible HTTP server over a student model of any family (T5, Llama, Qwen2) — <c>POST /v1/completions</c> and
/// <c>POST /v1/chat/completions</c> with log-probs, <c>GET /v1/models</c>, <c>GET /health</c> — so the official
/// clients, and <c>specialist annotate</c>, can use a local model as a teacher. Concurrent requests are batched into
/// shared generate calls and decoded in turn, a step each (<see cref="GenerationQueue"/>); a request whose client
/// disconnects stops decoding. Requests must name an allowed host and POST <c>application/json</c>, which keeps web
/// pages out of a key-less local server. Stopping (SIGTERM, Ctrl+C, <see cref="DisposeAsync"/>) ends the requests in
/// flight with a 503. Errors use OpenAI's <c>{"error": {...}}</c> shape.
/// </summary>
public sealed class TeacherServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ServedModel _model;
    private readonly bool _ownsModel;
    private readonly ServeOptions _options;
    private readonly byte[]? _expectedAuthorization;
    private readonly HashSet<string> _allowedHosts;
    private readonly long _created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    private TeacherServer(WebApplication app, ServedModel model, bool ownsModel, ServeOptions options)
    {
        _app = app;
        _model = model;
        _ownsModel = ownsModel;
        _options = options;
        _expectedAuthorization = string.IsNullOrEmpty(options.ApiKey) ? null : Encoding.UTF8.GetBytes("Bearer " + options.ApiKey);
        _allowedHosts = new HashSet<string>(options.AllowedHosts ?? LoopbackHosts, StringComparer.OrdinalIgnoreCase);
        Queue = new GenerationQueue(model.Plan, options.Batching, options.BatchWindow, options.MaxBatchRows, options.MaxBatchTokens, options.MaxActiveRows);
    }

    /// <summary>The host names a server answers to by default: loopback's.</summary>
    private static readonly string[] LoopbackHosts = ["localhost", "127.0.0.1", "[::1]"];

    /// <summary>How long stopping waits for requests in flight, which end with a 503 as soon as the step decoding ends.</summary>
    private static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(1);

    /// <summary>The server's base URL (e.g. <c>http://127.0.0.1:8000</c>); the OpenAI base URL is this plus <c>/v1</c>.</summary>
    public Uri Url { get; private set; } = null!;

    /// <summary>The model name requests must give.</summary>
    public string ModelName => _model.Name;

    /// <summary>The served model's parameter count.</summary>
    public long Parameters => _model.Model.ParameterCount;

    internal GenerationQueue Queue { get; }

    /// <summary>Loads the model and starts serving; throws <see cref="SpecialistException"/> for a bad folder, host or busy port.</summary>
    public static Task<TeacherServer> StartAsync(ServeOptions options, CancellationToken cancellation = default)
    {
        BindAddress(options); // fail on a bad option before the (slow) model load
        var model = ServedModel.Load(options.ModelDirectory, options.ModelName, TorchRuntime.ResolveDevice(options.Device));
        return StartAsync(options, model, ownsModel: true, cancellation);
    }

    /// <summary>The address to bind, after checking the options.</summary>
    private static IPAddress BindAddress(ServeOptions options)
    {
        var address = options.Host == "localhost" ? IPAddress.Loopback
            : IPAddress.TryParse(options.Host, out var ip) ? ip
            : throw new SpecialistException($"--host '{options.Host}' is not an IP address (e.g. 127.0.0.1, or 0.0.0.0 for every interface)");
        if (options.Port is < 0 or > 65535) throw new SpecialistException($"port {options.Port} is outside 0..65535");
        if (options.MaxRequestBytes < 1 || options.MaxTokens < 1 || options.MaxPromptTokens < 1 || options.MaxRequestTokens < 1 || options.MaxBatchRows < 1 || options.MaxBatchTokens < 1)
            throw new SpecialistException("the request and batch limits must be positive");
        if (options.MaxActiveRows < options.MaxBatchRows)
            throw new SpecialistException($"--max-active-rows {options.MaxActiveRows} is below the rows of one batch ({options.MaxBatchRows})");
        if (options.AllowedHosts is { } hosts && (hosts.Count == 0 || hosts.Any(string.IsNullOrWhiteSpace)))
            throw new SpecialistException("--allowed-hosts needs host names (or '*' for any)");
        if (!IPAddress.IsLoopback(address) && options.AllowedHosts is null)
            throw new SpecialistException($"--host {options.Host} takes requests from other machines, which name this one by a host name or address of " +
                "its own: give them with --allowed-hosts (e.g. --allowed-hosts teacher.lan,192.168.1.20), or '*' to accept any");
        return address;
    }

    internal static async Task<TeacherServer> StartAsync(ServeOptions options, ServedModel model, bool ownsModel, CancellationToken cancellation)
    {
        var address = BindAddress(options);

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.Services.Configure<ConsoleLifetimeOptions>(o => o.SuppressStatusMessages = true);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = ShutdownTimeout);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(address, options.Port);
            kestrel.AddServerHeader = false;
            // The handlers enforce MaxRequestBytes with an OpenAI-shaped error; Kestrel's own limit only backs it up.
            kestrel.Limits.MaxRequestBodySize = Math.Max(30_000_000L, options.MaxRequestBytes + 1L);
        });
        var app = builder.Build();
        var server = new TeacherServer(app, model, ownsModel, options);
        server.MapRoutes();
        // Stopping ends the requests in flight at once, so that Kestrel's wait for them (its graceful shutdown) is short.
        app.Lifetime.ApplicationStopping.Register(server.Queue.Stop);
        try
        {
            await app.StartAsync(cancellation);
        }
        catch (IOException e)
        {
            await app.DisposeAsync();
            server.Queue.Dispose();
            if (ownsModel) model.Dispose();
            throw new SpecialistException($"cannot listen on {options.Host}:{options.Port}: {e.Message}", e);
        }
        var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server.Url = new Uri(bound);
        return server;
    }

    /// <summary>Completes when the server is asked to stop (Ctrl+C, SIGTERM) or <paramref name="cancellation"/> fires.</summary>
    public Task WaitForShutdownAsync(CancellationToken cancellation = default) => _app.WaitForShutdownAsync(cancellation);

    private void MapRoutes()
    {
        _app.Use(async (context, next) =>
        {
            // A web page can have a browser send requests to a local server, and read the answers once DNS rebinding makes
            // its own host name resolve to 127.0.0.1; such requests name the page's host, not this one.
            if (!_allowedHosts.Contains("*") && !_allowedHosts.Contains(context.Request.Host.Host))
            {
                await WriteError(context, new ApiException(403, $"the Host '{context.Request.Host}' is not one this server answers to; " +
                    $"it answers to {string.Join(", ", _allowedHosts)} (--allowed-hosts)", null, "host_not_allowed"));
                return;
            }
            if (_expectedAuthorization is not null && context.Request.Path.StartsWithSegments("/v1") && !Authorized(context.Request))
            {
                await WriteError(context, new ApiException(401, "missing or wrong API key: send 'Authorization: Bearer KEY'", null, "invalid_api_key"));
                return;
            }
            await next(context);
        });
        _app.MapGet("/health", context => WriteJson(context, 200, Health(context.Request)));
        _app.MapGet("/v1/models", context => WriteJson(context, 200, new JsonObject { ["object"] = "list", ["data"] = new JsonArray(ModelObject()) }));
        _app.MapGet("/v1/models/{id}", context => Handle(context, Model));
        _app.MapPost("/v1/completions", context => Handle(context, Completions));
        _app.MapPost("/v1/chat/completions", context => Handle(context, Chat));
        _app.MapFallback(context => WriteError(context, new ApiException(404, $"no route {context.Request.Method} {context.Request.Path}", null, "unknown_url")));
    }

    /// <summary>Status, and for a holder of the key (or anyone when there is none) the model and the rows waiting and decoding.</summary>
    private JsonObject Health(HttpRequest request)
    {
        var health = new JsonObject { ["status"] = "ok" };
        if (_expectedAuthorization is null || Authorized(request))
        {
            health["model"] = _model.Name;
            health["waiting_rows"] = Queue.WaitingRows;
            health["decoding_rows"] = Queue.DecodingRows;
        }
        return health;
    }

    private bool Authorized(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        return CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(header), _expectedAuthorization);
    }

    private JsonObject ModelObject() => new() { ["id"] = _model.Name, ["object"] = "model", ["created"] = _created, ["owned_by"] = "specialist" };

    private Task<JsonObject> Model(HttpContext context)
    {
        CheckModel((string)context.Request.RouteValues["id"]!);
        return Task.FromResult(ModelObject());
    }

    private void CheckModel(string name)
    {
        if (name != _model.Name) throw new ApiException(404, $"the model '{name}' does not exist here; this server serves '{_model.Name}'", "model", "model_not_found");
    }

    private static async Task Handle(HttpContext context, Func<HttpContext, Task<JsonObject>> handler)
    {
        try
        {
            var response = await handler(context);
            await WriteJson(context, 200, response);
        }
        catch (ApiException e)
        {
            await WriteError(context, e);
        }
        catch (BadHttpRequestException e)
        {
            await WriteError(context, new ApiException(400, e.Message));
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client has gone: nobody is left to answer.
        }
        catch (Exception e) when (!context.RequestAborted.IsCancellationRequested)
        {
            await WriteError(context, new ApiException(500, $"generation failed: {e.Message}"));
        }
    }

    private async Task<JsonObject> Completions(HttpContext context)
    {
        using var body = await ReadBody(context);
        var request = OpenAiRequests.ParseCompletion(body.RootElement, _options.MaxTokens);
        CheckModel(request.Model);
        var prompts = request.Prompts.Select(p => Encode(p, "prompt")).ToList();
        CheckRequestTokens(prompts, request.N, request.MaxTokens);
        // A seeded request's prompts are one job, so they decode in a call of their own and its samples depend on the
        // request alone; any other's prompts are jobs of their own, free to share calls with other requests.
        var rows = request.Sampling.Seed is null
            ? [.. (await Task.WhenAll(prompts.Select((p, i) =>
                Queue.GenerateAsync(p, request.N, i * request.N, request.Sampling, request.MaxTokens, request.Logprobs, context.RequestAborted)))).SelectMany(r => r)]
            : await Queue.GenerateAsync(prompts, request.N, request.Sampling, request.MaxTokens, request.Logprobs, context.RequestAborted);

        var choices = new JsonArray();
        long completionTokens = 0;
        for (var index = 0; index < rows.Count; index++)
        {
            var choice = RenderedChoice.Render(rows[index], _model.Texts, _model.EndIds, request.Stop);
            completionTokens += choice.GeneratedTokens;
            choices.Add(new JsonObject
            {
                ["text"] = choice.Text,
                ["index"] = index,
                ["logprobs"] = request.Logprobs is null ? null : CompletionLogprobs(choice),
                ["finish_reason"] = choice.FinishReason,
            });
        }
        return new JsonObject
        {
            ["id"] = "cmpl-" + NewId(),
            ["object"] = "text_completion",
            ["created"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
            ["model"] = _model.Name,
            ["choices"] = choices,
            ["usage"] = Usage(prompts.Sum(p => p.Count), completionTokens),
        };
    }

    private async Task<JsonObject> Chat(HttpContext context)
    {
        using var body = await ReadBody(context);
        var request = OpenAiRequests.ParseChat(body.RootElement, _options.MaxTokens);
        CheckModel(request.Model);
        var prompt = Encode(request.Prompt, "messages");
        CheckRequestTokens([prompt], request.N, request.MaxTokens);
        var rows = await Queue.GenerateAsync(prompt, request.N, 0, request.Sampling, request.MaxTokens, request.TopLogprobs, context.RequestAborted);

        var choices = new JsonArray();
        long completionTokens = 0;
        for (var i = 0; i < request.N; i++)
        {
            var choice = RenderedChoice.Render(rows[i], _model.Texts, _model.EndIds, request.Stop);
            completionTokens += choice.GeneratedTokens;
            choices.Add(new JsonObject
            {
                ["index"] = i,
                ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = choice.Text, ["refusal"] = null },
                ["logprobs"] = request.TopLogprobs is null ? null : new JsonObject
                {
                    ["content"] = new JsonArray([.. choice.Tokens.Select(t => (JsonNode)new JsonObject
                    {
                        ["token"] = t.Text,
                        ["logprob"] = Finite(t.Logprob),
                        ["bytes"] = Bytes(t.Text),
                        ["top_logprobs"] = new JsonArray([.. t.Top.Select(c => (JsonNode)new JsonObject
                        {
                            ["token"] = c.Text,
                            ["logprob"] = Finite(c.Logprob),
                            ["bytes"] = Bytes(c.Text),
                        })]),
                    })]),
                    ["refusal"] = null,
                },
                ["finish_reason"] = choice.FinishReason,
            });
        }
        return new JsonObject
        {
            ["id"] = "chatcmpl-" + NewId(),
            ["object"] = "chat.completion",
            ["created"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
            ["model"] = _model.Name,
            ["choices"] = choices,
            ["usage"] = Usage(prompt.Count, completionTokens),
        };
    }

    private static JsonObject CompletionLogprobs(RenderedChoice choice)
    {
        var top = new JsonArray();
        foreach (var t in choice.Tokens)
        {
            var candidates = new JsonObject();
            foreach (var (text, logprob) in t.Top) candidates[text] = Finite(logprob);
            top.Add(candidates);
        }
        return new JsonObject
        {
            ["tokens"] = new JsonArray([.. choice.Tokens.Select(t => (JsonNode?)JsonValue.Create(t.Text))]),
            ["token_logprobs"] = new JsonArray([.. choice.Tokens.Select(t => (JsonNode?)JsonValue.Create(Finite(t.Logprob)))]),
            ["top_logprobs"] = top,
            ["text_offset"] = new JsonArray([.. choice.Tokens.Select(t => (JsonNode?)JsonValue.Create(t.Offset))]),
        };
    }

    private static JsonObject Usage(long promptTokens, long completionTokens) => new()
    {
        ["prompt_tokens"] = promptTokens,
        ["completion_tokens"] = completionTokens,
        ["total_tokens"] = promptTokens + completionTokens,
    };

    // JSON has no infinities; -9999 is what vLLM sends for an impossible token.
    private static float Finite(float logprob) => float.IsFinite(logprob) ? logprob : -9999f;

    private static JsonArray Bytes(string text) => new([.. Encoding.UTF8.GetBytes(text).Select(b => (JsonNode?)JsonValue.Create((int)b))]);

    private static string NewId() => Guid.NewGuid().ToString("N")[..24];

    private IReadOnlyList<int> Encode(string text, string param)
    {
        var ids = _model.Encoding.Prompt(text);
        if (ids.Count > _options.MaxPromptTokens)
            throw OpenAiRequests.Invalid($"the prompt is {ids.Count} tokens, over this server's limit of {_options.MaxPromptTokens} (--max-prompt-tokens)", param, "context_length_exceeded");
        return ids;
    }

    /// <summary>Refuses a request whose rows would have the model process more than <see cref="ServeOptions.MaxRequestTokens"/> tokens.</summary>
    private void CheckRequestTokens(IReadOnlyList<IReadOnlyList<int>> prompts, int n, int maxTokens)
    {
        var tokens = prompts.Sum(p => (long)n * (p.Count + maxTokens));
        if (tokens > _options.MaxRequestTokens)
            throw OpenAiRequests.Invalid($"this request asks for {prompts.Count * n} rows ({prompts.Count} prompts × n {n}), each its prompt plus up to " +
                $"{maxTokens} new tokens: {tokens:N0} tokens, over this server's limit of {_options.MaxRequestTokens:N0} per request (--max-request-tokens); " +
                "send fewer prompts, a smaller n or a smaller max_tokens", null, "request_tokens_exceeded");
    }

    private async Task<JsonDocument> ReadBody(HttpContext context)
    {
        // A web page can post to any address without asking first only as a form or text/plain; application/json needs
        // a CORS preflight, which this server never grants.
        var contentType = context.Request.ContentType;
        if (!MediaTypeHeaderValue.TryParse(contentType, out var mediaType) || !string.Equals(mediaType.MediaType, "application/json", StringComparison.OrdinalIgnoreCase))
            throw new ApiException(415, $"the request's Content-Type is {(contentType is null ? "missing" : $"'{contentType}'")}; send 'Content-Type: application/json'",
                null, "unsupported_media_type");
        var limit = _options.MaxRequestBytes;
        var tooLarge = (long length) => OpenAiRequests.Invalid($"the request body is {length} bytes, over this server's limit of {limit} (--max-request-bytes)", null, "request_too_large");
        if (context.Request.ContentLength is { } declared && declared > limit) throw tooLarge(declared);
        var buffer = new MemoryStream();
        var chunk = new byte[16384];
        int read;
        while ((read = await context.Request.Body.ReadAsync(chunk, context.RequestAborted)) > 0)
        {
            if (buffer.Length + read > limit) throw tooLarge(buffer.Length + read);
            buffer.Write(chunk, 0, read);
        }
        try
        {
            return JsonDocument.Parse(buffer.GetBuffer().AsMemory(0, (int)buffer.Length));
        }
        catch (JsonException e)
        {
            throw OpenAiRequests.Invalid($"the request body is not valid JSON: {e.Message}");
        }
    }

    private static Task WriteJson(HttpContext context, int status, JsonObject body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(body.ToJsonString(), context.RequestAborted);
    }

    private static Task WriteError(HttpContext context, ApiException e) => WriteJson(context, e.Status, new JsonObject
    {
        ["error"] = new JsonObject
        {
            ["message"] = e.Message,
            ["type"] = e.Status >= 500 ? "server_error" : "invalid_request_error",
            ["param"] = e.Param,
            ["code"] = e.Code,
        },
    });

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        Queue.Dispose();
        if (_ownsModel) _model.Dispose();
    }
}
