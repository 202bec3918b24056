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
        JsonElement root;
        try
        {
            root = JsonDocument.Parse(headerBytes).RootElement;
        }
        catch (JsonException e)
        {
            throw new SpecialistException($"{path}: safetensors header is not valid JSON: {e.Message}");
        }
        if (root.ValueKind != JsonValueKind.Object) throw new SpecialistException($"{path}: safetensors header is not a JSON object");

        var tensors = new Dictionary<string, Entry>(StringComparer.Ordinal);
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        var problems = new List<string>();
        foreach (var property in root.EnumerateObject())
        {
            if (property.Name == "__metadata__")
            {
                if (property.Value.ValueKind != JsonValueKind.Object) { problems.Add("__metadata__ is not an object"); continue; }
                foreach (var m in property.Value.EnumerateObject())
                    if (m.Value.ValueKind == JsonValueKind.String) metadata[m.Name] = m.Value.GetString()!;
                    else problems.Add($"__metadata__.{m.Name} is not a string");
                continue;
            }
            if (tensors.ContainsKey(property.Name)) problems.Add($"{property.Name} appears twice");
            else if (ParseEntry(property, dataStart) is { } entry) tensors[entry.Name] = entry;
            else problems.Add($"{property.Name}: needs {{\"dtype\": one of {string.Join("/", DTypes.Keys)}, \"shape\": [non-negative integers], \"data_offsets\": [begin, end]}}, got {property.Value.GetRawText()}");
        }

        foreach (var e in tensors.Values)
        {
            var expected = e.Shape.Aggregate(1L, (a, b) => a * b) * DTypes[e.DType].Size;
            if (e.Length != expected)
                problems.Add($"{e.Name}: data_offsets span {e.Length} bytes, but {e.DType} [{string.Join(", ", e.Shape)}] needs {expected}");
        }
        Entry? previous = null;
        foreach (var e in tensors.Values.OrderBy(e => e.Offset).ThenBy(e => e.Length))
        {
            if (previous is not null && e.Offset < previous.Offset + previous.Length)
                problems.Add($"{e.Name} overlaps {previous.Name}");
            previous = e;
        }
        if (problems.Count > 0) throw new SpecialistException($"{path}: invalid safetensors header: {string.Join("; ", problems)}");

        var needed = tensors.Values.Select(e => e.Offset + e.Length - dataStart).DefaultIfEmpty(0).Max();
        if (needed > dataLength)
            throw new SpecialistException(
                $"{path}: truncated safetensors file: its header describes {needed} bytes of tensor data, the file holds {dataLength} " +
                $"({needed - dataLength} bytes missing; was the download or copy interrupted?)");
        return new Header(path, tensors, metadata);
    }

    private static Entry? ParseEntry(JsonProperty property, long dataStart)
    {
        var v = property.Value;
        if (v.ValueKind != JsonValueKind.Object
            || !v.TryGetProperty("dtype", out var dtype) || dtype.ValueKind != JsonValueKind.String || !DTypes.ContainsKey(dtype.GetString()!)
            || !v.TryGetProperty("shape", out var shape) || shape.ValueKind != JsonValueKind.Array
            || !v.TryGetProperty("data_offsets", out var offsets) || offsets.ValueKind != JsonValueKind.Array || offsets.GetArrayLength() != 2)
            return null;
        var dims = new List<long>();
        foreach (var d in shape.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt64(out var n) || n < 0) return null;
            dims.Add(n);
        }
        if (!offsets[0].TryGetInt64(out var begin) || !offsets[1].TryGetInt64(out var end) || begin < 0 || end < begin) return null;
        return new Entry(property.Name, dtype.GetString()!, [.. dims], dataStart + begin, end - begin);
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
