using System.Text.RegularExpressions;

namespace Specialist.Tests.Cli;

/// <summary>Reads a command's generated <c>--help</c>: the options it lists and the default it shows for each.</summary>
internal static partial class HelpText
{
    /// <summary>The long option names of the help's Options section, sorted.</summary>
    public static List<string> OptionNames(string help) =>
        [.. OptionRows(help).Select(row => row.Split("  ")[0]).SelectMany(names => LongName().Matches(names).Select(m => m.Value))
            .Distinct().Order(StringComparer.Ordinal)];

    /// <summary>The default the help shows for <paramref name="option"/> (<c>[default: 0.5]</c>), null when it shows none.</summary>
    public static string? Default(string help, string option)
    {
        var row = OptionRows(help).SingleOrDefault(r => r.Split("  ")[0].Split(' ')[0].TrimEnd(',') == option)
                  ?? throw new InvalidOperationException($"the help lists no {option}:\n{help}");
        return DefaultValue().Match(row) is { Success: true } m ? m.Groups[1].Value : null;
    }

    /// <summary>The rows of the Options section, each trimmed: the names and placeholder, two spaces, the description.</summary>
    private static IEnumerable<string> OptionRows(string help)
    {
        var section = help[help.IndexOf("Options:", StringComparison.Ordinal)..];
        var end = section.IndexOf("\n\n", StringComparison.Ordinal);
        return (end < 0 ? section : section[..end]).Split('\n').Skip(1).Select(row => row.Trim()).Where(row => row.StartsWith('-'));
    }

    [GeneratedRegex(@"--[a-z][a-z0-9-]*")]
    private static partial Regex LongName();

    [GeneratedRegex(@"\[default: ([^\]]*)\]$")]
    private static partial Regex DefaultValue();
}
