using System.Security.Cryptography;
using NodaTime;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Inventory;
using OpenDcc.Core.Security;
using OpenDcc.Core.Translation;
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

    private readonly ECDiffieHellman acbKey;
    private readonly GbcsReferenceAdapter gbcs;

    private SimulatedWorld(ECDiffieHellman acbKey, SimulatedWan wan, GbcsReferenceAdapter gbcs, WanOptions options)
    {
        this.acbKey = acbKey;
        this.gbcs = gbcs;
        Wan = wan;
        Devices = new DeviceSide(new TranslationAdapters([gbcs], new Dictionary<string, string> { [GbcsModel] = gbcs.Name }, gbcs.Name), wan) { Options = options };
    }

    public SimulatedWan Wan { get; }

    /// <summary>What the hub is given to reach the simulated devices.</summary>
    public DeviceSide Devices { get; }

    /// <param name="keys">The hub's key store: the ACB key-agreement key is taken from it (made on first use).</param>
    /// <param name="acb">The Access Control Broker's EUI-64 (DCC Boxed uses the DSP's).</param>
    public static SimulatedWorld Create(FileKeyStore keys, Eui64 acb, SimulatedFleet fleet, IClock clock, SimulatedWanOptions? wan = null, WanOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var acbKey = keys.LoadOrCreateAcbKeyAgreementKey();
        var simulatedWan = new SimulatedWan(fleet, acb, acbKey.PublicKey, clock, wan ?? SimulatedWanOptions.Instant);
        return new SimulatedWorld(acbKey, simulatedWan, new GbcsReferenceAdapter(acb, acbKey, simulatedWan), options ?? WanOptions.Default);
    }

    /// <summary>The fleet's meters as inventory rows: commissioned, with their model.</summary>
    public IEnumerable<Device> InventoryDevices() =>
        Wan.Fleet.Sites.SelectMany(site => site.Devices)
            .Select(d => new Device(d.Id, d.Type, SmiStatus.Commissioned) { Model = d.Type is DeviceType.ESME or DeviceType.GSME ? GbcsModel : null });

    /// <summary>
    /// Reads a device's GBCS frame (a DUIS GBCSPayload) as its supplier would with the key the frame was MACed
    /// under, without touching the hub adapter's counters; for the demo and the tests.
    /// </summary>
    public GbcsDecodeResult<DeviceOutcome> ReadAnswer(ReadOnlySpan<byte> frame, Eui64 device, Eui64 acb)
    {
        using var devicePublic = Wan.FindKeyAgreementKey(device) ?? throw new ArgumentException($"no device {device} on the simulated WAN", nameof(device));
        using var key = GbcsMacKey.Derive(acbKey, devicePublic, acb, device);
        return GbcsCodec.DecodeResponse(frame, key);
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
        Wan.Dispose();
        acbKey.Dispose();
    }
}
