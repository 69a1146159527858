using System.Runtime.InteropServices;

namespace OpenDcc.Cli;

/// <summary>
/// Ctrl-C (SIGINT) and SIGTERM while a command runs. The first cancels the command's token, and the command stops as it
/// does (a hub waits for its requests in flight); one still running when the stop timeout has passed is given up on,
/// with the shell's exit code for the signal (130, 143), as System.CommandLine's own handling did. A second Ctrl-C while
/// it stops ends the process at once, saying so in a line, exit code 130: whoever presses it again will not wait.
/// System.CommandLine's handling could not do that: its handler waits for the command on the signal's thread, and a
/// second Ctrl-C ran it again, to wait again. A second SIGTERM changes nothing (a service manager sends SIGKILL).
/// </summary>
internal sealed class StopSignals : IDisposable
{
    private const int InterruptExitCode = 130;
    private const int TerminateExitCode = 143;

    private readonly CancellationTokenSource command;
    private readonly TextWriter error;
    private readonly TimeSpan stopTimeout;
    private readonly TaskCompletionSource<int> left = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly PosixSignalRegistration interrupt;
    private readonly PosixSignalRegistration terminate;
    private int signalled;

    public StopSignals(CancellationTokenSource command, TextWriter error, TimeSpan stopTimeout)
    {
        this.command = command;
        this.error = error;
        this.stopTimeout = stopTimeout;
        interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
    }

    /// <summary>Completes with the signal's exit code when a command told to stop has not ended in time.</summary>
    public Task<int> Left => left.Task;

    public void Dispose()
    {
        interrupt.Dispose();
        terminate.Dispose();
    }

    private void OnSignal(PosixSignalContext context)
    {
        context.Cancel = true;
        var exitCode = context.Signal == PosixSignal.SIGINT ? InterruptExitCode : TerminateExitCode;
        if (Interlocked.Exchange(ref signalled, 1) == 0)
        {
            // Not on this thread: the token's callbacks run the command's stop, and a second signal's handler runs on its own.
            _ = Task.Run(async () =>
            {
                await command.CancelAsync();
                await Task.Delay(stopTimeout);
                left.TrySetResult(exitCode);
            });
        }
        else if (context.Signal == PosixSignal.SIGINT)
        {
            error.WriteLine("opendcc: stopped at once (Ctrl-C again), not waiting for the command to stop cleanly");
            error.Flush();
            Environment.Exit(InterruptExitCode);
        }
    }
}
