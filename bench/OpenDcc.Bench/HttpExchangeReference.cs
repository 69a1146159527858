using System.Diagnostics;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using NodaTime;
using OpenDcc.Core.Catalogue;
using OpenDcc.Core.Duis;
using OpenDcc.Core.Security;
using OpenDcc.Hub;

namespace OpenDcc.Bench;

/// <summary>
/// A bare Kestrel endpoint at the gateway's path that answers each POST with what <c>answer</c> makes of its body: a
/// reference point for the gateway benchmark, driven by the same client with the same requests, so that the gateway's
/// CPU per request can be split into the HTTP exchange, the cryptography the bound counts, and everything else.
/// It checks nothing else (no replay, no access control), logs nothing and sends nothing on to a device.
/// </summary>
internal sealed class HttpExchangeReference : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly LeanHttpClient[] connections;

    private HttpExchangeReference(WebApplication app, LeanHttpClient[] connections) => (this.app, this.connections) = (app, connections);

    /// <param name="users">How many connections: one per user, as against the hub.</param>
    public static async Task<HttpExchangeReference> StartAsync(int users, Func<ReadOnlyMemory<byte>, Task<byte[]>> answer)
    {
        var port = LoopbackPorts.Free();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.MapPost(Path, async (HttpContext context) =>
        {
            // Read as the hub's endpoint reads a body: into one buffer of the declared length.
            using var body = new MemoryStream((int)(context.Request.ContentLength ?? 4096));
            await context.Request.Body.CopyToAsync(body, context.RequestAborted);
            var reply = await answer(body.GetBuffer().AsMemory(0, (int)body.Length));
            context.Response.StatusCode = StatusCodes.Status200OK;
            context.Response.ContentType = "application/xml";
            context.Response.ContentLength = reply.Length;
            await context.Response.Body.WriteAsync(reply, context.RequestAborted);
        });
        await app.StartAsync();
        var connections = await Task.WhenAll(Enumerable.Range(0, users).Select(_ => LeanHttpClient.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), Path)));
        return new HttpExchangeReference(app, connections);
    }

    private const string Path = "/api/v1/serviceS";

    /// <summary>Every user's requests, users in parallel, each on its own connection (<see cref="LeanHttpClient.PostAllAsync"/>), timed on a collected heap: the rate, and the process's CPU per request.</summary>
    public async Task<(double Rate, double CpuMicroseconds)> RunAsync(IReadOnlyList<List<byte[]>> batches)
    {
        var requests = batches.Sum(b => b.Count);
        Heap.Settle();
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var watch = Stopwatch.StartNew();
        await LeanHttpClient.PostAllAsync(connections, batches, (status, _) => status == 200);
        var elapsed = watch.Elapsed;
        return (requests / elapsed.TotalSeconds, (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalMicroseconds / requests);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var connection in connections)
        {
            await connection.DisposeAsync();
        }
        await app.StopAsync();
        await app.DisposeAsync();
    }
}

/// <summary>
/// The gateway benchmark's three reference points (<see cref="HttpExchangeReference"/>): an endpoint that answers each
/// request with a prepared I99 (the HTTP exchange alone); one that does the bound's work over HTTP: the request parsed
/// and read, its signature verified against its originator's registered certificate by the hub's own
/// <see cref="DuisMessageSecurity"/>, its I99 made and signed; and one that also makes and signs the request's
/// asynchronous I0 (point 6 of issue 3: every response DSP-signed), with the GBCS payload a meter answers a 4.1.1 with,
/// and then drops it. The third is the least any gateway that signs what issue 3 asks can do over HTTP, before it
/// stores anything, checks replay or access, or reaches a device: its ratio to the bound is a ceiling on the gateway's.
/// </summary>
internal sealed class ExchangeReferences(HttpExchangeReference exchange, HttpExchangeReference withCrypto, HttpExchangeReference withDeviceResponse, DeviceAnswer deviceAnswer) : IAsyncDisposable
{
    public static async Task<ExchangeReferences> StartAsync(DuisMessageSecurity security, IClock clock, int users)
    {
        var deviceAnswer = new DeviceAnswer();
        // The bound's work; with signI0, the request's I0 made and signed as well, then dropped.
        async Task<byte[]> VerifyAndSignAsync(ReadOnlyMemory<byte> body, bool signI0)
        {
            var document = DuisSignature.Load(body);
            if (!DuisRequestReader.TryRead(document, ServiceCatalogue.Duis, out var request, out var failure))
            {
                throw new InvalidOperationException($"a request did not read: {failure.Reason}");
            }
            if (await security.VerifyAsync(document, request.RequestId.Originator) is { } refused)
            {
                throw new InvalidOperationException($"a request did not verify: {refused}");
            }
            if (signI0)
            {
                GC.KeepAlive(security.Sign(DuisResponse.For(request, ResponseCode.Success.Code, clock.GetCurrentInstant(), new ResponsePayload.GbcsPayload(deviceAnswer.Payload))));
            }
            return security.Sign(DuisResponse.For(request, ResponseCode.Acknowledged.Code, clock.GetCurrentInstant()));
        }
        byte[]? prepared = null;
        var exchange = await HttpExchangeReference.StartAsync(users, async body => prepared ??= await VerifyAndSignAsync(body, signI0: false));
        return new ExchangeReferences(exchange, await HttpExchangeReference.StartAsync(users, body => VerifyAndSignAsync(body, signI0: false)),
            await HttpExchangeReference.StartAsync(users, body => VerifyAndSignAsync(body, signI0: true)), deviceAnswer);
    }

    /// <summary>All three, one after the other, on the same requests; the third signs I0s carrying <paramref name="gbcsPayload"/>.</summary>
    public async Task<((double Rate, double CpuMicroseconds) Exchange, (double Rate, double CpuMicroseconds) WithCrypto, (double Rate, double CpuMicroseconds) WithDeviceResponse)> RunAsync(IReadOnlyList<List<byte[]>> batches, ReadOnlyMemory<byte> gbcsPayload)
    {
        deviceAnswer.Payload = gbcsPayload;
        return (await exchange.RunAsync(batches), await withCrypto.RunAsync(batches), await withDeviceResponse.RunAsync(batches));
    }

    public async ValueTask DisposeAsync()
    {
        await exchange.DisposeAsync();
        await withCrypto.DisposeAsync();
        await withDeviceResponse.DisposeAsync();
    }
}

/// <summary>The GBCS payload the third reference's I0s carry: a meter's answer to a 4.1.1, from the gateway's round.</summary>
internal sealed class DeviceAnswer
{
    public ReadOnlyMemory<byte> Payload { get; set; }
}
