using System.Data.Common;
using OpenDcc.Core.Alerts;
using OpenDcc.Core.Identifiers;

namespace OpenDcc.Storage;

/// <summary>The last alert counter taken from each device, in plain SQL that SQLite and PostgreSQL both speak.</summary>
internal sealed class SqlAlertCounterStore(Func<CancellationToken, Task<DbConnection>> open) : IAlertCounterStore
{
    public async Task<bool> TryTakeAsync(Eui64 device, ulong counter, CancellationToken cancellationToken = default)
    {
        await using var connection = await open(cancellationToken);
        // One statement: two copies of a frame taken at once cannot both be.
        await using var take = connection.Command(
                "INSERT INTO alert_counter (device, last_counter) VALUES (@d, @c) " +
                "ON CONFLICT (device) DO UPDATE SET last_counter = excluded.last_counter WHERE excluded.last_counter > alert_counter.last_counter")
            .With("@d", device.ToString()).With("@c", SqlReplayCounterStore.Format(counter));
        return await take.ExecuteNonQueryAsync(cancellationToken) == 1;
    }
}
