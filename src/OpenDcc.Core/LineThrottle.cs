using NodaTime;

namespace OpenDcc.Core;

/// <summary>
/// One log line at most every interval for an event that may recur many times a second (a dead endpoint's messages
/// failing, requests refused on a full disk): the events in between are counted, and the next line says how many, or
/// <see cref="TakeUnsaid"/> hands the count to a line of its own. Thread-safe.
/// </summary>
public sealed class LineThrottle(Duration interval)
{
    private readonly Lock gate = new();
    private Instant? saidAt;
    private int unsaid;

    /// <summary>When the next line may be written; null before the first.</summary>
    public Instant? NextLineDue
    {
        get
        {
            lock (gate)
            {
                return saidAt + interval;
            }
        }
    }

    /// <summary>An event at <paramref name="now"/>.</summary>
    /// <param name="unsaid">When a line is due: how many events went unsaid before this one. Otherwise: how many are counted now, this one included.</param>
    /// <returns>True when a line is due now, false when the event is only counted.</returns>
    public bool Occurred(Instant now, out int unsaid)
    {
        lock (gate)
        {
            if (saidAt is { } said && now - said < interval)
            {
                unsaid = ++this.unsaid;
                return false;
            }
            (unsaid, saidAt, this.unsaid) = (this.unsaid, now, 0);
            return true;
        }
    }

    /// <summary>The events counted and not yet said, which the caller says now in a line of its own; 0 when there are none.</summary>
    public int TakeUnsaid(Instant now)
    {
        lock (gate)
        {
            var taken = unsaid;
            if (taken > 0)
            {
                (unsaid, saidAt) = (0, now);
            }
            return taken;
        }
    }
}
