using NodaTime;
using OpenDcc.Core.Alerts;
using OpenDcc.Core.Identifiers;

namespace OpenDcc.Core.Inventory;

/// <summary>
/// The smart metering inventory, as the stores keep it: devices, their SMI status history, HAN joins and sites. What a
/// DUIS service request changes is made in the transaction that logs it (<see cref="InventoryWrite"/>), not here.
/// </summary>
public interface IInventoryStore
{
    /// <exception cref="DuplicateDeviceException">the inventory holds a device with that ID.</exception>
    Task AddDeviceAsync(Device device, CancellationToken cancellationToken = default);

    /// <summary>Adds every device or, when any cannot be added, none. No status history is written.</summary>
    /// <exception cref="DuplicateDeviceException">the inventory holds some of the IDs; it names them all.</exception>
    /// <exception cref="ArgumentException">the list names one ID more than once.</exception>
    Task AddDevicesAsync(IReadOnlyList<Device> devices, CancellationToken cancellationToken = default);

    /// <summary>
    /// Adds every device or, when any cannot be added, none, and starts each one's SMI status history with its status,
    /// set by <paramref name="change"/>.
    /// </summary>
    /// <exception cref="DuplicateDeviceException">the inventory holds some of the IDs; it names them all.</exception>
    /// <exception cref="ArgumentException">the list names one ID more than once.</exception>
    Task AddDevicesAsync(IReadOnlyList<Device> devices, InventoryChange change, CancellationToken cancellationToken = default);

    /// <summary>
    /// Begins an import of devices a batch at a time, in one transaction (<see cref="IDeviceImport"/>), each device's SMI
    /// status history started by <paramref name="change"/>. It is not tried again if PostgreSQL aborts it: its batches are
    /// gone.
    /// </summary>
    Task<IDeviceImport> BeginImportAsync(InventoryChange change, CancellationToken cancellationToken = default);

    /// <summary>
    /// Changes one device under a lock on its row: <paramref name="update"/> gets the device as stored and returns it as
    /// it should be (the same ID and type), or null to leave it. A new SMI status is appended to the device's history,
    /// set by <paramref name="change"/>. A store may call <paramref name="update"/> more than once, with the device read
    /// again, when its first try was undone (PostgreSQL aborting it to break a deadlock): it should only compute.
    /// </summary>
    /// <returns>The device as stored afterwards; null when the inventory has no such device.</returns>
    /// <exception cref="ArgumentException"><paramref name="update"/> changed the device's ID or type.</exception>
    Task<Device?> UpdateDeviceAsync(Eui64 id, Func<Device, Device?> update, InventoryChange change, CancellationToken cancellationToken = default);

    /// <summary>
    /// <see cref="UpdateDeviceAsync(Eui64, Func{Device, Device?}, InventoryChange, CancellationToken)"/>, keeping in the
    /// same transaction the alert the change raises, if any, as pending (<see cref="IAlertCounterStore.ListPendingAsync"/>):
    /// <paramref name="raises"/> gets the device before and after a change that is stored, and returns that alert, or null.
    /// The change is never stored without its alert, so a hub stopping before it raised the alert (a crash, a kill, a
    /// fault on the way) raises it at its next start; whoever raised it completes it (<see cref="IAlertCounterStore.CompleteAsync"/>).
    /// Like <paramref name="update"/>, <paramref name="raises"/> may be called again and should only compute.
    /// </summary>
    /// <exception cref="ArgumentException">the alert has a counter, which this would not take.</exception>
    Task<Device?> UpdateDeviceAsync(Eui64 id, Func<Device, Device?> update, InventoryChange change, Func<Device, Device, PendingAlert?> raises, CancellationToken cancellationToken = default);

    Task<Device?> FindDeviceAsync(Eui64 id, CancellationToken cancellationToken = default);

    /// <summary>
    /// Those of the IDs the inventory holds, in ID order; unknown ones are left out. Read Inventory (SRV 8.2) and
    /// bulk imports ask about many devices at once.
    /// </summary>
    Task<IReadOnlyList<Device>> FindDevicesAsync(IReadOnlyCollection<Eui64> ids, CancellationToken cancellationToken = default);

    /// <summary>
    /// The devices serving those meter points (normally one meter in service each, those out of service too): by an
    /// ESME's import, secondary import or export MPAN, a GSME's MPRN; in ID order, each once.
    /// </summary>
    Task<IReadOnlyList<Device>> FindDevicesServingAsync(IReadOnlyCollection<MeterPoint> meterPoints, CancellationToken cancellationToken = default);

    /// <summary>The devices serving an MPAN in a GSP group (the group of the MPAN's distributor), in ID order.</summary>
    Task<IReadOnlyList<Device>> FindDevicesInGspGroupAsync(GspGroup group, CancellationToken cancellationToken = default);

    /// <summary>The devices installed at a site, in ID order.</summary>
    Task<IReadOnlyList<Device>> FindDevicesAtSiteAsync(Uprn site, CancellationToken cancellationToken = default);

    /// <summary>The devices whose commands go through a comms hub (the hub itself included), in ID order.</summary>
    Task<IReadOnlyList<Device>> FindDevicesOnCommsHubAsync(Eui64 commsHub, CancellationToken cancellationToken = default);

    /// <summary>Every device, in ID order.</summary>
    Task<IReadOnlyList<Device>> ListDevicesAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// At most <paramref name="max"/> devices after <paramref name="after"/> (from the first when null), in ID order: the
    /// inventory a page at a time, for a reader of millions of devices that holds one page, not the whole table.
    /// </summary>
    Task<IReadOnlyList<Device>> ListDevicesAfterAsync(Eui64? after, int max, CancellationToken cancellationToken = default);

    Task<long> CountDevicesAsync(CancellationToken cancellationToken = default);

    /// <summary>The device's SMI statuses, oldest first; empty for a device added without history.</summary>
    Task<IReadOnlyList<SmiStatusChange>> StatusHistoryAsync(Eui64 id, CancellationToken cancellationToken = default);

    /// <summary>
    /// When the device first entered the SMI status (the earliest such entry of its history), read from the history's
    /// index alone: Read Inventory's date commissioned, however long the history has grown.
    /// </summary>
    /// <returns>Null when its history never had it.</returns>
    Task<Instant?> FirstEnteredAsync(Eui64 id, SmiStatus status, CancellationToken cancellationToken = default);

    /// <summary>Records that two devices are joined on the HAN (either way round).</summary>
    /// <returns>False when they were joined already.</returns>
    /// <exception cref="UnknownDeviceException">either device is not in the inventory.</exception>
    Task<bool> JoinAsync(Eui64 device, Eui64 other, CancellationToken cancellationToken = default);

    /// <returns>False when they were not joined.</returns>
    Task<bool> UnjoinAsync(Eui64 device, Eui64 other, CancellationToken cancellationToken = default);

    /// <summary>The devices joined to this one, in ID order.</summary>
    Task<IReadOnlyList<Eui64>> FindJoinedAsync(Eui64 device, CancellationToken cancellationToken = default);

    /// <summary>Adds the site, or replaces what is known of it.</summary>
    Task SaveSiteAsync(Site site, CancellationToken cancellationToken = default);

    Task<Site?> FindSiteAsync(Uprn uprn, CancellationToken cancellationToken = default);

    /// <summary>The sites at a post code with an address identifier (DUIS's <c>PropertyFilter</c>), by UPRN.</summary>
    Task<IReadOnlyList<Site>> FindSitesByAddressAsync(string postCode, string addressIdentifier, CancellationToken cancellationToken = default);
}

/// <summary>A device the operation names is not in the inventory.</summary>
public sealed class UnknownDeviceException(Eui64 id) : Exception($"device {id} is not in the inventory")
{
    public Eui64 Id { get; } = id;
}
