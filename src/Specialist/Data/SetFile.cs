using System.Text.Encodings.Web;
using System.Text.Json;
using Specialist.Answers;

namespace Specialist.Data;

/// <summary>
/// A set of problems as JSONL in the <c>custom</c> set's layout, one <c>{"id", "question", "answer", "rationale"}</c>
/// object per line; a numeric answer is a JSON number, any other a string. <c>specialist data stats custom --path FILE
/// --question-field question --answer-field answer --id-field id</c> reads it; <see cref="Read"/> gives back the same
/// problems, rationales included. Written to <c>&lt;data root&gt;/sets/&lt;name&gt;.jsonl</c>
/// (<see cref="ProblemSets.SetFilePath"/>), it is a set every command loads by name; the synthetic sets are such files.
/// </summary>
public static class SetFile
{
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Writes <paramref name="problems"/> to <paramref name="path"/> (atomically: readers never see half a file), creating its folder if need be.</summary>
    public static void Write(string path, IEnumerable<Problem> problems)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        AtomicFile.Write(path, stream =>
        {
            foreach (var problem in problems)
            {
                using (var json = new Utf8JsonWriter(stream, WriterOptions))
                {
                    json.WriteStartObject();
                    json.WriteString("id", problem.Id);
                    json.WriteString("question", problem.Question);
                    if (problem.Answer.IsNumeric) json.WriteNumber("answer", problem.Answer.Number!.Value);
                    else json.WriteString("answer", problem.Answer.Text);
                    if (problem.Rationale is { } rationale) json.WriteString("rationale", rationale);
                    json.WriteEndObject();
                }
                stream.WriteByte((byte)'\n');
            }
        });
    }

    /// <summary>Reads a file <see cref="Write"/> wrote; errors name the file, the line and the field.</summary>
    public static IReadOnlyList<Problem> Read(string path)
    {
        var file = Path.GetFullPath(path);
        var ids = new HashSet<string>(StringComparer.Ordinal);
        return DataFiles.ReadJsonl(file, DataFiles.ReadUserFile(file), record =>
        {
            var id = record.String("id");
            if (!ids.Add(id)) throw record.Error("id", $"id '{id}' appears twice");
            var answer = record.Field("answer");
            var gold = answer.ValueKind switch
            {
                JsonValueKind.Number => GoldAnswer.FromNumber(record.Number("answer")),
                JsonValueKind.String => GoldAnswer.FromText(record.String("answer")),
                _ => throw record.Error("answer", $"is {FieldPath.Describe(answer.ValueKind)}, not a number or a string"),
            };
            var rationale = record.Element.TryGetProperty("rationale", out _) ? record.String("rationale") : null;
            return new Problem(id, record.String("question"), gold, rationale);
        });
    }
}
