using System.Globalization;
using Specialist;

namespace Specialist.Cli;

/// <summary>
/// The arguments of one command: positionals, <c>--name value</c> options and <c>--flag</c> switches.
/// A command reads what it knows, then calls <see cref="EnsureAllUsed"/> so a misspelt option is an error, not ignored.
/// </summary>
internal sealed class CommandArgs
{
    private readonly List<string> _positionals = new();
    private readonly Dictionary<string, List<string>> _options = new(StringComparer.Ordinal);
    private readonly HashSet<string> _flags = new(StringComparer.Ordinal);
    private readonly HashSet<string> _used = new(StringComparer.Ordinal);

    /// <param name="args">The words after the command name.</param>
    /// <param name="flagNames">Options that take no value (without the leading dashes).</param>
    public static CommandArgs Parse(IReadOnlyList<string> args, params string[] flagNames)
    {
        var parsed = new CommandArgs();
        var flagSet = new HashSet<string>(flagNames, StringComparer.Ordinal);
        for (var i = 0; i < args.Count; i++)
        {
            var word = args[i];
            if (!word.StartsWith("--", StringComparison.Ordinal) || word == "--")
            {
                parsed._positionals.Add(word);
                continue;
            }
            var name = word[2..];
            string? inlineValue = null;
            var eq = name.IndexOf('=');
            if (eq >= 0) { inlineValue = name[(eq + 1)..]; name = name[..eq]; }
            if (flagSet.Contains(name))
            {
                if (inlineValue is not null) throw new UsageException($"option --{name} takes no value");
                parsed._flags.Add(name);
                continue;
            }
            var value = inlineValue ?? (i + 1 < args.Count ? args[++i] : throw new UsageException($"option --{name} needs a value"));
            if (!parsed._options.TryGetValue(name, out var list)) parsed._options[name] = list = new List<string>();
            list.Add(value);
        }
        return parsed;
    }

    public IReadOnlyList<string> Positionals => _positionals;

    public bool Flag(string name) { _used.Add(name); return _flags.Contains(name); }

    public string? Get(string name)
    {
        _used.Add(name);
        return _options.TryGetValue(name, out var list) ? list[^1] : null;
    }

    public IReadOnlyList<string> GetAll(string name)
    {
        _used.Add(name);
        return _options.TryGetValue(name, out var list) ? list : Array.Empty<string>();
    }

    /// <summary>Reads an option through the library's parser of its values; a value it rejects is a usage error.</summary>
    public T Get<T>(string name, string fallback, Func<string, T> parse) => Parse(Get(name) ?? fallback, parse);

    /// <summary>Reads an option, when given, through the library's parser of its values; a value it rejects is a usage error.</summary>
    public T? Get<T>(string name, Func<string, T> parse) where T : class => Get(name) is { } text ? Parse(text, parse) : null;

    private static T Parse<T>(string text, Func<string, T> parse)
    {
        try { return parse(text); }
        catch (SpecialistException e) when (e is not UsageException) { throw new UsageException(e.Message); }
    }

    public string Require(string name) => Get(name) ?? throw new UsageException($"missing required option --{name}");

    public int GetInt(string name, int fallback) => Get(name) is { } s ? ParseInt(name, s) : fallback;
    public int? GetInt(string name) => Get(name) is { } s ? ParseInt(name, s) : null;

    public double GetDouble(string name, double fallback) =>
        Get(name) is { } s
            ? double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : throw new UsageException($"option --{name}: '{s}' is not a number")
            : fallback;

    public string Positional(int index, string what) =>
        index < _positionals.Count ? _positionals[index] : throw new UsageException($"missing argument <{what}>");

    /// <summary>Fails on any option or flag the command did not read, and on extra positionals.</summary>
    public void EnsureAllUsed(int maxPositionals = 0)
    {
        var unknown = _options.Keys.Concat(_flags).Where(n => !_used.Contains(n)).OrderBy(n => n, StringComparer.Ordinal).ToList();
        if (unknown.Count > 0) throw new UsageException($"unknown option{(unknown.Count > 1 ? "s" : "")}: {string.Join(", ", unknown.Select(n => "--" + n))}");
        if (_positionals.Count > maxPositionals) throw new UsageException($"unexpected argument '{_positionals[maxPositionals]}'");
    }

    private static int ParseInt(string name, string s) =>
        int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : throw new UsageException($"option --{name}: '{s}' is not an integer");
}

/// <summary>The command line itself is wrong (unknown option, missing value): exit code 2.</summary>
internal sealed class UsageException(string message) : SpecialistException(message);
