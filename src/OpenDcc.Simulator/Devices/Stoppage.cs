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
        var covered = Duration.Zero;
        foreach (var run in Merged(clipped))
        {
            covered += run.End - run.Start;
        }
        return whole - covered;
    }

    public bool Covers(Instant instant) => Start <= instant && instant < End;

    /// <summary>The stoppages as runs, in time order: those that overlap or touch are one run. Sorts <paramref name="stoppages"/>.</summary>
    public static List<Stoppage> Merged(List<Stoppage> stoppages)
    {
        stoppages.Sort(static (a, b) => a.Start.CompareTo(b.Start));
        var runs = new List<Stoppage>(stoppages.Count);
        foreach (var s in stoppages)
        {
            if (runs.Count > 0 && s.Start <= runs[^1].End)
            {
                if (s.End > runs[^1].End)
                {
                    runs[^1] = runs[^1] with { End = s.End };
                }
            }
            else
            {
                runs.Add(s);
            }
        }
        return runs;
    }

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
