using NodaTime;
using NodaTime.Testing;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Inventory;

namespace OpenDcc.Core.Tests.Inventory;

public class CachingInventoryStoreTests
{
    private static readonly Eui64 Meter = Eui64.Parse("00-DB-12-34-56-78-90-A0");

    private readonly FakeClock clock = new(Instant.FromUtc(2026, 11, 29, 9, 0));
    private readonly Devices inner = new();

    [Fact]
    public async Task A_device_is_read_once_while_fresh_and_again_after()
    {
        await inner.AddDeviceAsync(new Device(Meter, DeviceType.ESME, SmiStatus.Commissioned));
        var store = new CachingInventoryStore(inner, clock, Duration.FromSeconds(1));

        await store.FindDeviceAsync(Meter);
        clock.Advance(Duration.FromMilliseconds(999));
        await store.FindDeviceAsync(Meter);
        Assert.Equal(1, inner.Reads);

        clock.Advance(Duration.FromMilliseconds(1));
        await store.FindDeviceAsync(Meter);
        Assert.Equal(2, inner.Reads);
    }

    [Fact]
    public async Task An_unknown_device_imported_elsewhere_is_found_on_the_next_lookup()
    {
        var store = new CachingInventoryStore(inner, clock, Duration.FromSeconds(1));
        Assert.Null(await store.FindDeviceAsync(Meter));

        await inner.AddDeviceAsync(new Device(Meter, DeviceType.ESME, SmiStatus.Pending));

        Assert.Equal(SmiStatus.Pending, (await store.FindDeviceAsync(Meter))!.Status);
    }

    [Fact]
    public async Task A_device_added_through_the_store_is_found_at_once()
    {
        var store = new CachingInventoryStore(inner, clock, Duration.FromSeconds(1));

        await store.AddDevicesAsync([new Device(Meter, DeviceType.GSME, SmiStatus.Pending)]);

        Assert.Equal(DeviceType.GSME, (await store.FindDeviceAsync(Meter))!.Type);
    }

    [Fact]
    public async Task A_device_updated_through_the_store_or_forgotten_once_changed_in_the_logs_transaction_is_read_afresh_at_once()
    {
        await inner.AddDeviceAsync(new Device(Meter, DeviceType.ESME, SmiStatus.Pending));
        var store = new CachingInventoryStore(inner, clock, Duration.FromSeconds(1));
        await store.FindDeviceAsync(Meter);

        await store.UpdateDeviceAsync(Meter, d => d with { Status = SmiStatus.Commissioned }, InventoryChange.ByOperator(clock.GetCurrentInstant()));
        Assert.Equal(SmiStatus.Commissioned, (await store.FindDeviceAsync(Meter))!.Status);

        inner.Remove(Meter);
        Assert.NotNull(await store.FindDeviceAsync(Meter));
        store.Forget([Meter]);
        Assert.Null(await store.FindDeviceAsync(Meter));
    }

    /// <summary>The store behind the cache, counting the device reads that reach it.</summary>
    private sealed class Devices : IInventoryStore
    {
        private readonly Dictionary<Eui64, Device> devices = [];

        public int Reads { get; private set; }

        public Task AddDeviceAsync(Device device, CancellationToken cancellationToken = default)
        {
            devices.Add(device.Id, device);
            return Task.CompletedTask;
        }

        public async Task AddDevicesAsync(IReadOnlyList<Device> devicesToAdd, CancellationToken cancellationToken = default)
        {
            foreach (var device in devicesToAdd)
            {
                await AddDeviceAsync(device, cancellationToken);
            }
        }

        public Task<Device?> FindDeviceAsync(Eui64 id, CancellationToken cancellationToken = default)
        {
            Reads++;
            return Task.FromResult(devices.GetValueOrDefault(id));
        }

        public Task<IReadOnlyList<Device>> FindDevicesAsync(IReadOnlyCollection<Eui64> ids, CancellationToken cancellationToken = default) =>
            Task.FromResult<IReadOnlyList<Device>>([.. ids.Where(devices.ContainsKey).Order().Select(id => devices[id])]);

        public Task<IReadOnlyList<Device>> FindDevicesServingAsync(IReadOnlyCollection<MeterPoint> meterPoints, CancellationToken cancellationToken = default) =>
            Task.FromResult<IReadOnlyList<Device>>([.. devices.Values.Where(d => d.ServedMeterPoints().Any(m => meterPoints.Contains(m.MeterPoint))).OrderBy(d => d.Id)]);

        public Task<IReadOnlyList<Device>> FindDevicesInGspGroupAsync(GspGroup group, CancellationToken cancellationToken = default) =>
            Task.FromResult<IReadOnlyList<Device>>([.. devices.Values.Where(d => d.Mpan?.Distributor.GspGroup == group)]);

        public Task<IReadOnlyList<Device>> ListDevicesAsync(CancellationToken cancellationToken = default) => Task.FromResult<IReadOnlyList<Device>>([.. devices.Values]);

        public Task<IReadOnlyList<Device>> ListDevicesAfterAsync(Eui64? after, int max, CancellationToken cancellationToken = default) =>
            Task.FromResult<IReadOnlyList<Device>>([.. devices.Values.Where(d => after is null || d.Id.CompareTo(after.Value) > 0).OrderBy(d => d.Id).Take(max)]);

        public Task<long> CountDevicesAsync(CancellationToken cancellationToken = default) => Task.FromResult((long)devices.Count);

        public Task AddDevicesAsync(IReadOnlyList<Device> devicesToAdd, InventoryChange change, CancellationToken cancellationToken = default) => AddDevicesAsync(devicesToAdd, cancellationToken);

        public Task<Device?> UpdateDeviceAsync(Eui64 id, Func<Device, Device?> update, InventoryChange change, CancellationToken cancellationToken = default)
        {
            if (!devices.TryGetValue(id, out var device))
            {
                return Task.FromResult<Device?>(null);
            }
            devices[id] = update(device) ?? device;
            return Task.FromResult<Device?>(devices[id]);
        }

        public void Remove(Eui64 id) => devices.Remove(id);

        // What the cache passes straight through; these tests do not use it.
        public Task<IDeviceImport> BeginImportAsync(InventoryChange change, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<Device?> UpdateDeviceAsync(Eui64 id, Func<Device, Device?> update, InventoryChange change, Func<Device, Device, Core.Alerts.PendingAlert?> raises, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<IReadOnlyList<Device>> FindDevicesAtSiteAsync(Uprn site, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<IReadOnlyList<Device>> FindDevicesOnCommsHubAsync(Eui64 commsHub, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<IReadOnlyList<SmiStatusChange>> StatusHistoryAsync(Eui64 id, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<Instant?> FirstEnteredAsync(Eui64 id, SmiStatus status, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<bool> JoinAsync(Eui64 device, Eui64 other, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<bool> UnjoinAsync(Eui64 device, Eui64 other, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<IReadOnlyList<Eui64>> FindJoinedAsync(Eui64 device, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task SaveSiteAsync(Site site, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<Site?> FindSiteAsync(Uprn uprn, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<IReadOnlyList<Site>> FindSitesByAddressAsync(string postCode, string addressIdentifier, CancellationToken cancellationToken = default) => throw new NotSupportedException();
    }
}
