using OpenDcc.Core.Identifiers;

namespace OpenDcc.Core.Inventory;

public static class InventoryStoreExtensions
{
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
