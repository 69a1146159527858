using OpenDcc.Core.Identifiers;

namespace OpenDcc.Core.Inventory;

public static class InventoryStoreExtensions
{
    /// <summary>
    /// For each of <paramref name="mpans"/> that a meter in service other than <paramref name="except"/> serves (import,
    /// secondary import or export), that meter: a meter point has one meter in service at a time (a meter exchanged,
    /// decommissioned or withdrawn, keeps its MPAN without blocking its successor).
    /// </summary>
    public static async Task<IReadOnlyDictionary<Mpan, Device>> MetersInServiceAsync(this IInventoryStore inventory, IReadOnlyCollection<Mpan> mpans, Eui64? except = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inventory);
        ArgumentNullException.ThrowIfNull(mpans);
        var wanted = mpans.ToHashSet();
        var serving = new Dictionary<Mpan, Device>();
        foreach (var chunk in wanted.Chunk(10_000))
        {
            foreach (var meter in (await inventory.FindDevicesByMpanAsync(chunk, cancellationToken)).Where(d => d.IsInService && d.Id != except))
            {
                foreach (var (_, mpan) in meter.ServedMpans().Where(m => wanted.Contains(m.Mpan)))
                {
                    serving.TryAdd(mpan, meter);
                }
            }
        }
        return serving;
    }

    /// <summary>
    /// Adds the devices the inventory does not hold yet, all at once; those it holds are left as they are. How a
    /// hub takes in the devices a WAN (the simulated fleet, in-process or over loopback) says it has.
    /// </summary>
    /// <returns>How many were added.</returns>
    public static async Task<int> AddMissingDevicesAsync(this IInventoryStore inventory, IReadOnlyCollection<Device> devices, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inventory);
        ArgumentNullException.ThrowIfNull(devices);
        var known = new HashSet<Eui64>();
        foreach (var chunk in devices.Chunk(10_000))
        {
            known.UnionWith((await inventory.FindDevicesAsync([.. chunk.Select(d => d.Id)], cancellationToken)).Select(d => d.Id));
        }
        var missing = devices.Where(d => !known.Contains(d.Id)).DistinctBy(d => d.Id).ToList();
        await inventory.AddDevicesAsync(missing, cancellationToken);
        return missing.Count;
    }
}
