using System.Data.Common;
using OpenDcc.Core.Security;

namespace OpenDcc.Storage.Sqlite;

internal sealed class SqliteMessageLog(Func<CancellationToken, Task<DbConnection>> open, Func<DbTransaction, CancellationToken, Task>? commit = null, TimeSpan? outcomeWait = null) : SqlMessageLog(open, commit, outcomeWait)
{
    // Microsoft.Data.Sqlite begins transactions IMMEDIATE: the write lock is taken before the head is read.
    protected override string SelectHeadForUpdate => "SELECT sequence, hash FROM message_log_head WHERE id = 1";

    protected override bool LockRows => false;

    protected internal override async Task InsertAsync(DbConnection connection, DbTransaction transaction, IReadOnlyList<MessageLogEntry> entries, CancellationToken cancellationToken)
    {
        const string Insert = $"INSERT INTO message_log ({Columns}) VALUES (@s, @at, @d, @u, @c, @o, @p, @ph, @h)";
        await using var writes = new AppendWrites(connection, transaction);
        foreach (var entry in entries)
        {
            var r = entry.Record;
            await writes.RunAsync(Insert, cancellationToken,
                ("@s", entry.Sequence), ("@at", r.At.ToUnixTimeTicks()), ("@d", (int)r.Direction), ("@u", r.User?.ToString()), ("@c", r.Correlation),
                ("@o", r.Outcome), ("@p", PayloadBytes(r.Payload)), ("@ph", entry.PreviousHash), ("@h", entry.Hash));
        }
    }
}
