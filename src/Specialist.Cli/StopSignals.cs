using System.Runtime.InteropServices;

namespace Specialist.Cli;

/// <summary>
/// SIGINT (Ctrl-C) and SIGTERM as a polite stop: the first signal cancels <see cref="Token"/> and prints
/// <c>message</c>, so long work can finish its step and save; a second one ends the process at once.
/// </summary>
internal sealed class StopSignals : IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly PosixSignalRegistration _sigint;
    private readonly PosixSignalRegistration _sigterm;

    public StopSignals(string message)
    {
        PosixSignalRegistration On(PosixSignal signal) => PosixSignalRegistration.Create(signal, context =>
        {
            if (_stop.IsCancellationRequested) return; // the default handling: the process ends
            context.Cancel = true;
            _stop.Cancel();
            Console.Error.WriteLine();
            Console.Error.WriteLine(message);
        });
        _sigint = On(PosixSignal.SIGINT);
        _sigterm = On(PosixSignal.SIGTERM);
    }

    public CancellationToken Token => _stop.Token;

    public bool Requested => _stop.IsCancellationRequested;

    public void Dispose()
    {
        _sigint.Dispose();
        _sigterm.Dispose();
        _stop.Dispose();
    }
}
