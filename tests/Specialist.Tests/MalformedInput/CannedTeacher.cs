using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Specialist.Tests.MalformedInput;

/// <summary>
/// A real HTTP server on 127.0.0.1 (Kestrel, a free port) that plays an OpenAI-compatible teacher whose every answer
/// is a file: <see cref="Endpoint"/>(NAME) is a base URL whose completions and chat completions all answer 200 with
/// the bytes of <c>NAME</c> in its folder, however malformed.
/// </summary>
internal sealed class CannedTeacher : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly Uri _root;

    private CannedTeacher(WebApplication app, Uri root)
    {
        _app = app;
        _root = root;
    }

    public static async Task<CannedTeacher> StartAsync(string folder)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(System.Net.IPAddress.Loopback, 0));
        var app = builder.Build();
        app.MapPost("/{name}/v1/{**path}", async (string name, HttpContext context) =>
        {
            var file = Path.Combine(folder, name);
            if (Path.GetFileName(name) != name || !File.Exists(file))
            {
                context.Response.StatusCode = 500;
                return;
            }
            context.Response.ContentType = "application/json";
            await context.Response.Body.WriteAsync(await File.ReadAllBytesAsync(file));
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new CannedTeacher(app, new Uri(address.TrimEnd('/') + "/"));
    }

    /// <summary>The base URL (including /v1) of a teacher that answers with the file <paramref name="name"/>.</summary>
    public string Endpoint(string name) => new Uri(_root, $"{Uri.EscapeDataString(name)}/v1").AbsoluteUri;

    public async ValueTask DisposeAsync()
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        await _app.StopAsync(stop.Token);
        await _app.DisposeAsync();
    }
}
