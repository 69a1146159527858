using NodaTime;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Inventory;
using OpenDcc.Core.Translation;

namespace OpenDcc.Simulator.Devices;

/// <summary>
/// A simulated ESME: a household using 2,900–3,500 kWh a year (drawn from the seed), recorded in watt-hours per
/// 30-minute settlement period, low overnight with morning and evening peaks and more in winter.
/// </summary>
public sealed class SimulatedElectricityMeter : SimulatedMeter
{
    /// <summary>25p/kWh, in thousandths of a penny per watt-hour.</summary>
    public const long UnitRateMilliPencePerWattHour = 25;

    internal SimulatedElectricityMeter(SimulatedSite site, Eui64 id, ulong fleetSeed)
        : base(site, id, fleetSeed, MeanDailyWattHours(fleetSeed, id), FuelShape.Electricity)
    {
    }

    public override DeviceType Type => DeviceType.ESME;

    public override RegisterUnit Unit => RegisterUnit.WattHours;

    private protected override string MeterPoint => Site.Mpan.ToString();

    protected override long MilliPencePerUnit => UnitRateMilliPencePerWattHour;

    /// <summary>Half-hourly values for each settlement period starting in [<paramref name="from"/>, <paramref name="to"/>), after install and before <paramref name="now"/>; the current period is partial.</summary>
    private protected override DeviceOutcome ReadProfile(Instant from, Instant to, Instant now)
    {
        var list = new List<ProfileValue>();
        var limit = to < now ? to : now;
        if (from >= limit)
        {
            // Nothing has begun (from may be in the last half hour of the time line, which has no boundary after it).
            return new DeviceOutcome.Profile(SettlementCalendar.PeriodLength, Unit, list);
        }
        // Nothing is recorded before install, so the profile starts there at the earliest.
        var first = SettlementCalendar.CeilingToPeriod(from > InstalledAt ? from : InstalledAt);
        if (first < limit)
        {
            Span<long> values = stackalloc long[ConsumptionModel.MaxPeriodsPerDay];
            var last = SettlementCalendar.DateOf(limit - Duration.Epsilon);
            for (var date = SettlementCalendar.DateOf(first); date <= last; date = date.PlusDays(1))
            {
                var (start, count) = Model.DayPeriods(date, values);
                for (var k = 0; k < count; k++)
                {
                    var periodStart = start + (SettlementCalendar.PeriodLength * k);
                    if (periodStart >= first && periodStart < limit)
                    {
                        list.Add(new ProfileValue(periodStart, PeriodConsumption(periodStart, values[k], now)));
                    }
                }
            }
        }
        return new DeviceOutcome.Profile(SettlementCalendar.PeriodLength, Unit, list);
    }

    /// <summary>
    /// Voltage wobbles deterministically between 230.0 V and 244.9 V from minute to minute (0 in an outage); active
    /// power is the current period's uninterrupted consumption as an average rate, or 0 while not consuming.
    /// </summary>
    private protected override DeviceOutcome ReadNetworkData(Instant now)
    {
        foreach (var outage in Site.Outages)
        {
            if (outage.Covers(now))
            {
                return new DeviceOutcome.NetworkData(0, 0, now);
            }
        }
        var minute = (ulong)(now.ToUnixTimeSeconds() / 60);
        var voltage = 2300 + SeedMix.Below(SeedMix.Mix(Model.Seed, minute), 150);
        return new DeviceOutcome.NetworkData(voltage, ActivePowerWatts(now), now);
    }

    private protected override DeviceOutcome ReadActivePower(Instant now) => new DeviceOutcome.ActivePower(ActivePowerWatts(now), now);

    /// <summary>The current settlement period's mean import power: none while the supply is off or the premises has no power.</summary>
    private int ActivePowerWatts(Instant now)
    {
        if (!IsConsuming(now))
        {
            return 0;
        }
        Span<long> values = stackalloc long[ConsumptionModel.MaxPeriodsPerDay];
        var (start, _) = Model.DayPeriods(SettlementCalendar.DateOf(now), values);
        var k = (int)((now - start).BclCompatibleTicks / SettlementCalendar.PeriodLength.BclCompatibleTicks);
        return (int)(values[k] * 2); // Wh in half an hour → average W
    }

    private static long MeanDailyWattHours(ulong fleetSeed, Eui64 id)
    {
        var annualKilowattHours = 2_900 + SeedMix.Below(SeedMix.Mix(fleetSeed, id.Value, 0xE1), 601);
        return annualKilowattHours * 1_000 * 100 / 36_525;
    }
}
