using System.Data.Common;
using System.Globalization;
using NodaTime;
using OpenDcc.Core.Alerts;
using OpenDcc.Core.Identifiers;

namespace OpenDcc.Storage;

/// <summary>The last alert counter taken from each device, and the alerts taken and not yet handed on, in plain SQL that SQLite and PostgreSQL both speak.</summary>
internal sealed class SqlAlertCounterStore(Func<CancellationToken, Task<DbConnection>> open) : IAlertCounterStore
{
    public async Task<bool> TryTakeAsync(PendingAlert alert, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(alert);
        await using var connection = await open(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var device = alert.Device.ToString();
        var counter = SqlReplayCounterStore.Format(alert.Counter);
        var take = alert.Take.ToString("N");
        // One statement: two copies of a frame taken at once cannot both be.
        await using (var raise = connection.Command(
                "INSERT INTO alert_counter (device, last_counter) VALUES (@d, @c) " +
                "ON CONFLICT (device) DO UPDATE SET last_counter = excluded.last_counter WHERE excluded.last_counter > alert_counter.last_counter", transaction)
            .With("@d", device).With("@c", counter))
        {
            if (await raise.ExecuteNonQueryAsync(cancellationToken) == 0)
            {
                // Not above: a replay, or this take tried again after it was committed.
                await using var again = connection.Command("SELECT 1 FROM pending_alert WHERE device = @d AND counter = @c AND take = @t", transaction)
                    .With("@d", device).With("@c", counter).With("@t", take);
                return await again.ExecuteScalarAsync(cancellationToken) is not null;
            }
        }
        await using (var keep = connection.Command("INSERT INTO pending_alert (device, counter, take, received_at, frame) VALUES (@d, @c, @t, @at, @frame)", transaction)
            .With("@d", device).With("@c", counter).With("@t", take).With("@at", alert.ReceivedAt.ToUnixTimeTicks()).With("@frame", alert.Frame))
        {
            await keep.ExecuteNonQueryAsync(cancellationToken);
        }
        await Db.Commit(transaction, cancellationToken);
        return true;
    }

    public async Task CompleteAsync(Eui64 device, ulong counter, CancellationToken cancellationToken = default)
    {
        await using var connection = await open(cancellationToken);
        await using var complete = connection.Command("DELETE FROM pending_alert WHERE device = @d AND counter = @c")
            .With("@d", device.ToString()).With("@c", SqlReplayCounterStore.Format(counter));
        await complete.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<PendingAlert>> ListPendingAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await open(cancellationToken);
        await using var list = connection.Command("SELECT device, counter, take, received_at, frame FROM pending_alert ORDER BY received_at, device, counter");
        return await list.ReadAllAsync(r => new PendingAlert(
            Eui64.Parse(r.GetString(0)),
            ulong.Parse(r.GetString(1), CultureInfo.InvariantCulture),
            Guid.ParseExact(r.GetString(2), "N"),
            Instant.FromUnixTimeTicks(r.GetInt64(3)),
            (byte[])r.GetValue(4)), cancellationToken);
    }
}
