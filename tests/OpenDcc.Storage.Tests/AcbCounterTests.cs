using NodaTime;
using NodaTime.Testing;
using OpenDcc.Core.Translation;

namespace OpenDcc.Storage.Tests;

/// <summary>The ACB counters put on device commands, and the bound kept in the store that they never go back below, on every engine.</summary>
public abstract class AcbCounterTests(IStoreEngine engine) : StoreTests(engine)
{
    private static readonly Instant Now = Instant.FromUtc(2026, 12, 1, 12, 0);

    private static ulong Microseconds(Instant at) => (ulong)(at.ToUnixTimeTicks() / 10);

    [Fact]
    public async Task The_bound_is_raised_never_lowered_and_reads_zero_before_any()
    {
        Assert.Equal(0UL, await Store.AcbCounters.ReadReservedAsync());
        Assert.Equal(100UL, await Store.AcbCounters.ReserveThroughAsync(100));
        Assert.Equal(100UL, await Store.AcbCounters.ReserveThroughAsync(50));
        Assert.Equal(ulong.MaxValue, await Store.AcbCounters.ReserveThroughAsync(ulong.MaxValue));
        Assert.Equal(ulong.MaxValue, await Store.AcbCounters.ReadReservedAsync());
    }

    [Fact]
    public async Task Counters_follow_the_clock_in_microseconds_and_the_bound_is_written_a_minute_ahead_not_per_counter()
    {
        var clock = new FakeClock(Now);
        using var counters = new AcbCounters(Store.AcbCounters, clock);

        Assert.Equal(Microseconds(Now), await counters.NextAsync());
        Assert.Equal(Microseconds(Now) + 1, await counters.NextAsync());
        var reserved = await Store.AcbCounters.ReadReservedAsync();
        Assert.Equal(Microseconds(Now) + AcbCounters.ReserveAhead, reserved);
        clock.Advance(Duration.FromSeconds(30));
        Assert.Equal(Microseconds(Now + Duration.FromSeconds(30)), await counters.NextAsync());
        Assert.Equal(reserved, await Store.AcbCounters.ReadReservedAsync());
        clock.Advance(Duration.FromSeconds(31));
        Assert.Equal(Microseconds(Now + Duration.FromSeconds(61)), await counters.NextAsync());
        Assert.Equal(Microseconds(Now + Duration.FromSeconds(61)) + AcbCounters.ReserveAhead, await Store.AcbCounters.ReadReservedAsync());
    }

    [Fact]
    public async Task A_hub_started_again_with_its_clock_stepped_back_goes_on_above_every_counter_given_before()
    {
        var clock = new FakeClock(Now);
        ulong highest;
        using (var before = new AcbCounters(Store.AcbCounters, clock))
        {
            for (var i = 0; i < 10; i++)
            {
                await before.NextAsync();
                clock.Advance(Duration.FromSeconds(20));
            }
            highest = await before.NextAsync();
        }

        // NTP steps the clock back an hour, or a standby host runs behind: the new run starts above the bound.
        clock.Reset(Now - Duration.FromHours(1));
        using var after = new AcbCounters(Store.AcbCounters, clock);
        var next = await after.NextAsync();

        Assert.True(next > highest, $"{next} is not above {highest}, given before the restart");
        Assert.True(await after.NextAsync() > next);
    }

    [Fact]
    public async Task Counters_asked_for_at_once_are_all_different()
    {
        using var counters = new AcbCounters(Store.AcbCounters, new FakeClock(Now));

        var given = await Task.WhenAll(Enumerable.Range(0, 500).Select(_ => Task.Run(() => counters.NextAsync())));

        Assert.Equal(500, given.Distinct().Count());
        Assert.True(await Store.AcbCounters.ReadReservedAsync() >= given.Max());
    }
}

public sealed class SqliteAcbCounterTests() : AcbCounterTests(new SqliteEngine());

public sealed class PostgresAcbCounterTests() : AcbCounterTests(new PostgresEngine());
