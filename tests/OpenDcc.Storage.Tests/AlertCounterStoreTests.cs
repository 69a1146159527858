using OpenDcc.Core.Identifiers;

namespace OpenDcc.Storage.Tests;

/// <summary>The counter of the last alert taken from each device (what its next alert must exceed), on every engine.</summary>
public abstract class AlertCounterStoreTests(IStoreEngine engine) : StoreTests(engine)
{
    private static readonly Eui64 Meter = Eui64.Parse("00-DB-12-34-56-78-90-A0");
    private static readonly Eui64 GasMeter = Eui64.Parse("00-DB-12-34-56-78-90-A1");

    [Fact]
    public async Task An_alert_counter_is_taken_only_above_the_last_taken_from_its_device()
    {
        Assert.True(await Store.AlertCounters.TryTakeAsync(Meter, 10));
        Assert.False(await Store.AlertCounters.TryTakeAsync(Meter, 10));
        Assert.False(await Store.AlertCounters.TryTakeAsync(Meter, 9));
        Assert.True(await Store.AlertCounters.TryTakeAsync(Meter, 11));
        // Per device: another device's counters are its own.
        Assert.True(await Store.AlertCounters.TryTakeAsync(GasMeter, 5));
        Assert.False(await Store.AlertCounters.TryTakeAsync(Meter, 11));
    }

    [Fact]
    public async Task Alert_counters_beyond_a_signed_64_bit_integer_compare_as_numbers()
    {
        Assert.True(await Store.AlertCounters.TryTakeAsync(Meter, 9_999));
        Assert.True(await Store.AlertCounters.TryTakeAsync(Meter, ulong.MaxValue - 1));
        Assert.False(await Store.AlertCounters.TryTakeAsync(Meter, 10_000));
        Assert.True(await Store.AlertCounters.TryTakeAsync(Meter, ulong.MaxValue));
    }

    [Fact]
    public async Task Of_copies_of_one_alert_taken_at_once_one_is_taken()
    {
        var taken = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(() => Store.AlertCounters.TryTakeAsync(Meter, 42))));

        Assert.Equal(1, taken.Count(t => t));
    }
}

public sealed class SqliteAlertCounterStoreTests() : AlertCounterStoreTests(new SqliteEngine());

public sealed class PostgresAlertCounterStoreTests() : AlertCounterStoreTests(new PostgresEngine());
