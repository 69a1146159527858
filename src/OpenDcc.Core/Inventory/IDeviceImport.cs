using OpenDcc.Core.Identifiers;

namespace OpenDcc.Core.Inventory;

/// <summary>
/// An import begun by <see cref="IInventoryStore.BeginImportAsync"/>: batches of devices added in one transaction, so a
/// file of millions is written a batch at a time and still all or nothing. Disposed without <see cref="CommitAsync"/>
/// (an invalid row found late, a fault), it has added nothing.
/// </summary>
public interface IDeviceImport : IAsyncDisposable
{
    /// <summary>
    /// Adds the devices as <see cref="IInventoryStore.AddDevicesAsync(IReadOnlyList{Device}, InventoryChange, CancellationToken)"/>
    /// does, with the import's change. A device of an earlier batch counts as in the inventory.
    /// </summary>
    /// <exception cref="DuplicateDeviceException">the inventory holds some of the IDs; it names those it held before the import. The import is then undone.</exception>
    /// <exception cref="ArgumentException">the list names one ID more than once.</exception>
    Task AddAsync(IReadOnlyList<Device> devices, CancellationToken cancellationToken = default);

    /// <summary>As <see cref="IInventoryStore.FindDevicesAsync"/>, in the import's transaction: the devices it has added are found too.</summary>
    Task<IReadOnlyList<Device>> FindDevicesAsync(IReadOnlyCollection<Eui64> ids, CancellationToken cancellationToken = default);

    /// <summary>As <see cref="IInventoryStore.FindDevicesServingAsync"/>, in the import's transaction: the devices it has added are found too.</summary>
    Task<IReadOnlyList<Device>> FindDevicesServingAsync(IReadOnlyCollection<MeterPoint> meterPoints, CancellationToken cancellationToken = default);

    Task CommitAsync(CancellationToken cancellationToken = default);
}
