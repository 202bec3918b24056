using System.Security.Cryptography;
using Specialist.Alignment;
using Specialist.Models;
using Specialist.Prompts;
using Specialist.Tokenization;

namespace Specialist.Training;

/// <summary>
/// What a run trains on: the examples of a distillation set, cut afresh every epoch into single-format micro-batches of
/// the run's per-format sizes and shuffled (the set's own plan rule, <c>MicroBatchPlan</c>, seeded with (seed, epoch)),
/// so that any epoch's order can be redrawn exactly when a run resumes. Examples are read from disk as micro-batches
/// are consumed.
/// </summary>
internal sealed class TrainingData : IDisposable
{
    private readonly IReadOnlyDictionary<TrainingFormat, int> _counts;
    private readonly IReadOnlyDictionary<TrainingFormat, int> _sizes;
    private readonly Func<DistillMicroBatch, IReadOnlyList<DistillExample>> _read;
    private readonly ulong _seed;
    private readonly IDisposable? _owner;

    /// <param name="counts">Examples per format trained on.</param>
    /// <param name="sizes">Micro-batch size per format.</param>
    /// <param name="read">Reads a micro-batch's examples.</param>
    /// <param name="seed">The run's seed.</param>
    /// <param name="owner">What to dispose with the data (the open set).</param>
    public TrainingData(IReadOnlyDictionary<TrainingFormat, int> counts, IReadOnlyDictionary<TrainingFormat, int> sizes,
        Func<DistillMicroBatch, IReadOnlyList<DistillExample>> read, ulong seed, IDisposable? owner = null)
    {
        _counts = counts;
        _sizes = sizes;
        _read = read;
        _seed = seed;
        _owner = owner;
        PerEpoch = counts.Sum(c => (c.Value + sizes[c.Key] - 1) / sizes[c.Key]);
    }

    /// <summary>Micro-batches per epoch.</summary>
    public int PerEpoch { get; }

    /// <summary>The formats trained on, by name, in the set's order.</summary>
    public IReadOnlyList<string> FormatNames => [.. DistillFormats.All.Where(_counts.ContainsKey).Select(DistillFormats.Name)];

    /// <summary>The micro-batch size of each format trained on, by name.</summary>
    public IReadOnlyDictionary<string, int> BatchSizes => _sizes.Where(s => _counts.ContainsKey(s.Key)).ToDictionary(s => DistillFormats.Name(s.Key), s => s.Value, StringComparer.Ordinal);

    /// <summary>Epoch <paramref name="epoch"/>'s micro-batches in its order; examples are read as the sequence is consumed.</summary>
    public IEnumerable<TrainingMicroBatch> EpochOrder(int epoch) =>
        MicroBatchPlan.Create(_counts, _sizes, EpochSeed(_seed, epoch)).Select(b => new TrainingMicroBatch(b.Format, _read(b)));

    /// <summary>The seed of an epoch's plan: SplitMix64 of seed + epoch × the golden gamma, a distinct stream per epoch.</summary>
    internal static ulong EpochSeed(ulong seed, int epoch) => SplitMix64.At(seed, (ulong)epoch);

    /// <summary>
    /// Opens the distillation set <c>config.Data</c> for <c>config.Student</c>: the formats <c>config.Formats</c> names
    /// (all the set holds when empty), micro-batches of <c>config.BatchSize</c> (the set's sizes where it names none).
    /// Fails when the set was encoded with another tokenizer than the student's.
    /// </summary>
    public static TrainingData Open(TrainingConfig config) => Open(config.Data, config, config.Formats, config.BatchSize);

    /// <summary>
    /// Opens the replay set <c>config.Replay</c> for <c>config.Student</c>, null when the run replays none: every format
    /// it holds, in its own micro-batch sizes (<c>config.BatchSize</c> sizes the main set). Fails as <see cref="Open(TrainingConfig)"/>.
    /// </summary>
    public static TrainingData? OpenReplay(TrainingConfig config) =>
        config.Replay.Length == 0 ? null : Open(config.Replay, config, [], new Dictionary<string, int>());

    private static TrainingData Open(string path, TrainingConfig config, IReadOnlyList<string> formats, IReadOnlyDictionary<string, int> batchSizes)
    {
        var set = DistillSet.Open(path);
        try
        {
            var manifest = set.Manifest;
            // The tokenizer file's bytes identify the tokenizer: the set records the SHA-256 of the file it was encoded with.
            var tokenizerFile = Tokenizers.ModelTokenizerFile(config.Student);
            var sha = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(tokenizerFile)));
            if (sha != manifest.TokenizerSha256)
                throw new SpecialistException($"distillation set {set.Directory} was encoded with another tokenizer (sha256 {manifest.TokenizerSha256[..12]}…) " +
                    $"than the student {config.Student} ({Path.GetFileName(tokenizerFile)} sha256 {sha[..12]}…): build the set with --student {config.Student}");
            var rule = StudentEncoding.Read(config.Student, Tokenizers.LoadFromModelFolder(config.Student)).Name;
            if ((manifest.StudentPrompt ?? StudentEncoding.T5Name) != rule)
                throw new SpecialistException($"distillation set {set.Directory} holds prompts and targets written for a '{manifest.StudentPrompt ?? StudentEncoding.T5Name}' student " +
                    $"(manifest.json: field 'student_prompt'), but the student {config.Student} writes them as '{rule}': build the set with --student {config.Student}");
            var wanted = formats.Count == 0 ? set.Formats.ToHashSet() : formats.Select(DistillFormats.Parse).ToHashSet();
            var missing = wanted.Where(f => set.Count(f) == 0).Select(DistillFormats.Name).ToList();
            if (missing.Count > 0)
                throw new SpecialistException($"distillation set {set.Directory} holds no {string.Join(", ", missing)} examples (it holds {string.Join(", ", set.Formats.Select(DistillFormats.Name))})");
            var counts = wanted.ToDictionary(f => f, set.Count);
            var sizes = wanted.ToDictionary(f => f, f =>
                batchSizes.TryGetValue(DistillFormats.Name(f), out var size) || batchSizes.TryGetValue("*", out size)
                    ? size
                    : manifest.Formats.First(i => i.Name == DistillFormats.Name(f)).MicroBatchSize);
            return new TrainingData(counts, sizes, set.Read, unchecked((ulong)config.Seed), set);
        }
        catch
        {
            set.Dispose();
            throw;
        }
    }

    public void Dispose() => _owner?.Dispose();
}
