using NodaTime;

namespace OpenDcc.Simulator.Devices;

/// <summary>
/// A meter's uninterrupted consumption, computed from its seed on demand and never stored.
/// </summary>
/// <remarks>
/// Each settlement day's total is a closed form of the date (seasonal, weekday and a seeded day-to-day factor), and
/// is then split over the day's 46, 48 or 50 periods by cumulative weights: period k gets
/// floor(D·C(k+1)/W) − floor(D·C(k)/W), which sums to exactly D. So a register is the sum of whole-day totals plus
/// the current day's periods — O(days) cheap integer work, with no history kept — and always equals the profile's sum.
/// </remarks>
internal readonly record struct ConsumptionModel(ulong Seed, long MeanDailyUnits, FuelShape Shape)
{
    public const int MaxPeriodsPerDay = 50;

    /// <summary>The whole day's uninterrupted consumption.</summary>
    public long DayTotal(LocalDate date)
    {
        var seasonal = Shape.SeasonalPerMille[date.DayOfYear];
        var weekday = date.DayOfWeek is IsoDayOfWeek.Saturday or IsoDayOfWeek.Sunday ? 1080L : 970L;
        var dayToDay = 850L + SeedMix.Below(SeedMix.Mix(Seed, DayKey(date)), 301);
        return MeanDailyUnits * seasonal * weekday * dayToDay / 1_000_000_000L;
    }

    /// <summary>
    /// Fills <paramref name="values"/> with each period's uninterrupted consumption and returns the day's start and
    /// its number of periods.
    /// </summary>
    public (Instant Start, int Count) DayPeriods(LocalDate date, Span<long> values)
    {
        var start = SettlementCalendar.StartOf(date);
        var count = SettlementCalendar.PeriodCount(date);
        Span<long> cumulative = stackalloc long[MaxPeriodsPerDay + 1];
        cumulative[0] = 0;
        var dayKey = DayKey(date);
        for (var k = 0; k < count; k++)
        {
            var slot = count == 48 ? k : SettlementCalendar.ClockSlotOf(start + (SettlementCalendar.PeriodLength * k));
            var jitter = 80 + SeedMix.Below(SeedMix.Mix(Seed, dayKey, (ulong)k), 41);
            cumulative[k + 1] = cumulative[k] + (Shape.ClockSlotWeights[slot] * jitter);
        }
        var total = DayTotal(date);
        var weight = cumulative[count];
        for (var k = 0; k < count; k++)
        {
            values[k] = (total * cumulative[k + 1] / weight) - (total * cumulative[k] / weight);
        }
        return (start, count);
    }

    private static ulong DayKey(LocalDate date) => (ulong)((date.Year * 512) + date.DayOfYear);
}
