using System.Globalization;
using Specialist.Models;
using TorchSharp.Modules;

namespace Specialist.Training;

/// <summary>
/// The checkpoints of a run, <c>RUN/checkpoints/step-NNNNNN/</c>: the model in Hugging Face layout (config.json,
/// model.safetensors, spiece.model: loadable by generate, serve and eval), <c>optimizer.bin</c> (TorchSharp's AdamW
/// state: per parameter the step count, exp_avg and exp_avg_sq) and <c>trainer_state.json</c> (<see cref="TrainerState"/>).
/// A checkpoint is written into a hidden temporary folder and renamed into place when complete, and renamed away before it
/// is deleted (<see cref="AtomicFolder"/>), so a folder named <c>step-NNNNNN</c> is always whole, whenever the process dies.
/// </summary>
internal static class RunCheckpoints
{
    public const string FolderName = "checkpoints";
    public const string OptimizerFileName = "optimizer.bin";
    private const string Prefix = "step-";

    /// <summary>The checkpoint folder of <paramref name="step"/>, relative to the run folder (<c>checkpoints/step-000040</c>).</summary>
    public static string RelativePath(long step) => $"{FolderName}/{Prefix}{step:D6}";

    /// <summary>Writes a checkpoint of <paramref name="state"/>'s step and returns its relative path.</summary>
    public static string Save(string runDirectory, StudentModel model, AdamW optimizer, TrainerState state, string tokenizerPath)
    {
        var relative = RelativePath(state.Step);
        var final = Path.Combine(runDirectory, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(final)!);
        AtomicFolder.Delete(final);
        AtomicFolder.Write(final, temp =>
        {
            model.Save(temp, tokenizerPath);
            AtomicFile.Write(Path.Combine(temp, OptimizerFileName), stream =>
            {
                using var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true);
                optimizer.save_state_dict(writer);
            });
            AtomicFile.WriteText(Path.Combine(temp, TrainerState.FileName), state.ToJson());
        });
        return relative;
    }

    /// <summary>Restores the optimiser state a checkpoint holds into <paramref name="optimizer"/> (built on the checkpoint's model).</summary>
    public static void LoadOptimizer(string checkpointDirectory, AdamW optimizer)
    {
        var path = Path.Combine(checkpointDirectory, OptimizerFileName);
        if (!File.Exists(path)) throw new SpecialistException($"checkpoint {checkpointDirectory} has no {OptimizerFileName}: it cannot be resumed");
        try
        {
            optimizer.load_state_dict(path);
        }
        catch (Exception e) when (e is InvalidDataException or ArgumentException or EndOfStreamException or IOException)
        {
            throw new SpecialistException($"{path}: not the optimiser state of this model ({e.Message})");
        }
    }

    /// <summary>The complete checkpoints of a run by step, oldest first.</summary>
    public static IReadOnlyList<(long Step, string Relative)> List(string runDirectory)
    {
        var folder = Path.Combine(runDirectory, FolderName);
        if (!Directory.Exists(folder)) return [];
        return [.. Directory.EnumerateDirectories(folder, Prefix + "*")
            .Select(d => Path.GetFileName(d))
            .Select(name => (Ok: long.TryParse(name[Prefix.Length..], NumberStyles.None, CultureInfo.InvariantCulture, out var step), Step: step, Name: name))
            .Where(c => c.Ok && File.Exists(Path.Combine(folder, c.Name, TrainerState.FileName)))
            .Select(c => (c.Step, $"{FolderName}/{c.Name}"))
            .OrderBy(c => c.Step)];
    }

    /// <summary>Removes the checkpoints that are neither among the last <paramref name="keepLast"/> nor in <paramref name="selected"/>.</summary>
    public static void Prune(string runDirectory, int keepLast, IEnumerable<string> selected)
    {
        var all = List(runDirectory);
        var keep = all.TakeLast(keepLast).Select(c => c.Relative).Concat(selected).ToHashSet(StringComparer.Ordinal);
        foreach (var (_, relative) in all)
            if (!keep.Contains(relative)) AtomicFolder.Delete(Path.Combine(runDirectory, relative));
    }

    /// <summary>Removes what a killed run left half-written or half-deleted among its checkpoints.</summary>
    public static void RemoveIncomplete(string runDirectory)
    {
        var folder = Path.Combine(runDirectory, FolderName);
        if (Directory.Exists(folder)) AtomicFolder.RemoveLeftovers(folder);
    }
}
