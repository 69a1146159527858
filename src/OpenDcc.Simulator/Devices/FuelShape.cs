namespace OpenDcc.Simulator.Devices;

/// <summary>
/// How a fuel's use is spread over the year and over the day. All factors are integers (per mille, or relative
/// weights) so that the arithmetic, and so every simulated reading, is the same on every platform.
/// </summary>
internal sealed class FuelShape
{
    private FuelShape(int seasonalAmplitudePerMille, int[] clockSlotWeights)
    {
        ClockSlotWeights = clockSlotWeights;
        // Peak in mid-January (day 15), trough in mid-July; the mean over the year is 1000 ‰, so the annual total
        // is the site's annual consumption. Rounded to whole per mille once, here, so Math.Cos is never on the hot path.
        SeasonalPerMille = new int[367];
        for (var day = 1; day <= 366; day++)
        {
            SeasonalPerMille[day] = 1000 + (int)Math.Round(seasonalAmplitudePerMille * Math.Cos(2 * Math.PI * (day - 15) / 365.25));
        }
    }

    /// <summary>Indexed by day of year (1–366).</summary>
    public int[] SeasonalPerMille { get; }

    /// <summary>Relative use in each half hour of the local clock, 0 = 00:00–00:30.</summary>
    public int[] ClockSlotWeights { get; }

    /// <summary>A household's electricity: low overnight, a morning peak at 07:00–09:00, the highest at 17:00–20:00; about a quarter more in winter.</summary>
    public static FuelShape Electricity { get; } = new(
        seasonalAmplitudePerMille: 250,
        clockSlotWeights:
        [
            20, 18, 16, 15, 15, 15, 15, 15, 16, 16, 18, 22, // 00:00–06:00
            30, 45, 60, 70, 65, 55,                         // 06:00–09:00
            45, 40, 38, 38, 40, 42,                         // 09:00–12:00
            45, 45, 40, 38, 36, 36, 38, 42,                 // 12:00–16:00
            55, 70, 85, 95, 100, 100, 95, 88,               // 16:00–20:00
            80, 72, 65, 58, 50, 40, 32, 25,                 // 20:00–24:00
        ]);

    /// <summary>Gas central heating and hot water: the boiler off overnight, heating at 06:00–09:00 and 16:00–22:00; strongly seasonal.</summary>
    public static FuelShape Gas { get; } = new(
        seasonalAmplitudePerMille: 700,
        clockSlotWeights:
        [
            5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 20,            // 00:00–06:00
            80, 100, 100, 80, 60, 40,                       // 06:00–09:00
            15, 15, 15, 15, 15, 15,                         // 09:00–12:00
            15, 15, 15, 15, 15, 15, 15, 15,                 // 12:00–16:00
            40, 60, 80, 90, 90, 85, 80, 70,                 // 16:00–20:00
            60, 50, 40, 30, 15, 10, 5, 5,                   // 20:00–24:00
        ]);
}
