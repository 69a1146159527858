using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace OpenDcc.Interop.Tests.Tooling;

/// <summary>
/// One long-running JVM with the signing tool loaded (<c>tools/DuisToolHost.java</c>). Each request runs the tool's
/// own <c>Sign</c> or <c>Validate</c> entry point with its command-line arguments, so a message costs a few
/// milliseconds instead of a JVM start (about a second each). Requests on one host run one at a time. When the tool
/// ends a request with <c>System.exit</c>, as it does for a message that is not XML, the host answers and exits with
/// the tool's exit code; it is then spent (<see cref="IsRunning"/> false).
/// </summary>
internal sealed class SigningToolHost : IDisposable
{
    // C1 only and the serial collector: measured fastest for short bursts of signing on two cores.
    private static readonly string[] JvmOptions = ["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"];

    private readonly Process process;
    private readonly Stream requests;
    private readonly Stream responses;
    private readonly StringBuilder hostLog = new();
    private bool disposed;

    private SigningToolHost(Process process)
    {
        this.process = process;
        requests = process.StandardInput.BaseStream;
        responses = process.StandardOutput.BaseStream;
        process.ErrorDataReceived += (_, e) =>
        {
            lock (hostLog)
            {
                hostLog.AppendLine(e.Data);
            }
        };
        process.BeginErrorReadLine();
    }

    public bool IsRunning => !disposed && !process.HasExited;

    public static SigningToolHost Start(string java, string jar, string hostSource)
    {
        var process = new Process { StartInfo = ExternalProcess.StartInfo(java, [.. JvmOptions, "-cp", jar, hostSource], null) };
        process.Start();
        return new SigningToolHost(process);
    }

    /// <param name="tool"><c>Sign</c> or <c>Validate</c>.</param>
    /// <param name="options">Tool options after the message argument, e.g. <c>--preserveCounter</c>.</param>
    public async Task<ToolResult> RunAsync(string tool, string message, IReadOnlyList<string> options, CancellationToken cancellationToken)
    {
        var body = Encoding.UTF8.GetBytes(message);
        var header = string.Join(' ', [tool, body.Length.ToString(CultureInfo.InvariantCulture), .. options]) + "\n";
        try
        {
            await requests.WriteAsync(Encoding.ASCII.GetBytes(header), cancellationToken);
            await requests.WriteAsync(body, cancellationToken);
            await requests.FlushAsync(cancellationToken);
            var status = await ReadLineAsync(cancellationToken) ?? throw Stopped();
            var fields = status.Split(' ');
            var output = await ReadExactlyAsync(int.Parse(fields[1], CultureInfo.InvariantCulture), cancellationToken);
            var error = await ReadExactlyAsync(int.Parse(fields[2], CultureInfo.InvariantCulture), cancellationToken);
            int code;
            if (fields[0] == "EXIT")
            {
                await process.WaitForExitAsync(cancellationToken);
                code = process.ExitCode;
            }
            else
            {
                code = int.Parse(fields[0], CultureInfo.InvariantCulture);
            }
            return new ToolResult((SigningToolExit)code, output, error);
        }
        catch (IOException e)
        {
            throw Stopped(e);
        }
    }

    private async Task<string?> ReadLineAsync(CancellationToken cancellationToken)
    {
        var line = new StringBuilder();
        var one = new byte[1];
        while (true)
        {
            if (await responses.ReadAsync(one, cancellationToken) == 0)
            {
                return null;
            }
            if (one[0] == '\n')
            {
                return line.ToString();
            }
            line.Append((char)one[0]);
        }
    }

    private async Task<string> ReadExactlyAsync(int length, CancellationToken cancellationToken)
    {
        var bytes = new byte[length];
        await responses.ReadExactlyAsync(bytes, cancellationToken);
        return Encoding.UTF8.GetString(bytes);
    }

    private InvalidOperationException Stopped(Exception? inner = null)
    {
        process.WaitForExit(TimeSpan.FromSeconds(5));
        string log;
        lock (hostLog)
        {
            log = hostLog.ToString();
        }
        return new InvalidOperationException($"the signing tool host (java {Path.GetFileName(process.StartInfo.ArgumentList[^1])}) stopped:\n{log}", inner);
    }

    public void Dispose()
    {
        if (disposed)
        {
            return;
        }
        disposed = true;
        try
        {
            requests.Close(); // end of input: the host leaves its loop and exits
            if (!process.WaitForExit(TimeSpan.FromSeconds(5)))
            {
                process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
            // never started or already gone
        }
        catch (IOException)
        {
            process.Kill(entireProcessTree: true);
        }
        process.Dispose();
    }
}
