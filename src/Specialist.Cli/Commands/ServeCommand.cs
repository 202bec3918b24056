using System.Globalization;
using Specialist.Models;
using Specialist.Teachers.Serving;

namespace Specialist.Cli.Commands;

/// <summary><c>specialist serve --model DIR</c>: an OpenAI-compatible server over a student model folder (T5, Llama or Qwen2), until Ctrl+C or SIGTERM.</summary>
internal static class ServeCommand
{
    private const string Usage =
        "usage: specialist serve --model DIR [--host 127.0.0.1] [--port 8000] [--allowed-hosts H1,H2] [--name NAME] [--device cpu|cuda|cuda:N]\n" +
        "                        [--max-request-bytes 1048576] [--max-tokens 1024] [--max-prompt-tokens 4096]\n" +
        "                        [--max-request-tokens 262144] [--max-active-rows 256] [--no-batching]\n" +
        "  POST /v1/completions, POST /v1/chat/completions (with logprobs), GET /v1/models, GET /health\n" +
        "  --host       binds 127.0.0.1 unless told otherwise (0.0.0.0: every interface; needs --allowed-hosts)\n" +
        "  --port       0 picks a free port; the URL is printed as 'listening on URL'\n" +
        "  --allowed-hosts  the host names requests may carry in Host (any port; '*': any); default localhost,127.0.0.1,[::1]\n" +
        "  API key      $SPECIALIST_API_KEY: requests to /v1 must send 'Authorization: Bearer KEY' (none when unset);\n" +
        "               --api-key K does the same but shows the key to every user of the machine (ps)\n" +
        "  --name       the model name clients ask for (default: the folder's name)\n" +
        "  --device     where the model runs (default cpu; cuda needs the CUDA build, README \"Devices\")\n" +
        "  --max-tokens the largest max_tokens a request may ask for; larger requests get a 400 error\n" +
        "  --max-request-tokens  the most tokens one request may cost: over its rows (prompts x n), prompt tokens + max_tokens\n" +
        "  --max-active-rows     the most rows decoding at once across requests; past it requests wait in arrival order\n" +
        "  --no-batching  one generate call per request (concurrent requests are batched by default)\n" +
        "  Requests decode in turn, one step each; a request whose client disconnects stops. POSTs must be application/json.\n" +
        "  SIGTERM or Ctrl+C: stops listening, ends requests in flight with 503 and exits 0 (see docs/serve.md).";

    public static async Task<int> RunAsync(string[] args)
    {
        var parsed = CommandArgs.Parse(args, "help", "no-batching");
        if (parsed.Flag("help"))
        {
            Console.WriteLine(Usage);
            return 0;
        }
        var keyArgument = parsed.Get("api-key") is { Length: > 0 } given ? given : null;
        var options = new ServeOptions
        {
            ModelDirectory = parsed.Require("model"),
            Device = parsed.Get("device") ?? TorchRuntime.DefaultDeviceName,
            Host = parsed.Get("host") ?? "127.0.0.1",
            Port = parsed.GetInt("port", 8000),
            AllowedHosts = parsed.Get("allowed-hosts") is { } hosts ? [.. hosts.Split(',', StringSplitOptions.TrimEntries)] : null,
            ApiKey = keyArgument ?? (Environment.GetEnvironmentVariable("SPECIALIST_API_KEY") is { Length: > 0 } fromEnvironment ? fromEnvironment : null),
            ModelName = parsed.Get("name"),
            MaxRequestBytes = parsed.GetInt("max-request-bytes", 1 << 20),
            MaxTokens = parsed.GetInt("max-tokens", 1024),
            MaxPromptTokens = parsed.GetInt("max-prompt-tokens", 4096),
            MaxRequestTokens = parsed.GetInt("max-request-tokens", 262_144),
            MaxActiveRows = parsed.GetInt("max-active-rows", 256),
            Batching = !parsed.Flag("no-batching"),
        };
        parsed.EnsureAllUsed();

        if (keyArgument is not null)
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
