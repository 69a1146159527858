using NodaTime;
using NodaTime.Testing;
using OpenDcc.Core.Caching;

namespace OpenDcc.Core.Tests.Caching;

public class FreshnessCacheTests
{
    private readonly FakeClock clock = new(Instant.FromUtc(2026, 11, 29, 9, 0));

    [Fact]
    public async Task Values_not_read_lately_are_swept_out_as_new_ones_come_in()
    {
        var cache = new FreshnessCache<int, string>(clock, Duration.FromSeconds(1));
        for (var i = 0; i < 50_000; i++)
        {
            await cache.GetOrReadAsync(i, (k, _) => Task.FromResult<string?>(k.ToString(System.Globalization.CultureInfo.InvariantCulture)), CancellationToken.None);
            if (i % 1000 == 999)
            {
                clock.Advance(Duration.FromSeconds(1));
            }
        }

        // Fifty thousand values were read, a thousand a second; only about the last second's stay.
        Assert.InRange(cache.Count, 1, 8192);
    }

    [Fact]
    public async Task A_fresh_value_is_used_and_a_stale_one_read_again()
    {
        var reads = 0;
        var cache = new FreshnessCache<int, string>(clock, Duration.FromSeconds(1));
        Task<string?> Read(int key, CancellationToken _)
        {
            reads++;
            return Task.FromResult<string?>($"v{reads}");
        }

        Assert.Equal("v1", await cache.GetOrReadAsync(7, Read, CancellationToken.None));
        clock.Advance(Duration.FromMilliseconds(999));
        Assert.Equal("v1", await cache.GetOrReadAsync(7, Read, CancellationToken.None));
        clock.Advance(Duration.FromMilliseconds(1));
        Assert.Equal("v2", await cache.GetOrReadAsync(7, Read, CancellationToken.None));
    }
}
