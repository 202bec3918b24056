using System.Text.Json;
using System.Text.Json.Nodes;
using Specialist.Data;

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
        var s = JsonSection.ReadFile(path);
        if (s.String("format") != FormatName) throw s.Error("format", $"is {s.Node["format"]?.ToJsonString() ?? "missing"}, expected \"{FormatName}\"");
        T Required<T>(string key, Func<string, T?> read) where T : struct => read(key) ?? throw s.Error(key, "is missing");
        byte[] rngState;
        try
        {
            rngState = Convert.FromBase64String(s.String("torch_rng_state") ?? throw s.Error("torch_rng_state", "is missing"));
        }
        catch (FormatException)
        {
            throw s.Error("torch_rng_state", "is not base64");
        }
        var evaluations = s.Node["evaluations"] as JsonArray ?? throw s.Error("evaluations", "is missing or not an array");
        return new TrainerState(
            Required("step", s.Long), Required("epoch", s.Int), Required("batch_in_epoch", s.Int), Required("tokens", s.Long), Required("elapsed_s", s.Double),
            rngState, [.. evaluations.Select((e, i) => e is JsonObject
                ? MetricsLog.ReadEval(new JsonRecord(path, "evaluations", i, JsonSerializer.SerializeToElement(e)))
                : throw s.Error("evaluations", $"holds {e?.ToJsonString() ?? "null"}, not an evaluation object"))],
            // Absent in states saved before replay existed.
            s.Int("replay_epoch") ?? 0, s.Int("replay_batch_in_epoch") ?? 0);
    }
}
