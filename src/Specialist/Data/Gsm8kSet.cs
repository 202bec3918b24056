using System.Text.Json;
using System.Text.RegularExpressions;
using Specialist.Answers;

namespace Specialist.Data;

/// <summary>GSM8K gold rationales: the worked answer before <c>#### N</c>.</summary>
public static partial class GsmRationale
{
    /// <summary>Removes the calculator annotations <c>&lt;&lt;48/2=24&gt;&gt;</c> ("48/2 = &lt;&lt;48/2=24&gt;&gt;24" → "48/2 = 24").</summary>
    public static string StripCalculatorMarks(string rationale) => CalculatorMark().Replace(rationale, "");

    [GeneratedRegex(@"<<[^<>]*>>", RegexOptions.CultureInvariant)]
    private static partial Regex CalculatorMark();
}

/// <summary>
/// GSM8K (gsm8k/train.jsonl, test.jsonl: <c>{question, answer}</c>, answer = rationale + "\n#### N").
/// Ids are <c>gsm8k-train/&lt;i&gt;</c> / <c>gsm8k-test/&lt;i&gt;</c> with i the 0-based record number (= line number in the
/// published files, which have no blank lines). The dev set is the 200 train problems listed in gsm8k/dev_indices.json,
/// in that file's order, keeping their train ids.
/// </summary>
internal static class Gsm8kSet
{
    private const string Marker = "####";

    public static List<Problem> Load(string root, string split)
    {
        var file = DataFiles.Require(root, Path.Combine("gsm8k", $"{split}.jsonl"));
        var prefix = $"gsm8k-{split}/";
        return DataFiles.ReadJsonl(file, File.ReadAllText(file), record => Read(record, prefix));
    }

    public static List<Problem> LoadDev(string root)
    {
        var train = Load(root, "train");
        var file = DataFiles.Require(root, Path.Combine("gsm8k", "dev_indices.json"));
        using var document = JsonInput.ParseDocument(file, File.ReadAllText(file));
        if (document.RootElement.ValueKind != JsonValueKind.Array)
            throw new DataFormatException(file, "top level", null, $"is {FieldPath.Describe(document.RootElement.ValueKind)}, not a JSON array of train indices");
        var dev = new List<Problem>(document.RootElement.GetArrayLength());
        var seen = new HashSet<int>();
        foreach (var element in document.RootElement.EnumerateArray())
        {
            var location = $"record {dev.Count}";
            if (element.ValueKind != JsonValueKind.Number || !element.TryGetInt32(out var index))
                throw new DataFormatException(file, location, null, $"{element.GetRawText()} is not a whole-number train index");
            if (index < 0 || index >= train.Count)
                throw new DataFormatException(file, location, null, $"train index {index} is out of range (gsm8k/train.jsonl has {train.Count} problems)");
            if (!seen.Add(index))
                throw new DataFormatException(file, location, null, $"train index {index} is listed twice");
            dev.Add(train[index]);
        }
        return dev;
    }

    private static Problem Read(JsonRecord record, string prefix)
    {
        var question = record.String("question");
        var answer = record.String("answer");
        var marker = answer.LastIndexOf(Marker, StringComparison.Ordinal);
        if (marker < 0) throw record.Error("answer", $"has no final answer '{Marker} N'");
        var final = answer[(marker + Marker.Length)..].Trim();
        if (!GoldAnswerText.TryParseNumber(final, out var value, out var text))
            throw record.Error("answer", $"final answer '{final}' after '{Marker}' is not a number");
        return new Problem(prefix + record.Index, question, GoldAnswer.FromNumber(value, text), answer[..marker].Trim());
    }
}
