using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace OpenDcc.Storage.Tests;

/// <summary>One POST as the receiver got it.</summary>
public sealed record ReceivedRequest(string Method, string Path, string? ContentType, byte[] Body);

/// <summary>
/// A DCC user's response endpoint: a real Kestrel server on 127.0.0.1 that records every request and answers
/// with the next scripted status (204, as DCC Boxed clients answer, once the script runs out). Started on several ports
/// (<see cref="StartOnPortsAsync"/>), it is as many endpoints (origins) that count their requests in flight together.
/// </summary>
public sealed class ResponseReceiver : IAsyncDisposable
{
    public const string Path = "/duis/response";

    private readonly WebApplication app;
    private readonly ConcurrentQueue<int> statuses = new();
    private readonly ConcurrentQueue<ReceivedRequest> received = new();
    private readonly TaskCompletionSource firstRequest = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource enoughInFlight = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int inFlight;
    private int maxInFlight;

    private ResponseReceiver(WebApplication app, int port)
    {
        this.app = app;
        Port = port;
        app.MapPost(Path, HandleAsync);
    }

    public int Port { get; private set; }

    public Uri Url => new($"http://127.0.0.1:{Port}{Path}");

    /// <summary>One URL per port it listens on, <see cref="Url"/> first.</summary>
    public IReadOnlyList<Uri> Urls { get; private set; } = [];

    /// <summary>How long each request is held before it is answered.</summary>
    public TimeSpan Delay { get; set; }

    public IReadOnlyList<ReceivedRequest> Received => [.. received];

    public int MaxInFlight => Volatile.Read(ref maxInFlight);

    /// <summary>
    /// Requests are held until this many are in flight at once, then all answered; when that many do not come within
    /// <see cref="HoldAtMost"/> of one arriving, every request is answered from then on. Zero: none is held.
    /// </summary>
    public int HoldUntilInFlight { get; set; }

    /// <summary>The longest a request waits for <see cref="HoldUntilInFlight"/>.</summary>
    public static readonly TimeSpan HoldAtMost = TimeSpan.FromSeconds(5);

    /// <summary>Completes when the first request arrives.</summary>
    public Task FirstRequest => firstRequest.Task;

    /// <summary>Answers the next requests with these statuses, in order.</summary>
    public void Answer(params int[] codes)
    {
        foreach (var code in codes)
        {
            statuses.Enqueue(code);
        }
    }

    /// <summary>Starts a receiver on <paramref name="port"/>, or on a free port when 0.</summary>
    public static Task<ResponseReceiver> StartAsync(int port = 0) => StartAsync([port]);

    /// <summary>Starts one receiver on <paramref name="count"/> free ports: as many endpoints to the dispatcher (<see cref="Urls"/>).</summary>
    public static Task<ResponseReceiver> StartOnPortsAsync(int count) => StartAsync(new int[count]);

    private static async Task<ResponseReceiver> StartAsync(int[] ports)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(string.Join(';', ports.Select(p => $"http://127.0.0.1:{p}")));
        builder.Logging.ClearProviders();
        var receiver = new ResponseReceiver(builder.Build(), ports[0]);
        await receiver.app.StartAsync();
        receiver.Urls = [.. receiver.app.Urls.Select(u => new Uri(new Uri(u), Path))];
        receiver.Port = receiver.Urls[0].Port;
        return receiver;
    }

    /// <summary>A loopback port nothing listens on (for now): a user whose endpoint is down.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }

    private async Task HandleAsync(HttpContext context)
    {
        var now = Interlocked.Increment(ref inFlight);
        try
        {
            int seen;
            while (now > (seen = Volatile.Read(ref maxInFlight)) && Interlocked.CompareExchange(ref maxInFlight, now, seen) != seen)
            {
            }
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body, context.RequestAborted);
            received.Enqueue(new ReceivedRequest(context.Request.Method, context.Request.Path, context.Request.ContentType, body.ToArray()));
            firstRequest.TrySetResult();
            if (HoldUntilInFlight > 0)
            {
                if (now >= HoldUntilInFlight)
                {
                    enoughInFlight.TrySetResult();
                }
                // Not cancelled with the request: a client that gave up has its answer, late.
                await Task.WhenAny(enoughInFlight.Task, Task.Delay(HoldAtMost));
                enoughInFlight.TrySetResult();
            }
            if (Delay > TimeSpan.Zero)
            {
                await Task.Delay(Delay, context.RequestAborted);
            }
            context.Response.StatusCode = statuses.TryDequeue(out var code) ? code : StatusCodes.Status204NoContent;
        }
        finally
        {
            Interlocked.Decrement(ref inFlight);
        }
    }
}
