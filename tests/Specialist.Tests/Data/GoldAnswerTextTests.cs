using System.Text.Json;
using Specialist.Answers;
using Specialist.Data;

namespace Specialist.Tests.Data;

/// <summary>Reading typed gold answers, and the dotted field paths of custom sets.</summary>
public class GoldAnswerTextTests
{
    [Theory]
    [InlineData("42", "42", 42.0)]
    [InlineData(" -5 ", "-5", -5.0)]
    [InlineData("+5", "5", 5.0)]
    [InlineData("3.50", "3.50", 3.5)]
    [InlineData(".5", ".5", 0.5)]
    [InlineData("1,234", "1234", 1234.0)]
    [InlineData("-1,234,567.25", "-1234567.25", -1234567.25)]
    [InlineData("$7", "7", 7.0)]
    [InlineData("-$7.25", "-7.25", -7.25)]
    [InlineData("1/2", "1/2", 0.5)]
    [InlineData("-(1/4)", "-1/4", -0.25)]
    public void Numbers_as_data_sets_type_them(string typed, string text, double value)
    {
        var answer = GoldAnswerText.Parse(typed);
        Assert.Equal(GoldAnswerKind.Number, answer.Kind);
        Assert.Equal(text, answer.Text);
        Assert.Equal(value, answer.Number);
        Assert.True(answer.IsNumeric);
    }

    [Theory]
    [InlineData("3:45", GoldAnswerKind.Time, "3:45")]
    [InlineData("12:10 p.m.", GoldAnswerKind.Time, "12:10 p.m.")]
    [InlineData("9:03:36", GoldAnswerKind.Time, "9:03:36")]
    [InlineData("5; 6", GoldAnswerKind.MultipleValues, "5; 6")]
    [InlineData("1,2", GoldAnswerKind.MultipleValues, "1; 2")]
    [InlineData("Yes", GoldAnswerKind.Text, "Yes")]
    [InlineData("Paris, France", GoldAnswerKind.Text, "Paris, France")]
    [InlineData("1/0", GoldAnswerKind.Text, "1/0")]
    [InlineData("12,34", GoldAnswerKind.MultipleValues, "12; 34")]
    [InlineData("7 apples", GoldAnswerKind.Text, "7 apples")]
    public void Times_several_values_and_words_are_not_numbers(string typed, GoldAnswerKind kind, string text)
    {
        var answer = GoldAnswerText.Parse(typed);
        Assert.Equal(kind, answer.Kind);
        Assert.Equal(text, answer.Text);
        Assert.Null(answer.Number);
    }

    [Theory]
    [InlineData("5 (years old); 15 (years old)", null, GoldAnswerKind.MultipleValues, "5; 15")]
    [InlineData("128 (sq. ft)", null, GoldAnswerKind.Number, "128")]
    [InlineData("9:10", "Ratio", GoldAnswerKind.Text, "9:10")]
    [InlineData("9:10", "Addition", GoldAnswerKind.Time, "9:10")]
    [InlineData("0.5", "Ratio", GoldAnswerKind.Number, "0.5")]
    public void Asdiv_drops_units_and_keeps_ratios_as_text(string typed, string? solutionType, GoldAnswerKind kind, string text)
    {
        var answer = AsdivSet.ParseAnswer(typed, solutionType);
        Assert.Equal(kind, answer.Kind);
        Assert.Equal(text, answer.Text);
    }

    private static JsonElement Record(string json) => JsonDocument.Parse(json).RootElement;

    [Theory]
    [InlineData("q", "\"hi\"")]
    [InlineData("meta.answer", "\"7\"")]
    [InlineData("lSolutions[0]", "39.0")]
    [InlineData("a.b[1][0].c", "true")]
    [InlineData("a.b[1][0]", "{\"c\":true}")]
    public void Field_paths_reach_nested_values(string path, string expectedJson)
    {
        var record = Record("""{"q":"hi","meta":{"answer":"7"},"lSolutions":[39.0],"a":{"b":[1,[{"c":true}]]}}""");
        Assert.True(FieldPath.Parse(path).TryResolve(record, out var value, out var problem), problem);
        Assert.Equal(expectedJson, value.GetRawText());
    }

    [Theory]
    [InlineData("missing", "is missing")]
    [InlineData("meta.question", "is missing ('meta' has no field 'question')")]
    [InlineData("lSolutions[1]", "index 1 is out of range: 'lSolutions' has 1 element")]
    [InlineData("meta[0]", "'meta' is an object, not an array to index with [0]")]
    [InlineData("q.x", "'q' is a string, not an object with field 'x'")]
    public void Unreachable_fields_say_why(string path, string problem)
    {
        var record = Record("""{"q":"hi","meta":{"answer":"7"},"lSolutions":[39.0]}""");
        Assert.False(FieldPath.Parse(path).TryResolve(record, out _, out var why));
        Assert.Equal(problem, why);
    }

    [Theory]
    [InlineData("")]
    [InlineData("a..b")]
    [InlineData(".a")]
    [InlineData("a.")]
    [InlineData("a[")]
    [InlineData("a[x]")]
    [InlineData("a[-1]")]
    [InlineData("a]")]
    [InlineData("a[0]b")]
    public void Malformed_field_paths_are_rejected(string path)
    {
        var e = Assert.Throws<SpecialistException>(() => FieldPath.Parse(path));
        Assert.Contains($"invalid field path '{path}'", e.Message);
    }
}
