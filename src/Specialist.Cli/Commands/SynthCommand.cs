using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Spectre.Console;
using Specialist.Data;
using Specialist.Synthetic;

namespace Specialist.Cli.Commands;

/// <summary>
/// <c>specialist synth --task KIND --count N [--seed S] --out FILE.jsonl</c>: writes a seeded synthetic set
/// with gold chains of thought as JSONL in the custom set's layout (<c>{"id", "question", "answer", "rationale"}</c>).
/// </summary>
internal static class SynthCommand
{
    public static Command Create()
    {
        var task = new ParsedOption<SyntheticTaskKind>("--task", SyntheticTasks.ParseKind, string.Join('|', SyntheticTasks.KindNames),
            $"the kind of problems; generic takes its tasks in turn: {string.Join(", ", SyntheticTasks.GenericTaskNames)}") { Required = true };
        var count = CliOptions.OptionalInt("--count", "N", "how many problems", required: true);
        var seed = CliOptions.Seed("the generator's seed; the same task, count and seed give the same file", 0);
        var output = CliOptions.Text("--out", "FILE.jsonl",
            "the set file: {\"id\", \"question\", \"answer\", \"rationale\"} lines; read it back with specialist data stats custom --path FILE " +
            "--question-field question --answer-field answer --id-field id", required: true);
        var json = CliOptions.Json();
        var command = new Command("synth", "seeded synthetic sets with gold CoT: GSM-like math, MultiArith/ASDiv/SVAMP-like OOD, BBH-like generic")
        {
            task, count, seed, output, json,
        };
        command.SetAction(parsed => Run(task.Read(parsed), parsed.GetValue(count)!.Value, parsed.GetValue(seed), parsed.GetValue(output)!, parsed.GetValue(json)));
        return command;
    }

    private static void Run(SyntheticTaskKind kind, int count, ulong seed, string outPath, bool json)
    {
        if (count < 1) throw new UsageException($"--count must be at least 1, not {count}");
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
            return;
        }
        var table = new Table().AddColumns("set", "problems");
        table.Columns[1].RightAligned();
        foreach (var (set, n) in sets) table.AddRow(Markup.Escape(set), n.ToString(CultureInfo.InvariantCulture));
        AnsiConsole.Write(table);
        Console.WriteLine($"wrote {problems.Count} problems (seed {seed}) to {Path.GetFullPath(outPath)}");
    }
}
