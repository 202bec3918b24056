using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Specialist.Alignment;
using Specialist.Models;
using Specialist.Prompts;
using Specialist.Tokenization;
using Specialist.Training;

namespace Specialist.Pipeline;

/// <summary>
/// The miniature world's teacher: a T5 larger than every student, trained from scratch on the gold chains of thought
/// of its own split of in-distribution math problems, disjoint from the questions it annotates (math alone: its one job is math, so the whole budget goes there; a mixture-trained teacher was not compared),
/// in the zero-shot format its annotation prompt uses. It is kept in the user's cache folder, keyed by profile, seed
/// and everything the training depends on, so a second run reuses it.
/// </summary>
internal static class MiniatureTeacher
{
    // Bump when the world or the teacher's recipe changes in a way the key below does not see.
    private const int Version = 6;

    /// <summary>The cache folder: <c>$SPECIALIST_CACHE</c>, else <c>$XDG_CACHE_HOME/specialist</c>, else <c>~/.cache/specialist</c>.</summary>
    public static string CacheRoot() =>
        Environment.GetEnvironmentVariable("SPECIALIST_CACHE") is { Length: > 0 } cache ? Path.GetFullPath(cache)
        : Path.Combine(Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg ? xdg
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache"), "specialist");

    /// <summary>The teacher's folder in the cache for this world and profile.</summary>
    public static string Folder(string cacheRoot, MiniatureWorld world, RunProfile profile)
    {
        // The world's files the teacher learns from are in the key, so a change to any task's wording trains a new one.
        // The shape is spelt out field by field (as the record printed itself when the key was made), so that a new
        // property of StudentSize does not retire every cached teacher.
        var t = profile.Teacher;
        // fp32 is not spelt out: the keys made before the dtype existed stay valid for the profiles that train in fp32.
        var dtype = profile.TeacherDtype == "fp32" ? "" : $" dtype {profile.TeacherDtype}";
        var key = string.Create(CultureInfo.InvariantCulture,
            $"v{Version} StudentSize {{ Name = {t.Name}, DModel = {t.DModel}, Layers = {t.Layers}, Heads = {t.Heads} }} steps {profile.TeacherSteps} lr {profile.TeacherLr} batch {profile.CotBatch}{dtype} tokenizer {FileHash(world.TeacherTokenizer)} data {FileHash(world.SetFile(MiniatureWorld.Set(MiniatureWorld.Math, MiniatureWorld.TeacherSplit)))}");
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..12];
        return Path.Combine(cacheRoot, "teachers", $"{profile.Name}-{hash}");
    }

    private static string FileHash(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    /// <summary>Whether <paramref name="folder"/> holds a finished teacher.</summary>
    public static bool IsComplete(string folder) =>
        File.Exists(Path.Combine(folder, T5Checkpoint.ConfigFileName)) && File.Exists(Path.Combine(folder, T5Checkpoint.WeightsFileName))
        && File.Exists(Path.Combine(folder, WordLevelTokenizer.FileName));

    /// <summary>
    /// Trains the teacher into <paramref name="folder"/>: a random T5 with the teacher's tokenizer, a gold distillation
    /// set of the math training problems (zero-shot chain of thought), <see cref="RunProfile.TeacherSteps"/> steps of the
    /// training recipe; then the last checkpoint's model files move into the folder. Work happens in a sibling folder
    /// (<c>.building</c>) that survives a killed process: the random T5 and the set are each written whole or not at all,
    /// and the training run checkpoints along the way (<see cref="RunProfile.Checkpoints"/>) and resumes exactly, so the
    /// next call continues where this one died and trains the same teacher. The finished model moves into the folder
    /// last, so an interrupted build never leaves a teacher that looks finished.
    /// </summary>
    public static void Train(MiniatureWorld world, RunProfile profile, ulong seed, string folder, Action<TrainingEvent>? report, CancellationToken stop)
    {
        var work = folder + BuildingSuffix;
        Directory.CreateDirectory(work);
        var init = Path.Combine(work, "init");
        if (!Directory.Exists(init))
            AtomicFolder.Write(init, temp => T5Checkpoint.WriteRandom(profile.Teacher.Config(Tokenizers.Load(world.TeacherTokenizer).VocabularySize), temp, world.TeacherTokenizer, (long)seed));
        var data = Path.Combine(work, "gold-math");
        // The builder writes the set under a temporary name and renames it into place: the folder exists only complete.
        if (!Directory.Exists(data))
            DistillSetBuilder.Build(new DistillSetRequest(data, init, null, world.Root, [TrainingFormat.ZeroShotCot],
                new Dictionary<TrainingFormat, int> { [TrainingFormat.ZeroShotCot] = profile.CotBatch }, seed, new AlignmentOptions())
            {
                TrainSet = MiniatureWorld.Set(MiniatureWorld.Math, MiniatureWorld.TeacherSplit),
                DevSet = null,
            });
        var run = Path.Combine(work, "run");
        StageCalls.Train(new TrainingConfig
        {
            Student = init, Data = data, Out = run, Lr = profile.TeacherLr, Warmup = 100, Steps = profile.TeacherSteps, Dtype = profile.TeacherDtype,
            EvalSets = [], EvalEvery = 0, DataRoot = world.Root, Seed = (long)seed, Threads = 0, KeepLast = 1,
            SaveEvery = profile.SaveEvery(profile.TeacherSteps),
            MaxGradNorm = 1.0, WeightDecay = 0.01, // math chains of thought are short: nothing to truncate
        }, report, stop);
        var last = Path.Combine(run, RunCheckpoints.RelativePath(profile.TeacherSteps));
        // Staged inside the work folder, then renamed to the teacher's name: a kill in between leaves the staged copy for the next call.
        var staged = Path.Combine(work, "teacher");
        if (!Directory.Exists(staged))
            AtomicFolder.Write(staged, temp =>
            {
                foreach (var file in new[] { T5Checkpoint.ConfigFileName, T5Checkpoint.WeightsFileName, WordLevelTokenizer.FileName })
                    File.Copy(Path.Combine(last, file), Path.Combine(temp, file));
                File.Copy(Path.Combine(run, TrainingRecipe.MetricsFileName), Path.Combine(temp, "training-metrics.jsonl"));
            });
        // Train runs only when the folder holds no complete teacher: whatever is there (a file deleted by hand) is replaced.
        if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        Directory.Move(staged, folder);
        RemoveBuildLeftovers(folder);
    }

    /// <summary>
    /// Removes the work folder of the finished teacher in <paramref name="folder"/>: at the end of its build, and at the
    /// next reuse when the build's process died after the teacher moved into place and before the work folder was gone.
    /// </summary>
    public static void RemoveBuildLeftovers(string folder)
    {
        if (Directory.Exists(folder + BuildingSuffix)) Directory.Delete(folder + BuildingSuffix, recursive: true);
    }

    private const string BuildingSuffix = ".building";

    /// <summary>
    /// The lock file of the teacher in <paramref name="folder"/>: in the cache's <c>locks</c> folder, so the teachers
    /// folder holds teachers only. It stays after use: deleting a lock file others may have open would let two runs hold "the" lock.
    /// </summary>
    internal static string LockFile(string folder) =>
        Path.Combine(Path.GetDirectoryName(Path.GetDirectoryName(Path.GetFullPath(folder))!)!, "locks", Path.GetFileName(folder) + ".lock");

    /// <summary>
    /// Holds the teacher's cache lock until disposed: runs sharing a cache (seeds run side by side) then train one
    /// teacher, and the others wait for it and reuse it instead of training it again into the same work folder. The lock
    /// is the operating system's on an open file, so it dies with its process: a killed run never leaves it held.
    /// </summary>
    public static IDisposable Lock(string folder, Action waiting, CancellationToken stop)
    {
        var file = LockFile(folder);
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        var told = false;
        while (true)
        {
            stop.ThrowIfCancellationRequested();
            try
            {
                return new FileStream(file, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (File.Exists(file))
            {
                if (!told) waiting();
                told = true;
                stop.WaitHandle.WaitOne(TimeSpan.FromSeconds(1));
            }
        }
    }
}
