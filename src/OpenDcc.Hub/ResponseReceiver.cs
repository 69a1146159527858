using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace OpenDcc.Hub;

/// <summary>
/// A DCC user's "Receive Response Service" on loopback, as the DCC Boxed client tooling runs one
/// (<c>/smartdcc/duis</c>, replying 204): it takes the hub's asynchronous responses and alerts. The demo's sample
/// users and the tests use it in place of a real user's system.
/// </summary>
public sealed class ResponseReceiver : IAsyncDisposable
{
    private readonly ConcurrentQueue<string> received = new();
    private readonly SemaphoreSlim arrived = new(0);
    private int taken;
    private readonly WebApplication app;

    private ResponseReceiver(WebApplication app, Uri url)
    {
        this.app = app;
        Url = url;
    }

    public Uri Url { get; }

    /// <summary>Everything received so far, oldest first.</summary>
    public IReadOnlyCollection<string> Received => received;

    public static async Task<ResponseReceiver> StartAsync()
    {
        var port = LoopbackPorts.Free();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new ResponseReceiver(app, new Uri($"http://127.0.0.1:{port}/smartdcc/duis"));
        app.MapPost("/smartdcc/duis", async (HttpContext context) =>
        {
            using var reader = new StreamReader(context.Request.Body);
            receiver.received.Enqueue(await reader.ReadToEndAsync());
            receiver.arrived.Release();
            return Results.NoContent();
        });
        await app.StartAsync();
        return receiver;
    }

    /// <summary>Waits for the next message not yet waited for.</summary>
    /// <exception cref="TimeoutException">none arrived in time.</exception>
    public async Task<string> NextAsync(TimeSpan timeout)
    {
        if (!await arrived.WaitAsync(timeout))
        {
            throw new TimeoutException($"no asynchronous response arrived at {Url} within {timeout}");
        }
        return received.ElementAt(Interlocked.Increment(ref taken) - 1);
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
        arrived.Dispose();
    }
}

/// <summary>Free TCP ports on loopback, for hubs and receivers started side by side (tests, demo, benchmarks).</summary>
public static class LoopbackPorts
{
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
