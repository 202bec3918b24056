using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Specialist.Teachers;

/// <summary>How <see cref="TeacherClient"/> reaches an OpenAI-compatible endpoint.</summary>
/// <param name="Endpoint">The base URL including <c>/v1</c>, as <c>OPENAI_BASE_URL</c> is (e.g. <c>http://127.0.0.1:8000/v1</c>).</param>
/// <param name="ApiKey">Sent as a bearer token when given; never printed or stored.</param>
/// <param name="Timeout">The longest one attempt may take (sending, waiting and reading the answer).</param>
/// <param name="MaxRetries">Retries after the first attempt for 429, 5xx, timeouts and broken connections.</param>
public sealed record TeacherClientOptions(Uri Endpoint, string? ApiKey, TimeSpan Timeout, int MaxRetries)
{
    /// <summary>The first back-off delay; it doubles with every retry.</summary>
    public TimeSpan BackoffBase { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest back-off delay.</summary>
    public TimeSpan BackoffMax { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// <paramref name="endpoint"/> as messages, stores and result files show it: a user name and password in it
    /// (<c>http://user:pass@host/v1</c>) become <c>***</c>, so that no credential is printed or written down.
    /// </summary>
    public static string Redact(Uri endpoint) =>
        endpoint.UserInfo.Length == 0 ? endpoint.AbsoluteUri : new UriBuilder(endpoint) { UserName = "***", Password = "" }.Uri.AbsoluteUri;

    /// <summary>Reads and checks a base URL (http or https, absolute).</summary>
    public static Uri ParseEndpoint(string text) =>
        Uri.TryCreate(text.TrimEnd('/'), UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
            ? uri
            : throw new SpecialistException($"endpoint '{text}' is not an http(s) URL; give the base URL including /v1, e.g. http://127.0.0.1:8000/v1");
}

/// <summary>
/// Calls an OpenAI-compatible teacher (OpenAI, vLLM, llama.cpp server, <c>specialist serve</c>) with retries. A
/// request that still fails, or whose answer is malformed, truncated or of the wrong shape, comes back as a failed
/// <see cref="TeacherOutcome"/>, never as an exception; only answers that doom every request (401, 403, 404) throw
/// <see cref="SpecialistException"/>. Thread-safe: one client serves any number of concurrent requests.
/// </summary>
public sealed class TeacherClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly TeacherClientOptions _options;
    private readonly RetryPolicy _retry;

    public TeacherClient(TeacherClientOptions options)
    {
        if (options.Timeout <= TimeSpan.Zero) throw new SpecialistException("the request timeout must be positive");
        if (options.MaxRetries < 0) throw new SpecialistException("max retries must be 0 or more");
        _options = options;
        _retry = new RetryPolicy(options.MaxRetries, options.BackoffBase, options.BackoffMax);
        // Timeouts are per attempt (below), so the client itself never times out.
        _http = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }) { Timeout = Timeout.InfiniteTimeSpan };
    }

    /// <summary>The base URL requests go to.</summary>
    public Uri Endpoint => _options.Endpoint;

    /// <summary>Sends one call and parses its answer (all its requests' samples, in order), retrying transient failures.</summary>
    internal async Task<TeacherOutcome> SendAsync(TeacherCall call, AnnotationConfig config, CancellationToken cancellation)
    {
        var url = new Uri(_options.Endpoint.AbsoluteUri.TrimEnd('/') + TeacherRequest.Path(config.Api));
        var shown = TeacherClientOptions.Redact(url);
        var body = Encoding.UTF8.GetBytes(call.Body(config).ToJsonString());
        string error = "no attempt was made";
        for (var attempt = 0; ; attempt++)
        {
            TimeSpan? retryAfter = null;
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellation))
            {
                timeout.CancelAfter(_options.Timeout);
                try
                {
                    using var message = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(body) };
                    message.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                    if (!string.IsNullOrEmpty(_options.ApiKey)) message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _options.ApiKey);
                    using var response = await _http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
                    var content = await response.Content.ReadAsByteArrayAsync(timeout.Token);
                    if (response.IsSuccessStatusCode)
                    {
                        try
                        {
                            return new TeacherOutcome(TeacherResponseParser.Parse(content, config.Api, call.Choices, config.TopLogprobs), null, attempt + 1);
                        }
                        catch (MalformedResponseException e)
                        {
                            return new TeacherOutcome(null, $"malformed response: {e.Message}", attempt + 1);
                        }
                    }
                    error = $"HTTP {(int)response.StatusCode}: {ServerMessage(content)}";
                    if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
                        throw new SpecialistException($"{shown} refused the request ({error}); check OPENAI_API_KEY");
                    if (response.StatusCode == HttpStatusCode.NotFound)
                        throw new SpecialistException($"{shown} answered 404 ({ServerMessage(content)}); check --endpoint (the base URL including /v1) and --model");
                    if (!RetryPolicy.IsRetryable(response.StatusCode)) return new TeacherOutcome(null, error, attempt + 1);
                    retryAfter = RetryPolicy.RetryAfter(response.Headers, DateTimeOffset.UtcNow);
                }
                catch (OperationCanceledException) when (!cancellation.IsCancellationRequested)
                {
                    error = $"timed out after {_options.Timeout.TotalSeconds:0.###} s";
                }
                catch (Exception e) when (e is HttpRequestException or IOException)
                {
                    error = $"connection failed: {e.Message}";
                }
            }
            if (attempt >= _retry.MaxRetries) return new TeacherOutcome(null, error, attempt + 1);
            await Task.Delay(_retry.Delay(attempt, retryAfter, Random.Shared), cancellation);
        }
    }

    /// <summary>The <c>error.message</c> of an OpenAI error body, else the start of the body.</summary>
    private static string ServerMessage(byte[] content)
    {
        try
        {
            using var document = JsonDocument.Parse(content);
            if (document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("error", out var e) && e.ValueKind == JsonValueKind.Object
                && e.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String)
                return m.GetString()!;
        }
        catch (JsonException)
        {
            // Not JSON: show the text itself.
        }
        var text = Encoding.UTF8.GetString(content.AsSpan(0, Math.Min(content.Length, 200))).ReplaceLineEndings(" ").Trim();
        return text.Length == 0 ? "(empty body)" : text;
    }

    public void Dispose() => _http.Dispose();
}
