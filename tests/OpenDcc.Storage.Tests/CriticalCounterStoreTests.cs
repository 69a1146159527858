using OpenDcc.Core.Identifiers;

namespace OpenDcc.Storage.Tests;

/// <summary>The last critical command counter of each user and device (what a critical command must exceed), on every engine.</summary>
public abstract class CriticalCounterStoreTests(IStoreEngine engine) : StoreTests(engine)
{
    private static readonly Eui64 Supplier = Eui64.Parse("90-B3-D5-1F-30-01-00-00");
    private static readonly Eui64 Meter = Eui64.Parse("00-DB-12-34-56-78-90-A0");
    private static readonly Eui64 GasMeter = Eui64.Parse("00-DB-12-34-56-78-90-A1");

    private static RequestId Request(ulong counter) => new(Supplier, Meter, counter);

    [Fact]
    public async Task A_counter_is_claimed_only_above_the_last_or_again_by_the_request_that_claimed_it()
    {
        Assert.True(await Store.CriticalCounters.TryClaimAsync(Supplier, Meter, 10, Request(100)));
        Assert.True(await Store.CriticalCounters.TryClaimAsync(Supplier, Meter, 10, Request(100)));
        Assert.False(await Store.CriticalCounters.TryClaimAsync(Supplier, Meter, 10, Request(101)));
        Assert.False(await Store.CriticalCounters.TryClaimAsync(Supplier, Meter, 9, Request(102)));
        Assert.True(await Store.CriticalCounters.TryClaimAsync(Supplier, Meter, 11, Request(103)));
        Assert.False(await Store.CriticalCounters.TryClaimAsync(Supplier, Meter, 10, Request(100)));
        // Per device: another device's counters are its own.
        Assert.True(await Store.CriticalCounters.TryClaimAsync(Supplier, GasMeter, 5, Request(104)));
    }

    [Fact]
    public async Task Counters_beyond_a_signed_64_bit_integer_compare_as_numbers()
    {
        Assert.True(await Store.CriticalCounters.TryClaimAsync(Supplier, Meter, 9_999, Request(1)));
        Assert.True(await Store.CriticalCounters.TryClaimAsync(Supplier, Meter, ulong.MaxValue - 1, Request(2)));
        Assert.False(await Store.CriticalCounters.TryClaimAsync(Supplier, Meter, 10_000, Request(3)));
        Assert.True(await Store.CriticalCounters.TryClaimAsync(Supplier, Meter, ulong.MaxValue, Request(4)));
    }
}

public sealed class SqliteCriticalCounterStoreTests() : CriticalCounterStoreTests(new SqliteEngine());

public sealed class PostgresCriticalCounterStoreTests() : CriticalCounterStoreTests(new PostgresEngine());
