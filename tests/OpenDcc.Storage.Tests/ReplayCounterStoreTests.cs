using NodaTime;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Security;

namespace OpenDcc.Storage.Tests;

public abstract class ReplayCounterStoreTests(IStoreEngine engine) : StoreTests(engine)
{
    private static readonly Eui64 Supplier = Eui64.Parse("90-B3-D5-1F-30-01-00-00");
    private static readonly Eui64 OtherSupplier = Eui64.Parse("90-B3-D5-1F-30-01-00-01");

    [Fact]
    public async Task An_originator_never_seen_has_no_counter()
    {
        Assert.Null((await Store.ReplayCounters.ReadAsync(Supplier))?.Last);
    }

    [Fact]
    public async Task Logging_an_accepted_request_raises_its_originators_counter_which_only_ever_rises_and_survives_reopening()
    {
        await LogAcceptedAsync(Supplier, 1000);
        await LogAcceptedAsync(Supplier, 999);
        Assert.Equal(1000UL, (await Store.ReplayCounters.ReadAsync(Supplier))?.Last);
        await LogAcceptedAsync(Supplier, ulong.MaxValue);
        await LogAcceptedAsync(Supplier, 9_223_372_036_854_775_808UL);

        await ReopenAsync();
        Assert.Equal(ulong.MaxValue, (await Store.ReplayCounters.ReadAsync(Supplier))?.Last);
        Assert.Null((await Store.ReplayCounters.ReadAsync(OtherSupplier))?.Last);
    }

    [Fact]
    public async Task Records_without_an_accepted_counter_leave_the_counter_alone()
    {
        await LogAcceptedAsync(Supplier, 7);
        // A refused request (replay, bad signature) and a response are logged without a counter.
        await Store.MessageLog.AppendAsync(
        [
            new MessageLogRecord(Instant.FromUnixTimeSeconds(1), MessageDirection.Inbound, Supplier, $"{Supplier}:00-00-00-00-00-00-00-01:8", "E50 Replay", "<Request/>"u8.ToArray()),
            new MessageLogRecord(Instant.FromUnixTimeSeconds(1), MessageDirection.Outbound, Supplier, $"{Supplier}:00-00-00-00-00-00-00-01:8", "E50", "<Response/>"u8.ToArray()),
        ]);
        Assert.Equal(7UL, (await Store.ReplayCounters.ReadAsync(Supplier))?.Last);
    }

    [Fact]
    public async Task Concurrent_appends_keep_the_highest_counter_of_each_originator()
    {
        await Task.WhenAll(Enumerable.Range(1, 50).Select(i => LogAcceptedAsync(i % 2 == 0 ? Supplier : OtherSupplier, (ulong)i * 7919 % 1000)));
        Assert.Equal(Enumerable.Range(1, 50).Where(i => i % 2 == 0).Max(i => (ulong)i * 7919 % 1000), (await Store.ReplayCounters.ReadAsync(Supplier))?.Last);
        Assert.Equal(Enumerable.Range(1, 50).Where(i => i % 2 == 1).Max(i => (ulong)i * 7919 % 1000), (await Store.ReplayCounters.ReadAsync(OtherSupplier))?.Last);
    }

    [Fact]
    public async Task An_accepted_counter_without_a_user_is_refused_and_nothing_is_logged()
    {
        var nameless = new MessageLogRecord(Instant.FromUnixTimeSeconds(1), MessageDirection.Inbound, null, "x", "I99", "<Request/>"u8.ToArray()) { AcceptedCounter = 5 };
        var error = await Assert.ThrowsAsync<ArgumentException>(() => Store.MessageLog.AppendAsync([nameless]));
        Assert.Contains("no user", error.Message, StringComparison.Ordinal);
        Assert.Null(await Store.MessageLog.ReadHeadAsync());
    }

    [Fact]
    public async Task A_transform_stays_open_under_its_counter_until_its_signed_pre_command_or_a_later_request_is_logged()
    {
        var meter = Eui64.Parse("00-00-00-00-00-00-00-01");
        var transform = new OpenTransform(meter, "7.2");
        await LogAcceptedAsync(Supplier, 10, opens: transform);
        await LogAcceptedAsync(OtherSupplier, 10, opens: transform);
        await ReopenAsync();
        Assert.Equal(new ReplayCounter(10, transform), await Store.ReplayCounters.ReadAsync(Supplier));

        // An older counter changes nothing; the Signed Pre-Command under the same counter closes it.
        await LogAcceptedAsync(Supplier, 9);
        Assert.Equal(new ReplayCounter(10, transform), await Store.ReplayCounters.ReadAsync(Supplier));
        await LogAcceptedAsync(Supplier, 10, closes: true);
        Assert.Equal(new ReplayCounter(10), await Store.ReplayCounters.ReadAsync(Supplier));

        // A later request of any kind closes it too; a later Transform opens its own.
        await LogAcceptedAsync(OtherSupplier, 11);
        Assert.Equal(new ReplayCounter(11), await Store.ReplayCounters.ReadAsync(OtherSupplier));
        await LogAcceptedAsync(OtherSupplier, 12, opens: new OpenTransform(meter, "7.1"));
        Assert.Equal(new ReplayCounter(12, new OpenTransform(meter, "7.1")), await Store.ReplayCounters.ReadAsync(OtherSupplier));
    }

    [Fact]
    public async Task A_logged_reset_lowers_only_its_users_counter_closes_its_transform_and_never_raises_it()
    {
        await LogAcceptedAsync(Supplier, ulong.MaxValue, opens: new OpenTransform(Eui64.Parse("00-00-00-00-00-00-00-01"), "7.2"));
        await LogAcceptedAsync(OtherSupplier, 50);

        await LogResetAsync(Supplier, 1000);
        await LogResetAsync(OtherSupplier, 60);

        Assert.Equal(new ReplayCounter(1000), await Store.ReplayCounters.ReadAsync(Supplier));
        Assert.Equal(new ReplayCounter(50), await Store.ReplayCounters.ReadAsync(OtherSupplier));
        await LogAcceptedAsync(Supplier, 1001);
        Assert.Equal(new ReplayCounter(1001), await Store.ReplayCounters.ReadAsync(Supplier));
    }

    private Task LogResetAsync(Eui64 originator, ulong to) =>
        Store.MessageLog.AppendAsync([new MessageLogRecord(Instant.FromUnixTimeSeconds(2), MessageDirection.Inbound, originator, null, "ReplayCounterReset", ReadOnlyMemory<byte>.Empty) { ResetsCounterTo = to }]);

    private Task LogAcceptedAsync(Eui64 originator, ulong counter, OpenTransform? opens = null, bool closes = false) =>
        Store.MessageLog.AppendAsync(
        [
            new MessageLogRecord(Instant.FromUnixTimeSeconds(1), MessageDirection.Inbound, originator, $"{originator}:00-00-00-00-00-00-00-01:{counter}", "I99", "<Request/>"u8.ToArray()) { AcceptedCounter = counter, OpensTransform = opens, ClosesTransform = closes },
        ]);
}

public sealed class SqliteReplayCounterStoreTests() : ReplayCounterStoreTests(new SqliteEngine());

public sealed class PostgresReplayCounterStoreTests() : ReplayCounterStoreTests(new PostgresEngine());
