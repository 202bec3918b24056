using System.Globalization;
using System.Text.Json;

namespace Specialist;

/// <summary>
/// A field of a JSON record named by a dotted path with array indices: <c>question</c>, <c>meta.answer</c>,
/// <c>lSolutions[0]</c>, <c>a.b[2][0].c</c>. Names cannot contain '.', '[' or ']'.
/// </summary>
public sealed class FieldPath
{
    /// <summary>One step: a property name, or an array index when <see cref="Name"/> is null.</summary>
    private readonly record struct Step(string? Name, int Index);

    private readonly Step[] _steps;

    private FieldPath(string text, Step[] steps) { Text = text; _steps = steps; }

    /// <summary>The path as written.</summary>
    public string Text { get; }

    public override string ToString() => Text;

    /// <summary>Parses a path; throws <see cref="SpecialistException"/> naming what is wrong with it.</summary>
    public static FieldPath Parse(string text)
    {
        var steps = new List<Step>();
        var i = 0;
        while (i < text.Length)
        {
            if (text[i] == '[')
            {
                var close = text.IndexOf(']', i);
                if (close < 0) throw Invalid(text, $"'[' at position {i + 1} has no closing ']'");
                var digits = text[(i + 1)..close];
                if (digits.Length == 0 || !digits.All(char.IsAsciiDigit) || !int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var index))
                    throw Invalid(text, $"'[{digits}]' is not an array index (a whole number like [0])");
                steps.Add(new Step(null, index));
                i = close + 1;
                if (i < text.Length && text[i] is not ('.' or '['))
                    throw Invalid(text, $"'{text[i]}' at position {i + 1} must follow ']' with '.' or '['");
                if (i < text.Length && text[i] == '.')
                {
                    i++;
                    if (i == text.Length) throw Invalid(text, "it ends with '.'");
                }
                continue;
            }
            var end = i;
            while (end < text.Length && text[end] is not ('.' or '[' or ']')) end++;
            if (end == i) throw Invalid(text, text[i] == ']' ? $"']' at position {i + 1} has no opening '['" : $"empty name at position {i + 1}");
            steps.Add(new Step(text[i..end], 0));
            i = end;
            if (i < text.Length && text[i] == '.')
            {
                i++;
                if (i == text.Length) throw Invalid(text, "it ends with '.'");
            }
        }
        if (steps.Count == 0) throw Invalid(text, "it is empty");
        return new FieldPath(text, steps.ToArray());
    }

    /// <summary>
    /// Follows the path from <paramref name="record"/>. On failure returns false and says why
    /// (e.g. "'meta' has no field 'answer'", "index 3 is out of range: 'lSolutions' has 1 element").
    /// </summary>
    public bool TryResolve(JsonElement record, out JsonElement value, out string problem)
    {
        var current = record;
        var walked = "";
        foreach (var step in _steps)
        {
            var where = walked.Length == 0 ? "the record" : $"'{walked}'";
            if (step.Name is { } name)
            {
                if (current.ValueKind != JsonValueKind.Object)
                    return Fail(out value, out problem, $"{where} is {Describe(current.ValueKind)}, not an object with field '{name}'");
                if (!current.TryGetProperty(name, out current))
                    return Fail(out value, out problem, walked.Length == 0 ? "is missing" : $"is missing ({where} has no field '{name}')");
                walked = walked.Length == 0 ? name : walked + "." + name;
            }
            else
            {
                if (current.ValueKind != JsonValueKind.Array)
                    return Fail(out value, out problem, $"{where} is {Describe(current.ValueKind)}, not an array to index with [{step.Index}]");
                var length = current.GetArrayLength();
                if (step.Index >= length)
                    return Fail(out value, out problem, $"index {step.Index} is out of range: {where} has {length} element{(length == 1 ? "" : "s")}");
                current = current[step.Index];
                walked += $"[{step.Index}]";
            }
        }
        value = current;
        problem = "";
        return true;
    }

    /// <summary>"a string", "a number", "an object", ... for messages.</summary>
    public static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "undefined",
    };

    private static bool Fail(out JsonElement value, out string problem, string why)
    {
        value = default;
        problem = why;
        return false;
    }

    private static SpecialistException Invalid(string text, string why) =>
        new($"invalid field path '{text}': {why} (write fields as name, a.b or name[0])");
}
