using Specialist.Data;

namespace Specialist.Cli;

/// <summary>The data options every data-reading command shares: <c>--data-root</c> and the <c>custom</c> set's fields.</summary>
internal static class DataArgs
{
    /// <summary>The options that describe a custom set's file.</summary>
    private static readonly string[] CustomOptions = ["path", "question-field", "answer-field", "id-field"];

    /// <summary>One line of help for commands that take a set (<c>--path</c> and the fields are for the custom set only).</summary>
    public const string Usage = "<set> [--data-root DIR] [--path FILE --question-field Q --answer-field A [--id-field I]]";

    /// <summary>Reads <c>--data-root</c>, and for <paramref name="setName"/> = <c>custom</c>: <c>--path --question-field --answer-field [--id-field]</c>.</summary>
    public static DataOptions Read(CommandArgs args, string setName)
    {
        var root = DataRoot.Resolve(args.Get("data-root"));
        var given = CustomOptions.Where(name => args.Get(name) is not null).ToList();
        if (setName != "custom")
        {
            if (given.Count > 0)
                throw new UsageException($"{string.Join(", ", given.Select(n => "--" + n))} only {(given.Count == 1 ? "applies" : "apply")} to the custom set, not '{setName}'");
            return new DataOptions(root);
        }
        var missing = CustomOptions[..3].Where(name => args.Get(name) is null).ToList();
        if (missing.Count > 0)
            throw new UsageException($"the custom set needs {string.Join(", ", missing.Select(n => "--" + n))} (usage: --path FILE --question-field Q --answer-field A [--id-field I])");
        return new DataOptions(root, new CustomSetOptions(args.Get("path")!, args.Get("question-field")!, args.Get("answer-field")!, args.Get("id-field")));
    }
}
