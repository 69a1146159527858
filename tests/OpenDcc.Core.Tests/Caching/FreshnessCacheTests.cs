using Microsoft.Extensions.Time.Testing;
using NodaTime;
using NodaTime.Testing;
using OpenDcc.Core.Caching;

namespace OpenDcc.Core.Tests.Caching;

public class FreshnessCacheTests
{
    private static readonly Duration FreshFor = Duration.FromSeconds(1);

    private readonly FakeClock clock = new(Instant.FromUtc(2026, 11, 29, 9, 0));
    private readonly FakeTimeProvider timers = new();

    private FreshnessCache<int, string> NewCache() => new(clock, FreshFor, timers);

    /// <summary>Moves the clock and the timers on together, firing whatever sweep falls due.</summary>
    private void Pass(Duration time)
    {
        clock.Advance(time);
        timers.Advance(time.ToTimeSpan());
    }

    private static Task<string?> Read(int key, CancellationToken _) => Task.FromResult<string?>(key.ToString(System.Globalization.CultureInfo.InvariantCulture));

    [Fact]
    public async Task Under_steady_reads_only_about_the_last_two_freshness_periods_are_held()
    {
        var cache = NewCache();
        for (var i = 0; i < 50_000; i++)
        {
            await cache.GetOrReadAsync(i, Read, CancellationToken.None);
            if (i % 1000 == 999)
            {
                Pass(Duration.FromMilliseconds(500));
            }
        }

        // Fifty thousand values were read, two thousand a second. Held: the fresh ones (read within the last second)
        // and the stale ones the next sweep, at most a second away, will take: never more than two seconds' reads.
        Assert.InRange(cache.Count, 1000, 4000);
    }

    [Fact]
    public async Task An_idle_cache_lets_everything_go_once_it_is_stale_without_another_read()
    {
        var cache = NewCache();
        for (var i = 0; i < 100; i++)
        {
            await cache.GetOrReadAsync(i, Read, CancellationToken.None);
        }
        Pass(Duration.FromMilliseconds(500));
        await cache.GetOrReadAsync(1000, Read, CancellationToken.None);
        Assert.Equal(101, cache.Count);

        // The first sweep takes the hundred stale values and keeps the one read half a second later; the sweep after
        // it takes that one too.
        Pass(Duration.FromMilliseconds(500));
        Assert.Equal(1, cache.Count);
        Pass(Duration.FromSeconds(1));
        Assert.Equal(0, cache.Count);

        // Emptied, the cache sweeps again only once something is read.
        await cache.GetOrReadAsync(7, Read, CancellationToken.None);
        Pass(FreshFor);
        Assert.Equal(0, cache.Count);
    }

    [Fact]
    public async Task A_fresh_value_is_used_and_a_stale_one_read_again()
    {
        var reads = 0;
        var cache = NewCache();
        Task<string?> Counted(int key, CancellationToken _)
        {
            reads++;
            return Task.FromResult<string?>($"v{reads}");
        }

        Assert.Equal("v1", await cache.GetOrReadAsync(7, Counted, CancellationToken.None));
        Pass(Duration.FromMilliseconds(999));
        Assert.Equal("v1", await cache.GetOrReadAsync(7, Counted, CancellationToken.None));
        Pass(Duration.FromMilliseconds(1));
        Assert.Equal("v2", await cache.GetOrReadAsync(7, Counted, CancellationToken.None));
    }

    [Fact]
    public async Task A_value_read_while_its_key_is_forgotten_is_not_kept_so_the_change_is_read_next_time()
    {
        var cache = NewCache();
        var reads = 0;
        var stale = new TaskCompletionSource<string?>();
        Task<string?> Slow(int key, CancellationToken _) => ++reads == 1 ? stale.Task : Task.FromResult<string?>("changed");

        // The read starts before the change is committed and ends after it was forgotten.
        var first = cache.GetOrReadAsync(7, Slow, CancellationToken.None);
        cache.Forget(7);
        stale.SetResult("before the change");

        Assert.Equal("before the change", await first);
        Assert.Equal("changed", await cache.GetOrReadAsync(7, Slow, CancellationToken.None));
        Assert.Equal(2, reads);
    }

    [Fact]
    public async Task An_absent_value_is_never_kept()
    {
        var cache = NewCache();
        Assert.Null(await cache.GetOrReadAsync(7, (_, _) => Task.FromResult<string?>(null), CancellationToken.None));
        Assert.Equal(0, cache.Count);
        Assert.Equal("7", await cache.GetOrReadAsync(7, Read, CancellationToken.None));
    }

    [Fact]
    public async Task A_value_read_before_the_clock_stepped_back_is_read_again_not_used_until_the_clock_catches_up()
    {
        var reads = 0;
        var cache = NewCache();
        Task<string?> Counted(int key, CancellationToken _)
        {
            reads++;
            return Task.FromResult<string?>($"v{reads}");
        }
        Assert.Equal("v1", await cache.GetOrReadAsync(7, Counted, CancellationToken.None));

        // The system clock set back an hour (NTP, an operator): the value's age is unknown, so it is read again.
        clock.Reset(clock.GetCurrentInstant() - Duration.FromHours(1));

        Assert.Equal("v2", await cache.GetOrReadAsync(7, Counted, CancellationToken.None));
        Assert.Equal("v2", await cache.GetOrReadAsync(7, Counted, CancellationToken.None));
    }

    [Fact]
    public async Task Values_read_before_the_clock_stepped_back_are_swept_without_waiting_for_the_clock_to_catch_up()
    {
        var cache = NewCache();
        for (var i = 0; i < 100; i++)
        {
            await cache.GetOrReadAsync(i, Read, CancellationToken.None);
        }
        clock.Reset(clock.GetCurrentInstant() - Duration.FromHours(1));

        Pass(FreshFor);

        Assert.Equal(0, cache.Count);
    }
}
