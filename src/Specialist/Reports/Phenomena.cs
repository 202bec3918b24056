using System.Text.Json;
using System.Text.Json.Nodes;

namespace Specialist.Reports;

/// <summary>One of the paper's six phenomena as a run measured it.</summary>
/// <param name="Id"><c>P1</c> … <c>P6</c>.</param>
/// <param name="Title">What the paper found.</param>
/// <param name="Observed">Whether this run shows it, by the rule <paramref name="Sentence"/> states.</param>
/// <param name="Sentence">One honest sentence with the figure, including when the effect did not appear.</param>
/// <param name="Numbers">The numbers behind it.</param>
public sealed record Phenomenon(string Id, string Title, bool Observed, string Sentence, JsonObject Numbers);

/// <summary>
/// <c>phenomena.json</c>: <c>{"phenomena": {"P1": {"title", "observed", "sentence", "numbers"}, …}, "students": […], …}</c>,
/// the numbers behind a report's phenomena section.
/// </summary>
public static class Phenomena
{
    public const string FileName = "phenomena.json";

    /// <summary>Writes the phenomena and the extra top-level entries (students, teacher, …) to <paramref name="path"/>.</summary>
    public static void Write(string path, IReadOnlyList<Phenomenon> phenomena, JsonObject extra)
    {
        var byId = new JsonObject();
        foreach (var p in phenomena)
            byId[p.Id] = new JsonObject { ["title"] = p.Title, ["observed"] = p.Observed, ["sentence"] = p.Sentence, ["numbers"] = p.Numbers.DeepClone() };
        var root = new JsonObject { ["phenomena"] = byId };
        foreach (var (key, value) in extra) root[key] = value?.DeepClone();
        AtomicFile.WriteText(path, root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }

    /// <summary>Reads the phenomena back from a file <see cref="Write"/> wrote.</summary>
    public static IReadOnlyList<Phenomenon> Read(string path)
    {
        var root = JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new DataFormatException(path, "top level", null, "is not a JSON object");
        if (root["phenomena"] is not JsonObject byId) throw new DataFormatException(path, "top level", "phenomena", "is not an object");
        return [.. byId.Select(p => p.Value is JsonObject o
            ? new Phenomenon(p.Key, o["title"]?.GetValue<string>() ?? "", o["observed"]?.GetValue<bool>() ?? false, o["sentence"]?.GetValue<string>() ?? "",
                o["numbers"] as JsonObject is { } n ? (JsonObject)n.DeepClone() : new JsonObject())
            : throw new DataFormatException(path, "phenomena", p.Key, "is not an object"))];
    }
}
