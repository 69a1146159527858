using System.Collections.Concurrent;
using NodaTime;

namespace OpenDcc.Core.Caching;

/// <summary>
/// Values read from a store, each used for at most <paramref name="freshFor"/> after it was read; absent values are
/// never kept, so something added elsewhere is found on the next read.
/// </summary>
public sealed class FreshnessCache<TKey, TValue>(IClock clock, Duration freshFor)
    where TKey : notnull
    where TValue : class
{
    private readonly ConcurrentDictionary<TKey, (TValue Value, Instant Read)> entries = new();

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
        return value;
    }

    /// <summary>Forgets a key, after a change made through the store.</summary>
    public void Forget(TKey key) => entries.TryRemove(key, out _);
}
