using System.Buffers.Binary;
using System.Text.Json;
using Specialist.Prompts;

namespace Specialist.Alignment;

/// <summary>
/// Writes a distillation set into a fresh folder: examples appended per format, then the offset indexes, the plan and
/// the manifest. Everything goes to a temporary folder beside the target, renamed into place by <see cref="Commit"/>,
/// so an interrupted build never leaves a set that looks complete.
/// </summary>
internal sealed class DistillSetWriter : IDisposable
{
    private readonly string _target;
    private readonly string _temporary;
    private readonly Dictionary<TrainingFormat, (FileStream Stream, List<long> Offsets)> _formats = [];
    private bool _committed;

    public DistillSetWriter(string directory, IEnumerable<TrainingFormat> formats)
    {
        _target = Path.GetFullPath(directory);
        if (Directory.Exists(_target) && Directory.EnumerateFileSystemEntries(_target).Any())
            throw new SpecialistException($"{_target} already exists and is not empty; choose a new --out folder");
        if (File.Exists(_target)) throw new SpecialistException($"{_target} is a file; choose a new --out folder");
        var parent = Path.GetDirectoryName(_target)!;
        Directory.CreateDirectory(parent);
        _temporary = AtomicFile.TemporaryPath(_target);
        Directory.CreateDirectory(_temporary);
        Span<byte> version = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(version, DistillSet.FormatVersion);
        foreach (var format in formats)
        {
            var stream = new FileStream(Path.Combine(_temporary, DistillSet.ExamplesFileName(format)), FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
            stream.Write(DistillSet.ExamplesMagic);
            stream.Write(version);
            _formats[format] = (stream, [stream.Position]);
        }
    }

    /// <summary>Appends one example to its format's file; returns its index within the format.</summary>
    public int Add(TrainingFormat format, string questionId, int sampleIndex, int[] encoderIds, int[] decoderIds, SparseTargets targets)
    {
        var (stream, offsets) = _formats[format];
        stream.Write(DistillSet.EncodeExample(questionId, sampleIndex, encoderIds, decoderIds, targets));
        offsets.Add(stream.Position);
        return offsets.Count - 2;
    }

    /// <summary>How many examples of <paramref name="format"/> have been added.</summary>
    public int Count(TrainingFormat format) => _formats[format].Offsets.Count - 1;

    /// <summary>Writes the indexes, the plan and the manifest, then moves the set into place.</summary>
    public void Commit(IReadOnlyList<DistillMicroBatch> plan, DistillSetManifest manifest)
    {
        foreach (var (format, (stream, offsets)) in _formats)
        {
            stream.Flush(flushToDisk: true);
            stream.Dispose();
            var index = new byte[DistillSet.HeaderBytes + 8 * offsets.Count];
            DistillSet.IndexMagic.CopyTo(index, 0);
            BinaryPrimitives.WriteInt32LittleEndian(index.AsSpan(4), DistillSet.FormatVersion);
            for (var i = 0; i < offsets.Count; i++) BinaryPrimitives.WriteInt64LittleEndian(index.AsSpan(DistillSet.HeaderBytes + 8 * i), offsets[i]);
            File.WriteAllBytes(Path.Combine(_temporary, DistillSet.IndexFileName(format)), index);
        }
        using (var planFile = new StreamWriter(Path.Combine(_temporary, DistillSet.PlanFileName)))
        {
            foreach (var batch in plan)
                planFile.WriteLine(JsonSerializer.Serialize(new DistillSet.PlanLine(DistillFormats.Name(batch.Format), [.. batch.Examples])));
        }
        File.WriteAllText(Path.Combine(_temporary, DistillSet.ManifestFileName), JsonSerializer.Serialize(manifest, DistillSetManifest.Json) + "\n");
        if (Directory.Exists(_target)) Directory.Delete(_target); // empty, checked at the start
        Directory.Move(_temporary, _target);
        _committed = true;
    }

    public void Dispose()
    {
        if (_committed) return;
        foreach (var (stream, _) in _formats.Values) stream.Dispose();
        try
        {
            Directory.Delete(_temporary, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a leftover temporary folder is harmless, named as such, and removed with a run's leftovers.
        }
    }
}

/// <summary>
/// The plan of one epoch: each format's examples shuffled and cut into micro-batches of its size (the last one may be
/// smaller: no example is dropped), then all micro-batches shuffled together. Shuffles are Fisher–Yates driven by
/// SplitMix64 streams derived from the seed, so a plan depends only on (counts, sizes, seed).
/// </summary>
internal static class MicroBatchPlan
{
    public static List<DistillMicroBatch> Create(IReadOnlyDictionary<TrainingFormat, int> counts, IReadOnlyDictionary<TrainingFormat, int> sizes, ulong seed)
    {
        var batches = new List<DistillMicroBatch>();
        foreach (var format in DistillFormats.All)
        {
            if (!counts.TryGetValue(format, out var count) || count == 0) continue;
            var order = Shuffled(count, Stream(seed, 1 + (ulong)format));
            var size = sizes[format];
            for (var start = 0; start < count; start += size)
                batches.Add(new DistillMicroBatch(format, order[start..Math.Min(count, start + size)]));
        }
        var mix = Shuffled(batches.Count, Stream(seed, 0));
        return [.. mix.Select(i => batches[i])];
    }

    private static SplitMix64 Stream(ulong seed, ulong stream) => new(new SplitMix64(unchecked(seed ^ (stream * 0xD1B54A32D192ED03UL))).NextUInt64());

    private static int[] Shuffled(int count, SplitMix64 random)
    {
        var order = Enumerable.Range(0, count).ToArray();
        for (var i = count - 1; i > 0; i--)
        {
            var j = random.NextBelow(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }
}
