using System.CommandLine;
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
internal sealed class AnnotateCommand
{
    /// <summary>The defaults, which live in the library (<see cref="RunTeacher.Defaults"/>).</summary>
    private static RunTeacher D => RunTeacher.Defaults;

    private readonly Option<string> _endpoint = CliOptions.Text("--endpoint", "URL", "the teacher's base URL including /v1 (default: $OPENAI_BASE_URL); the key is read from $OPENAI_API_KEY");
    private readonly Option<string> _model = CliOptions.Text("--model", "NAME", "the teacher model", required: true);
    private readonly Option<string> _set = CliOptions.Text("--set", "SET", "the questions' set", required: true);
    private readonly Option<int?> _samples = CliOptions.OptionalInt("--samples", "K", "chains of thought per question", required: true);
    private readonly Option<string> _store = CliOptions.Text("--store", "FILE.db", "the annotation store (created when missing; docs/annotation-store.md): running the same command again skips the work already stored and retries failed requests", required: true);
    private readonly Option<int?> _limit = CliOptions.OptionalInt("--limit", "N", "the first N questions only");
    private readonly Option<double> _temperature = CliOptions.Number("--temperature", "T", "sampling temperature", D.Temperature);
    private readonly Option<double> _topP = CliOptions.Number("--top-p", "P", "nucleus sampling's mass", D.TopP);
    private readonly Option<int> _maxTokens = CliOptions.Int("--max-tokens", "N", "the most tokens per chain of thought", D.MaxTokens);
    private readonly Option<int> _topLogprobs = CliOptions.Int("--top-logprobs", "N", "log-probs kept per token", D.TopLogprobs);
    private readonly Option<int?> _seed = CliOptions.OptionalInt("--seed", "S",
        "sends each request a seed derived from S, the question and the sample index, so a teacher that honours seeds (OpenAI best effort, vLLM, " +
        "specialist serve) draws the same samples again; a store keeps one seed");
    private readonly Option<string> _promptFile = CliOptions.Text("--prompt-file", "F",
        "default: the paper's teacher prompt, <data root>/prompts/prompt_complex.txt; each query is the prompt, then \"\\nQuestion: <q>\\nLet's think " +
        "step by step\", or, if the file holds {question}, the file with the question in its place (e.g. a zero-shot \"Q: {question}\\nLet's think step by step\")");
    private readonly ParsedOption<TeacherApi> _api = new("--api", AnnotationConfig.ParseApi, "completions|chat", "the teacher's API", AnnotationConfig.ApiName(D.Api));
    private readonly Option<string[]> _stop = CliOptions.Repeated("--stop", "S",
        "a stop sequence, repeatable, \\n and \\t understood; default \"\\n\\n\" for completions, none for chat; 'none' for none");
    private readonly Option<int?> _samplesPerRequest = CliOptions.OptionalInt("--samples-per-request", "M",
        "the API's n per request (default: K, at most 16); the prompt is billed once per request");
    private readonly Option<int> _questionsPerRequest = CliOptions.Int("--questions-per-request", "N",
        "questions sent in one completions request (a prompt array); with --seed, a teacher that batches (specialist serve) decodes each group " +
        "together, fixed by the question order, so it stays exact", D.QuestionsPerRequest);
    private readonly Option<int> _concurrency = CliOptions.Int("--concurrency", "N", "requests in flight at once", D.Concurrency);
    private readonly Option<double> _timeout = CliOptions.Number("--timeout", "SECONDS", "a request's time limit", D.Timeout);
    private readonly Option<int> _maxRetries = CliOptions.Int("--max-retries", "N", "retries of a failed request", D.MaxRetries);
    private readonly ParsedOption<TeacherPrice> _price = new("--price", TeacherPrice.Parse, "IN,OUT",
        "dollars per million prompt and completion tokens, e.g. 0.15,0.60 (cost recorded per request)");
    private readonly Option<bool> _includeDev = CliOptions.Flag("--include-dev", "keep the 200 GSM8K dev items (left out of gsm8k-train by default)");
    private readonly Option<string> _batchExport = CliOptions.Text("--batch-export", "FILE.jsonl", "write the missing work as an OpenAI Batch API input file");
    private readonly Option<string> _batchImport = CliOptions.Text("--batch-import", "RESULTS.jsonl", "read a Batch API output file into the store");
    private readonly Option<bool> _json = CliOptions.Json(
        "print {\"requested\", \"completed\", \"failed\", \"samples\", \"kept\", \"kept_rate\", ...}: requested/completed/failed count this run's " +
        "requests; samples/kept count everything stored for the selected questions");
    private readonly DataArgs _data;

    public Command Command { get; }

    public AnnotateCommand()
    {
        Command = new Command("annotate",
            "sample teacher CoT with log-probs into a resumable SQLite store (live or Batch API)")
        {
            _endpoint, _model, _set, _samples, _store, _limit, _temperature, _topP, _maxTokens, _topLogprobs, _seed, _promptFile, _api, _stop,
            _samplesPerRequest, _questionsPerRequest, _concurrency, _timeout, _maxRetries, _price, _includeDev, _batchExport, _batchImport, _json,
        };
        _data = new DataArgs(Command);
        Command.SetAction((parsed, _) => RunAsync(parsed));
    }

    private async Task<int> RunAsync(ParseResult parsed)
    {
        var json = parsed.GetValue(_json);
        var setName = parsed.GetValue(_set)!;
        var dataOptions = _data.Read(parsed, setName);
        var teacher = parsed.GetValue(_model)!;
        var storePath = parsed.GetValue(_store)!;
        var samples = parsed.GetValue(_samples)!.Value;
        var samplesPerRequest = parsed.GetValue(_samplesPerRequest) ?? (D with { Samples = samples }).RequestSamples;
        var questionsPerRequest = parsed.GetValue(_questionsPerRequest);
        var limit = parsed.GetValue(_limit);
        var api = _api.Read(parsed);
        var stops = parsed.GetValue(_stop)!;
        var promptFile = parsed.GetValue(_promptFile);
        var price = _price.ReadOrNull(parsed);
        var batchExport = parsed.GetValue(_batchExport);
        var batchImport = parsed.GetValue(_batchImport);
        var concurrency = parsed.GetValue(_concurrency);
        var timeout = parsed.GetValue(_timeout);
        var maxRetries = parsed.GetValue(_maxRetries);
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
        var config = new AnnotationConfig(teacher, api, AnnotationConfig.HashPrompt(promptTemplate), parsed.GetValue(_temperature), parsed.GetValue(_topP),
            parsed.GetValue(_maxTokens), parsed.GetValue(_topLogprobs),
            stops.Length == 0 ? AnnotationConfig.DefaultStop(api) : stops is ["none"] ? [] : [.. stops.Select(Unescape)], parsed.GetValue(_seed));
        try
        {
            config.Validate();
        }
        catch (SpecialistException e)
        {
            throw new UsageException(e.Message);
        }

        var problems = SelectProblems(setName, dataOptions, parsed.GetValue(_includeDev), limit, json);
        var job = new AnnotationJob(setName, problems, promptTemplate, config, samples, samplesPerRequest, price) { QuestionsPerRequest = questionsPerRequest };
        using var store = AnnotationStore.Open(storePath, create: true);

        if (batchExport is not null) return PrintExport(BatchFiles.Export(store, job, batchExport), batchExport, json);
        if (batchImport is not null) return PrintImport(BatchFiles.Import(store, job, batchImport), json);

        var endpoint = TeacherClientOptions.ParseEndpoint(parsed.GetValue(_endpoint) ?? Environment.GetEnvironmentVariable("OPENAI_BASE_URL")
            ?? throw new UsageException("missing --endpoint (or $OPENAI_BASE_URL): the teacher's base URL including /v1"));
        if (!(timeout > 0)) throw new UsageException("--timeout must be a positive number of seconds");
        using var client = new TeacherClient(new TeacherClientOptions(endpoint, Environment.GetEnvironmentVariable("OPENAI_API_KEY"), TimeSpan.FromSeconds(timeout), maxRetries));
        using var stop = new StopSignals("annotate: stopping the requests in flight (signal again to quit at once)");
        try
        {
            var summary = await ProgressDisplay.RunAsync("annotate", json, display => AnnotationRunner.RunAsync(store, client, job, concurrency,
                new Progress<AnnotationProgress>(p => display.Report("annotating", Describe(p), (double)p.Done / Math.Max(1, p.Total))), stop.Token),
                plainStep: 0.05);
            return PrintSummary(summary, json);
        }
        catch (OperationCanceledException) when (stop.Requested)
        {
            Console.Error.WriteLine("interrupted: every answered request is stored; run the same command again to resume");
            return CliApp.InterruptedExitCode;
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

    /// <summary>One line of progress: requests done, failed, the share of new samples kept, the teacher's speed.</summary>
    private static string Describe(AnnotationProgress p)
    {
        var kept = p.NewSamples == 0 ? "-" : Percent((double)p.NewKept / p.NewSamples);
        return string.Create(CultureInfo.InvariantCulture, $"{p.Done}/{p.Total} requests · {p.Failed} failed · kept {kept} · {p.TokensPerSecond:F0} tok/s");
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
