using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Spectre.Console;
using Specialist.Answers;
using Specialist.Data;
using Specialist.Pipeline;
using Specialist.Prompts;

namespace Specialist.Cli.Commands;

/// <summary>
/// <c>specialist data stats &lt;set&gt;</c>: loads a set and counts its problems, answer kinds and rationales.
/// <c>specialist data prompts &lt;set&gt;</c>: writes each problem's evaluation query as <c>{"id", "prompt"}</c> lines,
/// the input of <c>specialist generate</c>.
/// </summary>
internal static class DataCommand
{
    public static Command Create()
    {
        var command = new Command("data",
            "data sets: 'data stats <set>' counts problems and answers, 'data prompts <set>' writes their queries")
        {
            Stats(), Prompts(),
        };
        command.SetAction(CliApp.MissingSubcommand);
        return command;
    }

    /// <summary>The set argument of <c>data stats</c> and <c>data prompts</c>.</summary>
    private static Argument<string> SetArgument() =>
        new("set") { Description = $"a set: {string.Join(", ", ProblemSets.Names)} (with --path and the fields) or bbh/<task>" };

    private static Command Stats()
    {
        var set = SetArgument();
        var json = CliOptions.Json();
        var command = new Command("stats", "count a set's problems, answer kinds and rationales") { set, json };
        var data = new DataArgs(command);
        command.SetAction(parsed =>
        {
            var name = parsed.GetValue(set)!;
            var stats = SetStats.Compute(name, ProblemSets.Load(name, data.Read(parsed, name)));
            if (parsed.GetValue(json)) Console.WriteLine(ToJson(stats).ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            else PrintTable(stats);
        });
        return command;
    }

    private static Command Prompts()
    {
        var set = SetArgument();
        var style = new ParsedOption<MathPromptStyle>("--prompt", EvaluationQueries.ParseStyle, "4shot|zeroshot|teacher", "the query's prompt (METHOD.md §6)", RunEvaluation.Defaults.Prompt);
        var bbhMode = new ParsedOption<BbhMode>("--bbh-mode", BbhAnswerScorer.ParseMode, "cot|ao", "BBH queries with chain of thought or answer only",
            BbhAnswerScorer.ModeName(RunEvaluation.Defaults.BbhMode));
        var limit = CliOptions.OptionalInt("--limit", "N", "the first N problems only");
        var outPath = CliOptions.Text("--out", "FILE.jsonl", "write the lines here (default: stdout)");
        var command = new Command("prompts", "write each problem's evaluation query as {\"id\", \"prompt\"} lines, the input of 'specialist generate'")
        {
            set, style, bbhMode, limit, outPath,
        };
        var data = new DataArgs(command);
        command.SetAction(parsed =>
        {
            var name = parsed.GetValue(set)!;
            var options = data.Read(parsed, name);
            var queries = new EvaluationQueries(options.Root, style.Read(parsed), bbhMode.Read(parsed));
            var problems = ProblemSets.Load(name, options);
            var lines = problems.Take(parsed.GetValue(limit) ?? problems.Count)
                .Select(p => JsonSerializer.Serialize(new { id = p.Id, prompt = queries.Render(p) }));
            if (parsed.GetValue(outPath) is not { } path)
            {
                foreach (var line in lines) Console.WriteLine(line);
                return;
            }
            AtomicFile.WriteText(path, string.Concat(lines.Select(l => l + "\n")));
        });
        return command;
    }

    private static string KindName(GoldAnswerKind kind) => JsonNamingPolicy.SnakeCaseLower.ConvertName(kind.ToString());

    private static JsonObject ToJson(SetStats stats)
    {
        var kinds = new JsonObject();
        foreach (var (kind, count) in stats.AnswerKinds) kinds[KindName(kind)] = count;
        var result = new JsonObject
        {
            ["set"] = stats.Set,
            ["count"] = stats.Count,
            ["numeric_answers"] = stats.NumericAnswers,
            ["with_rationale"] = stats.WithRationale,
            ["answer_kinds"] = kinds,
            ["mean_question_chars"] = Math.Round(stats.MeanQuestionChars, 1),
            ["max_question_chars"] = stats.MaxQuestionChars,
        };
        if (stats.Tasks is { } tasks)
        {
            var perTask = new JsonObject();
            foreach (var (task, count) in tasks) perTask[task] = count;
            result["tasks"] = new JsonObject { ["count"] = tasks.Count, ["per_task"] = perTask };
        }
        return result;
    }

    private static void PrintTable(SetStats stats)
    {
        var table = new Table().AddColumn("set " + Markup.Escape(stats.Set)).AddColumn(new TableColumn("value").RightAligned());
        void Row(string name, string value) => table.AddRow(new Text(name), new Text(value));
        Row("problems", Number(stats.Count));
        Row("numeric answers", Number(stats.NumericAnswers));
        Row("with rationale", Number(stats.WithRationale));
        foreach (var (kind, count) in stats.AnswerKinds) Row($"answers: {KindName(kind)}", Number(count));
        Row("mean question chars", stats.MeanQuestionChars.ToString("0.0", CultureInfo.InvariantCulture));
        Row("max question chars", Number(stats.MaxQuestionChars));
        if (stats.Tasks is { } tasks)
        {
            Row("tasks", Number(tasks.Count));
            foreach (var (task, count) in tasks) Row($"  {task}", Number(count));
        }
        AnsiConsole.Write(table);
    }

    private static string Number(int value) => value.ToString("N0", CultureInfo.InvariantCulture);
}
