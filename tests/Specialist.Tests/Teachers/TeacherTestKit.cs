using System.Diagnostics;
using System.Text.RegularExpressions;
using Specialist.Data;

namespace Specialist.Tests.Teachers;

/// <summary>What the teacher tests share: a tiny random T5 (written once by the real <c>model init</c>), GSM8K problems, child processes.</summary>
internal static partial class TeacherTestKit
{
    private static readonly Lazy<string> TinyModel = new(() =>
    {
        var dir = Path.Combine(TestPaths.NewTempDir(), "tiny-teacher");
        var r = CliRunner.Run("model", "init", "--config", "tiny", "--tokenizer", TestPaths.T5SpieceModel, "--out", dir, "--seed", "11", "--json");
        if (r.ExitCode != 0) throw new InvalidOperationException("model init failed: " + r);
        return dir;
    }, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>A random-init tiny T5 folder (config, weights, spiece.model), made once per test run.</summary>
    public static string TinyModelDirectory => TinyModel.Value;

    public static IReadOnlyList<Problem> Gsm8kTrain(int count) =>
        [.. ProblemSets.Load("gsm8k-train", new DataOptions(TestPaths.DataRoot)).Take(count)];

    /// <summary>The question of a teacher query (<c>...\nQuestion: q\nLet's think step by step</c>).</summary>
    public static string QuestionOf(string prompt)
    {
        var match = TeacherQuery().Match(prompt);
        if (!match.Success) throw new InvalidOperationException("not a teacher query: " + prompt[^Math.Min(prompt.Length, 200)..]);
        return match.Groups[1].Value;
    }

    [GeneratedRegex(@"\nQuestion: ((?:(?!\nQuestion: ).)*)\nLet's think step by step\z", RegexOptions.Singleline)]
    private static partial Regex TeacherQuery();

    /// <summary>Starts <c>specialist ARGS</c> without waiting (stdout and stderr are collected as they come).</summary>
    public static RunningCli Start(params string[] args) => new(args);
}

/// <summary>A running <c>specialist</c> child process.</summary>
internal sealed class RunningCli : IDisposable
{
    private readonly Process _process;
    private readonly System.Text.StringBuilder _stdout = new();
    private readonly System.Text.StringBuilder _stderr = new();
    private readonly SemaphoreSlim _lines = new(0);

    public RunningCli(IReadOnlyList<string> args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Specialist.Cli.dll"));
        foreach (var a in args) psi.ArgumentList.Add(a);
        _process = new Process { StartInfo = psi };
        _process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (_stdout) _stdout.AppendLine(e.Data);
            _lines.Release();
        };
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (_stderr) _stderr.AppendLine(e.Data);
        };
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public Process Process => _process;

    public string Stdout { get { lock (_stdout) return _stdout.ToString(); } }

    public string Stderr { get { lock (_stderr) return _stderr.ToString(); } }

    /// <summary>Waits until stdout has a line matching <paramref name="pattern"/>; returns its first group.</summary>
    public string WaitForLine(string pattern, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var match = Regex.Match(Stdout, pattern, RegexOptions.Multiline);
            if (match.Success) return match.Groups[1].Value;
            if (_process.HasExited) throw new InvalidOperationException($"the process exited ({_process.ExitCode}) before printing /{pattern}/\n{Stdout}\n{Stderr}");
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero) throw new TimeoutException($"no line /{pattern}/ in {timeout}\n{Stdout}\n{Stderr}");
            _lines.Wait(left < TimeSpan.FromMilliseconds(200) ? left : TimeSpan.FromMilliseconds(200));
        }
    }

    public void Dispose()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
        _process.Dispose();
    }
}
