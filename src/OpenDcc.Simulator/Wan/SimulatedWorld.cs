using NodaTime;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Inventory;
using OpenDcc.Core.Parties;
using OpenDcc.Core.Security;
using OpenDcc.Core.Translation;
using OpenDcc.Core.Translation.Gbcs;
using OpenDcc.Core.Wan;
using OpenDcc.Simulator.Devices;

namespace OpenDcc.Simulator.Wan;

/// <summary>
/// A simulated fleet on the simulated WAN in the hub's process, with the reference adapters a hub uses to reach it:
/// what <c>opendcc serve</c>, <c>opendcc demo</c> and the tests run against when there are no real head-ends.
/// (<see cref="SimulatorConnection"/> reaches the same fleet in a process of its own.)
/// </summary>
public sealed class SimulatedWorld : IDisposable
{
    /// <summary>The model the inventory records for the fleet's GBCS-like meters.</summary>
    public const string GbcsModel = "OPENDCC-SIM-GBCS";

    /// <summary>The model the inventory records for the fleet's early-smart meters.</summary>
    public const string EarlySmartModel = "OPENDCC-SIM-ES1";

    private readonly SimulatorAdapters adapters;

    private SimulatedWorld(SimulatedWan wan, SimulatorAdapters adapters, WanOptions options)
    {
        this.adapters = adapters;
        Wan = wan;
        Devices = new DeviceSide(adapters.Adapters, wan, Registrations) { Options = options };
    }

    /// <summary>Which fleet sites have early-smart meters: one in ten (site numbers ending in 9).</summary>
    public static WireFormat FormatOf(SimulatedSite site)
    {
        ArgumentNullException.ThrowIfNull(site);
        return site.Number % 10 == 9 ? WireFormat.EarlySmart : WireFormat.Gbcs;
    }

    public SimulatedWan Wan { get; }

    /// <summary>The simulated registration systems: whose devices these are.</summary>
    public SimulatedRegistrationData Registrations { get; } = new();

    /// <summary>What the hub is given to reach the simulated devices.</summary>
    public DeviceSide Devices { get; }

    /// <param name="keys">The hub's key store: the ACB key-agreement key is taken from it (made on first use).</param>
    /// <param name="acb">The Access Control Broker's EUI-64 (DCC Boxed uses the DSP's).</param>
    /// <param name="adapterAssemblies">Manufacturers' adapter assemblies to load (<see cref="AdapterLoader"/>) beside the reference adapters.</param>
    /// <param name="adapterModels">Device model → adapter name, for the loaded adapters.</param>
    public static SimulatedWorld Create(
        FileKeyStore keys,
        Eui64 acb,
        SimulatedFleet fleet,
        IClock clock,
        SimulatedWanOptions? wan = null,
        WanOptions? options = null,
        IReadOnlyList<string>? adapterAssemblies = null,
        IReadOnlyDictionary<string, string>? adapterModels = null)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var acbKey = keys.LoadOrCreateAcbKeyAgreementKey();
        var simulatedWan = new SimulatedWan(fleet, acb, acbKey.PublicKey, clock, wan ?? SimulatedWanOptions.Instant, FormatOf);
        try
        {
            return new SimulatedWorld(simulatedWan, SimulatorAdapters.Create(keys, acb, acbKey, simulatedWan, adapterAssemblies, adapterModels), options ?? WanOptions.Default);
        }
        catch
        {
            simulatedWan.Dispose();
            throw;
        }
    }

    /// <summary>The SM WAN region of a fleet site: North, Central and South in turn.</summary>
    public static WanRegion RegionOf(SimulatedSite site)
    {
        ArgumentNullException.ThrowIfNull(site);
        return (WanRegion)(site.Number % 3);
    }

    /// <summary>The SM WAN radio cell of a fleet site's comms hub: a thousand sites of its region in turn share one (<c>North-0</c>, <c>Central-0</c>, … <c>North-1</c>).</summary>
    public static string RadioCellOf(SimulatedSite site) =>
        $"{RegionOf(site)}-{(site ?? throw new ArgumentNullException(nameof(site))).Number / (SitesPerCell * 3)}";

    /// <summary>Sites of one region per radio cell.</summary>
    public const int SitesPerCell = 1_000;

    /// <summary>
    /// Reads a device's GBCS frame (a DUIS GBCSPayload) as its supplier would with the key the frame was MACed
    /// under, without touching the hub adapter's counters; for the demo and the tests.
    /// </summary>
    public GbcsDecodeResult<DeviceOutcome> ReadAnswer(ReadOnlySpan<byte> frame, Eui64 device, Eui64 acb)
    {
        if (Wan.FormatOf(device) == WireFormat.EarlySmart)
        {
            return adapters.ReadAnswer(frame, device, acb, null);
        }
        using var devicePublic = Wan.FindKeyAgreementKey(device) ?? throw new ArgumentException($"no device {device} on the simulated WAN", nameof(device));
        return adapters.ReadAnswer(frame, device, acb, devicePublic);
    }

    /// <summary>The devices take their registered supplier's Digital Signing key as their trust anchor (<see cref="SimulatedWan.PlaceSupplierTrustAnchorsAsync"/>).</summary>
    /// <returns>How many anchors were placed.</returns>
    public Task<int> PlaceSupplierTrustAnchorsAsync(IPartyStore parties, Instant now, CancellationToken cancellationToken = default) =>
        Wan.PlaceSupplierTrustAnchorsAsync(Registrations, parties, now, cancellationToken);

    /// <summary>
    /// Adds the fleet's devices, and those installed under IDs of their own (<see cref="SimulatedWan.InstalledDevices"/>),
    /// that the inventory does not hold yet, all at once: as a hub finds them over loopback (<see cref="SimulatorHost"/>).
    /// </summary>
    /// <returns>How many were added, and the MPANs left off them (served by meters in service already).</returns>
    public Task<MissingDevicesAdded> AddToInventoryAsync(IInventoryStore inventory, CancellationToken cancellationToken = default) =>
        inventory.AddMissingDevicesAsync([.. Wan.InventoryDevices(), .. Wan.InstalledDevices()], cancellationToken);

    public void Dispose()
    {
        adapters.Dispose();
        Wan.Dispose();
    }
}
