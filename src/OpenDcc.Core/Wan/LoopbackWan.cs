using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Net.ServerSentEvents;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using OpenDcc.Core.Alerts;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Inventory;
using OpenDcc.Core.Translation;

namespace OpenDcc.Core.Wan;

/// <summary>
/// The SM WAN of a simulator (or head-end) in another process on loopback, spoken to in
/// <see cref="LoopbackWanProtocol"/>: commands go as HTTP/2 requests, many in flight on one connection; alerts
/// come back on a Server-Sent Events stream. On connecting it gives the WAN the ACB's public key and learns the
/// WAN's devices (into the inventory) and their public key-agreement keys (<see cref="IDeviceKeyDirectory"/>), as a
/// DCC learns devices and their certificates, and tells it again what it was told (<see cref="SetAsync"/>). When
/// the connection goes, commands fail as to an unreachable WAN (<see cref="DeviceUnreachableException"/>, E20 after
/// the grain's retries) and it connects again, every <see cref="ReconnectDelay"/>, until the WAN is back.
/// </summary>
public sealed class LoopbackWan : IWanTransport, IDeviceKeyDirectory, IAsyncDisposable
{
    private readonly HttpClient http;
    private readonly Eui64 acb;
    private readonly byte[] acbPublicKey;
    private readonly ILogger logger;
    private readonly ConcurrentDictionary<Eui64, ListedKey> deviceKeys = new();
    // The last version given to a device's key (IDeviceKeyDirectory.KeyVersion); each key listed anew takes the next.
    private long keyVersions;
    // What the hub has told the WAN (path → JSON), told again on every connection.
    private readonly ConcurrentDictionary<string, byte[]> settings = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource stopping = new();
    private IDeviceAlertSink? alertSink;
    private IInventoryStore? inventory;
    private Task? listening;
    private volatile bool connected;
    // Why the WAN went, while it is away (null before the first connection and while connected).
    private volatile string? away;

    /// <param name="simulator">The WAN's address: <c>http://</c>, a loopback host and a port.</param>
    /// <param name="acbPublicKey">The ACB's public key-agreement key, given to the WAN's devices.</param>
    /// <exception cref="ArgumentException"><paramref name="simulator"/> is not an http URL on loopback.</exception>
    public LoopbackWan(Uri simulator, Eui64 acb, ECDiffieHellmanPublicKey acbPublicKey, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(simulator);
        ArgumentNullException.ThrowIfNull(acbPublicKey);
        Simulator = Check(simulator);
        this.acb = acb;
        this.acbPublicKey = acbPublicKey.ExportSubjectPublicKeyInfo();
        this.logger = logger ?? NullLogger.Instance;
        http = new HttpClient(new SocketsHttpHandler
        {
            ConnectTimeout = TimeSpan.FromSeconds(2),
            // HTTP/2 pings find a WAN that has gone without closing its connection.
            KeepAlivePingDelay = TimeSpan.FromSeconds(5),
            KeepAlivePingTimeout = TimeSpan.FromSeconds(5),
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.Always,
            EnableMultipleHttp2Connections = true,
        })
        {
            BaseAddress = Simulator,
            DefaultRequestVersion = HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
            // Each exchange is bounded by its caller's token (the grain's attempt timeout).
            Timeout = Timeout.InfiniteTimeSpan,
            MaxResponseContentBufferSize = LoopbackWanProtocol.MaxBodyBytes,
        };
    }

    public Uri Simulator { get; }

    /// <summary>Whether the WAN holds the ACB key and its alert stream is open.</summary>
    public bool IsConnected => connected;

    /// <summary>Why the WAN went, while it is away; null before the first connection and while connected.</summary>
    public string? Away => away;

    /// <summary>How long to wait between attempts to connect again.</summary>
    public TimeSpan ReconnectDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How long a refusal of the alert stream (another hub's open) is tried again before it stands.</summary>
    private static readonly TimeSpan StreamHandover = TimeSpan.FromSeconds(3);

    /// <summary>Whether <paramref name="url"/> can name a loopback WAN; <paramref name="fault"/> says why not.</summary>
    public static bool IsValidAddress(Uri url, out string? fault)
    {
        ArgumentNullException.ThrowIfNull(url);
        fault = !url.IsAbsoluteUri || url.Scheme != Uri.UriSchemeHttp ? $"'{url}' is not an http:// URL"
            : !url.IsLoopback ? $"{url.Host} is not a loopback address (the WAN protocol has no TLS and no authentication)"
            : url.AbsolutePath != "/" || url.Query.Length > 0 ? $"'{url}' has a path; give the simulator's address only"
            : null;
        return fault is null;
    }

    public void Attach(IDeviceAlertSink sink) => alertSink = sink ?? throw new ArgumentNullException(nameof(sink));

    /// <summary>
    /// Connects for the first time: gives the WAN the ACB key, adds its devices to <paramref name="inventoryStore"/>
    /// (those it does not hold yet), opens the alert stream, and from then on keeps it open, connecting again after
    /// a loss.
    /// </summary>
    /// <returns>The fleet, and how many devices were added to the inventory.</returns>
    /// <exception cref="WanUnavailableException">no WAN answers at <see cref="Simulator"/>, or it does not speak the protocol.</exception>
    public async Task<(FleetSummary Fleet, MissingDevicesAdded Added)> ConnectAsync(IInventoryStore inventoryStore, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inventoryStore);
        if (listening is not null)
        {
            throw new InvalidOperationException($"already connected to {Simulator}");
        }
        inventory = inventoryStore;
        var (fleet, added, alerts) = await ConnectOnceAsync(cancellationToken);
        connected = true;
        listening = ListenAsync(alerts, stopping.Token);
        return (fleet, added);
    }

    /// <summary>
    /// Posts <paramref name="value"/> to the WAN at <paramref name="path"/> (for a simulator, the trust anchors its
    /// devices hold: <see cref="LoopbackWanProtocol.SupplierTrustAnchorsPath"/>): now when connected, and again each
    /// time the hub connects, since a WAN started again has forgotten it. The last value per path is what is kept.
    /// </summary>
    /// <exception cref="WanUnavailableException">connected, but the WAN refused it or could not be reached.</exception>
    public async Task SetAsync<T>(string path, T value, CancellationToken cancellationToken = default)
        where T : notnull
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var json = JsonSerializer.SerializeToUtf8Bytes(value, LoopbackWanProtocol.Json);
        settings[path] = json;
        if (connected)
        {
            try
            {
                await PostSettingAsync(path, json, cancellationToken);
            }
            catch (Exception e) when (e is HttpRequestException or IOException)
            {
                throw new WanUnavailableException(Simulator, e.Message, e);
            }
        }
    }

    public async Task<byte[]> ExchangeAsync(Eui64 device, byte[] command, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(command);
        // A request made here does not take the client's default version: HTTP/2 is asked for explicitly.
        using var request = new HttpRequestMessage(HttpMethod.Post, LoopbackWanProtocol.ExchangePath(device))
        {
            Content = new ByteArrayContent(command),
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        request.Content.Headers.ContentType = new("application/octet-stream");
        if (away is { } why)
        {
            // Known to be gone (its connection closed, or it stopped answering pings): a command is not sent to wait
            // out its timeout there, but fails at once as unreachable.
            throw new DeviceUnreachableException(device, $"the WAN at {Simulator} is away ({why}); commands to its devices fail until it is back");
        }
        try
        {
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            if (response.IsSuccessStatusCode)
            {
                return await ReadAnswerAsync(device, response.Content, cancellationToken);
            }
            if (response.StatusCode == HttpStatusCode.GatewayTimeout)
            {
                throw new DeviceSilentException(device, await ProblemAsync(response, cancellationToken));
            }
            throw new DeviceUnreachableException(device, await ProblemAsync(response, cancellationToken));
        }
        catch (Exception e) when (e is HttpRequestException or IOException && !cancellationToken.IsCancellationRequested)
        {
            throw new DeviceUnreachableException(device, $"the WAN at {Simulator} cannot be reached ({e.Message})");
        }
    }

    public ECDiffieHellmanPublicKey? FindKeyAgreementKey(Eui64 device)
    {
        if (!deviceKeys.TryGetValue(device, out var listed))
        {
            return null;
        }
        using var key = ECDiffieHellman.Create();
        key.ImportSubjectPublicKeyInfo(listed.Spki, out _);
        return key.PublicKey;
    }

    public long KeyVersion(Eui64 device) => deviceKeys.TryGetValue(device, out var listed) ? listed.Version : 0;

    public async ValueTask DisposeAsync()
    {
        await stopping.CancelAsync();
        if (listening is not null)
        {
            await listening;
        }
        http.Dispose();
        stopping.Dispose();
    }

    private static Uri Check(Uri url) => IsValidAddress(url, out var fault) ? url : throw new ArgumentException(fault, nameof(url));

    private async Task<(FleetSummary Fleet, MissingDevicesAdded Added, HttpResponseMessage Alerts)> ConnectOnceAsync(CancellationToken cancellationToken)
    {
        try
        {
            using (var given = await http.PutAsJsonAsync(LoopbackWanProtocol.AcbPath, new AcbKey(acb.ToString(), Convert.ToBase64String(acbPublicKey)), LoopbackWanProtocol.Json, cancellationToken))
            {
                await EnsureAsync(given, "giving it the ACB key", cancellationToken);
            }
            foreach (var (path, json) in settings)
            {
                await PostSettingAsync(path, json, cancellationToken);
            }
            var fleet = await GetAsync<FleetSummary>(LoopbackWanProtocol.FleetPath, cancellationToken);
            var listed = new HashSet<Eui64>();
            var added = await LearnAsync(fleet.Installed, listed, cancellationToken);
            for (var from = 0; from < fleet.Sites; from += LoopbackWanProtocol.SitesPerPage)
            {
                added = added.And(await LearnAsync(await GetAsync<ListedDevice[]>($"{LoopbackWanProtocol.SitesPath}?from={from}&count={LoopbackWanProtocol.SitesPerPage}", cancellationToken), listed, cancellationToken));
            }
            ForgetUnlisted(listed);
            var alerts = await http.GetAsync(LoopbackWanProtocol.AlertsPath, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            // One hub at a time: a stream just closed (this hub's own before it connected again, or a hub's that has
            // stopped) may still be open at the WAN's end for a moment.
            for (var waited = TimeSpan.Zero; alerts.StatusCode == HttpStatusCode.Conflict && waited < StreamHandover; waited += ReconnectDelay / 4)
            {
                alerts.Dispose();
                await Task.Delay(ReconnectDelay / 4, cancellationToken);
                alerts = await http.GetAsync(LoopbackWanProtocol.AlertsPath, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            }
            await EnsureAsync(alerts, "opening its alert stream", cancellationToken);
            return (fleet, added, alerts);
        }
        catch (Exception e) when (e is HttpRequestException or IOException or JsonException or FormatException or NotSupportedException)
        {
            throw new WanUnavailableException(Simulator, e.Message, e);
        }
    }

    /// <summary>
    /// Drops the keys of devices the WAN no longer lists, once it has listed all it has: a device gone from the WAN (a
    /// WAN started again with another fleet, a device taken off it) has no key there, so the hub has none for it either
    /// (<see cref="DeviceUnreachableException"/> at its next command, as for any device the WAN does not know), and the
    /// keys held are those of the WAN's fleet now, not of every device any WAN ever listed across reconnections.
    /// </summary>
    private void ForgetUnlisted(HashSet<Eui64> listed)
    {
        foreach (var device in deviceKeys.Keys)
        {
            if (!listed.Contains(device))
            {
                deviceKeys.TryRemove(device, out _);
            }
        }
    }

    /// <summary>Takes the listed devices into the inventory and their keys; all or none. Adds their IDs to <paramref name="seen"/>.</summary>
    /// <exception cref="FormatException">the listing, or a device in it, does not read; the device is named.</exception>
    private async Task<MissingDevicesAdded> LearnAsync(IReadOnlyList<ListedDevice?>? listed, HashSet<Eui64> seen, CancellationToken cancellationToken)
    {
        if (listed is null)
        {
            throw new FormatException("the WAN lists no devices (null where a list was expected)");
        }
        var devices = new List<Device>(listed.Count);
        var keys = new List<(Eui64 Device, byte[] Key)>();
        foreach (var (entry, index) in listed.Select((d, i) => (d, i)))
        {
            try
            {
                var device = (entry ?? throw new FormatException("missing")).ToDevice();
                devices.Add(device);
                if (entry.KeyAgreementKey is { } key)
                {
                    keys.Add((device.Id, KeyAgreementKey(key)));
                }
            }
            catch (FormatException e)
            {
                throw new FormatException($"the WAN lists device {entry?.Id ?? index.ToString(System.Globalization.CultureInfo.InvariantCulture)}: {e.Message}", e);
            }
        }
        foreach (var (device, key) in keys)
        {
            // Another key than the one held (the WAN restarted with other keys, the device re-keyed): a new version,
            // so the MAC keys derived from the old one are derived again.
            if (!deviceKeys.TryGetValue(device, out var held) || !held.Spki.AsSpan().SequenceEqual(key))
            {
                deviceKeys[device] = new ListedKey(key, Interlocked.Increment(ref keyVersions));
            }
        }
        seen.UnionWith(devices.Select(d => d.Id));
        return await inventory!.AddMissingDevicesAsync(devices, cancellationToken);
    }

    /// <summary>
    /// The SubjectPublicKeyInfo of a P-256 key, as the ACB's own is: one that is not would throw each time a command
    /// for the device is made or its answer read (<see cref="FindKeyAgreementKey"/>, the MAC key's derivation).
    /// </summary>
    /// <exception cref="FormatException">it is not.</exception>
    private static byte[] KeyAgreementKey(string base64)
    {
        var spki = Convert.FromBase64String(base64);
        try
        {
            using var key = ECDiffieHellman.Create();
            key.ImportSubjectPublicKeyInfo(spki, out var read);
            if (read == spki.Length && key.ExportParameters(false).Curve.Oid?.Value == ECCurve.NamedCurves.nistP256.Oid.Value)
            {
                return spki;
            }
        }
        catch (CryptographicException)
        {
        }
        throw new FormatException("its key-agreement key is not the SubjectPublicKeyInfo of a P-256 key");
    }

    /// <summary>A device's answer, read up to <see cref="LoopbackWanProtocol.MaxBodyBytes"/>: a longer one is refused unread.</summary>
    private async Task<byte[]> ReadAnswerAsync(Eui64 device, HttpContent content, CancellationToken cancellationToken)
    {
        DeviceUnreachableException TooLong() => new(device, $"the WAN at {Simulator} answered with more than {LoopbackWanProtocol.MaxBodyBytes:N0} bytes, more than any device answers: not read");
        if (content.Headers.ContentLength > LoopbackWanProtocol.MaxBodyBytes)
        {
            throw TooLong();
        }
        await using var body = await content.ReadAsStreamAsync(cancellationToken);
        using var answer = new MemoryStream();
        var chunk = new byte[64 * 1024];
        int read;
        while ((read = await body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (answer.Length + read > LoopbackWanProtocol.MaxBodyBytes)
            {
                throw TooLong();
            }
            answer.Write(chunk, 0, read);
        }
        return answer.ToArray();
    }

    /// <summary>Hands each alert to the sink while the stream lasts; then connects again until the WAN is back.</summary>
    private async Task ListenAsync(HttpResponseMessage first, CancellationToken cancellationToken)
    {
        HttpResponseMessage? alerts = first;
        while (alerts is not null)
        {
            var reason = "it closed the alert stream";
            try
            {
                using (alerts)
                {
                    await using var stream = await alerts.Content.ReadAsStreamAsync(cancellationToken);
                    await foreach (var item in SseParser.Create(stream).EnumerateAsync(cancellationToken))
                    {
                        if (item.EventType is LoopbackWanProtocol.AlertEvent or LoopbackWanProtocol.PowerLostEvent && alertSink is { } sink)
                        {
                            await DeliverAsync(sink, item.EventType, item.Data, cancellationToken);
                        }
                    }
                }
            }
            catch (Exception e) when (e is HttpRequestException or IOException)
            {
                reason = e.Message;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            connected = false;
            away = reason;
            logger.LogWarning("the WAN at {Simulator} went ({Reason}); commands to its devices fail until it is back", Simulator, reason);
            alerts = await ReconnectAsync(cancellationToken);
            connected = alerts is not null;
            if (connected)
            {
                away = null;
                logger.LogInformation("the WAN at {Simulator} is back", Simulator);
            }
        }
    }

    /// <summary>
    /// Tries to connect every <see cref="ReconnectDelay"/> until it does or the hub stops, whatever stopped an attempt
    /// (the WAN not there or refusing the hub, the store away while its devices are learnt); a reason not logged since
    /// the WAN went is logged.
    /// </summary>
    private async Task<HttpResponseMessage?> ReconnectAsync(CancellationToken cancellationToken)
    {
        string? logged = null;
        while (true)
        {
            try
            {
                await Task.Delay(ReconnectDelay, cancellationToken);
                return (await ConnectOnceAsync(cancellationToken)).Alerts;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return null;
            }
#pragma warning disable CA1031 // The loop that keeps the hub connected must outlive any one attempt; what stopped it is logged.
            catch (Exception e)
#pragma warning restore CA1031
            {
                if (e.Message != logged)
                {
                    logged = e.Message;
                    logger.LogWarning(e is WanUnavailableException ? null : e, "the WAN at {Simulator} is not back yet: {Reason}", Simulator, e.Message);
                }
            }
        }
    }

    private async Task DeliverAsync(IDeviceAlertSink sink, string eventType, string data, CancellationToken cancellationToken)
    {
        try
        {
            if (eventType == LoopbackWanProtocol.PowerLostEvent)
            {
                var (commsHub, since) = (JsonSerializer.Deserialize<PowerLoss>(data, LoopbackWanProtocol.Json) ?? throw new JsonException("an empty power loss")).Read();
                await sink.PowerLostAsync(commsHub, since, cancellationToken);
                return;
            }
            var report = JsonSerializer.Deserialize<DeviceReport>(data, LoopbackWanProtocol.Json) ?? throw new JsonException("an empty alert");
            await sink.ReceiveAsync(Eui64.Parse(report.Device), Convert.FromBase64String(report.Message), cancellationToken);
        }
#pragma warning disable CA1031 // One alert that cannot be handed on must not close the stream of the others; it is logged. Only the hub stopping ends it: a cancellation of the sink's own is one alert's failure.
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
#pragma warning restore CA1031
        {
            logger.LogError(e, "an alert from the WAN at {Simulator} was not handled: {Data}", Simulator, data);
        }
    }

    private async Task PostSettingAsync(string path, byte[] json, CancellationToken cancellationToken)
    {
        using var content = new ByteArrayContent(json);
        content.Headers.ContentType = new("application/json");
        using var response = await http.PostAsync(path, content, cancellationToken);
        await EnsureAsync(response, $"POST {path}", cancellationToken);
    }

    private async Task<T> GetAsync<T>(string path, CancellationToken cancellationToken)
    {
        using var response = await http.GetAsync(path, cancellationToken);
        await EnsureAsync(response, $"GET {path}", cancellationToken);
        return await response.Content.ReadFromJsonAsync<T>(LoopbackWanProtocol.Json, cancellationToken) ?? throw new JsonException($"GET {path}: an empty answer");
    }

    private static async Task EnsureAsync(HttpResponseMessage response, string doing, CancellationToken cancellationToken)
    {
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"{doing}: HTTP {(int)response.StatusCode}: {await ProblemAsync(response, cancellationToken)}", null, response.StatusCode);
        }
    }

    /// <summary>The problem document's detail, or the status.</summary>
    private static async Task<string> ProblemAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
            return problem.RootElement.TryGetProperty("detail", out var detail) && detail.GetString() is { } text ? text : $"HTTP {(int)response.StatusCode}";
        }
        catch (JsonException)
        {
            return $"HTTP {(int)response.StatusCode}";
        }
    }

    /// <summary>A device's key-agreement key as the WAN lists it (its SubjectPublicKeyInfo) and its version.</summary>
    private sealed record ListedKey(byte[] Spki, long Version);
}

/// <summary>No SM WAN answers at the address, what answers does not speak <see cref="LoopbackWanProtocol"/>, or it refused the hub (it serves another).</summary>
public sealed class WanUnavailableException(Uri address, string reason, Exception? inner = null)
    : Exception(inner is HttpRequestException { StatusCode: not null } ? $"the WAN at {address} refused this hub: {reason}" : $"no WAN answers at {address}: {reason}", inner)
{
    public Uri Address { get; } = address;
}
