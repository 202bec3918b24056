using System.Globalization;
using System.Text.Json;
using Spectre.Console;
using Specialist.Data;
using Specialist.Synthetic;

namespace Specialist.Cli.Commands;

/// <summary>
/// <c>specialist synth --task KIND --count N [--seed S] --out FILE.jsonl [--json]</c>: writes a seeded synthetic set
/// with gold chains of thought as JSONL in the custom set's layout (<c>{"id", "question", "answer", "rationale"}</c>).
/// </summary>
internal static class SynthCommand
{
    private static readonly string Usage =
        $"usage: specialist synth --task {string.Join('|', SyntheticTasks.KindNames)} --count N [--seed S] --out FILE.jsonl [--json]";

    public static int Run(string[] args)
    {
        var parsed = CommandArgs.Parse(args, "json", "help");
        if (parsed.Flag("help"))
        {
            Console.WriteLine(Usage);
            Console.WriteLine("Writes {\"id\", \"question\", \"answer\", \"rationale\"} lines; the same task, count and seed give the same file.");
            Console.WriteLine($"generic takes its tasks in turn: {string.Join(", ", SyntheticTasks.GenericTaskNames)}");
            Console.WriteLine("read it back: specialist data stats custom --path FILE --question-field question --answer-field answer --id-field id");
            return 0;
        }
        parsed.Require("task");
        var kind = parsed.Get("task", "", SyntheticTasks.ParseKind);
        var count = parsed.GetInt("count") ?? throw new UsageException("missing required option --count");
        if (count < 1) throw new UsageException($"--count must be at least 1, not {count}");
        var seedText = parsed.Get("seed") ?? "0";
        if (!ulong.TryParse(seedText, NumberStyles.None, CultureInfo.InvariantCulture, out var seed))
            throw new UsageException($"option --seed: '{seedText}' is not a non-negative integer");
        var outPath = parsed.Require("out");
        var json = parsed.Flag("json");
        parsed.EnsureAllUsed();

        var problems = SyntheticTasks.Generate(kind, count, seed);
        SetFile.Write(outPath, problems);
        // Problems of one set share their id up to the last '/': synth-math, or synth-bbh/<task> for generic ones.
        var sets = problems.GroupBy(p => p.Id[..p.Id.LastIndexOf('/')]).Select(g => (Set: g.Key, Count: g.Count())).ToList();
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                task = SyntheticTasks.KindName(kind),
                count = problems.Count,
                seed,
                @out = Path.GetFullPath(outPath),
                sets = sets.ToDictionary(s => s.Set, s => s.Count),
            }));
            return 0;
        }
        var table = new Table().AddColumns("set", "problems");
        table.Columns[1].RightAligned();
        foreach (var (set, n) in sets) table.AddRow(Markup.Escape(set), n.ToString(CultureInfo.InvariantCulture));
        AnsiConsole.Write(table);
        Console.WriteLine($"wrote {problems.Count} problems (seed {seed}) to {Path.GetFullPath(outPath)}");
        return 0;
    }
}
