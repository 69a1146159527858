using System.Data.Common;
using System.Globalization;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Security;

namespace OpenDcc.Storage;

/// <summary>
/// Each originator's highest accepted counter. Raised only by the message log's appends, in the transaction that logs
/// the request (<see cref="SqlMessageLog"/>); kept as 20-digit text, since a counter may exceed a signed 64-bit integer.
/// </summary>
internal sealed class SqlReplayCounterStore(Func<CancellationToken, Task<DbConnection>> open) : IReplayCounterStore
{
    /// <summary>Raises the counter of @o to @c, never lowering it; both engines speak it.</summary>
    internal const string Raise =
        "INSERT INTO replay_counter (originator, last_counter) VALUES (@o, @c) " +
        "ON CONFLICT (originator) DO UPDATE SET last_counter = excluded.last_counter WHERE excluded.last_counter > replay_counter.last_counter";

    public async Task<ulong?> ReadAsync(Eui64 originator, CancellationToken cancellationToken = default)
    {
        await using var connection = await open(cancellationToken);
        await using var command = connection.Command("SELECT last_counter FROM replay_counter WHERE originator = @o").With("@o", originator.ToString());
        return await command.ExecuteScalarAsync(cancellationToken) is string text ? ulong.Parse(text, CultureInfo.InvariantCulture) : null;
    }

    internal static string Format(ulong counter) => counter.ToString("D20", CultureInfo.InvariantCulture);
}
