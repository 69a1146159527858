using System.Collections.Concurrent;
using System.Security.Cryptography;
using NodaTime;
using OpenDcc.Core.Alerts;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Inventory;
using OpenDcc.Core.Parties;
using OpenDcc.Core.Security;
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
/// The simulated SM WAN and the devices at its far end: a command frame reaches the device addressed, which checks
/// it as a GBCS device does (the ACB's MAC under the key it shares with the ACB, a counter that must rise; for
/// critical commands also the supplier's signature against the supplier trust anchor it holds), executes it on its
/// simulated meter and answers with its own MACed frame. Each GBCS device has its own ECDH P-256
/// key-agreement key, derived from the fleet seed and its ID (the same seed gives the same keys, as a real device
/// keeps its key across restarts); the hub's adapter finds its public half here in-process, or in the fleet listing
/// over loopback, as it would in the SMKI repository. The devices learn the ACB's public key when the WAN is given
/// one (<see cref="UseAcb"/>); until then they can check nothing and are unreachable. Devices can be installed under
/// an ID of their own (for example the RTDS test devices) and taken offline; a site's devices are unreachable, too,
/// while its power is off (<see cref="CutPowerAsync"/>), their comms hub having none.
/// </summary>
public sealed class SimulatedWan : IWanTransport, IDeviceKeyDirectory, IDisposable
{
    private readonly SimulatedFleet fleet;
    private readonly IClock clock;
    private readonly SimulatedWanOptions options;
    private readonly ConcurrentDictionary<Eui64, ECDiffieHellman> deviceKeys = new();
    private readonly ConcurrentDictionary<Eui64, (ISimulatedDevice Device, WireFormat Format)> installed = new();
    private readonly Func<SimulatedSite, WireFormat> formatOfSite;
    private readonly ConcurrentDictionary<Eui64, bool> offline = new();
    private readonly ConcurrentDictionary<Eui64, TrustAnchor> supplierAnchors = new();
    private TrustAnchor? fleetSupplierAnchor;
    // Links replaced while commands were in flight on them, kept for those commands; each leaves as its last command ends.
    private readonly ConcurrentDictionary<AcbLink, byte> retired = new();
    private readonly Lock cutting = new();
    private IDeviceAlertSink? alertSink;
    private AcbLink? link;

    /// <param name="acb">The Access Control Broker's EUI-64; with <paramref name="acbPublic"/>, as <see cref="UseAcb"/>.</param>
    /// <param name="acbPublic">The ACB's public key-agreement key, which devices hold; the WAN owns it from here.</param>
    /// <param name="formatOfSite">Which wire format a fleet site's meters speak; GBCS when not given.</param>
    public SimulatedWan(SimulatedFleet fleet, Eui64 acb, ECDiffieHellmanPublicKey acbPublic, IClock clock, SimulatedWanOptions options, Func<SimulatedSite, WireFormat>? formatOfSite = null)
        : this(fleet, clock, options, formatOfSite) => UseAcb(acb, acbPublic ?? throw new ArgumentNullException(nameof(acbPublic)));

    /// <summary>A WAN whose devices do not know the ACB yet (a simulator waiting for its hub): every device is unreachable until <see cref="UseAcb"/>.</summary>
    public SimulatedWan(SimulatedFleet fleet, IClock clock, SimulatedWanOptions options, Func<SimulatedSite, WireFormat>? formatOfSite = null)
    {
        this.formatOfSite = formatOfSite ?? (_ => WireFormat.Gbcs);
        this.fleet = fleet ?? throw new ArgumentNullException(nameof(fleet));
        this.clock = clock ?? throw new ArgumentNullException(nameof(clock));
        this.options = options ?? throw new ArgumentNullException(nameof(options));
    }

    public SimulatedFleet Fleet => fleet;

    /// <summary>The ACB the devices hold the key of; null before <see cref="UseAcb"/>.</summary>
    public Eui64? Acb => Volatile.Read(ref link)?.Acb;

    /// <summary>Whether the devices hold this ACB's identity and key already (false before <see cref="UseAcb"/>).</summary>
    public bool HoldsAcb(Eui64 acb, ReadOnlySpan<byte> subjectPublicKeyInfo) =>
        Volatile.Read(ref link) is { } current && current.Acb == acb && current.PublicKey.AsSpan().SequenceEqual(subjectPublicKeyInfo);

    /// <summary>
    /// Gives every device the ACB's identity and public key-agreement key (the WAN owns the key from here). A new
    /// ACB key replaces the old one: the devices derive their MAC keys afresh and forget the counters they have seen.
    /// The same key again changes nothing.
    /// </summary>
    /// <returns>True when the devices took a new key.</returns>
    public bool UseAcb(Eui64 acb, ECDiffieHellmanPublicKey acbPublic)
    {
        ArgumentNullException.ThrowIfNull(acbPublic);
        var current = Volatile.Read(ref link);
        if (current is not null && current.Acb == acb && current.PublicKey.AsSpan().SequenceEqual(acbPublic.ExportSubjectPublicKeyInfo()))
        {
            acbPublic.Dispose();
            return false;
        }
        if (Interlocked.Exchange(ref link, new AcbLink(acb, acbPublic)) is { } previous)
        {
            // Commands in flight on the old link finish with the keys they started with; its keys go when the last of
            // them ends (or the WAN does), not kept for every key a long-running simulator was ever given.
            retired[previous] = 0;
            Release(previous);
        }
        return true;
    }

    /// <summary>Puts a simulated meter on the WAN under an ID of its own.</summary>
    public void Install(Eui64 id, ISimulatedDevice device, WireFormat format = WireFormat.Gbcs) =>
        installed[id] = (device ?? throw new ArgumentNullException(nameof(device)), format);

    /// <summary>
    /// Puts site <paramref name="site"/>'s electricity meter, gas meter, comms hub or gas proxy function on the WAN under
    /// <paramref name="id"/> as well, speaking the site's wire format: devices known elsewhere by their own IDs (the
    /// DCC Boxed reference test devices, which the RTDS request templates address) answer as that site's.
    /// </summary>
    /// <exception cref="ArgumentException">no such site, a type other than ESME, GSME, CHF or GPF, or an ID already on the WAN.</exception>
    public void InstallSiteDevice(Eui64 id, DeviceType type, int site = 0)
    {
        if (site < 0 || site >= fleet.Count)
        {
            throw new ArgumentException($"the fleet has no site {site} (it has {fleet.Count})", nameof(site));
        }
        var at = fleet[site];
        ISimulatedDevice device = type switch
        {
            DeviceType.ESME => at.ElectricityMeter,
            DeviceType.GSME => at.GasMeter,
            DeviceType.CHF => at.CommsHub,
            DeviceType.GPF => at.GasProxy,
            _ => throw new ArgumentException($"a site's ESME, GSME, CHF or GPF can answer under another ID, not its {type}", nameof(type)),
        };
        if (DeviceAt(id) is not null)
        {
            throw new ArgumentException($"{id} is already a device on the simulated WAN", nameof(id));
        }
        Install(id, device, formatOfSite(at));
    }

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

    /// <summary>
    /// Gives the devices their registered supplier's Digital Signing key as their supplier trust anchor
    /// (<see cref="SimulatedRegistrationData.SupplierTrustAnchorsAsync"/>).
    /// </summary>
    /// <returns>How many anchors were placed.</returns>
    public async Task<int> PlaceSupplierTrustAnchorsAsync(SimulatedRegistrationData registrations, IPartyStore parties, Instant now, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(registrations);
        var anchors = await registrations.SupplierTrustAnchorsAsync(parties, now, cancellationToken);
        foreach (var (device, anchor) in anchors)
        {
            PlaceSupplierTrustAnchor(device, anchor);
        }
        return anchors.Count;
    }

    /// <summary>The supplier trust anchor the device at <paramref name="id"/> holds; null when none.</summary>
    public TrustAnchor? SupplierTrustAnchorOf(Eui64 id) => supplierAnchors.TryGetValue(id, out var anchor) ? anchor : Volatile.Read(ref fleetSupplierAnchor);

    /// <summary>Takes a device off the WAN (its comms hub lost power or signal) or brings it back.</summary>
    public void SetOffline(Eui64 id, bool isOffline) => offline[id] = isOffline;

    /// <summary>Takes every device of a fleet site off the WAN or brings them back.</summary>
    public void SetOffline(SimulatedSite site, bool isOffline)
    {
        ArgumentNullException.ThrowIfNull(site);
        foreach (var (id, _) in site.Devices)
        {
            SetOffline(id, isOffline);
        }
    }

    /// <summary>The fleet's devices (ESME, GSME, CHF, GPF, PPMID of every site) as inventory rows: commissioned, with their model, comms hub, region (and the hub's radio cell) and metering point.</summary>
    public IEnumerable<Device> InventoryDevices() => InventoryDevices(0, fleet.Count);

    /// <summary>The devices of sites <paramref name="from"/> … <paramref name="from"/> + <paramref name="count"/> − 1 as inventory rows.</summary>
    public IEnumerable<Device> InventoryDevices(int from, int count) =>
        fleet.Sites.Skip(from).Take(count).SelectMany(site => site.Devices.Select(d => new Device(d.Id, d.Type, SmiStatus.Commissioned)
        {
            Model = ModelOf(d.Type, formatOfSite(site)),
            CommsHub = site.CommsHubId,
            Region = SimulatedWorld.RegionOf(site),
            RadioCell = d.Type == DeviceType.CHF ? SimulatedWorld.RadioCellOf(site) : null,
            Mpan = d.Type == DeviceType.ESME ? site.Mpan : null,
            Mprn = d.Type == DeviceType.GSME ? site.Mprn : null,
        }));

    /// <summary>
    /// The devices installed under IDs of their own, as inventory rows. One of a site is on the site's comms hub, under
    /// the ID the hub is on the WAN by (<see cref="CommsHubIdOf"/>: so an installed meter is found on the hub that reports
    /// the site's power outages), in the site's region; no MPAN or MPRN (the site's own meter row has it).
    /// </summary>
    public IEnumerable<Device> InstalledDevices() =>
        installed.Select(entry =>
        {
            var (device, format) = entry.Value;
            var row = new Device(entry.Key, device.Type, SmiStatus.Commissioned) { Model = ModelOf(device.Type, format) };
            return fleet.TryGetSite(device.Id, out var site, out _)
                ? row with
                {
                    CommsHub = device.Type == DeviceType.CHF ? entry.Key : CommsHubIdOf(site),
                    Region = SimulatedWorld.RegionOf(site),
                    RadioCell = device.Type == DeviceType.CHF ? SimulatedWorld.RadioCellOf(site) : null,
                }
                : row;
        });

    /// <summary>The ID a site's comms hub is on the WAN by: the lowest it is installed under, else its fleet ID.</summary>
    private Eui64 CommsHubIdOf(SimulatedSite site) =>
        installed.Where(e => e.Value.Device.Type == DeviceType.CHF && e.Value.Device.Id == site.CommsHubId).Select(e => e.Key).DefaultIfEmpty(site.CommsHubId).MinBy(id => id.Value);

    public ECDiffieHellmanPublicKey? FindKeyAgreementKey(Eui64 device) =>
        DeviceAt(device) is null || FormatOf(device) != WireFormat.Gbcs ? null : KeyOf(device).PublicKey;

    public void Attach(IDeviceAlertSink sink) => alertSink = sink ?? throw new ArgumentNullException(nameof(sink));

    /// <summary>
    /// A power outage at the site of the meter at <paramref name="meterId"/> from <paramref name="from"/> to
    /// <paramref name="to"/>: consumption stops, the site's comms hub reports the loss of power (to the WAN provider,
    /// which tells the attached sink: <see cref="IDeviceAlertSink.PowerLostAsync"/>) and the meter the restoration, as an
    /// alert in its own wire format.
    /// </summary>
    /// <exception cref="InvalidOperationException">the devices have no ACB key yet, so cannot MAC an alert.</exception>
    public async Task PowerOutageAsync(Eui64 meterId, Instant from, Instant to, CancellationToken cancellationToken = default)
    {
        if (DeviceAt(meterId) is not SimulatedMeter meter)
        {
            throw new ArgumentException($"no simulated meter {meterId} on the WAN", nameof(meterId));
        }
        var held = Hold() ?? throw NoAcbYet();
        try
        {
            meter.Site.PowerOutage(from, to);
            await ReportPowerLossesAsync(meter.Site, meter.Site.PowerLossesBetween(from, from + Duration.FromTicks(1)), cancellationToken);
            await ReportAsync(meterId, EndpointOf(held, meterId), meter.Site.AlertsBetween(to, to + Duration.FromTicks(1)), cancellationToken);
        }
        finally
        {
            Release(held);
        }
    }

    /// <summary>
    /// Cuts the site's power now for <paramref name="length"/>: consumption stops and the site's devices cannot be
    /// reached (their comms hub has no power); the comms hub reports the loss of power at once, and the electricity
    /// meter the restoration, in its own wire format, when the power returns. A cut while the power is already off
    /// only puts off its return to the later of the two ends: no second loss of power is reported, and the
    /// restoration once, when the power is back. Completes when the power is back.
    /// </summary>
    /// <exception cref="InvalidOperationException">the devices have no ACB key yet, so cannot MAC an alert.</exception>
    public async Task CutPowerAsync(SimulatedSite site, Duration length, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(site);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(length, Duration.Zero);
        var meterId = site.ElectricityMeter.Id;
        var held = Hold() ?? throw NoAcbYet();
        try
        {
            var endpoint = EndpointOf(held, meterId);
            Instant from;
            bool begins;
            // One cut at a time reads the clock and records itself, so that of two cuts at once only one begins the outage.
            lock (cutting)
            {
                from = clock.GetCurrentInstant();
                begins = site.PowerReturnsAt(from) is null;
                site.PowerOutage(from, from + length);
            }
            if (begins)
            {
                await ReportPowerLossesAsync(site, [from], cancellationToken);
            }
            // Its own outage covers the instant it began; a later cut may put the power's return off.
            var back = site.PowerReturnsAt(from)!.Value;
            for (var now = clock.GetCurrentInstant(); back > now; now = clock.GetCurrentInstant(), back = site.PowerReturnsAt(from)!.Value)
            {
                await Task.Delay(Duration.Max(back - now, Duration.FromMilliseconds(1)).ToTimeSpan(), cancellationToken);
            }
            if (begins)
            {
                await ReportAsync(meterId, endpoint, site.AlertsBetween(back, back + Duration.FromTicks(1)), cancellationToken);
            }
        }
        finally
        {
            Release(held);
        }
    }

    /// <summary>The comms hub's reports of lost power, under the ID the hub is on the WAN by (the lowest installed for it, else its fleet ID).</summary>
    private async Task ReportPowerLossesAsync(SimulatedSite site, IReadOnlyList<Instant> losses, CancellationToken cancellationToken)
    {
        var commsHub = CommsHubIdOf(site);
        foreach (var since in losses)
        {
            if (alertSink is { } sink)
            {
                await sink.PowerLostAsync(commsHub, since, cancellationToken);
            }
        }
    }

    private async Task ReportAsync(Eui64 meterId, Endpoint endpoint, IReadOnlyList<DeviceAlert> alerts, CancellationToken cancellationToken)
    {
        foreach (var alert in alerts)
        {
            if (alertSink is { } sink)
            {
                await sink.ReceiveAsync(meterId, endpoint.Report(alert, clock.GetCurrentInstant()), cancellationToken);
            }
        }
    }

    private static InvalidOperationException NoAcbYet() => new("the simulated devices have no ACB key yet: a hub must connect first");

    public async Task<byte[]> ExchangeAsync(Eui64 device, byte[] command, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(command);
        var meter = DeviceAt(device) ?? throw new DeviceUnreachableException(device, "no such device on the simulated WAN");
        if (offline.TryGetValue(device, out var isOffline) && isOffline)
        {
            throw new DeviceUnreachableException(device, "its comms hub is offline");
        }
        if (SiteOf(meter) is { } site && site.PowerReturnsAt(clock.GetCurrentInstant()) is { } back)
        {
            throw new DeviceUnreachableException(device, $"its comms hub has no power (site {site.Number}'s power is off until {back})");
        }
        var held = Hold() ?? throw new DeviceUnreachableException(device, "the simulated devices have no ACB key yet");
        try
        {
            var endpoint = EndpointOf(held, device);
            if (options.Latency > Duration.Zero)
            {
                await Task.Delay(options.Latency.ToTimeSpan(), cancellationToken);
            }
            if (options.LossPerMille > 0 && SeedMix.Below(SeedMix.Mix(fleet.Seed, device.Value, command.Length >= 8 ? BitConverter.ToUInt64(command, command.Length - 8) : 0), 1000) < options.LossPerMille)
            {
                // Lost on the way: the caller's timeout ends the wait.
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }
            return endpoint.Handle(command, meter, SupplierTrustAnchorOf(device), clock.GetCurrentInstant());
        }
        finally
        {
            Release(held);
        }
    }

    public void Dispose()
    {
        Interlocked.Exchange(ref link, null)?.Retire();
        foreach (var old in retired.Keys)
        {
            old.Retire();
        }
        foreach (var key in deviceKeys.Values)
        {
            key.Dispose();
        }
    }

    private static string? ModelOf(DeviceType type, WireFormat format) =>
        type is not (DeviceType.ESME or DeviceType.GSME or DeviceType.GPF) ? null : format == WireFormat.EarlySmart ? SimulatedWorld.EarlySmartModel : SimulatedWorld.GbcsModel;

    /// <summary>The premises a meter or comms hub function is at, whose power it needs to be reached.</summary>
    private static SimulatedSite? SiteOf(ISimulatedDevice device) => device switch
    {
        SimulatedMeter meter => meter.Site,
        SimulatedCommsHub commsHub => commsHub.Site,
        SimulatedGasProxy gasProxy => gasProxy.Site,
        _ => null,
    };

    private ISimulatedDevice? DeviceAt(Eui64 id) =>
        installed.TryGetValue(id, out var entry) ? entry.Device : fleet.TryGetDevice(id, out var meter) ? meter : null;

    /// <summary>The current link, held until <see cref="Release"/> so that it keeps its keys; null before <see cref="UseAcb"/>.</summary>
    private AcbLink? Hold()
    {
        while (Volatile.Read(ref link) is { } current)
        {
            if (current.TryHold())
            {
                return current;
            }
            // Replaced and let go by its last holder since read: the link that replaced it is current.
        }
        return null;
    }

    private void Release(AcbLink held)
    {
        if (held.ReleaseAsLast())
        {
            retired.TryRemove(held, out _);
            held.Retire();
        }
    }

    private Endpoint EndpointOf(AcbLink held, Eui64 id)
    {
        if (held.Endpoints.TryGetValue(id, out var found))
        {
            return found;
        }
        // Two first uses at once each make one; the one not kept is disposed (its MAC key), not left to the collector.
        var made = new Endpoint(id, held, FormatOf(id) ?? WireFormat.Gbcs, this);
        var kept = held.Endpoints.GetOrAdd(id, made);
        if (!ReferenceEquals(kept, made))
        {
            made.Dispose();
        }
        return kept;
    }

    /// <summary>The device's key-agreement key: the same for the same fleet seed and ID.</summary>
    private ECDiffieHellman KeyOf(Eui64 id) => deviceKeys.GetOrAdd(id, static (device, seed) => DeviceKeys.Derive(seed, device), fleet.Seed);

    /// <summary>
    /// The ACB the devices hold the key of, and each device's end of the WAN under it; held by the WAN while current
    /// and by each command or alert in flight on it, and retired when the last lets go.
    /// </summary>
    private sealed class AcbLink(Eui64 acb, ECDiffieHellmanPublicKey publicKey)
    {
        private int holders = 1;
        private int retired;

        public Eui64 Acb { get; } = acb;

        public ECDiffieHellmanPublicKey Key { get; } = publicKey;

        public byte[] PublicKey { get; } = publicKey.ExportSubjectPublicKeyInfo();

        public ConcurrentDictionary<Eui64, Endpoint> Endpoints { get; } = new();

        /// <summary>False once its last holder let go: no one can hold it after.</summary>
        public bool TryHold()
        {
            int seen;
            do
            {
                seen = Volatile.Read(ref holders);
                if (seen <= 0)
                {
                    return false;
                }
            }
            while (Interlocked.CompareExchange(ref holders, seen + 1, seen) != seen);
            return true;
        }

        /// <summary>Whether this was its last holder, who retires it.</summary>
        public bool ReleaseAsLast() => Interlocked.Decrement(ref holders) == 0;

        /// <summary>Disposes its keys, once: the WAN disposed retires the links still held, whose holders let go later.</summary>
        public void Retire()
        {
            if (Interlocked.Exchange(ref retired, 1) != 0)
            {
                return;
            }
            foreach (var endpoint in Endpoints.Values)
            {
                endpoint.Dispose();
            }
            Key.Dispose();
        }
    }

    /// <summary>The device's end of the WAN: its format, its MAC key with the ACB (GBCS), the command counters it has seen and its own counter.</summary>
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

        public Endpoint(Eui64 id, AcbLink link, WireFormat format, SimulatedWan wan)
        {
            this.id = id;
            acb = link.Acb;
            this.format = format;
            if (format == WireFormat.Gbcs)
            {
                macKey = GbcsMacKey.Derive(wan.KeyOf(id), link.Key, acb, id);
            }
        }

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
        public byte[] Report(DeviceAlert alert, Instant now)
        {
            lock (gate)
            {
                return format == WireFormat.Gbcs
                    ? GbcsCodec.EncodeAlert(new GbcsHeader(NextCounter(now), id, acb), alert, macKey!)
                    : System.Text.Encoding.UTF8.GetBytes(EarlySmartCodec.EncodeAlert(new EarlySmartHeader(NextCounter(now), id), alert));
            }
        }

        public void Dispose() => macKey?.Dispose();

        /// <summary>
        /// Above the last one and above the clock in microseconds: a real device keeps its counter in non-volatile
        /// memory, and a simulator started again must not go back below what the hub has seen.
        /// </summary>
        private ulong NextCounter(Instant now) => counter = Math.Max(counter + 1, (ulong)(now.ToUnixTimeTicks() / 10));

        private byte[] HandleFrame(byte[] command, ISimulatedDevice meter, Instant now)
        {
            var decoded = GbcsCodec.DecodeCommand(command, macKey!);
            if (!decoded.Succeeded || decoded.Header.Originator != acb || decoded.Header.Recipient != id || !seenFrames.TryAccept(decoded.Header))
            {
                throw new DeviceSilentException(id, $"the device dropped the command ({(decoded.Succeeded ? "replayed or misaddressed" : decoded.Reason)})");
            }
            // The answer carries its command's counter, as a GBCS response carries its command's transaction counter.
            return GbcsCodec.EncodeResponse(new GbcsHeader(decoded.Header.Counter, id, acb), meter.Execute(decoded.Value!, now), macKey!);
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
                throw new DeviceSilentException(id, $"the device dropped the critical command ({(decoded.Succeeded ? "misaddressed" : decoded.Reason)})");
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
                throw new DeviceSilentException(id, $"the device dropped the critical command (counter {decoded.Header.Counter} from {signer} replayed)");
            }
            else
            {
                outcome = meter.Execute(decoded.Value.Operation, now);
            }
            // The answer goes to the remote party that sent the command, under its counter (GBCS: a response to a
            // critical command is the remote party's), so it cannot pass for the answer to an ACB command of that counter.
            return GbcsCodec.EncodeResponse(new GbcsHeader(decoded.Header.Counter, id, signer), outcome, macKey!);
        }

        private byte[] HandleLine(byte[] command, ISimulatedDevice meter, Instant now)
        {
            var decoded = EarlySmartCodec.DecodeCommand(System.Text.Encoding.UTF8.GetString(command));
            if (!decoded.Succeeded || decoded.Header.Device != id || !seenLines.TryAccept(decoded.Header))
            {
                throw new DeviceSilentException(id, $"the device dropped the command ({(decoded.Succeeded ? "replayed or misaddressed" : decoded.Reason)})");
            }
            return System.Text.Encoding.UTF8.GetBytes(EarlySmartCodec.EncodeResponse(new EarlySmartHeader(decoded.Header.Sequence, id), meter.Execute(decoded.Value!, now)));
        }
    }
}
