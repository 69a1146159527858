using System.Xml.Linq;
using NodaTime;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Translation;
using static OpenDcc.Hub.Tests.TestHub;

namespace OpenDcc.Hub.Tests;

/// <summary>The device scenarios of the in-process fleet, with the simulator in a host of its own reached over loopback (<c>opendcc simulate</c>).</summary>
public sealed class LoopbackWanTests : IAsyncLifetime
{
    private const string SendCommand = "/api/v1/serviceS";
    private static readonly XNamespace Sr = "http://www.dccinterface.co.uk/ServiceUserGateway";
    private TestHub hub = null!;

    public async Task InitializeAsync() => hub = await StartAsync(overLoopback: true);

    public async Task DisposeAsync() => await hub.DisposeAsync();

    [Fact]
    public async Task The_hub_learns_the_simulators_devices_into_its_inventory_as_the_in_process_fleet_adds_them()
    {
        var expected = hub.Wan.InventoryDevices().ToList();
        var held = await hub.Store.Inventory.FindDevicesAsync([.. expected.Select(d => d.Id)]);
        Assert.Equal(expected.OrderBy(d => d.Id.Value), held.OrderBy(d => d.Id.Value));
        Assert.Equal(10, expected.Count);
        Assert.True(hub.Connection!.Wan.IsConnected);
    }

    [Fact]
    public async Task A_register_read_over_loopback_is_answered_I0_with_the_simulated_meters_register()
    {
        var site = hub.Wan.Fleet[0];
        var counter = hub.NextCounter();
        Assert.Equal("I99", (await hub.SendAsync(SendCommand, Request(Supplier, site.ElectricityMeter.Id, counter, 1, "4.1.1"))).Code);

        var asynchronous = await hub.Receiver.NextAsync(TimeSpan.FromSeconds(20));
        Assert.Equal("I0", await hub.CheckSignedResponseAsync(asynchronous));
        Assert.Equal($"{site.ElectricityMeter.Id}:{Supplier}:{counter}", XDocument.Parse(asynchronous).Descendants(Sr + "ResponseID").Single().Value);
        var registers = Assert.IsType<DeviceOutcome.Registers>(hub.ReadDeviceAnswer(asynchronous, site.ElectricityMeter.Id));
        var expected = Assert.IsType<DeviceOutcome.Registers>(site.ElectricityMeter.Execute(new DeviceOperation.ReadImportRegisters(), registers.At));
        Assert.Equal(expected.Import, registers.Import);
        Assert.True(registers.Import > 0);
    }

    [Fact]
    public async Task A_fleet_comms_hub_over_loopback_whitelists_a_device_that_its_meter_then_joins()
    {
        var site = hub.Wan.Fleet[0];
        var ihd = Eui64.Parse("00-DB-12-34-56-78-91-13");
        await hub.Store.Inventory.AddDeviceAsync(new Core.Inventory.Device(ihd, Core.Inventory.DeviceType.IHD, Core.Inventory.SmiStatus.Pending));

        Assert.Equal("I99", (await hub.SendAsync(SendCommand, Request(Supplier, site.CommsHubId, hub.NextCounter(), 1, "8.11",
            $"<sr:DeviceID>{ihd}</sr:DeviceID><sr:RequestType>Add</sr:RequestType><sr:AddDeviceToCHFWhitelist><sr:JoinTimePeriod>90</sr:JoinTimePeriod><sr:InstallCode>0102030405060708</sr:InstallCode></sr:AddDeviceToCHFWhitelist>"))).Code);
        Assert.IsType<DeviceOutcome.Done>(hub.ReadDeviceAnswer(await hub.Receiver.NextAsync(TimeSpan.FromSeconds(20)), site.CommsHubId));
        Assert.Equal(Core.Inventory.SmiStatus.Whitelisted, (await hub.Store.Inventory.FindDeviceAsync(ihd))!.Status);

        Assert.Equal("I99", (await hub.SendAsync(SendCommand, Request(Supplier, site.ElectricityMeter.Id, hub.NextCounter(), 1, "8.7.2", $"<sr:OtherDeviceID>{ihd}</sr:OtherDeviceID>"))).Code);
        Assert.IsType<DeviceOutcome.Done>(hub.ReadDeviceAnswer(await hub.Receiver.NextAsync(TimeSpan.FromSeconds(20)), site.ElectricityMeter.Id));
        Assert.Equal([ihd], await hub.Store.Inventory.FindJoinedAsync(site.ElectricityMeter.Id));
        Assert.Equal([ihd], site.ElectricityMeter.Joined);
    }

    [Fact]
    public async Task An_early_smart_meter_over_loopback_answers_in_its_own_format_translated_to_gbcs()
    {
        Assert.Equal("I99", (await hub.SendAsync(SendCommand, Request(Supplier, EarlySmartMeter, hub.NextCounter(), 1, "4.1.1"))).Code);

        var asynchronous = await hub.Receiver.NextAsync(TimeSpan.FromSeconds(20));
        Assert.Equal("I0", await hub.CheckSignedResponseAsync(asynchronous));
        var registers = Assert.IsType<DeviceOutcome.Registers>(hub.ReadDeviceAnswer(asynchronous, EarlySmartMeter));
        Assert.Equal(RegisterUnit.CubicDecimetres, registers.Unit);
    }

    [Fact]
    public async Task A_power_outage_alert_from_the_simulator_reaches_the_supplier_and_the_network_operator()
    {
        var now = SystemClock.Instance.GetCurrentInstant();
        await hub.Wan.PowerOutageAsync(Meter, now - Duration.FromMinutes(10), now - Duration.FromMinutes(5));

        var received = new List<(Eui64 To, Eui64 From, string Code)>();
        for (var i = 0; i < 4; i++)
        {
            var alert = await hub.Receiver.NextAsync(TimeSpan.FromSeconds(20));
            Assert.Equal("I0", await hub.CheckSignedResponseAsync(alert));
            var id = RequestId.Parse(XDocument.Parse(alert).Descendants(Sr + "ResponseID").Single().Value);
            received.Add((id.Target, id.Originator, XDocument.Parse(alert).Descendants(Sr + "DeviceAlertMessage").Single().Element(Sr + "AlertCode")!.Value));
        }
        Assert.All(received, r => Assert.Equal(Meter, r.From));
        Assert.Equal(["8F35", "8F36"], received.Where(r => r.To == Supplier).Select(r => r.Code).Order());
        Assert.Equal(["8F35", "8F36"], received.Where(r => r.To == NetworkOperator).Select(r => r.Code).Order());
    }

    [Fact]
    public async Task A_simulator_that_goes_away_gives_E20_and_the_hub_reads_again_when_it_is_back()
    {
        await hub.StopSimulatorAsync();
        Assert.Equal("I99", (await hub.SendAsync(SendCommand, Request(Supplier, Meter, hub.NextCounter(), 1, "4.1.1"))).Code);
        Assert.Equal("E20", await hub.CheckSignedResponseAsync(await hub.Receiver.NextAsync(TimeSpan.FromSeconds(20))));

        // Started again with the same seed: the same device keys; the hub gives it the ACB key again by itself.
        await hub.StartSimulatorAgainAsync();
        for (var waited = 0; !hub.Connection!.Wan.IsConnected; waited += 50)
        {
            Assert.True(waited < 15_000, "the hub did not connect to the simulator again");
            await Task.Delay(50);
        }
        Assert.Equal("I99", (await hub.SendAsync(SendCommand, Request(Supplier, Meter, hub.NextCounter(), 1, "4.1.1"))).Code);
        var asynchronous = await hub.Receiver.NextAsync(TimeSpan.FromSeconds(20));
        Assert.Equal("I0", await hub.CheckSignedResponseAsync(asynchronous));
        Assert.True(Assert.IsType<DeviceOutcome.Registers>(hub.ReadDeviceAnswer(asynchronous, Meter)).Import > 0);
    }
}

/// <summary>A simulator over loopback whose WAN loses every command: the hub's attempt times out and its HTTP/2 stream is cancelled.</summary>
public sealed class LossyLoopbackWanTests : IAsyncLifetime
{
    private TestHub hub = null!;

    public async Task InitializeAsync() => hub = await StartAsync(wanLossPerMille: 1000, overLoopback: true);

    public async Task DisposeAsync() => await hub.DisposeAsync();

    [Fact]
    public async Task A_command_lost_on_the_loopback_wan_is_retried_then_E21_to_the_user()
    {
        Assert.Equal("I99", (await hub.SendAsync("/api/v1/serviceS", Request(Supplier, Meter, hub.NextCounter(), 1, "4.1.1"))).Code);
        Assert.Equal("E21", await hub.CheckSignedResponseAsync(await hub.Receiver.NextAsync(TimeSpan.FromSeconds(30))));
    }
}
