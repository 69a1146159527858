using System.Security.Cryptography;
using NodaTime;
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

/// <summary>
/// A simulated fleet on the simulated WAN, with the reference adapters a hub uses to reach it: what
/// <c>opendcc serve</c>, <c>opendcc demo</c> and the tests run against when there are no real head-ends.
/// </summary>
public sealed class SimulatedWorld : IDisposable
{
    /// <summary>The model the inventory records for the fleet's GBCS-like meters.</summary>
    public const string GbcsModel = "OPENDCC-SIM-GBCS";

    /// <summary>The model the inventory records for the fleet's early-smart meters.</summary>
    public const string EarlySmartModel = "OPENDCC-SIM-ES1";

    private readonly ECDiffieHellman acbKey;
    private readonly GbcsReferenceAdapter gbcs;
    private readonly EarlySmartReferenceAdapter earlySmart;

    private SimulatedWorld(ECDiffieHellman acbKey, SimulatedWan wan, GbcsReferenceAdapter gbcs, EarlySmartReferenceAdapter earlySmart, WanOptions options, IReadOnlyList<ITranslationAdapter> loaded, IReadOnlyDictionary<string, string> loadedModels)
    {
        this.acbKey = acbKey;
        this.gbcs = gbcs;
        this.earlySmart = earlySmart;
        Wan = wan;
        var models = new Dictionary<string, string>(loadedModels, StringComparer.OrdinalIgnoreCase) { [GbcsModel] = gbcs.Name, [EarlySmartModel] = earlySmart.Name };
        Devices = new DeviceSide(new TranslationAdapters([gbcs, earlySmart, .. loaded], models, gbcs.Name), wan, Registrations) { Options = options };
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
        var gbcs = new GbcsReferenceAdapter(acb, acbKey, simulatedWan);
        var earlySmart = new EarlySmartReferenceAdapter(acb, keys.LoadOrCreateSecret("early-smart-translation"));
        try
        {
            var services = new AdapterServices(acb, acbKey, simulatedWan, keys.LoadOrCreateSecret);
            var loaded = (adapterAssemblies ?? []).SelectMany(path => AdapterLoader.Load(path, services)).ToList();
            return new SimulatedWorld(acbKey, simulatedWan, gbcs, earlySmart, options ?? WanOptions.Default, loaded, adapterModels ?? new Dictionary<string, string>());
        }
        catch
        {
            // An adapter that cannot be loaded or a model naming no adapter: nothing of the world is left open.
            earlySmart.Dispose();
            gbcs.Dispose();
            simulatedWan.Dispose();
            acbKey.Dispose();
            throw;
        }
    }

    /// <summary>The fleet's meters as inventory rows: commissioned, with their model.</summary>
    public IEnumerable<Device> InventoryDevices() =>
        Wan.Fleet.Sites.SelectMany(site => site.Devices.Select(d => new Device(d.Id, d.Type, SmiStatus.Commissioned)
        {
            Model = d.Type is not (DeviceType.ESME or DeviceType.GSME) ? null : Wan.FormatOf(d.Id) == WireFormat.EarlySmart ? EarlySmartModel : GbcsModel,
            CommsHub = site.CommsHubId,
            Region = RegionOf(site),
            Mpan = d.Type == DeviceType.ESME ? site.Mpan : null,
            Mprn = d.Type == DeviceType.GSME ? site.Mprn : null,
        }));

    /// <summary>The SM WAN region of a fleet site: North, Central and South in turn.</summary>
    public static WanRegion RegionOf(SimulatedSite site)
    {
        ArgumentNullException.ThrowIfNull(site);
        return (WanRegion)(site.Number % 3);
    }

    /// <summary>
    /// Reads a device's GBCS frame (a DUIS GBCSPayload) as its supplier would with the key the frame was MACed
    /// under, without touching the hub adapter's counters; for the demo and the tests.
    /// </summary>
    public GbcsDecodeResult<DeviceOutcome> ReadAnswer(ReadOnlySpan<byte> frame, Eui64 device, Eui64 acb)
    {
        if (Wan.FormatOf(device) == WireFormat.EarlySmart)
        {
            // Translated by OpenDcc under the device's translation key.
            return GbcsCodec.DecodeResponse(frame, earlySmart.KeyFor(device));
        }
        using var devicePublic = Wan.FindKeyAgreementKey(device) ?? throw new ArgumentException($"no device {device} on the simulated WAN", nameof(device));
        using var key = GbcsMacKey.Derive(acbKey, devicePublic, acb, device);
        return GbcsCodec.DecodeResponse(frame, key);
    }

    /// <summary>
    /// Gives the simulated devices their registered supplier's Digital Signing key as their supplier trust anchor, as
    /// a GBCS device holds its supplier's certificate from installation (duis-and-dcc.md §5.1): for each supplier in
    /// the registration data (fleet-wide and per device), its newest Supplier (OU=02) Digital Signing certificate
    /// valid at <paramref name="now"/> from the party store, standing in for the SMKI repository. A supplier with no
    /// such certificate places nothing, so its devices refuse critical commands.
    /// </summary>
    /// <returns>How many anchors were placed.</returns>
    public async Task<int> PlaceSupplierTrustAnchorsAsync(IPartyStore parties, Instant now, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(parties);
        var placed = 0;
        if (Registrations.FleetRegistration is { } fleet && await SupplierAnchorAsync(fleet.Supplier) is { } fleetAnchor)
        {
            Wan.PlaceSupplierTrustAnchor(null, fleetAnchor);
            placed++;
        }
        foreach (var (device, registration) in Registrations.Registered)
        {
            if (await SupplierAnchorAsync(registration.Supplier) is { } anchor)
            {
                Wan.PlaceSupplierTrustAnchor(device, anchor);
                placed++;
            }
        }
        return placed;

        async Task<TrustAnchor?> SupplierAnchorAsync(Eui64 supplier) =>
            (await parties.ListCertificatesAsync(supplier, cancellationToken))
                .Where(c => c.Role == RemotePartyRole.Supplier && c.IsValidAt(now) && CommandSignature.IsDigitalSigning(c))
                .MaxBy(c => c.NotBefore) is { } certificate ? TrustAnchor.FromCertificate(certificate) : null;
    }

    /// <summary>Adds the fleet's devices the inventory does not hold yet, all at once.</summary>
    /// <returns>How many were added.</returns>
    public async Task<int> AddToInventoryAsync(IInventoryStore inventory, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inventory);
        var devices = InventoryDevices().ToList();
        var known = new HashSet<Eui64>();
        foreach (var chunk in devices.Chunk(10_000))
        {
            known.UnionWith((await inventory.FindDevicesAsync([.. chunk.Select(d => d.Id)], cancellationToken)).Select(d => d.Id));
        }
        var missing = devices.Where(d => !known.Contains(d.Id)).ToList();
        await inventory.AddDevicesAsync(missing, cancellationToken);
        return missing.Count;
    }

    public void Dispose()
    {
        gbcs.Dispose();
        earlySmart.Dispose();
        Wan.Dispose();
        acbKey.Dispose();
    }
}
