using NodaTime;

namespace OpenDcc.Simulator.Devices;

/// <summary>A span in which a meter records no consumption (supply off, or a power outage); open-ended while <see cref="End"/> is <see cref="Instant.MaxValue"/>.</summary>
internal readonly record struct Stoppage(Instant Start, Instant End)
{
    public bool IsOpen => End == Instant.MaxValue;

    /// <summary>How much of [<paramref name="from"/>, <paramref name="to"/>) is covered by none of the stoppages.</summary>
    public static Duration Uncovered(Instant from, Instant to, ReadOnlySpan<Stoppage> first, ReadOnlySpan<Stoppage> second)
    {
        if (to <= from)
        {
            return Duration.Zero;
        }
        var whole = to - from;
        if (first.IsEmpty && second.IsEmpty)
        {
            return whole;
        }
        var clipped = new List<Stoppage>(first.Length + second.Length);
        Clip(from, to, first, clipped);
        Clip(from, to, second, clipped);
        if (clipped.Count == 0)
        {
            return whole;
        }
        clipped.Sort(static (a, b) => a.Start.CompareTo(b.Start));
        var covered = Duration.Zero;
        var runStart = clipped[0].Start;
        var runEnd = clipped[0].End;
        for (var i = 1; i < clipped.Count; i++)
        {
            if (clipped[i].Start > runEnd)
            {
                covered += runEnd - runStart;
                runStart = clipped[i].Start;
                runEnd = clipped[i].End;
            }
            else if (clipped[i].End > runEnd)
            {
                runEnd = clipped[i].End;
            }
        }
        covered += runEnd - runStart;
        return whole - covered;
    }

    public bool Covers(Instant instant) => Start <= instant && instant < End;

    private static void Clip(Instant from, Instant to, ReadOnlySpan<Stoppage> stoppages, List<Stoppage> into)
    {
        foreach (var s in stoppages)
        {
            var start = s.Start > from ? s.Start : from;
            var end = s.End < to ? s.End : to;
            if (start < end)
            {
                into.Add(new Stoppage(start, end));
            }
        }
    }
}
