using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Specialist.Teachers;

/// <summary>What <see cref="BatchFiles.Export"/> wrote.</summary>
/// <param name="Requests">Lines written (one request each).</param>
/// <param name="Samples">Samples those requests ask for.</param>
/// <param name="OverLimit">Whether the file has more lines than one OpenAI batch accepts (<see cref="BatchFiles.MaxRequestsPerBatch"/>).</param>
public sealed record BatchExportSummary(int Requests, int Samples, bool OverLimit);

/// <summary>What <see cref="BatchFiles.Import"/> did.</summary>
/// <param name="Lines">Result lines read.</param>
/// <param name="Completed">Answered requests recorded.</param>
/// <param name="Failed">Requests the batch failed (recorded with the reason; a live run or a new batch retries them).</param>
/// <param name="AlreadyCompleted">Requests the store already had answered (left alone).</param>
/// <param name="Unknown">Lines whose <c>custom_id</c> this store never exported.</param>
/// <param name="NewSamples">Samples added.</param>
/// <param name="NewKept">Of those, kept.</param>
public sealed record BatchImportSummary(int Lines, int Completed, int Failed, int AlreadyCompleted, int Unknown, int NewSamples, int NewKept);

/// <summary>
/// The OpenAI Batch API (half the price of live calls): <see cref="Export"/> writes the missing work as a Batch API
/// input file, one request per line with the request key as <c>custom_id</c>; <see cref="Import"/> reads the results
/// file into the same store. Importing twice, or after a live run did some of the work, adds nothing twice.
/// </summary>
public static class BatchFiles
{
    /// <summary>The most requests one OpenAI batch input file may hold.</summary>
    public const int MaxRequestsPerBatch = 50_000;

    /// <summary>Writes the job's missing requests to <paramref name="path"/> and records them as pending.</summary>
    public static BatchExportSummary Export(AnnotationStore store, AnnotationJob job, string path)
    {
        job.Config.Validate();
        store.EnsureConfig(job.Config, job.PromptTemplate);
        store.AddQuestions(job.SetName, job.Problems);
        // A Batch API line answers one custom_id, so each line is one question's request.
        if (job.QuestionsPerRequest != 1) throw new SpecialistException($"questions per request is {job.QuestionsPerRequest}; Batch API files hold one question per line, use 1");
        var plan = job.Plan(store.SampleIndices()).Select(call => call.Requests[0]).ToList();
        var url = "/v1" + TeacherRequest.Path(job.Config.Api);

        var temporary = path + ".tmp";
        using (var writer = new StreamWriter(temporary, false, new UTF8Encoding(false)))
        {
            foreach (var request in plan)
            {
                var line = new JsonObject { ["custom_id"] = request.Key, ["method"] = "POST", ["url"] = url, ["body"] = request.Body(job.Config) };
                writer.Write(line.ToJsonString());
                writer.Write('\n');
            }
        }
        File.Move(temporary, path, overwrite: true);

        var runId = store.StartRun("batch-export", null, job.SetName, job.Config, job.RunParameters(new JsonObject { ["file"] = Path.GetFullPath(path) }));
        store.RecordPending(runId, plan);
        store.FinishRun(runId, plan.Count, 0, 0);
        return new BatchExportSummary(plan.Count, plan.Sum(r => r.N), plan.Count > MaxRequestsPerBatch);
    }

    /// <summary>
    /// Reads a Batch API output (or error) file: each line's <c>response.body</c> is parsed like a live answer and
    /// recorded; a line with an error, a non-200 status or a malformed body records the request as failed. Each line
    /// is committed on its own, so an interrupted import can simply be run again.
    /// </summary>
    public static BatchImportSummary Import(AnnotationStore store, AnnotationJob job, string path)
    {
        if (!File.Exists(path)) throw new SpecialistException($"batch results file {path} does not exist");
        job.Config.Validate();
        store.EnsureConfig(job.Config, job.PromptTemplate);
        var config = job.Config;
        var runId = store.StartRun("batch-import", null, job.SetName, config, job.RunParameters(new JsonObject { ["file"] = Path.GetFullPath(path) }));
        int lines = 0, completed = 0, failed = 0, already = 0, unknown = 0, newSamples = 0, newKept = 0;
        var lineNumber = 0;
        foreach (var text in File.ReadLines(path))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(text)) continue;
            lines++;
            var result = ReadResultLine(path, lineNumber, text);
            if (store.FindRequest(result.CustomId) is not { } request)
            {
                unknown++;
                continue;
            }
            TeacherCompletion? completion = null;
            var error = result.Error;
            if (error is null)
            {
                try
                {
                    completion = TeacherResponseParser.Parse(result.Body, config.Api, request.N, config.TopLogprobs);
                }
                catch (MalformedResponseException e)
                {
                    error = $"malformed response: {e.Message}";
                }
            }
            if (completion is null)
            {
                if (request.Status == "completed") already++;
                else
                {
                    store.RecordFailed(runId, request.Key, request.QuestionId, request.FirstSample, request.N, error!, 1);
                    failed++;
                }
                continue;
            }
            var gold = store.Gold(request.QuestionId) ?? throw new SpecialistException($"{store.Path}: request {request.Key} names question {request.QuestionId}, which the store lacks");
            var scored = completion.Samples.Select(s => ScoredSample.Score(s, gold)).ToList();
            var recorded = store.RecordCompleted(runId, request.Key, request.QuestionId, request.FirstSample, scored, 1,
                completion.PromptTokens, completion.CompletionTokens, job.Price?.Cost(completion.PromptTokens, completion.CompletionTokens));
            if (recorded.AlreadyCompleted) already++;
            else
            {
                completed++;
                newSamples += recorded.NewSamples;
                newKept += recorded.NewKept;
            }
        }
        store.FinishRun(runId, lines, completed, failed);
        return new BatchImportSummary(lines, completed, failed, already, unknown, newSamples, newKept);
    }

    private sealed record ResultLine(string CustomId, byte[] Body, string? Error);

    /// <summary>
    /// One Batch API output line: <c>{"custom_id", "response": {"status_code", "body"}, "error"}</c>. A line that is not
    /// JSON or has no <c>custom_id</c> is a <see cref="DataFormatException"/> (the file is not a results file); a
    /// request-level error becomes the line's error.
    /// </summary>
    private static ResultLine ReadResultLine(string path, int lineNumber, string text)
    {
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(text);
        }
        catch (JsonException e)
        {
            throw new DataFormatException(path, $"line {lineNumber}", null, $"is not JSON ({e.Message})");
        }
        if (node is not JsonObject line || line["custom_id"] is not JsonValue id || id.GetValueKind() != JsonValueKind.String)
            throw new DataFormatException(path, $"line {lineNumber}", "custom_id", "is missing (not a Batch API results line)");
        var customId = id.GetValue<string>();
        if (line["error"] is JsonObject error)
            return new ResultLine(customId, [], $"batch error: {error["code"]?.ToString() ?? "?"}: {error["message"]?.ToString() ?? "(no message)"}");
        if (line["response"] is not JsonObject response)
            return new ResultLine(customId, [], "batch result has neither a response nor an error");
        var status = response["status_code"] is JsonValue s && s.TryGetValue<int>(out var code) ? code : 0;
        var body = response["body"];
        if (status != 200)
        {
            var message = body?["error"]?["message"]?.ToString() ?? body?.ToJsonString() ?? "(no body)";
            return new ResultLine(customId, [], $"HTTP {status}: {message}");
        }
        return new ResultLine(customId, body is null ? [] : Encoding.UTF8.GetBytes(body.ToJsonString()), null);
    }
}
