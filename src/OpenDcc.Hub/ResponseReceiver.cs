using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace OpenDcc.Hub;

/// <summary>
/// A DCC user's "Receive Response Service" on loopback, as the DCC Boxed client tooling runs one
/// (<c>/smartdcc/duis</c>, replying 204): it takes the hub's asynchronous responses and alerts. The demo's sample
/// users and the tests use it in place of a real user's system. It keeps the newest <see cref="Kept"/> messages,
/// not every one: the demo serves until Ctrl-C, and the hub answers whoever else uses its users meanwhile.
/// </summary>
public sealed class ResponseReceiver : IAsyncDisposable
{
    /// <summary>How many of the newest messages are kept (in <see cref="Received"/>, and not yet waited for); older ones are forgotten.</summary>
    public const int Kept = 1_000;

    private readonly Queue<string> received = new();
    private readonly Lock gate = new();
    private readonly Channel<string> arrived = Channel.CreateBounded<string>(new BoundedChannelOptions(Kept) { FullMode = BoundedChannelFullMode.DropOldest });
    private readonly WebApplication app;

    private ResponseReceiver(WebApplication app) => this.app = app;

    /// <summary>Where it takes messages: the first of <see cref="Urls"/>.</summary>
    public Uri Url => Urls[0];

    /// <summary>Each of its endpoints (<see cref="StartAsync"/>), one port each, all taking messages alike.</summary>
    public IReadOnlyList<Uri> Urls { get; private set; } = [];

    /// <summary>What was received so far, the newest <see cref="Kept"/> at most, oldest first.</summary>
    public IReadOnlyList<string> Received
    {
        get
        {
            lock (gate)
            {
                return [.. received];
            }
        }
    }

    /// <param name="endpoints">
    /// How many endpoints (ports) it listens on: several users' systems in one, each user's responses to its own endpoint
    /// as a real user's system has one, so that the hub's cap on connections to one endpoint
    /// (<see cref="Core.Delivery.DeliveryOptions.MaxConnectionsPerEndpoint"/>) applies to each user's, not to all of them together.
    /// </param>
    public static async Task<ResponseReceiver> StartAsync(int endpoints = 1)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(endpoints);
        var builder = UnwatchedWebApplication.CreateBuilder();
        // Each endpoint on a port the system gives as it binds (0), read back once started: none is found free and then taken.
        builder.WebHost.UseUrls([.. Enumerable.Repeat("http://127.0.0.1:0", endpoints)]);
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new ResponseReceiver(app);
        app.MapPost(Path, async (HttpContext context) =>
        {
            using var reader = new StreamReader(context.Request.Body);
            receiver.Keep(await reader.ReadToEndAsync());
            return Results.NoContent();
        });
        await app.StartAsync();
        receiver.Urls = [.. app.Urls.Select(u => new Uri(new Uri(u), Path))];
        return receiver;
    }

    private const string Path = "/smartdcc/duis";

    /// <summary>Waits for the next message not yet waited for (of the newest <see cref="Kept"/> not waited for).</summary>
    /// <exception cref="TimeoutException">none arrived in time.</exception>
    public async Task<string> NextAsync(TimeSpan timeout)
    {
        using var wait = new CancellationTokenSource(timeout);
        try
        {
            return await arrived.Reader.ReadAsync(wait.Token);
        }
        catch (OperationCanceledException) when (wait.IsCancellationRequested)
        {
            throw new TimeoutException($"no asynchronous response arrived at {Url} within {timeout}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }

    private void Keep(string message)
    {
        lock (gate)
        {
            received.Enqueue(message);
            if (received.Count > Kept)
            {
                received.Dequeue();
            }
        }
        // Bounded, dropping the oldest not waited for: it always takes the message.
        arrived.Writer.TryWrite(message);
    }
}

/// <summary>Free TCP ports on loopback, for hubs and receivers started side by side (tests, demo, benchmarks).</summary>
/// <remarks>
/// A port is free when it can be bound, but the caller binds it later. A port the kernel picked (port 0) is from the
/// ephemeral range, from which it also gives outgoing connections their local ports, so with many loopback connections
/// open one could take it in between ("address already in use"). These come from below every system's ephemeral
/// range (Linux 32768–60999, Windows and macOS 49152–65535), each handed out once per process, from a random start so
/// that processes side by side rarely try the same one.
/// </remarks>
public static class LoopbackPorts
{
    private const int First = 20_000;
    private const int Count = 12_000;
    private static int next = Random.Shared.Next(Count);

    public static int Free()
    {
        for (var attempt = 0; attempt < Count; attempt++)
        {
            var port = First + (int)((uint)Interlocked.Increment(ref next) % Count);
            try
            {
                using var listener = new TcpListener(IPAddress.Loopback, port);
                listener.Start();
                return port;
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.AddressAlreadyInUse or SocketError.AccessDenied)
            {
            }
        }
        throw new InvalidOperationException($"no free loopback port from {First} to {First + Count - 1}");
    }
}
