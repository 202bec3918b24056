using System.CommandLine;
using System.CommandLine.Help;
using System.Globalization;
using Specialist;
using Specialist.Cli.Commands;

namespace Specialist.Cli;

/// <summary>
/// The command tree (System.CommandLine): parses <c>specialist COMMAND ...</c>, runs the command that owns it and maps
/// errors to exit codes.
/// </summary>
internal static class CliApp
{
    /// <summary>The exit code of a wrong command line: an unknown command or option, a missing or malformed value.</summary>
    internal const int UsageErrorExitCode = 2;

    /// <summary>The exit code of an error that is no fault of the input: a bug (sysexits' EX_SOFTWARE).</summary>
    internal const int InternalErrorExitCode = 70;

    /// <summary>The exit code of a command stopped by SIGINT or SIGTERM after saving its work (128 + SIGINT).</summary>
    internal const int InterruptedExitCode = 130;

    /// <summary>Set to 1 to see the stack trace of an unexpected error.</summary>
    internal const string TraceVariable = "SPECIALIST_TRACE";

    private static readonly string Description =
        "specialist: specialize small language models towards multi-step reasoning (Fu et al., ICML 2023)\n\n" +
        $"exit codes: 0 done, 1 bad input (the error names the file, line and field) or failed work, {UsageErrorExitCode} wrong command line,\n" +
        $"            {InternalErrorExitCode} unexpected error (a bug; {TraceVariable}=1 prints its stack trace), {InterruptedExitCode} interrupted";

    /// <summary>The whole command line: every command with its options.</summary>
    internal static Command Root() => Tree().Root;

    /// <summary>The command tree, and the top-level commands that run libtorch (and so want jemalloc, <see cref="Allocator"/>).</summary>
    private static (Command Root, HashSet<Command> UseTorch) Tree()
    {
        var root = new Command("specialist", Description) { new HelpOption() };
        var version = new Option<bool>("--version") { Description = "the version and the allocator this process runs on" };
        root.Options.Add(version);
        root.SetAction(parsed =>
        {
            if (!parsed.GetValue(version)) return ShowHelp(parsed);
            Allocator.PreferJemalloc();
            Console.WriteLine($"specialist {DoctorCommand.Version} (allocator: {Allocator.Current()})");
            return 0;
        });
        var useTorch = new HashSet<Command>();
        foreach (var (command, usesTorch) in Commands())
        {
            if (usesTorch) useTorch.Add(command);
            root.Subcommands.Add(command);
        }
        root.Subcommands.Add(CompletionCommand.Create(root));
        return (root, useTorch);
    }

    /// <summary>Each top-level command, and whether it runs libtorch.</summary>
    private static IEnumerable<(Command Command, bool UsesTorch)> Commands() =>
    [
        (DataCommand.Create(), false),
        (ScoreCommand.Create(), false),
        (TokenizeCommand.Create(), false),
        (ModelCommand.Create(), true),
        (new GenerateCommand().Command, true),
        (BenchCommand.Create(), true),
        (new ServeCommand().Command, true),
        (new AnnotateCommand().Command, false),
        (StoreCommand.Create(), false),
        (AlignCommand.Create(), false),
        (EvalCommand.Create(), true),
        (DistillSetCommand.Create(), false),
        (new TrainCommand().Command, true),
        (new ReportCommand().Command, false),
        (SynthCommand.Create(), false),
        (new RunCommand().Command, true),
        (DoctorCommand.Create(), true),
    ];

    public static async Task<int> RunAsync(string[] args)
    {
        // An exception escaping a thread of its own would abort the process (exit 134, a stack trace) past every catch.
        AppDomain.CurrentDomain.UnhandledException += (_, e) =>
        {
            if (e.ExceptionObject is Exception exception) ReportUnexpected(exception);
            Environment.Exit(InternalErrorExitCode);
        };
        // Numbers in options, help and messages read and print the same on every machine (0.5, never 0,5).
        CultureInfo.DefaultThreadCurrentCulture = CultureInfo.DefaultThreadCurrentUICulture = CultureInfo.InvariantCulture;
        CultureInfo.CurrentCulture = CultureInfo.CurrentUICulture = CultureInfo.InvariantCulture;

        var (root, useTorch) = Tree();
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            Console.Error.WriteLine($"error: {ParseErrors(parsed)} (see '{string.Join(' ', CommandPath(parsed).Select(c => c.Name))} --help')");
            return UsageErrorExitCode;
        }
        if (CommandPath(parsed) is [_, var command, ..] && useTorch.Contains(command)) Allocator.PreferJemalloc();
        try
        {
            // Signals are the commands' own (StopSignals: a first one stops politely, a second one at once).
            return await parsed.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null });
        }
        catch (UsageException e)
        {
            Console.Error.WriteLine($"error: {e.Message} (see '{string.Join(' ', CommandPath(parsed).Select(c => c.Name))} --help')");
            return UsageErrorExitCode;
        }
        catch (SpecialistException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 1;
        }
        catch (Exception e)
        {
            ReportUnexpected(e);
            return InternalErrorExitCode;
        }
    }

    /// <summary>Prints the help of the command <paramref name="parsed"/> reached: the bare <c>specialist</c>, a wrong command line.</summary>
    private static int ShowHelp(ParseResult parsed)
    {
        new HelpAction().Invoke(parsed);
        return UsageErrorExitCode;
    }

    /// <summary>The action of a command that only groups subcommands (<c>data</c>, <c>bench</c>): without one, a wrong command line naming them.</summary>
    internal static void MissingSubcommand(ParseResult parsed)
    {
        var command = parsed.CommandResult.Command;
        var path = string.Join(' ', CommandPath(parsed).Select(c => c.Name));
        throw new UsageException("missing subcommand: " + string.Join(", ",
            command.Subcommands.Select(sub => string.Join(' ', [path, sub.Name, .. sub.Arguments.Select(a => $"<{a.Name}>")]))));
    }

    /// <summary>
    /// What is wrong with the command line, in one line: words it does not know, arguments and options it lacks, else
    /// the parser's errors (each names its option).
    /// </summary>
    private static string ParseErrors(ParseResult parsed)
    {
        var command = parsed.CommandResult.Command;
        var problems = new List<string>();
        var unmatched = parsed.UnmatchedTokens;
        var options = unmatched.Where(t => t.StartsWith('-')).ToList();
        if (options.Count > 0) problems.Add($"unknown option{(options.Count > 1 ? "s" : "")}: {string.Join(", ", options)}");
        else if (unmatched.Count > 0)
            problems.Add(command.Subcommands.Count == 0 ? $"unexpected argument '{unmatched[0]}'"
                : parsed.CommandResult.Parent is null ? $"unknown command '{unmatched[0]}'" : $"unknown subcommand '{unmatched[0]}'");
        problems.AddRange(command.Arguments.Where(a => a.Arity.MinimumNumberOfValues > 0 && parsed.GetResult(a) is not { Tokens.Count: > 0 })
            .Select(a => $"missing argument <{a.Name}>"));
        problems.AddRange(command.Options.Where(o => o.Required && parsed.GetResult(o) is null).Select(o => $"missing required option {o.Name}"));
        return problems.Count > 0 ? string.Join("; ", problems) : string.Join("; ", parsed.Errors.Select(e => e.Message.TrimEnd('.')));
    }

    /// <summary>The commands from the root to the one <paramref name="parsed"/> reached (<c>specialist data stats</c>).</summary>
    private static List<Command> CommandPath(ParseResult parsed)
    {
        var path = new List<Command>();
        for (var result = parsed.CommandResult; result is not null; result = result.Parent as System.CommandLine.Parsing.CommandResult)
            path.Insert(0, result.Command);
        return path;
    }

    /// <summary>
    /// One line for an exception that is not a <see cref="SpecialistException"/>. Bad input is meant to be reported as
    /// one, naming its file and field, so this is a bug; but the user still gets a line and an exit code below 128 rather
    /// than a stack trace, which <see cref="TraceVariable"/> shows.
    /// </summary>
    private static void ReportUnexpected(Exception e)
    {
        var inner = e is AggregateException { InnerExceptions.Count: 1 } a ? a.InnerExceptions[0] : e;
        Console.Error.WriteLine($"error: unexpected {inner.GetType().Name}: {inner.Message.ReplaceLineEndings(" ")} " +
                                $"(a bug in specialist; {TraceVariable}=1 prints where)");
        if (Environment.GetEnvironmentVariable(TraceVariable) == "1") Console.Error.WriteLine(e);
    }

    /// <summary>Prints a warning: something is wrong, but the command goes on.</summary>
    internal static void Warn(string message) => Console.Error.WriteLine($"warning: {message}");
}

/// <summary>The command line itself is wrong (options that exclude each other, a value out of range): exit code 2.</summary>
internal sealed class UsageException(string message) : SpecialistException(message);
