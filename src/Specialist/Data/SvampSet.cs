using Specialist.Answers;

namespace Specialist.Data;

/// <summary>
/// SVAMP (svamp/SVAMP.json: a JSON array of <c>{ID, Body, Question, Equation, Answer, Type}</c>); id = <c>svamp/&lt;ID&gt;</c>.
/// </summary>
internal static class SvampSet
{
    public static List<Problem> Load(string root)
    {
        var file = DataFiles.Require(root, Path.Combine("svamp", "SVAMP.json"));
        var ids = new HashSet<string>(StringComparer.Ordinal);
        return DataFiles.ReadJsonArray(file, File.ReadAllText(file), record =>
        {
            var id = record.String("ID");
            if (!ids.Add(id)) throw record.Error("ID", $"'{id}' appears twice");
            var question = JoinQuestion(record.String("Body"), record.String("Question"));
            return new Problem($"svamp/{id}", question, GoldAnswer.FromNumber(record.Number("Answer")));
        });
    }

    /// <summary>
    /// Body + ". " + Question (METHOD §6), both already trimmed; when Body already ends a sentence ('.', '?' or '!') they are joined
    /// with a single space instead, so no period is doubled: "He had 4 apples" + "How many?" → "He had 4 apples. How many?";
    /// "He had 4 apples." + "How many?" → "He had 4 apples. How many?".
    /// </summary>
    internal static string JoinQuestion(string body, string question) =>
        body.EndsWith('.') || body.EndsWith('?') || body.EndsWith('!') ? $"{body} {question}" : $"{body}. {question}";
}
