using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Spectre.Console;
using Specialist.Answers;
using Specialist.Data;
using Specialist.Prompts;

namespace Specialist.Cli.Commands;

/// <summary>
/// <c>specialist data stats &lt;set&gt;</c>: loads a set and counts its problems, answer kinds and rationales.
/// <c>specialist data prompts &lt;set&gt;</c>: writes each problem's evaluation query as <c>{"id", "prompt"}</c> lines,
/// the input of <c>specialist generate</c>.
/// </summary>
internal static class DataCommand
{
    private const string Usage = "usage: specialist data stats " + DataArgs.Usage + " [--json]\n"
        + "       specialist data prompts " + DataArgs.Usage + " [--prompt 4shot|zeroshot|teacher] [--bbh-mode cot|ao] [--limit N] [--out FILE.jsonl]";

    public static int Run(string[] args)
    {
        if (args.Length == 0) throw new UsageException($"missing subcommand; {Usage}");
        if (args[0] is "-h" or "--help" or "help")
        {
            Console.WriteLine(Usage);
            Console.WriteLine($"sets: {string.Join(", ", ProblemSets.Names)}, bbh/<task>; --path and the fields are for custom only");
            Console.WriteLine("data root: --data-root DIR, else $SPECIALIST_DATA, else ./data");
            return 0;
        }
        return args[0] switch
        {
            "stats" => Stats(args[1..]),
            "prompts" => Prompts(args[1..]),
            _ => throw new UsageException($"unknown subcommand '{args[0]}'; {Usage}"),
        };
    }

    private static int Stats(string[] words)
    {
        var args = CommandArgs.Parse(words, "json");
        var set = args.Positional(0, "set");
        var options = DataArgs.Read(args, set);
        var json = args.Flag("json");
        args.EnsureAllUsed(maxPositionals: 1);

        var stats = SetStats.Compute(set, ProblemSets.Load(set, options));
        if (json) Console.WriteLine(ToJson(stats).ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        else PrintTable(stats);
        return 0;
    }

    private static int Prompts(string[] words)
    {
        var args = CommandArgs.Parse(words);
        var set = args.Positional(0, "set");
        var options = DataArgs.Read(args, set);
        var style = args.Get("prompt", "4shot", EvaluationQueries.ParseStyle);
        var bbhMode = args.Get("bbh-mode", "cot", BbhAnswerScorer.ParseMode);
        var limit = args.GetInt("limit");
        var outPath = args.Get("out");
        args.EnsureAllUsed(maxPositionals: 1);

        var queries = new EvaluationQueries(options.Root, style, bbhMode);
        var problems = ProblemSets.Load(set, options);
        var lines = problems.Take(limit ?? problems.Count)
            .Select(p => JsonSerializer.Serialize(new { id = p.Id, prompt = queries.Render(p) }));
        if (outPath is null)
        {
            foreach (var line in lines) Console.WriteLine(line);
            return 0;
        }
        AtomicFile.WriteText(outPath, string.Concat(lines.Select(l => l + "\n")));
        return 0;
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
