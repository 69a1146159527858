using NodaTime;

namespace OpenDcc.Simulator.Devices;

/// <summary>
/// GB settlement days and periods: a settlement day runs from local midnight to local midnight in Europe/London and
/// is cut into 30-minute settlement periods, so it has 48 of them, 46 on the spring clock change and 50 on the autumn one.
/// </summary>
public static class SettlementCalendar
{
    public static DateTimeZone Zone { get; } = DateTimeZoneProviders.Tzdb["Europe/London"];

    public static Duration PeriodLength { get; } = Duration.FromMinutes(30);

    /// <summary>The instant the settlement day starts (local midnight; never skipped in Europe/London).</summary>
    public static Instant StartOf(LocalDate date) => Zone.AtStartOfDay(date).ToInstant();

    /// <summary>The settlement day an instant falls in.</summary>
    public static LocalDate DateOf(Instant instant) => instant.InZone(Zone).Date;

    /// <summary>48 normally, 46 on the day the clocks go forward, 50 on the day they go back.</summary>
    public static int PeriodCount(LocalDate date) =>
        (int)((StartOf(date.PlusDays(1)) - StartOf(date)).BclCompatibleTicks / PeriodLength.BclCompatibleTicks);

    /// <summary>The half hour of the local clock (0 for 00:00–00:30 … 47 for 23:30–24:00) a period starting at <paramref name="start"/> covers.</summary>
    internal static int ClockSlotOf(Instant start)
    {
        var time = start.InZone(Zone).TimeOfDay;
        return (time.Hour * 2) + (time.Minute / 30);
    }

    /// <summary>The first period boundary at or after <paramref name="instant"/> (Europe/London offsets are whole hours).</summary>
    internal static Instant CeilingToPeriod(Instant instant)
    {
        var ticks = PeriodLength.BclCompatibleTicks;
        var t = instant.ToUnixTimeTicks();
        var floor = t - (((t % ticks) + ticks) % ticks);
        return Instant.FromUnixTimeTicks(floor == t ? t : floor + ticks);
    }
}
