using System.CommandLine;
using System.Globalization;
using Specialist.Models;
using Specialist.Teachers.Serving;

namespace Specialist.Cli.Commands;

/// <summary>
/// <c>specialist serve --model DIR</c>: an OpenAI-compatible server over a student model folder (T5, Llama or Qwen2), until Ctrl+C or SIGTERM:
/// POST /v1/completions, POST /v1/chat/completions (with logprobs), GET /v1/models, GET /health.
/// </summary>
internal sealed class ServeCommand
{
    /// <summary>The defaults, which live in the library (<see cref="ServeOptions"/>).</summary>
    private static readonly ServeOptions D = new() { ModelDirectory = "" };

    private readonly Option<string> _model = CliOptions.Text("--model", "DIR", "the model folder to serve: POST /v1/completions, POST /v1/chat/completions (application/json, with logprobs), GET /v1/models, GET /health; " +
        "requests decode in turn, one step each, and one whose client disconnects stops; SIGTERM or Ctrl+C stops listening, ends requests in flight with 503 and exits 0", required: true);
    private readonly Option<string> _host = CliOptions.Text("--host", "HOST", "the interface to bind (0.0.0.0: every interface; needs --allowed-hosts)", D.Host);
    private readonly Option<int> _port = CliOptions.Int("--port", "PORT", "0 picks a free port; the URL is printed as 'listening on URL'", D.Port);
    private readonly Option<string> _allowedHosts = CliOptions.Text("--allowed-hosts", "H1,H2",
        "the host names requests may carry in Host (any port; '*': any); default localhost,127.0.0.1,[::1]");
    private readonly Option<string> _name = CliOptions.Text("--name", "NAME", "the model name clients ask for (default: the folder's name)");
    private readonly Option<string> _device = CliOptions.Text("--device", "cpu|cuda|cuda:N", "where the model runs; cuda needs the CUDA build (README \"Devices\")", D.Device);
    private readonly Option<int> _maxRequestBytes = CliOptions.Int("--max-request-bytes", "N", "the largest request body", D.MaxRequestBytes);
    private readonly Option<int> _maxTokens = CliOptions.Int("--max-tokens", "N", "the largest max_tokens a request may ask for; larger requests get a 400 error", D.MaxTokens);
    private readonly Option<int> _maxPromptTokens = CliOptions.Int("--max-prompt-tokens", "N", "the longest prompt, in tokens", D.MaxPromptTokens);
    private readonly Option<int> _maxRequestTokens = CliOptions.Int("--max-request-tokens", "N",
        "the most tokens one request may cost: over its rows (prompts x n), prompt tokens + max_tokens", D.MaxRequestTokens);
    private readonly Option<int> _maxActiveRows = CliOptions.Int("--max-active-rows", "N",
        "the most rows decoding at once across requests; past it requests wait in arrival order", D.MaxActiveRows);
    private readonly Option<bool> _noBatching = CliOptions.Flag("--no-batching", "one generate call per request (concurrent requests are batched by default)");
    private readonly Option<string> _apiKey = CliOptions.Text("--api-key", "KEY",
        "requests to /v1 must send 'Authorization: Bearer KEY' (default: $SPECIALIST_API_KEY; none when unset); shows the key to every user of the machine (ps): set $SPECIALIST_API_KEY instead");

    /// <summary>The command, its options bound to <see cref="Options"/>.</summary>
    public Command Command { get; }

    public ServeCommand()
    {
        Command = new Command("serve",
            "serve a model folder over an OpenAI-compatible HTTP API (completions, chat, logprobs) until SIGTERM or Ctrl+C (docs/serve.md)")
        {
            _model, _host, _port, _allowedHosts, _name, _device, _maxRequestBytes, _maxTokens, _maxPromptTokens, _maxRequestTokens, _maxActiveRows,
            _noBatching, _apiKey,
        };
        Command.SetAction((parsed, _) => RunAsync(Options(parsed), parsed.GetValue(_apiKey) is { Length: > 0 }));
    }

    /// <summary>The server's settings the command line gives; the key from <c>--api-key</c>, else from $SPECIALIST_API_KEY.</summary>
    internal ServeOptions Options(ParseResult parsed) => new()
    {
        ModelDirectory = parsed.GetValue(_model)!,
        Device = parsed.GetValue(_device)!,
        Host = parsed.GetValue(_host)!,
        Port = parsed.GetValue(_port),
        AllowedHosts = parsed.GetValue(_allowedHosts) is { } hosts ? [.. hosts.Split(',', StringSplitOptions.TrimEntries)] : null,
        ApiKey = parsed.GetValue(_apiKey) is { Length: > 0 } given ? given
            : Environment.GetEnvironmentVariable("SPECIALIST_API_KEY") is { Length: > 0 } fromEnvironment ? fromEnvironment : null,
        ModelName = parsed.GetValue(_name),
        MaxRequestBytes = parsed.GetValue(_maxRequestBytes),
        MaxTokens = parsed.GetValue(_maxTokens),
        MaxPromptTokens = parsed.GetValue(_maxPromptTokens),
        MaxRequestTokens = parsed.GetValue(_maxRequestTokens),
        MaxActiveRows = parsed.GetValue(_maxActiveRows),
        Batching = !parsed.GetValue(_noBatching),
    };

    private static async Task<int> RunAsync(ServeOptions options, bool keyArgument)
    {
        if (keyArgument)
            Console.Error.WriteLine("warning: --api-key shows the key to every user of this machine (ps, /proc); set $SPECIALIST_API_KEY instead");

        await using var server = await TeacherServer.StartAsync(options);
        var url = server.Url.AbsoluteUri.TrimEnd('/');
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"model '{server.ModelName}' ({server.Parameters:N0} parameters); OpenAI base URL {url}/v1; " +
            $"{(options.ApiKey is null ? "no API key" : "API key required")}; {(options.Batching ? "batching on" : "batching off")}; Ctrl+C stops"));
        // Last, so that a script waiting for this line knows the server is ready.
        Console.WriteLine($"listening on {url}");
        Console.Out.Flush();
        // Returns once SIGTERM or Ctrl+C has stopped the server; disposing it then waits for the step decoding to end.
        await server.WaitForShutdownAsync();
        return 0;
    }
}
