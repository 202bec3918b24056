using System.CommandLine;

namespace Specialist.Cli.Commands;

/// <summary>
/// <c>specialist completion bash</c>: a bash script that completes commands, options and values by asking
/// <c>specialist completion suggest</c>, which System.CommandLine answers from the command tree.
/// </summary>
internal static class CompletionCommand
{
    // The shell passes the line up to the cursor; the first word (how specialist was called) is not part of the tree.
    private const string BashScript = """
        # specialist completion for bash: eval "$(specialist completion bash)", e.g. in ~/.bashrc
        _specialist_complete() {
            local line="${COMP_LINE:0:COMP_POINT}"
            line="${line#"${COMP_WORDS[0]}"}"
            local IFS=$'\n'
            COMPREPLY=($(compgen -W "$("${COMP_WORDS[0]}" completion suggest -- "${line# }" 2>/dev/null)" -- "${COMP_WORDS[COMP_CWORD]}"))
        }
        complete -o default -F _specialist_complete specialist
        """;

    public static Command Create(Command root)
    {
        var bash = new Command("bash", "print the bash completion script: eval \"$(specialist completion bash)\"");
        bash.SetAction(_ => Console.WriteLine(BashScript));

        var line = new Argument<string[]>("line") { Description = "the command line after 'specialist', up to the cursor (after --, as one word or several)" };
        var suggest = new Command("suggest", "the words that can follow LINE (commands, options, values), one per line") { line };
        suggest.SetAction(parsed =>
        {
            foreach (var word in Suggest(root, string.Join(' ', parsed.GetValue(line)!))) Console.WriteLine(word);
        });

        var command = new Command("completion", "shell completion: 'completion bash' prints the script") { bash, suggest };
        command.SetAction(CliApp.MissingSubcommand);
        return command;
    }

    /// <summary>What can complete the last word of <paramref name="line"/>, as System.CommandLine finds it in <paramref name="root"/>'s tree.</summary>
    internal static IEnumerable<string> Suggest(Command root, string line) =>
        root.Parse(line).GetCompletions(line.Length).Select(c => c.Label);
}
