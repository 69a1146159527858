using NodaTime;
using OpenDcc.Core.Delivery;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Security;

namespace OpenDcc.Storage.Tests;

/// <summary>
/// The writes an append makes once its entries are written (counters, queue, head) are sent together on PostgreSQL
/// (AppendWrites), each as it comes on SQLite: either way, one the store refuses fails the append, and nothing of it is made.
/// </summary>
public abstract class AppendWritesTests(IStoreEngine engine) : StoreTests(engine)
{
    private static readonly Eui64 Supplier = Eui64.Parse("90-B3-D5-1F-30-01-00-00");
    private static readonly Instant Monday = Instant.FromUtc(2026, 11, 30, 9, 0);

    /// <summary>SQL that makes the store refuse every message put in the delivery queue, and SQL that ends that.</summary>
    protected abstract (string Refuse, string Allow) QueueRefusal { get; }

    [Fact]
    public async Task An_append_whose_queued_message_the_store_refuses_makes_nothing_of_the_append()
    {
        await ExecuteAsync(QueueRefusal.Refuse);
        var request = new MessageLogRecord(Monday, MessageDirection.Inbound, Supplier, $"{Supplier}:00-DB-12-34-56-78-90-A0:5", "I99", "<Request/>"u8.ToArray()) { AcceptedCounter = 5 };
        var destination = new Uri("https://supplier.example/duis/response");
        var handedOver = new MessageLogRecord(Monday, MessageDirection.Outbound, Supplier, $"{Supplier}:00-DB-12-34-56-78-90-A0:4", $"I0 queued for delivery to {destination}", "<Response/>"u8.ToArray())
        {
            QueuedForDelivery = new QueuedDelivery(destination, "I0"),
        };

        var refused = await Assert.ThrowsAnyAsync<System.Data.Common.DbException>(() => Store.MessageLog.AppendAsync([request, handedOver]));

        Assert.Contains("queue refused by the test", refused.Message, StringComparison.Ordinal);
        Assert.Null(await Store.MessageLog.ReadHeadAsync());
        Assert.Empty(await Store.MessageLog.ReadAsync().ToListAsync());
        Assert.Null(await Store.ReplayCounters.ReadAsync(Supplier));
        Assert.Empty(await Store.Delivery.ListAsync(DeliveryState.Pending));

        // Taken once the store takes the message: the request's counter, both entries and the message.
        await ExecuteAsync(QueueRefusal.Allow);
        await Store.MessageLog.AppendAsync([request, handedOver]);
        Assert.Equal(2, (await Store.MessageLog.ReadHeadAsync())?.Sequence);
        Assert.Equal(5UL, (await Store.ReplayCounters.ReadAsync(Supplier))?.Last);
        Assert.Single(await Store.Delivery.ListAsync(DeliveryState.Pending));
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var connection = await Store.OpenConnectionAsync();
        await using var command = connection.Command(sql);
        await command.ExecuteNonQueryAsync();
    }
}

public sealed class SqliteAppendWritesTests() : AppendWritesTests(new SqliteEngine())
{
    protected override (string Refuse, string Allow) QueueRefusal =>
        ("CREATE TRIGGER refuse_queue BEFORE INSERT ON outbound_message BEGIN SELECT RAISE(ABORT, 'queue refused by the test'); END",
         "DROP TRIGGER refuse_queue");
}

public sealed class PostgresAppendWritesTests() : AppendWritesTests(new PostgresEngine())
{
    protected override (string Refuse, string Allow) QueueRefusal =>
        ("CREATE FUNCTION refuse_queue() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'queue refused by the test'; END $$; " +
         "CREATE TRIGGER refuse_queue BEFORE INSERT ON outbound_message FOR EACH ROW EXECUTE FUNCTION refuse_queue()",
         "DROP TRIGGER refuse_queue ON outbound_message");
}
