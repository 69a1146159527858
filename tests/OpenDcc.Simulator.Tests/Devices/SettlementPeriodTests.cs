using NodaTime;
using OpenDcc.Simulator.Devices;
using static OpenDcc.Simulator.Tests.Devices.Meters;

namespace OpenDcc.Simulator.Tests.Devices;

public class SettlementPeriodTests
{
    private static readonly SimulatedSite Site = new(fleetSeed: 7, number: 3);

    [Theory]
    [InlineData(2026, 3, 29, 46)]
    [InlineData(2026, 10, 25, 50)]
    [InlineData(2026, 6, 15, 48)]
    [InlineData(2026, 1, 14, 48)]
    public void A_settlement_day_has_46_48_or_50_periods(int year, int month, int day, int expected)
    {
        var date = new LocalDate(year, month, day);

        Assert.Equal(expected, SettlementCalendar.PeriodCount(date));
    }

    [Theory]
    [InlineData(2026, 3, 29, 46)]
    [InlineData(2026, 10, 25, 50)]
    [InlineData(2026, 6, 15, 48)]
    public void Electricity_profile_of_a_day_has_one_value_per_settlement_period(int year, int month, int day, int expected)
    {
        var date = new LocalDate(year, month, day);
        var from = SettlementCalendar.StartOf(date);
        var to = SettlementCalendar.StartOf(date.PlusDays(1));

        var profile = Site.ElectricityMeter.Profile(from, to, now: to + Duration.FromDays(1));

        Assert.Equal(expected, profile.Values.Count);
        Assert.Equal(Duration.FromMinutes(30), profile.Interval);
        Assert.All(profile.Values.Zip(profile.Values.Skip(1)), pair => Assert.Equal(Duration.FromMinutes(30), pair.Second.Start - pair.First.Start));
        Assert.Equal(from, profile.Values[0].Start);
    }

    [Fact]
    public void Gas_profile_has_one_value_per_local_day_starting_at_local_midnight()
    {
        var from = London(2026, 10, 24);
        var to = London(2026, 10, 27);

        var profile = Site.GasMeter.Profile(from, to, now: London(2026, 11, 1));

        Assert.Equal(Duration.FromDays(1), profile.Interval);
        Assert.Equal([London(2026, 10, 24), London(2026, 10, 25), London(2026, 10, 26)], profile.Values.Select(v => v.Start));
        Assert.All(profile.Values, v => Assert.True(v.Value > 0));
    }

    [Fact]
    public void Profile_does_not_report_the_future_and_reports_the_current_period_partially()
    {
        var meter = Site.ElectricityMeter;
        var now = London(2026, 1, 14, 18, 10);

        var profile = meter.Profile(London(2026, 1, 14), London(2026, 1, 15), now);

        Assert.Equal(37, profile.Values.Count);
        var full = meter.Profile(London(2026, 1, 14, 18), London(2026, 1, 14, 18, 30), now: London(2026, 1, 15)).Values[0].Value;
        Assert.Equal(full * 10 / 30, profile.Values[^1].Value);
    }

    [Fact]
    public void Profile_from_the_beginning_of_time_starts_at_install()
    {
        var now = London(2026, 1, 1);

        var electricity = Site.ElectricityMeter.Profile(Instant.MinValue, now, now);
        var gas = Site.GasMeter.Profile(Instant.MinValue, now, now);

        Assert.Equal(Site.InstalledAt, electricity.Values[0].Start);
        Assert.Equal(Site.InstalledAt, gas.Values[0].Start);
        Assert.Equal(Site.ElectricityMeter.Register(now), electricity.Values.Sum(v => v.Value));
    }

    [Theory]
    // The last period of the time line, part of it, and the last instant alone: none has begun, and nothing is after the last.
    [InlineData("9999-12-31T23:30:00Z")]
    [InlineData("9999-12-31T23:45:00Z")]
    [InlineData("9999-12-31T23:59:59.9999999Z")]
    public void A_profile_read_of_the_end_of_time_is_empty_not_a_fault(string from)
    {
        var start = NodaTime.Text.InstantPattern.ExtendedIso.Parse(from).Value;
        var now = London(2026, 1, 1);

        Assert.Empty(Site.ElectricityMeter.Profile(start, Instant.MaxValue, now).Values);
        Assert.Empty(Site.GasMeter.Profile(start, Instant.MaxValue, now).Values);
    }
}
