using System.Collections.Concurrent;
using NodaTime;

namespace OpenDcc.Core.Caching;

/// <summary>
/// Values read from a store, each used for at most <c>freshFor</c> after it was read; absent values are never kept,
/// so something added elsewhere is found on the next read. While anything is held, stale values are swept out every
/// <c>freshFor</c>, so the cache holds about what was read within the last two <c>freshFor</c>, not everything ever
/// read, and once nothing has been read for that long it holds nothing: a device or user not asked about lately costs
/// nothing, whether the hub is busy or idle.
/// </summary>
public sealed class FreshnessCache<TKey, TValue>
    where TKey : notnull
    where TValue : class
{
    private readonly ConcurrentDictionary<TKey, (TValue Value, Instant Read)> entries = new();
    private readonly IClock clock;
    private readonly Duration freshFor;
    // One-shot, armed while anything is held. Neither an unarmed nor a fired timer keeps the cache alive, so a cache
    // that is let go needs no disposing.
    private readonly ITimer sweeper;
    private int sweepArmed;

    // How many times a key was forgotten: a value read while any key was forgotten is not kept, since the change that
    // made it forgotten may have come after the read (it would be served stale for up to freshFor).
    private long forgets;

    /// <param name="clock">Says how old a value is.</param>
    /// <param name="freshFor">How long a value read is used.</param>
    /// <param name="timers">Runs the sweeps; the system's timers unless a test supplies its own.</param>
    public FreshnessCache(IClock clock, Duration freshFor, TimeProvider? timers = null)
    {
        ArgumentNullException.ThrowIfNull(clock);
        if (freshFor <= Duration.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(freshFor), freshFor, "a value must be fresh for some time");
        }
        this.clock = clock;
        this.freshFor = freshFor;
        sweeper = (timers ?? TimeProvider.System).CreateTimer(static state => ((FreshnessCache<TKey, TValue>)state!).SweepAndRearm(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>How many values are held, fresh or not yet swept.</summary>
    public int Count => entries.Count;

    public async Task<TValue?> GetOrReadAsync(TKey key, Func<TKey, CancellationToken, Task<TValue?>> read, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(read);
        var now = clock.GetCurrentInstant();
        if (entries.TryGetValue(key, out var cached) && IsFresh(cached.Read, now))
        {
            return cached.Value;
        }
        var generation = Interlocked.Read(ref forgets);
        var value = await read(key, cancellationToken);
        if (value is null)
        {
            entries.TryRemove(key, out _);
        }
        else if (Interlocked.Read(ref forgets) == generation)
        {
            entries[key] = (value, now);
            ArmSweep();
        }
        return value;
    }

    /// <summary>Forgets a key, after a change made through the store (or in its transaction): the next lookup reads it again, and a read already under way is not kept.</summary>
    public void Forget(TKey key)
    {
        Interlocked.Increment(ref forgets);
        entries.TryRemove(key, out _);
    }

    /// <summary>
    /// Makes <paramref name="change"/> to a key's value in the store, forgetting the key before and after: a lookup
    /// racing with the change may have cached the old value again.
    /// </summary>
    public async Task<T> ChangeAsync<T>(TKey key, Func<Task<T>> change)
    {
        ArgumentNullException.ThrowIfNull(change);
        Forget(key);
        try
        {
            return await change();
        }
        finally
        {
            Forget(key);
        }
    }

    /// <inheritdoc cref="ChangeAsync{T}(TKey, Func{Task{T}})"/>
    public Task ChangeAsync(TKey key, Func<Task> change)
    {
        ArgumentNullException.ThrowIfNull(change);
        return ChangeAsync(key, async () =>
        {
            await change();
            return true;
        });
    }

    private bool IsFresh(Instant read, Instant now) => Freshness.ReadWithin(read, now, freshFor);

    private void ArmSweep()
    {
        if (Interlocked.CompareExchange(ref sweepArmed, 1, 0) == 0)
        {
            sweeper.Change(freshFor.ToTimeSpan(), Timeout.InfiniteTimeSpan);
        }
    }

    private void SweepAndRearm()
    {
        var now = clock.GetCurrentInstant();
        foreach (var (key, entry) in entries)
        {
            if (!IsFresh(entry.Read, now))
            {
                // Only that entry: one read again meanwhile is fresh and stays.
                entries.TryRemove(new KeyValuePair<TKey, (TValue, Instant)>(key, entry));
            }
        }
        // A value added during the sweep found it armed and left the arming to this; the exchange is a full fence, so
        // either that value is seen below or its own arming sees the sweep disarmed.
        Interlocked.Exchange(ref sweepArmed, 0);
        if (!entries.IsEmpty)
        {
            ArmSweep();
        }
    }
}
