using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Specialist.Models;
using Specialist.Teachers.Serving;

namespace Specialist.Benchmarks;

/// <summary>What <see cref="ServeBenchmark.RunAsync"/> measured, for one server setting.</summary>
/// <param name="Batching">Whether concurrent requests shared generate calls.</param>
/// <param name="RequestsPerSecond">Completed requests per second of wall time.</param>
/// <param name="TokensPerSecond">Generated tokens per second.</param>
/// <param name="GenerateCalls">Generate calls the server made.</param>
/// <param name="MeanRowsPerCall">Rows (prompts × n) per generate call.</param>
public sealed record ServeFigure(bool Batching, double RequestsPerSecond, double TokensPerSecond, long GenerateCalls, double MeanRowsPerCall);

/// <summary>The result of <c>specialist bench serve</c>.</summary>
/// <param name="Model">The model's name (its folder).</param>
/// <param name="Parameters">Its parameter count.</param>
/// <param name="Threads">libtorch intra-op threads.</param>
/// <param name="Requests">Requests sent per setting.</param>
/// <param name="Concurrency">Requests in flight at once.</param>
/// <param name="MaxTokens">max_tokens of each request (temperature 0.5, top-5 log-probs, as the teacher is asked).</param>
/// <param name="Batched">With server batching.</param>
/// <param name="Unbatched">Without: one generate call per request.</param>
public sealed record ServeBenchmarkResult(string Model, long Parameters, int Threads, int Requests, int Concurrency, int MaxTokens, ServeFigure Batched, ServeFigure Unbatched)
{
    /// <summary>Batched requests/s over unbatched.</summary>
    public double Speedup => Unbatched.RequestsPerSecond > 0 ? Batched.RequestsPerSecond / Unbatched.RequestsPerSecond : 0;
}

/// <summary>
/// <c>specialist bench serve</c>: requests per second of <c>specialist serve</c> under concurrent load, with and
/// without server batching, over real HTTP on 127.0.0.1 with the same model loaded once.
/// </summary>
public static class ServeBenchmark
{
    // GSM8K-style questions, so prompts differ in length as real ones do.
    private static readonly string[] Questions =
    [
        "Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May. How many clips did Natalia sell altogether in April and May?",
        "Weng earns $12 an hour for babysitting. Yesterday, she just did 50 minutes of babysitting. How much did she earn?",
        "Betty is saving money for a new wallet which costs $100. Betty has only half of the money she needs. Her parents decided to give her $15 for that purpose, and her grandparents twice as much as her parents. How much more money does Betty need to buy the wallet?",
        "James writes a 3-page letter to 2 different friends twice a week. How many pages does he write a year?",
    ];

    /// <summary>Sends <paramref name="requests"/> completions requests, <paramref name="concurrency"/> at a time, to a server with batching and to one without.</summary>
    public static async Task<ServeBenchmarkResult> RunAsync(string modelDirectory, int requests = 64, int concurrency = 32, int maxTokens = 32, Action<string>? progress = null)
    {
        if (requests < 1 || concurrency < 1 || maxTokens < 1) throw new SpecialistException("requests, concurrency and max tokens must be positive");
        TorchRuntime.EnsureLoaded();
        using var model = ServedModel.Load(modelDirectory, null);
        var figures = new List<ServeFigure>();
        foreach (var batching in new[] { true, false })
        {
            progress?.Invoke($"{requests} requests, {concurrency} at a time, {(batching ? "with" : "without")} server batching");
            var options = new ServeOptions { ModelDirectory = modelDirectory, Port = 0, Batching = batching, MaxBatchRows = Math.Max(64, concurrency) };
            await using var server = await TeacherServer.StartAsync(options, model, ownsModel: false, CancellationToken.None);
            using var http = new HttpClient { BaseAddress = server.Url, Timeout = TimeSpan.FromMinutes(10) };
            await SendAsync(http, model.Name, 2, 2, maxTokens); // warm-up: first calls allocate and initialise
            var callsBefore = server.Queue.GenerateCalls;
            var rowsBefore = server.Queue.RowsGenerated;
            var clock = Stopwatch.StartNew();
            var tokens = await SendAsync(http, model.Name, requests, concurrency, maxTokens);
            var seconds = clock.Elapsed.TotalSeconds;
            var calls = server.Queue.GenerateCalls - callsBefore;
            figures.Add(new ServeFigure(batching, requests / seconds, tokens / seconds, calls, calls == 0 ? 0 : (double)(server.Queue.RowsGenerated - rowsBefore) / calls));
        }
        return new ServeBenchmarkResult(model.Name, model.Model.ParameterCount, TorchRuntime.Threads, requests, concurrency, maxTokens, figures[0], figures[1]);
    }

    /// <summary>Sends the requests and returns the completion tokens the server reported.</summary>
    private static async Task<long> SendAsync(HttpClient http, string model, int requests, int concurrency, int maxTokens)
    {
        long tokens = 0;
        await Parallel.ForEachAsync(Enumerable.Range(0, requests), new ParallelOptions { MaxDegreeOfParallelism = concurrency }, async (i, token) =>
        {
            var body = new JsonObject
            {
                ["model"] = model,
                ["prompt"] = "Question: " + Questions[i % Questions.Length] + "\nLet's think step by step",
                ["max_tokens"] = maxTokens,
                ["temperature"] = 0.5,
                ["logprobs"] = 5,
            };
            using var response = await http.PostAsJsonAsync("/v1/completions", body, token);
            var text = await response.Content.ReadAsStringAsync(token);
            if (!response.IsSuccessStatusCode) throw new SpecialistException($"the benchmark server answered {(int)response.StatusCode}: {text}");
            using var answer = JsonDocument.Parse(text);
            Interlocked.Add(ref tokens, answer.RootElement.GetProperty("usage").GetProperty("completion_tokens").GetInt64());
        });
        return tokens;
    }
}
