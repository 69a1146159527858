using System.Data.Common;
using System.Runtime.CompilerServices;
using NodaTime;
using OpenDcc.Core;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Security;

namespace OpenDcc.Storage;

/// <summary>
/// The message log over SQL: each append locks the chain head row, chains the new records onto it, writes them,
/// raises the replay counters of the accepted requests among them (<see cref="MessageLogRecord.AcceptedCounter"/>),
/// records the device commands they acknowledge and clears those the others answer (<see cref="SqlUnansweredCommandStore"/>),
/// makes final the local commands' answers the accepted 8.13s among them took (<see cref="SqlLocalCommandStore"/>),
/// makes the inventory changes of the accepted inventory requests (<see cref="SqlInventoryStore.ApplyAsync"/>),
/// queues the messages they hand over, or holds them in the failed queue for users with no response URL, each referring
/// to its entry for its bytes (<see cref="SqlDeliveryStore.QueueAsync"/>), settles the delivery attempts they log (<see cref="SqlDeliveryStore.SettleAsync"/>)
/// and moves the head, all in one transaction, so the chain stays linear however many writers there are. The writes
/// after the entries go together where the provider batches them (<see cref="AppendWrites"/>).
/// The engines differ only in how the head is locked and how rows are bulk-written. The DSP's signed checkpoints of the
/// head (<see cref="IMessageLogCheckpoints"/>) are kept beside the entries, and stay when those are removed.
/// </summary>
/// <remarks>
/// A commit whose answer is lost (PostgreSQL restarted as it committed) may have been made or not: the head, read again
/// once the store answers, says which (this process is the log's one writer: the gate, and the hub lease across
/// processes). Made, the append succeeds; not made, it fails with the store's fault, as any other; not known within
/// <paramref name="outcomeWait"/> (default 30 s), it fails with <see cref="CommitOutcomeUnknownException"/>. One that
/// PostgreSQL aborts to break a deadlock (another transaction locking a device row and the comms hub it names in the
/// other order) is made again from the start (<see cref="Db.RetryAbortedAsync{T}"/>), its head read anew.
/// </remarks>
/// <param name="commit">How a transaction is committed: <see cref="DbTransaction.CommitAsync(CancellationToken)"/>, or a test's stand-in.</param>
internal abstract class SqlMessageLog(Func<CancellationToken, Task<DbConnection>> open, Func<DbTransaction, CancellationToken, Task>? commit = null, TimeSpan? outcomeWait = null) : IMessageLog, IMessageLogCheckpoints
{
    private readonly SemaphoreSlim gate = new(1, 1);
    private readonly Func<DbTransaction, CancellationToken, Task> commit = commit ?? Db.Commit;
    private readonly TimeSpan outcomeWait = outcomeWait ?? Db.CommitOutcomeWait;

    protected const string Columns = "sequence, at, direction, user_id, correlation, outcome, payload, previous_hash, hash";

    /// <summary>Selects the head row, locking it until the transaction ends.</summary>
    protected abstract string SelectHeadForUpdate { get; }

    /// <summary>Whether a row read to be written is locked with <c>FOR UPDATE</c> (PostgreSQL); SQLite's write lock is the database's.</summary>
    protected abstract bool LockRows { get; }

    /// <summary>The payload as an array for a parameter, without a copy when the memory is a whole array (as signed messages and request bodies are).</summary>
    protected static byte[] PayloadBytes(ReadOnlyMemory<byte> payload) =>
        System.Runtime.InteropServices.MemoryMarshal.TryGetArray(payload, out var segment) && segment.Offset == 0 && segment.Count == segment.Array!.Length
            ? segment.Array
            : payload.ToArray();

    /// <summary>
    /// Writes the chained entries' rows as the engine bulk-writes them, and nothing else (no head, no counters). Internal
    /// for the bench's message-log baseline, which writes the same rows the same way without the chain.
    /// </summary>
    protected internal abstract Task InsertAsync(DbConnection connection, DbTransaction transaction, IReadOnlyList<MessageLogEntry> entries, CancellationToken cancellationToken);

    // The gate keeps one appender at a time inside this process, so appenders queue here rather than poll SQLite's
    // file lock; the database lock orders appenders across processes.
    public async Task<IReadOnlyList<MessageLogEntry>> AppendAsync(IReadOnlyList<MessageLogRecord> records, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(records);
        if (records.Count == 0)
        {
            return [];
        }
        if (records.FirstOrDefault(r => r.AcceptedCounter is not null && r.User is null) is { } nameless)
        {
            throw new ArgumentException($"the record of {nameless.Correlation} has an accepted counter but no user, whose counter it would be", nameof(records));
        }
        if (records.FirstOrDefault(r => (r.HeldInFailedQueue is not null || r.QueuedForDelivery is not null) && (r.User is null || string.IsNullOrWhiteSpace(r.Correlation))) is { } unaddressed)
        {
            throw new ArgumentException($"a record queued for delivery or held in the failed queue needs its user and its correlation ({unaddressed.User}, {unaddressed.Correlation})", nameof(records));
        }
        if (records.FirstOrDefault(r => r.HeldInFailedQueue is not null && r.QueuedForDelivery is not null) is { } both)
        {
            throw new ArgumentException($"the record of {both.Correlation} is both queued for delivery and held in the failed queue; a message is one or the other", nameof(records));
        }
        if (records.FirstOrDefault(r => (r.HeldInFailedQueue is not null || r.QueuedForDelivery is not null) && r.Payload.IsEmpty) is { } empty)
        {
            // The queue reads a message's bytes from its entry: an entry without them would queue nothing to send.
            throw new ArgumentException($"the record of {empty.Correlation} is queued for delivery or held in the failed queue without the message it hands over (its payload)", nameof(records));
        }
        await gate.WaitAsync(cancellationToken);
        try
        {
            // Aborted by the server (a deadlock), the whole append is made again: its head read anew, its entries chained anew.
            return await Db.RetryAbortedAsync(async () =>
            {
                await using var connection = await open(cancellationToken);
                await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
                long lastSequence;
                byte[] lastHash;
                await using (var head = connection.Command(SelectHeadForUpdate, transaction))
                await using (var reader = await head.ExecuteReaderAsync(cancellationToken))
                {
                    if (!await reader.ReadAsync(cancellationToken))
                    {
                        throw new InvalidOperationException("the message log head row is missing; the store is damaged");
                    }
                    lastSequence = reader.GetInt64(0);
                    lastHash = (byte[])reader.GetValue(1);
                }
                // The inventory first: a device changed meanwhile fails the append before its entries are chained.
                await SqlInventoryStore.ApplyAsync(connection, transaction, records, LockRows, cancellationToken);
                var entries = MessageLogChain.Extend(lastSequence, lastHash, records);
                await InsertAsync(connection, transaction, entries, cancellationToken);
                await using (var writes = new AppendWrites(connection, transaction))
                {
                    await RaiseReplayCountersAsync(writes, records, cancellationToken);
                    foreach (var reset in records.Where(r => r.ResetsCounterTo is not null))
                    {
                        await writes.RunAsync(SqlReplayCounterStore.Reset, cancellationToken,
                            ("@o", (reset.User ?? throw new ArgumentException("a counter reset needs the user whose counter it is", nameof(records))).ToString()),
                            ("@c", SqlReplayCounterStore.Format(reset.ResetsCounterTo!.Value)));
                    }
                    await SqlUnansweredCommandStore.ApplyAsync(writes, records, cancellationToken);
                    await SqlLocalCommandStore.ConfirmReturnsAsync(writes, records, cancellationToken);
                    await SqlDeliveryStore.QueueAsync(writes, entries, cancellationToken);
                    await SqlDeliveryStore.SettleAsync(writes, records, cancellationToken);
                    await writes.RunAsync("UPDATE message_log_head SET sequence = @s, hash = @h WHERE id = 1", cancellationToken, ("@s", entries[^1].Sequence), ("@h", entries[^1].Hash));
                    await writes.FlushAsync(cancellationToken);
                }
                try
                {
                    await commit(transaction, cancellationToken);
                }
                catch (Exception e) when (StoreAway.Is(e))
                {
                    if (await CommittedAsync(lastSequence, entries[^1], e, cancellationToken))
                    {
                        return entries;
                    }
                    throw;
                }
                return entries;
            }, cancellationToken);
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>
    /// Whether the commit that failed with <paramref name="fault"/> was made: the head is at <paramref name="last"/> (made)
    /// or still at <paramref name="before"/> (not), read on a new connection, tried again while the store is away, for
    /// at most <see cref="outcomeWait"/>; <see cref="CommitOutcomeUnknownException"/> when the store stays away, or the
    /// head is at neither (another writer: it cannot be told). Read as the append reads it, under its lock on
    /// PostgreSQL, so a commit the server is still making (its client gone) is waited for, not read past.
    /// </summary>
    private async Task<bool> CommittedAsync(long before, MessageLogEntry last, Exception fault, CancellationToken cancellationToken)
    {
        var (answered, head) = await Db.WhenStoreAnswersAsync<(long Sequence, byte[] Hash)?>(async timeout =>
        {
            await using var connection = await open(cancellationToken);
            await using var read = connection.Command(SelectHeadForUpdate);
            read.CommandTimeout = timeout;
            await using var reader = await read.ExecuteReaderAsync(cancellationToken);
            return await reader.ReadAsync(cancellationToken) ? (reader.GetInt64(0), (byte[])reader.GetValue(1)) : null;
        }, outcomeWait, cancellationToken);
        return (answered, head) switch
        {
            (true, ({ } sequence, { } hash)) when sequence == last.Sequence && hash.AsSpan().SequenceEqual(last.Hash) => true,
            (true, ({ } sequence, _)) when sequence == before => false,
            _ => throw new CommitOutcomeUnknownException(fault),
        };
    }

    private static async Task RaiseReplayCountersAsync(AppendWrites writes, IReadOnlyList<MessageLogRecord> records, CancellationToken cancellationToken)
    {
        foreach (var record in records.Where(r => r.AcceptedCounter is not null))
        {
            // AppendAsync has refused a counter without a user.
            var originator = record.User!.Value.ToString();
            var counter = SqlReplayCounterStore.Format(record.AcceptedCounter!.Value);
            await writes.RunAsync(SqlReplayCounterStore.Raise, cancellationToken,
                ("@o", originator), ("@c", counter), ("@t", record.OpensTransform?.Target.ToString()), ("@v", record.OpensTransform?.ServiceReferenceVariant));
            if (record.ClosesTransform)
            {
                await writes.RunAsync(SqlReplayCounterStore.Close, cancellationToken, ("@o", originator), ("@c", counter));
            }
        }
    }

    public IAsyncEnumerable<MessageLogEntry> ReadAsync(long fromSequence = 1, CancellationToken cancellationToken = default) =>
        ReadWhereAsync("sequence >= @from", [("@from", fromSequence)], cancellationToken);

    public IAsyncEnumerable<MessageLogEntry> ReadAsync(long fromSequence, long toSequence, CancellationToken cancellationToken = default) =>
        ReadWhereAsync("sequence >= @from AND sequence <= @to", [("@from", fromSequence), ("@to", toSequence)], cancellationToken);

    public async IAsyncEnumerable<MessageLogEntry> ReadCorrelatedAsync(string correlation, long fromSequence, long toSequence, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(correlation);
        // The requests of the same user whose entries name this one in their outcome (an 8.13 returning its command's
        // answer), by the correlation followed by no further digit: ...:1000 is not named by an outcome naming
        // ...:10000. Another user's requests naming it (refused) are theirs to see.
        var correlations = new List<string> { correlation };
        if (RequestId.TryParse(correlation, out var request))
        {
            await using var connection = await open(cancellationToken);
            await using var naming = connection.Command(
                    "SELECT DISTINCT correlation, outcome FROM message_log WHERE sequence >= @from AND sequence <= @to AND user_id = @user AND correlation IS NOT NULL AND correlation <> @correlation AND outcome LIKE @naming")
                .With("@from", fromSequence).With("@to", toSequence).With("@user", request.Originator.ToString()).With("@correlation", correlation).With("@naming", "%" + correlation + "%");
            await using var reader = await naming.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var (other, outcome) = (reader.GetString(0), reader.GetString(1));
                if (!correlations.Contains(other) && Names(outcome, correlation))
                {
                    correlations.Add(other);
                    if (correlations.Count > MaxNaming)
                    {
                        break;
                    }
                }
            }
        }
        var parameters = new List<(string, object)> { ("@from", fromSequence), ("@to", toSequence) };
        parameters.AddRange(correlations.Select((c, i) => ($"@c{i}", (object)c)));
        await foreach (var entry in ReadWhereAsync(
            $"sequence >= @from AND sequence <= @to AND correlation IN ({string.Join(", ", correlations.Select((_, i) => $"@c{i}"))})", [.. parameters], cancellationToken))
        {
            yield return entry;
        }
    }

    /// <summary>At most this many requests naming one are read with it: each is a query parameter, and engines cap those.</summary>
    private const int MaxNaming = 1_000;

    private static bool Names(string outcome, string correlation)
    {
        for (var at = outcome.IndexOf(correlation, StringComparison.Ordinal); at >= 0; at = outcome.IndexOf(correlation, at + 1, StringComparison.Ordinal))
        {
            var end = at + correlation.Length;
            if (end == outcome.Length || !char.IsAsciiDigit(outcome[end]))
            {
                return true;
            }
        }
        return false;
    }

    private async IAsyncEnumerable<MessageLogEntry> ReadWhereAsync(string condition, (string Name, object Value)[] parameters, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var connection = await open(cancellationToken);
        await using var command = connection.Command($"SELECT {Columns} FROM message_log WHERE {condition} ORDER BY sequence");
        foreach (var (name, value) in parameters)
        {
            command.With(name, value);
        }
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var sequence = reader.GetInt64(0);
            yield return new MessageLogEntry(sequence, ReadRecord(reader, sequence), (byte[])reader.GetValue(7), (byte[])reader.GetValue(8));
        }
    }

    /// <summary>
    /// The record of the row <paramref name="reader"/> is on, each field as an append writes it, or
    /// <see cref="UnreadableLogEntryException"/>: a direction of 257, hashed as its low byte (in), would pass the chain's
    /// check while the entry reads as out; a user in lower case would pass while no query by user finds it.
    /// </summary>
    private static MessageLogRecord ReadRecord(DbDataReader reader, long sequence)
    {
        var ticks = reader.GetInt64(1);
        var direction = reader.GetInt64(2);
        var user = reader.GetNullableString(3);
        if (ticks < Instant.MinValue.ToUnixTimeTicks() || ticks > Instant.MaxValue.ToUnixTimeTicks())
        {
            throw new UnreadableLogEntryException(sequence, $"its time, {ticks} ticks, is out of range");
        }
        if (direction is not ((long)MessageDirection.Inbound or (long)MessageDirection.Outbound))
        {
            throw new UnreadableLogEntryException(sequence, $"its direction is {direction}, neither 1 (in) nor 2 (out)");
        }
        Eui64? id = null;
        if (user is not null)
        {
            id = Eui64.TryParse(user, out var parsed) && parsed.ToString() == user
                ? parsed
                : throw new UnreadableLogEntryException(sequence, $"its user '{user}' is not an EUI-64 as the log writes one (90-B3-D5-1F-30-01-00-00)");
        }
        return new MessageLogRecord(
            Instant.FromUnixTimeTicks(ticks), (MessageDirection)direction, id, reader.GetNullableString(4), reader.GetString(5), (byte[])reader.GetValue(6));
    }

    public async Task<(long Sequence, byte[] Hash)> ReadBaseAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await open(cancellationToken);
        await using var command = connection.Command("SELECT sequence, hash FROM message_log_base WHERE id = 1");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? (reader.GetInt64(0), (byte[])reader.GetValue(1))
            : throw new InvalidOperationException("the message log base row is missing; the store is damaged");
    }

    public async Task<long> RemoveThroughAsync(long sequence, CancellationToken cancellationToken = default)
    {
        var (first, _) = await ReadBaseAsync(cancellationToken);
        var head = (await ReadHeadAsync(cancellationToken))?.Sequence ?? 0;
        if (sequence <= first || sequence >= head)
        {
            throw new ArgumentOutOfRangeException(nameof(sequence), sequence, head - first < 2
                ? "no entry can be removed: the log holds at most its head"
                : $"entries {first + 1} to {head - 1} can be removed (the head stays)");
        }
        long removed = 0;
        for (var through = first; through < sequence;)
        {
            var next = Math.Min(sequence, through + RemoveChunk);
            // Aborted by PostgreSQL to break a deadlock, the chunk is made again: giving queued messages their bytes locks
            // their rows, which an append settling attempts at two of them may lock in the other order.
            var after = through;
            removed += await Db.RetryAbortedAsync(() => RemoveChunkAsync(after, next, cancellationToken), cancellationToken);
            through = next;
        }
        return removed;
    }

    /// <summary>Removes the entries after <paramref name="after"/> through <paramref name="through"/> in one transaction, and moves the base to the last (<see cref="RemoveThroughAsync"/>).</summary>
    private async Task<long> RemoveChunkAsync(long after, long through, CancellationToken cancellationToken)
    {
        await using var connection = await open(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        byte[] hash;
        await using (var read = connection.Command("SELECT hash FROM message_log WHERE sequence = @s", transaction).With("@s", through))
        {
            hash = await read.ExecuteScalarAsync(cancellationToken) as byte[] ?? throw new InvalidOperationException($"entry {through} is missing from the message log");
        }
        // The queued messages whose bytes are these entries' keep them: given them before the entries go.
        await SqlDeliveryStore.KeepPayloadsAsync(connection, transaction, after, through, cancellationToken);
        long removed;
        await using (var delete = connection.Command("DELETE FROM message_log WHERE sequence > @after AND sequence <= @through", transaction)
            .With("@after", after)
            .With("@through", through))
        {
            removed = await delete.ExecuteNonQueryAsync(cancellationToken);
        }
        // Compare and set: a second removal at the same time finds the base moved and undoes its chunk.
        await using (var move = connection.Command("UPDATE message_log_base SET sequence = @s, hash = @h WHERE id = 1 AND sequence = @was", transaction)
            .With("@s", through)
            .With("@h", hash)
            .With("@was", after))
        {
            if (await move.ExecuteNonQueryAsync(cancellationToken) != 1)
            {
                throw new InvalidOperationException("the message log's base moved meanwhile: another removal is running");
            }
        }
        await transaction.CommitAsync(cancellationToken);
        return removed;
    }

    /// <summary>Entries removed per transaction (<see cref="RemoveThroughAsync"/>): appends are not held behind a removal of millions.</summary>
    private const int RemoveChunk = 5_000;

    public async Task<(long Sequence, byte[] Hash)?> ReadHeadAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await open(cancellationToken);
        await using var command = connection.Command("SELECT sequence, hash FROM message_log_head WHERE id = 1");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken) || reader.GetInt64(0) == 0)
        {
            return null;
        }
        return (reader.GetInt64(0), (byte[])reader.GetValue(1));
    }

    // Of a sequence checkpointed already, the first is kept: a hub whose add was made but whose answer was lost (the store
    // away as it committed) signs the same head again at its next tick.
    public async Task AddCheckpointAsync(MessageLogCheckpoint checkpoint, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        await using var connection = await open(cancellationToken);
        await using var add = connection.Command(
                "INSERT INTO message_log_checkpoint (sequence, hash, at, signature, signer, previous) VALUES (@s, @h, @at, @sig, @signer, @previous) ON CONFLICT (sequence) DO NOTHING")
            .With("@s", checkpoint.Sequence)
            .With("@h", checkpoint.Hash)
            .With("@at", checkpoint.At.ToUnixTimeTicks())
            .With("@sig", checkpoint.Signature)
            .With("@signer", checkpoint.Signer)
            .With("@previous", checkpoint.Previous);
        await add.ExecuteNonQueryAsync(cancellationToken);
    }

    public async IAsyncEnumerable<MessageLogCheckpoint> ReadCheckpointsAsync(long fromSequence = 1, long toSequence = long.MaxValue, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await using var connection = await open(cancellationToken);
        await using var command = connection.Command(
                $"SELECT {CheckpointColumns} FROM message_log_checkpoint WHERE sequence >= @from AND sequence <= @to ORDER BY sequence")
            .With("@from", fromSequence)
            .With("@to", toSequence);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            yield return ReadCheckpoint(reader);
        }
    }

    public async Task<MessageLogCheckpoint?> ReadNewestCheckpointAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await open(cancellationToken);
        await using var command = connection.Command($"SELECT {CheckpointColumns} FROM message_log_checkpoint ORDER BY sequence DESC LIMIT 1");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? ReadCheckpoint(reader) : null;
    }

    private const string CheckpointColumns = "sequence, hash, at, signature, signer, previous";

    private static MessageLogCheckpoint ReadCheckpoint(DbDataReader reader)
    {
        var ticks = reader.GetInt64(2);
        // A time no hub writes (out of an Instant's range) is signed by none: read as the nearest, its signature fails.
        var at = Instant.FromUnixTimeTicks(Math.Clamp(ticks, Instant.MinValue.ToUnixTimeTicks(), Instant.MaxValue.ToUnixTimeTicks()));
        return new MessageLogCheckpoint(
            reader.GetInt64(0), (byte[])reader.GetValue(1), at, (byte[])reader.GetValue(3), (byte[])reader.GetValue(4), reader.IsDBNull(5) ? null : reader.GetInt64(5));
    }
}
