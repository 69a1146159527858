using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using NodaTime;
using OpenDcc.Core.Identifiers;

namespace OpenDcc.Core.Security;

public enum MessageDirection
{
    /// <summary>Received by OpenDcc (a service request, a device response).</summary>
    Inbound = 1,

    /// <summary>Sent by OpenDcc (a DUIS response, a delivered alert).</summary>
    Outbound = 2,
}

/// <summary>
/// One message as it went over the wire, with what became of it.
/// </summary>
/// <param name="At">When it was received or sent.</param>
/// <param name="User">The DCC user it came from or went to, when known (not for an unparseable request).</param>
/// <param name="Correlation">What ties a request to its responses, normally the DUIS RequestID text.</param>
/// <param name="Outcome">A DUIS response code (I0, I99, E2 …) or a named fault such as <c>AuthenticationFailure</c>.</param>
/// <param name="Payload">The raw bytes, exactly as received or sent.</param>
public sealed record MessageLogRecord(
    Instant At,
    MessageDirection Direction,
    Eui64? User,
    string? Correlation,
    string Outcome,
    ReadOnlyMemory<byte> Payload)
{
    /// <summary>
    /// For a service request that passed the replay check: its RequestID counter. The append that logs the request
    /// raises <see cref="User"/>'s replay counter (<see cref="IReplayCounterStore"/>) to it in the same transaction,
    /// so a request is durably counted as used exactly when it is durably logged. Not part of the entry itself (the
    /// payload holds the RequestID): read back, it is null.
    /// </summary>
    public ulong? AcceptedCounter { get; init; }

    /// <summary>
    /// For an accepted Transform (CV 4), with <see cref="AcceptedCounter"/>: the device and SRV whose Signed Pre-Command
    /// may come under the same RequestID, recorded with the counter (<see cref="IReplayCounterStore"/>) until that Signed
    /// Pre-Command or a request under a later counter is logged. Not part of the entry: read back, it is null.
    /// </summary>
    public OpenTransform? OpensTransform { get; init; }

    /// <summary>
    /// For a Signed Pre-Command accepted under its Transform's RequestID: the Transform recorded with the counter is
    /// closed in the transaction that logs it, so its RequestID is not taken a third time. Not part of the entry.
    /// </summary>
    public bool ClosesTransform { get; init; }

    /// <summary>
    /// For a service request whose I99 acknowledges device commands: those commands, recorded as unanswered
    /// (<see cref="Duis.IUnansweredCommandStore"/>) in the transaction that logs the request. Not part of the entry: read back, it is null.
    /// </summary>
    public IReadOnlyList<Duis.UnansweredCommand>? Acknowledges { get; init; }

    /// <summary>
    /// For the record of an acknowledged command's outcome that is logged rather than queued for delivery (the user has no
    /// response URL, or the alert was throttled): the command, no longer unanswered once this record is logged. Not part of the entry.
    /// </summary>
    public Duis.CommandKey? Answers { get; init; }

    /// <summary>
    /// For an accepted 8.13 that took a local command's answer: that command and the 8.13, whose mark on the answer
    /// (<see cref="Duis.ILocalCommandStore.MarkReturnedAsync"/>) is made final in the transaction that logs the request. Not part of the entry.
    /// </summary>
    public Duis.LocalReturn? Returns { get; init; }

    /// <summary>
    /// For an accepted inventory service request (8.3, 8.4, 8.14.x, 12.2): the change it makes, made in the transaction
    /// that logs it, or (a device changed meanwhile) neither (<see cref="Inventory.InventoryChangedException"/>). Not part of the entry.
    /// </summary>
    public Inventory.InventoryWrite? ChangesInventory { get; init; }

    /// <summary>
    /// For an operator's reset of <see cref="User"/>'s replay counter (a counter run away to its maximum): the counter it
    /// is lowered to, in the transaction that logs the reset, its open Transform closed. Not part of the entry.
    /// </summary>
    public ulong? ResetsCounterTo { get; init; }

    /// <summary>
    /// For a message to <see cref="User"/>, a DCC user with no response URL: put in the failed queue (<see cref="Delivery.FailedQueueHold"/>)
    /// in the transaction that logs it, so that it is both logged and held, or neither. The message is <see cref="Payload"/>,
    /// which the queue reads from the entry. Not part of the entry.
    /// </summary>
    public Delivery.FailedQueueHold? HeldInFailedQueue { get; init; }

    /// <summary>
    /// For the handing of a message to <see cref="User"/> over to delivery: queued (<see cref="Delivery.QueuedDelivery"/>)
    /// in the transaction that logs it, so that it is both logged and queued, or neither. The message is <see cref="Payload"/>,
    /// which the queue reads from the entry. Not part of the entry.
    /// </summary>
    public Delivery.QueuedDelivery? QueuedForDelivery { get; init; }

    /// <summary>
    /// For an attempt to deliver a queued message: its outcome, recorded on the queue in the transaction that logs the
    /// attempt (<see cref="Delivery.DeliveryAttempt"/>). Not part of the entry.
    /// </summary>
    public Delivery.DeliveryAttempt? SettlesDelivery { get; init; }
}

/// <summary>A record as stored: numbered from 1 and hash-chained to the entry before it.</summary>
public sealed record MessageLogEntry(long Sequence, MessageLogRecord Record, byte[] PreviousHash, byte[] Hash);

/// <summary>Where records are appended to the message log: the log itself, or a group commit in front of it (<see cref="MessageLogWriter"/>).</summary>
public interface IMessageLogAppender
{
    /// <summary>Appends records in order, atomically, and returns them as stored.</summary>
    Task<IReadOnlyList<MessageLogEntry>> AppendAsync(IReadOnlyList<MessageLogRecord> records, CancellationToken cancellationToken = default);
}

/// <summary>
/// The append-only message log. Every append extends a SHA-256 hash chain, so that a changed, removed or
/// reordered entry is found by <see cref="MessageLogChain.VerifyAsync"/>.
/// </summary>
public interface IMessageLog : IMessageLogAppender
{

    /// <summary>Entries from <paramref name="fromSequence"/> on, in sequence order.</summary>
    IAsyncEnumerable<MessageLogEntry> ReadAsync(long fromSequence = 1, CancellationToken cancellationToken = default);

    /// <summary>
    /// Entries from <paramref name="fromSequence"/> to <paramref name="toSequence"/>, in sequence order: for a reader that
    /// wants a stretch of the log. Bounded in the query, so a reader that stops early costs what it read, not the rest of
    /// the log (PostgreSQL sends a query's whole result, which the client must drain when the reader stops).
    /// </summary>
    IAsyncEnumerable<MessageLogEntry> ReadAsync(long fromSequence, long toSequence, CancellationToken cancellationToken = default);

    /// <summary>
    /// The entries from <paramref name="fromSequence"/> to <paramref name="toSequence"/> whose
    /// <see cref="MessageLogRecord.Correlation"/> is <paramref name="correlation"/> (a RequestID's text: the request, its
    /// responses, their deliveries), and for a RequestID those of its user's requests whose entries name it in their
    /// outcome (an 8.13 returning the answer to its command for local delivery), in sequence order. Read through the window, not an index: an
    /// index on the correlation would cost every append more than the gateway can spare.
    /// </summary>
    IAsyncEnumerable<MessageLogEntry> ReadCorrelatedAsync(string correlation, long fromSequence, long toSequence, CancellationToken cancellationToken = default);

    /// <summary>The sequence and hash of the last entry as recorded at append time (the chain head), or null when empty.</summary>
    Task<(long Sequence, byte[] Hash)?> ReadHeadAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// The sequence and hash of the last entry removed (archived, <see cref="RemoveThroughAsync"/>), which the first entry
    /// still held links to: 0 and <see cref="MessageLogChain.Genesis"/> while none has been.
    /// </summary>
    Task<(long Sequence, byte[] Hash)> ReadBaseAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Removes the oldest entries up to and including <paramref name="sequence"/>, which must be held and not the head, a
    /// chunk at a time, each chunk with the base moved to its last entry in the same transaction; for entries archived
    /// first. Appends go on meanwhile. The queued messages whose bytes are those of entries removed (the entries that
    /// handed them over, <see cref="Delivery.IDeliveryStore"/>) are given their own copy in the same transaction.
    /// </summary>
    /// <returns>How many were removed.</returns>
    Task<long> RemoveThroughAsync(long sequence, CancellationToken cancellationToken = default);
}

/// <summary>The outcome of re-computing the chain.</summary>
/// <param name="EntriesChecked">How many entries were read.</param>
/// <param name="FirstBrokenSequence">The first entry whose content, link or position is wrong; null when intact.</param>
/// <param name="Fault">What is wrong with it.</param>
public sealed record ChainVerification(long EntriesChecked, long? FirstBrokenSequence, string? Fault)
{
    public bool IsIntact => FirstBrokenSequence is null;
}

/// <summary>The hash chain over message log entries: how an entry's hash is computed, and the check of a whole log.</summary>
public static class MessageLogChain
{
    /// <summary>The "previous hash" of entry 1.</summary>
    public static ReadOnlyMemory<byte> Genesis { get; } = new byte[32];

    /// <summary>
    /// SHA-256 over the previous hash and an unambiguous encoding of every field: sequence, time (Unix ticks),
    /// direction, user, correlation, outcome and payload, variable-length fields length-prefixed.
    /// </summary>
    public static byte[] ComputeHash(long sequence, ReadOnlySpan<byte> previousHash, MessageLogRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        // The whole encoding in one buffer and one hash call: per field, a native call into the hash costs more than
        // hashing the field.
        var correlationLength = record.Correlation is null ? 0 : Encoding.UTF8.GetByteCount(record.Correlation);
        var outcomeLength = Encoding.UTF8.GetByteCount(record.Outcome);
        var payload = record.Payload.Span;
        var length = previousHash.Length + FixedLength + 4 + correlationLength + 4 + outcomeLength + 4 + payload.Length;
        var rented = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            var buffer = rented.AsSpan(0, length);
            previousHash.CopyTo(buffer);
            var at = previousHash.Length;
            BinaryPrimitives.WriteInt64BigEndian(buffer[at..], sequence);
            BinaryPrimitives.WriteInt64BigEndian(buffer[(at + 8)..], record.At.ToUnixTimeTicks());
            buffer[at + 16] = (byte)record.Direction;
            buffer[at + 17] = record.User.HasValue ? (byte)1 : (byte)0;
            BinaryPrimitives.WriteUInt64BigEndian(buffer[(at + 18)..], record.User?.Value ?? 0);
            at += FixedLength;
            at += WriteText(buffer[at..], record.Correlation, correlationLength);
            at += WriteText(buffer[at..], record.Outcome, outcomeLength);
            BinaryPrimitives.WriteInt32BigEndian(buffer[at..], payload.Length);
            payload.CopyTo(buffer[(at + 4)..]);
            return SHA256.HashData(buffer);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>Chains records onto the entry <paramref name="lastSequence"/> whose hash is <paramref name="lastHash"/>.</summary>
    public static MessageLogEntry[] Extend(long lastSequence, byte[] lastHash, IReadOnlyList<MessageLogRecord> records)
    {
        ArgumentNullException.ThrowIfNull(records);
        var entries = new MessageLogEntry[records.Count];
        var previous = lastHash;
        for (var i = 0; i < records.Count; i++)
        {
            var sequence = lastSequence + 1 + i;
            var hash = ComputeHash(sequence, previous, records[i]);
            entries[i] = new MessageLogEntry(sequence, records[i], previous, hash);
            previous = hash;
        }
        return entries;
    }

    /// <summary>
    /// Recomputes the chain of the entries held, from the log's base (the last entry archived, or genesis) to its head,
    /// and reports the first entry that does not fit. A log in use is checked as it is: the head is read before the
    /// entries and again after them, so entries appended meanwhile are no break (each is checked like the rest), and an
    /// archive that moves the base meanwhile (its entries removed before they were read) makes the check start again
    /// from the new base. <paramref name="verified"/>, if given, is called with each entry as it is found good (see
    /// <see cref="VerifyEntriesAsync"/>); after a start again, with the entries from the new base, which it may have had.
    /// </summary>
    public static async Task<ChainVerification> VerifyAsync(IMessageLog log, Func<MessageLogEntry, ValueTask>? verified = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(log);
        // Each try after the first follows an archive's progress, which ends.
        const int tries = 100;
        for (var attempt = 1; ; attempt++)
        {
            var before = await log.ReadHeadAsync(cancellationToken);
            var (baseSequence, baseHash) = await log.ReadBaseAsync(cancellationToken);
            // Read from the lowest sequence stored, not the base: a row put before the base is no entry of the log.
            var (checkedEntries, broken, last, lastHash) = await VerifyEntriesAsync(log.ReadAsync(long.MinValue, cancellationToken), baseSequence, baseHash, verified);
            if (broken is not null)
            {
                if (attempt < tries && (await log.ReadBaseAsync(cancellationToken)).Sequence != baseSequence)
                {
                    continue;
                }
                return broken;
            }
            // Every entry up to the head read before was stored before the entries were read; none after the head read
            // after them could be.
            var after = await log.ReadHeadAsync(cancellationToken);
            if (after is not { } head)
            {
                return last > 0 ? new ChainVerification(checkedEntries, last, "the chain head is missing") : new ChainVerification(checkedEntries, null, null);
            }
            if (before is { } earlier && last < earlier.Sequence)
            {
                return new ChainVerification(checkedEntries, last + 1, $"entries {last + 1} to {earlier.Sequence} are missing from the end of the log");
            }
            var matched = last == head.Sequence ? head : before is { } b && last == b.Sequence ? b : ((long Sequence, byte[] Hash)?)null;
            if (last > head.Sequence || (matched is { } m && !m.Hash.AsSpan().SequenceEqual(lastHash)))
            {
                return new ChainVerification(checkedEntries, Math.Min(last, head.Sequence), "the chain head does not match the last entry");
            }
            return new ChainVerification(checkedEntries, null, null);
        }
    }

    /// <summary>
    /// Checks that <paramref name="entries"/> follow on from entry <paramref name="afterSequence"/> whose hash is
    /// <paramref name="afterHash"/>, each in its place, linked to the one before and matching its own hash; the first
    /// that does not is reported (<c>Broken</c>), with how many were checked and the last entry's sequence and hash.
    /// <paramref name="verified"/>, if given, is called with each entry found good, in order, before the next is read.
    /// </summary>
    public static async Task<(long Checked, ChainVerification? Broken, long LastSequence, byte[] LastHash)> VerifyEntriesAsync(
        IAsyncEnumerable<MessageLogEntry> entries, long afterSequence, byte[] afterHash, Func<MessageLogEntry, ValueTask>? verified = null)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var expected = afterSequence + 1;
        var previous = afterHash;
        long count = 0;
        await using var reading = entries.GetAsyncEnumerator();
        while (true)
        {
            MessageLogEntry entry;
            try
            {
                if (!await reading.MoveNextAsync())
                {
                    break;
                }
                entry = reading.Current;
            }
            catch (UnreadableLogEntryException e)
            {
                return (count, OutOfPlace(e.Sequence) ?? new ChainVerification(count + 1, e.Sequence, e.Fault), expected - 1, previous);
            }
            if (OutOfPlace(entry.Sequence) is { } misplaced)
            {
                return (count, misplaced, expected - 1, previous);
            }
            if (!entry.PreviousHash.AsSpan().SequenceEqual(previous))
            {
                return (count, new ChainVerification(count + 1, entry.Sequence, "its link to the previous entry does not match that entry's hash"), expected - 1, previous);
            }
            var recomputed = ComputeHash(entry.Sequence, previous, entry.Record);
            if (!recomputed.AsSpan().SequenceEqual(entry.Hash))
            {
                return (count, new ChainVerification(count + 1, entry.Sequence, "its content does not match its hash (altered after it was logged)"), expected - 1, previous);
            }
            if (verified is not null)
            {
                await verified(entry);
            }
            previous = entry.Hash;
            expected++;
            count++;
        }
        return (count, null, expected - 1, previous);

        ChainVerification? OutOfPlace(long sequence) =>
            sequence > expected ? new ChainVerification(count, expected, $"entry {expected} is missing (next stored entry is {sequence})")
            : sequence < expected ? new ChainVerification(count, sequence, $"entry {sequence} is out of place: the entry due next is {expected}")
            : null;
    }

    /// <summary>Sequence, time, direction, whether there is a user, and the user.</summary>
    private const int FixedLength = 8 + 8 + 1 + 1 + 8;

    /// <summary>Writes a length-prefixed UTF-8 text (length −1 for none); returns the bytes written.</summary>
    private static int WriteText(Span<byte> buffer, string? text, int byteCount)
    {
        if (text is null)
        {
            BinaryPrimitives.WriteInt32BigEndian(buffer, -1);
            return 4;
        }
        BinaryPrimitives.WriteInt32BigEndian(buffer, byteCount);
        return 4 + Encoding.UTF8.GetBytes(text, buffer[4..]);
    }
}

/// <summary>
/// A stored entry whose fields are none an append writes (a direction neither in nor out, a user not written as the log
/// writes an EUI-64, a time out of range), so altered behind the log's back: the chain's check reports it as the entry
/// broken there (<see cref="MessageLogChain.VerifyEntriesAsync"/>), any other reader fails naming it.
/// </summary>
public sealed class UnreadableLogEntryException(long sequence, string fault)
    : FormatException($"message log entry {sequence} cannot be read: {fault} (log verify checks the log)")
{
    public long Sequence { get; } = sequence;

    /// <summary>What is wrong with it.</summary>
    public string Fault { get; } = fault;
}

/// <summary>
/// The store went away as an append was being committed (its answer to the commit lost: the server restarted or the
/// connection broke), and did not come back in time to say whether the commit was made: the records may be in the
/// log, or not. A fault of the store being away (<see cref="StoreAway"/>: its cause is), but not one after which the
/// work may be taken as not done: a request's RequestID counter stays spent.
/// </summary>
public sealed class CommitOutcomeUnknownException(Exception cause)
    : Exception("the store went away as the message log was being written, and whether the write was kept is not known yet", cause)
{
    /// <summary>Whether <paramref name="fault"/> is one, or was caused by one.</summary>
    public static bool In(Exception? fault) => fault is CommitOutcomeUnknownException || (fault?.InnerException is { } cause && In(cause));
}
