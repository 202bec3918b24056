using System.Text.Json;
using System.Text.Json.Nodes;

namespace Specialist.Reports;

/// <summary>What a phenomenon's rule decided.</summary>
public enum PhenomenonVerdict
{
    /// <summary>Every condition of the rule holds, intervals included.</summary>
    Observed,
    /// <summary>A point estimate fails a condition.</summary>
    NotObserved,
    /// <summary>No point estimate fails, but an interval does not clear its bar, or the rule's preconditions are not met.</summary>
    Inconclusive,
}

/// <summary>One of the paper's six phenomena as a run measured it.</summary>
/// <param name="Id"><c>P1</c> … <c>P6</c>.</param>
/// <param name="Title">What the paper found.</param>
/// <param name="Rule">The rule that decides the verdict, in words.</param>
/// <param name="Verdict">What the rule decided on this run's numbers.</param>
/// <param name="Sentence">The figures and why the rule decided as it did.</param>
/// <param name="Numbers">The numbers behind it, intervals included.</param>
public sealed record Phenomenon(string Id, string Title, string Rule, PhenomenonVerdict Verdict, string Sentence, JsonObject Numbers)
{
    /// <summary>Whether the verdict is <see cref="PhenomenonVerdict.Observed"/>.</summary>
    public bool Observed => Verdict == PhenomenonVerdict.Observed;

    /// <summary>The verdict as the report and phenomena.json write it: <c>observed</c>, <c>not observed</c> or <c>inconclusive</c>.</summary>
    public string VerdictText => Phenomena.VerdictTexts[(int)Verdict];
}

/// <summary>
/// <c>phenomena.json</c>: <c>{"phenomena": {"P1": {"title", "rule", "verdict", "observed", "sentence", "numbers"}, …}, "students": […], …}</c>,
/// the numbers behind a report's phenomena section.
/// </summary>
public static class Phenomena
{
    public const string FileName = "phenomena.json";

    internal static readonly string[] VerdictTexts = ["observed", "not observed", "inconclusive"];

    /// <summary>Writes the phenomena and the extra top-level entries (students, teacher, …) to <paramref name="path"/>.</summary>
    public static void Write(string path, IReadOnlyList<Phenomenon> phenomena, JsonObject extra)
    {
        var byId = new JsonObject();
        foreach (var p in phenomena)
            byId[p.Id] = new JsonObject
            {
                ["title"] = p.Title, ["rule"] = p.Rule, ["verdict"] = p.VerdictText, ["observed"] = p.Observed, ["sentence"] = p.Sentence,
                ["numbers"] = p.Numbers.DeepClone(),
            };
        var root = new JsonObject { ["phenomena"] = byId };
        foreach (var (key, value) in extra) root[key] = value?.DeepClone();
        AtomicFile.WriteText(path, root.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }) + "\n");
    }

    /// <summary>Reads the phenomena back from a file <see cref="Write"/> wrote; errors name the file and field.</summary>
    public static IReadOnlyList<Phenomenon> Read(string path)
    {
        var root = JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new DataFormatException(path, "top level", null, "is not a JSON object");
        if (root["phenomena"] is not JsonObject byId) throw new DataFormatException(path, "top level", "phenomena", "is not an object");
        return [.. byId.Select(p =>
        {
            if (p.Value is not JsonObject o) throw new DataFormatException(path, "phenomena", p.Key, "is not an object");
            string Text(string field) => o[field] is JsonValue v && v.TryGetValue<string>(out var s) ? s
                : throw new DataFormatException(path, $"phenomena.{p.Key}", field, "is missing or not a string");
            var verdict = Array.IndexOf(VerdictTexts, Text("verdict"));
            if (verdict < 0) throw new DataFormatException(path, $"phenomena.{p.Key}", "verdict", $"is '{Text("verdict")}', not one of {string.Join(", ", VerdictTexts)}");
            return new Phenomenon(p.Key, Text("title"), Text("rule"), (PhenomenonVerdict)verdict, Text("sentence"),
                o["numbers"] is JsonObject n ? (JsonObject)n.DeepClone() : throw new DataFormatException(path, $"phenomena.{p.Key}", "numbers", "is not an object"));
        })];
    }
}
