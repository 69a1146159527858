using NodaTime;

namespace OpenDcc.Core.Translation;

/// <summary>
/// The bound below which lies every ACB counter OpenDcc has put on a command (<see cref="AcbCounters"/>), kept in the
/// store: raised before a counter above it is used, never lowered.
/// </summary>
public interface IAcbCounterStore
{
    /// <summary>The bound reserved so far; 0 when none was.</summary>
    Task<ulong> ReadReservedAsync(CancellationToken cancellationToken = default);

    /// <summary>Raises the bound to <paramref name="through"/> where it is lower (it is never lowered); the bound now held.</summary>
    Task<ulong> ReserveThroughAsync(ulong through, CancellationToken cancellationToken = default);
}

/// <summary>
/// The ACB counters (GBCS originator counters) OpenDcc puts on the commands it sends devices, each of which a device
/// takes only above the last it saw: each one above the last given, above the clock in microseconds, and above every
/// counter given out before over the same store, whatever the clock says now (stepped back by NTP, or a standby host's
/// running behind). Before a counter above the bound reserved in the store is used, the bound is raised a minute of
/// counters ahead (<see cref="ReserveAhead"/>), and a hub starts above the bound it finds: one write a minute of
/// commands, not one per command. One hub gives them out at a time, as the store's lease ensures.
/// </summary>
public sealed class AcbCounters(IAcbCounterStore store, IClock clock) : IDisposable
{
    /// <summary>How far ahead of the counter in use the bound is reserved: a minute of microseconds.</summary>
    public const ulong ReserveAhead = 60_000_000;

    private readonly SemaphoreSlim gate = new(1, 1);
    private ulong last;
    private ulong reserved;
    private bool started;

    /// <exception cref="Exception">the store could not raise the bound (away): no counter is given.</exception>
    public async Task<ulong> NextAsync(CancellationToken cancellationToken = default)
    {
        await gate.WaitAsync(cancellationToken);
        try
        {
            if (!started)
            {
                // Every counter an earlier run gave out lies at or below it.
                last = reserved = await store.ReadReservedAsync(cancellationToken);
                started = true;
            }
            var next = Math.Max(last + 1, (ulong)(clock.GetCurrentInstant().ToUnixTimeTicks() / (NodaConstants.TicksPerMillisecond / 1000)));
            if (next > reserved)
            {
                reserved = await store.ReserveThroughAsync(next + ReserveAhead, cancellationToken);
            }
            return last = next;
        }
        finally
        {
            gate.Release();
        }
    }

    public void Dispose() => gate.Dispose();
}
