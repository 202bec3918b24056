namespace Specialist.Answers;

/// <summary>What kind of gold answer a problem has.</summary>
public enum GoldAnswerKind
{
    /// <summary>One number (integer, decimal or fraction); <see cref="GoldAnswer.Number"/> holds it.</summary>
    Number,
    /// <summary>A clock time such as "3:45"; compared as text.</summary>
    Time,
    /// <summary>Several values (e.g. ASDiv "3 (red); 5 (blue)"); compared as text.</summary>
    MultipleValues,
    /// <summary>Free text (BBH targets, ASDiv word answers); compared as text.</summary>
    Text,
}

/// <summary>A problem's gold answer: its text as the data set gives it and, when it is one number, that number.</summary>
public sealed record GoldAnswer(GoldAnswerKind Kind, string Text, double? Number)
{
    public static GoldAnswer FromNumber(double value, string? text = null) =>
        new(GoldAnswerKind.Number, text ?? value.ToString("R", System.Globalization.CultureInfo.InvariantCulture), value);

    public static GoldAnswer FromText(string text, GoldAnswerKind kind = GoldAnswerKind.Text) => new(kind, text, null);

    public bool IsNumeric => Kind == GoldAnswerKind.Number && Number is not null;
}
