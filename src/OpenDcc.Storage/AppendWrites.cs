using System.Data.Common;

namespace OpenDcc.Storage;

/// <summary>
/// The writes a message log append makes once its entries are written (replay counters, unanswered commands, local
/// commands' returns, the delivery queue, the head), in their order, in the append's transaction. A provider that
/// batches (PostgreSQL) is sent them together at <see cref="FlushAsync"/>, one round trip rather than one each; on one
/// that does not (SQLite, in process, where a statement costs microseconds) each runs as it comes, each statement made
/// and prepared once an append. Either way a write that fails fails the append, whose transaction is not committed.
/// </summary>
internal sealed class AppendWrites(DbConnection connection, DbTransaction transaction) : IAsyncDisposable
{
    private readonly DbBatch? batch = connection.CanCreateBatch ? connection.CreateBatch() : null;
    private readonly Dictionary<string, DbCommand> statements = new(StringComparer.Ordinal);

    /// <summary>Runs <paramref name="sql"/> with <paramref name="values"/> (null for SQL NULL), or adds it to the batch.</summary>
    /// <remarks>A statement is always given the same parameters in the same order.</remarks>
    public async Task RunAsync(string sql, CancellationToken cancellationToken, params (string Name, object? Value)[] values)
    {
        if (batch is not null)
        {
            var command = batch.CreateBatchCommand();
            command.CommandText = sql;
            foreach (var (name, value) in values)
            {
                var parameter = command.CreateParameter();
                parameter.ParameterName = name;
                parameter.Value = value ?? DBNull.Value;
                command.Parameters.Add(parameter);
            }
            batch.BatchCommands.Add(command);
            return;
        }
        if (!statements.TryGetValue(sql, out var statement))
        {
            statement = connection.Command(sql, transaction);
            foreach (var (name, _) in values)
            {
                statement.With(name, null);
            }
            statements[sql] = statement;
        }
        for (var i = 0; i < values.Length; i++)
        {
            statement.Parameters[i].Value = values[i].Value ?? DBNull.Value;
        }
        await statement.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Sends the batched writes, if any; a no-op where each ran as it came.</summary>
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        if (batch is { BatchCommands.Count: > 0 })
        {
            batch.Connection = connection;
            batch.Transaction = transaction;
            await batch.ExecuteNonQueryAsync(cancellationToken);
            batch.BatchCommands.Clear();
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var statement in statements.Values)
        {
            await statement.DisposeAsync();
        }
        if (batch is not null)
        {
            await batch.DisposeAsync();
        }
    }
}
