using System.Data.Common;
using System.Globalization;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Security;

namespace OpenDcc.Storage;

/// <summary>
/// Each originator's highest accepted counter, raised monotonically in SQL both engines speak. Advances are
/// group-committed: every request raises a counter, and one transaction serves all that arrive together.
/// </summary>
internal sealed class SqlReplayCounterStore : IReplayCounterStore, IAsyncDisposable
{
    private readonly Func<CancellationToken, Task<DbConnection>> open;
    private readonly SemaphoreSlim? writeGate;
    private readonly GroupCommit<(Eui64 Originator, ulong Counter), bool> advances;

    /// <param name="writeGate">On SQLite, the store's one-writer gate, so writers queue in-process instead of polling the file lock.</param>
    public SqlReplayCounterStore(Func<CancellationToken, Task<DbConnection>> open, SemaphoreSlim? writeGate)
    {
        this.open = open;
        this.writeGate = writeGate;
        advances = new(WriteAsync, "replay counter writer");
    }

    public async Task<ulong?> ReadAsync(Eui64 originator, CancellationToken cancellationToken = default)
    {
        await using var connection = await open(cancellationToken);
        await using var command = connection.Command("SELECT last_counter FROM replay_counter WHERE originator = @o").With("@o", originator.ToString());
        return await command.ExecuteScalarAsync(cancellationToken) is string text ? ulong.Parse(text, CultureInfo.InvariantCulture) : null;
    }

    public Task AdvanceAsync(Eui64 originator, ulong counter, CancellationToken cancellationToken = default) =>
        advances.SubmitAsync((originator, counter), cancellationToken);

    private async Task<IReadOnlyList<bool>> WriteAsync(IReadOnlyList<(Eui64 Originator, ulong Counter)> batch, CancellationToken cancellationToken)
    {
        if (writeGate is null)
        {
            return await WriteBatchAsync(batch, cancellationToken);
        }
        await writeGate.WaitAsync(cancellationToken);
        try
        {
            return await WriteBatchAsync(batch, cancellationToken);
        }
        finally
        {
            writeGate.Release();
        }
    }

    private async Task<IReadOnlyList<bool>> WriteBatchAsync(IReadOnlyList<(Eui64 Originator, ulong Counter)> batch, CancellationToken cancellationToken)
    {
        await using var connection = await open(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var command = connection.Command(
            "INSERT INTO replay_counter (originator, last_counter) VALUES (@o, @c) " +
            "ON CONFLICT (originator) DO UPDATE SET last_counter = excluded.last_counter WHERE excluded.last_counter > replay_counter.last_counter",
            transaction);
        var o = command.CreateParameter();
        o.ParameterName = "@o";
        var c = command.CreateParameter();
        c.ParameterName = "@c";
        command.Parameters.Add(o);
        command.Parameters.Add(c);
        foreach (var (originator, counter) in batch)
        {
            o.Value = originator.ToString();
            c.Value = counter.ToString("D20", CultureInfo.InvariantCulture);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
        return [.. batch.Select(_ => true)];
    }

    public ValueTask DisposeAsync() => advances.DisposeAsync();
}
