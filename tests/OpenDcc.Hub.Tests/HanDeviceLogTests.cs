using System.Xml.Linq;
using NodaTime;
using OpenDcc.Core.Duis;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Inventory;
using OpenDcc.Core.Translation;
using static OpenDcc.Hub.Tests.TestHub;

namespace OpenDcc.Hub.Tests;

/// <summary>
/// 8.11 Update HAN Device Log end to end through the comms hub (its simulated CHF keeps the device log, the whitelist of
/// devices allowed on its HAN), and the joins it allows: 8.7.2 / 8.8.2 and their critical forms 8.7.1 / 8.8.1 through
/// Transform and a signed pre-command. The inventory changes only when the device confirms.
/// </summary>
public sealed class HanDeviceLogTests : IAsyncLifetime
{
    private const string SendCommand = "/api/v1/serviceS";
    private const string InstallCode = "30313233343536373839414243444546";
    private static readonly Eui64 Ihd = Eui64.Parse("00-DB-12-34-56-78-91-13");
    private TestHub hub = null!;

    public async Task InitializeAsync()
    {
        hub = await StartAsync();
        // The meter's commands go through the test comms hub, whose simulated CHF is the meter's site's; the IHD is
        // pre-notified, on no device log yet.
        var change = InventoryChange.ByOperator(SystemClock.Instance.GetCurrentInstant());
        await hub.Store.Inventory.UpdateDeviceAsync(Meter, d => d with { CommsHub = CommsHub }, change);
        await hub.Store.Inventory.AddDevicesAsync([new Device(Ihd, DeviceType.IHD, SmiStatus.Pending)], change);
    }

    public async Task DisposeAsync() => await hub.DisposeAsync();

    private Simulator.Devices.SimulatedCommsHub Chf => hub.World.Wan.Fleet[0].CommsHub;

    private static string Add(Eui64 device) =>
        $"<sr:DeviceID>{device}</sr:DeviceID><sr:RequestType>Add</sr:RequestType><sr:AddDeviceToCHFWhitelist><sr:JoinTimePeriod>90</sr:JoinTimePeriod><sr:InstallCode>{InstallCode}</sr:InstallCode></sr:AddDeviceToCHFWhitelist>";

    private static string Remove(Eui64 device) => $"<sr:DeviceID>{device}</sr:DeviceID><sr:RequestType>Remove</sr:RequestType>";

    private static string Other(Eui64 device) => $"<sr:OtherDeviceID>{device}</sr:OtherDeviceID>";

    /// <summary>Sends a non-critical device request as the supplier (I99) and returns the device's answer in the asynchronous I0.</summary>
    private async Task<DeviceOutcome> SendAsync(Eui64 target, string srv, string body)
    {
        Assert.Equal("I99", (await hub.SendAsync(SendCommand, Request(Supplier, target, hub.NextCounter(), 1, srv, body))).Code);
        return await AnswerAsync(target, srv);
    }

    private async Task<DeviceOutcome> AnswerAsync(Eui64 target, string srv)
    {
        var answer = await hub.Receiver.NextAsync(TimeSpan.FromSeconds(20));
        Assert.Equal("I0", await hub.CheckSignedResponseAsync(answer));
        Assert.Equal(srv, XDocument.Parse(answer).Descendants(DuisNamespaces.Sr + "ServiceReferenceVariant").Single().Value);
        return hub.ReadDeviceAnswer(answer, target);
    }

    [Fact]
    public async Task A_device_the_comms_hub_adds_to_its_log_is_whitelisted_on_confirmation_and_can_then_join_the_meter()
    {
        Assert.IsType<DeviceOutcome.Refused>(await SendAsync(Meter, "8.7.2", Other(Ihd)));
        Assert.Empty(await hub.Store.Inventory.FindJoinedAsync(Meter));

        Assert.IsType<DeviceOutcome.Done>(await SendAsync(CommsHub, "8.11", Add(Ihd)));

        Assert.Contains(Chf.DeviceLog, e => e.Device == Ihd && e.InstallCode == InstallCode);
        Assert.Equal(SmiStatus.Whitelisted, (await hub.Store.Inventory.FindDeviceAsync(Ihd))!.Status);
        var whitelisted = (await hub.Store.Inventory.StatusHistoryAsync(Ihd))[^1];
        Assert.Equal((SmiStatus.Whitelisted, "8.11", (Eui64?)Supplier), (whitelisted.Status, whitelisted.ServiceReferenceVariant, whitelisted.User));

        Assert.IsType<DeviceOutcome.Done>(await SendAsync(Meter, "8.7.2", Other(Ihd)));
        Assert.Equal([Ihd], await hub.Store.Inventory.FindJoinedAsync(Meter));
        Assert.Equal([Ihd], hub.World.Wan.Fleet[0].ElectricityMeter.Joined);
    }

    [Fact]
    public async Task A_join_of_a_device_not_in_the_comms_hubs_log_fails_at_the_meter_not_in_device_log_and_joins_nothing()
    {
        var refused = Assert.IsType<DeviceOutcome.Refused>(await SendAsync(Meter, "8.7.2", Other(Ihd)));

        Assert.Equal(RefusalReason.NotInDeviceLog, refused.Reason);
        Assert.Empty(hub.World.Wan.Fleet[0].ElectricityMeter.Joined);
        Assert.Empty(await hub.Store.Inventory.FindJoinedAsync(Meter));
    }

    [Fact]
    public async Task A_device_removed_from_the_log_goes_back_to_pending_and_can_no_longer_join()
    {
        Assert.IsType<DeviceOutcome.Done>(await SendAsync(CommsHub, "8.11", Add(Ihd)));

        Assert.IsType<DeviceOutcome.Done>(await SendAsync(CommsHub, "8.11", Remove(Ihd)));

        Assert.DoesNotContain(Chf.DeviceLog, e => e.Device == Ihd);
        Assert.Equal(SmiStatus.Pending, (await hub.Store.Inventory.FindDeviceAsync(Ihd))!.Status);
        Assert.Equal([SmiStatus.Pending, SmiStatus.Whitelisted, SmiStatus.Pending], (await hub.Store.Inventory.StatusHistoryAsync(Ihd)).Select(h => h.Status));
        Assert.Equal(RefusalReason.NotInDeviceLog, Assert.IsType<DeviceOutcome.Refused>(await SendAsync(Meter, "8.7.2", Other(Ihd))).Reason);
        // Removing it again: the hub has nothing to remove, and the inventory stays as it is.
        Assert.Equal(RefusalReason.NotInDeviceLog, Assert.IsType<DeviceOutcome.Refused>(await SendAsync(CommsHub, "8.11", Remove(Ihd))).Reason);
        Assert.Equal(3, (await hub.Store.Inventory.StatusHistoryAsync(Ihd)).Count);
    }

    [Fact]
    public async Task A_critical_join_and_unjoin_through_transform_and_a_signed_pre_command_change_the_inventory_when_the_meter_confirms()
    {
        Assert.IsType<DeviceOutcome.Done>(await SendAsync(CommsHub, "8.11", Add(Ihd)));

        Assert.Equal("I99", await hub.SendSignedPreCommandAsync(Meter, "8.7.1", hub.SignPreCommand(await hub.TransformAsync(Meter, "8.7.1", Other(Ihd)))));
        Assert.IsType<DeviceOutcome.Done>(await AnswerAsync(Meter, "8.7.1"));
        Assert.Equal([Ihd], await hub.Store.Inventory.FindJoinedAsync(Meter));

        Assert.Equal("I99", await hub.SendSignedPreCommandAsync(Meter, "8.8.1", hub.SignPreCommand(await hub.TransformAsync(Meter, "8.8.1", Other(Ihd)))));
        Assert.IsType<DeviceOutcome.Done>(await AnswerAsync(Meter, "8.8.1"));
        Assert.Empty(await hub.Store.Inventory.FindJoinedAsync(Meter));
        Assert.Empty(hub.World.Wan.Fleet[0].ElectricityMeter.Joined);
    }

    [Fact]
    public async Task A_critical_join_the_meter_refuses_records_nothing()
    {
        Assert.Equal("I99", await hub.SendSignedPreCommandAsync(Meter, "8.7.1", hub.SignPreCommand(await hub.TransformAsync(Meter, "8.7.1", Other(Ihd)))));

        Assert.Equal(RefusalReason.NotInDeviceLog, Assert.IsType<DeviceOutcome.Refused>(await AnswerAsync(Meter, "8.7.1")).Reason);
        Assert.Empty(await hub.Store.Inventory.FindJoinedAsync(Meter));
    }

    [Theory]
    [InlineData("meter", "E11")]
    [InlineData("unknown", "E19")]
    [InlineData("decommissioned", "E5")]
    [InlineData("bad install code", "E41")]
    public async Task An_update_of_the_device_log_sent_to_a_meter_naming_an_unknown_or_decommissioned_device_or_malformed_is_refused_and_sent_nowhere(string fault, string expected)
    {
        var stranger = Eui64.Parse("00-DB-12-34-56-78-91-99");
        if (fault == "decommissioned")
        {
            await hub.Store.Inventory.UpdateDeviceAsync(Ihd, d => d with { Status = SmiStatus.Decommissioned }, InventoryChange.ByOperator(SystemClock.Instance.GetCurrentInstant()));
        }
        var (target, body) = fault switch
        {
            "meter" => (Meter, Add(Ihd)),
            "unknown" => (CommsHub, Add(stranger)),
            "bad install code" => (CommsHub, Add(Ihd).Replace(InstallCode, "0102", StringComparison.Ordinal)),
            _ => (CommsHub, Add(Ihd)),
        };

        Assert.Equal(expected, (await hub.SendAsync(SendCommand, Request(Supplier, target, hub.NextCounter(), 1, "8.11", body))).Code);

        Assert.DoesNotContain(Chf.DeviceLog, e => e.Device == Ihd || e.Device == stranger);
        await Assert.ThrowsAsync<TimeoutException>(() => hub.Receiver.NextAsync(TimeSpan.FromSeconds(1)));
    }
}
