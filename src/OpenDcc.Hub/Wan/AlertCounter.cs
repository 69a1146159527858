using NodaTime;

namespace OpenDcc.Hub.Wan;

/// <summary>
/// The counter of the ResponseIDs of alerts (device alerts and DCC alerts): it only rises, and is at least the clock in
/// microseconds so a restart does not go back.
/// </summary>
internal sealed class AlertCounter
{
    private long counter;

    public ulong Next(Instant now)
    {
        long current, next;
        do
        {
            current = Volatile.Read(ref counter);
            next = Math.Max(current + 1, now.ToUnixTimeTicks() / 10);
        }
        while (Interlocked.CompareExchange(ref counter, next, current) != current);
        return (ulong)next;
    }
}
