using OpenDcc.Core.Identifiers;

namespace OpenDcc.Storage.Tests;

public abstract class ReplayCounterStoreTests(IStoreEngine engine) : IAsyncLifetime
{
    private static readonly Eui64 Supplier = Eui64.Parse("90-B3-D5-1F-30-01-00-00");
    private OpenDccStore store = null!;

    public async Task InitializeAsync() => store = await engine.OpenAsync();

    public async Task DisposeAsync()
    {
        await store.DisposeAsync();
        await engine.DisposeAsync();
    }

    [Fact]
    public async Task An_originator_never_seen_has_no_counter()
    {
        Assert.Null(await store.ReplayCounters.ReadAsync(Supplier));
    }

    [Fact]
    public async Task The_counter_only_ever_rises_and_survives_reopening()
    {
        await store.ReplayCounters.AdvanceAsync(Supplier, 1000);
        await store.ReplayCounters.AdvanceAsync(Supplier, 999);
        Assert.Equal(1000UL, await store.ReplayCounters.ReadAsync(Supplier));
        await store.ReplayCounters.AdvanceAsync(Supplier, ulong.MaxValue);
        await store.ReplayCounters.AdvanceAsync(Supplier, 9_223_372_036_854_775_808UL);

        await store.DisposeAsync();
        store = await engine.OpenAsync();
        Assert.Equal(ulong.MaxValue, await store.ReplayCounters.ReadAsync(Supplier));
    }

    [Fact]
    public async Task Concurrent_advances_keep_the_highest()
    {
        await Task.WhenAll(Enumerable.Range(1, 50).Select(i => store.ReplayCounters.AdvanceAsync(Supplier, (ulong)i * 7919 % 1000)));
        Assert.Equal(Enumerable.Range(1, 50).Max(i => (ulong)i * 7919 % 1000), await store.ReplayCounters.ReadAsync(Supplier));
    }
}

public sealed class SqliteReplayCounterStoreTests() : ReplayCounterStoreTests(new SqliteEngine());

public sealed class PostgresReplayCounterStoreTests() : ReplayCounterStoreTests(new PostgresEngine());
