using System.Text.Json;
using System.Text.Json.Nodes;

namespace Specialist.Training;

/// <summary>
/// Where training stands, saved with every checkpoint as <c>trainer_state.json</c>: with the weights and the optimiser
/// state it is everything a resumed run needs to continue exactly.
/// </summary>
/// <param name="Step">Optimiser steps done.</param>
/// <param name="Epoch">The epoch of the next micro-batch (0-based).</param>
/// <param name="BatchInEpoch">The index of the next micro-batch in that epoch's order.</param>
/// <param name="Tokens">Source and target tokens trained on so far.</param>
/// <param name="ElapsedSeconds">Training wall time so far, over all sessions.</param>
/// <param name="TorchRngState">The state of libtorch's default generator (dropout draws from it).</param>
/// <param name="Evaluations">Every evaluation so far, for model selection.</param>
/// <param name="ReplayEpoch">The replay set's epoch of its next micro-batch (0 when the run replays none).</param>
/// <param name="ReplayBatchInEpoch">The index of that micro-batch in the replay set's epoch order.</param>
/// <remarks>
/// The data order needs no saved generator: each epoch's order is drawn afresh from (seed, epoch), so the position
/// (<see cref="Epoch"/>, <see cref="BatchInEpoch"/>) is its whole state; likewise the replay set's, and which
/// micro-batches replay is a function of (seed, step) (<see cref="ReplayMix"/>).
/// </remarks>
internal sealed record TrainerState(long Step, int Epoch, int BatchInEpoch, long Tokens, double ElapsedSeconds, byte[] TorchRngState,
    IReadOnlyList<EvalRecord> Evaluations, int ReplayEpoch = 0, int ReplayBatchInEpoch = 0)
{
    public const string FileName = "trainer_state.json";
    private const string FormatName = "specialist-trainer-state/1";

    public string ToJson() => new JsonObject
    {
        ["format"] = FormatName,
        ["step"] = Step,
        ["epoch"] = Epoch,
        ["batch_in_epoch"] = BatchInEpoch,
        ["replay_epoch"] = ReplayEpoch,
        ["replay_batch_in_epoch"] = ReplayBatchInEpoch,
        ["tokens"] = Tokens,
        ["elapsed_s"] = ElapsedSeconds,
        ["torch_rng_state"] = Convert.ToBase64String(TorchRngState),
        ["evaluations"] = new JsonArray([.. Evaluations.Select(e => (JsonNode)MetricsLog.ToJson(e))]),
    }.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n";

    public static TrainerState Read(string path)
    {
        JsonNode root;
        try
        {
            root = JsonNode.Parse(File.ReadAllText(path)) ?? throw new DataFormatException(path, "top level", null, "is empty");
        }
        catch (JsonException e)
        {
            throw new DataFormatException(path, $"line {e.LineNumber + 1}", null, "is not valid JSON: " + e.Message);
        }
        if (root["format"]?.GetValue<string>() != FormatName)
            throw new DataFormatException(path, "top level", "format", $"is {root["format"]?.ToJsonString() ?? "missing"}, expected \"{FormatName}\"");
        T Field<T>(string key) => root[key] is JsonValue v && v.TryGetValue<T>(out var value) ? value
            : throw new DataFormatException(path, "top level", key, $"is {root[key]?.ToJsonString() ?? "missing"}");
        int ReplayField(string key) => root[key] is null ? 0 : Field<int>(key); // absent in states saved before replay existed
        return new TrainerState(
            Field<long>("step"), Field<int>("epoch"), Field<int>("batch_in_epoch"), Field<long>("tokens"), Field<double>("elapsed_s"),
            Convert.FromBase64String(Field<string>("torch_rng_state")),
            [.. (root["evaluations"] as JsonArray ?? throw new DataFormatException(path, "top level", "evaluations", "is missing"))
                .Select(e => MetricsLog.EvalFromJson(e!, path))],
            ReplayField("replay_epoch"), ReplayField("replay_batch_in_epoch"));
    }
}
