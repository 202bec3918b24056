using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Spectre.Console;
using Specialist.Answers;
using Specialist.Data;
using Specialist.Evaluation;
using Specialist.Pipeline;

namespace Specialist.Cli.Commands;

/// <summary>
/// <c>specialist score &lt;set&gt; --predictions FILE.jsonl</c>: accuracy of a predictions file (<c>{"id", "output"}</c>
/// lines) on a set, with its 95 % Wilson interval.
/// </summary>
internal static class ScoreCommand
{
    public static Command Create()
    {
        var set = new Argument<string>("set") { Description = "the set the predictions answer" };
        var predictions = CliOptions.Text("--predictions", "FILE.jsonl", "{\"id\", \"output\"} lines; a problem without a prediction counts as wrong", required: true);
        var bbhMode = new ParsedOption<BbhMode>("--bbh-mode", BbhAnswerScorer.ParseMode, "cot|ao", "how BBH outputs are read (bbh sets only)",
            BbhAnswerScorer.ModeName(RunEvaluation.Defaults.BbhMode));
        var json = CliOptions.Json();
        var command = new Command("score", "score a predictions file against a set's gold answers") { set, predictions, bbhMode, json };
        var data = new DataArgs(command);
        command.SetAction(parsed =>
        {
            var name = parsed.GetValue(set)!;
            Run(name, data.Read(parsed, name), parsed.GetValue(predictions)!, bbhMode.Read(parsed), parsed.Given(bbhMode), parsed.GetValue(json));
        });
        return command;
    }

    private static void Run(string setName, DataOptions options, string predictionsPath, BbhMode mode, bool bbhModeGiven, bool json)
    {
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
            return;
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
    }

    private static string Count(int n) => n.ToString(CultureInfo.InvariantCulture);

    private static string Percent(double fraction) => (100 * fraction).ToString("F1", CultureInfo.InvariantCulture) + "%";
}
