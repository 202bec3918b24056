using System.Diagnostics;

namespace Specialist.Tests;

/// <summary>Runs the real <c>specialist</c> command (the built Specialist.Cli.dll beside the tests) as a child process.</summary>
internal static class CliRunner
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr)
    {
        public override string ToString() => $"exit {ExitCode}\n--- stdout ---\n{Stdout}\n--- stderr ---\n{Stderr}";
    }

    public static Result Run(params string[] args) => Run(args, stdin: null, timeout: TimeSpan.FromMinutes(5));

    public static Result Run(IReadOnlyList<string> args, string? stdin, TimeSpan timeout, IReadOnlyDictionary<string, string>? env = null, string? workingDirectory = null)
    {
        var psi = StartInfo(args, env);
        psi.WorkingDirectory = workingDirectory ?? "";
        psi.RedirectStandardInput = stdin is not null;
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (stdin is not null) { p.StandardInput.Write(stdin); p.StandardInput.Close(); }
        if (!p.WaitForExit(timeout))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"specialist {string.Join(' ', args)} did not finish in {timeout}");
        }
        return new Result(p.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>Starts the command and returns at once, collecting its stderr lines (a run's progress) as they come.</summary>
    public static Running Start(IReadOnlyList<string> args, IReadOnlyDictionary<string, string>? env = null) => new(Process.Start(StartInfo(args, env))!);

    /// <summary>The command with <paramref name="args"/> and the extra <paramref name="env"/>, its stdout and stderr redirected.</summary>
    public static ProcessStartInfo StartInfo(IReadOnlyList<string> args, IReadOnlyDictionary<string, string>? env)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Specialist.Cli.dll"));
        foreach (var a in args) psi.ArgumentList.Add(a);
        if (env is not null) foreach (var (k, v) in env) psi.Environment[k] = v;
        return psi;
    }

    /// <summary>A command started by <see cref="Start"/>: watched through its stderr lines, and killed.</summary>
    public sealed class Running : IDisposable
    {
        private readonly Process _process;
        private readonly List<string> _stderr = [];
        private readonly Lock _lock = new();

        internal Running(Process process)
        {
            _process = process;
            process.OutputDataReceived += (_, _) => { };
            process.ErrorDataReceived += (_, e) =>
            {
                if (e.Data is null) return;
                lock (_lock) _stderr.Add(e.Data);
            };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
        }

        public int Id => _process.Id;

        public bool HasExited => _process.HasExited;

        /// <summary>The stderr lines so far.</summary>
        public IReadOnlyList<string> Stderr
        {
            get
            {
                lock (_lock) return [.. _stderr];
            }
        }

        /// <summary>
        /// SIGKILL (what <see cref="Process.Kill()"/> sends on Unix: no handler runs, nothing is flushed), then waits for
        /// the end; returns the exit code, 137 (128 + 9) when the signal ended the process.
        /// </summary>
        public int Kill()
        {
            _process.Kill();
            _process.WaitForExit();
            return _process.ExitCode;
        }

        public void Dispose()
        {
            if (!_process.HasExited) Kill();
            _process.Dispose();
        }
    }
}
