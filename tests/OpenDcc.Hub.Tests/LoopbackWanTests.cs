using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Xml.Linq;
using NodaTime;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Translation;
using OpenDcc.Core.Wan;
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
    public async Task A_comms_hubs_loss_of_power_in_the_simulator_reaches_the_network_operator_and_the_supplier_as_a_dcc_alert_and_the_restoration_as_the_meters_alert()
    {
        var site = hub.Wan.Fleet[1];
        var now = SystemClock.Instance.GetCurrentInstant();
        await hub.Wan.PowerOutageAsync(site.ElectricityMeter.Id, now - Duration.FromMinutes(10), now - Duration.FromMinutes(5));

        var received = await NextAlertsAsync(4);
        // The power outage from the DCC, naming the comms hub the simulator reported; the restoration from the meter.
        Assert.Equal([(Dsp, "AD1", site.CommsHubId), (Dsp, "AD1", site.CommsHubId)], received.Where(r => r.Code == "AD1").Select(r => (r.From, r.Code, r.CommsHub!.Value)));
        Assert.Equal([site.ElectricityMeter.Id, site.ElectricityMeter.Id], received.Where(r => r.Code == "8F36").Select(r => r.From));
        Assert.Equal(["8F36", "AD1"], received.Where(r => r.To == Supplier).Select(r => r.Code).Order(StringComparer.Ordinal));
        Assert.Equal(["8F36", "AD1"], received.Where(r => r.To == NetworkOperator).Select(r => r.Code).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_power_cut_posted_to_the_simulator_sends_the_outage_at_once_and_the_restoration_when_power_returns_to_the_network_operator_and_the_supplier()
    {
        var site = hub.Wan.Fleet[1];
        using var control = SimulatorControl();
        using (var posted = await control.PostAsJsonAsync(LoopbackWanProtocol.OutagePath(1), new PowerCut(Seconds: 2), LoopbackWanProtocol.Json))
        {
            Assert.Equal(HttpStatusCode.Accepted, posted.StatusCode);
        }

        var outage = await NextAlertsAsync(2);
        Assert.All(outage, a => Assert.Equal((Dsp, "AD1", site.CommsHubId), (a.From, a.Code, a.CommsHub!.Value)));
        Assert.Equal([Supplier, NetworkOperator], outage.Select(a => a.To).OrderBy(to => to.Value));
        // Nothing more until the power is back, two seconds after it went.
        await Assert.ThrowsAsync<TimeoutException>(() => hub.Receiver.NextAsync(TimeSpan.FromMilliseconds(800)));
        var restored = await NextAlertsAsync(2);
        Assert.All(restored, a => Assert.Equal((site.ElectricityMeter.Id, "8F36"), (a.From, a.Code)));
        Assert.Equal([Supplier, NetworkOperator], restored.Select(a => a.To).OrderBy(to => to.Value));
    }

    [Theory]
    [InlineData(7, 60, HttpStatusCode.NotFound, "site: the fleet has sites 0 to 1")]
    [InlineData(0, 0, HttpStatusCode.BadRequest, "seconds: 1 to 86400")]
    public async Task A_power_cut_for_a_site_the_fleet_lacks_or_of_no_length_is_refused_naming_the_field(int site, int seconds, HttpStatusCode status, string detail)
    {
        using var control = SimulatorControl();
        using var posted = await control.PostAsJsonAsync(LoopbackWanProtocol.OutagePath(site), new PowerCut(seconds), LoopbackWanProtocol.Json);
        Assert.Equal(status, posted.StatusCode);
        Assert.Contains(detail, await posted.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Supplier_trust_anchors_that_do_not_read_are_refused_and_none_placed()
    {
        var before = hub.Wan.SupplierTrustAnchorOf(Meter);
        using var control = SimulatorControl();
        using var posted = await control.PostAsJsonAsync(
            LoopbackWanProtocol.SupplierTrustAnchorsPath,
            new[] { new SupplierTrustAnchor(Meter.ToString(), Stranger.ToString(), Convert.ToBase64String(before!.SubjectPublicKeyInfo.Span)), new SupplierTrustAnchor(null, Stranger.ToString(), "bm90IGEga2V5") },
            LoopbackWanProtocol.Json);

        Assert.Equal(HttpStatusCode.BadRequest, posted.StatusCode);
        Assert.Contains("[1].signingKey", await posted.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(Supplier, hub.Wan.SupplierTrustAnchorOf(Meter)!.Party);
    }

    /// <summary>An HTTP/2 cleartext client of the simulator's host, as a hub's connection is.</summary>
    private HttpClient SimulatorControl() => new(new SocketsHttpHandler())
    {
        BaseAddress = hub.Simulator!.Url,
        DefaultRequestVersion = HttpVersion.Version20,
        DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
    };

    /// <summary>The next alerts delivered, each DSP-signed with I0: to whom, from whom, the device or DCC alert code, and a power outage's comms hub.</summary>
    private async Task<List<(Eui64 To, Eui64 From, string Code, Eui64? CommsHub)>> NextAlertsAsync(int count)
    {
        var received = new List<(Eui64 To, Eui64 From, string Code, Eui64? CommsHub)>();
        for (var i = 0; i < count; i++)
        {
            var alert = await hub.Receiver.NextAsync(TimeSpan.FromSeconds(20));
            Assert.Equal("I0", await hub.CheckSignedResponseAsync(alert));
            var document = XDocument.Parse(alert);
            var id = RequestId.Parse(document.Descendants(Sr + "ResponseID").Single().Value);
            var code = document.Descendants(Sr + "DCCAlertCode").SingleOrDefault()?.Value ?? document.Descendants(Sr + "AlertCode").Single().Value;
            var commsHub = document.Descendants(Sr + "CommsHubDeviceID").SingleOrDefault() is { } hubId ? Eui64.Parse(hubId.Value) : (Eui64?)null;
            received.Add((id.Target, id.Originator, code, commsHub));
        }
        return received;
    }

    [Fact]
    public async Task A_simulator_that_goes_away_gives_E20_and_the_hub_reads_again_when_it_is_back()
    {
        Assert.Equal(("Healthy", "Healthy"), await WanHealthAsync());
        await hub.StopSimulatorAsync();
        Assert.Equal("I99", (await hub.SendAsync(SendCommand, Request(Supplier, Meter, hub.NextCounter(), 1, "4.1.1"))).Code);
        Assert.Equal("E20", await hub.CheckSignedResponseAsync(await hub.Receiver.NextAsync(TimeSpan.FromSeconds(20))));
        // Told on /health while it is away (the hub still serves: Degraded, 200), with why.
        var (status, wan) = await WanHealthAsync();
        Assert.Equal("Degraded", status);
        Assert.StartsWith($"{hub.Connection!.Wan.Simulator}: away (", wan, StringComparison.Ordinal);

        // Started again with the same seed: the same device keys; the hub gives it the ACB key again by itself.
        await hub.StartSimulatorAgainAsync();
        for (var waited = 0; !hub.Connection!.Wan.IsConnected; waited += 50)
        {
            Assert.True(waited < 15_000, "the hub did not connect to the simulator again");
            await Task.Delay(50);
        }
        Assert.Equal(("Healthy", "Healthy"), await WanHealthAsync());
        Assert.Equal("I99", (await hub.SendAsync(SendCommand, Request(Supplier, Meter, hub.NextCounter(), 1, "4.1.1"))).Code);
        var asynchronous = await hub.Receiver.NextAsync(TimeSpan.FromSeconds(20));
        Assert.Equal("I0", await hub.CheckSignedResponseAsync(asynchronous));
        Assert.True(Assert.IsType<DeviceOutcome.Registers>(hub.ReadDeviceAnswer(asynchronous, Meter)).Import > 0);
    }

    /// <summary>/health's overall status and its WAN check's: that check's own status, or its description when not Healthy.</summary>
    private async Task<(string Status, string Wan)> WanHealthAsync()
    {
        using var response = await hub.Http.GetAsync(new Uri("/health", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var health = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var wan = health.RootElement.GetProperty("checks").GetProperty("wan");
        return (health.RootElement.GetProperty("status").GetString()!, wan.GetProperty("status").GetString() is "Healthy" ? "Healthy" : wan.GetProperty("description").GetString()!);
    }
}

/// <summary>A simulator over loopback that hangs (a process stopped with SIGSTOP): its connection says nothing more and is not closed.</summary>
public sealed class HungLoopbackWanTests : IAsyncLifetime
{
    private TestHub hub = null!;

    public async Task InitializeAsync() => hub = await StartAsync(overLoopback: true, viaProxy: true);

    public async Task DisposeAsync() => await hub.DisposeAsync();

    [Fact]
    public async Task Once_the_hub_knows_the_wan_is_gone_a_command_gets_E20_at_once_not_after_its_attempts_time_out()
    {
        hub.WanProxy!.Freeze();
        // The HTTP/2 pings go unanswered (5 s, then 5 s more): the hub says the WAN went.
        for (var waited = 0; hub.Connection!.Wan.IsConnected; waited += 100)
        {
            Assert.True(waited < 30_000, "the hub did not notice that the WAN stopped answering");
            await Task.Delay(100);
        }

        var sent = System.Diagnostics.Stopwatch.StartNew();
        Assert.Equal("I99", (await hub.SendAsync("/api/v1/serviceS", Request(Supplier, Meter, hub.NextCounter(), 1, "4.1.1"))).Code);
        Assert.Equal("E20", await hub.CheckSignedResponseAsync(await hub.Receiver.NextAsync(TimeSpan.FromSeconds(40))));
        // Its three attempts 1 s and 2 s apart, each failing at once; sent, each would wait its 10 s timeout.
        Assert.True(sent.Elapsed < TimeSpan.FromSeconds(10), $"E20 came {sent.Elapsed.TotalSeconds:F1} s after the request");
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
