using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Specialist.Pipeline;

/// <summary>
/// The run folder's bookkeeping, which the miniature and the configured run share: <c>run.json</c> (the settings the
/// folder belongs to), <c>stages.json</c> (each finished stage's seconds, so that a later call skips it) and
/// <c>run.lock</c> (held while a process runs in the folder). The stage bodies both runs have are <see cref="StageCalls"/>.
/// </summary>
/// <remarks>
/// A run survives being killed at any instant: the files and folders that stages and later calls read are written
/// whole or not at all (a temporary renamed into place: <see cref="AtomicFile"/>, <see cref="AtomicFolder"/>), the
/// append-only logs drop a torn last line, the annotation store is SQLite, a stage is recorded in <c>stages.json</c>
/// only after its body returned, and every stage body continues from whatever an earlier call left of its outputs
/// (annotation and evaluation skip what is stored, training resumes from its latest checkpoint or starts over without
/// one, the other stages write everything again, the report's figures included). The same command therefore continues
/// and finishes.
/// </remarks>
internal sealed class RunStages : IDisposable
{
    public const string SettingsFileName = "run.json";
    public const string StagesFileName = "stages.json";
    public const string LockFileName = "run.lock";

    private readonly string _output;
    private readonly JsonObject _done;
    private readonly FileStream _lock;
    private readonly Action<RunEvent>? _report;
    private readonly CancellationToken _stop;
    private readonly List<StageTiming> _timings = [];

    private RunStages(string output, JsonObject done, FileStream runLock, Action<RunEvent>? report, CancellationToken stop)
    {
        _output = output;
        _done = done;
        _lock = runLock;
        _report = report;
        _stop = stop;
    }

    /// <summary>The stages of this call so far, in order: run now, or reused from an earlier call.</summary>
    public IReadOnlyList<StageTiming> Timings => _timings;

    /// <summary>
    /// Opens the run folder <paramref name="output"/> (created if missing) for a run with <paramref name="settings"/>:
    /// a new or empty folder records them; a folder holding a run must have recorded the same, else the error is
    /// <paramref name="mismatch"/>(what it recorded, the path of <c>run.json</c>); any other folder is refused. Then it
    /// takes the folder's lock (refused while another process runs there) and removes what a killed process left
    /// half-written.
    /// </summary>
    public static RunStages Open(string output, JsonObject settings, Func<JsonNode?, string, string> mismatch, Action<RunEvent>? report, CancellationToken stop)
    {
        Directory.CreateDirectory(output);
        var path = Path.Combine(output, SettingsFileName);
        if (File.Exists(path))
        {
            var recorded = JsonSection.ReadFile(path).Node;
            if (recorded?.ToJsonString() != settings.ToJsonString()) throw new SpecialistException(mismatch(recorded, path));
        }
        else
        {
            // A process killed while it wrote run.json leaves only its temporary: the folder is still empty.
            if (Directory.EnumerateFileSystemEntries(output).Any(e => !AtomicFile.IsTemporary(Path.GetFileName(e))))
                throw new SpecialistException($"{output} is not empty and holds no run ({SettingsFileName} is missing): choose an empty or new --out");
            AtomicFile.WriteText(path, settings.ToJsonString(Indented) + "\n");
        }
        var runLock = Lock(output);
        try
        {
            AtomicFolder.RemoveLeftovers(output);
            var stages = Path.Combine(output, StagesFileName);
            var done = File.Exists(stages) ? JsonSection.ReadFile(stages).Node : new JsonObject();
            return new RunStages(output, done, runLock, report, stop);
        }
        catch
        {
            runLock.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Takes <c>run.lock</c>: on Linux .NET holds an exclusive <c>flock</c> on a file opened without sharing, which the
    /// kernel releases when the process ends, however it ends — so a killed run never leaves the folder locked, and two
    /// processes never write one run folder at once (the second would also remove the first one's temporaries).
    /// </summary>
    private static FileStream Lock(string output)
    {
        var path = Path.Combine(output, LockFileName);
        try
        {
            return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e)
        {
            throw new SpecialistException($"another process is running in {output} (it holds {path}): wait for it to end, or stop it", e);
        }
    }

    public void Dispose() => _lock.Dispose();

    /// <summary>
    /// Runs <paramref name="body"/> as <paramref name="stage"/> unless an earlier call finished it; records its seconds
    /// in <c>stages.json</c> once it returns.
    /// </summary>
    public void Run(string stage, Action body)
    {
        _stop.ThrowIfCancellationRequested();
        if (_done.TryGetPropertyValue(stage, out var done) && done is not null)
        {
            _timings.Add(new StageTiming(stage, done["seconds"]!.GetValue<double>(), Reused: true));
            _report?.Invoke(new RunEvent(stage, "done in an earlier run: reused", 1));
            return;
        }
        var clock = Stopwatch.StartNew();
        _report?.Invoke(new RunEvent(stage, "started", 0));
        body();
        var seconds = Math.Round(clock.Elapsed.TotalSeconds, 1);
        _done[stage] = new JsonObject { ["seconds"] = seconds };
        AtomicFile.WriteText(Path.Combine(_output, StagesFileName), _done.ToJsonString(Indented) + "\n");
        _timings.Add(new StageTiming(stage, seconds, Reused: false));
        _report?.Invoke(new RunEvent(stage, string.Create(CultureInfo.InvariantCulture, $"finished in {seconds:F1} s"), 1));
    }

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };
}
