using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using NodaTime;
using OpenDcc.Core.Translation;
using OpenDcc.Simulator.Devices;
using static OpenDcc.Simulator.Tests.Devices.Meters;

namespace OpenDcc.Simulator.Tests.Devices;

public class ConsumptionTests
{
    private static readonly Instant Start2025 = London(2025, 1, 1);

    /// <summary>Any instant in 2025–2026, to the second.</summary>
    private static readonly Arbitrary<Instant> Instants =
        Gen.Choose(0, 2 * 365 * 24 * 3600).Select(seconds => Start2025 + Duration.FromSeconds(seconds)).ToArbitrary();

    private static readonly Arbitrary<int> Seeds = Gen.Choose(0, int.MaxValue).ToArbitrary();

    private static readonly Arbitrary<int> SiteNumbers = Gen.Choose(0, 100_000).ToArbitrary();

    /// <summary>How long the supply is off, and how far before that an outage starts, in minutes.</summary>
    private static readonly Arbitrary<(int, int)> Spans =
        Gen.Choose(1, 5_000).SelectMany(off => Gen.Choose(1, 200_000).Select(offset => (off, offset))).ToArbitrary();

    [Property(MaxTest = 40)]
    public Property Electricity_register_equals_the_sum_of_the_half_hourly_profile_since_install() =>
        Prop.ForAll(Seeds, SiteNumbers, Instants, (seed, number, now) =>
        {
            var meter = new SimulatedSite((ulong)seed, number).ElectricityMeter;
            return meter.Register(now) == meter.ProfileSum(meter.InstalledAt, now, now);
        });

    [Property(MaxTest = 40)]
    public Property Gas_register_equals_the_sum_of_the_daily_profile_since_install() =>
        Prop.ForAll(Seeds, SiteNumbers, Instants, (seed, number, now) =>
        {
            var meter = new SimulatedSite((ulong)seed, number).GasMeter;
            return meter.Register(now) == meter.ProfileSum(meter.InstalledAt, now, now);
        });

    [Property(MaxTest = 40)]
    public Property Register_equals_the_profile_sum_across_supply_changes_and_outages() =>
        Prop.ForAll(Seeds, Instants, Spans, (seed, disabledAt, span) =>
        {
            var (offMinutes, outageOffsetMinutes) = span;
            var site = new SimulatedSite((ulong)seed, 1);
            var meter = site.ElectricityMeter;
            var enabledAt = disabledAt + Duration.FromMinutes(offMinutes);
            var outageStart = disabledAt - Duration.FromMinutes(outageOffsetMinutes);
            site.PowerOutage(outageStart, outageStart + Duration.FromMinutes(offMinutes * 3 % 7_000 + 1));
            meter.Succeeds(new DeviceOperation.SetSupply(SupplyState.Disabled), disabledAt);
            meter.Succeeds(new DeviceOperation.SetSupply(SupplyState.Enabled), enabledAt);
            var now = enabledAt + Duration.FromMinutes(outageOffsetMinutes % 4_000);
            var gas = site.GasMeter;
            return meter.Register(now) == meter.ProfileSum(meter.InstalledAt, now, now)
                && gas.Register(now) == gas.ProfileSum(gas.InstalledAt, now, now);
        });

    [Fact]
    public void Register_grows_by_exactly_the_profile_between_two_period_boundaries()
    {
        var meter = new SimulatedSite(11, 4).ElectricityMeter;
        var from = London(2026, 2, 1);
        var to = London(2026, 2, 9, 13, 30);

        Assert.Equal(meter.Register(to) - meter.Register(from), meter.ProfileSum(from, to, to));
    }

    [Fact]
    public void Evening_peak_is_above_the_night_and_the_morning_peak_above_the_night()
    {
        var meter = new SimulatedSite(5, 42).ElectricityMeter;
        var now = London(2026, 6, 1);

        long At(int hour) => meter.Profile(London(2026, 1, 20, hour), London(2026, 1, 20, hour, 30), now).Values.Single().Value;

        Assert.True(At(18) > 3 * At(3), $"18:00 {At(18)} Wh vs 03:00 {At(3)} Wh");
        Assert.True(At(8) > 2 * At(3), $"08:00 {At(8)} Wh vs 03:00 {At(3)} Wh");
    }

    [Theory]
    [InlineData(1UL)]
    [InlineData(99UL)]
    [InlineData(123_456_789UL)]
    public void A_January_day_uses_more_than_a_July_day(ulong seed)
    {
        var site = new SimulatedSite(seed, 17);
        var now = London(2027, 1, 1);

        foreach (var meter in new SimulatedMeter[] { site.ElectricityMeter, site.GasMeter })
        {
            var january = meter.ProfileSum(London(2026, 1, 15), London(2026, 1, 16), now);
            var july = meter.ProfileSum(London(2026, 7, 15), London(2026, 7, 16), now);
            Assert.True(january > july, $"{meter.Type}: January {january} vs July {july}");
        }
    }

    [Theory]
    [InlineData(1UL, 0)]
    [InlineData(2UL, 500)]
    [InlineData(3UL, 99_999)]
    public void A_year_of_electricity_and_gas_is_what_a_typical_household_uses(ulong seed, int number)
    {
        var site = new SimulatedSite(seed, number);
        var from = London(2025, 1, 1);
        var to = London(2026, 1, 1);

        var electricityKwh = site.ElectricityMeter.ProfileSum(from, to, to) / 1_000.0;
        var gasKwh = site.GasMeter.ProfileSum(from, to, to) / 1_000.0 * 11.2;

        Assert.InRange(electricityKwh, 2_700, 3_700);
        Assert.InRange(gasKwh, 9_000, 15_000);
    }

    [Fact]
    public void Same_seed_gives_the_same_readings_and_a_different_seed_different_ones()
    {
        var now = London(2026, 3, 29, 12, 7);
        var a = new SimulatedFleet(2026, 10);
        var b = new SimulatedFleet(2026, 10);
        var c = new SimulatedFleet(2027, 10);

        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(a[i].ElectricityMeter.Id, b[i].ElectricityMeter.Id);
            Assert.Equal(a[i].ElectricityMeter.Register(now), b[i].ElectricityMeter.Register(now));
            Assert.Equal(a[i].GasMeter.Register(now), b[i].GasMeter.Register(now));
            Assert.Equal(
                a[i].ElectricityMeter.Profile(now - Duration.FromDays(2), now, now).Values,
                b[i].ElectricityMeter.Profile(now - Duration.FromDays(2), now, now).Values);
        }
        Assert.NotEqual(a[0].ElectricityMeter.Id, c[0].ElectricityMeter.Id);
        var differing = Enumerable.Range(0, 10).Count(i =>
            a[i].ElectricityMeter.ProfileSum(now - Duration.FromDays(7), now, now) != c[i].ElectricityMeter.ProfileSum(now - Duration.FromDays(7), now, now));
        Assert.True(differing >= 9, $"only {differing} of 10 sites differ between seeds");
    }

    [Fact]
    public void Network_data_has_a_mains_voltage_and_the_power_of_the_current_period()
    {
        var meter = new SimulatedSite(8, 8).ElectricityMeter;
        var now = London(2026, 1, 20, 18, 12);

        var data = Assert.IsType<DeviceOutcome.NetworkData>(meter.Execute(new DeviceOperation.ReadNetworkData(), now));

        Assert.InRange(data.RmsVoltageDeciVolts, 2_300, 2_450);
        var period = meter.Profile(London(2026, 1, 20, 18), London(2026, 1, 20, 18, 30), now: London(2026, 1, 21)).Values.Single().Value;
        Assert.Equal(period * 2, data.ActivePowerWatts);
        var voltages = Enumerable.Range(0, 30).Select(m =>
            Assert.IsType<DeviceOutcome.NetworkData>(meter.Execute(new DeviceOperation.ReadNetworkData(), now + Duration.FromMinutes(m))).RmsVoltageDeciVolts);
        Assert.True(voltages.Distinct().Count() > 1);
    }

    [Fact]
    public void Nothing_is_recorded_before_install()
    {
        var meter = new SimulatedSite(4, 4).ElectricityMeter;

        Assert.Equal(0, meter.Register(meter.InstalledAt));
        Assert.True(meter.Register(meter.InstalledAt + Duration.FromHours(1)) > 0);
    }
}
