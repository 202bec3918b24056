using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json.Nodes;
using Specialist.Teachers.Serving;
using Specialist.Tokenization;
using Xunit.Abstractions;

namespace Specialist.Tests.Teachers;

/// <summary>
/// <c>serve</c> under a hostile load, over real HTTP on 127.0.0.1 with the tiny model of the other serve tests. Work is
/// measured in row-steps (one decoder step of one row), which the server's queue counts: the assertions hold whatever
/// the machine's speed. Only the shutdown test times anything, since a time is what it promises.
/// </summary>
public class ServeSchedulingTests(ITestOutputHelper output)
{
    private const string Key = "scheduling-key";
    private const string Question = "Question: Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May.\nLet's think step by step";

    [Fact]
    public async Task AMaximalRequestDelaysAShortOneByItsStepsPlusOnePerRowAheadAndStopsWhenItsClientLeaves()
    {
        await using var server = await TeacherServer.StartAsync(new ServeOptions
        {
            ModelDirectory = TeacherTestKit.TinyModelDirectory, Port = 0, ApiKey = Key, MaxTokens = 1024,
        });
        var reports = new List<GenerationReport>();
        server.Queue.Ended += report => { lock (reports) reports.Add(report); };
        using var http = new HttpClient { BaseAddress = server.Url, Timeout = Timeout.InfiniteTimeSpan };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Key);

        // The largest request the default token limit lets through at n 64 and max_tokens 1024: as many prompts as fit.
        var promptTokens = Tokenizers.LoadFromModelFolder(TeacherTestKit.TinyModelDirectory).Encode(Question).Ids.Count;
        var prompts = new ServeOptions { ModelDirectory = "" }.MaxRequestTokens / (64 * (promptTokens + 1024));
        Assert.Equal(3, prompts);
        var rowsAhead = prompts * 64;
        using var client = new CancellationTokenSource();
        var maximal = http.PostAsync("/v1/completions", Completion(server, new JsonArray([.. Enumerable.Repeat(Question, prompts).Select(q => (JsonNode?)q)]), 64, 1024),
            client.Token);
        // Every batch of it decodes (health counts their rows) when a 2-token request arrives.
        await WaitUntil(async () => (await Health(http))["decoding_rows"]!.GetValue<int>() == rowsAhead, maximal);

        using var shortResponse = await http.PostAsync("/v1/completions", Completion(server, Question, 1, 2));
        Assert.Equal(HttpStatusCode.OK, shortResponse.StatusCode);
        Assert.False(maximal.IsCompleted, "the maximal request ended first, so this shows nothing");
        var shortReport = Single(reports, r => r.MaxTokens == 2);
        Assert.InRange(shortReport.Steps, 1, 2);
        // The bound (docs/serve.md): T + 1 decoder steps of every row decoding beside it, and its own T steps of its row.
        // Without turns it would wait for all 1,024 steps of the 192 rows ahead.
        Assert.InRange(shortReport.RowStepsWaited, shortReport.Steps + 1, (shortReport.Steps + 1) * rowsAhead + shortReport.Steps);
        output.WriteLine($"a {shortReport.Steps}-token request waited {shortReport.RowStepsWaited} row-steps beside {rowsAhead} rows " +
            $"(bound {(shortReport.Steps + 1) * rowsAhead + shortReport.Steps})");

        // The client hangs up: the server sees the connection close and stops the request's rows before their next step.
        client.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => maximal);
        await WaitUntil(() => Task.FromResult(Count(reports, r => r.Outcome == GenerationOutcome.Cancelled) == prompts), null);
        lock (reports) Assert.All(reports.Where(r => r.MaxTokens == 1024), r => Assert.InRange(r.Steps, 1, 1023));
        await WaitUntil(async () => (await Health(http))["decoding_rows"]!.GetValue<int>() == 0, null);
        var before = server.Queue.RowSteps;
        // From now on the only work is a probe's own: the cancelled rows decode no more.
        using var probe = await http.PostAsync("/v1/completions", Completion(server, "Question: 2 + 2?", 1, 2));
        Assert.Equal(HttpStatusCode.OK, probe.StatusCode);
        var probeReport = Single(reports, r => r.MaxTokens == 2 && r != shortReport);
        Assert.Equal(probeReport.Steps, probeReport.RowStepsWaited);
        Assert.Equal(before + probeReport.Steps, server.Queue.RowSteps);
        lock (reports) output.WriteLine($"cancelled after steps {string.Join(", ", reports.Where(r => r.MaxTokens == 1024).Select(r => r.Steps))} of 1024; " +
            $"row-steps frozen at {before} but for the probe's {probeReport.Steps}");
    }

    [Fact]
    public async Task SigtermStopsARealServeProcessWithinTwoSecondsWhileItDecodes()
    {
        using var serve = TeacherTestKit.Start("serve", "--model", TeacherTestKit.TinyModelDirectory, "--port", "0", "--name", "tiny-teacher");
        var url = serve.WaitForLine(@"^listening on (\S+)$", TimeSpan.FromMinutes(2));
        using var http = new HttpClient { BaseAddress = new Uri(url), Timeout = Timeout.InfiniteTimeSpan };
        var inFlight = http.PostAsync("/v1/completions", new StringContent(
            new JsonObject { ["model"] = "tiny-teacher", ["prompt"] = Question, ["n"] = 64, ["max_tokens"] = 1024 }.ToJsonString(), Encoding.UTF8, "application/json"));
        await WaitUntil(async () => (await Health(http))["decoding_rows"]!.GetValue<int>() > 0, inFlight);

        var clock = Stopwatch.StartNew();
        // When the request in flight is answered (a 503) or its connection closes: the server's own part of stopping.
        var answered = inFlight.ContinueWith(_ => clock.Elapsed, TaskScheduler.Default);
        Assert.Equal(0, Kill(serve.Process.Id, Sigterm));
        var exited = serve.Process.WaitForExit(TimeSpan.FromSeconds(2));
        var timing = $"{clock.Elapsed.TotalSeconds:F2} s after SIGTERM, the request in flight answered after " +
            (answered.IsCompletedSuccessfully ? $"{(await answered).TotalSeconds:F2} s" : "more than that");
        Assert.True(exited, $"still running {timing}\n{serve.Stderr}");
        output.WriteLine($"exited {timing}");
        Assert.Equal(0, serve.Process.ExitCode);
        Assert.DoesNotContain("   at ", serve.Stderr); // no stack trace

        // The request in flight was answered with a 503, or its connection closed.
        try
        {
            using var response = await inFlight;
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Contains("shutting down", await response.Content.ReadAsStringAsync());
        }
        catch (HttpRequestException)
        {
        }
    }

    private const int Sigterm = 15;

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    private static StringContent Completion(TeacherServer server, JsonNode prompt, int n, int maxTokens) => new(new JsonObject
    {
        ["model"] = server.ModelName, ["prompt"] = prompt, ["n"] = n, ["max_tokens"] = maxTokens, ["temperature"] = 1.0,
    }.ToJsonString(), Encoding.UTF8, "application/json");

    private static async Task<JsonObject> Health(HttpClient http) => JsonNode.Parse(await http.GetStringAsync("/health"))!.AsObject();

    /// <summary>Polls until <paramref name="condition"/> holds; fails if <paramref name="mustNotEnd"/> ends first or nothing happens in a minute (a guard against hanging, not a measurement).</summary>
    private static async Task WaitUntil(Func<Task<bool>> condition, Task? mustNotEnd)
    {
        var guard = Stopwatch.StartNew();
        while (!await condition())
        {
            if (mustNotEnd is { IsCompleted: true }) throw new InvalidOperationException("the request in flight ended before the condition held: " + mustNotEnd.Status);
            if (guard.Elapsed > TimeSpan.FromMinutes(1)) throw new TimeoutException("the condition did not hold within a minute");
            await Task.Delay(20);
        }
    }

    private static int Count(List<GenerationReport> reports, Func<GenerationReport, bool> which)
    {
        lock (reports) return reports.Count(which);
    }

    private static GenerationReport Single(List<GenerationReport> reports, Func<GenerationReport, bool> which)
    {
        // The report comes from the worker as the request ends, just before the handler answers.
        SpinWait.SpinUntil(() => Count(reports, which) > 0, TimeSpan.FromSeconds(30));
        lock (reports) return reports.Single(which);
    }
}
