using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Reflection;
using NodaTime;
using OpenDcc.Hub;
using OpenDcc.Simulator.Devices;
using OpenDcc.Simulator.Wan;

namespace OpenDcc.Bench;

/// <summary>
/// The simulated fleet and SM WAN served on loopback by a child process of the bench (what <c>opendcc simulate</c>
/// does), so that a scenario measuring the hub's own memory does not count the simulated devices'.
/// </summary>
internal sealed class SimulatorProcess : IDisposable
{
    public const string Scenario = "simulator-process";

    private readonly Process process;

    private SimulatorProcess(Process process, Uri url)
    {
        this.process = process;
        Url = url;
    }

    public Uri Url { get; }

    /// <summary>Starts the child with <paramref name="sites"/> sites (seed 1, zero latency) and waits until it listens.</summary>
    public static async Task<SimulatorProcess> StartAsync(int sites)
    {
        var port = LoopbackPorts.Free();
        var host = Environment.ProcessPath ?? throw new InvalidOperationException("the bench's own executable is unknown");
        var start = new ProcessStartInfo(host) { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(host) == "dotnet")
        {
            // Run as 'dotnet OpenDcc.Bench.dll': the child needs the assembly named.
            start.ArgumentList.Add(Assembly.GetExecutingAssembly().Location);
        }
        foreach (var arg in new[] { Scenario, "--sites", sites.ToString(CultureInfo.InvariantCulture), "--port", port.ToString(CultureInfo.InvariantCulture) })
        {
            start.ArgumentList.Add(arg);
        }
        var process = Process.Start(start) ?? throw new InvalidOperationException("the simulator process did not start");
        var ready = await process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromMinutes(2));
        if (ready is null || !ready.StartsWith("listening ", StringComparison.Ordinal))
        {
            process.Kill();
            throw new InvalidOperationException($"the simulator process said '{ready}' instead of where it listens");
        }
        return new SimulatorProcess(process, new Uri(ready["listening ".Length..]));
    }

    /// <summary>The child's side: serves the fleet until its standard input closes (the bench ended).</summary>
    public static async Task<int> RunAsync(BenchArgs args)
    {
        using var wan = new SimulatedWan(new SimulatedFleet(seed: 1, siteCount: args.Sites), SystemClock.Instance, SimulatedWanOptions.Instant, SimulatedWorld.FormatOf);
        await using var host = await SimulatorHost.StartAsync(wan, new IPEndPoint(IPAddress.Loopback, args.Port));
        Console.WriteLine($"listening {host.Url}");
        await Console.In.ReadToEndAsync();
        return 0;
    }

    public void Dispose()
    {
        // Closing its standard input ends it; kill it if it does not go.
        process.StandardInput.Close();
        if (!process.WaitForExit(TimeSpan.FromSeconds(10)))
        {
            process.Kill(entireProcessTree: true);
        }
        process.Dispose();
    }
}
