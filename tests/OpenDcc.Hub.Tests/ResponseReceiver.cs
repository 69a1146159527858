using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace OpenDcc.Hub.Tests;

/// <summary>A DCC user's "Receive Response Service": takes the hub's asynchronous POSTs and replies 204, as DCC Boxed clients do.</summary>
public sealed class ResponseReceiver : IAsyncDisposable
{
    private readonly ConcurrentQueue<string> received = new();
    private readonly SemaphoreSlim arrived = new(0);
    private WebApplication? app;

    public Uri Url { get; private set; } = null!;

    public async Task StartAsync()
    {
        var port = TestHub.FreePort();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Logging.ClearProviders();
        app = builder.Build();
        app.MapPost("/smartdcc/duis", async (HttpContext context) =>
        {
            using var reader = new StreamReader(context.Request.Body);
            received.Enqueue(await reader.ReadToEndAsync());
            arrived.Release();
            return Results.StatusCode((int)HttpStatusCode.NoContent);
        });
        await app.StartAsync();
        Url = new Uri($"http://127.0.0.1:{port}/smartdcc/duis");
    }

    /// <summary>The next message posted to this receiver, waiting up to <paramref name="timeout"/>.</summary>
    public async Task<string> NextAsync(TimeSpan timeout)
    {
        if (!await arrived.WaitAsync(timeout))
        {
            throw new TimeoutException("no asynchronous response arrived");
        }
        received.TryDequeue(out var message);
        return message!;
    }

    public async ValueTask DisposeAsync()
    {
        if (app is not null)
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
        arrived.Dispose();
    }
}
