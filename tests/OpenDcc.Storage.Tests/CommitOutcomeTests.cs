using System.Data.Common;
using NodaTime;
using OpenDcc.Core;
using OpenDcc.Core.Delivery;
using OpenDcc.Core.Duis;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Security;
using OpenDcc.Storage.Postgres;
using OpenDcc.Storage.Sqlite;

namespace OpenDcc.Storage.Tests;

/// <summary>
/// A commit whose answer is lost (PostgreSQL restarting as it commits) may have been made or not: the log reads its
/// head again to tell, so a request it committed is not taken for one it did not (and given back its counter), and a
/// message it queued with a device command's answer is not queued twice.
/// </summary>
public abstract class CommitOutcomeTests(IStoreEngine engine) : StoreTests(engine)
{
    private static readonly Eui64 Supplier = Eui64.Parse("90-B3-D5-1F-30-01-00-00");
    private static readonly Instant Monday = Instant.FromUtc(2026, 11, 30, 9, 0);

    /// <summary>The engine's message log over <paramref name="open"/>, committing with <paramref name="commit"/>.</summary>
    protected abstract IMessageLog LogWith(Func<CancellationToken, Task<DbConnection>> open, Func<DbTransaction, CancellationToken, Task> commit, TimeSpan outcomeWait);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_device_answer_queued_by_an_append_whose_commit_answer_was_lost_is_queued_once_or_not_at_all(bool made)
    {
        var log = LogWith(Store.OpenConnectionAsync, async (transaction, ct) =>
        {
            await (made ? transaction.CommitAsync(ct) : transaction.RollbackAsync(ct));
            throw new TimeoutException("the commit's answer was lost");
        }, TimeSpan.FromSeconds(5));
        var answers = new CommandKey(new RequestId(Supplier, Eui64.Parse("00-DB-12-34-56-78-90-A0"), 7), Eui64.Parse("00-DB-12-34-56-78-90-A0"));
        var destination = new Uri("http://127.0.0.1:9/duis");
        var handedOver = new MessageLogRecord(Monday, MessageDirection.Outbound, Supplier, answers.RequestId.ToString(), $"I0 queued for delivery to {destination}", "<Response/>"u8.ToArray())
        {
            Answers = answers,
            QueuedForDelivery = new QueuedDelivery(destination, "I0"),
        };

        if (made)
        {
            await log.AppendAsync([handedOver]);
            Assert.Equal(answers.RequestId.ToString(), Assert.Single(await Store.Delivery.ListAsync(DeliveryState.Pending)).Correlation);
        }
        else
        {
            // Not made: the store away, so the sender tries again (StoreAway.UntilStoredAsync), and nothing is queued meanwhile.
            Assert.True(StoreAway.Is(await Assert.ThrowsAsync<TimeoutException>(() => log.AppendAsync([handedOver]))));
            Assert.Empty(await Store.Delivery.ListAsync(DeliveryState.Pending));
        }
    }

    [Fact]
    public async Task A_commit_made_whose_answer_was_lost_is_an_append_made()
    {
        var log = LogWith(Store.OpenConnectionAsync, async (transaction, ct) =>
        {
            await transaction.CommitAsync(ct);
            throw new TimeoutException("the commit's answer was lost");
        }, TimeSpan.FromSeconds(5));

        var entries = await log.AppendAsync([Accepted(7)]);

        Assert.Equal(1, Assert.Single(entries).Sequence);
        var head = (await Store.MessageLog.ReadHeadAsync())!.Value;
        Assert.Equal(1, head.Sequence);
        Assert.Equal(entries[0].Hash, head.Hash);
        Assert.Equal(7UL, (await Store.ReplayCounters.ReadAsync(Supplier))!.Last);
    }

    [Fact]
    public async Task A_commit_not_made_fails_with_the_store_away_and_keeps_nothing()
    {
        var log = LogWith(Store.OpenConnectionAsync, async (transaction, ct) =>
        {
            await transaction.RollbackAsync(ct);
            throw new TimeoutException("the server went away before it committed");
        }, TimeSpan.FromSeconds(5));
        await Store.MessageLog.AppendAsync([Accepted(3)]);

        var failed = await Assert.ThrowsAsync<TimeoutException>(() => log.AppendAsync([Accepted(7)]));

        Assert.True(StoreAway.Is(failed));
        Assert.False(CommitOutcomeUnknownException.In(failed));
        Assert.Equal(1, (await Store.MessageLog.ReadHeadAsync())!.Value.Sequence);
        Assert.Equal(3UL, (await Store.ReplayCounters.ReadAsync(Supplier))!.Last);
    }

    [Fact]
    public async Task A_commit_whose_outcome_the_store_does_not_come_back_to_tell_fails_as_not_known()
    {
        var away = false;
        var log = LogWith(
            async ct => away ? throw new TimeoutException("the store is still away") : await Store.OpenConnectionAsync(ct),
            async (transaction, ct) =>
            {
                await transaction.CommitAsync(ct);
                away = true;
                throw new TimeoutException("the commit's answer was lost");
            },
            TimeSpan.FromSeconds(1));

        var failed = await Assert.ThrowsAsync<CommitOutcomeUnknownException>(() => log.AppendAsync([Accepted(7)]));

        // Still a fault of the store being away (HTTP 503), but not one after which the request may be taken as not done.
        Assert.True(StoreAway.Is(failed));
        Assert.Equal(1, (await Store.MessageLog.ReadHeadAsync())!.Value.Sequence);
    }

    private static MessageLogRecord Accepted(ulong counter) =>
        new(Monday, MessageDirection.Inbound, Supplier, $"{Supplier}:00-DB-12-34-56-78-90-A0:{counter}", "I99", "<Request/>"u8.ToArray()) { AcceptedCounter = counter };
}

public sealed class SqliteCommitOutcomeTests() : CommitOutcomeTests(new SqliteEngine())
{
    protected override IMessageLog LogWith(Func<CancellationToken, Task<DbConnection>> open, Func<DbTransaction, CancellationToken, Task> commit, TimeSpan outcomeWait) =>
        new SqliteMessageLog(open, commit, outcomeWait);
}

public sealed class PostgresCommitOutcomeTests() : CommitOutcomeTests(new PostgresEngine())
{
    protected override IMessageLog LogWith(Func<CancellationToken, Task<DbConnection>> open, Func<DbTransaction, CancellationToken, Task> commit, TimeSpan outcomeWait) =>
        new PostgresMessageLog(open, commit, outcomeWait);

    [Fact]
    public async Task A_commit_the_server_is_still_making_when_its_answer_is_lost_is_waited_for_not_read_past()
    {
        // The client gives up on the commit (a timeout) while the server is still making it: it lands a second later.
        // A prepared transaction is one the server holds, locks and all, with the client gone from it; another
        // connection commits it a second later, so the append's own connection is not in use when it is let go.
        var name = "opendcc_late_" + Guid.NewGuid().ToString("N");
        Task? landing = null;
        var log = LogWith(Store.OpenConnectionAsync, async (transaction, ct) =>
        {
            await using (var prepare = transaction.Connection!.Command($"PREPARE TRANSACTION '{name}'", transaction))
            {
                await prepare.ExecuteNonQueryAsync(ct);
            }
            landing = Task.Run(async () =>
            {
                await Task.Delay(TimeSpan.FromSeconds(1), ct);
                await using var other = await Store.OpenConnectionAsync(ct);
                await using var commit = other.Command($"COMMIT PREPARED '{name}'");
                await commit.ExecuteNonQueryAsync(ct);
            }, ct);
            throw new TimeoutException("the commit's answer did not come in time");
        }, TimeSpan.FromSeconds(10));

        try
        {
            var entries = await log.AppendAsync([new MessageLogRecord(Instant.FromUtc(2026, 11, 30, 9, 0), MessageDirection.Inbound, null, "late", "I0", "<Request/>"u8.ToArray())]);

            await landing!;
            Assert.Equal(entries[^1].Sequence, (await Store.MessageLog.ReadHeadAsync())!.Value.Sequence);
        }
        finally
        {
            // A prepared transaction left behind would hold its locks, and the test database, until rolled back.
            await using var connection = await Store.OpenConnectionAsync();
            await using var left = connection.Command($"SELECT count(*) FROM pg_prepared_xacts WHERE gid = '{name}'");
            if ((long)(await left.ExecuteScalarAsync())! > 0)
            {
                await using var rollback = connection.Command($"ROLLBACK PREPARED '{name}'");
                await rollback.ExecuteNonQueryAsync();
            }
        }
    }
}
