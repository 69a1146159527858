using System.Collections.Concurrent;
using System.Security.Cryptography;
using NodaTime;
using OpenDcc.Core.Alerts;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Translation;
using OpenDcc.Core.Translation.EarlySmart;
using OpenDcc.Core.Translation.Gbcs;
using OpenDcc.Core.Wan;
using OpenDcc.Simulator.Devices;

namespace OpenDcc.Simulator.Wan;

/// <summary>The wire format a simulated device speaks.</summary>
public enum WireFormat
{
    /// <summary>GBCS-like binary frames with the ACB's MAC (<see cref="GbcsCodec"/>).</summary>
    Gbcs,

    /// <summary>The early-smart text line protocol (<see cref="EarlySmartCodec"/>).</summary>
    EarlySmart,
}

/// <summary>How the simulated WAN behaves.</summary>
/// <param name="Latency">Added to every exchange, as a real SM WAN takes seconds.</param>
/// <param name="LossPerMille">Commands lost in a thousand (deterministic from the fleet seed and the command): a lost command is never answered.</param>
public sealed record SimulatedWanOptions(Duration Latency, int LossPerMille)
{
    public static SimulatedWanOptions Instant { get; } = new(Duration.Zero, 0);
}

/// <summary>
/// The simulated SM WAN and the devices at its far end, in-process: a command frame reaches the device addressed,
/// which checks it as a GBCS device does (the ACB's MAC under the key it shares with the ACB, a counter that must
/// rise; for critical commands also the supplier's signature against the supplier trust anchor it holds), executes it
/// on its simulated meter and answers with its own MACed frame. Each device has its own ECDH
/// P-256 key-agreement key, made on first use; the hub's adapter finds its public half here, as it would in the SMKI
/// repository. Devices can be installed under an ID of their own (for example the RTDS test devices) and taken
/// offline.
/// </summary>
public sealed class SimulatedWan : IWanTransport, IDeviceKeyDirectory, IDisposable
{
    private readonly SimulatedFleet fleet;
    private readonly Eui64 acb;
    private readonly ECDiffieHellmanPublicKey acbPublic;
    private readonly IClock clock;
    private readonly SimulatedWanOptions options;
    private readonly ConcurrentDictionary<Eui64, Endpoint> endpoints = new();
    private readonly ConcurrentDictionary<Eui64, (ISimulatedDevice Device, WireFormat Format)> installed = new();
    private readonly Func<SimulatedSite, WireFormat> formatOfSite;
    private IDeviceAlertSink? alertSink;
    private readonly ConcurrentDictionary<Eui64, bool> offline = new();
    private readonly ConcurrentDictionary<Eui64, TrustAnchor> supplierAnchors = new();
    private TrustAnchor? fleetSupplierAnchor;

    /// <param name="acbPublic">The ACB's public key-agreement key, which devices hold; the WAN owns it from here.</param>
    /// <param name="formatOfSite">Which wire format a fleet site's meters speak; GBCS when not given.</param>
    public SimulatedWan(SimulatedFleet fleet, Eui64 acb, ECDiffieHellmanPublicKey acbPublic, IClock clock, SimulatedWanOptions options, Func<SimulatedSite, WireFormat>? formatOfSite = null)
    {
        this.formatOfSite = formatOfSite ?? (_ => WireFormat.Gbcs);
        this.fleet = fleet ?? throw new ArgumentNullException(nameof(fleet));
        this.acb = acb;
        this.acbPublic = acbPublic ?? throw new ArgumentNullException(nameof(acbPublic));
        this.clock = clock ?? throw new ArgumentNullException(nameof(clock));
        this.options = options ?? throw new ArgumentNullException(nameof(options));
    }

    public SimulatedFleet Fleet => fleet;

    /// <summary>Puts a simulated meter on the WAN under an ID of its own.</summary>
    public void Install(Eui64 id, ISimulatedDevice device, WireFormat format = WireFormat.Gbcs) =>
        installed[id] = (device ?? throw new ArgumentNullException(nameof(device)), format);

    /// <summary>The wire format the device at <paramref name="id"/> speaks; null when there is none.</summary>
    public WireFormat? FormatOf(Eui64 id) =>
        installed.TryGetValue(id, out var entry) ? entry.Format
        : fleet.TryGetSite(id, out var site, out _) ? formatOfSite(site)
        : null;

    /// <summary>
    /// Places the supplier's Digital Signing key on a device as its supplier trust anchor (as the installing supplier
    /// does at commissioning, and a change of supplier replaces), or, with no device, on every device that has none
    /// of its own. Critical commands are executed only when signed by the party of the anchor.
    /// </summary>
    public void PlaceSupplierTrustAnchor(Eui64? device, TrustAnchor anchor)
    {
        ArgumentNullException.ThrowIfNull(anchor);
        if (anchor.Role != Core.Security.RemotePartyRole.Supplier)
        {
            throw new ArgumentException($"a supplier trust anchor must have the Supplier role, not {anchor.Role}", nameof(anchor));
        }
        if (device is { } id)
        {
            supplierAnchors[id] = anchor;
        }
        else
        {
            Volatile.Write(ref fleetSupplierAnchor, anchor);
        }
    }

    /// <summary>The supplier trust anchor the device at <paramref name="id"/> holds; null when none.</summary>
    public TrustAnchor? SupplierTrustAnchorOf(Eui64 id) => supplierAnchors.TryGetValue(id, out var anchor) ? anchor : Volatile.Read(ref fleetSupplierAnchor);

    /// <summary>Takes a device off the WAN (its comms hub lost power or signal) or brings it back.</summary>
    public void SetOffline(Eui64 id, bool isOffline) => offline[id] = isOffline;

    public ECDiffieHellmanPublicKey? FindKeyAgreementKey(Eui64 device) =>
        DeviceAt(device) is null || FormatOf(device) != WireFormat.Gbcs ? null : EndpointOf(device).Key!.PublicKey;

    public void Attach(IDeviceAlertSink sink) => alertSink = sink ?? throw new ArgumentNullException(nameof(sink));

    /// <summary>
    /// A power outage at the site of the meter at <paramref name="meterId"/> from <paramref name="from"/> to
    /// <paramref name="to"/>: consumption stops, and the device reports the outage and the restoration as alerts,
    /// in its own wire format, to the attached sink.
    /// </summary>
    public async Task PowerOutageAsync(Eui64 meterId, Instant from, Instant to, CancellationToken cancellationToken = default)
    {
        if (DeviceAt(meterId) is not SimulatedMeter meter)
        {
            throw new ArgumentException($"no simulated meter {meterId} on the WAN", nameof(meterId));
        }
        meter.Site.PowerOutage(from, to);
        var endpoint = EndpointOf(meterId);
        foreach (var alert in meter.Site.AlertsBetween(from, to + Duration.FromTicks(1)))
        {
            if (alertSink is { } sink)
            {
                await sink.ReceiveAsync(meterId, endpoint.Report(alert), cancellationToken);
            }
        }
    }

    public async Task<byte[]> ExchangeAsync(Eui64 device, byte[] command, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(command);
        var meter = DeviceAt(device) ?? throw new DeviceUnreachableException(device, "no such device on the simulated WAN");
        if (offline.TryGetValue(device, out var isOffline) && isOffline)
        {
            throw new DeviceUnreachableException(device, "its comms hub is offline");
        }
        if (options.Latency > Duration.Zero)
        {
            await Task.Delay(options.Latency.ToTimeSpan(), cancellationToken);
        }
        var endpoint = EndpointOf(device);
        if (options.LossPerMille > 0 && SeedMix.Below(SeedMix.Mix(fleet.Seed, device.Value, command.Length >= 8 ? BitConverter.ToUInt64(command, command.Length - 8) : 0), 1000) < options.LossPerMille)
        {
            // Lost on the way: the caller's timeout ends the wait.
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
        return endpoint.Handle(command, meter, SupplierTrustAnchorOf(device), clock.GetCurrentInstant());
    }

    public void Dispose()
    {
        foreach (var endpoint in endpoints.Values)
        {
            endpoint.Dispose();
        }
        acbPublic.Dispose();
    }

    private ISimulatedDevice? DeviceAt(Eui64 id) =>
        installed.TryGetValue(id, out var entry) ? entry.Device : fleet.TryGetDevice(id, out var meter) ? meter : null;

    private Endpoint EndpointOf(Eui64 id) => endpoints.GetOrAdd(id, static (device, self) => new Endpoint(device, self.acb, self.acbPublic, self.FormatOf(device) ?? WireFormat.Gbcs), this);

    /// <summary>The device's end of the WAN: its format, its key (GBCS), the command counters it has seen and its own counter.</summary>
    private sealed class Endpoint : IDisposable
    {
        private readonly Eui64 id;
        private readonly Eui64 acb;
        private readonly WireFormat format;
        private readonly GbcsMacKey? macKey;
        private readonly GbcsCounterGuard seenFrames = new();
        private readonly EarlySmartSequenceGuard seenLines = new();
        private readonly Lock gate = new();
        private ulong counter;

        public Endpoint(Eui64 id, Eui64 acb, ECDiffieHellmanPublicKey acbPublic, WireFormat format)
        {
            this.id = id;
            this.acb = acb;
            this.format = format;
            if (format == WireFormat.Gbcs)
            {
                Key = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
                macKey = GbcsMacKey.Derive(Key, acbPublic, acb, id);
            }
        }

        /// <summary>The device's key-agreement key (GBCS devices only).</summary>
        public ECDiffieHellman? Key { get; }

        /// <summary>
        /// Checks and runs one command; a command whose MAC, address or counter is wrong gets no answer, as a real
        /// device drops it; a critical command not signed by the supplier the device trusts is answered with a refusal.
        /// </summary>
        public byte[] Handle(byte[] command, ISimulatedDevice meter, TrustAnchor? supplier, Instant now)
        {
            lock (gate)
            {
                return format != WireFormat.Gbcs ? HandleLine(command, meter, now)
                    : GbcsCodec.DirectionOf(command) == GbcsDirection.CriticalCommand ? HandleCriticalFrame(command, meter, supplier, now)
                    : HandleFrame(command, meter, now);
            }
        }

        /// <summary>An alert the device sends unasked, in its format, with its own counter.</summary>
        public byte[] Report(DeviceAlert alert)
        {
            lock (gate)
            {
                return format == WireFormat.Gbcs
                    ? GbcsCodec.EncodeAlert(new GbcsHeader(++counter, id, acb), alert, macKey!)
                    : System.Text.Encoding.UTF8.GetBytes(EarlySmartCodec.EncodeAlert(new EarlySmartHeader(++counter, id), alert));
            }
        }

        public void Dispose()
        {
            macKey?.Dispose();
            Key?.Dispose();
        }

        private byte[] HandleFrame(byte[] command, ISimulatedDevice meter, Instant now)
        {
            var decoded = GbcsCodec.DecodeCommand(command, macKey!);
            if (!decoded.Succeeded || decoded.Header.Originator != acb || decoded.Header.Recipient != id || !seenFrames.TryAccept(decoded.Header))
            {
                throw new DeviceUnreachableException(id, $"the device dropped the command ({(decoded.Succeeded ? "replayed or misaddressed" : decoded.Reason)})");
            }
            return GbcsCodec.EncodeResponse(new GbcsHeader(++counter, id, acb), meter.Execute(decoded.Value!, now), macKey!);
        }

        /// <summary>
        /// GBCS common stages at the device (duis-and-dcc.md §1.7): the ACB's MAC, the recipient, then the remote
        /// party's signature against the trust anchor, and only then the counter, so a forged command cannot raise it.
        /// </summary>
        private byte[] HandleCriticalFrame(byte[] command, ISimulatedDevice meter, TrustAnchor? supplier, Instant now)
        {
            var decoded = GbcsCodec.DecodeCriticalCommand(command, macKey!);
            if (!decoded.Succeeded || decoded.Header.Recipient != id)
            {
                throw new DeviceUnreachableException(id, $"the device dropped the critical command ({(decoded.Succeeded ? "misaddressed" : decoded.Reason)})");
            }
            var signer = decoded.Header.Originator;
            DeviceOutcome outcome;
            if (supplier is null || supplier.Party != signer)
            {
                outcome = new DeviceOutcome.Refused(RefusalReason.Unauthorised, supplier is null ? "the device holds no supplier trust anchor" : $"{signer} is not the supplier this device trusts ({supplier.Party})");
            }
            else if (!supplier.Verifies(decoded.Value.SignedContent.Span, decoded.Value.Signature.Span))
            {
                outcome = new DeviceOutcome.Refused(RefusalReason.Unauthorised, $"the signature does not verify with the key of {signer}");
            }
            else if (!seenFrames.TryAccept(decoded.Header))
            {
                throw new DeviceUnreachableException(id, $"the device dropped the critical command (counter {decoded.Header.Counter} from {signer} replayed)");
            }
            else
            {
                outcome = meter.Execute(decoded.Value.Operation, now);
            }
            return GbcsCodec.EncodeResponse(new GbcsHeader(++counter, id, acb), outcome, macKey!);
        }

        private byte[] HandleLine(byte[] command, ISimulatedDevice meter, Instant now)
        {
            var decoded = EarlySmartCodec.DecodeCommand(System.Text.Encoding.UTF8.GetString(command));
            if (!decoded.Succeeded || decoded.Header.Device != id || !seenLines.TryAccept(decoded.Header))
            {
                throw new DeviceUnreachableException(id, $"the device dropped the command ({(decoded.Succeeded ? "replayed or misaddressed" : decoded.Reason)})");
            }
            return System.Text.Encoding.UTF8.GetBytes(EarlySmartCodec.EncodeResponse(new EarlySmartHeader(++counter, id), meter.Execute(decoded.Value!, now)));
        }
    }
}
