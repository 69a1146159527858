using NodaTime;
using OpenDcc.Core.Alerts;
using OpenDcc.Core.Identifiers;

namespace OpenDcc.Storage.Tests;

/// <summary>
/// The counter of the last alert taken from each device (what its next alert must exceed), and the alerts taken and not
/// yet handed on, on every engine.
/// </summary>
public abstract class AlertCounterStoreTests(IStoreEngine engine) : StoreTests(engine)
{
    private static readonly Eui64 Meter = Eui64.Parse("00-DB-12-34-56-78-90-A0");
    private static readonly Eui64 GasMeter = Eui64.Parse("00-DB-12-34-56-78-90-A1");
    private static readonly Instant Received = Instant.FromUtc(2026, 12, 1, 9, 30);

    private static PendingAlert Alert(Eui64 device, ulong counter, int minutes = 0) =>
        new(device, counter, Guid.NewGuid(), Received + Duration.FromMinutes(minutes), [0xDF, 0x09, (byte)counter]);

    private Task<bool> TakeAsync(Eui64 device, ulong counter) => Store.AlertCounters.TryTakeAsync(Alert(device, counter));

    [Fact]
    public async Task An_alert_counter_is_taken_only_above_the_last_taken_from_its_device()
    {
        Assert.True(await TakeAsync(Meter, 10));
        Assert.False(await TakeAsync(Meter, 10));
        Assert.False(await TakeAsync(Meter, 9));
        Assert.True(await TakeAsync(Meter, 11));
        // Per device: another device's counters are its own.
        Assert.True(await TakeAsync(GasMeter, 5));
        Assert.False(await TakeAsync(Meter, 11));
    }

    [Fact]
    public async Task Alert_counters_beyond_a_signed_64_bit_integer_compare_as_numbers()
    {
        Assert.True(await TakeAsync(Meter, 9_999));
        Assert.True(await TakeAsync(Meter, ulong.MaxValue - 1));
        Assert.False(await TakeAsync(Meter, 10_000));
        Assert.True(await TakeAsync(Meter, ulong.MaxValue));
    }

    [Fact]
    public async Task Of_copies_of_one_alert_taken_at_once_one_is_taken()
    {
        var taken = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(() => TakeAsync(Meter, 42))));

        Assert.Equal(1, taken.Count(t => t));
        Assert.Single(await Store.AlertCounters.ListPendingAsync());
    }

    [Fact]
    public async Task An_alert_taken_is_pending_with_its_frame_until_completed_and_a_replay_adds_nothing()
    {
        var first = Alert(Meter, 10, minutes: 1);
        var second = Alert(GasMeter, 7);
        Assert.True(await Store.AlertCounters.TryTakeAsync(first));
        Assert.True(await Store.AlertCounters.TryTakeAsync(second));
        Assert.False(await Store.AlertCounters.TryTakeAsync(Alert(Meter, 10)));

        var pending = await Store.AlertCounters.ListPendingAsync();
        // Oldest first, each as taken.
        Assert.Equal([second, first], pending, (a, b) => a.Device == b.Device && a.Counter == b.Counter && a.Take == b.Take && a.ReceivedAt == b.ReceivedAt && a.Frame.SequenceEqual(b.Frame));

        await Store.AlertCounters.CompleteAsync(first.Take);
        Assert.Equal([GasMeter], (await Store.AlertCounters.ListPendingAsync()).Select(p => p.Device));
        // Completed, its counter stays spent.
        Assert.False(await TakeAsync(Meter, 10));
    }

    [Fact]
    public async Task A_take_tried_again_with_its_own_id_while_pending_is_taken_and_a_replay_of_it_is_not()
    {
        var alert = Alert(Meter, 10);
        Assert.True(await Store.AlertCounters.TryTakeAsync(alert));

        // Its commit's answer lost, the receiver tries the same take again: it is its own, not a replay.
        Assert.True(await Store.AlertCounters.TryTakeAsync(alert));
        // The same frame under another take (captured and sent again) is a replay.
        Assert.False(await Store.AlertCounters.TryTakeAsync(alert with { Take = Guid.NewGuid() }));
        Assert.Single(await Store.AlertCounters.ListPendingAsync());

        await Store.AlertCounters.CompleteAsync(alert.Take);
        Assert.False(await Store.AlertCounters.TryTakeAsync(alert));
    }

    [Fact]
    public async Task An_alert_with_no_counter_is_kept_pending_once_however_often_its_take_is_tried_and_counts_no_replay()
    {
        var line = new PendingAlert(Meter, null, Guid.NewGuid(), Received, [0x41, 0x4C]);
        Assert.True(await Store.AlertCounters.TryTakeAsync(line));
        Assert.True(await Store.AlertCounters.TryTakeAsync(line));
        // The same line again, under another take, is not the store's to refuse (its format has no counter).
        Assert.True(await Store.AlertCounters.TryTakeAsync(line with { Take = Guid.NewGuid() }));
        Assert.Equal(2, (await Store.AlertCounters.ListPendingAsync()).Count);
        Assert.All(await Store.AlertCounters.ListPendingAsync(), p => Assert.Null(p.Counter));

        // No counter was taken for the device.
        Assert.True(await TakeAsync(Meter, 1));
        await Store.AlertCounters.CompleteAsync(line.Take);
        Assert.Equal(2, (await Store.AlertCounters.ListPendingAsync()).Count);
    }

    [Fact]
    public async Task A_comms_hubs_loss_of_power_is_kept_pending_with_when_it_began_until_completed_and_takes_no_counter()
    {
        var since = Received - Duration.FromMinutes(2) + Duration.FromTicks(1_234_567);
        var device = Alert(Meter, 10, minutes: 1);
        var lost = PendingAlert.PowerLost(Meter, since, Guid.NewGuid(), Received);
        Assert.True(await Store.AlertCounters.TryTakeAsync(device));
        Assert.True(await Store.AlertCounters.TryTakeAsync(lost));
        // Its take tried again after its commit's answer was lost is kept once.
        Assert.True(await Store.AlertCounters.TryTakeAsync(lost));

        var pending = await Store.AlertCounters.ListPendingAsync();
        // Oldest first, each as taken, with what it was taken from.
        Assert.Equal([lost.Take, device.Take], pending.Select(p => p.Take));
        Assert.Equal([PendingAlertSource.PowerLost, PendingAlertSource.Device], pending.Select(p => p.Source));
        Assert.Equal((Meter, (ulong?)null, Received, since), (pending[0].Device, pending[0].Counter, pending[0].ReceivedAt, pending[0].PowerLostSince()));
        // The device's counter is the device alert's, untouched by the comms hub's report.
        Assert.False(await TakeAsync(Meter, 10));
        Assert.True(await TakeAsync(Meter, 11));

        await Store.AlertCounters.CompleteAsync(lost.Take);
        Assert.All(await Store.AlertCounters.ListPendingAsync(), p => Assert.Equal(PendingAlertSource.Device, p.Source));
        Assert.DoesNotContain(lost.Take, (await Store.AlertCounters.ListPendingAsync()).Select(p => p.Take));
    }

    [Fact]
    public async Task An_alert_kept_by_a_hub_before_pending_alerts_had_a_source_is_a_devices()
    {
        var take = Guid.NewGuid();
        await using (var connection = await Store.OpenConnectionAsync(CancellationToken.None))
        await using (var keep = connection.CreateCommand())
        {
            // As migration 0033's store wrote it.
            keep.CommandText = $"INSERT INTO pending_alert (take, device, counter, received_at, frame) VALUES ('{take:N}', '{Meter}', NULL, {Received.ToUnixTimeTicks()}, @frame)";
            var frame = keep.CreateParameter();
            (frame.ParameterName, frame.Value) = ("@frame", new byte[] { 0x41, 0x4C });
            keep.Parameters.Add(frame);
            await keep.ExecuteNonQueryAsync();
        }

        var pending = Assert.Single(await Store.AlertCounters.ListPendingAsync());
        Assert.Equal((take, PendingAlertSource.Device), (pending.Take, pending.Source));
    }

    [Fact]
    public async Task Alerts_pending_when_migration_37_widens_the_sources_are_kept_as_they_were()
    {
        var device = Alert(Meter, 10);
        var lost = PendingAlert.PowerLost(Meter, Received - Duration.FromMinutes(1), Guid.NewGuid(), Received);
        Assert.True(await Store.AlertCounters.TryTakeAsync(device));
        Assert.True(await Store.AlertCounters.TryTakeAsync(lost));
        await using (var connection = await Store.OpenConnectionAsync(CancellationToken.None))
        await using (var forget = connection.CreateCommand())
        {
            // Applied again at the next open, as to a store 0035 left (SQLite makes the table again).
            forget.CommandText = "DELETE FROM schema_migration WHERE version = 37";
            await forget.ExecuteNonQueryAsync();
        }

        await ReopenAsync();

        var pending = await Store.AlertCounters.ListPendingAsync();
        Assert.Equal([(device.Take, PendingAlertSource.Device, (ulong?)10, device.Frame), (lost.Take, PendingAlertSource.PowerLost, null, lost.Frame)],
            pending.Select(p => (p.Take, p.Source, p.Counter, p.Frame)).OrderBy(p => p.Source));
        var commissioned = PendingAlert.MeterCommissioned(GasMeter, Core.Inventory.SmiStatus.InstalledNotCommissioned, Guid.NewGuid(), Received);
        Assert.True(await Store.AlertCounters.TryTakeAsync(commissioned));
        Assert.Equal(3, (await Store.AlertCounters.ListPendingAsync()).Count);
    }

    [Fact]
    public async Task A_loss_of_power_with_a_counter_is_refused_and_nothing_is_kept()
    {
        var lost = PendingAlert.PowerLost(Meter, Received, Guid.NewGuid(), Received) with { Counter = 10 };

        await Assert.ThrowsAsync<ArgumentException>(() => Store.AlertCounters.TryTakeAsync(lost));

        Assert.Empty(await Store.AlertCounters.ListPendingAsync());
        Assert.True(await TakeAsync(Meter, 10));
    }
}

public sealed class SqliteAlertCounterStoreTests() : AlertCounterStoreTests(new SqliteEngine());

public sealed class PostgresAlertCounterStoreTests() : AlertCounterStoreTests(new PostgresEngine());
