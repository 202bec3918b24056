using System.Globalization;
using Specialist.Teachers.Serving;

namespace Specialist.Cli.Commands;

/// <summary><c>specialist serve --model DIR</c>: an OpenAI-compatible server over a T5 model folder, until Ctrl+C or SIGTERM.</summary>
internal static class ServeCommand
{
    private const string Usage =
        "usage: specialist serve --model DIR [--host 127.0.0.1] [--port 8000] [--name NAME]\n" +
        "                        [--max-request-bytes 1048576] [--max-tokens 1024] [--max-prompt-tokens 4096] [--no-batching]\n" +
        "  POST /v1/completions, POST /v1/chat/completions (with logprobs), GET /v1/models, GET /health\n" +
        "  --host       binds 127.0.0.1 unless told otherwise (0.0.0.0: every interface)\n" +
        "  --port       0 picks a free port; the URL is printed as 'listening on URL'\n" +
        "  key          set $SPECIALIST_API_KEY to require 'Authorization: Bearer KEY' on /v1 (none when unset); --api-key K\n" +
        "               works too, but other users of the machine can read it in the process list (ps)\n" +
        "  --name       the model name clients ask for (default: the folder's name)\n" +
        "  --max-tokens the largest max_tokens a request may ask for; larger requests get a 400 error\n" +
        "  --no-batching  one generate call per request (concurrent requests are batched by default)";

    public static async Task<int> RunAsync(string[] args)
    {
        var parsed = CommandArgs.Parse(args, "help", "no-batching");
        if (parsed.Flag("help"))
        {
            Console.WriteLine(Usage);
            return 0;
        }
        if (parsed.Get("api-key") is not null)
            Console.Error.WriteLine("warning: --api-key shows the key to every user of this machine in the process list (ps); set $SPECIALIST_API_KEY instead");
        var options = new ServeOptions
        {
            ModelDirectory = parsed.Require("model"),
            Host = parsed.Get("host") ?? "127.0.0.1",
            Port = parsed.GetInt("port", 8000),
            ApiKey = parsed.Get("api-key") is { Length: > 0 } given ? given
                : Environment.GetEnvironmentVariable("SPECIALIST_API_KEY") is { Length: > 0 } fromEnvironment ? fromEnvironment : null,
            ModelName = parsed.Get("name"),
            MaxRequestBytes = parsed.GetInt("max-request-bytes", 1 << 20),
            MaxTokens = parsed.GetInt("max-tokens", 1024),
            MaxPromptTokens = parsed.GetInt("max-prompt-tokens", 4096),
            Batching = !parsed.Flag("no-batching"),
        };
        parsed.EnsureAllUsed();

        await using var server = await TeacherServer.StartAsync(options);
        var url = server.Url.AbsoluteUri.TrimEnd('/');
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"model '{server.ModelName}' ({server.Parameters:N0} parameters); OpenAI base URL {url}/v1; " +
            $"{(options.ApiKey is null ? "no API key" : "API key required")}; {(options.Batching ? "batching on" : "batching off")}; Ctrl+C stops"));
        // Last, so that a script waiting for this line knows the server is ready.
        Console.WriteLine($"listening on {url}");
        Console.Out.Flush();
        await server.WaitForShutdownAsync();
        return 0;
    }
}
