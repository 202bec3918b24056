using System.Text.Json;
using System.Text.Json.Serialization;
using Parquet;
using Parquet.Serialization;

namespace Specialist.Teachers;

/// <summary>The file formats <see cref="StoreExport.Write"/> writes.</summary>
public enum ExportFormat
{
    /// <summary>One JSON object per line.</summary>
    Jsonl,

    /// <summary>Apache Parquet: the same fields as columns; a top-k entry is a struct <c>{token, logprob}</c>.</summary>
    Parquet,
}

/// <summary>
/// <c>specialist store export</c>: one row per sample with <c>question_id</c>, <c>sample_index</c>, <c>text</c>,
/// <c>kept</c>, <c>answer</c>, <c>finish_reason</c>, <c>tokens</c> (the teacher's token strings), <c>token_logprobs</c>
/// (the sampled tokens' log-probs) and <c>top_logprobs</c> (per position a list of [token, logprob]). Written to a
/// temporary file and moved into place, so a reader never sees half a file.
/// </summary>
public static class StoreExport
{
    private const int ParquetRowGroup = 10_000;

    /// <summary>Reads <c>jsonl</c> or <c>parquet</c>.</summary>
    public static ExportFormat ParseFormat(string name) => name switch
    {
        "jsonl" => ExportFormat.Jsonl,
        "parquet" => ExportFormat.Parquet,
        _ => throw new SpecialistException($"unknown export format '{name}': use 'jsonl' or 'parquet'"),
    };

    /// <summary>Writes the store's samples (only kept ones with <paramref name="keptOnly"/>); returns the rows written.</summary>
    public static long Write(AnnotationStore store, string path, ExportFormat format, bool keptOnly)
    {
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var temporary = full + ".tmp";
        long rows;
        try
        {
            rows = format == ExportFormat.Jsonl
                ? WriteJsonl(store.ReadSamples(keptOnly), temporary)
                : WriteParquetAsync(store.ReadSamples(keptOnly), temporary).GetAwaiter().GetResult();
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
        File.Move(temporary, full, overwrite: true);
        return rows;
    }

    private static long WriteJsonl(IEnumerable<StoredSample> samples, string path)
    {
        long rows = 0;
        using var stream = File.Create(path);
        using var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        foreach (var s in samples)
        {
            json.WriteStartObject();
            json.WriteString("question_id", s.QuestionId);
            json.WriteNumber("sample_index", s.SampleIndex);
            json.WriteString("text", s.Text);
            json.WriteBoolean("kept", s.Kept);
            if (s.Answer is { } answer && double.IsFinite(answer)) json.WriteNumber("answer", answer);
            else json.WriteNull("answer");
            json.WriteString("finish_reason", s.FinishReason);
            if (s.Positions is { } positions)
            {
                json.WriteStartArray("tokens");
                foreach (var p in positions) json.WriteStringValue(p.Token);
                json.WriteEndArray();
                json.WriteStartArray("token_logprobs");
                foreach (var p in positions) WriteLogprob(json, p.Logprob);
                json.WriteEndArray();
                json.WriteStartArray("top_logprobs");
                foreach (var p in positions)
                {
                    json.WriteStartArray();
                    foreach (var c in p.Top)
                    {
                        json.WriteStartArray();
                        json.WriteStringValue(c.Token);
                        WriteLogprob(json, c.Logprob);
                        json.WriteEndArray();
                    }
                    json.WriteEndArray();
                }
                json.WriteEndArray();
            }
            else
            {
                json.WriteNull("tokens");
                json.WriteNull("token_logprobs");
                json.WriteNull("top_logprobs");
            }
            json.WriteEndObject();
            json.Flush();
            json.Reset(); // one JSON document per line
            stream.WriteByte((byte)'\n');
            rows++;
        }
        return rows;
    }

    // JSON has no NaN: a log-prob the teacher did not give is written as null.
    private static void WriteLogprob(Utf8JsonWriter json, float logprob)
    {
        if (float.IsFinite(logprob)) json.WriteNumberValue(logprob);
        else json.WriteNullValue();
    }

    private static async Task<long> WriteParquetAsync(IEnumerable<StoredSample> samples, string path)
    {
        long rows = 0;
        await using var stream = File.Create(path);
        var options = new ParquetOptions();
        foreach (var chunk in samples.Chunk(ParquetRowGroup))
        {
            await ParquetSerializer.SerializeAsync(chunk.Select(ParquetRow.From), stream, options);
            options = new ParquetOptions { Append = true };
            rows += chunk.Length;
        }
        if (rows == 0) await ParquetSerializer.SerializeAsync(Array.Empty<ParquetRow>(), stream, options);
        return rows;
    }

    /// <summary>One Parquet row; the property names become the column names.</summary>
    internal sealed class ParquetRow
    {
        [JsonPropertyName("question_id")] public string QuestionId { get; set; } = "";
        [JsonPropertyName("sample_index")] public int SampleIndex { get; set; }
        [JsonPropertyName("text")] public string Text { get; set; } = "";
        [JsonPropertyName("kept")] public bool Kept { get; set; }
        [JsonPropertyName("answer")] public double? Answer { get; set; }
        [JsonPropertyName("finish_reason")] public string? FinishReason { get; set; }
        [JsonPropertyName("tokens")] public List<string>? Tokens { get; set; }
        [JsonPropertyName("token_logprobs")] public List<float>? TokenLogprobs { get; set; }
        [JsonPropertyName("top_logprobs")] public List<List<ParquetCandidate>>? TopLogprobs { get; set; }

        public static ParquetRow From(StoredSample s) => new()
        {
            QuestionId = s.QuestionId,
            SampleIndex = s.SampleIndex,
            Text = s.Text,
            Kept = s.Kept,
            Answer = s.Answer,
            FinishReason = s.FinishReason,
            Tokens = s.Positions?.Select(p => p.Token).ToList(),
            TokenLogprobs = s.Positions?.Select(p => p.Logprob).ToList(),
            TopLogprobs = s.Positions?.Select(p => p.Top.Select(c => new ParquetCandidate { Token = c.Token, Logprob = c.Logprob }).ToList()).ToList(),
        };
    }

    /// <summary>A top-k entry in Parquet.</summary>
    internal sealed class ParquetCandidate
    {
        [JsonPropertyName("token")] public string Token { get; set; } = "";
        [JsonPropertyName("logprob")] public float Logprob { get; set; }
    }
}
