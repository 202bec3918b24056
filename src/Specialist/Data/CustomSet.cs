using System.Text.Json;
using Specialist.Answers;

namespace Specialist.Data;

/// <summary>
/// A user's own file: a JSON array of objects (the first non-blank character is '[') or JSONL (one object per line,
/// blank lines skipped). Question and answer come from <see cref="CustomSetOptions"/>' field paths; id =
/// <c>&lt;file stem&gt;/&lt;id field's value&gt;</c>, or <c>&lt;file stem&gt;/&lt;0-based record number&gt;</c> without an id field.
/// An answer that is a JSON number is that number; a string is read by <see cref="GoldAnswerText"/>
/// ("1,234", "-5", "3.5", "$7", "1/2" are numbers; other text stays text).
/// </summary>
internal static class CustomSet
{
    public static List<Problem> Load(CustomSetOptions options)
    {
        var questionField = FieldPath.Parse(options.QuestionField);
        var answerField = FieldPath.Parse(options.AnswerField);
        var idField = options.IdField is { } id ? FieldPath.Parse(id) : null;
        var file = Path.GetFullPath(options.Path);
        var text = DataFiles.ReadUserFile(file);
        var stem = Path.GetFileNameWithoutExtension(file);
        var ids = new HashSet<string>(StringComparer.Ordinal);

        Problem Read(JsonRecord record)
        {
            var key = idField is null ? record.Index.ToString(System.Globalization.CultureInfo.InvariantCulture) : ReadId(record, idField);
            if (!ids.Add(key)) throw record.Error(idField?.Text, $"id '{key}' appears twice");
            return new Problem($"{stem}/{key}", record.String(questionField), ReadAnswer(record, answerField));
        }

        var trimmed = text.AsSpan().Trim();
        List<Problem> problems;
        if (trimmed.StartsWith("[")) problems = DataFiles.ReadJsonArray(file, text, Read);
        else if (trimmed.Contains('\n') && IsOneJsonValue(text, out var kind))
            throw new DataFormatException(file, "top level", null,
                $"is {FieldPath.Describe(kind)} spread over several lines; expected a JSON array of records or JSONL (one object per line)");
        else problems = DataFiles.ReadJsonl(file, text, Read);
        return problems.Count > 0 ? problems : throw new DataFormatException(file, "top level", null, "holds no records");
    }

    private static string ReadId(JsonRecord record, FieldPath field)
    {
        var value = record.Field(field);
        return value.ValueKind switch
        {
            JsonValueKind.String => record.String(field),
            JsonValueKind.Number => value.GetRawText(),
            _ => throw record.Error(field.Text, $"is {FieldPath.Describe(value.ValueKind)}, not a string or a number"),
        };
    }

    private static GoldAnswer ReadAnswer(JsonRecord record, FieldPath field)
    {
        var value = record.Field(field);
        return value.ValueKind switch
        {
            JsonValueKind.Number => GoldAnswer.FromNumber(record.Number(field)),
            JsonValueKind.String => GoldAnswerText.Parse(record.String(field)),
            _ => throw record.Error(field.Text, $"is {FieldPath.Describe(value.ValueKind)}, not a number or a string"),
        };
    }

    // A pretty-printed object parses as one document, while JSONL with two or more records does not.
    private static bool IsOneJsonValue(string text, out JsonValueKind kind)
    {
        try
        {
            using var document = JsonDocument.Parse(text);
            kind = document.RootElement.ValueKind;
            return true;
        }
        catch (JsonException)
        {
            kind = JsonValueKind.Undefined;
            return false;
        }
    }
}
