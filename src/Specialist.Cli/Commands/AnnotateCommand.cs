using System.Globalization;
using System.Text;
using System.Text.Json;
using Spectre.Console;
using Specialist.Alignment;
using Specialist.Data;
using Specialist.Pipeline;
using Specialist.Prompts;
using Specialist.Teachers;

namespace Specialist.Cli.Commands;

/// <summary>
/// <c>specialist annotate</c>: samples chain-of-thought answers from an OpenAI-compatible teacher into a resumable
/// SQLite store (live, or through Batch API files), keeping per-token top-k log-probs and a kept flag (answer = gold).
/// </summary>
internal static class AnnotateCommand
{
    /// <summary>The defaults, which live in the library (<see cref="RunTeacher.Defaults"/>).</summary>
    private static RunTeacher D => RunTeacher.Defaults;

    private static string Num(double value) => value.ToString(CultureInfo.InvariantCulture);

    private static readonly string Usage =
        "usage: specialist annotate --endpoint URL --model NAME --set SET --samples K --store FILE.db\n" +
        $"         [--limit N] [--temperature {Num(D.Temperature)}] [--top-p {Num(D.TopP)}] [--max-tokens {D.MaxTokens}] [--top-logprobs {D.TopLogprobs}] [--seed S] [--prompt-file F]\n" +
        $"         [--api completions|chat] [--stop S]... [--samples-per-request M] [--questions-per-request {D.QuestionsPerRequest}] [--concurrency {D.Concurrency}]\n" +
        $"         [--timeout {Num(D.Timeout)}] [--max-retries {D.MaxRetries}] [--price IN,OUT] [--include-dev] [--data-root DIR] [custom set options] [--json]\n" +
        "       specialist annotate ... --batch-export FILE.jsonl     write the missing work as an OpenAI Batch API input file\n" +
        "       specialist annotate ... --batch-import RESULTS.jsonl  read a Batch API output file into the store\n" +
        "  --endpoint   the base URL including /v1 (default: $OPENAI_BASE_URL); the key is read from $OPENAI_API_KEY\n" +
        "  --prompt-file  default: the paper's teacher prompt, <data root>/prompts/prompt_complex.txt; each query is the prompt,\n" +
        "                 then \"\\nQuestion: <q>\\nLet's think step by step\", or, if the file holds {question}, the file with the\n" +
        "                 question in its place (e.g. a zero-shot \"Q: {question}\\nLet's think step by step\")\n" +
        "  --seed       sends each request a seed derived from S, the question and the sample index, so a teacher that\n" +
        "               honours seeds (OpenAI best effort, vLLM, specialist serve) draws the same samples again; a store keeps one seed\n" +
        "  --stop       repeatable, \\n and \\t understood; default \"\\n\\n\" for completions, none for chat; 'none' for none\n" +
        "  --samples-per-request  the API's n per request (default: K, at most 16); the prompt is billed once per request\n" +
        "  --questions-per-request  questions sent in one completions request (a prompt array); with --seed, a teacher that\n" +
        "               batches (specialist serve) decodes each group together, fixed by the question order, so it stays exact\n" +
        "  --price      dollars per million prompt and completion tokens, e.g. 0.15,0.60 (cost recorded per request)\n" +
        "  --include-dev  keep the 200 GSM8K dev items (left out of gsm8k-train by default)\n" +
        "Running the same command again skips the work already stored and retries failed requests.\n" +
        "--json prints {\"requested\", \"completed\", \"failed\", \"samples\", \"kept\", \"kept_rate\", ...}: requested/completed/failed\n" +
        "count this run's requests; samples/kept count everything stored for the selected questions.";

    public static async Task<int> RunAsync(string[] args)
    {
        var parsed = CommandArgs.Parse(args, "json", "help", "include-dev");
        if (parsed.Flag("help"))
        {
            Console.WriteLine(Usage);
            return 0;
        }
        var json = parsed.Flag("json");
        var setName = parsed.Require("set");
        var dataOptions = DataArgs.Read(parsed, setName);
        var teacher = parsed.Require("model");
        var storePath = parsed.Require("store");
        var samples = parsed.GetInt("samples") ?? throw new UsageException("missing required option --samples");
        var samplesPerRequest = parsed.GetInt("samples-per-request", (D with { Samples = samples }).RequestSamples);
        var questionsPerRequest = parsed.GetInt("questions-per-request", D.QuestionsPerRequest);
        var limit = parsed.GetInt("limit");
        var api = parsed.Get("api", AnnotationConfig.ApiName(D.Api), AnnotationConfig.ParseApi);
        var temperature = parsed.GetDouble("temperature", D.Temperature);
        var topP = parsed.GetDouble("top-p", D.TopP);
        var maxTokens = parsed.GetInt("max-tokens", D.MaxTokens);
        var topLogprobs = parsed.GetInt("top-logprobs", D.TopLogprobs);
        var seed = parsed.GetInt("seed");
        var stops = parsed.GetAll("stop");
        var promptFile = parsed.Get("prompt-file");
        TeacherPrice? price = parsed.Get("price") is { } p ? parsed.Get("price", p, TeacherPrice.Parse) : null;
        var includeDev = parsed.Flag("include-dev");
        var batchExport = parsed.Get("batch-export");
        var batchImport = parsed.Get("batch-import");
        var endpointText = parsed.Get("endpoint");
        var concurrency = parsed.GetInt("concurrency", D.Concurrency);
        var timeout = parsed.GetDouble("timeout", D.Timeout);
        var maxRetries = parsed.GetInt("max-retries", D.MaxRetries);
        parsed.EnsureAllUsed();
        if (batchExport is not null && batchImport is not null) throw new UsageException("give --batch-export or --batch-import, not both");
        if (limit is < 1) throw new UsageException("--limit must be at least 1");
        if (samples < 1 || samplesPerRequest < 1 || questionsPerRequest < 1)
            throw new UsageException("--samples, --samples-per-request and --questions-per-request must be at least 1");
        if (questionsPerRequest > 1 && (api != TeacherApi.Completions || batchExport is not null || batchImport is not null))
            throw new UsageException("--questions-per-request needs the completions API and live requests (chat and Batch API files take one question per request)");
        if (concurrency < 1 || maxRetries < 0) throw new UsageException("--concurrency must be at least 1 and --max-retries at least 0");

        var promptTemplate = promptFile is null
            ? EvaluationPrompts.ReadPromptFile(dataOptions.Root, EvaluationPrompts.TeacherFile)
            : File.Exists(promptFile) ? File.ReadAllText(promptFile) : throw new SpecialistException($"prompt file not found: {Path.GetFullPath(promptFile)}");
        var config = new AnnotationConfig(teacher, api, AnnotationConfig.HashPrompt(promptTemplate), temperature, topP, maxTokens, topLogprobs,
            stops.Count == 0 ? AnnotationConfig.DefaultStop(api) : stops is ["none"] ? [] : [.. stops.Select(Unescape)], seed);
        try
        {
            config.Validate();
        }
        catch (SpecialistException e)
        {
            throw new UsageException(e.Message);
        }

        var problems = SelectProblems(setName, dataOptions, includeDev, limit, json);
        var job = new AnnotationJob(setName, problems, promptTemplate, config, samples, samplesPerRequest, price) { QuestionsPerRequest = questionsPerRequest };
        using var store = AnnotationStore.Open(storePath, create: true);

        if (batchExport is not null) return PrintExport(BatchFiles.Export(store, job, batchExport), batchExport, json);
        if (batchImport is not null) return PrintImport(BatchFiles.Import(store, job, batchImport), json);

        var endpoint = TeacherClientOptions.ParseEndpoint(endpointText ?? Environment.GetEnvironmentVariable("OPENAI_BASE_URL")
            ?? throw new UsageException("missing --endpoint (or $OPENAI_BASE_URL): the teacher's base URL including /v1"));
        if (!(timeout > 0)) throw new UsageException("--timeout must be a positive number of seconds");
        using var client = new TeacherClient(new TeacherClientOptions(endpoint, Environment.GetEnvironmentVariable("OPENAI_API_KEY"), TimeSpan.FromSeconds(timeout), maxRetries));
        using var stop = new StopSignals("annotate: stopping the requests in flight (signal again to quit at once)");
        try
        {
            var summary = json
                ? await AnnotationRunner.RunAsync(store, client, job, concurrency, null, stop.Token)
                : await RunWithProgressAsync(store, client, job, concurrency, stop.Token);
            return PrintSummary(summary, json);
        }
        catch (OperationCanceledException) when (stop.Requested)
        {
            Console.Error.WriteLine("interrupted: every answered request is stored; run the same command again to resume");
            return 130;
        }
    }

    /// <summary>The set's problems, without GSM8K's dev items unless asked, then the first <paramref name="limit"/>.</summary>
    private static IReadOnlyList<Problem> SelectProblems(string setName, DataOptions options, bool includeDev, int? limit, bool json)
    {
        var heldOut = setName == "gsm8k-train" && !includeDev ? DistillSetRequest.DefaultDevSet : null;
        var problems = ProblemSets.LoadWithout(setName, heldOut, options);
        if (heldOut is not null && !json) Console.Error.WriteLine($"left out the {ProblemSets.Load(heldOut, options).Count} GSM8K dev items (--include-dev keeps them)");
        return [.. limit is { } n ? problems.Take(n) : problems];
    }

    private static async Task<AnnotationSummary> RunWithProgressAsync(AnnotationStore store, TeacherClient client, AnnotationJob job, int concurrency, CancellationToken cancellation)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        AnnotationSummary? summary = null;
        await console.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .StartAsync(async context =>
            {
                var task = context.AddTask("annotating", maxValue: 1);
                var progress = new Progress<AnnotationProgress>(p =>
                {
                    task.MaxValue = Math.Max(1, p.Total);
                    task.Value = p.Done;
                    var kept = p.NewSamples == 0 ? "-" : Percent((double)p.NewKept / p.NewSamples);
                    task.Description = Markup.Escape(string.Create(CultureInfo.InvariantCulture,
                        $"{p.Done}/{p.Total} requests · {p.Failed} failed · kept {kept} · {p.TokensPerSecond:F0} tok/s"));
                });
                summary = await AnnotationRunner.RunAsync(store, client, job, concurrency, progress, cancellation);
                task.Value = task.MaxValue;
            });
        return summary!;
    }

    /// <summary>Prints what the run did; exits 1 when every request failed (nothing was annotated, so it did not work).</summary>
    private static int PrintSummary(AnnotationSummary s, bool json)
    {
        var allFailed = s.Requested > 0 && s.Completed == 0;
        int Done()
        {
            if (!allFailed) return 0;
            Console.Error.WriteLine($"error: all {s.Requested} requests failed (the first: {s.FirstError}); check the endpoint and the model");
            return 1;
        }
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                requested = s.Requested,
                completed = s.Completed,
                failed = s.Failed,
                samples = s.Samples,
                kept = s.Kept,
                kept_rate = s.KeptRate,
                new_samples = s.NewSamples,
                prompt_tokens = s.PromptTokens,
                completion_tokens = s.CompletionTokens,
                cost = s.Cost,
                elapsed_s = Math.Round(s.Elapsed.TotalSeconds, 3),
            }));
            return Done();
        }
        var table = new Table().AddColumns("annotation", "").HideHeaders();
        table.Columns[1].RightAligned();
        table.AddRow("requests sent", Int(s.Requested));
        table.AddRow("completed", Int(s.Completed));
        table.AddRow("failed", Int(s.Failed));
        table.AddRow("new samples", Int(s.NewSamples));
        table.AddRow("samples (selected questions)", Int(s.Samples));
        table.AddRow("kept (answer = gold)", $"{Int(s.Kept)} ({Percent(s.KeptRate)})");
        table.AddRow("tokens in / out", $"{Int(s.PromptTokens)} / {Int(s.CompletionTokens)}");
        table.AddRow("cost", s.Cost is { } c ? "$" + c.ToString("F6", CultureInfo.InvariantCulture) : "-");
        table.AddRow("time", s.Elapsed.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture) + " s");
        AnsiConsole.Write(table);
        if (s.Failed > 0) Console.Error.WriteLine($"{s.Failed} requests failed (reasons in the store's requests.error); run the same command again to retry them");
        return Done();
    }

    private static int PrintExport(BatchExportSummary s, string path, bool json)
    {
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new { requests = s.Requests, samples = s.Samples, file = Path.GetFullPath(path), over_limit = s.OverLimit }));
            return 0;
        }
        Console.WriteLine($"wrote {s.Requests} requests ({s.Samples} samples) to {Path.GetFullPath(path)}");
        if (s.OverLimit) Console.Error.WriteLine($"note: one OpenAI batch takes at most {BatchFiles.MaxRequestsPerBatch} requests; split the file or use --limit");
        return 0;
    }

    private static int PrintImport(BatchImportSummary s, bool json)
    {
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                lines = s.Lines,
                completed = s.Completed,
                failed = s.Failed,
                already_completed = s.AlreadyCompleted,
                unknown = s.Unknown,
                new_samples = s.NewSamples,
                new_kept = s.NewKept,
            }));
            return 0;
        }
        Console.WriteLine($"{s.Lines} results: {s.Completed} completed ({s.NewSamples} new samples, {s.NewKept} kept), {s.Failed} failed, " +
                          $"{s.AlreadyCompleted} already stored, {s.Unknown} not exported from this store");
        return 0;
    }

    /// <summary>Reads <c>\n</c>, <c>\t</c> and <c>\\</c> in a stop sequence given on the command line.</summary>
    private static string Unescape(string text)
    {
        var result = new StringBuilder(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '\\' && i + 1 < text.Length && text[i + 1] is 'n' or 't' or '\\')
            {
                result.Append(text[++i] switch { 'n' => '\n', 't' => '\t', _ => '\\' });
                continue;
            }
            result.Append(text[i]);
        }
        return result.ToString();
    }

    private static string Int(long n) => n.ToString("N0", CultureInfo.InvariantCulture);

    private static string Percent(double fraction) => (100 * fraction).ToString("F1", CultureInfo.InvariantCulture) + "%";
}
