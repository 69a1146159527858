using System.Data.Common;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Translation;

namespace OpenDcc.Storage;

/// <summary>The last critical command counter of each user and device, in plain SQL that SQLite and PostgreSQL both speak.</summary>
internal sealed class SqlCriticalCounterStore(Func<CancellationToken, Task<DbConnection>> open) : ICriticalCounterStore
{
    public async Task<bool> TryClaimAsync(Eui64 user, Eui64 device, ulong counter, RequestId request, CancellationToken cancellationToken = default)
    {
        await using var connection = await open(cancellationToken);
        // One statement: two requests claiming the same counter at once cannot both have it.
        await using var claim = connection.Command(
                "INSERT INTO critical_counter (user_id, device, last_counter, request_id) VALUES (@u, @d, @c, @r) " +
                "ON CONFLICT (user_id, device) DO UPDATE SET last_counter = excluded.last_counter, request_id = excluded.request_id " +
                "WHERE excluded.last_counter > critical_counter.last_counter " +
                "OR (excluded.last_counter = critical_counter.last_counter AND excluded.request_id = critical_counter.request_id)")
            .With("@u", user.ToString()).With("@d", device.ToString()).With("@c", SqlReplayCounterStore.Format(counter)).With("@r", request.ToString());
        return await claim.ExecuteNonQueryAsync(cancellationToken) == 1;
    }
}
