using NodaTime;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Inventory;
using OpenDcc.Core.Translation;

namespace OpenDcc.Simulator.Devices;

/// <summary>
/// A simulated GSME: gas central heating and hot water using 10,000–14,000 kWh a year (drawn from the seed), recorded
/// in cubic decimetres (1 m³ ≈ 11.2 kWh) and profiled per day, local midnight to local midnight.
/// </summary>
/// <remarks>
/// A power outage at the site stops gas use too: the gas meter runs on its battery, but the boiler needs electricity.
/// Gas supply can be disabled or armed remotely (7.2, 7.3) but not enabled (7.1 is electricity only): an armed valve
/// is opened by the consumer at the meter (<see cref="SimulatedMeter.PressSupplyButton"/>).
/// </remarks>
public sealed class SimulatedGasMeter : SimulatedMeter
{
    /// <summary>7p/kWh at 11.2 kWh/m³ is 78.4p/m³; in thousandths of a penny per dm³, rounded.</summary>
    public const long UnitRateMilliPencePerCubicDecimetre = 78;

    internal SimulatedGasMeter(SimulatedSite site, Eui64 id, ulong fleetSeed)
        : base(site, id, fleetSeed, MeanDailyCubicDecimetres(fleetSeed, id), FuelShape.Gas)
    {
    }

    public override DeviceType Type => DeviceType.GSME;

    public override RegisterUnit Unit => RegisterUnit.CubicDecimetres;

    private protected override string MeterPoint => Site.Mprn.ToString();

    protected override long MilliPencePerUnit => UnitRateMilliPencePerCubicDecimetre;

    /// <summary>Daily values for each settlement day starting in [<paramref name="from"/>, <paramref name="to"/>), after install and before <paramref name="now"/>; the current day is partial.</summary>
    private protected override DeviceOutcome ReadProfile(Instant from, Instant to, Instant now)
    {
        var list = new List<ProfileValue>();
        var limit = to < now ? to : now;
        if (from >= limit)
        {
            // Nothing has begun (from may be on the last day of the time line, which has no day after it).
            return new DeviceOutcome.Profile(Duration.FromDays(1), Unit, list);
        }
        // Nothing is recorded before install (a local midnight), so the profile starts there at the earliest.
        from = from > InstalledAt ? from : InstalledAt;
        var date = SettlementCalendar.DateOf(from);
        if (SettlementCalendar.StartOf(date) < from)
        {
            date = date.PlusDays(1);
        }
        Span<long> values = stackalloc long[ConsumptionModel.MaxPeriodsPerDay];
        for (var start = SettlementCalendar.StartOf(date); start < limit; date = date.PlusDays(1), start = SettlementCalendar.StartOf(date))
        {
            list.Add(new ProfileValue(start, DayConsumption(date, now, values)));
        }
        return new DeviceOutcome.Profile(Duration.FromDays(1), Unit, list);
    }

    private protected override string? CannotSetSupply(SupplyState target) =>
        target == SupplyState.Enabled
            ? "a gas valve cannot be opened remotely (7.1 is electricity only); arm it and the consumer opens it at the meter"
            : null;

    private static long MeanDailyCubicDecimetres(ulong fleetSeed, Eui64 id)
    {
        var annualKilowattHours = 10_000 + SeedMix.Below(SeedMix.Mix(fleetSeed, id.Value, 0x6A5), 4_001);
        // kWh → dm³ is ×1000/11.2 = ×10,000/112; per day is ÷365.25 = ×100/36,525.
        return annualKilowattHours * 10_000L * 100 / (112L * 36_525);
    }
}
