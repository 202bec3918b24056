using System.Globalization;
using Spectre.Console;

namespace Specialist.Cli;

/// <summary>
/// The one progress display of every long command (run, train, annotate, eval, distill-set build, bench), on stderr:
/// live bars (Spectre.Console), one per task, when stdout and stderr are terminals and no <c>--json</c> is given;
/// otherwise plain lines, <c>COMMAND: TASK [ 40 %] ETA 01:02 MESSAGE</c>, that logs and scripts can follow. The library
/// only reports events through callbacks; the commands turn them into <see cref="Report"/> and <see cref="Log"/>.
/// </summary>
internal sealed class ProgressDisplay
{
    private readonly string _command;
    private readonly double _plainStep;
    private readonly TextWriter? _plain;
    private readonly IAnsiConsole? _console;
    private readonly ProgressContext? _live;
    private readonly Dictionary<string, ProgressTask> _bars = new(StringComparer.Ordinal);
    private readonly Dictionary<string, double> _plainShown = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    private ProgressDisplay(string command, double plainStep, TextWriter? plain, IAnsiConsole? console, ProgressContext? live)
    {
        _command = command;
        _plainStep = plainStep;
        _plain = plain;
        _console = console;
        _live = live;
    }

    /// <summary>A display of plain lines on <paramref name="writer"/> (stderr, but for tests).</summary>
    internal static ProgressDisplay Plain(TextWriter writer, string command, double plainStep = 0) => new(command, plainStep, writer, null, null);

    /// <summary>Runs <paramref name="work"/> with the display it reports to; live bars stay on screen when it ends.</summary>
    /// <param name="command">The command, which begins every plain line.</param>
    /// <param name="json">Whether <c>--json</c> was given: stdout is for the result only, so no live display.</param>
    /// <param name="work">The command's work.</param>
    /// <param name="plainStep">The least progress between two plain lines of one task (0: every report), so a long run logs a few lines, not one per step.</param>
    public static Task<T> RunAsync<T>(string command, bool json, Func<ProgressDisplay, Task<T>> work, double plainStep = 0) =>
        json || Console.IsOutputRedirected || Console.IsErrorRedirected
            ? work(Plain(Console.Error, command, plainStep))
            : RunLiveAsync(AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) }), command, work);

    /// <summary><see cref="RunAsync{T}"/> for work that does not await.</summary>
    public static T Run<T>(string command, bool json, Func<ProgressDisplay, T> work, double plainStep = 0) =>
        RunAsync(command, json, display => Task.FromResult(work(display)), plainStep).GetAwaiter().GetResult();

    /// <summary>Runs <paramref name="work"/> with live bars on <paramref name="console"/>.</summary>
    internal static async Task<T> RunLiveAsync<T>(IAnsiConsole console, string command, Func<ProgressDisplay, Task<T>> work)
    {
        T result = default!;
        await console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .StartAsync(async context => result = await work(new ProgressDisplay(command, 0, null, console, context)));
        return result;
    }

    /// <summary>
    /// How far <paramref name="task"/> is: its bar (indeterminate while <paramref name="fraction"/> is unknown), or a
    /// plain line. A fraction of 1 finishes the task.
    /// </summary>
    public void Report(string task, string message, double? fraction = null, TimeSpan? eta = null)
    {
        lock (_lock)
        {
            if (_plain is not null)
            {
                if (_plainStep > 0 && fraction is { } f && f < 1 && _plainShown.TryGetValue(task, out var shown) && f < shown + _plainStep) return;
                if (fraction is { } done) _plainShown[task] = done;
                var percent = fraction is { } p ? string.Create(CultureInfo.InvariantCulture, $" [{100 * p,3:F0} %]") : "";
                var left = eta is { } t ? $" ETA {(int)t.TotalMinutes:D2}:{t.Seconds:D2}" : "";
                _plain.WriteLine($"{_command}: {task}{percent}{left} {message}");
                return;
            }
            var description = Markup.Escape(Shorten($"{task} {message}"));
            if (!_bars.TryGetValue(task, out var bar)) _bars[task] = bar = _live!.AddTask(description, maxValue: 1);
            bar.Description = description;
            bar.IsIndeterminate = fraction is null && bar.Value == 0;
            if (fraction is { } value) bar.Value = Math.Clamp(value, 0, 1);
        }
    }

    /// <summary>A line that stays: above the live bars, or a plain line.</summary>
    public void Log(string line)
    {
        lock (_lock)
        {
            if (_plain is not null) _plain.WriteLine($"{_command}: {line}");
            else _console!.WriteLine(line);
        }
    }

    /// <summary>A bar's text cut to leave the bar, percentage and time room on one line.</summary>
    private string Shorten(string text)
    {
        var room = Math.Max(20, _console!.Profile.Width - 40);
        return text.Length <= room ? text : text[..(room - 1)] + "…";
    }
}
