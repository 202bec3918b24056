using System.Text.Json;
using Specialist.Answers;

namespace Specialist.Data;

/// <summary>
/// BIG-Bench Hard under the data root: <c>bbh/bbh/&lt;task&gt;.json</c> (<c>{canary, examples: [{input, target}]}</c>) and
/// <c>bbh/cot-prompts/&lt;task&gt;.txt</c> (canary line, <c>-----</c>, task description, worked examples
/// <c>Q: … A: Let's think step by step. … So the answer is X.</c>).
/// </summary>
public static class BbhData
{
    /// <summary>The line that opens each exemplar's answer.</summary>
    public const string AnswerCue = "A: Let's think step by step.";

    private const string QuestionStart = "Q: ";
    private const string AnswerIntro = "So the answer is ";
    private static readonly string TasksFolder = Path.Combine("bbh", "bbh");
    private static readonly string PromptsFolder = Path.Combine("bbh", "cot-prompts");

    /// <summary>The task names (the <c>bbh/bbh/*.json</c> file names), in ordinal order.</summary>
    public static IReadOnlyList<string> TaskNames(string root)
    {
        var folder = DataFiles.RequireFolder(root, TasksFolder);
        var names = Directory.EnumerateFiles(folder, "*.json").Select(f => Path.GetFileNameWithoutExtension(f)).Order(StringComparer.Ordinal).ToList();
        return names.Count > 0 ? names : throw new SpecialistException($"no BBH task files (*.json) in {folder}; {DataFiles.Layout}");
    }

    /// <summary>Loads and parses a task's 3-shot CoT prompt (<c>bbh/cot-prompts/&lt;task&gt;.txt</c>).</summary>
    public static BbhPrompt LoadPrompt(string root, string task)
    {
        RequireTask(root, task);
        var file = DataFiles.Require(root, Path.Combine(PromptsFolder, task + ".txt"));
        return ParsePrompt(task, File.ReadAllText(file), file);
    }

    /// <summary>A task's examples as problems: id <c>bbh/&lt;task&gt;/&lt;i&gt;</c>, question = input, gold = target as text.</summary>
    public static IReadOnlyList<Problem> LoadTask(string root, string task)
    {
        RequireTask(root, task);
        return ReadTask(root, task);
    }

    /// <summary><see cref="LoadTask"/> for a task name already known to exist.</summary>
    internal static List<Problem> ReadTask(string root, string task)
    {
        var file = DataFiles.Require(root, Path.Combine(TasksFolder, task + ".json"));
        using var document = JsonInput.ParseDocument(file, File.ReadAllText(file));
        var top = document.RootElement;
        if (top.ValueKind != JsonValueKind.Object)
            throw new DataFormatException(file, "top level", null, $"is {FieldPath.Describe(top.ValueKind)}, not an object with 'examples'");
        if (!top.TryGetProperty("examples", out var examples))
            throw new DataFormatException(file, "top level", "examples", "is missing");
        if (examples.ValueKind != JsonValueKind.Array)
            throw new DataFormatException(file, "top level", "examples", $"is {FieldPath.Describe(examples.ValueKind)}, not an array");
        if (examples.GetArrayLength() == 0)
            throw new DataFormatException(file, "top level", "examples", "is empty");
        var problems = new List<Problem>(examples.GetArrayLength());
        foreach (var example in examples.EnumerateArray())
        {
            var record = new JsonRecord(file, $"example {problems.Count}", problems.Count, example);
            if (example.ValueKind != JsonValueKind.Object)
                throw record.Error(null, $"is {FieldPath.Describe(example.ValueKind)}, not a JSON object");
            problems.Add(new Problem($"bbh/{task}/{record.Index}", record.String("input"), GoldAnswer.FromText(record.String("target"))));
        }
        return problems;
    }

    /// <summary>Parses a prompt file's text; errors name <paramref name="file"/> and the 1-based line.</summary>
    internal static BbhPrompt ParsePrompt(string task, string fileText, string file)
    {
        var lines = fileText.ReplaceLineEndings("\n").Split('\n');
        var dash = Array.FindIndex(lines, l => l.TrimEnd() == "-----");
        if (dash < 0) throw new DataFormatException(file, "top level", null, "has no '-----' line (expected a canary line, '-----', then the prompt)");
        var body = lines[(dash + 1)..];
        var text = string.Join('\n', body).TrimEnd('\n');

        // Exemplar i spans body lines starts[i] .. starts[i+1]-1; a body line's file line is dash + 2 + its index.
        var starts = Enumerable.Range(0, body.Length).Where(i => body[i].StartsWith(QuestionStart, StringComparison.Ordinal)).ToList();
        if (starts.Count == 0) throw new DataFormatException(file, $"line {dash + 2}", null, $"has no exemplars (no line starts with '{QuestionStart.TrimEnd()}')");
        var description = string.Join('\n', body[..starts[0]]).Trim();
        var exemplars = new List<BbhExemplar>(starts.Count);
        for (var k = 0; k < starts.Count; k++)
        {
            var from = starts[k];
            var to = k + 1 < starts.Count ? starts[k + 1] : body.Length;
            var location = $"line {dash + 2 + from} (exemplar {k + 1})";
            var cue = Array.FindIndex(body, from, to - from, l => l.StartsWith(AnswerCue, StringComparison.Ordinal));
            if (cue < 0) throw new DataFormatException(file, location, null, $"has no line starting '{AnswerCue}'");
            var input = string.Join('\n', body[from..cue])[QuestionStart.Length..].Trim();
            var rationale = string.Join('\n', body[cue..to])[AnswerCue.Length..].Trim();
            var intro = rationale.LastIndexOf(AnswerIntro, StringComparison.Ordinal);
            if (intro < 0) throw new DataFormatException(file, location, null, $"has no '{AnswerIntro}X.'");
            var answer = rationale[(intro + AnswerIntro.Length)..].Trim();
            if (answer.EndsWith('.')) answer = answer[..^1].TrimEnd();
            if (answer.Length == 0 || input.Length == 0)
                throw new DataFormatException(file, location, null, input.Length == 0 ? "has an empty question" : $"has nothing after '{AnswerIntro.TrimEnd()}'");
            exemplars.Add(new BbhExemplar(input, rationale, answer));
        }
        return new BbhPrompt(task, text, description, exemplars);
    }

    private static void RequireTask(string root, string task)
    {
        var names = TaskNames(root);
        if (!names.Contains(task, StringComparer.Ordinal))
            throw new SpecialistException($"unknown BBH task '{task}'; the tasks are: {string.Join(", ", names)}");
    }
}
