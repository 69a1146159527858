using NodaTime;
using OpenDcc.Core.Translation;
using OpenDcc.Simulator.Devices;
using static OpenDcc.Simulator.Tests.Devices.Meters;

namespace OpenDcc.Simulator.Tests.Devices;

public class FirmwareAndSupplyTests
{
    private static readonly Instant Now = London(2026, 5, 4, 10, 0);

    private static DeviceOutcome.FirmwareVersion Firmware(ISimulatedDevice device) =>
        Assert.IsType<DeviceOutcome.FirmwareVersion>(device.Execute(new DeviceOperation.ReadFirmwareVersion(), Now));

    [Fact]
    public void Updated_firmware_waits_pending_until_activated()
    {
        var meter = new SimulatedSite(1, 1).ElectricityMeter;
        Assert.Equal(new DeviceOutcome.FirmwareVersion("1.0.0", null), Firmware(meter));

        var image = System.Security.Cryptography.SHA256.HashData("firmware 1.1.0"u8);
        meter.Succeeds(new DeviceOperation.UpdateFirmware("1.1.0", image), Now);
        Assert.Equal(new DeviceOutcome.FirmwareVersion("1.0.0", "1.1.0"), Firmware(meter));

        // 11.3 names the image by its hash, in hex of either case.
        meter.Succeeds(new DeviceOperation.ActivateFirmware(Convert.ToHexString(image).ToLowerInvariant()), Now);
        Assert.Equal(new DeviceOutcome.FirmwareVersion("1.1.0", null), Firmware(meter));
    }

    [Fact]
    public void Activating_an_image_that_is_not_the_pending_one_is_refused()
    {
        var gas = new SimulatedSite(1, 1).GasMeter;
        var other = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData("firmware 1.1.0"u8));

        Assert.Equal(RefusalReason.NoPendingFirmware, gas.Refusal(new DeviceOperation.ActivateFirmware(other), Now));
        gas.Succeeds(new DeviceOperation.UpdateFirmware("1.2.0", System.Security.Cryptography.SHA256.HashData("firmware 1.2.0"u8)), Now);
        Assert.Equal(RefusalReason.NoPendingFirmware, gas.Refusal(new DeviceOperation.ActivateFirmware(other), Now));
        Assert.Equal(new DeviceOutcome.FirmwareVersion("1.0.0", "1.2.0"), Firmware(gas));
    }

    [Fact]
    public void Disabling_supply_stops_consumption_from_that_instant_and_enabling_resumes_it()
    {
        var meter = new SimulatedSite(2, 2).ElectricityMeter;
        var off = Now + Duration.FromMinutes(10);
        var on = Now + Duration.FromDays(2);

        meter.Succeeds(new DeviceOperation.SetSupply(SupplyState.Disabled), off);

        Assert.Equal(new DeviceOutcome.SupplyStatus(SupplyState.Disabled), meter.Execute(new DeviceOperation.ReadSupplyStatus(), off));
        Assert.Equal(meter.Register(off), meter.Register(on));
        Assert.All(meter.Profile(Now + Duration.FromMinutes(30), on, on).Values, v => Assert.Equal(0, v.Value));
        var power = Assert.IsType<DeviceOutcome.NetworkData>(meter.Execute(new DeviceOperation.ReadNetworkData(), on)).ActivePowerWatts;
        Assert.Equal(0, power);

        meter.Succeeds(new DeviceOperation.SetSupply(SupplyState.Enabled), on);
        Assert.True(meter.Register(on + Duration.FromHours(1)) > meter.Register(on));
    }

    [Fact]
    public void An_armed_meter_consumes_nothing_until_the_consumer_presses_the_button()
    {
        var meter = new SimulatedSite(2, 3).ElectricityMeter;
        meter.Succeeds(new DeviceOperation.SetSupply(SupplyState.Armed), Now);
        var pressed = Now + Duration.FromHours(5);

        Assert.Equal(meter.Register(Now), meter.Register(pressed));
        Assert.True(meter.PressSupplyButton(pressed));
        Assert.Equal(new DeviceOutcome.SupplyStatus(SupplyState.Enabled), meter.Execute(new DeviceOperation.ReadSupplyStatus(), pressed));
        Assert.True(meter.Register(pressed + Duration.FromHours(1)) > meter.Register(pressed));
    }

    [Fact]
    public void Gas_supply_can_be_disabled_and_armed_but_not_enabled_remotely()
    {
        var gas = new SimulatedSite(2, 4).GasMeter;

        gas.Succeeds(new DeviceOperation.SetSupply(SupplyState.Disabled), Now);
        gas.Succeeds(new DeviceOperation.SetSupply(SupplyState.Armed), Now);
        Assert.Equal(RefusalReason.NotSupported, gas.Refusal(new DeviceOperation.SetSupply(SupplyState.Enabled), Now));
        Assert.True(gas.PressSupplyButton(Now + Duration.FromHours(1)));
    }

    [Fact]
    public void A_gas_meter_has_no_network_data()
    {
        var gas = new SimulatedSite(2, 4).GasMeter;

        Assert.Equal(RefusalReason.NotSupported, gas.Refusal(new DeviceOperation.ReadNetworkData(), Now));
    }
}
