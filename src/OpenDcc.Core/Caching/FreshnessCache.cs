using System.Collections.Concurrent;
using NodaTime;

namespace OpenDcc.Core.Caching;

/// <summary>
/// Values read from a store, each used for at most <paramref name="freshFor"/> after it was read; absent values are
/// never kept, so something added elsewhere is found on the next read. Stale values are swept out as new ones come
/// in, so the cache holds about what was read within the last <paramref name="freshFor"/>, not everything ever read:
/// a device or user not asked about lately costs nothing.
/// </summary>
public sealed class FreshnessCache<TKey, TValue>(IClock clock, Duration freshFor)
    where TKey : notnull
    where TValue : class
{
    // A sweep after this many reads from the store, or when the cache has doubled since the last sweep, whichever
    // comes first: amortised O(1) per read, and never more than twice what is fresh plus one sweep's worth.
    private const int ReadsPerSweep = 4096;

    private readonly ConcurrentDictionary<TKey, (TValue Value, Instant Read)> entries = new();
    private int readsSinceSweep;
    private int countAfterSweep;

    /// <summary>How many values are held, fresh or not yet swept.</summary>
    public int Count => entries.Count;

    public async Task<TValue?> GetOrReadAsync(TKey key, Func<TKey, CancellationToken, Task<TValue?>> read, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(read);
        var now = clock.GetCurrentInstant();
        if (entries.TryGetValue(key, out var cached) && now - cached.Read < freshFor)
        {
            return cached.Value;
        }
        var value = await read(key, cancellationToken);
        if (value is null)
        {
            entries.TryRemove(key, out _);
        }
        else
        {
            entries[key] = (value, now);
        }
        if (Interlocked.Increment(ref readsSinceSweep) >= ReadsPerSweep || entries.Count > 2 * Math.Max(countAfterSweep, ReadsPerSweep / 4))
        {
            Sweep(now);
        }
        return value;
    }

    /// <summary>Drops every value read <paramref name="freshFor"/> or more before <paramref name="now"/>.</summary>
    private void Sweep(Instant now)
    {
        Interlocked.Exchange(ref readsSinceSweep, 0);
        foreach (var (key, entry) in entries)
        {
            if (now - entry.Read >= freshFor)
            {
                // Only that entry: one read again meanwhile is fresh and stays.
                entries.TryRemove(new KeyValuePair<TKey, (TValue, Instant)>(key, entry));
            }
        }
        countAfterSweep = entries.Count;
    }

    /// <summary>Forgets a key, after a change made through the store.</summary>
    public void Forget(TKey key) => entries.TryRemove(key, out _);
}
