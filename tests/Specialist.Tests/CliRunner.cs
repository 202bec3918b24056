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

    public static Result Run(IReadOnlyList<string> args, string? stdin, TimeSpan timeout, IDictionary<string, string>? env = null, string? workingDirectory = null)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory ?? "",
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = stdin is not null,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Specialist.Cli.dll"));
        foreach (var a in args) psi.ArgumentList.Add(a);
        if (env is not null) foreach (var (k, v) in env) psi.Environment[k] = v;
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
}
