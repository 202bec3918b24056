using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using Specialist;

namespace Specialist.Cli;

/// <summary>
/// The kinds of option the commands take, built the same way everywhere: a placeholder for the help (<c>--limit N</c>),
/// the default the help prints (the caller passes the library's value), and a value that does not read is a parse
/// error naming the option (exit 2).
/// </summary>
internal static class CliOptions
{
    public static Option<string> Text(string name, string helpName, string description, string? defaultValue = null, bool required = false)
    {
        var option = new Option<string>(name) { HelpName = helpName, Description = description, Required = required, CustomParser = r => r.Tokens[^1].Value };
        if (defaultValue is not null) option.DefaultValueFactory = _ => defaultValue;
        return LastWins(option);
    }

    /// <summary>
    /// An option given twice takes its last value, as the command line always has (a script may append an override).
    /// Each occurrence still takes one word: <c>--x a b</c> leaves <c>b</c> to the command.
    /// </summary>
    public static T LastWins<T>(T option) where T : Option
    {
        option.Arity = ArgumentArity.OneOrMore;
        option.AllowMultipleArgumentsPerToken = false;
        return option;
    }

    /// <summary>An option given any number of times (<c>--stop a --stop b</c>), in the order given.</summary>
    public static Option<string[]> Repeated(string name, string helpName, string description) =>
        new(name) { HelpName = helpName, Description = description, DefaultValueFactory = _ => [] };

    public static Option<bool> Flag(string name, string description) => new(name) { Description = description, Arity = ArgumentArity.Zero };

    /// <summary><c>--json</c>: the result as JSON on stdout (and no live progress display).</summary>
    public static Option<bool> Json(string what = "the result as one JSON object") => Flag("--json", what);

    public static Option<int> Int(string name, string helpName, string description, int defaultValue) =>
        LastWins(new Option<int>(name) { HelpName = helpName, Description = description, DefaultValueFactory = _ => defaultValue, CustomParser = r => Read(r, "an integer", ParseInt) });

    /// <summary>An integer with no default: null when not given.</summary>
    public static Option<int?> OptionalInt(string name, string helpName, string description, bool required = false) =>
        LastWins(new Option<int?>(name) { HelpName = helpName, Description = description, Required = required, CustomParser = r => Read(r, "an integer", ParseInt) });

    public static Option<double> Number(string name, string helpName, string description, double defaultValue) =>
        LastWins(new Option<double>(name)
        {
            HelpName = helpName, Description = description, DefaultValueFactory = _ => defaultValue,
            CustomParser = r => Read(r, "a number", text => double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : null as double?),
        });

    /// <summary>A seed: a non-negative integer.</summary>
    public static Option<ulong> Seed(string description, ulong defaultValue) =>
        LastWins(new Option<ulong>("--seed")
        {
            HelpName = "S", Description = description, DefaultValueFactory = _ => defaultValue,
            CustomParser = r => Read(r, "a non-negative integer", text => ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : null as ulong?),
        });

    /// <summary>Whether the option is on the command line (not its default).</summary>
    public static bool Given(this ParseResult parsed, Option option) => parsed.GetResult(option) is { Implicit: false };

    /// <summary>The given options among <paramref name="options"/>, as their names (<c>--concurrency</c>).</summary>
    public static List<string> GivenNames(this ParseResult parsed, params Option[] options) =>
        [.. options.Where(parsed.Given).Select(o => o.Name)];

    private static int? ParseInt(string text) => int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : null;

    /// <summary>The option's value as <paramref name="parse"/> reads it; a text it refuses (null) is an error naming the option.</summary>
    private static T Read<T>(ArgumentResult result, string what, Func<string, T?> parse) where T : struct
    {
        var text = result.Tokens[^1].Value;
        if (parse(text) is { } value) return value;
        result.AddError($"option {((OptionResult)result.Parent!).Option.Name}: '{text}' is not {what}");
        return default;
    }

}

/// <summary>
/// An option whose text the library reads (a prompt style, a list of formats, a price): the help prints the default as
/// the library writes it, a text the library refuses is a parse error naming the option, and <see cref="Read"/> gives
/// the library's value.
/// </summary>
internal sealed class ParsedOption<T> : Option<string>
{
    private readonly Func<string, T> _parse;

    /// <param name="name">The option, <c>--name</c>.</param>
    /// <param name="parse">The library's reader of its text; it throws a <see cref="SpecialistException"/> on a text it does not know.</param>
    /// <param name="helpName">The value's placeholder in the help.</param>
    /// <param name="description">The help's line.</param>
    /// <param name="defaultText">The default, as the library writes it; none: the option has no value unless given.</param>
    public ParsedOption(string name, Func<string, T> parse, string helpName, string description, string? defaultText = null) : base(name)
    {
        _parse = parse;
        HelpName = helpName;
        Description = description;
        if (defaultText is not null) DefaultValueFactory = _ => defaultText;
        CustomParser = r => r.Tokens[^1].Value;
        CliOptions.LastWins(this);
        Validators.Add(result =>
        {
            if (result.Tokens.Count == 0) return;
            try
            {
                parse(result.Tokens[^1].Value);
            }
            catch (SpecialistException e)
            {
                result.AddError(e.Message.Contains(name, StringComparison.Ordinal) ? e.Message : $"option {name}: {e.Message}");
            }
        });
    }

    /// <summary>The library's value of the given text, else of the default.</summary>
    public T Read(ParseResult parsed) => _parse(parsed.GetValue(this) ?? throw new InvalidOperationException($"{Name} has no value and no default"));

    /// <summary>The library's value of the text when given (or defaulted), else null.</summary>
    public T? ReadOrNull(ParseResult parsed) => parsed.GetValue(this) is { } text ? _parse(text) : default;
}
