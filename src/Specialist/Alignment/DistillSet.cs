using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Win32.SafeHandles;
using Specialist.Prompts;

namespace Specialist.Alignment;

/// <summary>One format's part of a distillation set.</summary>
/// <param name="Name">ic-cot, ic-ao, zs-cot or zs-ao.</param>
/// <param name="Examples">How many examples it holds.</param>
/// <param name="MicroBatchSize">Examples per micro-batch (the last of the format's micro-batches may hold fewer).</param>
/// <param name="MicroBatches">How many micro-batches of this format the plan holds.</param>
public sealed record DistillFormatInfo(string Name, int Examples, int MicroBatchSize, int MicroBatches);

/// <summary>How the chains of thought of a set built from a store were aligned (null for a gold set).</summary>
/// <param name="Mode">paper or fast.</param>
/// <param name="Renormalize">Whether soft targets were renormalised.</param>
/// <param name="Merge">Whether whole-teacher-token merging was on.</param>
/// <param name="SoftTargets">Chain-of-thought target positions with a soft (teacher) target.</param>
/// <param name="TargetTokens">All chain-of-thought target positions (end of sequence included).</param>
public sealed record DistillAlignmentInfo(string Mode, bool Renormalize, bool Merge, long SoftTargets, long TargetTokens);

/// <summary>A distillation set's <c>manifest.json</c> (layout: docs/distill-set.md).</summary>
/// <param name="FormatVersion">The layout version (<see cref="DistillSet.FormatVersion"/>).</param>
/// <param name="Source"><c>store</c> (teacher chains of thought) or <c>gold</c> (the train set's gold rationales, one-hot).</param>
/// <param name="SourcePath">The store file, or the gold train set's name (<c>gsm8k-train</c>).</param>
/// <param name="Teacher">The store's teacher model, where known.</param>
/// <param name="StudentFolder">The student model folder whose tokenizer encoded the set.</param>
/// <param name="TokenizerSha256">SHA-256 of that folder's tokenizer file (<see cref="Tokenization.Tokenizers.ModelTokenizerFile"/>): a set only fits a student with the same tokenizer.</param>
/// <param name="VocabularySize">The tokenizer's vocabulary size (every id is below it).</param>
/// <param name="Seed">The seed of demonstration draws and of the plan's shuffles.</param>
/// <param name="Questions">Train-set questions the set covers.</param>
/// <param name="ExcludedDevQuestions">Train-set questions left out as dev questions (GSM8K's 200 by default).</param>
/// <param name="Formats">Per format: examples and micro-batches, in <see cref="DistillFormats.All"/> order.</param>
/// <param name="Alignment">How teacher targets were aligned (store sets).</param>
/// <param name="Created">UTC time of the build.</param>
public sealed record DistillSetManifest(
    int FormatVersion, string Source, string SourcePath, string? Teacher, string StudentFolder, string TokenizerSha256, int VocabularySize,
    ulong Seed, int Questions, int ExcludedDevQuestions, IReadOnlyList<DistillFormatInfo> Formats, DistillAlignmentInfo? Alignment, string Created)
{
    /// <summary>
    /// How the student writes prompts and targets (<see cref="Models.StudentEncoding.Name"/>): <c>t5</c>, <c>plain</c>,
    /// <c>chatml</c> or <c>llama3</c>; a set fits only a student with the same rule. Sets written before it was recorded
    /// have none, and were written as <c>t5</c> is.
    /// </summary>
    public string? StudentPrompt { get; init; }

    internal static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };
}

/// <summary>One training example: encoder input, decoder target and a target distribution per decoder position.</summary>
/// <param name="Format">Its format.</param>
/// <param name="QuestionId">The question (<c>gsm8k-train/17</c>, <c>synth-bbh/navigate/3</c>).</param>
/// <param name="SampleIndex">The store's sample index of its chain of thought; -1 for answer-only and gold examples.</param>
/// <param name="EncoderIds">Encoder input ids, ending with end-of-sequence.</param>
/// <param name="DecoderIds">Decoder target ids, ending with end-of-sequence.</param>
/// <param name="Targets">One sparse target per decoder id (one-hot except teacher positions of store chains of thought; the final end-of-sequence is one-hot).</param>
public sealed record DistillExample(TrainingFormat Format, string QuestionId, int SampleIndex, int[] EncoderIds, int[] DecoderIds, SparseTargets Targets);

/// <summary>A micro-batch of the plan: examples of one format, by their index within the format.</summary>
/// <param name="Format">The format.</param>
/// <param name="Examples">Example indices within <paramref name="Format"/>'s file.</param>
public sealed record DistillMicroBatch(TrainingFormat Format, IReadOnlyList<int> Examples);

/// <summary>
/// A distillation set on disk, read lazily: <see cref="Open"/> loads the manifest, the plan (micro-batches as example
/// indices) and each format's offset index, never the examples; <see cref="Read(DistillMicroBatch)"/> reads a
/// micro-batch's examples from their files. Thread-safe: reads are positional.
/// </summary>
public sealed class DistillSet : IDisposable
{
    /// <summary>The version of the layout this code writes and reads.</summary>
    public const int FormatVersion = 1;

    internal const string ManifestFileName = "manifest.json";
    internal const string PlanFileName = "plan.jsonl";
    internal static readonly byte[] ExamplesMagic = "SPDX"u8.ToArray();
    internal static readonly byte[] IndexMagic = "SPDI"u8.ToArray();
    internal const int HeaderBytes = 8;

    private readonly Dictionary<TrainingFormat, (SafeFileHandle File, long[] Offsets)> _formats;

    private DistillSet(Dictionary<TrainingFormat, (SafeFileHandle, long[])> formats) => _formats = formats;

    /// <summary>The set's folder.</summary>
    public required string Directory { get; init; }

    /// <summary>What the set holds and how it was built.</summary>
    public required DistillSetManifest Manifest { get; init; }

    /// <summary>The micro-batches of one epoch, in the set's shuffled order; a trainer may reorder them per epoch.</summary>
    public required IReadOnlyList<DistillMicroBatch> Plan { get; init; }

    /// <summary>Opens a set; throws <see cref="SpecialistException"/> naming the file when something is missing or not of this layout.</summary>
    public static DistillSet Open(string directory)
    {
        var dir = Path.GetFullPath(directory);
        var manifestPath = Path.Combine(dir, ManifestFileName);
        if (!File.Exists(manifestPath)) throw new SpecialistException($"{dir} is not a distillation set (it has no {ManifestFileName})");
        DistillSetManifest manifest;
        try
        {
            using var document = JsonInput.ParseDocument(manifestPath, JsonInput.ReadFile(manifestPath));
            manifest = document.Deserialize<DistillSetManifest>(DistillSetManifest.Json) ?? throw new JsonException("null");
        }
        catch (JsonException e)
        {
            throw new DataFormatException(manifestPath, "top level", null, $"is not a distillation set manifest ({e.Message.Split(" Path:")[0].TrimEnd('.')})");
        }
        if (manifest.FormatVersion != FormatVersion)
            throw new DataFormatException(manifestPath, "top level", "format_version", $"is {manifest.FormatVersion}; this version of specialist reads {FormatVersion}");

        var formats = new Dictionary<TrainingFormat, (SafeFileHandle, long[])>();
        try
        {
            foreach (var info in manifest.Formats)
            {
                var format = DistillFormats.Parse(info.Name);
                var offsets = ReadIndex(Path.Combine(dir, IndexFileName(format)), info.Examples);
                var examples = Path.Combine(dir, ExamplesFileName(format));
                if (!File.Exists(examples)) throw new SpecialistException($"distillation set {dir} is missing {ExamplesFileName(format)}");
                var handle = File.OpenHandle(examples);
                formats[format] = (handle, offsets);
                if (RandomAccess.GetLength(handle) != offsets[^1])
                    throw new DataFormatException(examples, "end of file", null, $"is at byte {RandomAccess.GetLength(handle)}, the index says {offsets[^1]}: the set is truncated or mixed up");
            }
            var plan = ReadPlan(Path.Combine(dir, PlanFileName), manifest, formats);
            return new DistillSet(formats) { Directory = dir, Manifest = manifest, Plan = plan };
        }
        catch
        {
            foreach (var (handle, _) in formats.Values) handle.Dispose();
            throw;
        }
    }

    /// <summary>The formats the set holds.</summary>
    public IReadOnlyCollection<TrainingFormat> Formats => _formats.Keys;

    /// <summary>How many examples of <paramref name="format"/> the set holds (0 when it has none).</summary>
    public int Count(TrainingFormat format) => _formats.TryGetValue(format, out var f) ? f.Offsets.Length - 1 : 0;

    /// <summary>Reads example <paramref name="index"/> of <paramref name="format"/>.</summary>
    public DistillExample Read(TrainingFormat format, int index)
    {
        if (!_formats.TryGetValue(format, out var f)) throw new ArgumentException($"the set holds no {DistillFormats.Name(format)} examples", nameof(format));
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)index, (uint)(f.Offsets.Length - 1), nameof(index));
        var bytes = new byte[f.Offsets[index + 1] - f.Offsets[index]];
        if (RandomAccess.Read(f.File, bytes, f.Offsets[index]) != bytes.Length)
            throw new SpecialistException($"{Path.Combine(Directory, ExamplesFileName(format))}: example {index} is cut short");
        try
        {
            return DecodeExample(format, bytes);
        }
        catch (FormatException e)
        {
            throw new DataFormatException(Path.Combine(Directory, ExamplesFileName(format)), $"example {index}", null, e.Message);
        }
    }

    /// <summary>Reads a micro-batch's examples, in its order.</summary>
    public IReadOnlyList<DistillExample> Read(DistillMicroBatch batch) => [.. batch.Examples.Select(i => Read(batch.Format, i))];

    /// <summary>Every micro-batch of the plan with its examples, read as the sequence is consumed.</summary>
    public IEnumerable<(DistillMicroBatch Batch, IReadOnlyList<DistillExample> Examples)> MicroBatches()
    {
        foreach (var batch in Plan) yield return (batch, Read(batch));
    }

    public void Dispose()
    {
        foreach (var (handle, _) in _formats.Values) handle.Dispose();
    }

    internal static string ExamplesFileName(TrainingFormat format) => DistillFormats.Name(format) + ".examples";

    internal static string IndexFileName(TrainingFormat format) => DistillFormats.Name(format) + ".index";

    /// <summary>
    /// One example record (little-endian): u16 question-id length, the id's UTF-8, i32 sample index, i32 encoder
    /// length E, i32 decoder length T, E × i32 encoder ids, T × i32 decoder ids, T × u8 candidate counts (0 = one-hot on
    /// the decoder id), C × i32 candidate ids and C × fp16 probabilities, C the sum of the counts.
    /// </summary>
    internal static byte[] EncodeExample(string questionId, int sampleIndex, int[] encoderIds, int[] decoderIds, SparseTargets targets)
    {
        if (targets.Count != decoderIds.Length) throw new ArgumentException("one target per decoder id", nameof(targets));
        var id = Encoding.UTF8.GetBytes(questionId);
        var candidates = 0;
        for (var t = 0; t < targets.Count; t++) candidates += IsOneHot(targets, t, decoderIds[t]) ? 0 : targets.Ids(t).Length;
        var bytes = new byte[2 + id.Length + 12 + 4 * (encoderIds.Length + decoderIds.Length) + decoderIds.Length + 6 * candidates];
        var span = bytes.AsSpan();
        BinaryPrimitives.WriteUInt16LittleEndian(span, checked((ushort)id.Length));
        id.CopyTo(span[2..]);
        var at = 2 + id.Length;
        BinaryPrimitives.WriteInt32LittleEndian(span[at..], sampleIndex);
        BinaryPrimitives.WriteInt32LittleEndian(span[(at + 4)..], encoderIds.Length);
        BinaryPrimitives.WriteInt32LittleEndian(span[(at + 8)..], decoderIds.Length);
        at += 12;
        foreach (var v in encoderIds) { BinaryPrimitives.WriteInt32LittleEndian(span[at..], v); at += 4; }
        foreach (var v in decoderIds) { BinaryPrimitives.WriteInt32LittleEndian(span[at..], v); at += 4; }
        var idsAt = at + decoderIds.Length;
        var probabilitiesAt = idsAt + 4 * candidates;
        for (var t = 0; t < targets.Count; t++)
        {
            if (IsOneHot(targets, t, decoderIds[t])) { span[at++] = 0; continue; }
            var ids = targets.Ids(t);
            var probabilities = targets.Probabilities(t);
            span[at++] = ids.Length <= byte.MaxValue ? (byte)ids.Length : throw new ArgumentException($"position {t} has {ids.Length} candidates; a set stores at most 255");
            for (var k = 0; k < ids.Length; k++)
            {
                BinaryPrimitives.WriteInt32LittleEndian(span[idsAt..], ids[k]);
                BinaryPrimitives.WriteHalfLittleEndian(span[probabilitiesAt..], (Half)probabilities[k]);
                idsAt += 4;
                probabilitiesAt += 2;
            }
        }
        return bytes;
    }

    private static bool IsOneHot(SparseTargets targets, int position, int id) =>
        targets.Ids(position) is [var only] && only == id && targets.Probabilities(position)[0] == 1.0;

    internal static DistillExample DecodeExample(TrainingFormat format, ReadOnlySpan<byte> bytes)
    {
        var at = 0;
        ReadOnlySpan<byte> Take(int count, ReadOnlySpan<byte> data, ref int position)
        {
            if (count < 0 || position + count > data.Length) throw new FormatException("the record ends early");
            var slice = data.Slice(position, count);
            position += count;
            return slice;
        }
        var idLength = BinaryPrimitives.ReadUInt16LittleEndian(Take(2, bytes, ref at));
        var questionId = Encoding.UTF8.GetString(Take(idLength, bytes, ref at));
        var sampleIndex = BinaryPrimitives.ReadInt32LittleEndian(Take(4, bytes, ref at));
        var encoderLength = BinaryPrimitives.ReadInt32LittleEndian(Take(4, bytes, ref at));
        var decoderLength = BinaryPrimitives.ReadInt32LittleEndian(Take(4, bytes, ref at));
        var encoder = ReadInts(Take(checked(4 * encoderLength), bytes, ref at));
        var decoder = ReadInts(Take(checked(4 * decoderLength), bytes, ref at));
        var counts = Take(decoderLength, bytes, ref at);
        var candidates = 0;
        foreach (var c in counts) candidates += c;
        var ids = Take(4 * candidates, bytes, ref at);
        var probabilities = Take(2 * candidates, bytes, ref at);
        if (at != bytes.Length) throw new FormatException($"the record has {bytes.Length - at} bytes after its end");

        var starts = new int[decoderLength + 1];
        var kinds = new TargetKind[decoderLength];
        var total = 0;
        foreach (var c in counts) total += c == 0 ? 1 : c;
        var targetIds = new int[total];
        var targetProbabilities = new double[total];
        int k = 0, stored = 0;
        for (var t = 0; t < decoderLength; t++)
        {
            starts[t] = k;
            if (counts[t] == 0)
            {
                targetIds[k] = decoder[t];
                targetProbabilities[k++] = 1.0;
                continue;
            }
            kinds[t] = TargetKind.Teacher;
            for (var c = 0; c < counts[t]; c++, stored++)
            {
                targetIds[k] = BinaryPrimitives.ReadInt32LittleEndian(ids[(4 * stored)..]);
                targetProbabilities[k++] = (double)BinaryPrimitives.ReadHalfLittleEndian(probabilities[(2 * stored)..]);
            }
        }
        starts[decoderLength] = k;
        return new DistillExample(format, questionId, sampleIndex, encoder, decoder, new SparseTargets(starts, targetIds, targetProbabilities, kinds));
    }

    private static int[] ReadInts(ReadOnlySpan<byte> bytes)
    {
        var values = new int[bytes.Length / 4];
        for (var i = 0; i < values.Length; i++) values[i] = BinaryPrimitives.ReadInt32LittleEndian(bytes[(4 * i)..]);
        return values;
    }

    private static long[] ReadIndex(string path, int expected)
    {
        if (!File.Exists(path)) throw new SpecialistException($"distillation set file {path} is missing");
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < HeaderBytes || !bytes.AsSpan(0, 4).SequenceEqual(IndexMagic) || BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(4)) != FormatVersion)
            throw new DataFormatException(path, "header", null, $"is not a version-{FormatVersion} distillation set index");
        if (bytes.Length != HeaderBytes + 8 * (expected + 1))
            throw new DataFormatException(path, "end of file", null, $"holds {(bytes.Length - HeaderBytes) / 8 - 1} offsets, the manifest says {expected} examples");
        var offsets = new long[expected + 1];
        for (var i = 0; i < offsets.Length; i++) offsets[i] = BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(HeaderBytes + 8 * i));
        return offsets;
    }

    private static List<DistillMicroBatch> ReadPlan(string path, DistillSetManifest manifest, Dictionary<TrainingFormat, (SafeFileHandle File, long[] Offsets)> formats)
    {
        if (!File.Exists(path)) throw new SpecialistException($"distillation set file {path} is missing");
        var plan = new List<DistillMicroBatch>();
        var lineNumber = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            DataFormatException Error(string? field, string problem) => new(path, $"line {lineNumber}", field, problem);
            PlanLine parsed;
            try
            {
                parsed = JsonSerializer.Deserialize<PlanLine>(line) ?? throw new JsonException("null");
            }
            catch (JsonException)
            {
                throw Error(null, "is not {\"format\": NAME, \"examples\": [indices]}");
            }
            TrainingFormat format;
            try
            {
                format = DistillFormats.Parse(parsed.Format ?? "");
            }
            catch (SpecialistException e)
            {
                throw Error("format", e.Message);
            }
            if (!formats.TryGetValue(format, out var f)) throw Error("format", $"'{parsed.Format}' is not among the set's formats");
            if (parsed.Examples is not { Length: > 0 } examples) throw Error("examples", "is missing or empty");
            foreach (var e in examples)
                if (e < 0 || e >= f.Offsets.Length - 1) throw Error("examples", $"index {e} is outside the {f.Offsets.Length - 1} {parsed.Format} examples");
            plan.Add(new DistillMicroBatch(format, examples));
        }
        var expected = manifest.Formats.Sum(f => f.MicroBatches);
        if (plan.Count != expected) throw new DataFormatException(path, "end of file", null, $"holds {plan.Count} micro-batches, the manifest says {expected}");
        return plan;
    }

    internal sealed record PlanLine(
        [property: JsonPropertyName("format")] string? Format,
        [property: JsonPropertyName("examples")] int[]? Examples);
}
