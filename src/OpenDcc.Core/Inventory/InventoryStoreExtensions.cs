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
    /// hub takes in the devices a WAN (the simulated fleet, in-process or over loopback) says it has. A meter in service
    /// is added without an MPAN another meter in service serves already (one the operator added, say): a meter point
    /// has one meter in service, however its meters came to the inventory (<see cref="MetersInServiceAsync"/>).
    /// </summary>
    /// <returns>How many were added, and each MPAN left off.</returns>
    public static async Task<MissingDevicesAdded> AddMissingDevicesAsync(this IInventoryStore inventory, IReadOnlyCollection<Device> devices, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inventory);
        ArgumentNullException.ThrowIfNull(devices);
        var known = new HashSet<Eui64>();
        foreach (var chunk in devices.Chunk(10_000))
        {
            known.UnionWith((await inventory.FindDevicesAsync([.. chunk.Select(d => d.Id)], cancellationToken)).Select(d => d.Id));
        }
        var missing = devices.Where(d => !known.Contains(d.Id)).DistinctBy(d => d.Id).ToList();
        var served = await inventory.MetersInServiceAsync([.. missing.Where(d => d.IsInService).SelectMany(d => d.ServedMpans().Select(m => m.Mpan))], cancellationToken: cancellationToken);
        var leftOff = new List<MpanLeftOff>();
        for (var i = 0; i < missing.Count; i++)
        {
            var device = missing[i];
            if (!device.IsInService)
            {
                continue;
            }
            foreach (var (_, mpan) in device.ServedMpans())
            {
                if (served.TryGetValue(mpan, out var meter))
                {
                    leftOff.Add(new MpanLeftOff(device.Id, mpan, meter.Id));
                    device = device with
                    {
                        Mpan = device.Mpan == mpan ? null : device.Mpan,
                        SecondaryImportMpan = device.SecondaryImportMpan == mpan ? null : device.SecondaryImportMpan,
                        ExportMpan = device.ExportMpan == mpan ? null : device.ExportMpan,
                    };
                }
            }
            missing[i] = device;
        }
        await inventory.AddDevicesAsync(missing, cancellationToken);
        return new MissingDevicesAdded(missing.Count, leftOff);
    }
}

/// <summary>What <see cref="InventoryStoreExtensions.AddMissingDevicesAsync"/> did: how many devices it added, and the MPANs it left off them.</summary>
public sealed record MissingDevicesAdded(int Count, IReadOnlyList<MpanLeftOff> MpansLeftOff)
{
    /// <summary>This and then <paramref name="more"/>, as one (a fleet added a page at a time).</summary>
    public MissingDevicesAdded And(MissingDevicesAdded more)
    {
        ArgumentNullException.ThrowIfNull(more);
        return new(Count + more.Count, [.. MpansLeftOff, .. more.MpansLeftOff]);
    }
}

/// <param name="Device">The meter added without it.</param>
/// <param name="ServedBy">The meter in service that serves it.</param>
public sealed record MpanLeftOff(Eui64 Device, Mpan Mpan, Eui64 ServedBy);
