using OpenDcc.Core.Identifiers;

namespace OpenDcc.Core.Inventory;

/// <summary>The smart metering inventory, as the stores keep it.</summary>
public interface IInventoryStore
{
    /// <exception cref="DuplicateDeviceException">the inventory holds a device with that ID.</exception>
    Task AddDeviceAsync(Device device, CancellationToken cancellationToken = default);

    /// <summary>Adds every device or, when any cannot be added, none.</summary>
    /// <exception cref="DuplicateDeviceException">the inventory holds some of the IDs; it names them all.</exception>
    /// <exception cref="ArgumentException">the list names one ID more than once.</exception>
    Task AddDevicesAsync(IReadOnlyList<Device> devices, CancellationToken cancellationToken = default);

    Task<Device?> FindDeviceAsync(Eui64 id, CancellationToken cancellationToken = default);

    /// <summary>
    /// Those of the IDs the inventory holds, in ID order; unknown ones are left out. Read Inventory (SRV 8.2) and
    /// bulk imports ask about many devices at once.
    /// </summary>
    Task<IReadOnlyList<Device>> FindDevicesAsync(IReadOnlyCollection<Eui64> ids, CancellationToken cancellationToken = default);

    /// <summary>The devices serving those MPANs (normally one ESME each), in ID order.</summary>
    Task<IReadOnlyList<Device>> FindDevicesByMpanAsync(IReadOnlyCollection<Mpan> mpans, CancellationToken cancellationToken = default);

    /// <summary>The devices serving an MPAN in a GSP group (the group of the MPAN's distributor), in ID order.</summary>
    Task<IReadOnlyList<Device>> FindDevicesInGspGroupAsync(GspGroup group, CancellationToken cancellationToken = default);

    /// <summary>Every device, in ID order.</summary>
    Task<IReadOnlyList<Device>> ListDevicesAsync(CancellationToken cancellationToken = default);

    Task<long> CountDevicesAsync(CancellationToken cancellationToken = default);
}
