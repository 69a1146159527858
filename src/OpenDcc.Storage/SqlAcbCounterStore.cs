using System.Data.Common;
using System.Globalization;
using OpenDcc.Core.Translation;

namespace OpenDcc.Storage;

/// <summary>The ACB counter bound, one row, in plain SQL that SQLite and PostgreSQL both speak.</summary>
internal sealed class SqlAcbCounterStore(Func<CancellationToken, Task<DbConnection>> open) : IAcbCounterStore
{
    public async Task<ulong> ReadReservedAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await open(cancellationToken);
        return await ReadAsync(connection, cancellationToken);
    }

    public async Task<ulong> ReserveThroughAsync(ulong through, CancellationToken cancellationToken = default)
    {
        await using var connection = await open(cancellationToken);
        // Raised, never lowered: a second hub over the store (which its lease refuses) could not take the bound back.
        await using (var raise = connection.Command(
                "INSERT INTO acb_counter (id, reserved_through) VALUES (1, @t) " +
                "ON CONFLICT (id) DO UPDATE SET reserved_through = excluded.reserved_through WHERE excluded.reserved_through > acb_counter.reserved_through")
            .With("@t", SqlReplayCounterStore.Format(through)))
        {
            await raise.ExecuteNonQueryAsync(cancellationToken);
        }
        return await ReadAsync(connection, cancellationToken);
    }

    private static async Task<ulong> ReadAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        await using var read = connection.Command("SELECT reserved_through FROM acb_counter WHERE id = 1");
        return await read.ExecuteScalarAsync(cancellationToken) is string bound ? ulong.Parse(bound, CultureInfo.InvariantCulture) : 0;
    }
}
