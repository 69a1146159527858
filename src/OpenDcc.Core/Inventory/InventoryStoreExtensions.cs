using OpenDcc.Core.Identifiers;

namespace OpenDcc.Core.Inventory;

public static class InventoryStoreExtensions
{
    /// <summary>
    /// For each of <paramref name="meterPoints"/> that a meter in service other than <paramref name="except"/> serves
    /// (an ESME by its import, secondary import or export MPAN, a GSME by its MPRN), that meter: a meter point has one
    /// meter in service at a time (a meter exchanged, decommissioned or withdrawn, keeps its MPAN or MPRN without
    /// blocking its successor).
    /// </summary>
    public static Task<IReadOnlyDictionary<MeterPoint, Device>> MetersInServiceAsync(this IInventoryStore inventory, IReadOnlyCollection<MeterPoint> meterPoints, Eui64? except = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inventory);
        return MetersInServiceAsync(inventory.FindDevicesServingAsync, meterPoints, except, cancellationToken);
    }

    /// <summary>As <see cref="MetersInServiceAsync(IInventoryStore, IReadOnlyCollection{MeterPoint}, Eui64?, CancellationToken)"/>, in the import's transaction: the meters it has added count too.</summary>
    public static Task<IReadOnlyDictionary<MeterPoint, Device>> MetersInServiceAsync(this IDeviceImport import, IReadOnlyCollection<MeterPoint> meterPoints, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(import);
        return MetersInServiceAsync(import.FindDevicesServingAsync, meterPoints, null, cancellationToken);
    }

    private static async Task<IReadOnlyDictionary<MeterPoint, Device>> MetersInServiceAsync(Func<IReadOnlyCollection<MeterPoint>, CancellationToken, Task<IReadOnlyList<Device>>> findServing, IReadOnlyCollection<MeterPoint> meterPoints, Eui64? except, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(meterPoints);
        var wanted = meterPoints.ToHashSet();
        var serving = new Dictionary<MeterPoint, Device>();
        foreach (var chunk in wanted.Chunk(10_000))
        {
            foreach (var meter in (await findServing(chunk, cancellationToken)).Where(d => d.IsInService && d.Id != except))
            {
                foreach (var (_, meterPoint) in meter.ServedMeterPoints().Where(m => wanted.Contains(m.MeterPoint)))
                {
                    serving.TryAdd(meterPoint, meter);
                }
            }
        }
        return serving;
    }

    /// <summary>
    /// Adds the devices the inventory does not hold yet, all at once; those it holds are left as they are. How a
    /// hub takes in the devices a WAN (the simulated fleet, in-process or over loopback) says it has. A meter in service
    /// is added without an MPAN or MPRN another meter in service serves already (one the operator added, say): a meter
    /// point has one meter in service, however its meters came to the inventory (<see cref="MetersInServiceAsync"/>).
    /// </summary>
    /// <returns>How many were added, and each meter point left off.</returns>
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
        var served = await inventory.MetersInServiceAsync([.. missing.Where(d => d.IsInService).SelectMany(d => d.ServedMeterPoints().Select(m => m.MeterPoint))], cancellationToken: cancellationToken);
        var leftOff = new List<MeterPointLeftOff>();
        for (var i = 0; i < missing.Count; i++)
        {
            var device = missing[i];
            if (!device.IsInService)
            {
                continue;
            }
            foreach (var (_, meterPoint) in device.ServedMeterPoints())
            {
                if (served.TryGetValue(meterPoint, out var meter))
                {
                    leftOff.Add(new MeterPointLeftOff(device.Id, meterPoint, meter.Id));
                    device = device.Without(meterPoint);
                }
            }
            missing[i] = device;
        }
        await inventory.AddDevicesAsync(missing, cancellationToken);
        return new MissingDevicesAdded(missing.Count, leftOff);
    }
}

/// <summary>What <see cref="InventoryStoreExtensions.AddMissingDevicesAsync"/> did: how many devices it added, and the MPANs and MPRNs it left off them.</summary>
public sealed record MissingDevicesAdded(int Count, IReadOnlyList<MeterPointLeftOff> MeterPointsLeftOff)
{
    /// <summary>This and then <paramref name="more"/>, as one (a fleet added a page at a time).</summary>
    public MissingDevicesAdded And(MissingDevicesAdded more)
    {
        ArgumentNullException.ThrowIfNull(more);
        return new(Count + more.Count, [.. MeterPointsLeftOff, .. more.MeterPointsLeftOff]);
    }
}

/// <param name="Device">The meter added without it.</param>
/// <param name="MeterPoint">The MPAN or MPRN left off.</param>
/// <param name="ServedBy">The meter in service that serves it.</param>
public sealed record MeterPointLeftOff(Eui64 Device, MeterPoint MeterPoint, Eui64 ServedBy);
