using NodaTime;
using Npgsql;
using OpenDcc.Core.Delivery;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Inventory;
using OpenDcc.Core.Security;

namespace OpenDcc.Storage.Tests;

/// <summary>What a store in use does while other work runs on it at the same moment (several nodes, the CLI beside a hub).</summary>
public abstract class ConcurrentUseTests(IStoreEngine engine) : StoreTests(engine)
{
    private static readonly Eui64 Supplier = Eui64.Parse("90-B3-D5-1F-30-01-00-00");
    private static readonly Instant T0 = Instant.FromUtc(2026, 11, 28, 12, 0);

    private static MessageLogRecord Record(int i) =>
        new(T0 + Duration.FromMilliseconds(i), MessageDirection.Inbound, Supplier, "c" + i, "I0", new byte[] { 1, 2, 3 });

    [Fact]
    public async Task Verify_checks_a_log_in_use_as_it_was_when_it_began_and_reports_no_break_for_appends_made_meanwhile()
    {
        for (var i = 0; i < 2000; i++)
        {
            await Store.MessageLog.AppendAsync([Record(i)]);
        }
        using var stop = new CancellationTokenSource();
        var appender = Task.Run(async () =>
        {
            var i = 10_000;
            while (!stop.IsCancellationRequested)
            {
                await Store.MessageLog.AppendAsync([Record(i++)]);
            }
        });
        var faults = new List<string>();
        for (var round = 0; round < 20; round++)
        {
            var result = await MessageLogChain.VerifyAsync(Store.MessageLog);
            if (!result.IsIntact)
            {
                faults.Add($"{result.FirstBrokenSequence}: {result.Fault}");
            }
        }
        await stop.CancelAsync();
        await appender;
        Assert.Empty(faults);
    }

    [Fact]
    public async Task Verify_starts_again_from_the_new_base_when_an_archive_removes_entries_while_it_runs()
    {
        for (var i = 0; i < 30_000; i += 1000)
        {
            await Store.MessageLog.AppendAsync([.. Enumerable.Range(i, 1000).Select(Record)]);
        }
        var faults = new List<string>();
        var removal = Task.Run(async () =>
        {
            for (var through = 2L; through < 29_000; through += 7)
            {
                await Store.MessageLog.RemoveThroughAsync(through);
            }
        });
        while (!removal.IsCompleted)
        {
            var result = await MessageLogChain.VerifyAsync(Store.MessageLog);
            if (!result.IsIntact)
            {
                faults.Add($"{result.FirstBrokenSequence}: {result.Fault}");
            }
        }
        await removal;
        Assert.Empty(faults);
    }
}

public sealed class SqliteConcurrentUseTests() : ConcurrentUseTests(new SqliteEngine());

/// <summary>PostgreSQL, where two transactions run at once (SQLite's writers take turns).</summary>
public sealed class PostgresConcurrentUseTests() : ConcurrentUseTests(new PostgresEngine())
{
    private static readonly Eui64 Supplier = Eui64.Parse("90-B3-D5-1F-30-01-00-00");
    private static readonly Eui64 Meter = Eui64.Parse("00-DB-12-34-56-78-90-A0");
    private static readonly Eui64 Ppmid = Eui64.Parse("00-DB-12-34-56-78-90-C0");
    private static readonly Uri Endpoint = new("https://supplier.example/duis");
    private static readonly Instant T0 = Instant.FromUtc(2026, 11, 28, 12, 0);

    /// <summary>An operator (or the dispatcher) requeues a failed message while the retention purge runs.</summary>
    [Fact]
    public async Task A_failed_message_requeued_while_the_purge_runs_is_not_purged()
    {
        var id = await Store.QueueAsync(Supplier, Endpoint, "r1", [1], T0);
        await Store.SettleFailedAsync(id, "down", T0, null);
        Assert.Equal(DeliveryState.Failed, (await Store.Delivery.FindAsync(id))!.State);

        // The requeue's transaction, as RequeueFailedAsync's UPDATE makes it, not yet committed.
        await using var requeuer = (NpgsqlConnection)await Store.OpenConnectionAsync();
        await using var tx = await requeuer.BeginTransactionAsync();
        await using (var up = new NpgsqlCommand("UPDATE outbound_message SET state = 'Pending', next_attempt_at = 0 WHERE id = @id AND state = 'Failed'", requeuer, tx))
        {
            up.Parameters.AddWithValue("id", id);
            Assert.Equal(1, await up.ExecuteNonQueryAsync());
        }
        var purge = Store.Delivery.PurgeExpiredFailedAsync(T0 + Duration.FromDays(1), 100);
        await Task.Delay(500);
        Assert.False(purge.IsCompleted); // waits on the requeue's row lock
        await tx.CommitAsync();
        var purged = await purge;

        var after = await Store.Delivery.FindAsync(id);
        Assert.Empty(purged);
        Assert.NotNull(after);
        Assert.Equal(DeliveryState.Pending, after!.State);
    }

    /// <summary>A delivered message (a slower node's delivery after a failure was recorded) requeued meanwhile.</summary>
    [Fact]
    public async Task A_message_delivered_while_the_failed_queue_is_requeued_stays_delivered()
    {
        var id = await Store.QueueAsync(Supplier, Endpoint, "r1", [1], T0);
        await Store.SettleFailedAsync(id, "down", T0, null);
        Assert.Equal(DeliveryState.Failed, (await Store.Delivery.FindAsync(id))!.State);
        await using var deliverer = (NpgsqlConnection)await Store.OpenConnectionAsync();
        await using var tx = await deliverer.BeginTransactionAsync();
        await using (var up = new NpgsqlCommand("UPDATE outbound_message SET state = 'Delivered', attempts = attempts + 1, claimed_until = NULL WHERE id = @id", deliverer, tx))
        {
            up.Parameters.AddWithValue("id", id);
            Assert.Equal(1, await up.ExecuteNonQueryAsync());
        }
        var requeue = Store.Delivery.RequeueFailedAsync(null, T0 + Duration.FromMinutes(1));
        await Task.Delay(500);
        await tx.CommitAsync();
        var moved = await requeue;
        Assert.Equal(DeliveryState.Delivered, (await Store.Delivery.FindAsync(id))!.State);
        Assert.Equal(0, moved);
    }

    [Fact]
    public async Task A_device_removed_while_it_is_being_joined_leaves_no_join_to_it_behind()
    {
        await Store.Inventory.AddDevicesAsync([new Device(Meter, DeviceType.ESME, SmiStatus.Commissioned), new Device(Ppmid, DeviceType.PPMID, SmiStatus.Commissioned)]);
        // An 8.4 DeleteDevice's, in the message log's transaction (SqlInventoryStore.ApplyAsync), up to its commit.
        await using var remover = (NpgsqlConnection)await Store.OpenConnectionAsync();
        await using var tx = await remover.BeginTransactionAsync();
        foreach (var sql in new[]
        {
            "SELECT id FROM device WHERE id = @id FOR UPDATE",
            "DELETE FROM device_join WHERE device = @id OR other = @id",
            "DELETE FROM device WHERE id = @id",
        })
        {
            await using var c = new NpgsqlCommand(sql, remover, tx);
            c.Parameters.AddWithValue("id", Ppmid.ToString());
            await c.ExecuteNonQueryAsync();
        }
        var join = Store.Inventory.JoinAsync(Meter, Ppmid);
        await Task.WhenAny(join, Task.Delay(1000));
        await tx.CommitAsync();
        try
        {
            await join;
        }
        catch (UnknownDeviceException)
        {
        }
        Assert.Null(await Store.Inventory.FindDeviceAsync(Ppmid));
        Assert.Empty(await Store.Inventory.FindJoinedAsync(Meter));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_comms_hub_is_not_deleted_while_another_writer_is_adding_or_moving_a_device_to_name_it(bool adding)
    {
        var commsHub = Eui64.Parse("00-DB-12-34-56-78-90-00");
        var hub = new Device(commsHub, DeviceType.CHF, SmiStatus.Pending);
        var change = InventoryChange.ByOperator(T0);
        await Store.Inventory.AddDevicesAsync([hub, new Device(Ppmid, DeviceType.PPMID, SmiStatus.Pending)], change);
        // The writer is held, its device written and not committed, at the status history insert that ends its transaction.
        await using var holder = (NpgsqlConnection)await Store.OpenConnectionAsync();
        await using var held = await holder.BeginTransactionAsync();
        await using (var hold = new NpgsqlCommand("LOCK TABLE smi_status_history IN SHARE MODE", holder, held))
        {
            await hold.ExecuteNonQueryAsync();
        }
        var write = adding
            ? Store.Inventory.AddDevicesAsync([new Device(Meter, DeviceType.ESME, SmiStatus.Pending) { CommsHub = commsHub }], change)
            : Store.Inventory.UpdateDeviceAsync(Ppmid, d => d with { CommsHub = commsHub, Status = SmiStatus.Whitelisted }, change);
        await using (var waiting = new NpgsqlCommand("SELECT COUNT(*) FROM pg_locks WHERE relation = 'smi_status_history'::regclass AND NOT granted", holder, held))
        {
            while ((long)(await waiting.ExecuteScalarAsync())! == 0)
            {
                Assert.False(write.IsCompleted, "the writer did not wait at the history");
                await Task.Delay(20);
            }
        }
        // An 8.4 DeleteDevice of the hub, checked before the device named it.
        var delete = Store.MessageLog.AppendAsync(
        [
            new MessageLogRecord(T0, MessageDirection.Inbound, Supplier, $"{Supplier}:{commsHub}:1", "I0 device deleted", "<Request/>"u8.ToArray())
            {
                ChangesInventory = new InventoryWrite(new InventoryChange(T0, "8.4", Supplier), new DeviceWrite(commsHub, hub, null)),
            },
        ]);
        await Task.WhenAny(delete, Task.Delay(1000));
        await held.CommitAsync();
        await write;

        var refused = await Assert.ThrowsAsync<InventoryChangedException>(() => delete);
        Assert.Equal(commsHub, refused.Id);
        Assert.Equal(hub, await Store.Inventory.FindDeviceAsync(commsHub));
        Assert.Equal(commsHub, (await Store.Inventory.FindDeviceAsync(adding ? Meter : Ppmid))!.CommsHub);
    }

    /// <summary>
    /// The known deadlock: a message log append deleting a comms hub (an 8.4) and changing a device, against a writer
    /// moving that device to name the hub, which locks the device's row and then the hub's, the other order. The other
    /// writer's deadlock_timeout is raised so that the server aborts the append, always; it is made again, once.
    /// </summary>
    [Fact]
    public async Task An_append_the_server_aborts_to_break_a_deadlock_is_made_again_and_logged_once()
    {
        var commsHub = Eui64.Parse("00-DB-12-34-56-78-90-00");
        var hub = new Device(commsHub, DeviceType.CHF, SmiStatus.Pending);
        var ppmid = new Device(Ppmid, DeviceType.PPMID, SmiStatus.Pending);
        await Store.Inventory.AddDevicesAsync([hub, ppmid], InventoryChange.ByOperator(T0));
        await using var namer = (NpgsqlConnection)await Store.OpenConnectionAsync();
        await using var tx = await namer.BeginTransactionAsync();
        await ExecuteAsync(namer, tx, "SET LOCAL deadlock_timeout = '60s'");
        await ExecuteAsync(namer, tx, $"SELECT id FROM device WHERE id = '{Ppmid}' FOR UPDATE");
        var append = Store.MessageLog.AppendAsync(
        [
            new MessageLogRecord(T0, MessageDirection.Inbound, Supplier, $"{Supplier}:{commsHub}:1", "I0 device deleted", "<Request/>"u8.ToArray())
            {
                ChangesInventory = new InventoryWrite(new InventoryChange(T0, "8.4", Supplier), new DeviceWrite(commsHub, hub, null)),
            },
            new MessageLogRecord(T0, MessageDirection.Inbound, Supplier, $"{Supplier}:{Ppmid}:2", "I0 device whitelisted", "<Request/>"u8.ToArray())
            {
                ChangesInventory = new InventoryWrite(new InventoryChange(T0, "12.2", Supplier), new DeviceWrite(Ppmid, ppmid, ppmid with { Status = SmiStatus.Whitelisted })),
            },
        ]);
        // The append holds the hub's row and waits for the device's; the namer then asks for the hub's.
        await WaitForALockWaitAsync(namer, tx, append);
        var found = await ScalarAsync(namer, tx, $"SELECT id FROM device WHERE id = '{commsHub}' FOR KEY SHARE");
        Assert.Equal(commsHub.ToString(), found); // the aborted try's deletion was undone
        await tx.CommitAsync();

        var entries = await append;
        Assert.Equal([1L, 2L], entries.Select(e => e.Sequence));
        Assert.Null(await Store.Inventory.FindDeviceAsync(commsHub));
        Assert.Equal(SmiStatus.Whitelisted, (await Store.Inventory.FindDeviceAsync(Ppmid))!.Status);
        var logged = new List<MessageLogEntry>();
        await foreach (var entry in Store.MessageLog.ReadAsync())
        {
            logged.Add(entry);
        }
        Assert.Equal([1L, 2L], logged.Select(e => e.Sequence));
        Assert.Equal(2L, (await Store.MessageLog.ReadHeadAsync())!.Value.Sequence);
        Assert.True((await MessageLogChain.VerifyAsync(Store.MessageLog)).IsIntact);
    }

    /// <summary>The same deadlock with the device's writer the one aborted: its update is made again, after the hub's deletion.</summary>
    [Fact]
    public async Task A_device_update_the_server_aborts_to_break_a_deadlock_is_made_again()
    {
        var commsHub = Eui64.Parse("00-DB-12-34-56-78-90-00");
        await Store.Inventory.AddDevicesAsync([new Device(commsHub, DeviceType.CHF, SmiStatus.Pending), new Device(Ppmid, DeviceType.PPMID, SmiStatus.Pending)], InventoryChange.ByOperator(T0));
        // An 8.4 deleting the hub in the message log's transaction, which goes on to lock the device's row.
        await using var remover = (NpgsqlConnection)await Store.OpenConnectionAsync();
        await using var tx = await remover.BeginTransactionAsync();
        await ExecuteAsync(remover, tx, "SET LOCAL deadlock_timeout = '60s'");
        await ExecuteAsync(remover, tx, $"SELECT id FROM device WHERE id = '{commsHub}' FOR UPDATE");
        await ExecuteAsync(remover, tx, $"DELETE FROM device WHERE id = '{commsHub}'");
        var calls = 0;
        var update = Store.Inventory.UpdateDeviceAsync(Ppmid, d =>
        {
            Interlocked.Increment(ref calls);
            return d with { CommsHub = commsHub };
        }, InventoryChange.ByOperator(T0));
        await WaitForALockWaitAsync(remover, tx, update);
        await ExecuteAsync(remover, tx, $"SELECT id FROM device WHERE id = '{Ppmid}' FOR UPDATE");
        await tx.CommitAsync();

        var updated = await update;
        Assert.Equal(commsHub, updated!.CommsHub);
        Assert.Equal(commsHub, (await Store.Inventory.FindDeviceAsync(Ppmid))!.CommsHub);
        Assert.Null(await Store.Inventory.FindDeviceAsync(commsHub));
        Assert.Equal(2, calls);
    }

    /// <summary>
    /// A log removal gives the queued messages whose bytes are its entries' a copy of them (SqlDeliveryStore.KeepPayloadsAsync),
    /// locking their rows, which an append settling attempts at two of them may lock in the other order. The settler's
    /// deadlock_timeout is raised so that the server aborts the removal's chunk, always; it is made again once the append
    /// is done, and each message keeps its bytes and the attempt settled.
    /// </summary>
    [Fact]
    public async Task A_log_removal_the_server_aborts_to_break_a_deadlock_with_an_append_settling_its_messages_is_made_again()
    {
        var first = await Store.QueueAsync(Supplier, Endpoint, "r1", [1], T0);
        var second = await Store.QueueAsync(Supplier, Endpoint, "r2", [2], T0);
        // The head, which stays, past the entries removed.
        await Store.MessageLog.AppendAsync([new MessageLogRecord(T0, MessageDirection.Inbound, Supplier, "r3", "I99", "<Request/>"u8.ToArray())]);
        // An append's settling of attempts at both (SqlDeliveryStore.SettleAsync), the second's first, up to its commit.
        await using var settler = (NpgsqlConnection)await Store.OpenConnectionAsync();
        await using var tx = await settler.BeginTransactionAsync();
        await ExecuteAsync(settler, tx, "SET LOCAL deadlock_timeout = '60s'");
        await ExecuteAsync(settler, tx, $"UPDATE outbound_message SET attempts = attempts + 1 WHERE id = {second}");
        var removal = Store.MessageLog.RemoveThroughAsync(2);
        // The removal holds the first's row and waits for the second's; the settler then asks for the first's.
        await WaitForALockWaitAsync(settler, tx, removal);
        await ExecuteAsync(settler, tx, $"UPDATE outbound_message SET attempts = attempts + 1 WHERE id = {first}");
        await tx.CommitAsync();

        Assert.Equal(2, await removal);
        Assert.Equal(2L, (await Store.MessageLog.ReadBaseAsync()).Sequence);
        var messages = new[] { (await Store.Delivery.FindAsync(first))!, (await Store.Delivery.FindAsync(second))! };
        Assert.Equal([((byte)1, 1), ((byte)2, 1)], messages.Select(m => (m.Payload.Single(), m.Attempts)));
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<object?> ScalarAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        return await command.ExecuteScalarAsync();
    }

    /// <summary>Until a transaction in this test's database waits for a lock (the store's <paramref name="work"/>, which must not end first).</summary>
    private static async Task WaitForALockWaitAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Task work)
    {
        const string Waiting = "SELECT COUNT(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE NOT l.granted AND a.datname = current_database()";
        // pg_stat_activity is read once per transaction and kept (its snapshot): a store connection opened after the first
        // look would never be in it, so the wait would go unseen (as it did under the whole suite's load). Read afresh.
        while (true)
        {
            await ExecuteAsync(connection, transaction, "SELECT pg_stat_clear_snapshot()");
            if ((long)(await ScalarAsync(connection, transaction, Waiting))! != 0)
            {
                return;
            }
            Assert.False(work.IsCompleted, "the store's transaction did not wait for a lock");
            await Task.Delay(20);
        }
    }

    [Fact]
    public async Task A_pre_notification_whose_device_another_writer_adds_meanwhile_stores_neither_it_nor_its_log_entry()
    {
        var supplier = Eui64.Parse("90-B3-D5-1F-30-01-00-00");
        var at = Instant.FromUtc(2026, 11, 30, 9, 0);
        // Another writer (an operator's import) adds the same device, not yet committed.
        await using var importer = (NpgsqlConnection)await Store.OpenConnectionAsync();
        await using var tx = await importer.BeginTransactionAsync();
        await using (var insert = new NpgsqlCommand($"INSERT INTO device (id, device_type, smi_status) VALUES ('{Meter}', 'ESME', 'Commissioned')", importer, tx))
        {
            await insert.ExecuteNonQueryAsync();
        }
        var pending = new Device(Meter, DeviceType.ESME, SmiStatus.Pending) { Manufacturer = "AB01", Model = "M1" };
        var append = Store.MessageLog.AppendAsync(
        [
            new MessageLogRecord(at, MessageDirection.Inbound, supplier, $"{supplier}:{Meter}:1", "I0 device pre-notified", "<Request/>"u8.ToArray())
            {
                ChangesInventory = new InventoryWrite(new InventoryChange(at, "12.2", supplier), new DeviceWrite(Meter, null, pending)),
            },
        ]);
        await Task.WhenAny(append, Task.Delay(1000));
        await tx.CommitAsync();

        await Assert.ThrowsAsync<InventoryChangedException>(() => append);
        Assert.Equal(SmiStatus.Commissioned, (await Store.Inventory.FindDeviceAsync(Meter))!.Status);
        Assert.Empty(await Store.Inventory.StatusHistoryAsync(Meter));
        Assert.Null(await Store.MessageLog.ReadHeadAsync());
    }

    /// <summary>Several nodes starting at once on a fresh database.</summary>
    [Fact]
    public async Task Nodes_starting_together_on_a_fresh_database_all_open_it()
    {
        var admin = PostgresEngine.AdminConnectionString();
        var database = "opendcc_probe_" + Guid.NewGuid().ToString("N");
        await using (var a = new NpgsqlConnection(admin))
        {
            await a.OpenAsync();
            await using var c = new NpgsqlCommand($"CREATE DATABASE {database}", a);
            await c.ExecuteNonQueryAsync();
        }
        var cs = new NpgsqlConnectionStringBuilder(admin) { Database = database }.ToString();
        var failures = new List<string>();
        var tasks = Enumerable.Range(0, 8).Select(async _ =>
        {
            try
            {
                await using var s = await OpenDccStore.OpenPostgresAsync(cs, StoreClock.Default);
            }
            catch (Exception e)
            {
                lock (failures)
                {
                    failures.Add(e.GetType().Name + ": " + e.Message);
                }
            }
        });
        await Task.WhenAll(tasks);
        NpgsqlConnection.ClearAllPools();
        await using (var a = new NpgsqlConnection(admin))
        {
            await a.OpenAsync();
            await using var c = new NpgsqlCommand($"DROP DATABASE IF EXISTS {database} WITH (FORCE)", a);
            await c.ExecuteNonQueryAsync();
        }
        Assert.Empty(failures);
    }
}
