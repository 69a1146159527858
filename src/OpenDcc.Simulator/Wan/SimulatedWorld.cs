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

    public void Dispose()
    {
        gbcs.Dispose();
        Wan.Dispose();
        acbKey.Dispose();
    }
}
