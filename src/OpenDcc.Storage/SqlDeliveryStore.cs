using System.Data.Common;
using NodaTime;
using OpenDcc.Core;
using OpenDcc.Core.Delivery;
using OpenDcc.Core.Duis;
using OpenDcc.Core.Identifiers;

namespace OpenDcc.Storage;

/// <summary>
/// The outbound queue in plain SQL that SQLite and PostgreSQL both speak. A claim is one
/// <c>UPDATE … RETURNING</c> that sets a lease (<c>claimed_until</c>) on the oldest due rows; on PostgreSQL the
/// rows are picked <c>FOR UPDATE SKIP LOCKED</c>, so hub nodes claiming at once take disjoint sets without
/// waiting on each other. SQLite has one writer at a time, which serialises claims by itself.
/// </summary>
/// <remarks>
/// Messages are queued only with the message log entry that hands them over (<see cref="QueueAsync"/>), in the log's
/// transaction: a message is logged and queued, and the device command it answers no longer unanswered, or none of them.
/// </remarks>
/// <param name="commit">How a transaction is committed: <see cref="DbTransaction.CommitAsync(CancellationToken)"/>, or a test's stand-in.</param>
/// <param name="purgeChunk">Delivered messages deleted per transaction (<see cref="PurgeDeliveredAsync"/>): <see cref="PurgeChunk"/>, or a test's.</param>
internal sealed class SqlDeliveryStore(Func<CancellationToken, Task<DbConnection>> open, bool skipLocked, Func<DbTransaction, CancellationToken, Task>? commit = null, int purgeChunk = SqlDeliveryStore.PurgeChunk) : IDeliveryStore
{
    private readonly Func<DbTransaction, CancellationToken, Task> commit = commit ?? Db.Commit;
    private readonly int purgeChunk = purgeChunk > 0 ? purgeChunk : throw new ArgumentOutOfRangeException(nameof(purgeChunk), purgeChunk, "delete at least one message per chunk");

    /// <summary>
    /// A message's columns as <see cref="ReadMessage"/> reads them. Its bytes are its own (queued before migration 0041, or
    /// given them as its log entry was removed: <see cref="SqlMessageLog.RemoveThroughAsync"/>) or, as a message is queued,
    /// those of the log entry that handed it over, read by its primary key; that entry's sequence (<c>log_sequence</c>) with them.
    /// </summary>
    private const string Columns = "id, user_id, destination, correlation, " + Payload + ", enqueued_at, attempts, next_attempt_at, state, last_error, last_attempt_at, what, log_sequence";

    /// <summary>A message's bytes: its own, or its log entry's (<see cref="Columns"/>).</summary>
    private const string Payload = "COALESCE(payload, " + LoggedPayload + ")";

    /// <summary>The payload of the log entry a message refers to (<c>log_sequence</c>).</summary>
    private const string LoggedPayload = "(SELECT message_log.payload FROM message_log WHERE message_log.sequence = outbound_message.log_sequence)";
    private const int MaxErrorLength = 1000;

    private static readonly string Pending = DeliveryState.Pending.ToString();
    private static readonly string Delivered = DeliveryState.Delivered.ToString();
    private static readonly string Failed = DeliveryState.Failed.ToString();

    /// <summary>
    /// Queues the messages the entries hand over, in the message log's transaction that logs them: those queued for
    /// delivery (<see cref="Core.Security.MessageLogRecord.QueuedForDelivery"/>) pending, due at once, for their
    /// destination; those held in the failed queue (<see cref="Core.Security.MessageLogRecord.HeldInFailedQueue"/>) there,
    /// with no destination and one attempt made (not sent) at the record's time. Each message's bytes are its entry's
    /// payload, which the row refers to (<c>log_sequence</c>) rather than copies: a device response is written once.
    /// </summary>
    internal static async Task QueueAsync(AppendWrites writes, IReadOnlyList<Core.Security.MessageLogEntry> entries, CancellationToken cancellationToken)
    {
        const string Insert =
            "INSERT INTO outbound_message (user_id, destination, correlation, log_sequence, enqueued_at, attempts, next_attempt_at, state, last_error, last_attempt_at, what) " +
            "VALUES (@user, @destination, @correlation, @entry, @now, @attempts, @now, @state, @error, @attempted, @what)";
        foreach (var entry in entries)
        {
            var record = entry.Record;
            (string? Destination, int Attempts, string State, string? Error, long? Attempted, string? What) message;
            if (record.QueuedForDelivery is { } queued)
            {
                message = (queued.Destination.ToString(), 0, Pending, null, null, queued.What);
            }
            else if (record.HeldInFailedQueue is { } held)
            {
                message = (null, 1, Failed, StorableError(held.Error), record.At.ToUnixTimeTicks(), held.What);
            }
            else
            {
                continue;
            }
            // The message log refuses either without a user, a correlation or a message.
            await writes.RunAsync(Insert, cancellationToken,
                ("@user", record.User!.Value.ToString()), ("@destination", message.Destination), ("@correlation", record.Correlation!),
                ("@entry", entry.Sequence), ("@now", record.At.ToUnixTimeTicks()), ("@attempts", message.Attempts),
                ("@state", message.State), ("@error", message.Error), ("@attempted", message.Attempted), ("@what", message.What));
        }
    }

    /// <summary>
    /// Gives the messages whose bytes are the log entries after <paramref name="after"/> through <paramref name="through"/>
    /// those bytes, in the transaction that removes the entries (<see cref="SqlMessageLog.RemoveThroughAsync"/>): a message
    /// keeps its bytes, pending, failed or delivered, whatever is removed from the log.
    /// </summary>
    internal static async Task KeepPayloadsAsync(DbConnection connection, DbTransaction transaction, long after, long through, CancellationToken cancellationToken)
    {
        await using var keep = connection.Command(
                $"UPDATE outbound_message SET payload = {LoggedPayload}, log_sequence = NULL WHERE log_sequence > @after AND log_sequence <= @through", transaction)
            .With("@after", after)
            .With("@through", through);
        await keep.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<OutboundMessage>> ClaimDueAsync(Instant now, int max, Duration lease, IReadOnlyCollection<Eui64>? exceptUsers = null, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(max);
        if (lease <= Duration.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(lease), lease, "a claim lease must be positive");
        }
        var except = ExceptUsers(exceptUsers);
        await using var connection = await open(cancellationToken);
        await using var command = connection.Command(
                // Each attempt goes to the user's response URL as it is now (a user with none any more keeps the last one, if any).
                "UPDATE outbound_message SET claimed_until = @until, " +
                "destination = COALESCE((SELECT response_url FROM dcc_user WHERE dcc_user.id = outbound_message.user_id), destination) WHERE id IN (" +
                $"SELECT id FROM outbound_message WHERE state = '{DeliveryState.Pending}' AND next_attempt_at <= @now AND (claimed_until IS NULL OR claimed_until <= @now) " +
                (except.Count == 0 ? "" : $"AND user_id NOT IN ({string.Join(", ", except.Select((_, i) => $"@except{i}"))}) ") +
                "ORDER BY next_attempt_at, id LIMIT @max" + (skipLocked ? " FOR UPDATE SKIP LOCKED" : "") + ") " +
                // Its user's response URL removed since it was queued, or never set: not sent, to the one it kept or anywhere (NoResponseUrl).
                $"RETURNING {Columns}, EXISTS (SELECT 1 FROM dcc_user WHERE dcc_user.id = outbound_message.user_id AND dcc_user.response_url IS NULL)")
            .With("@until", (now + lease).ToUnixTimeTicks())
            .With("@now", now.ToUnixTimeTicks())
            .With("@max", max);
        for (var i = 0; i < except.Count; i++)
        {
            command.With($"@except{i}", except[i]);
        }
        var claimed = await command.ReadAllAsync(ReadMessage, cancellationToken);
        // RETURNING gives no order; hand them out oldest due first.
        return [.. claimed.OrderBy(m => m.NextAttemptAt).ThenBy(m => m.Id)];
    }

    /// <summary>
    /// The users a claim leaves out (<see cref="ClaimDueAsync"/>), as stored, one parameter each: their number padded to a
    /// power of two with the last of them, so that the claim's text takes a handful of forms however many are left out
    /// (PostgreSQL prepares each form a connection runs often, and keeps a few dozen).
    /// </summary>
    private static List<string> ExceptUsers(IReadOnlyCollection<Eui64>? users)
    {
        if (users is null || users.Count == 0)
        {
            return [];
        }
        var except = users.Select(u => u.ToString()).Distinct(StringComparer.Ordinal).ToList();
        var padded = (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)except.Count);
        except.AddRange(Enumerable.Repeat(except[^1], padded - except.Count));
        return except;
    }

    /// <summary>Why an attempt failed, as the queue keeps it: its start, at most <see cref="MaxErrorLength"/> characters, storable.</summary>
    private static string StorableError(string error) => Db.Storable(Core.Excerpt.Start(error, MaxErrorLength));

    /// <summary>
    /// Records the delivery attempts the records settle (<see cref="Core.Security.MessageLogRecord.SettlesDelivery"/>), in
    /// the message log's transaction that logs them: a delivered message is delivered whatever its state (a slower node may
    /// have recorded a failure meanwhile); a failed attempt at a message still pending makes it due again at its next
    /// attempt, or moves it to the failed queue when it has none, and changes nothing once the message is delivered or
    /// failed. An attempt at a message since purged changes nothing.
    /// </summary>
    internal static async Task SettleAsync(AppendWrites writes, IReadOnlyList<Core.Security.MessageLogRecord> records, CancellationToken cancellationToken)
    {
        foreach (var record in records)
        {
            if (record.SettlesDelivery is not { } attempt)
            {
                continue;
            }
            var at = ("@at", (object?)record.At.ToUnixTimeTicks());
            var id = ("@id", (object?)attempt.MessageId);
            if (attempt.Error is null)
            {
                // Not conditional on the state: a delivery is a fact even when a slower node has recorded a failure meanwhile.
                await writes.RunAsync("UPDATE outbound_message SET state = @delivered, attempts = attempts + 1, last_attempt_at = @at, claimed_until = NULL WHERE id = @id", cancellationToken,
                    ("@delivered", Delivered), at, id);
            }
            else if (attempt.NextAttemptAt is { } next)
            {
                await writes.RunAsync("UPDATE outbound_message SET next_attempt_at = @next, attempts = attempts + 1, last_attempt_at = @at, last_error = @error, claimed_until = NULL WHERE id = @id AND state = @pending", cancellationToken,
                    ("@next", next.ToUnixTimeTicks()), at, ("@error", StorableError(attempt.Error)), id, ("@pending", Pending));
            }
            else
            {
                await writes.RunAsync("UPDATE outbound_message SET state = @failed, attempts = attempts + 1, last_attempt_at = @at, last_error = @error, claimed_until = NULL WHERE id = @id AND state = @pending", cancellationToken,
                    ("@failed", Failed), at, ("@error", StorableError(attempt.Error)), id, ("@pending", Pending));
            }
        }
    }

    public async Task<OutboundMessage?> FindAsync(long id, CancellationToken cancellationToken = default)
    {
        await using var connection = await open(cancellationToken);
        await using var command = connection.Command($"SELECT {Columns} FROM outbound_message WHERE id = @id").With("@id", id);
        var found = await command.ReadAllAsync(ReadMessage, cancellationToken);
        return found.Count == 0 ? null : found[0];
    }

    public async Task<IReadOnlyList<OutboundMessage>> ListAsync(DeliveryState state, Eui64? user = null, int? max = null, CancellationToken cancellationToken = default)
    {
        if (max is <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(max), max, "list at least one message");
        }
        var order = state switch
        {
            DeliveryState.Failed => "last_attempt_at, id",
            DeliveryState.Pending => "next_attempt_at, id",
            _ => "id",
        };
        await using var connection = await open(cancellationToken);
        await using var command = InState(connection, state, user, $"SELECT {Columns}", $" ORDER BY {order}" + (max is { } most ? $" LIMIT {most}" : ""));
        return await command.ReadAllAsync(ReadMessage, cancellationToken);
    }

    public async Task<long> CountAsync(DeliveryState state, Eui64? user = null, CancellationToken cancellationToken = default)
    {
        await using var connection = await open(cancellationToken);
        await using var command = InState(connection, state, user, "SELECT COUNT(*)", "");
        return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture);
    }

    public async Task<IReadOnlyList<Eui64>> UsersWithFailedAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await open(cancellationToken);
        await using var command = InState(connection, DeliveryState.Failed, null, "SELECT DISTINCT user_id", " ORDER BY user_id");
        return await command.ReadAllAsync(reader => Eui64.Parse(reader.GetString(0)), cancellationToken);
    }

    /// <summary>
    /// <paramref name="select"/> over the messages in <paramref name="state"/>, of one user or of all, then <paramref name="tail"/>.
    /// The state is written as a literal (an enum member's name, never input), as in every query here that picks messages
    /// by state: each of the queue's indexes covers the messages of one state (migrations 0039, 0040), and a partial index
    /// serves a query that names its state, not a parameter.
    /// </summary>
    private static DbCommand InState(DbConnection connection, DeliveryState state, Eui64? user, string select, string tail)
    {
        var command = connection.Command($"{select} FROM outbound_message WHERE state = '{state}'" + (user is null ? "" : " AND user_id = @user") + tail);
        if (user is { } u)
        {
            command.With("@user", u.ToString());
        }
        return command;
    }

    public async Task<int> RequeueFailedAsync(Eui64? user, Instant now, Instant? lastAttemptBefore = null, int? max = null, CancellationToken cancellationToken = default)
    {
        if (max is <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(max), max, "requeue at least one message");
        }
        var wanted = max ?? int.MaxValue;
        await using var connection = await open(cancellationToken);
        // A chunk per statement, each its own transaction: a failed queue of millions goes back without holding the
        // store's write lock (SQLite's is the whole database's) for all of them at once.
        await using var command = InState(
                connection,
                DeliveryState.Failed,
                user,
                // The state checked again outside the subquery: on PostgreSQL a row changed meanwhile (delivered by
                // another node) is re-read after its lock, and only the outer condition sees the change.
                $"UPDATE outbound_message SET state = @pending, next_attempt_at = @now, claimed_until = NULL WHERE state = '{DeliveryState.Failed}' AND id IN (SELECT id",
                (lastAttemptBefore is null ? "" : " AND last_attempt_at < @before") + " ORDER BY last_attempt_at, id LIMIT @chunk)")
            .With("@pending", Pending)
            .With("@now", now.ToUnixTimeTicks());
        if (lastAttemptBefore is { } before)
        {
            command.With("@before", before.ToUnixTimeTicks());
        }
        var chunk = command.With("@chunk", 0).Parameters["@chunk"];
        var requeued = 0;
        while (requeued < wanted)
        {
            var size = Math.Min(RequeueChunk, wanted - requeued);
            chunk.Value = size;
            var moved = await command.ExecuteNonQueryAsync(cancellationToken);
            requeued += moved;
            if (moved < size)
            {
                break;
            }
        }
        return requeued;
    }

    /// <summary>Failed messages sent back to pending per statement (<see cref="RequeueFailedAsync"/>).</summary>
    private const int RequeueChunk = 5_000;

    public async Task<int> ReleaseClaimsAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await open(cancellationToken);
        await using var command = connection.Command($"UPDATE outbound_message SET claimed_until = NULL WHERE state = '{DeliveryState.Pending}' AND claimed_until IS NOT NULL");
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<PurgedMessage>> PurgeExpiredFailedAsync(Instant queuedBefore, int max, CancellationToken cancellationToken = default)
    {
        if (max <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(max), max, "purge at least one message");
        }
        await using var connection = await open(cancellationToken);
        await using var command = connection.Command(
                // The conditions again outside the subquery: a message requeued meanwhile is not purged (see RequeueFailedAsync).
                $"DELETE FROM outbound_message WHERE id IN (SELECT id FROM outbound_message WHERE state = '{DeliveryState.Failed}' AND enqueued_at < @before ORDER BY enqueued_at, id LIMIT @max) AND state = '{DeliveryState.Failed}' AND enqueued_at < @before " +
                "RETURNING id, user_id, correlation, what, attempts, last_error, enqueued_at")
            .With("@before", queuedBefore.ToUnixTimeTicks())
            .With("@max", max);
        var purged = await command.ReadAllAsync(reader => new PurgedMessage(
            reader.GetInt64(0),
            Eui64.Parse(reader.GetString(1)),
            reader.GetString(2),
            reader.GetNullableString(3),
            reader.GetInt32(4),
            reader.GetNullableString(5),
            Instant.FromUnixTimeTicks(reader.GetInt64(6))), cancellationToken);
        // RETURNING gives the rows in no particular order.
        return [.. purged.OrderBy(m => m.EnqueuedAt).ThenBy(m => m.Id)];
    }

    public async Task<int> PurgeDeliveredAsync(Instant olderThan, CancellationToken cancellationToken = default)
    {
        await using var connection = await open(cancellationToken);
        // A chunk per transaction, the oldest first, as RequeueFailedAsync's: a backlog of millions (the retention
        // shortened, or the purge long stopped) goes without holding the store's write lock (SQLite's is the whole
        // database's) for all of them at once, which kept the dispatcher's and the gateway's appends waiting past
        // their busy timeout. SQLite has no DELETE … LIMIT, so the chunk is picked by a subquery. Each chunk is
        // committed through commit, so that a test's stand-in sees each.
        var purged = 0;
        while (true)
        {
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            await using var command = connection.Command(
                    $"DELETE FROM outbound_message WHERE id IN (SELECT id FROM outbound_message WHERE state = '{DeliveryState.Delivered}' AND last_attempt_at < @before " +
                    "ORDER BY last_attempt_at, id LIMIT @chunk)", transaction)
                .With("@before", olderThan.ToUnixTimeTicks())
                .With("@chunk", purgeChunk);
            var deleted = await command.ExecuteNonQueryAsync(cancellationToken);
            await commit(transaction, cancellationToken);
            purged += deleted;
            if (deleted < purgeChunk)
            {
                return purged;
            }
        }
    }

    /// <summary>Delivered messages deleted per transaction (<see cref="PurgeDeliveredAsync"/>).</summary>
    internal const int PurgeChunk = 5_000;

    private static OutboundMessage ReadMessage(DbDataReader reader) => new(
        reader.GetInt64(0),
        Eui64.Parse(reader.GetString(1)),
        reader.IsDBNull(2) ? null : new Uri(reader.GetString(2)),
        reader.GetString(3),
        // None only when its log entry was deleted other than by RemoveThroughAsync, which gives the message them first.
        reader.IsDBNull(4)
            ? throw new InvalidOperationException($"message {reader.GetInt64(0)} has no bytes: the message log entry that handed it over is missing from the store, deleted other than by archiving the log")
            : (byte[])reader.GetValue(4),
        Instant.FromUnixTimeTicks(reader.GetInt64(5)),
        reader.GetInt32(6),
        Instant.FromUnixTimeTicks(reader.GetInt64(7)),
        Enum.Parse<DeliveryState>(reader.GetString(8)),
        reader.GetNullableString(9),
        reader.IsDBNull(10) ? null : Instant.FromUnixTimeTicks(reader.GetInt64(10)),
        reader.GetNullableString(11),
        reader.IsDBNull(12) ? null : reader.GetInt64(12),
        NoResponseUrl: reader.FieldCount > 13 && Convert.ToBoolean(reader.GetValue(13), System.Globalization.CultureInfo.InvariantCulture));
}
