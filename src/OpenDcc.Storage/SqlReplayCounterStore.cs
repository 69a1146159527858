using System.Data.Common;
using System.Globalization;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Security;

namespace OpenDcc.Storage;

/// <summary>
/// Each originator's highest accepted counter, with the Transform open under it. Raised only by the message log's
/// appends, in the transaction that logs the request (<see cref="SqlMessageLog"/>); kept as 20-digit text, since a
/// counter may exceed a signed 64-bit integer.
/// </summary>
internal sealed class SqlReplayCounterStore(Func<CancellationToken, Task<DbConnection>> open) : IReplayCounterStore
{
    /// <summary>
    /// Raises the counter of @o to @c, never lowering it, with the Transform accepted under it (@t, @v; null for any
    /// other request); both engines speak it.
    /// </summary>
    internal const string Raise =
        "INSERT INTO replay_counter (originator, last_counter, open_target, open_variant) VALUES (@o, @c, @t, @v) " +
        "ON CONFLICT (originator) DO UPDATE SET last_counter = excluded.last_counter, open_target = excluded.open_target, open_variant = excluded.open_variant " +
        "WHERE excluded.last_counter > replay_counter.last_counter";

    /// <summary>Closes the Transform open under @o's counter @c: its Signed Pre-Command has come under the same RequestID.</summary>
    internal const string Close =
        "UPDATE replay_counter SET open_target = NULL, open_variant = NULL WHERE originator = @o AND last_counter = @c";

    /// <summary>Lowers @o's counter to @c (an operator's reset), closing any Transform open under it; never raises it.</summary>
    internal const string Reset =
        "UPDATE replay_counter SET last_counter = @c, open_target = NULL, open_variant = NULL WHERE originator = @o AND last_counter > @c";

    public async Task<ReplayCounter?> ReadAsync(Eui64 originator, CancellationToken cancellationToken = default)
    {
        await using var connection = await open(cancellationToken);
        await using var command = connection.Command("SELECT last_counter, open_target, open_variant FROM replay_counter WHERE originator = @o").With("@o", originator.ToString());
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }
        var transform = reader.IsDBNull(1) || reader.IsDBNull(2) ? (OpenTransform?)null : new OpenTransform(Eui64.Parse(reader.GetString(1)), reader.GetString(2));
        return new ReplayCounter(ulong.Parse(reader.GetString(0), CultureInfo.InvariantCulture), transform);
    }

    internal static string Format(ulong counter) => counter.ToString("D20", CultureInfo.InvariantCulture);
}
