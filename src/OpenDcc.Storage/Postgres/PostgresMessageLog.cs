using System.Data.Common;
using Npgsql;
using NpgsqlTypes;
using OpenDcc.Core.Security;

namespace OpenDcc.Storage.Postgres;

internal sealed class PostgresMessageLog(Func<CancellationToken, Task<DbConnection>> open, Func<DbTransaction, CancellationToken, Task>? commit = null, TimeSpan? outcomeWait = null) : SqlMessageLog(open, commit, outcomeWait)
{
    protected override string SelectHeadForUpdate => "SELECT sequence, hash FROM message_log_head WHERE id = 1 FOR UPDATE";

    protected override bool LockRows => true;

    protected internal override async Task InsertAsync(DbConnection connection, DbTransaction transaction, IReadOnlyList<MessageLogEntry> entries, CancellationToken cancellationToken)
    {
        await using var importer = await ((NpgsqlConnection)connection).BeginBinaryImportAsync(
            $"COPY message_log ({Columns}) FROM STDIN (FORMAT BINARY)", cancellationToken);
        foreach (var entry in entries)
        {
            var r = entry.Record;
            await importer.StartRowAsync(cancellationToken);
            await importer.WriteAsync(entry.Sequence, NpgsqlDbType.Bigint, cancellationToken);
            await importer.WriteAsync(r.At.ToUnixTimeTicks(), NpgsqlDbType.Bigint, cancellationToken);
            await importer.WriteAsync((short)r.Direction, NpgsqlDbType.Smallint, cancellationToken);
            await WriteNullableAsync(importer, r.User?.ToString(), cancellationToken);
            await WriteNullableAsync(importer, r.Correlation, cancellationToken);
            await importer.WriteAsync(r.Outcome, NpgsqlDbType.Text, cancellationToken);
            await importer.WriteAsync(PayloadBytes(r.Payload), NpgsqlDbType.Bytea, cancellationToken);
            await importer.WriteAsync(entry.PreviousHash, NpgsqlDbType.Bytea, cancellationToken);
            await importer.WriteAsync(entry.Hash, NpgsqlDbType.Bytea, cancellationToken);
        }
        await importer.CompleteAsync(cancellationToken);
    }

    private static Task WriteNullableAsync(NpgsqlBinaryImporter importer, string? value, CancellationToken cancellationToken) =>
        value is null ? importer.WriteNullAsync(cancellationToken) : importer.WriteAsync(value, NpgsqlDbType.Text, cancellationToken);
}
