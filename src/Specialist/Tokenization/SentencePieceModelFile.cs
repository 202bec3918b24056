using System.Buffers.Binary;
using System.Text;

namespace Specialist.Tokenization;

/// <summary>
/// The parts of a SentencePiece <c>.model</c> file (a serialised <c>sentencepiece.ModelProto</c>) that the tokenizer needs,
/// read straight from the protobuf wire format. Field numbers are those of sentencepiece_model.proto.
/// </summary>
internal sealed class SentencePieceModelFile
{
    /// <summary>sentencepiece_model.proto's <c>SentencePiece.Type</c>.</summary>
    internal enum PieceType { Normal = 1, Unknown = 2, Control = 3, UserDefined = 4, Unused = 5, Byte = 6 }

    internal const int UnigramModelType = 1;
    internal const int BpeModelType = 2;

    public required string Path { get; init; }
    public required byte[] Bytes { get; init; }
    public required string[] Pieces { get; init; }
    public required PieceType[] Types { get; init; }
    public required float[] Scores { get; init; }
    public bool HasTrainerSpec { get; private init; }
    public bool HasNormalizerSpec { get; private init; }
    public int ModelType { get; private set; } = UnigramModelType;
    public int UnkId { get; private set; }
    public int BosId { get; private set; } = 1;
    public int EosId { get; private set; } = 2;
    public int PadId { get; private set; } = -1;
    public bool TreatWhitespaceAsSuffix { get; private set; }
    public bool ByteFallback { get; private set; }
    public byte[] PrecompiledCharsmap { get; private set; } = [];
    public bool AddDummyPrefix { get; private set; } = true;
    public bool RemoveExtraWhitespaces { get; private set; } = true;
    public bool EscapeWhitespaces { get; private set; } = true;

    /// <summary>
    /// Reads a model file; a file that is not a SentencePiece model, one that SentencePiece itself would refuse (an empty
    /// or repeated piece, an unknown piece type, no unknown piece), one with a special id that is no piece or a score
    /// that is not a number, and one this tokenizer cannot reproduce exactly are errors naming the file and the field.
    /// </summary>
    public static SentencePieceModelFile Read(string path)
    {
        if (!File.Exists(path)) throw new SpecialistException($"tokenizer model not found: {System.IO.Path.GetFullPath(path)}");
        var bytes = File.ReadAllBytes(path);
        SentencePieceModelFile model;
        try
        {
            model = Parse(path, bytes);
        }
        catch (FormatException e)
        {
            throw new SpecialistException($"{path}: not a SentencePiece model file ({e.Message})");
        }
        model.EnsureValid();
        model.EnsureSupported();
        return model;
    }

    private static SentencePieceModelFile Parse(string path, byte[] bytes)
    {
        var pieces = new List<string>();
        var types = new List<PieceType>();
        var scores = new List<float>();
        var trainerSpecs = new List<ReadOnlyMemory<byte>>();
        var normalizerSpecs = new List<ReadOnlyMemory<byte>>();
        foreach (var field in ProtoWire.Fields(bytes))
        {
            switch (field.Number)
            {
                case 1:
                    var (piece, type, score) = ParsePiece(field.Bytes);
                    pieces.Add(piece);
                    types.Add(type);
                    scores.Add(score);
                    break;
                case 2: trainerSpecs.Add(field.Bytes); break;
                case 3: normalizerSpecs.Add(field.Bytes); break;
            }
        }
        if (pieces.Count == 0) throw new FormatException("it holds no pieces");
        var model = new SentencePieceModelFile
        {
            Path = path, Bytes = bytes, Pieces = [.. pieces], Types = [.. types], Scores = [.. scores],
            HasTrainerSpec = trainerSpecs.Count > 0, HasNormalizerSpec = normalizerSpecs.Count > 0,
        };
        // Protobuf merges repeated occurrences of a message field, later values winning.
        foreach (var spec in trainerSpecs) model.ReadTrainerSpec(spec);
        foreach (var spec in normalizerSpecs) model.ReadNormalizerSpec(spec);
        return model;
    }

    private static (string Piece, PieceType Type, float Score) ParsePiece(ReadOnlyMemory<byte> message)
    {
        var piece = "";
        var type = PieceType.Normal;
        var score = 0f;
        foreach (var field in ProtoWire.Fields(message))
        {
            if (field.Number == 1) piece = field.String;
            else if (field.Number == 2) score = BitConverter.UInt32BitsToSingle(unchecked((uint)field.Varint));
            else if (field.Number == 3) type = (PieceType)field.Int32;
        }
        return (piece, type, score);
    }

    private void ReadTrainerSpec(ReadOnlyMemory<byte> message)
    {
        foreach (var field in ProtoWire.Fields(message))
        {
            switch (field.Number)
            {
                case 3: ModelType = field.Int32; break;
                case 24: TreatWhitespaceAsSuffix = field.Varint != 0; break;
                case 35: ByteFallback = field.Varint != 0; break;
                case 40: UnkId = field.Int32; break;
                case 41: BosId = field.Int32; break;
                case 42: EosId = field.Int32; break;
                case 43: PadId = field.Int32; break;
            }
        }
    }

    private void ReadNormalizerSpec(ReadOnlyMemory<byte> message)
    {
        foreach (var field in ProtoWire.Fields(message))
        {
            switch (field.Number)
            {
                case 2: PrecompiledCharsmap = field.Bytes.ToArray(); break;
                case 3: AddDummyPrefix = field.Varint != 0; break;
                case 4: RemoveExtraWhitespaces = field.Varint != 0; break;
                case 5: EscapeWhitespaces = field.Varint != 0; break;
            }
        }
    }

    /// <summary>
    /// What SentencePiece's own loader (model_interface.cc) refuses, and what would make the tokenizer misbehave: the
    /// model must hold its trainer and normaliser specs, non-empty distinct pieces of the six known types with finite
    /// scores, exactly one unknown piece (the one unk_id names), and special ids that are -1 (none) or pieces.
    /// </summary>
    private void EnsureValid()
    {
        string? problem = null;
        if (!HasTrainerSpec) problem = "it has no trainer_spec (every model spm_train writes has one)";
        else if (!HasNormalizerSpec) problem = "it has no normalizer_spec (every model spm_train writes has one)";
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var id = 0; id < Pieces.Length && problem is null; id++)
        {
            problem =
                Pieces[id].Length == 0 ? $"piece {id} is empty" :
                !seen.TryAdd(Pieces[id], id) ? $"piece {id} \"{Pieces[id]}\" repeats piece {seen[Pieces[id]]}" :
                !Enum.IsDefined(Types[id]) ? $"piece {id} has type {(int)Types[id]}, not a SentencePiece piece type (1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte)" :
                !float.IsFinite(Scores[id]) ? $"piece {id} has score {Scores[id].ToString(System.Globalization.CultureInfo.InvariantCulture)}, not a finite number" :
                null;
        }
        foreach (var (name, id) in new[] { ("unk_id", UnkId), ("bos_id", BosId), ("eos_id", EosId), ("pad_id", PadId) })
            if (problem is null && (id < (name == "unk_id" ? 0 : -1) || id >= Pieces.Length))
                problem = $"trainer_spec.{name} is {id}, must be {(name == "unk_id" ? "" : "-1 (none) or ")}a piece id from 0 to {Pieces.Length - 1}";
        var unknown = Array.IndexOf(Types, PieceType.Unknown);
        if (problem is null && unknown < 0) problem = "it has no piece of type unknown (2)";
        if (problem is null && Array.LastIndexOf(Types, PieceType.Unknown) != unknown) problem = "it has more than one piece of type unknown (2)";
        if (problem is null && unknown != UnkId) problem = $"trainer_spec.unk_id is {UnkId}, but the unknown piece is {unknown}";
        if (problem is not null) throw new SpecialistException($"{Path}: invalid SentencePiece model: {problem}");
    }

    /// <summary>
    /// The features whose behaviour we reproduce and test against <c>spm_encode</c> (T5, FlanT5, mT5 unigram models;
    /// Llama 2's BPE model with byte fallback); anything else is refused rather than encoded differently from SentencePiece.
    /// </summary>
    private void EnsureSupported()
    {
        string? problem =
            ModelType is not (UnigramModelType or BpeModelType) ? $"model type {ModelType} is neither unigram (1) nor BPE (2)" :
            TreatWhitespaceAsSuffix ? "treat_whitespace_as_suffix is set" :
            ModelType == UnigramModelType && ByteFallback ? "byte_fallback is set in a unigram model" :
            Array.IndexOf(Types, PieceType.UserDefined) >= 0 ? "it has user-defined pieces" :
            !ByteFallback && Array.IndexOf(Types, PieceType.Byte) >= 0 ? "it has byte pieces without byte_fallback" :
            null;
        if (problem is not null)
            throw new SpecialistException($"{Path}: unsupported SentencePiece model: {problem} (supported: unigram models like T5's spiece.model, BPE models like Llama 2's tokenizer.model)");
    }

    /// <summary>The model loaded by Microsoft.ML.Tokenizers, which runs the unigram search or the BPE merges.</summary>
    public Microsoft.ML.Tokenizers.SentencePieceTokenizer CreateLibraryTokenizer()
    {
        try
        {
            return Microsoft.ML.Tokenizers.SentencePieceTokenizer.Create(new MemoryStream(BytesForLibrary()), false, false);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or FormatException or IOException or NullReferenceException or IndexOutOfRangeException)
        {
            // The library parses the model again on its own; what our checks let through but it cannot take is the file's fault.
            throw new SpecialistException($"{Path}: Microsoft.ML.Tokenizers cannot load this SentencePiece model: {e.Message}", e);
        }
    }

    /// <summary>
    /// The model bytes to hand to Microsoft.ML.Tokenizers. Its models (2.0.1) index their vocabulary with the
    /// BOS id even when the model has none (T5: bos_id = -1) and fails; we append a trainer_spec that names the
    /// pad (or else eos, or unk) piece as BOS. Protobuf merges it into the original trainer_spec, so only bos_id and
    /// bos_piece change. We never ask the library to add BOS, and the piece it points at is a control or unknown
    /// piece the library already treats as special, so no encoded id changes.
    /// </summary>
    public byte[] BytesForLibrary()
    {
        if (BosId >= 0) return Bytes;
        var standIn = PadId >= 0 ? PadId : EosId >= 0 ? EosId : UnkId;
        var spec = new MemoryStream();
        ProtoWire.WriteVarintField(spec, 41, (ulong)standIn);
        ProtoWire.WriteBytesField(spec, 46, Encoding.UTF8.GetBytes(Pieces[standIn]));
        var patched = new MemoryStream(Bytes.Length + 32);
        patched.Write(Bytes);
        ProtoWire.WriteBytesField(patched, 2, spec.ToArray());
        return patched.ToArray();
    }
}

/// <summary>The protobuf wire format, as much of it as reading a SentencePiece model takes.</summary>
internal static class ProtoWire
{
    internal readonly record struct Field(int Number, ulong Varint, ReadOnlyMemory<byte> Bytes)
    {
        /// <summary>An int32 field: negative values travel as 64-bit two's complement.</summary>
        public int Int32 => unchecked((int)(long)Varint);
        public string String => Encoding.UTF8.GetString(Bytes.Span);
    }

    public static IEnumerable<Field> Fields(ReadOnlyMemory<byte> message)
    {
        var position = 0;
        while (position < message.Length)
        {
            var key = ReadVarint(message.Span, ref position);
            var number = (int)(key >> 3);
            switch (key & 7)
            {
                case 0:
                    yield return new Field(number, ReadVarint(message.Span, ref position), default);
                    break;
                case 1:
                    yield return new Field(number, BinaryPrimitives.ReadUInt64LittleEndian(Take(message, ref position, 8).Span), default);
                    break;
                case 2:
                    var length = ReadVarint(message.Span, ref position);
                    if (length > (ulong)(message.Length - position)) throw new FormatException($"field {number} runs past the end");
                    yield return new Field(number, 0, Take(message, ref position, (int)length));
                    break;
                case 5:
                    yield return new Field(number, BinaryPrimitives.ReadUInt32LittleEndian(Take(message, ref position, 4).Span), default);
                    break;
                default:
                    throw new FormatException($"unknown wire type {key & 7} at byte {position}");
            }
        }
    }

    public static void WriteVarintField(Stream stream, int number, ulong value)
    {
        WriteVarint(stream, (ulong)number << 3);
        WriteVarint(stream, value);
    }

    public static void WriteBytesField(Stream stream, int number, ReadOnlySpan<byte> value)
    {
        WriteVarint(stream, ((ulong)number << 3) | 2);
        WriteVarint(stream, (ulong)value.Length);
        stream.Write(value);
    }

    private static void WriteVarint(Stream stream, ulong value)
    {
        for (; value >= 0x80; value >>= 7) stream.WriteByte((byte)(value | 0x80));
        stream.WriteByte((byte)value);
    }

    private static ulong ReadVarint(ReadOnlySpan<byte> bytes, ref int position)
    {
        ulong value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (position >= bytes.Length) throw new FormatException("truncated varint");
            var b = bytes[position++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80) return value;
        }
        throw new FormatException("varint longer than 10 bytes");
    }

    private static ReadOnlyMemory<byte> Take(ReadOnlyMemory<byte> message, ref int position, int length)
    {
        if (length > message.Length - position) throw new FormatException("truncated field");
        var slice = message.Slice(position, length);
        position += length;
        return slice;
    }
}
