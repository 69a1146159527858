using System.Diagnostics.CodeAnalysis;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Inventory;

namespace OpenDcc.Simulator.Devices;

/// <summary>
/// Sites 0 … <see cref="Count"/> − 1, all derived from one seed. A device id is decoded straight back to its site
/// number (see <see cref="SiteIdentities"/>), so a lookup is O(1) without any table of ids.
/// </summary>
public sealed class SimulatedFleet
{
    private readonly FleetContext context;
    private readonly SimulatedSite[] sites;

    public SimulatedFleet(ulong seed, int siteCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(siteCount);
        Seed = seed;
        context = new FleetContext(seed);
        sites = new SimulatedSite[siteCount];
        for (var i = 0; i < siteCount; i++)
        {
            sites[i] = new SimulatedSite(context, i);
        }
    }

    public ulong Seed { get; }

    public int Count => sites.Length;

    public IReadOnlyList<SimulatedSite> Sites => sites;

    public SimulatedSite this[int number] => sites[number];

    /// <summary>The site holding the device with this id (any of its ESME, GSME, CHF, GPF or PPMID).</summary>
    public bool TryGetSite(Eui64 deviceId, [NotNullWhen(true)] out SimulatedSite? site, out DeviceType type)
    {
        if (context.Identities.TryDecode(deviceId, out var number, out type) && number < sites.Length)
        {
            site = sites[number];
            return true;
        }
        site = null;
        return false;
    }

    /// <summary>The simulated device (ESME, GSME or the comms hub function) with this id.</summary>
    public bool TryGetDevice(Eui64 deviceId, [NotNullWhen(true)] out ISimulatedDevice? device)
    {
        device = TryGetSite(deviceId, out var site, out var type) ? type switch
        {
            DeviceType.ESME => site.ElectricityMeter,
            DeviceType.GSME => site.GasMeter,
            DeviceType.CHF => site.CommsHub,
            DeviceType.GPF => site.GasProxy,
            _ => null,
        } : null;
        return device is not null;
    }

    /// <summary><paramref name="count"/> sites chosen from the seed (the same seed, the same sites): those whose comms hubs are offline.</summary>
    public IEnumerable<SimulatedSite> OfflineSites(int count) =>
        sites.OrderBy(site => SeedMix.Mix(Seed, (ulong)site.Number, 0x0FF)).Take(count);
}
