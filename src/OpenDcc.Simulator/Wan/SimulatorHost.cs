using System.Collections.Concurrent;
using System.Net;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenDcc.Core.Alerts;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Wan;
using OpenDcc.Simulator.Devices;

namespace OpenDcc.Simulator.Wan;

/// <summary>
/// The simulated SM WAN and its fleet in a process of their own (<c>opendcc simulate</c>), served to a hub over
/// loopback in <see cref="LoopbackWanProtocol"/> (HTTP/2 cleartext, Kestrel). The hub gives the devices its ACB key,
/// learns the devices and their public keys, sends commands and listens for alerts; every hub listening gets every
/// alert.
/// </summary>
public sealed class SimulatorHost : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly AlertStreams alerts;
    private readonly PowerCuts cuts;

    private SimulatorHost(WebApplication app, SimulatedWan wan, Uri url, AlertStreams alerts, PowerCuts cuts)
    {
        this.app = app;
        this.alerts = alerts;
        this.cuts = cuts;
        Wan = wan;
        Url = url;
    }

    public SimulatedWan Wan { get; }

    /// <summary>Completes when the first hub has given the devices its ACB key and listens for their alerts.</summary>
    public Task HubListening => alerts.FirstListener;

    /// <summary>Whether a hub listens for alerts now (its alert stream is open).</summary>
    public bool Listening => alerts.Listening;

    /// <summary>
    /// Cuts a fleet site's power now for <paramref name="length"/> (<see cref="SimulatedWan.CutPowerAsync"/>), as
    /// <see cref="LoopbackWanProtocol.OutagePath"/> does; the returned task completes when the power is back.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">no such site, or a length that is not positive.</exception>
    /// <exception cref="InvalidOperationException">no hub has given the devices its ACB key yet.</exception>
    public Task CutPowerAsync(int site, NodaTime.Duration length) => cuts.Start(site, length);

    /// <summary>Where a hub reaches it (<c>serve --simulator</c>).</summary>
    public Uri Url { get; }

    /// <param name="wan">The WAN to serve; its alerts go to the hubs listening from here on.</param>
    /// <param name="listen">A loopback address and port (0: any free port).</param>
    /// <exception cref="ArgumentException"><paramref name="listen"/> is not a loopback address.</exception>
    /// <exception cref="IOException">the port is taken.</exception>
    public static async Task<SimulatorHost> StartAsync(SimulatedWan wan, IPEndPoint listen, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(wan);
        ArgumentNullException.ThrowIfNull(listen);
        if (!IPAddress.IsLoopback(listen.Address))
        {
            throw new ArgumentException($"{listen.Address} is not a loopback address: the simulated WAN has no TLS and no authentication", nameof(listen));
        }
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = ["--hostBuilder:reloadConfigOnChange=false"] });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(2));
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            // Cleartext HTTP/2 with prior knowledge: there is no TLS to negotiate it by.
            kestrel.Listen(listen, endpoint => endpoint.Protocols = HttpProtocols.Http2);
            // Up to the hub's commands in flight (its per-region concurrency) on one connection.
            kestrel.Limits.Http2.MaxStreamsPerConnection = 1024;
            // Pings find a hub that has gone without closing its connection, so that its alert stream does not keep the
            // simulator from the next hub.
            kestrel.Limits.Http2.KeepAlivePingDelay = TimeSpan.FromSeconds(5);
            kestrel.Limits.Http2.KeepAlivePingTimeout = TimeSpan.FromSeconds(5);
        });
        var app = builder.Build();
        var alerts = new AlertStreams(app.Lifetime.ApplicationStopping);
        wan.Attach(alerts);
        var cuts = new PowerCuts(wan, app.Lifetime.ApplicationStopping, app.Logger);
        Map(app, wan, alerts, cuts);
        try
        {
            await app.StartAsync(cancellationToken);
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
        return new SimulatorHost(app, wan, new Uri(app.Urls.First()), alerts, cuts);
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }

    private static void Map(WebApplication app, SimulatedWan wan, AlertStreams alerts, PowerCuts cuts)
    {
        var stopping = app.Lifetime.ApplicationStopping;
        app.MapPut(LoopbackWanProtocol.AcbPath, async (HttpContext context) =>
        {
            var (given, refusal) = await ReadJsonAsync<AcbKey>(context, "Not an ACB key");
            if (refusal is not null)
            {
                return refusal;
            }
            if (given is null || !Eui64.TryParse(given.Acb, out var acb))
            {
                return Problem(StatusCodes.Status400BadRequest, "Not an ACB key", "acb: not an EUI-64");
            }
            var key = ECDiffieHellman.Create();
            try
            {
                key.ImportSubjectPublicKeyInfo(Convert.FromBase64String(given.KeyAgreementKey ?? ""), out _);
                if (alerts.Listening && wan.Acb is { } serving && !wan.HoldsAcb(acb, key.PublicKey.ExportSubjectPublicKeyInfo()))
                {
                    // Another hub's key would make the devices drop every command of the hub connected now (their MACs).
                    return Problem(StatusCodes.Status409Conflict, "The simulator serves another hub",
                        $"a hub with ACB {serving} and another key is connected (its alert stream is open); one hub per simulator, as a WAN has one DCC");
                }
                wan.UseAcb(acb, key.PublicKey);
            }
            catch (Exception e) when (e is FormatException or CryptographicException)
            {
                return Problem(StatusCodes.Status400BadRequest, "Not an ACB key", $"keyAgreementKey: not a base64 SubjectPublicKeyInfo of a P-256 key ({e.Message})");
            }
            finally
            {
                key.Dispose();
            }
            return Results.NoContent();
        });
        app.MapGet(LoopbackWanProtocol.FleetPath, () =>
        {
            var installed = wan.InstalledDevices().Select(d => Listed(wan, d)).ToList();
            return Results.Json(new FleetSummary(wan.Fleet.Seed, wan.Fleet.Count, (wan.Fleet.Count * SiteDevices) + installed.Count, installed), LoopbackWanProtocol.Json);
        });
        app.MapGet(LoopbackWanProtocol.SitesPath, (int? from, int? count) =>
            from is not >= 0 || count is not (> 0 and <= LoopbackWanProtocol.SitesPerPage)
                ? Problem(StatusCodes.Status400BadRequest, "Bad page", $"from must be 0 or more and count 1 to {LoopbackWanProtocol.SitesPerPage}")
                : Results.Json(wan.InventoryDevices(from.Value, count.Value).Select(d => Listed(wan, d)).ToList(), LoopbackWanProtocol.Json));
        app.MapPost("/devices/{device}/exchange", async (string device, HttpContext context) =>
        {
            if (!Eui64.TryParse(device, out var id))
            {
                return Problem(StatusCodes.Status400BadRequest, "Not a device", $"{device} is not an EUI-64");
            }
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body, context.RequestAborted);
            using var gone = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, stopping);
            try
            {
                return Results.Bytes(await wan.ExchangeAsync(id, body.ToArray(), gone.Token), "application/octet-stream");
            }
            catch (DeviceUnreachableException e)
            {
                return Problem(StatusCodes.Status503ServiceUnavailable, "Device unreachable", e.Reason);
            }
            catch (DeviceSilentException e)
            {
                return Problem(StatusCodes.Status504GatewayTimeout, "Device silent", e.Reason);
            }
            catch (OperationCanceledException) when (gone.IsCancellationRequested)
            {
                // The hub gave up (its timeout), or the simulator is stopping: the stream is reset, never answered
                // with an empty 200 that would pass for a device's answer.
                context.Abort();
                return Results.Empty;
            }
        });
        app.MapPost(LoopbackWanProtocol.SupplierTrustAnchorsPath, async (HttpContext context) =>
        {
            var (given, refusal) = await ReadJsonAsync<List<SupplierTrustAnchor>>(context, "Not a list of trust anchors");
            if (refusal is not null)
            {
                return refusal;
            }
            var anchors = new List<(Eui64? Device, TrustAnchor Anchor)>();
            foreach (var (anchor, index) in (given ?? []).Select((a, i) => (a, i)))
            {
                if (ReadAnchor(anchor, out var read) is { } fault)
                {
                    // All or none: nothing is placed when one is wrong.
                    return Problem(StatusCodes.Status400BadRequest, "Not a trust anchor", $"[{index}].{fault}");
                }
                anchors.Add(read);
            }
            foreach (var (device, anchor) in anchors)
            {
                wan.PlaceSupplierTrustAnchor(device, anchor);
            }
            return Results.NoContent();
        });
        app.MapPost("/fleet/sites/{site}/outage", async (string site, HttpContext context) =>
        {
            var (cut, refusal) = await ReadJsonAsync<PowerCut>(context, "Not a power cut");
            if (refusal is not null)
            {
                return refusal;
            }
            if (!int.TryParse(site, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var number) || number >= wan.Fleet.Count)
            {
                return Problem(StatusCodes.Status404NotFound, "No such site", $"site: the fleet has sites 0 to {wan.Fleet.Count - 1}, not '{site}'");
            }
            if (cut is not { Seconds: > 0 and <= PowerCuts.LongestSeconds })
            {
                return Problem(StatusCodes.Status400BadRequest, "Not a power cut", $"seconds: 1 to {PowerCuts.LongestSeconds}");
            }
            if (wan.Acb is null)
            {
                return Problem(StatusCodes.Status409Conflict, "No hub connected", "the devices have no ACB key yet, so cannot protect their alerts: connect a hub first");
            }
            if (!alerts.Listening)
            {
                // The comms hub's report of the loss of power would be dropped, and the hub hear only of the restoration.
                return Problem(StatusCodes.Status409Conflict, "No hub connected", "no hub is connected to hear the comms hub's alert of the loss of power: connect a hub first");
            }
            _ = cuts.Start(number, NodaTime.Duration.FromSeconds(cut.Seconds));
            return Results.Accepted();
        });
        // One hub at a time, as a WAN has one DCC: a second hub (a copy of the first's data directory holds its ACB key
        // too) would get every alert as well, and the users each alert twice.
        app.MapGet(LoopbackWanProtocol.AlertsPath, (HttpContext context) => alerts.Listening
            ? Problem(StatusCodes.Status409Conflict, "The simulator serves another hub", "a hub is connected (its alert stream is open); one hub per simulator, as a WAN has one DCC")
            : TypedResults.ServerSentEvents(alerts.SubscribeAsync(wan.Fleet.Count, context.RequestAborted)));
        app.MapGet("/health", () => Results.Text("Healthy"));
    }

    /// <summary>ESME, GSME, CHF, GPF and PPMID.</summary>
    private const int SiteDevices = 5;

    private static ListedDevice Listed(SimulatedWan wan, Core.Inventory.Device device)
    {
        using var key = wan.FindKeyAgreementKey(device.Id);
        return ListedDevice.From(device, key?.ExportSubjectPublicKeyInfo());
    }

    /// <summary>The anchor as the WAN's devices hold it; or what is wrong with it, naming the field.</summary>
    private static string? ReadAnchor(SupplierTrustAnchor? given, out (Eui64? Device, TrustAnchor Anchor) read)
    {
        read = default;
        if (given is null)
        {
            return "anchor: missing";
        }
        Eui64? device = null;
        if (given.Device is not null)
        {
            if (!Eui64.TryParse(given.Device, out var id))
            {
                return $"device: '{given.Device}' is not an EUI-64";
            }
            device = id;
        }
        if (!Eui64.TryParse(given.Supplier, out var supplier))
        {
            return $"supplier: '{given.Supplier}' is not an EUI-64";
        }
        try
        {
            var spki = Convert.FromBase64String(given.SigningKey ?? "");
            using var key = ECDsa.Create();
            key.ImportSubjectPublicKeyInfo(spki, out _);
            if (key.KeySize != 256)
            {
                return "signingKey: not a P-256 key";
            }
            read = (device, new TrustAnchor(Core.Security.RemotePartyRole.Supplier, supplier, spki));
            return null;
        }
        catch (Exception e) when (e is FormatException or CryptographicException)
        {
            return $"signingKey: not a base64 SubjectPublicKeyInfo of an ECDSA P-256 key ({e.Message})";
        }
    }

    /// <summary>
    /// The request's JSON body; or, as the refusal, a problem document: 415 when the request does not say its body
    /// is JSON (<c>Content-Type: application/json</c>), 400 when it has none or it does not read.
    /// </summary>
    private static async Task<(T? Value, IResult? Refusal)> ReadJsonAsync<T>(HttpContext context, string title)
    {
        if (!context.Request.HasJsonContentType())
        {
            var given = context.Request.ContentType is { Length: > 0 } type ? $"not '{type}'" : "none given";
            return (default, Problem(StatusCodes.Status415UnsupportedMediaType, title, $"Content-Type: application/json expected, {given}"));
        }
        try
        {
            return (await context.Request.ReadFromJsonAsync<T>(LoopbackWanProtocol.Json, context.RequestAborted), null);
        }
        catch (JsonException e)
        {
            // .NET's message names its own types and says where in its own words: the field is named, and the fault said plainly.
            var at = e.Path is { Length: > 1 } path ? $" at {path}" : "";
            var fault = e.Message.StartsWith("The JSON value could not be converted", StringComparison.Ordinal)
                ? "a value of another type than the field takes (a number is written as a JSON number, not in quotes)"
                : e.Message.IndexOf(" Path: ", StringComparison.Ordinal) is >= 0 and var cut ? e.Message[..cut] : e.Message;
            return (default, Problem(StatusCodes.Status400BadRequest, title, $"the body is not the JSON expected{at}: {fault}"));
        }
    }

    private static IResult Problem(int status, string title, string detail) =>
        Results.Problem(statusCode: status, title: title, detail: detail);

    /// <summary>The alert streams of the hubs listening: every alert goes to each; none listening, it is dropped, as a WAN with no head-end connected drops it.</summary>
    private sealed class AlertStreams(CancellationToken stopping) : IDeviceAlertSink
    {
        private readonly ConcurrentDictionary<Channel<SseItem<string>>, bool> listeners = new();
        private readonly TaskCompletionSource first = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Completes when the first hub listens.</summary>
        public Task FirstListener => first.Task;

        /// <summary>Whether a hub listens now.</summary>
        public bool Listening => !listeners.IsEmpty;

        public Task ReceiveAsync(Eui64 device, byte[] message, CancellationToken cancellationToken = default) =>
            Send(new SseItem<string>(JsonSerializer.Serialize(new DeviceReport(device.ToString(), Convert.ToBase64String(message)), LoopbackWanProtocol.Json), LoopbackWanProtocol.AlertEvent));

        public Task PowerLostAsync(Eui64 commsHub, NodaTime.Instant since, CancellationToken cancellationToken = default) =>
            Send(new SseItem<string>(JsonSerializer.Serialize(PowerLoss.Of(commsHub, since), LoopbackWanProtocol.Json), LoopbackWanProtocol.PowerLostEvent));

        private Task Send(SseItem<string> item)
        {
            foreach (var listener in listeners.Keys)
            {
                listener.Writer.TryWrite(item);
            }
            return Task.CompletedTask;
        }

        /// <summary>A ready event, then every alert until the hub goes or the simulator stops.</summary>
        public async IAsyncEnumerable<SseItem<string>> SubscribeAsync(int sites, [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            var channel = Channel.CreateUnbounded<SseItem<string>>(new UnboundedChannelOptions { SingleReader = true });
            listeners[channel] = true;
            first.TrySetResult();
            // Ends the stream, not with an exception but as a stream that is over.
            using var end = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, stopping);
            using var registration = end.Token.Register(() => channel.Writer.TryComplete());
            try
            {
                yield return new SseItem<string>(JsonSerializer.Serialize(new { sites }, LoopbackWanProtocol.Json), LoopbackWanProtocol.ReadyEvent);
                await foreach (var item in channel.Reader.ReadAllAsync(CancellationToken.None))
                {
                    yield return item;
                }
            }
            finally
            {
                listeners.TryRemove(channel, out _);
            }
        }
    }

    /// <summary>The power cuts under way, each ending when the power is back or the simulator stops.</summary>
    private sealed class PowerCuts(SimulatedWan wan, CancellationToken stopping, ILogger logger)
    {
        /// <summary>A day.</summary>
        public const int LongestSeconds = 86_400;

        public Task Start(int site, NodaTime.Duration length)
        {
            if (site < 0 || site >= wan.Fleet.Count)
            {
                throw new ArgumentOutOfRangeException(nameof(site), site, $"the fleet has sites 0 to {wan.Fleet.Count - 1}");
            }
            if (wan.Acb is null)
            {
                throw new InvalidOperationException("the simulated devices have no ACB key yet: a hub must connect first");
            }
            return RunAsync(wan.Fleet[site], length);
        }

        private async Task RunAsync(SimulatedSite site, NodaTime.Duration length)
        {
            try
            {
                await wan.CutPowerAsync(site, length, stopping);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
            }
#pragma warning disable CA1031 // A power cut that fails is the simulator's own fault; logged, it must not take the host down.
            catch (Exception e)
#pragma warning restore CA1031
            {
                logger.LogError(e, "the power cut at site {Site} failed", site.Number);
            }
        }
    }
}
