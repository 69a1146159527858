using NodaTime;

namespace OpenDcc.Core.Caching;

/// <summary>The one rule for every cache of what the store holds: how old a value read from it is.</summary>
public static class Freshness
{
    /// <summary>
    /// Whether something read at <paramref name="read"/> was read within the last <paramref name="period"/>. Read after
    /// now, it was read before the clock stepped back: its age is unknown, so it is not, rather than counting as new until
    /// the clock catches up with its reading (a revocation or suspension made meanwhile would go unseen for as long as the
    /// step).
    /// </summary>
    public static bool ReadWithin(Instant read, Instant now, Duration period) => read <= now && now - read < period;
}
