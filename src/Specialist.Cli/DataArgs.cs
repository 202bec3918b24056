using System.CommandLine;
using Specialist.Data;

namespace Specialist.Cli;

/// <summary>
/// The data options the data-reading commands share: <c>--data-root</c>, and the <c>custom</c> set's file and fields
/// (<c>--path --question-field --answer-field [--id-field]</c>).
/// </summary>
internal sealed class DataArgs
{
    private readonly Option<string> _root = RootOption();
    private readonly Option<string>? _path, _question, _answer, _id;

    /// <summary>Adds the options to <paramref name="command"/>: the data root, and with <paramref name="customSet"/> the custom set's (for a command that takes a set).</summary>
    public DataArgs(Command command, bool customSet = true)
    {
        command.Options.Add(_root);
        if (!customSet) return;
        _path = CliOptions.Text("--path", "FILE", "the custom set's JSON or JSONL file (custom only)");
        _question = CliOptions.Text("--question-field", "Q", "the custom set's question field, e.g. sQuestion (custom only)");
        _answer = CliOptions.Text("--answer-field", "A", "the custom set's answer field, e.g. 'lSolutions[0]' (custom only)");
        _id = CliOptions.Text("--id-field", "I", "the custom set's id field (custom only; default: the line number)");
        foreach (var option in new[] { _path, _question, _answer, _id }) command.Options.Add(option);
    }

    private static Option<string> RootOption() => CliOptions.Text("--data-root", "DIR", "the data root (default: $SPECIALIST_DATA, else ./data)");

    /// <summary>The data root as given, or as <see cref="DataRoot.Resolve"/> finds it.</summary>
    public string Root(ParseResult parsed) => DataRoot.Resolve(parsed.GetValue(_root));

    /// <summary>The data root, and for <paramref name="setName"/> = <c>custom</c> its file and fields; those options apply to the custom set only.</summary>
    public DataOptions Read(ParseResult parsed, string setName)
    {
        var root = Root(parsed);
        Option<string>[] custom = _path is null ? [] : [_path, _question!, _answer!, _id!];
        var given = parsed.GivenNames(custom);
        if (setName != "custom")
        {
            if (given.Count > 0)
                throw new UsageException($"{string.Join(", ", given)} only {(given.Count == 1 ? "applies" : "apply")} to the custom set, not '{setName}'");
            return new DataOptions(root);
        }
        var missing = custom[..3].Where(o => !parsed.Given(o)).Select(o => o.Name).ToList();
        if (missing.Count > 0)
            throw new UsageException($"the custom set needs {string.Join(", ", missing)} (usage: --path FILE --question-field Q --answer-field A [--id-field I])");
        return new DataOptions(root, new CustomSetOptions(parsed.GetValue(_path!)!, parsed.GetValue(_question!)!, parsed.GetValue(_answer!)!, parsed.GetValue(_id!)));
    }
}
