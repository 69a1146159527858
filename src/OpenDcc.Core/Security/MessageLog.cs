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
    ReadOnlyMemory<byte> Payload);

/// <summary>A record as stored: numbered from 1 and hash-chained to the entry before it.</summary>
public sealed record MessageLogEntry(long Sequence, MessageLogRecord Record, byte[] PreviousHash, byte[] Hash);

/// <summary>
/// The append-only message log. Every append extends a SHA-256 hash chain, so that a changed, removed or
/// reordered entry is found by <see cref="MessageLogChain.VerifyAsync"/>.
/// </summary>
public interface IMessageLog
{
    /// <summary>Appends records in order, atomically, and returns them as stored.</summary>
    Task<IReadOnlyList<MessageLogEntry>> AppendAsync(IReadOnlyList<MessageLogRecord> records, CancellationToken cancellationToken = default);

    /// <summary>Entries from <paramref name="fromSequence"/> on, in sequence order.</summary>
    IAsyncEnumerable<MessageLogEntry> ReadAsync(long fromSequence = 1, CancellationToken cancellationToken = default);

    /// <summary>The sequence and hash of the last entry as recorded at append time (the chain head), or null when empty.</summary>
    Task<(long Sequence, byte[] Hash)?> ReadHeadAsync(CancellationToken cancellationToken = default);
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
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> fixedPart = stackalloc byte[8 + 8 + 1 + 1 + 8];
        BinaryPrimitives.WriteInt64BigEndian(fixedPart, sequence);
        BinaryPrimitives.WriteInt64BigEndian(fixedPart[8..], record.At.ToUnixTimeTicks());
        fixedPart[16] = (byte)record.Direction;
        fixedPart[17] = record.User.HasValue ? (byte)1 : (byte)0;
        BinaryPrimitives.WriteUInt64BigEndian(fixedPart[18..], record.User?.Value ?? 0);
        hash.AppendData(previousHash);
        hash.AppendData(fixedPart);
        AppendText(hash, record.Correlation);
        AppendText(hash, record.Outcome);
        AppendBytes(hash, record.Payload.Span);
        return hash.GetHashAndReset();
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

    /// <summary>Recomputes the whole chain and reports the first entry that does not fit.</summary>
    public static async Task<ChainVerification> VerifyAsync(IMessageLog log, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(log);
        long expected = 1;
        byte[] previous = Genesis.ToArray();
        await foreach (var entry in log.ReadAsync(1, cancellationToken))
        {
            if (entry.Sequence != expected)
            {
                return new ChainVerification(expected - 1, expected, $"entry {expected} is missing (next stored entry is {entry.Sequence})");
            }
            if (!entry.PreviousHash.AsSpan().SequenceEqual(previous))
            {
                return new ChainVerification(expected, entry.Sequence, "its link to the previous entry does not match that entry's hash");
            }
            var recomputed = ComputeHash(entry.Sequence, previous, entry.Record);
            if (!recomputed.AsSpan().SequenceEqual(entry.Hash))
            {
                return new ChainVerification(expected, entry.Sequence, "its content does not match its hash (altered after it was logged)");
            }
            previous = entry.Hash;
            expected++;
        }
        var count = expected - 1;
        var head = await log.ReadHeadAsync(cancellationToken);
        if (head is { } h && (h.Sequence != count || !h.Hash.AsSpan().SequenceEqual(previous)))
        {
            return h.Sequence > count
                ? new ChainVerification(count, count + 1, $"entries {count + 1} to {h.Sequence} are missing from the end of the log")
                : new ChainVerification(count, h.Sequence, "the chain head does not match the last entry");
        }
        if (head is null && count > 0)
        {
            return new ChainVerification(count, count, "the chain head is missing");
        }
        return new ChainVerification(count, null, null);
    }

    private static void AppendText(IncrementalHash hash, string? text)
    {
        if (text is null)
        {
            AppendLength(hash, -1);
            return;
        }
        AppendBytes(hash, Encoding.UTF8.GetBytes(text));
    }

    private static void AppendBytes(IncrementalHash hash, ReadOnlySpan<byte> bytes)
    {
        AppendLength(hash, bytes.Length);
        hash.AppendData(bytes);
    }

    private static void AppendLength(IncrementalHash hash, int length)
    {
        Span<byte> buffer = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(buffer, length);
        hash.AppendData(buffer);
    }
}
