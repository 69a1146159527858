using System.Security.Cryptography;
using NodaTime;
using NodaTime.Testing;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Translation;
using OpenDcc.Core.Translation.Gbcs;
using OpenDcc.Simulator.Devices;
using OpenDcc.Simulator.Wan;

namespace OpenDcc.Simulator.Tests.Devices;

/// <summary>
/// The simulated comms hub function's HAN device log (8.11), the joins it allows a meter (8.7.x), and a meter's
/// commissioning (8.1.1), on the devices and over the simulated WAN.
/// </summary>
public sealed class CommsHubAndCommissioningTests
{
    private static readonly Eui64 Acb = Eui64.Parse("90-B3-D5-1F-30-00-00-02");
    private static readonly Eui64 Ihd = Eui64.Parse("00-DB-12-34-56-78-91-13");
    private static readonly Instant Now = Instant.FromUtc(2026, 11, 28, 9, 0);
    private readonly SimulatedSite site = new SimulatedFleet(seed: 5, siteCount: 1)[0];

    private static DeviceOperation.AddToDeviceLog Add(Eui64 device) => new(device, "30313233343536373839414243444546", Duration.FromSeconds(90));

    [Fact]
    public void A_sites_comms_hub_holds_its_own_devices_from_installation_and_no_other()
    {
        var log = site.CommsHub.DeviceLog;

        Assert.Equal(new[] { site.ElectricityMeter.Id, site.GasMeter.Id, site.GasProxyId, site.PpmidId }.Order(), log.Select(e => e.Device));
        Assert.All(log, e => Assert.Equal(32, e.InstallCode.Length));
        Assert.False(site.CommsHub.Holds(Ihd, Now));
        Assert.False(site.CommsHub.Holds(site.CommsHubId, Now));
        // The same seed gives the same install codes.
        Assert.Equal(log, new SimulatedFleet(seed: 5, siteCount: 1)[0].CommsHub.DeviceLog);
    }

    [Fact]
    public void A_device_added_to_the_log_is_held_with_its_install_code_until_it_is_removed()
    {
        site.CommsHub.Succeeds(Add(Ihd), Now);

        Assert.Equal(new DeviceLogEntry(Ihd, "30313233343536373839414243444546", Now + Duration.FromSeconds(90)), site.CommsHub.DeviceLog.Single(e => e.Device == Ihd));
        Assert.True(site.CommsHub.Holds(Ihd, Now));

        site.CommsHub.Succeeds(new DeviceOperation.RemoveFromDeviceLog(Ihd), Now);
        site.CommsHub.Succeeds(new DeviceOperation.RemoveFromDeviceLog(site.PpmidId), Now);

        Assert.False(site.CommsHub.Holds(Ihd, Now));
        Assert.False(site.CommsHub.Holds(site.PpmidId, Now));
        Assert.Equal(RefusalReason.NotInDeviceLog, site.CommsHub.Refusal(new DeviceOperation.RemoveFromDeviceLog(Ihd), Now));
        Assert.Equal(RefusalReason.NotInDeviceLog, site.CommsHub.Refusal(new DeviceOperation.RemoveFromDeviceLog(site.PpmidId), Now));
        Assert.Equal(RefusalReason.NotSupported, site.CommsHub.Refusal(new DeviceOperation.ReadImportRegisters(), Now));
    }

    [Fact]
    public void A_meter_joins_only_a_device_its_comms_hub_holds()
    {
        Assert.Equal(RefusalReason.NotInDeviceLog, site.ElectricityMeter.Refusal(new DeviceOperation.JoinDevice(Ihd), Now));
        site.ElectricityMeter.Succeeds(new DeviceOperation.JoinDevice(site.PpmidId), Now);

        site.CommsHub.Succeeds(Add(Ihd), Now);
        site.ElectricityMeter.Succeeds(new DeviceOperation.JoinDevice(Ihd), Now);

        Assert.Equal(new[] { site.PpmidId, Ihd }.Order(), site.ElectricityMeter.Joined);
    }

    [Fact]
    public void Reading_the_device_log_gives_the_hubs_log_and_the_devices_a_meter_is_joined_to()
    {
        site.CommsHub.Succeeds(Add(Ihd), Now);
        site.CommsHub.Succeeds(new DeviceOperation.RemoveFromDeviceLog(site.PpmidId), Now);
        site.GasMeter.Succeeds(new DeviceOperation.JoinDevice(Ihd), Now);

        var hubLog = Assert.IsType<DeviceOutcome.DeviceLog>(site.CommsHub.Execute(new DeviceOperation.ReadDeviceLog(), Now));
        Assert.Equal(new[] { site.ElectricityMeter.Id, site.GasMeter.Id, site.GasProxyId, Ihd }.Order(), hubLog.Devices);
        Assert.Equal([Ihd], Assert.IsType<DeviceOutcome.DeviceLog>(site.GasMeter.Execute(new DeviceOperation.ReadDeviceLog(), Now)).Devices);
        Assert.Empty(Assert.IsType<DeviceOutcome.DeviceLog>(site.ElectricityMeter.Execute(new DeviceOperation.ReadDeviceLog(), Now)).Devices);
    }

    [Fact]
    public void A_device_8_11_added_joins_only_within_its_join_time_period_and_once_joined_stays_on_the_han()
    {
        var late = Now + Duration.FromSeconds(91);
        site.CommsHub.Succeeds(Add(Ihd), Now);
        Assert.True(site.CommsHub.Holds(Ihd, Now + Duration.FromSeconds(90)));
        Assert.False(site.CommsHub.Holds(Ihd, late));
        var refused = Assert.IsType<DeviceOutcome.Refused>(site.ElectricityMeter.Execute(new DeviceOperation.JoinDevice(Ihd), late));
        Assert.Equal(RefusalReason.NotInDeviceLog, refused.Reason);
        Assert.Contains("join time period", refused.Detail, StringComparison.Ordinal);

        // Added again, it has a new period; joined within it, it is on the HAN for good, so the gas meter may join it later.
        site.CommsHub.Succeeds(Add(Ihd), late);
        site.ElectricityMeter.Succeeds(new DeviceOperation.JoinDevice(Ihd), late + Duration.FromSeconds(10));
        Assert.Null(site.CommsHub.DeviceLog.Single(e => e.Device == Ihd).JoinBy);
        site.GasMeter.Succeeds(new DeviceOperation.JoinDevice(Ihd), late + Duration.FromHours(24));
    }

    [Theory]
    [InlineData(0, 0, true)]
    [InlineData(60, 60, true)]
    [InlineData(-60, 60, true)]
    [InlineData(61, 60, false)]
    [InlineData(-3600, 60, false)]
    public void A_meter_is_commissioned_only_when_the_dccs_time_is_within_the_tolerance_of_its_clock(int offsetSeconds, int toleranceSeconds, bool commissioned)
    {
        var command = new DeviceOperation.CommissionDevice(Now + Duration.FromSeconds(offsetSeconds), Duration.FromSeconds(toleranceSeconds));

        var outcome = site.GasMeter.Execute(command, Now);

        Assert.Equal(commissioned, outcome is DeviceOutcome.Done);
        Assert.Equal(commissioned ? Now : (Instant?)null, site.GasMeter.CommissionedAt);
        if (!commissioned)
        {
            Assert.Equal(RefusalReason.InvalidState, Assert.IsType<DeviceOutcome.Refused>(outcome).Reason);
        }
    }

    [Fact]
    public async Task The_comms_hub_is_reached_over_the_wan_under_its_own_key_and_answers_for_its_device_log()
    {
        using var acbKey = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        using var wan = new SimulatedWan(new SimulatedFleet(seed: 5, siteCount: 1), Acb, acbKey.PublicKey, new FakeClock(Now), SimulatedWanOptions.Instant);
        var hub = wan.Fleet[0].CommsHubId;
        using var devicePublic = wan.FindKeyAgreementKey(hub)!;
        using var key = GbcsMacKey.Derive(acbKey, devicePublic, Acb, hub);

        var answer = GbcsCodec.DecodeResponse(await wan.ExchangeAsync(hub, GbcsCodec.EncodeCommand(new GbcsHeader(1, Acb, hub), Add(Ihd), key), CancellationToken.None), key);

        Assert.True(answer.Succeeded, answer.Reason);
        Assert.IsType<DeviceOutcome.Done>(answer.Value);
        Assert.Equal(hub, answer.Header.Originator);
        Assert.True(wan.Fleet[0].CommsHub.Holds(Ihd, Now));
    }
}
