using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json;
using NodaTime;
using NodaTime.Text;
using OpenDcc.Core.Identifiers;

namespace OpenDcc.Core.Security;

/// <summary>
/// The message log's archive file: JSON Lines, one entry per line, every field the entry's hash covers (the time as
/// Unix ticks, exactly; also as text, to read), the payload in Base64 and the hashes in hex, so that the chain can be
/// recomputed from the file alone (<see cref="MessageLogChain.VerifyEntriesAsync"/>) long after the entries have left
/// the store.
/// </summary>
public static class MessageLogArchive
{
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    public static string ToLine(MessageLogEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var r = entry.Record;
        return JsonSerializer.Serialize(
            new Line(
                entry.Sequence,
                r.At.ToUnixTimeTicks(),
                InstantPattern.ExtendedIso.Format(r.At),
                r.Direction == MessageDirection.Inbound ? "in" : "out",
                r.User?.ToString(),
                r.Correlation,
                r.Outcome,
                Convert.ToBase64String(r.Payload.Span),
                Convert.ToHexString(entry.PreviousHash),
                Convert.ToHexString(entry.Hash)),
            Json);
    }

    /// <exception cref="FormatException">the line is not an archived entry; the message says what is wrong.</exception>
    public static MessageLogEntry FromLine(string line)
    {
        Line? read;
        try
        {
            read = JsonSerializer.Deserialize<Line>(line, Json);
        }
        catch (JsonException e)
        {
            // The parser's own words name its path and byte position, which say nothing to an operator.
            throw new FormatException($"not an archived entry: not a JSON object of the archive's fields{(e.BytePositionInLine is { } at ? $" (unreadable at byte {at + 1})" : "")}", e);
        }
        if (read is null || read.Outcome is null || read.Payload is null || read.PreviousHash is null || read.Hash is null || read.Direction is not ("in" or "out"))
        {
            throw new FormatException("not an archived entry: a field is missing (sequence, atTicks, direction in|out, outcome, payload, previousHash, hash)");
        }
        try
        {
            var record = new MessageLogRecord(
                Instant.FromUnixTimeTicks(read.AtTicks),
                read.Direction == "in" ? MessageDirection.Inbound : MessageDirection.Outbound,
                read.User is null ? null : Eui64.Parse(read.User),
                read.Correlation,
                read.Outcome,
                Convert.FromBase64String(read.Payload));
            return new MessageLogEntry(read.Sequence, record, Convert.FromHexString(read.PreviousHash), Convert.FromHexString(read.Hash));
        }
        catch (Exception e) when (e is FormatException or ArgumentOutOfRangeException)
        {
            throw new FormatException($"entry {read.Sequence.ToString(CultureInfo.InvariantCulture)}: {e.Message}", e);
        }
    }

    /// <summary>
    /// The longest line an archive holds, in characters: an entry whose payload is the largest DUIS message, its Base64
    /// every character escaped (\u002B), with a MiB for the other fields. A longer line is no entry (a binary file, or
    /// /dev/zero, which would otherwise be read into memory until there is none).
    /// </summary>
    public const int MaxLineChars = (DuisSignature.MaxMessageBytes + 2) / 3 * 4 * 6 + 1024 * 1024;

    /// <summary>The entries of an archive file, in its order.</summary>
    /// <exception cref="FormatException">a line is not an archived entry, or is longer than <see cref="MaxLineChars"/>; the message gives its line number.</exception>
    public static async IAsyncEnumerable<MessageLogEntry> ReadAsync(TextReader reader, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var number = 0;
        await foreach (var line in LinesAsync(reader, cancellationToken))
        {
            number++;
            MessageLogEntry entry;
            try
            {
                entry = FromLine(line);
            }
            catch (FormatException e)
            {
                throw new FormatException($"line {number}: {e.Message}", e);
            }
            yield return entry;
        }
    }

    /// <summary>
    /// The lines of <paramref name="reader"/> (ended by \n, a \r before it dropped), as <see cref="TextReader.ReadLineAsync(CancellationToken)"/>
    /// reads them but refusing one longer than <see cref="MaxLineChars"/> before it is read whole.
    /// </summary>
    private static async IAsyncEnumerable<string> LinesAsync(TextReader reader, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var buffer = new char[64 * 1024];
        var line = new System.Text.StringBuilder();
        var number = 1;
        int read;
        while ((read = await reader.ReadAsync(buffer, cancellationToken)) > 0)
        {
            var rest = buffer.AsMemory(0, read);
            while (rest.Length > 0)
            {
                var end = rest.Span.IndexOf('\n');
                line.Append(rest.Span[..(end < 0 ? rest.Length : end)]);
                if (line.Length > MaxLineChars)
                {
                    throw new FormatException($"line {number}: longer than {MaxLineChars:N0} characters, which no archived entry is (is this an archive file?)");
                }
                if (end < 0)
                {
                    break;
                }
                yield return Ended(line);
                line.Clear();
                number++;
                rest = rest[(end + 1)..];
            }
        }
        if (line.Length > 0)
        {
            yield return Ended(line);
        }

        static string Ended(System.Text.StringBuilder line) =>
            line.Length > 0 && line[^1] == '\r' ? line.ToString(0, line.Length - 1) : line.ToString();
    }

    private sealed record Line(long Sequence, long AtTicks, string At, string Direction, string? User, string? Correlation, string Outcome, string Payload, string PreviousHash, string Hash);
}
