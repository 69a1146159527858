using NodaTime;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Inventory;
using OpenDcc.Core.Translation;
using OpenDcc.Simulator.Devices;
using static OpenDcc.Simulator.Tests.Devices.Meters;

namespace OpenDcc.Simulator.Tests.Devices;

public class SiteAndFleetTests
{
    [Fact]
    public void A_power_outage_stops_consumption_the_comms_hub_reports_the_loss_of_power_and_the_meter_raises_the_restored_alert()
    {
        var site = new SimulatedSite(9, 9);
        var from = London(2026, 1, 20, 17, 13);
        var to = London(2026, 1, 20, 19, 41);

        site.PowerOutage(from, to);

        Assert.Equal(site.ElectricityMeter.Register(from), site.ElectricityMeter.Register(to));
        Assert.Equal(site.GasMeter.Register(from), site.GasMeter.Register(to));
        Assert.Equal([from], site.PowerLossesBetween(London(2026, 1, 20), London(2026, 1, 21)));
        Assert.Equal([new DeviceAlert(DeviceAlertKind.PowerRestored, SimulatedAlertCodes.PowerRestored, to)], site.AlertsBetween(London(2026, 1, 20), London(2026, 1, 21)));
        Assert.Empty(site.PowerLossesBetween(London(2026, 1, 21), London(2026, 1, 22)));
        Assert.Empty(site.AlertsBetween(London(2026, 1, 21), London(2026, 1, 22)));
        var data = Assert.IsType<DeviceOutcome.NetworkData>(site.ElectricityMeter.Execute(new DeviceOperation.ReadNetworkData(), from + Duration.FromMinutes(5)));
        Assert.Equal(new DeviceOutcome.NetworkData(0, 0, from + Duration.FromMinutes(5)), data);
    }

    [Fact]
    public void Outages_that_overlap_or_touch_are_one_outage_lost_at_the_first_start_and_restored_at_the_last_end()
    {
        var site = new SimulatedSite(9, 9);
        var from = London(2026, 1, 20, 17, 0);
        Instant At(int minutes) => from + Duration.FromMinutes(minutes);

        site.PowerOutage(At(0), At(20));
        site.PowerOutage(At(5), At(10));
        site.PowerOutage(At(15), At(30));
        site.PowerOutage(At(30), At(40));
        site.PowerOutage(At(50), At(60));

        Assert.Equal([At(0), At(50)], site.PowerLossesBetween(At(0), At(60)));
        Assert.Equal([At(40), At(60)], site.AlertsBetween(At(0), At(61)).Select(a => a.At));
        Assert.Equal(At(40), site.PowerReturnsAt(At(7)));
        Assert.Null(site.PowerReturnsAt(At(40)));
        Assert.Null(site.PowerReturnsAt(At(45)));
        Assert.Equal(site.ElectricityMeter.Register(At(0)), site.ElectricityMeter.Register(At(40)));
    }

    [Fact]
    public void The_gas_proxy_function_answers_the_gas_meters_reads_as_the_gas_meter_and_nothing_else()
    {
        var fleet = new SimulatedFleet(31, 5);
        var site = fleet[4];
        var now = London(2026, 2, 3, 10, 17);
        var proxy = Assert.IsType<SimulatedGasProxy>(fleet.TryGetDevice(site.GasProxyId, out var found) ? found : null);

        Assert.Equal(DeviceType.GPF, proxy.Type);
        Assert.Equal(site.GasProxyId, proxy.Id);
        var register = Assert.IsType<DeviceOutcome.Registers>(proxy.Execute(new DeviceOperation.ReadImportRegisters(), now));
        Assert.Equal(new DeviceOutcome.Registers(site.GasMeter.Register(now), RegisterUnit.CubicDecimetres, now), register);
        Assert.True(register.Import > 0);
        var day = Assert.IsType<DeviceOutcome.Profile>(proxy.Execute(new DeviceOperation.ReadProfile(London(2026, 2, 1), London(2026, 2, 3)), now));
        Assert.Equal(Duration.FromDays(1), day.Interval);
        Assert.Equal(2, day.Values.Count);
        Assert.IsType<DeviceOutcome.Balance>(proxy.Execute(new DeviceOperation.ReadMeterBalance(), now));
        var refused = Assert.IsType<DeviceOutcome.Refused>(proxy.Execute(new DeviceOperation.SetSupply(SupplyState.Disabled), now));
        Assert.Equal(RefusalReason.NotSupported, refused.Reason);
        Assert.Contains("GPF", refused.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void The_daily_read_log_holds_the_register_at_each_local_midnight_from_installation_for_two_years_at_most()
    {
        var site = new SimulatedSite(31, 4);
        var now = London(2026, 3, 31, 9, 5);
        var log = Assert.IsType<DeviceOutcome.DailyReads>(site.ElectricityMeter.Execute(new DeviceOperation.ReadDailyReadLog(London(2026, 3, 27, 12), London(2026, 4, 10)), now));

        // Midnights in the period up to now, across the clocks going forward on 29 March: 28, 29, 30 and 31 March.
        Assert.Equal(RegisterUnit.WattHours, log.Unit);
        Assert.Equal([London(2026, 3, 28), London(2026, 3, 29), London(2026, 3, 30), London(2026, 3, 31)], log.Reads.Select(r => r.At));
        Assert.All(log.Reads, read => Assert.Equal(site.ElectricityMeter.Register(read.At), read.Value));
        Assert.True(log.Reads[^1].Value > log.Reads[0].Value);
        // What a day's reads differ by is that day's consumption, as the profile has it.
        Assert.Equal(log.Reads[1].Value - log.Reads[0].Value, site.ElectricityMeter.ProfileSum(London(2026, 3, 28), London(2026, 3, 29), now));

        var gas = Assert.IsType<DeviceOutcome.DailyReads>(site.GasMeter.Execute(new DeviceOperation.ReadDailyReadLog(Instant.FromUtc(2014, 3, 9, 0, 0), Instant.FromUtc(2014, 3, 11, 0, 0)), now));
        Assert.Equal(RegisterUnit.CubicDecimetres, gas.Unit);
        Assert.Empty(gas.Reads); // before the meter was installed
        // Years after installation (2020-2024), the log holds the newest 731 midnights, today's the last.
        var later = London(2030, 3, 31, 9, 5);
        var all = Assert.IsType<DeviceOutcome.DailyReads>(site.GasMeter.Execute(new DeviceOperation.ReadDailyReadLog(Instant.FromUtc(2000, 1, 1, 0, 0), later + Duration.FromDays(9)), later));
        Assert.Equal(SimulatedMeter.DailyReadLogDays, all.Reads.Count);
        Assert.Equal(London(2028, 3, 31), all.Reads[0].At);
        Assert.Equal(London(2030, 3, 31), all.Reads[^1].At);
    }

    [Fact]
    public void The_electricity_meter_reads_its_active_power_as_its_network_data_has_it_and_the_gas_meter_has_none()
    {
        var site = new SimulatedSite(31, 4);
        var now = London(2026, 1, 14, 18, 10);

        var power = Assert.IsType<DeviceOutcome.ActivePower>(site.ElectricityMeter.Execute(new DeviceOperation.ReadActivePower(), now));
        var network = Assert.IsType<DeviceOutcome.NetworkData>(site.ElectricityMeter.Execute(new DeviceOperation.ReadNetworkData(), now));
        Assert.Equal(new DeviceOutcome.ActivePower(network.ActivePowerWatts, now), power);
        Assert.True(power.Watts > 0);
        Assert.Equal(RefusalReason.NotSupported, site.GasMeter.Refusal(new DeviceOperation.ReadActivePower(), now));
        site.PowerOutage(now - Duration.FromMinutes(1), now + Duration.FromMinutes(1));
        Assert.Equal(0, Assert.IsType<DeviceOutcome.ActivePower>(site.ElectricityMeter.Execute(new DeviceOperation.ReadActivePower(), now)).Watts);
    }

    [Fact]
    public void A_meter_reads_back_its_metering_point_and_its_payment_mode()
    {
        var site = new SimulatedSite(31, 4);
        var now = London(2026, 3, 31, 9, 5);

        Assert.Equal(new DeviceOutcome.MeterPoint(site.Mpan.ToString()), site.ElectricityMeter.Execute(new DeviceOperation.ReadMeterPoint(), now));
        Assert.Equal(new DeviceOutcome.MeterPoint(site.Mprn.ToString()), site.GasMeter.Execute(new DeviceOperation.ReadMeterPoint(), now));
        Assert.Equal(new DeviceOutcome.PaymentModeSetting(site.InitialPaymentMode), site.GasMeter.Execute(new DeviceOperation.ReadPaymentMode(), now));
        var other = site.InitialPaymentMode == PaymentMode.Credit ? PaymentMode.Prepayment : PaymentMode.Credit;
        site.GasMeter.Execute(new DeviceOperation.ChangePaymentMode(other), now);
        Assert.Equal(new DeviceOutcome.PaymentModeSetting(other), site.GasMeter.Execute(new DeviceOperation.ReadPaymentMode(), now + Duration.FromMinutes(1)));
    }

    [Fact]
    public void A_site_has_five_distinct_devices_of_the_expected_types()
    {
        var site = new SimulatedSite(31, 77);

        Assert.Equal(
            [DeviceType.ESME, DeviceType.GSME, DeviceType.CHF, DeviceType.GPF, DeviceType.PPMID],
            site.Devices.Select(d => d.Type));
        Assert.Equal(5, site.Devices.Select(d => d.Id).Distinct().Count());
        Assert.Equal(site.ElectricityMeter.Id, site.Devices.First().Id);
        Assert.Equal(DeviceType.ESME, site.ElectricityMeter.Type);
        Assert.Equal(DeviceType.GSME, site.GasMeter.Type);
    }

    [Fact]
    public void Ids_of_another_fleet_or_beyond_the_fleet_are_not_found()
    {
        var fleet = new SimulatedFleet(1, 100);

        Assert.False(fleet.TryGetDevice(new SimulatedFleet(2, 100)[5].ElectricityMeter.Id, out _));
        Assert.False(fleet.TryGetDevice(new SimulatedFleet(1, 200)[150].ElectricityMeter.Id, out _));
        Assert.False(fleet.TryGetDevice(Eui64.Parse("90-B3-D5-1F-30-01-00-00"), out _));
    }

    [Fact]
    public void Operations_a_meter_cannot_do_are_refused_as_not_supported_rather_than_thrown()
    {
        var site = new SimulatedSite(1, 1);

        Assert.Equal(RefusalReason.NotSupported, site.GasMeter.Refusal(new DeviceOperation.ReadNetworkData(), London(2026, 1, 1)));
    }
}

/// <summary>
/// Tests that read the process's heap before and after: they run alone, since another test's allocations in between
/// would be charged to them (the 100,000-site fleet's test failed once so in a run of the whole project, and passed alone).
/// </summary>
[CollectionDefinition(nameof(HeapMeasuring), DisableParallelization = true)]
public sealed class HeapMeasuring;

[Collection(nameof(HeapMeasuring))]
public class FleetSizeTests
{
    [Fact]
    public void A_fleet_of_100000_sites_is_created_and_any_device_is_found_by_its_id()
    {
        var before = GC.GetTotalMemory(forceFullCollection: true);
        var fleet = new SimulatedFleet(seed: 2026, siteCount: 100_000);
        var after = GC.GetTotalMemory(forceFullCollection: true);

        Assert.Equal(100_000, fleet.Count);
        Assert.True(after - before < 64L * 1024 * 1024, $"a 100,000-site fleet took {(after - before) / (1024 * 1024)} MiB");

        var site = fleet[98_765];
        Assert.True(fleet.TryGetDevice(site.GasMeter.Id, out var gas));
        Assert.Same(site.GasMeter, gas);
        Assert.True(fleet.TryGetDevice(Eui64.Parse(site.ElectricityMeter.Id.ToString()), out var electricity));
        Assert.Same(site.ElectricityMeter, electricity);
        Assert.True(fleet.TryGetSite(site.CommsHubId, out var hubSite, out var type));
        Assert.Same(site, hubSite);
        Assert.Equal(DeviceType.CHF, type);
        Assert.False(fleet.TryGetDevice(site.PpmidId, out _));
        var ids = new HashSet<Eui64>(fleet.Sites.SelectMany(s => s.Devices.Select(d => d.Id)));
        Assert.Equal(500_000, ids.Count);
    }
}
