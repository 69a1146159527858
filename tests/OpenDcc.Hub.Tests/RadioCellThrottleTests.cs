using System.Xml.Linq;
using NodaTime;
using OpenDcc.Core.Alerts;
using OpenDcc.Core.Duis;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Inventory;
using OpenDcc.Core.Wan;
using OpenDcc.Simulator.Wan;
using static OpenDcc.Hub.Tests.TestHub;

namespace OpenDcc.Hub.Tests;

/// <summary>Commands through the comms hub grains to a slow WAN, throttled per radio cell within the region's limit.</summary>
public sealed class RadioCellThrottleTests : IAsyncLifetime
{
    private readonly CountingWan counting = new();
    private TestHub hub = null!;

    public async Task InitializeAsync() =>
        hub = await StartAsync(sites: 4, wanLatency: Duration.FromMilliseconds(300), concurrencyPerCell: 1, wrapWan: wan => counting.Wrap(wan));

    public async Task DisposeAsync() => await hub.DisposeAsync();

    [Fact]
    public async Task Meters_behind_hubs_of_one_radio_cell_are_sent_one_command_at_a_time_while_another_cell_is_sent_its_own()
    {
        // Sites 0 and 1 have their comms hubs in cell N-A, sites 2 and 3 in N-B; all four in the North region.
        var meters = new List<Eui64>();
        for (var number = 0; number < 4; number++)
        {
            var site = hub.Wan.Fleet[number];
            var cell = number < 2 ? "N-A" : "N-B";
            await hub.Store.Inventory.AddDevicesAsync(
            [
                new Device(site.CommsHubId, DeviceType.CHF, SmiStatus.Commissioned) { CommsHub = site.CommsHubId, Region = WanRegion.North, RadioCell = cell },
                new Device(site.ElectricityMeter.Id, DeviceType.ESME, SmiStatus.Commissioned) { Model = SimulatedWorld.GbcsModel, CommsHub = site.CommsHubId, Region = WanRegion.North },
            ]);
            counting.CellOf[site.ElectricityMeter.Id] = cell;
            meters.Add(site.ElectricityMeter.Id);
        }

        // Two reads to each meter: each meter has one in flight at a time, so without a cell limit each cell would have two.
        foreach (var meter in meters.Concat(meters))
        {
            Assert.Equal("I99", (await hub.SendAsync("/api/v1/serviceS", Request(Supplier, meter, hub.NextCounter(), 1, "4.1.1"))).Code);
        }
        for (var i = 0; i < 8; i++)
        {
            var answer = XDocument.Parse(await hub.Receiver.NextAsync(TimeSpan.FromSeconds(30)));
            Assert.Equal("I0", answer.Descendants(DuisNamespaces.Sr + "ResponseCode").Single().Value);
        }

        Assert.Equal(1, counting.MostInFlight("N-A"));
        Assert.Equal(1, counting.MostInFlight("N-B"));
        Assert.Equal(2, counting.MostInFlightAtOnce);
    }

    /// <summary>In front of the simulated WAN: counts the exchanges in flight at once, per radio cell of the device and in all.</summary>
    private sealed class CountingWan
    {
        private readonly Dictionary<string, (int Now, int Most)> perCell = [];
        private readonly Lock gate = new();
        private int now;

        public Dictionary<Eui64, string> CellOf { get; } = [];

        public int MostInFlightAtOnce { get; private set; }

        public int MostInFlight(string cell)
        {
            lock (gate)
            {
                return perCell.GetValueOrDefault(cell).Most;
            }
        }

        public IWanTransport Wrap(IWanTransport wan) => new Transport(this, wan);

        private void Count(Eui64 device, int change)
        {
            lock (gate)
            {
                now += change;
                MostInFlightAtOnce = Math.Max(MostInFlightAtOnce, now);
                if (CellOf.TryGetValue(device, out var cell))
                {
                    var counts = perCell.GetValueOrDefault(cell);
                    perCell[cell] = (counts.Now + change, Math.Max(counts.Most, counts.Now + change));
                }
            }
        }

        private sealed class Transport(CountingWan counter, IWanTransport inner) : IWanTransport
        {
            public async Task<byte[]> ExchangeAsync(Eui64 device, byte[] command, CancellationToken cancellationToken)
            {
                counter.Count(device, +1);
                try
                {
                    return await inner.ExchangeAsync(device, command, cancellationToken);
                }
                finally
                {
                    counter.Count(device, -1);
                }
            }

            public void Attach(IDeviceAlertSink sink) => inner.Attach(sink);
        }
    }
}
