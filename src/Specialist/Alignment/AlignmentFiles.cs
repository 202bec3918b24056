using System.Diagnostics;
using System.Text.Encodings.Web;
using System.Text.Json;
using Specialist.Teachers;

namespace Specialist.Alignment;

/// <summary>One text to align and where it came from (for the output line and for messages).</summary>
/// <param name="Teacher">The teacher's tokens.</param>
/// <param name="QuestionId">The store's question id (null for <c>--input</c> lines).</param>
/// <param name="SampleIndex">The store's sample index (null for <c>--input</c> lines).</param>
public sealed record AlignmentItem(TeacherSequence Teacher, string? QuestionId = null, int? SampleIndex = null);

/// <summary>What an alignment run did (<c>specialist align</c>'s summary).</summary>
/// <param name="Mode">paper or fast.</param>
/// <param name="Samples">Texts aligned.</param>
/// <param name="StudentTokens">Student tokens, over all texts.</param>
/// <param name="SoftTargets">Of those, tokens with a target other than one-hot.</param>
/// <param name="ByOffsets">Texts aligned by character offsets (fast mode); the others by the whole-text warping.</param>
/// <param name="Seconds">Wall-clock time of reading, aligning and writing.</param>
public sealed record AlignmentSummary(string Mode, int Samples, long StudentTokens, long SoftTargets, int ByOffsets, double Seconds)
{
    /// <summary>Soft targets / student tokens.</summary>
    public double SoftShare => StudentTokens == 0 ? 0 : (double)SoftTargets / StudentTokens;
}

/// <summary>
/// <c>specialist align</c>'s files: input lines <c>{"text", "teacher_tokens", "teacher_topk"}</c> (optionally
/// <c>"teacher_token_bytes"</c>: per token an array of UTF-8 bytes or null, and a third element of a candidate: its
/// bytes), annotation stores, and output lines <c>{"student_tokens", "targets"}</c>.
/// </summary>
public static class AlignmentFiles
{
    private const int ChunkSize = 4096;

    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Reads an input JSONL file lazily, line by line; errors name the file, the line and the field.</summary>
    public static IEnumerable<AlignmentItem> ReadInput(string path, TeacherVocabulary vocabulary, TeacherTokenForm form)
    {
        if (!File.Exists(path)) throw new SpecialistException($"file not found: {Path.GetFullPath(path)}");
        var lineNumber = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            yield return new AlignmentItem(ParseLine(path, lineNumber, line, vocabulary, form));
        }
    }

    internal static TeacherSequence ParseLine(string path, int lineNumber, string line, TeacherVocabulary vocabulary, TeacherTokenForm form)
    {
        var location = $"line {lineNumber}";
        DataFormatException Error(string? field, string problem) => new(path, location, field, problem);
        using (var document = JsonInput.ParseDocument(path, line, lineNumber))
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw Error(null, "is not a JSON object");
            if (!root.TryGetProperty("text", out var textElement) || textElement.ValueKind != JsonValueKind.String)
                throw Error("text", "is missing or not a string");
            var tokens = Array("teacher_tokens", root, Error);
            var topk = Array("teacher_topk", root, Error);
            if (topk.GetArrayLength() != tokens.GetArrayLength())
                throw Error("teacher_topk", $"has {topk.GetArrayLength()} positions, teacher_tokens {tokens.GetArrayLength()}");
            JsonElement? tokenBytes = null;
            if (root.TryGetProperty("teacher_token_bytes", out var bytesElement) && bytesElement.ValueKind != JsonValueKind.Null)
            {
                tokenBytes = Array("teacher_token_bytes", root, Error);
                if (bytesElement.GetArrayLength() != tokens.GetArrayLength())
                    throw Error("teacher_token_bytes", $"has {bytesElement.GetArrayLength()} entries, teacher_tokens {tokens.GetArrayLength()}");
            }

            var positions = new List<(RawTeacherToken, double)>[tokens.GetArrayLength()];
            var i = 0;
            foreach (var (token, list) in tokens.EnumerateArray().Zip(topk.EnumerateArray()))
            {
                var field = $"teacher_tokens[{i}]";
                if (token.ValueKind != JsonValueKind.String) throw Error(field, "is not a string");
                var sampled = new RawTeacherToken(token.GetString()!, tokenBytes is { } tb ? Bytes(tb[i], $"teacher_token_bytes[{i}]", Error) : null);
                if (list.ValueKind != JsonValueKind.Array || list.GetArrayLength() == 0)
                    throw Error($"teacher_topk[{i}]", "is not a non-empty array of [token, probability] (the sampled token first)");
                var candidates = positions[i] = new List<(RawTeacherToken, double)>(list.GetArrayLength());
                var k = 0;
                foreach (var pair in list.EnumerateArray())
                {
                    var at = $"teacher_topk[{i}][{k}]";
                    if (pair.ValueKind != JsonValueKind.Array || pair.GetArrayLength() is < 2 or > 3
                        || pair[0].ValueKind != JsonValueKind.String || pair[1].ValueKind != JsonValueKind.Number)
                        throw Error(at, "is not [token, probability] (or [token, probability, bytes])");
                    var p = pair[1].GetDouble();
                    if (!(p >= 0 && p <= 1)) throw Error(at, $"probability {pair[1].GetRawText()} is not between 0 and 1");
                    var candidate = new RawTeacherToken(pair[0].GetString()!, pair.GetArrayLength() == 3 ? Bytes(pair[2], at + "[2]", Error) : null);
                    if (k == 0)
                    {
                        if (candidate.Token != sampled.Token)
                            throw Error(at, $"is '{candidate.Token}', not the sampled token '{sampled.Token}' (each list starts with the sampled token)");
                        candidate = sampled;
                    }
                    candidates.Add((candidate, p));
                    k++;
                }
                i++;
            }
            var sequence = TeacherTokens.ToSequence(textElement.GetString()!, vocabulary, positions, form);
            // Tokens of another text would still align, by edit distance, into targets that mean nothing.
            if (Misspelling(sequence) is { } misspelt) throw Error(misspelt.Field, misspelt.Problem);
            return sequence;
        }
    }

    /// <summary>Where the sampled tokens (normalised) stop spelling the text, or null when they spell exactly it.</summary>
    private static (string Field, string Problem)? Misspelling(TeacherSequence sequence)
    {
        var text = sequence.Text;
        var cursor = 0;
        for (var i = 0; i < sequence.Count; i++)
        {
            var token = sequence.Token(i);
            if (!text.AsSpan(cursor).StartsWith(token, StringComparison.Ordinal))
                return ($"teacher_tokens[{i}]", $"is {JsonSerializer.Serialize(token)}, but " + (cursor == text.Length ? "the text has ended"
                    : $"the text goes on with {JsonSerializer.Serialize(text[cursor..Math.Min(text.Length, cursor + Math.Max(1, token.Length))])}") +
                    ": the teacher tokens must spell the text");
            cursor += token.Length;
        }
        return cursor == text.Length ? null
            : ("teacher_tokens", $"spell only the first {cursor} of the text's {text.Length} characters: the teacher tokens must spell the text");
    }

    private static JsonElement Array(string field, JsonElement root, Func<string?, string, DataFormatException> error) =>
        root.TryGetProperty(field, out var value) && value.ValueKind == JsonValueKind.Array ? value : throw error(field, "is missing or not an array");

    private static byte[]? Bytes(JsonElement element, string field, Func<string?, string, DataFormatException> error)
    {
        if (element.ValueKind == JsonValueKind.Null) return null;
        if (element.ValueKind != JsonValueKind.Array) throw error(field, "is not an array of bytes");
        var bytes = new byte[element.GetArrayLength()];
        var k = 0;
        foreach (var b in element.EnumerateArray())
            bytes[k++] = b.ValueKind == JsonValueKind.Number && b.TryGetByte(out var value) ? value : throw error(field, $"holds {b.GetRawText()}, not a byte (0 … 255)");
        return bytes;
    }

    /// <summary>
    /// The kept samples of an annotation store as teacher sequences: per position the sampled token (probability
    /// e^logprob) then its top-k. The text is trimmed as the training target is (<see cref="Prompts.TrainingPrompts.Target"/>),
    /// and whole positions that fall outside it — blank space the teacher emitted before or after its chain of thought,
    /// tokens past the end of the returned text — are dropped with it. Samples stored without log-probs are skipped.
    /// </summary>
    public static IEnumerable<AlignmentItem> ReadStore(string path, TeacherVocabulary vocabulary, TeacherTokenForm form)
    {
        using var store = AnnotationStore.Open(path, create: false);
        foreach (var sample in store.ReadSamples(keptOnly: true))
        {
            if (sample.Positions is not { Count: > 0 } positions) continue;
            yield return new AlignmentItem(FromStored(sample.Text, positions, vocabulary, form), sample.QuestionId, sample.SampleIndex);
        }
    }

    internal static TeacherSequence FromStored(string text, IReadOnlyList<TokenPosition> positions, TeacherVocabulary vocabulary, TeacherTokenForm form)
    {
        var raw = new List<(RawTeacherToken, double)>[positions.Count];
        for (var i = 0; i < raw.Length; i++)
        {
            var p = positions[i];
            var list = raw[i] = new List<(RawTeacherToken, double)>(p.Top.Count + 1) { (new RawTeacherToken(p.Token), Math.Exp(p.Logprob)) };
            foreach (var c in p.Top) list.Add((new RawTeacherToken(c.Token), Math.Exp(c.Logprob)));
        }
        var full = TeacherTokens.ToSequence(text, vocabulary, raw, form);
        var trimmed = text.Trim();
        var spelled = Spells(full, text);
        if (trimmed.Length == text.Length && (spelled < 0 || spelled == full.Count)) return full;
        var lead = text.Length - text.TrimStart().Length;
        var end = lead + trimmed.Length;
        // Where the tokens spell the text (perhaps running past its end), drop the positions wholly outside the trimmed
        // text; a token straddling its edge stays, and the alignment then goes by the warping rather than offsets.
        int first = 0, last = full.Count;
        if (spelled >= 0)
        {
            var cursor = 0;
            last = 0;
            for (var i = 0; i < full.Count; i++)
            {
                var start = cursor;
                cursor += full.Token(i).Length;
                if (start < lead && cursor <= lead) first = i + 1;
                if (start < end) last = i + 1;
            }
        }
        var kept = new TeacherCandidate[Math.Max(0, last - first)][];
        for (var i = first; i < last; i++) kept[i - first] = [.. full.Candidates(i)];
        return TeacherSequence.Create(trimmed, vocabulary, kept);
    }

    /// <summary>How many leading positions it takes for the tokens to spell <paramref name="text"/> (all of them when they spell exactly it), or -1 when they do not.</summary>
    private static int Spells(TeacherSequence sequence, string text)
    {
        var cursor = 0;
        for (var i = 0; i < sequence.Count; i++)
        {
            if (cursor >= text.Length) return i;
            var token = sequence.Token(i);
            var length = Math.Min(token.Length, text.Length - cursor);
            if (!token.AsSpan(0, length).SequenceEqual(text.AsSpan(cursor, length))) return -1;
            cursor += token.Length;
        }
        return cursor >= text.Length ? sequence.Count : -1;
    }

    /// <summary>
    /// Aligns <paramref name="items"/> in chunks, each on all cores, and hands the results to <paramref name="write"/>
    /// in input order, so memory stays bounded however long the input.
    /// </summary>
    public static AlignmentSummary Run(IEnumerable<AlignmentItem> items, TokenAligner aligner, Action<AlignmentItem, AlignedText> write)
    {
        var clock = Stopwatch.StartNew();
        int samples = 0, byOffsets = 0;
        long studentTokens = 0, soft = 0;
        var chunk = new List<AlignmentItem>(ChunkSize);
        void Flush()
        {
            var aligned = aligner.AlignAll(chunk.Select(c => c.Teacher).ToList());
            for (var i = 0; i < chunk.Count; i++)
            {
                write(chunk[i], aligned[i]);
                samples++;
                byOffsets += aligned[i].ByOffsets ? 1 : 0;
                studentTokens += aligned[i].StudentIds.Length;
                soft += aligned[i].Targets.SoftCount;
            }
            chunk.Clear();
        }
        foreach (var item in items)
        {
            chunk.Add(item);
            if (chunk.Count == ChunkSize) Flush();
        }
        if (chunk.Count > 0) Flush();
        return new AlignmentSummary(AlignmentOptions.ModeName(aligner.Options.Mode), samples, studentTokens, soft, byOffsets, clock.Elapsed.TotalSeconds);
    }

    /// <summary>Aligns <paramref name="items"/> (see <see cref="Run"/>) into <paramref name="stream"/>, one JSON line per text (<see cref="Write"/>).</summary>
    public static AlignmentSummary WriteJsonl(IEnumerable<AlignmentItem> items, TokenAligner aligner, Stream stream)
    {
        using var writer = new Utf8JsonWriter(stream, WriterOptions);
        return Run(items, aligner, (item, aligned) =>
        {
            Write(writer, item, aligned, aligner);
            writer.Flush();
            stream.WriteByte((byte)'\n');
            writer.Reset();
        });
    }

    /// <summary>Writes one output line's object: <c>{"question_id"?, "sample_index"?, "student_tokens": [..], "targets": [[[piece, p], ..], ..]}</c>.</summary>
    public static void Write(Utf8JsonWriter writer, AlignmentItem item, AlignedText aligned, TokenAligner aligner)
    {
        writer.WriteStartObject();
        if (item.QuestionId is not null) writer.WriteString("question_id", item.QuestionId);
        if (item.SampleIndex is { } index) writer.WriteNumber("sample_index", index);
        writer.WriteStartArray("student_tokens");
        foreach (var piece in aligned.StudentPieces) writer.WriteStringValue(piece);
        writer.WriteEndArray();
        writer.WriteStartArray("targets");
        var targets = aligned.Targets;
        for (var j = 0; j < targets.Count; j++)
        {
            writer.WriteStartArray();
            var ids = targets.Ids(j);
            var probabilities = targets.Probabilities(j);
            for (var k = 0; k < ids.Length; k++)
            {
                writer.WriteStartArray();
                writer.WriteStringValue(aligned.TargetPiece(j, ids[k], aligner.Student));
                writer.WriteNumberValue(probabilities[k]);
                writer.WriteEndArray();
            }
            writer.WriteEndArray();
        }
        writer.WriteEndArray();
        writer.WriteEndObject();
    }
}
