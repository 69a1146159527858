using System.Data.Common;
using System.Globalization;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Security;

namespace OpenDcc.Storage;

/// <summary>Each originator's highest accepted counter, raised monotonically in SQL both engines speak.</summary>
internal sealed class SqlReplayCounterStore(Func<CancellationToken, Task<DbConnection>> open) : IReplayCounterStore
{
    public async Task<ulong?> ReadAsync(Eui64 originator, CancellationToken cancellationToken = default)
    {
        await using var connection = await open(cancellationToken);
        await using var command = connection.Command("SELECT last_counter FROM replay_counter WHERE originator = @o").With("@o", originator.ToString());
        return await command.ExecuteScalarAsync(cancellationToken) is string text ? ulong.Parse(text, CultureInfo.InvariantCulture) : null;
    }

    public async Task AdvanceAsync(Eui64 originator, ulong counter, CancellationToken cancellationToken = default)
    {
        await using var connection = await open(cancellationToken);
        await using var command = connection.Command(
                "INSERT INTO replay_counter (originator, last_counter) VALUES (@o, @c) " +
                "ON CONFLICT (originator) DO UPDATE SET last_counter = excluded.last_counter WHERE excluded.last_counter > replay_counter.last_counter")
            .With("@o", originator.ToString())
            .With("@c", counter.ToString("D20", CultureInfo.InvariantCulture));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
