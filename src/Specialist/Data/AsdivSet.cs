using System.Text.RegularExpressions;
using System.Xml;
using System.Xml.Linq;
using Specialist.Answers;

namespace Specialist.Data;

/// <summary>
/// ASDiv (asdiv/ASDiv.xml): every <c>&lt;Problem ID=...&gt;</c> with <c>Body</c>, <c>Question</c>, <c>Solution-Type</c>
/// and <c>Answer</c>. Question = Body + " " + Question (both trimmed), as PAL's ASDiv subset writes it; id = <c>asdiv/&lt;ID&gt;</c>.
/// </summary>
/// <remarks>
/// Answers are normalised: units in parentheses are dropped ("9 (apples)" → 9), then the text is read as in
/// <see cref="GoldAnswerText"/>: one number (fractions too: "5/2" → 2.5 with text "5/2"), a clock time ("3:45"),
/// several numbers ("5 (years old); 15 (years old)" → "5; 15") or words ("Yes", "Mrs. Hilt").
/// An "a:b" answer to a <c>Ratio</c> problem ("5:6") is a ratio, not a time: it stays text.
/// </remarks>
internal static partial class AsdivSet
{
    public static List<Problem> Load(string root)
    {
        var file = DataFiles.Require(root, Path.Combine("asdiv", "ASDiv.xml"));
        XDocument document;
        try
        {
            document = XDocument.Load(file, LoadOptions.SetLineInfo);
        }
        catch (XmlException e)
        {
            throw new DataFormatException(file, $"line {e.LineNumber}", null, $"is not well-formed XML ({e.Message})");
        }
        var problems = new List<Problem>();
        var ids = new HashSet<string>(StringComparer.Ordinal);
        foreach (var element in document.Descendants("Problem"))
        {
            var line = ((IXmlLineInfo)element).LineNumber;
            var id = element.Attribute("ID")?.Value.Trim();
            if (string.IsNullOrEmpty(id)) throw new DataFormatException(file, $"line {line}", "ID", "is missing (a <Problem> needs an ID attribute)");
            var location = $"problem {id} (line {line})";
            if (!ids.Add(id)) throw new DataFormatException(file, location, "ID", "appears twice");
            var body = Child(element, "Body", file, location);
            var question = Child(element, "Question", file, location);
            var answer = Child(element, "Answer", file, location);
            var solutionType = element.Element("Solution-Type")?.Value.Trim();
            problems.Add(new Problem($"asdiv/{id}", $"{body} {question}", ParseAnswer(answer, solutionType)));
        }
        if (problems.Count == 0) throw new DataFormatException(file, "top level", "Problem", "has no <Problem> elements");
        return problems;
    }

    internal static GoldAnswer ParseAnswer(string answer, string? solutionType)
    {
        var withoutUnits = Unit().Replace(answer, "").Trim();
        return solutionType == "Ratio" && Ratio().IsMatch(withoutUnits)
            ? GoldAnswer.FromText(withoutUnits)
            : GoldAnswerText.Parse(withoutUnits);
    }

    private static string Child(XElement problem, string name, string file, string location)
    {
        var text = problem.Element(name)?.Value.Trim();
        return string.IsNullOrEmpty(text) ? throw new DataFormatException(file, location, name, problem.Element(name) is null ? "is missing" : "is empty") : text;
    }

    // A parenthesised unit holds a letter ("(apples)", "(sq. ft)"); "-(1/3)" is a number, not a unit.
    [GeneratedRegex(@"\s*\([^()]*\p{L}[^()]*\)", RegexOptions.CultureInvariant)]
    private static partial Regex Unit();

    [GeneratedRegex(@"^\d+:\d+$", RegexOptions.CultureInvariant)]
    private static partial Regex Ratio();
}
