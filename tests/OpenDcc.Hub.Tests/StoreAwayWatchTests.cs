using Microsoft.Extensions.Logging.Testing;
using NodaTime;
using NodaTime.Testing;

namespace OpenDcc.Hub.Tests;

/// <summary>A full disk refuses every request: the hub's log says so a line an interval, with how many, not a line each.</summary>
public sealed class StoreAwayWatchTests
{
    [Fact]
    public async Task Refusals_are_logged_a_line_an_interval_with_how_many_and_the_last_ones_once_it_ends_though_none_follow()
    {
        var clock = new FakeClock(Instant.FromUtc(2026, 11, 30, 9, 0));
        var logger = new FakeLogger<StoreAwayWatch>();
        using var watch = new StoreAwayWatch(clock, logger, Duration.FromMilliseconds(300));
        var full = new InvalidOperationException("SQLite Error 13: 'database or disk is full'.");

        watch.Refused(full);
        watch.Refused(full);
        watch.Refused(full);

        Assert.Equal(1, logger.Collector.Count);
        Assert.Contains("database or disk is full", logger.LatestRecord.Message, StringComparison.Ordinal);
        Assert.Contains("a request was refused 0 s ago", watch.Lately(), StringComparison.Ordinal);
        // Nothing follows: the two not yet said are said when the interval ends.
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (logger.Collector.Count < 2 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }
        Assert.Equal(2, logger.Collector.Count);
        Assert.StartsWith("2 more requests answered 503 since the last such line", logger.LatestRecord.Message, StringComparison.Ordinal);

        clock.Advance(Duration.FromSeconds(1));
        Assert.Null(watch.Lately());
        watch.Refused(full);
        Assert.Equal(3, logger.Collector.Count);
    }
}
