using System.Data.Common;
using System.Globalization;
using NodaTime;
using OpenDcc.Core.Alerts;
using OpenDcc.Core.Identifiers;

namespace OpenDcc.Storage;

/// <summary>The last alert counter taken from each device, and the alerts taken and not yet handed on (a device's, a comms hub's loss of power, or a meter's commissioning), in plain SQL that SQLite and PostgreSQL both speak.</summary>
internal sealed class SqlAlertCounterStore(Func<CancellationToken, Task<DbConnection>> open) : IAlertCounterStore
{
    public async Task<bool> TryTakeAsync(PendingAlert alert, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(alert);
        if (alert.Source is not PendingAlertSource.Device && alert.Counter is not null)
        {
            throw new ArgumentException($"alert {alert.Take}: only a device's alert has a counter", nameof(alert));
        }
        await using var connection = await open(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var device = alert.Device.ToString();
        var counter = alert.Counter is { } value ? SqlReplayCounterStore.Format(value) : null;
        var take = alert.Take.ToString("N");
        if (counter is not null)
        {
            // One statement: two copies of a frame taken at once cannot both be.
            await using var raise = connection.Command(
                    "INSERT INTO alert_counter (device, last_counter) VALUES (@d, @c) " +
                    "ON CONFLICT (device) DO UPDATE SET last_counter = excluded.last_counter WHERE excluded.last_counter > alert_counter.last_counter", transaction)
                .With("@d", device).With("@c", counter);
            if (await raise.ExecuteNonQueryAsync(cancellationToken) == 0)
            {
                // Not above: a replay, or this take tried again after it was committed.
                await using var again = connection.Command("SELECT 1 FROM pending_alert WHERE take = @t", transaction).With("@t", take);
                return await again.ExecuteScalarAsync(cancellationToken) is not null;
            }
        }
        await KeepAsync(connection, transaction, alert, cancellationToken);
        await Db.Commit(transaction, cancellationToken);
        return true;
    }

    /// <summary>
    /// Keeps <paramref name="alert"/> as pending in <paramref name="transaction"/>, its counter, if any, taken already:
    /// with that take, or with the status change that raises it (<see cref="SqlInventoryStore.UpdateDeviceAsync(Eui64, Func{OpenDcc.Core.Inventory.Device, OpenDcc.Core.Inventory.Device?}, OpenDcc.Core.Inventory.InventoryChange, Func{OpenDcc.Core.Inventory.Device, OpenDcc.Core.Inventory.Device, PendingAlert?}, CancellationToken)"/>).
    /// </summary>
    internal static async Task KeepAsync(DbConnection connection, DbTransaction transaction, PendingAlert alert, CancellationToken cancellationToken)
    {
        // A take tried again after it was committed is kept once.
        await using var keep = connection.Command(
                "INSERT INTO pending_alert (take, device, counter, received_at, frame, source) VALUES (@t, @d, @c, @at, @frame, @s) ON CONFLICT (take) DO NOTHING", transaction)
            .With("@t", alert.Take.ToString("N")).With("@d", alert.Device.ToString()).With("@c", alert.Counter is { } counter ? SqlReplayCounterStore.Format(counter) : null)
            .With("@at", alert.ReceivedAt.ToUnixTimeTicks()).With("@frame", alert.Frame).With("@s", SourceName(alert.Source));
        await keep.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task CompleteAsync(Guid take, CancellationToken cancellationToken = default)
    {
        await using var connection = await open(cancellationToken);
        await using var complete = connection.Command("DELETE FROM pending_alert WHERE take = @t").With("@t", take.ToString("N"));
        await complete.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<PendingAlert>> ListPendingAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await open(cancellationToken);
        await using var list = connection.Command("SELECT device, counter, take, received_at, frame, source FROM pending_alert ORDER BY received_at, take");
        return await list.ReadAllAsync(r => new PendingAlert(
            Eui64.Parse(r.GetString(0)),
            r.IsDBNull(1) ? null : ulong.Parse(r.GetString(1), CultureInfo.InvariantCulture),
            Guid.ParseExact(r.GetString(2), "N"),
            Instant.FromUnixTimeTicks(r.GetInt64(3)),
            (byte[])r.GetValue(4)) { Source = ReadSource(r.GetString(5)) }, cancellationToken);
    }

    private static string SourceName(PendingAlertSource source) => source switch
    {
        PendingAlertSource.Device => "device",
        PendingAlertSource.PowerLost => "power_lost",
        PendingAlertSource.MeterCommissioned => "meter_commissioned",
        _ => throw new ArgumentOutOfRangeException(nameof(source), source, "not a pending alert's source"),
    };

    private static PendingAlertSource ReadSource(string name) => name switch
    {
        "device" => PendingAlertSource.Device,
        "power_lost" => PendingAlertSource.PowerLost,
        "meter_commissioned" => PendingAlertSource.MeterCommissioned,
        _ => throw new FormatException($"pending_alert.source '{name}' is not one this OpenDcc knows"),
    };
}
