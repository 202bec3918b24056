using System.Globalization;
using System.Text.Json;
using Spectre.Console;
using Specialist.Answers;
using Specialist.Data;
using Specialist.Evaluation;

namespace Specialist.Cli.Commands;

/// <summary>
/// <c>specialist score &lt;set&gt; --predictions FILE.jsonl [--data-root DIR] [custom options] [--bbh-mode cot|ao] [--json]</c>:
/// accuracy of a predictions file (<c>{"id", "output"}</c> lines) on a set, with its 95 % Wilson interval.
/// </summary>
internal static class ScoreCommand
{
    public static int Run(string[] args)
    {
        var parsed = CommandArgs.Parse(args, "json", "help");
        if (parsed.Flag("help"))
        {
            Console.WriteLine("usage: specialist score " + DataArgs.Usage);
            Console.WriteLine("         --predictions FILE.jsonl [--bbh-mode cot|ao] [--json]");
            Console.WriteLine("Scores {\"id\", \"output\"} lines against the set's gold answers; a problem without a prediction counts as wrong.");
            return 0;
        }
        var setName = parsed.Positional(0, "set");
        var predictionsPath = parsed.Require("predictions");
        var bbhModeGiven = parsed.Get("bbh-mode") is not null;
        var mode = parsed.Get("bbh-mode", "cot", BbhAnswerScorer.ParseMode);
        var json = parsed.Flag("json");
        var options = DataArgs.Read(parsed, setName);
        parsed.EnsureAllUsed(maxPositionals: 1);

        BbhMode? bbhMode = null;
        if (SetScore.IsBbhSet(setName))
            bbhMode = mode;
        else if (bbhModeGiven)
            throw new UsageException("--bbh-mode applies only to bbh sets");

        var predictions = PredictionsFile.Read(predictionsPath);
        var problems = ProblemSets.Load(setName, options);
        var score = SetScore.Compute(setName, problems, predictions, bbhMode);
        var (lo, hi) = score.Ci95;

        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                set = score.Set,
                total = score.Total,
                scored = score.Scored,
                correct = score.Correct,
                accuracy = score.Accuracy,
                ci95 = new[] { lo, hi },
                bbh_mean = score.TaskMean?.Value,
                bbh_mean_is = score.TaskMean?.Description,
                tasks = score.Tasks?.ToDictionary(t => t.Set["bbh/".Length..], t => new { accuracy = t.Accuracy, correct = t.Correct, total = t.Total }),
            }, new JsonSerializerOptions { DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull }));
            return 0;
        }
        var table = new Table().AddColumns("set", "total", "scored", "correct", "accuracy", "95% CI");
        foreach (var column in table.Columns.Skip(1)) column.RightAligned();
        table.AddRow(
            Markup.Escape(score.Set),
            score.Total.ToString(CultureInfo.InvariantCulture),
            score.Scored.ToString(CultureInfo.InvariantCulture),
            score.Correct.ToString(CultureInfo.InvariantCulture),
            Percent(score.Accuracy),
            $"{Percent(lo)} .. {Percent(hi)}");
        foreach (var task in score.Tasks ?? [])
            table.AddRow(Markup.Escape(task.Set), Count(task.Total), Count(task.Scored), Count(task.Correct), Percent(task.Accuracy),
                $"{Percent(task.Ci95.Lo)} .. {Percent(task.Ci95.Hi)}");
        if (score.TaskMean is { } mean) table.AddRow(Markup.Escape("bbh " + mean.Description), "", "", "", Percent(mean.Value), "");
        AnsiConsole.Write(table);
        return 0;
    }

    private static string Count(int n) => n.ToString(CultureInfo.InvariantCulture);

    private static string Percent(double fraction) => (100 * fraction).ToString("F1", CultureInfo.InvariantCulture) + "%";
}
