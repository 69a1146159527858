using System.Data.Common;
using Microsoft.Data.Sqlite;
using OpenDcc.Core.Security;

namespace OpenDcc.Storage.Sqlite;

internal sealed class SqliteMessageLog(Func<CancellationToken, Task<DbConnection>> open, Func<DbTransaction, CancellationToken, Task>? commit = null, TimeSpan? outcomeWait = null) : SqlMessageLog(open, commit, outcomeWait)
{
    // Microsoft.Data.Sqlite begins transactions IMMEDIATE: the write lock is taken before the head is read.
    protected override string SelectHeadForUpdate => "SELECT sequence, hash FROM message_log_head WHERE id = 1";

    protected override bool LockRows => false;

    protected internal override async Task InsertAsync(DbConnection connection, DbTransaction transaction, IReadOnlyList<MessageLogEntry> entries, CancellationToken cancellationToken)
    {
        await using var insert = (SqliteCommand)connection.Command(
            $"INSERT INTO message_log ({Columns}) VALUES (@s, @at, @d, @u, @c, @o, @p, @ph, @h)", transaction);
        var s = insert.Parameters.Add("@s", SqliteType.Integer);
        var at = insert.Parameters.Add("@at", SqliteType.Integer);
        var d = insert.Parameters.Add("@d", SqliteType.Integer);
        var u = insert.Parameters.Add("@u", SqliteType.Text);
        var c = insert.Parameters.Add("@c", SqliteType.Text);
        var o = insert.Parameters.Add("@o", SqliteType.Text);
        var p = insert.Parameters.Add("@p", SqliteType.Blob);
        var ph = insert.Parameters.Add("@ph", SqliteType.Blob);
        var h = insert.Parameters.Add("@h", SqliteType.Blob);
        insert.Prepare();
        foreach (var entry in entries)
        {
            var r = entry.Record;
            s.Value = entry.Sequence;
            at.Value = r.At.ToUnixTimeTicks();
            d.Value = (int)r.Direction;
            u.Value = (object?)r.User?.ToString() ?? DBNull.Value;
            c.Value = (object?)r.Correlation ?? DBNull.Value;
            o.Value = r.Outcome;
            p.Value = PayloadBytes(r.Payload);
            ph.Value = entry.PreviousHash;
            h.Value = entry.Hash;
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }
    }
}
