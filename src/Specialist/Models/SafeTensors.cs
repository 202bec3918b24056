using System.Buffers.Binary;
using System.Text.Json;
using static TorchSharp.torch;

namespace Specialist.Models;

/// <summary>
/// The safetensors format (github.com/huggingface/safetensors): an 8-byte little-endian header length, a JSON header
/// <c>{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {string: string}}</c>, then the raw
/// little-endian tensor bytes, offsets counted from the end of the header. Read and written here without Python.
/// </summary>
internal static class SafeTensors
{
    // The reference implementation refuses headers above 100 MB; so do we, before allocating one.
    private const long MaxHeaderBytes = 100_000_000;

    private static readonly Dictionary<string, (ScalarType Type, int Size)> DTypes = new(StringComparer.Ordinal)
    {
        ["F32"] = (ScalarType.Float32, 4),
        ["F16"] = (ScalarType.Float16, 2),
        ["BF16"] = (ScalarType.BFloat16, 2),
        ["F64"] = (ScalarType.Float64, 8),
    };

    internal static string DTypeName(ScalarType type) =>
        DTypes.FirstOrDefault(kv => kv.Value.Type == type).Key ?? throw new ArgumentException($"safetensors here stores F32, F16, BF16, F64, not {type}");

    /// <summary>One tensor of a file: where its bytes are (from the start of the file) and what they hold.</summary>
    internal sealed record Entry(string Name, string DType, long[] Shape, long Offset, long Length)
    {
        public ScalarType Type => DTypes[DType].Type;
    }

    /// <summary>A file's validated header.</summary>
    internal sealed record Header(string Path, IReadOnlyDictionary<string, Entry> Tensors, IReadOnlyDictionary<string, string> Metadata);

    /// <summary>
    /// Reads and checks a header: every offset inside the file, every size equal to its shape times its dtype size,
    /// no two tensors overlapping. A file cut short is reported as truncated, with how many bytes are missing.
    /// </summary>
    public static Header ReadHeader(string path)
    {
        using var file = OpenRead(path);
        var fileLength = file.Length;
        Span<byte> prefix = stackalloc byte[8];
        if (fileLength < 8 || file.ReadAtLeast(prefix, 8, throwOnEndOfStream: false) < 8)
            throw new SpecialistException($"{path}: truncated safetensors file: {fileLength} bytes, not even the 8-byte header length");
        var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (headerLength > MaxHeaderBytes)
            throw new SpecialistException($"{path}: not a safetensors file: its header length field says {headerLength} bytes (limit {MaxHeaderBytes})");
        if (8 + (long)headerLength > fileLength)
            throw new SpecialistException($"{path}: truncated safetensors file: the header needs {8 + (long)headerLength} bytes, the file has {fileLength}");
        var headerBytes = new byte[headerLength];
        file.ReadExactly(headerBytes);
        var dataStart = 8 + (long)headerLength;
        return ParseHeader(path, headerBytes, dataStart, fileLength - dataStart);
    }

    private static Header ParseHeader(string path, byte[] headerBytes, long dataStart, long dataLength)
    {
        // Errors name the header's lines and fields (e.g. shared.weight.data_offsets) under the file's name.
        var root = JsonSection.Parse($"{path} (safetensors header)", headerBytes);
        var found = new List<(string Name, string DType, long[] Shape, long Begin, long End)>();
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var name in root.Names)
        {
            var tensor = root.Child(name, required: true);
            if (name == "__metadata__")
            {
                foreach (var key in tensor.Names) metadata[key] = tensor.String(key) ?? throw tensor.Error(key, "is null, expected a string");
                continue;
            }
            var dtype = tensor.String("dtype") ?? throw tensor.Error("dtype", "is missing");
            if (!DTypes.ContainsKey(dtype)) throw tensor.Error("dtype", $"is \"{dtype}\", expected one of {string.Join(", ", DTypes.Keys)}");
            var shape = tensor.Longs("shape", minimum: 0) ?? throw tensor.Error("shape", "is missing");
            var offsets = tensor.Longs("data_offsets", minimum: 0) ?? throw tensor.Error("data_offsets", "is missing");
            if (offsets is not [var begin, var end] || end < begin)
                throw tensor.Error("data_offsets", $"is [{string.Join(", ", offsets)}], expected [begin, end] with begin ≤ end");
            found.Add((name, dtype, [.. shape], begin, end));
        }

        var problems = new List<string>();
        foreach (var e in found)
        {
            long expected;
            try
            {
                expected = checked(e.Shape.Aggregate(1L, (a, b) => a * b) * DTypes[e.DType].Size);
            }
            catch (OverflowException)
            {
                problems.Add($"{e.Name}: shape [{string.Join(", ", e.Shape)}] is too large");
                continue;
            }
            if (e.End - e.Begin != expected)
                problems.Add($"{e.Name}: data_offsets span {e.End - e.Begin} bytes, but {e.DType} [{string.Join(", ", e.Shape)}] needs {expected}");
        }
        (string Name, long End)? previous = null;
        foreach (var e in found.OrderBy(e => e.Begin).ThenBy(e => e.End))
        {
            if (previous is { } p && e.Begin < p.End) problems.Add($"{e.Name} overlaps {p.Name}");
            previous = (e.Name, e.End);
        }
        if (problems.Count > 0) throw new SpecialistException($"{path}: invalid safetensors header: {string.Join("; ", problems)}");

        var needed = found.Select(e => e.End).DefaultIfEmpty(0).Max();
        if (needed > dataLength)
            throw new SpecialistException(
                $"{path}: truncated safetensors file: its header describes {needed} bytes of tensor data, the file holds {dataLength} " +
                $"({needed - dataLength} bytes missing; was the download or copy interrupted?)");
        // Every offset is now inside the file, so none of these sums can overflow.
        var tensors = found.ToDictionary(e => e.Name, e => new Entry(e.Name, e.DType, e.Shape, dataStart + e.Begin, e.End - e.Begin), StringComparer.Ordinal);
        return new Header(path, tensors, metadata);
    }

    /// <summary>
    /// Streams one tensor's bytes from <paramref name="file"/> straight into <paramref name="destination"/>'s memory
    /// (a contiguous CPU tensor of the entry's shape and dtype); no managed copy of the data is made.
    /// </summary>
    public static void ReadInto(FileStream file, Entry entry, Tensor destination)
    {
        if (destination.dtype != entry.Type || !destination.shape.SequenceEqual(entry.Shape) || !destination.is_contiguous())
            throw new ArgumentException($"destination of {entry.Name} must be a contiguous {entry.DType} [{string.Join(", ", entry.Shape)}] tensor");
        if (entry.Length > int.MaxValue)
            throw new SpecialistException($"{file.Name}: tensor {entry.Name} is {entry.Length} bytes; tensors over 2 GiB are not supported");
        file.Position = entry.Offset;
        file.ReadExactly(destination.bytes);
    }

    /// <summary>Opens a file for reading tensors (sequential, large buffer).</summary>
    public static FileStream OpenRead(string path)
    {
        try
        {
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SpecialistException($"cannot read {path}: {e.Message}");
        }
    }

    /// <summary>
    /// Writes <paramref name="tensors"/> (contiguous CPU tensors) as one safetensors file, atomically: a temporary file
    /// beside it is renamed over <paramref name="path"/> once complete. Returns the bytes of tensor data written.
    /// </summary>
    public static long Write(string path, IReadOnlyList<(string Name, Tensor Tensor)> tensors, IReadOnlyDictionary<string, string> metadata)
    {
        var header = new MemoryStream();
        long offset = 0;
        using (var json = new Utf8JsonWriter(header))
        {
            json.WriteStartObject();
            json.WriteStartObject("__metadata__");
            foreach (var (k, v) in metadata) json.WriteString(k, v);
            json.WriteEndObject();
            foreach (var (name, t) in tensors)
            {
                var length = t.numel() * t.ElementSize;
                json.WriteStartObject(name);
                json.WriteString("dtype", DTypeName(t.dtype));
                json.WriteStartArray("shape");
                foreach (var d in t.shape) json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + length);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += length;
            }
            json.WriteEndObject();
        }
        // Pad the header with spaces to a multiple of 8 so the data that follows is aligned, as the reference writer does.
        while (header.Length % 8 != 0) header.WriteByte((byte)' ');

        AtomicFile.Write(path, stream =>
        {
            Span<byte> prefix = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)header.Length);
            stream.Write(prefix);
            header.Position = 0;
            header.CopyTo(stream);
            foreach (var (_, t) in tensors) stream.Write(t.bytes);
        });
        return offset;
    }
}
