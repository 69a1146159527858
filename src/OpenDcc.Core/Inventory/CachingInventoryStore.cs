using NodaTime;
using OpenDcc.Core.Alerts;
using OpenDcc.Core.Caching;
using OpenDcc.Core.Identifiers;

namespace OpenDcc.Core.Inventory;

/// <summary>
/// Keeps the devices the gateway has just looked up, so that a burst of requests to one device reads it once. A
/// cached device is used for at most <paramref name="freshFor"/> after it was read; changes made through this store
/// take effect at once, changes made by another process within <paramref name="freshFor"/>. Unknown devices are
/// never cached: a device imported elsewhere is found on the next request.
/// </summary>
public sealed class CachingInventoryStore(IInventoryStore inner, IClock clock, Duration freshFor) : IInventoryStore
{
    public static readonly Duration DefaultFreshness = Duration.FromSeconds(1);

    private readonly FreshnessCache<Eui64, Device> devices = new(clock, freshFor);

    /// <summary>
    /// Forgets the devices, changed other than through this store (in the message log's transaction,
    /// <see cref="InventoryWrite"/>): the next lookup reads them again.
    /// </summary>
    public void Forget(IEnumerable<Eui64> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        foreach (var id in ids)
        {
            devices.Forget(id);
        }
    }

    public Task<Device?> FindDeviceAsync(Eui64 id, CancellationToken cancellationToken = default) =>
        devices.GetOrReadAsync(id, inner.FindDeviceAsync, cancellationToken);

    public async Task AddDeviceAsync(Device device, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(device);
        devices.Forget(device.Id);
        await inner.AddDeviceAsync(device, cancellationToken);
    }

    public async Task AddDevicesAsync(IReadOnlyList<Device> devicesToAdd, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(devicesToAdd);
        Forget(devicesToAdd.Select(d => d.Id));
        await inner.AddDevicesAsync(devicesToAdd, cancellationToken);
    }

    public async Task AddDevicesAsync(IReadOnlyList<Device> devicesToAdd, InventoryChange change, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(devicesToAdd);
        Forget(devicesToAdd.Select(d => d.Id));
        await inner.AddDevicesAsync(devicesToAdd, change, cancellationToken);
    }

    public async Task<IDeviceImport> BeginImportAsync(InventoryChange change, CancellationToken cancellationToken = default) =>
        new Import(this, await inner.BeginImportAsync(change, cancellationToken));

    public Task<Device?> UpdateDeviceAsync(Eui64 id, Func<Device, Device?> update, InventoryChange change, CancellationToken cancellationToken = default) =>
        devices.ChangeAsync(id, () => inner.UpdateDeviceAsync(id, update, change, cancellationToken));

    public Task<Device?> UpdateDeviceAsync(Eui64 id, Func<Device, Device?> update, InventoryChange change, Func<Device, Device, PendingAlert?> raises, CancellationToken cancellationToken = default) =>
        devices.ChangeAsync(id, () => inner.UpdateDeviceAsync(id, update, change, raises, cancellationToken));

    public Task<IReadOnlyList<Device>> FindDevicesAsync(IReadOnlyCollection<Eui64> ids, CancellationToken cancellationToken = default) => inner.FindDevicesAsync(ids, cancellationToken);

    public Task<IReadOnlyList<Device>> FindDevicesServingAsync(IReadOnlyCollection<MeterPoint> meterPoints, CancellationToken cancellationToken = default) => inner.FindDevicesServingAsync(meterPoints, cancellationToken);

    public Task<IReadOnlyList<Device>> FindDevicesInGspGroupAsync(GspGroup group, CancellationToken cancellationToken = default) => inner.FindDevicesInGspGroupAsync(group, cancellationToken);

    public Task<IReadOnlyList<Device>> FindDevicesAtSiteAsync(Uprn site, CancellationToken cancellationToken = default) => inner.FindDevicesAtSiteAsync(site, cancellationToken);

    public Task<IReadOnlyList<Device>> FindDevicesOnCommsHubAsync(Eui64 commsHub, CancellationToken cancellationToken = default) => inner.FindDevicesOnCommsHubAsync(commsHub, cancellationToken);

    public Task<IReadOnlyList<SmiStatusChange>> StatusHistoryAsync(Eui64 id, CancellationToken cancellationToken = default) => inner.StatusHistoryAsync(id, cancellationToken);

    public Task<Instant?> FirstEnteredAsync(Eui64 id, SmiStatus status, CancellationToken cancellationToken = default) => inner.FirstEnteredAsync(id, status, cancellationToken);

    public Task<bool> JoinAsync(Eui64 device, Eui64 other, CancellationToken cancellationToken = default) => inner.JoinAsync(device, other, cancellationToken);

    public Task<bool> UnjoinAsync(Eui64 device, Eui64 other, CancellationToken cancellationToken = default) => inner.UnjoinAsync(device, other, cancellationToken);

    public Task<IReadOnlyList<Eui64>> FindJoinedAsync(Eui64 device, CancellationToken cancellationToken = default) => inner.FindJoinedAsync(device, cancellationToken);

    public Task SaveSiteAsync(Site site, CancellationToken cancellationToken = default) => inner.SaveSiteAsync(site, cancellationToken);

    public Task<Site?> FindSiteAsync(Uprn uprn, CancellationToken cancellationToken = default) => inner.FindSiteAsync(uprn, cancellationToken);

    public Task<IReadOnlyList<Site>> FindSitesByAddressAsync(string postCode, string addressIdentifier, CancellationToken cancellationToken = default) => inner.FindSitesByAddressAsync(postCode, addressIdentifier, cancellationToken);

    public Task<IReadOnlyList<Device>> ListDevicesAsync(CancellationToken cancellationToken = default) => inner.ListDevicesAsync(cancellationToken);

    public Task<IReadOnlyList<Device>> ListDevicesAfterAsync(Eui64? after, int max, CancellationToken cancellationToken = default) => inner.ListDevicesAfterAsync(after, max, cancellationToken);

    public Task<long> CountDevicesAsync(CancellationToken cancellationToken = default) => inner.CountDevicesAsync(cancellationToken);

    /// <summary>An import through the store beneath, forgetting each device it adds.</summary>
    private sealed class Import(CachingInventoryStore cache, IDeviceImport inner) : IDeviceImport
    {
        public async Task AddAsync(IReadOnlyList<Device> devices, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(devices);
            cache.Forget(devices.Select(d => d.Id));
            await inner.AddAsync(devices, cancellationToken);
        }

        public Task<IReadOnlyList<Device>> FindDevicesAsync(IReadOnlyCollection<Eui64> ids, CancellationToken cancellationToken = default) => inner.FindDevicesAsync(ids, cancellationToken);

        public Task<IReadOnlyList<Device>> FindDevicesServingAsync(IReadOnlyCollection<MeterPoint> meterPoints, CancellationToken cancellationToken = default) => inner.FindDevicesServingAsync(meterPoints, cancellationToken);

        public Task CommitAsync(CancellationToken cancellationToken = default) => inner.CommitAsync(cancellationToken);

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}
