using System.CommandLine;
using System.Globalization;
using System.Runtime.ExceptionServices;
using System.Security.Cryptography.X509Certificates;
using NodaTime;
using NodaTime.Text;
using OpenDcc.Core;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Security;
using Spectre.Console;

namespace OpenDcc.Cli;

/// <summary><c>opendcc log verify|show|payload</c>: recompute the message log's hash chain; show its entries, all of one request's; print one entry's message.</summary>
internal static class LogCommand
{
    /// <summary>The log's times to the millisecond: what a request and its responses took is read off them.</summary>
    /// <summary>How many entries <c>log show --request-id</c> looks through unless told: some minutes of a busy hub, read in about a second.</summary>
    private const long DefaultWithin = 100_000;

    private const long MaxWithin = 100_000_000;

    private static readonly InstantPattern Milliseconds = InstantPattern.CreateWithInvariantCulture("uuuu-MM-dd'T'HH:mm:ss.fff'Z'");

    private static readonly (long Ticks, string One, string Many)[] SpanUnits =
    [
        (NodaConstants.TicksPerDay, "day", "days"), (NodaConstants.TicksPerHour, "hour", "hours"),
        (NodaConstants.TicksPerMinute, "minute", "minutes"), (NodaConstants.TicksPerSecond, "second", "seconds"),
    ];

    /// <summary>"3 days 4 hours", "2 minutes", "4 seconds": a span in its largest whole unit and the next (if any), a span under a second in milliseconds.</summary>
    private static string Span(Duration span)
    {
        var ticks = span.BclCompatibleTicks;
        for (var i = 0; i < SpanUnits.Length; i++)
        {
            var (size, one, many) = SpanUnits[i];
            if (ticks >= size)
            {
                var next = i + 1 < SpanUnits.Length ? ticks % size / SpanUnits[i + 1].Ticks : 0;
                return CliContext.Count(ticks / size, one, many) + (next == 0 ? "" : " " + CliContext.Count(next, SpanUnits[i + 1].One, SpanUnits[i + 1].Many));
            }
        }
        return CliContext.Count(ticks / NodaConstants.TicksPerMillisecond, "millisecond", "milliseconds");
    }

    public static Command Create(CliContext context)
    {
        var log = context.WithStoreOptions(new Command("log", "The message log of every message received or sent"));
        var archiveFile = new Option<FileInfo[]>("--archive")
        {
            Description = "Verify these archive files (log archive --out) too, in the order given (repeat --archive): each one's chain, that each goes on from the one before, and that the store's log goes on from the last (exit 1 if not: entries in no file given), then the store's log itself",
        };
        var verify = new Command("verify", "Recompute the hash chain and report the first broken entry, and check the DSP-signed checkpoints of the entries verified (exit 1 if any fails)") { archiveFile };
        verify.SetAction(async (parsed, ct) =>
        {
            await using var store = await context.OpenExistingStoreAsync(parsed, ct);
            var (baseSequence, baseHash) = await store.MessageLog.ReadBaseAsync(ct);
            // The checkpoints are matched to the entries as the chain's check goes through them.
            var keys = context.KeyStore(parsed);
            await using var checkpoints = await CheckpointCheck.StartAsync(keys, store.MessageLogCheckpoints, ct);
            // The archives first, then the entries the store holds, which go on from them.
            if (parsed.GetValue(archiveFile) is { Length: > 0 } files && await VerifyArchivesAsync(context, files, store, baseSequence, baseHash, checkpoints.VerifiedAsync, ct) != 0)
            {
                return 1;
            }
            var result = await MessageLogChain.VerifyAsync(store.MessageLog, checkpoints.VerifiedAsync, ct);
            if (result.IsIntact)
            {
                var head = await store.MessageLog.ReadHeadAsync(ct);
                var (checkpointFault, checkpointsSaid) = checkpoints.Finish(head?.Sequence ?? 0);
                var (recordFault, recordSaid) = checkpointFault is null ? await CheckRecordedCheckpointAsync(keys, store.MessageLogCheckpoints, ct) : (null, "");
                if ((checkpointFault ?? recordFault) is { } fault)
                {
                    await context.Error.WriteLineAsync(fault);
                    return 1;
                }
                await context.Output.WriteLineAsync(
                    $"message log intact: {CliContext.Count(result.EntriesChecked, "entry", "entries")}" + (head is { } h ? $", head {Convert.ToHexString(h.Hash)}" : "") +
                    (baseSequence == 0 ? "" : $"; entries 1 to {baseSequence} archived, the first held linked to entry {baseSequence}'s hash {Convert.ToHexString(baseHash)}"));
                await context.Output.WriteLineAsync(checkpointsSaid);
                await context.Output.WriteLineAsync(recordSaid);
                return 0;
            }
            await context.Error.WriteLineAsync($"message log broken at entry {result.FirstBrokenSequence}: {result.Fault} ({CliContext.Count(result.EntriesChecked, "entry", "entries")} checked)");
            return 1;
        });
        log.Subcommands.Add(verify);

        var last = new Option<int>("--last") { Description = "How many of the newest entries to show", DefaultValueFactory = _ => 20 };
        var from = new Option<long?>("--from") { Description = "Show entries from this sequence number on (with --last: at most that many); with --request-id, look from there" };
        var requestId = new Option<string?>("--request-id") { Description = $"Show what became of one request: the entries of this RequestID (ORIGINATOR:TARGET:COUNTER), oldest first: the request, its response, the device's answer, each attempt to deliver it, and for a command given for local delivery each 8.13 returning its answer (with --last: at most that many); looked for among the newest {DefaultWithin:N0} entries unless --from or --within say otherwise" };
        var within = new Option<long>("--within") { Description = $"With --request-id: how many entries to look through (default {DefaultWithin:N0}, at most {MaxWithin:N0}); the log has no index by RequestID, which would slow every append", DefaultValueFactory = _ => DefaultWithin };
        var show = new Command("show", "Show entries: when (to the millisecond), in or out, the user, the RequestID (or alert), the outcome (why a request was refused; what a delivered message is, E20/E21 with why, and what its delivery did) and the payload's size") { last, from, requestId, within };
        show.SetAction(async (parsed, ct) =>
        {
            var count = parsed.GetValue(last);
            if (count is < 1 or > 100_000)
            {
                throw new ArgumentException($"--last: {count} is not from 1 to 100,000");
            }
            if (parsed.GetValue(from) is < 1)
            {
                throw new ArgumentException("--from: sequence numbers start at 1");
            }
            var window = parsed.GetValue(within);
            if (window is < 1 or > MaxWithin)
            {
                throw new ArgumentException($"--within: {window} is not from 1 to {MaxWithin:N0}");
            }
            var request = parsed.GetValue(requestId) is { } text ? UsersCommand.ParseField("--request-id", () => RequestId.Parse(text)) : (RequestId?)null;
            if (request is null && parsed.GetResult(within) is { Implicit: false })
            {
                throw new ArgumentException("--within: only with --request-id (how many entries to look through for it); without one, --from and --last say which entries to show");
            }
            await using var store = await context.OpenExistingStoreAsync(parsed, ct);
            var head = (await store.MessageLog.ReadHeadAsync(ct))?.Sequence ?? 0;
            var held = (await store.MessageLog.ReadBaseAsync(ct)).Sequence + 1;
            // Entries archived are not held: a --from before the first held starts there, and the footer says so.
            var first = Math.Max(held, parsed.GetValue(from) ?? (request is null ? head - count + 1 : head - window + 1));
            var archivedNote = parsed.GetValue(from) < held ? $" (entries 1 to {held - 1:N0} are archived)" : "";
            var lookedTo = first > head ? head : Math.Min(head, first + Math.Min(window - 1, long.MaxValue - first));
            var entries = request is { } r ? store.MessageLog.ReadCorrelatedAsync(r.ToString(), first, lookedTo, ct) : store.MessageLog.ReadAsync(first, first + count - 1, ct);
            // The IDs whole, so that one may be copied into --request-id; the outcome wraps.
            var table = new Table().Border(TableBorder.Simple).AddColumns(
                new TableColumn("Seq").NoWrap(), new TableColumn("At (UTC)").NoWrap(), new TableColumn("Dir").NoWrap(), new TableColumn("User").NoWrap(),
                new TableColumn("RequestID or alert").NoWrap(), new TableColumn("Outcome"), new TableColumn("Bytes").NoWrap());
            var shown = 0;
            await foreach (var entry in entries)
            {
                var record = entry.Record;
                table.AddRow(
                    entry.Sequence.ToString(CultureInfo.InvariantCulture),
                    Milliseconds.Format(record.At),
                    record.Direction == MessageDirection.Inbound ? "in" : "out",
                    record.User?.ToString() ?? "",
                    Markup.Escape(record.Correlation ?? ""),
                    Markup.Escape(record.Outcome),
                    record.Payload.Length.ToString("N0", CultureInfo.InvariantCulture));
                if (++shown == count)
                {
                    break;
                }
            }
            context.Console.Write(table);
            await context.Output.WriteLineAsync(
                request is { } past && first > head
                    ? $"no entries for RequestID {past}: --from {first:N0} is past the newest entry, {head:N0}"
                : request is { } one
                    ? $"{(shown == 0 ? "no entries" : CliContext.Count(shown, "entry", "entries"))} for RequestID {one}{(shown == count ? " (--last)" : "")} among entries {first:N0} to {lookedTo:N0}" +
                        (first > held ? $"; --from and --within look elsewhere (the log holds {held:N0} to {head:N0})" : "") + archivedNote
                : (shown == 0 ? "no entries" : $"entries {first} to {first + shown - 1} of {head}") + archivedNote);
            return 0;
        });
        log.Subcommands.Add(show);

        var sequence = new Option<long>("--seq") { Description = "The entry's sequence number (log show gives it)", Required = true };
        var output = new Option<FileInfo?>("--out") { Description = "Write the message's bytes, exactly as received or sent, to this file (for example to check its signature elsewhere) instead of printing it as text" };
        var payload = new Command("payload", "Print one entry's message as it went over the wire: the signed DUIS XML of a request or response, the body of a message handed to delivery (an attempt's entry names the entry that holds it)") { sequence, output };
        payload.SetAction(async (parsed, ct) =>
        {
            var wanted = parsed.GetValue(sequence);
            if (wanted < 1)
            {
                throw new ArgumentException("--seq: sequence numbers start at 1");
            }
            await using var store = await context.OpenExistingStoreAsync(parsed, ct);
            var head = (await store.MessageLog.ReadHeadAsync(ct))?.Sequence ?? 0;
            var (archived, _) = await store.MessageLog.ReadBaseAsync(ct);
            if (wanted <= archived)
            {
                throw new ArgumentException($"--seq: entry {wanted} was archived (log archive); the log held starts at entry {archived + 1}");
            }
            var entry = wanted > head ? null : await store.MessageLog.ReadAsync(wanted, wanted, ct).FirstOrDefaultAsync(ct);
            if (entry is null || entry.Sequence != wanted)
            {
                throw new ArgumentException($"--seq: no entry {wanted} (the log has {CliContext.Count(head, "entry", "entries")})");
            }
            if (parsed.GetValue(output) is { } given)
            {
                var file = CliContext.NewFile(given, "--out", "give a path that does not exist (a file is not overwritten)");
                try
                {
                    // CreateNew: a file made since the check is not overwritten either.
                    await using var stream = new FileStream(file.FullName, FileMode.CreateNew, FileAccess.Write);
                    await stream.WriteAsync(entry.Record.Payload, ct);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    throw new IOException($"--out: {file.FullName}: {e.Message}", e);
                }
                await context.Output.WriteLineAsync($"entry {wanted}: {CliContext.Count(entry.Record.Payload.Length, "byte", "bytes")} written to {file.FullName}");
            }
            else if (entry.Record.Payload.IsEmpty)
            {
                // Said on the error stream: the output stays the message itself (here, nothing), for a pipe or a file. The
                // outcome says why: nothing came with it, or (a delivery attempt) the entry whose bytes it sent.
                await context.Error.WriteLineAsync($"entry {wanted} has no payload ({entry.Record.Outcome})");
            }
            else
            {
                await context.Output.WriteLineAsync(System.Text.Encoding.UTF8.GetString(entry.Record.Payload.Span));
            }
            return 0;
        });
        log.Subcommands.Add(payload);

        var before = new Option<string?>("--before") { Description = "Archive the entries logged before this time (ISO 8601: 2026-11-01T00:00:00Z, with an offset, or a date alone, its start in UTC), up to the first one at or after it" };
        var through = new Option<long?>("--through") { Description = "Archive the entries up to and including this sequence number" };
        var archiveOut = new Option<FileInfo>("--out") { Description = "The archive file to write (JSON Lines; must not exist yet)", Required = true };
        var archive = new Command("archive", "Move the oldest entries to an archive file, checked, then remove them from the store: the log held goes on from the archive's last hash (log verify --archive checks the file). A running hub goes on logging meanwhile") { before, through, archiveOut };
        archive.SetAction(async (parsed, ct) =>
        {
            var beforeText = parsed.GetValue(before);
            var upTo = parsed.GetValue(through);
            if ((beforeText is null) == (upTo is null))
            {
                throw new ArgumentException(beforeText is null ? "archive: give --before TIME or --through SEQ" : "archive: --before and --through: give one of them");
            }
            var cutoff = beforeText is null ? (Instant?)null : ParseTime(beforeText)
                ?? throw new FormatException($"--before: '{beforeText}' is not a time in ISO 8601: 2026-11-01T00:00:00Z, 2026-11-01T00:00:00+01:00, or a date, 2026-11-01 (its start in UTC)");
            var file = CliContext.NewFile(parsed.GetValue(archiveOut), "--out", "an archive is never overwritten");
            await using var store = await context.OpenExistingStoreAsync(parsed, ct);
            var (baseSequence, baseHash) = await store.MessageLog.ReadBaseAsync(ct);
            var head = (await store.MessageLog.ReadHeadAsync(ct))?.Sequence ?? 0;
            if (upTo is { } n && (n <= baseSequence || n >= head))
            {
                throw new ArgumentException(head - baseSequence < 2
                    ? $"--through: nothing can be archived: the log holds {CliContext.Count(head - baseSequence, "entry", "entries")} and its head stays"
                    : $"--through: {n} is not from {baseSequence + 1} to {head - 1} (the entries held but the head, which stays)");
            }
            // Written and made durable first, then read back and checked against the chain, and only then removed.
            long last = baseSequence;
            Instant? firstAt = null, lastAt = null;
            // Made here, so the file is ours to remove if writing it fails.
            var stream = new FileStream(file.FullName, FileMode.CreateNew, FileAccess.Write);
            try
            {
                await using var closing = stream;
                await using var writer = new StreamWriter(stream, new System.Text.UTF8Encoding(false));
                // A stretch at a time: a --before reached early stops the read having fetched one stretch past it,
                // not every entry to the head.
                await foreach (var entry in ArchiveStretchesAsync(store.MessageLog, baseSequence + 1, Math.Min(head - 1, upTo ?? head - 1), ct))
                {
                    if (entry.Sequence >= head || entry.Sequence > upTo || entry.Record.At >= cutoff)
                    {
                        break;
                    }
                    await writer.WriteLineAsync(MessageLogArchive.ToLine(entry));
                    (last, firstAt, lastAt) = (entry.Sequence, firstAt ?? entry.Record.At, entry.Record.At);
                }
                await writer.FlushAsync(ct);
                stream.Flush(flushToDisk: true);
            }
            catch (Exception e)
            {
                // A full disk, a stop, an entry the store cannot read: the file written so far goes; the store has lost nothing.
                DeletePartial(file);
                if (e is IOException)
                {
                    throw new IOException($"--out {file.FullName}: {e.Message.TrimEnd('.', ' ')}: nothing was removed from the store", e);
                }
                throw;
            }
            if (last == baseSequence)
            {
                file.Delete();
                throw new ArgumentException($"--before: no entry held but the head (which stays) is older than {beforeText}");
            }
            using (var reader = new StreamReader(file.FullName))
            {
                var (count, broken, lastArchived, _) = await MessageLogChain.VerifyEntriesAsync(MessageLogArchive.ReadAsync(reader, ct), baseSequence, baseHash);
                if (broken is not null || lastArchived != last)
                {
                    throw new InvalidOperationException($"the archive written does not check ({broken?.Fault ?? $"it ends at entry {lastArchived}, not {last}"}; entry {broken?.FirstBrokenSequence}): nothing was removed from the store; {file.FullName} is left to look at");
                }
            }
            // The file's name made durable too: a crash just after the removal must not lose the file with it.
            DirectoryEntries.Flush(file.DirectoryName!);
            // Not stopped by Ctrl-C or SIGTERM once begun: the file holds every entry it removes, and a removal cut short
            // leaves entries in both (which log verify --archive takes, but a second archive would write them again).
            var removed = await store.MessageLog.RemoveThroughAsync(last, CancellationToken.None);
            file.Refresh();
            await context.Output.WriteLineAsync(
                $"archived entries {baseSequence + 1} to {last} ({CliContext.Count(removed, "entry", "entries")}, logged {Milliseconds.Format(firstAt!.Value)} to {Milliseconds.Format(lastAt!.Value)}) to {file.FullName} ({file.Length:N0} bytes), checked, and removed them from the store; the log held starts at entry {last + 1}");
            return 0;
        });
        log.Subcommands.Add(archive);
        return log;
    }

    /// <summary>
    /// Whether the store holds the newest checkpoint the hub recorded in the keys directory
    /// (<see cref="FileKeyStore.RecordCheckpoint"/>): the fault if not, what to say if so. The newest checkpoints deleted
    /// from the store cannot be told there from checkpoints never made; the keys directory, which whoever can write the
    /// store cannot, tells them. A store restored from an older backup lacks it too, and is a rollback as well.
    /// </summary>
    private static async Task<(string? Fault, string Said)> CheckRecordedCheckpointAsync(FileKeyStore keys, IMessageLogCheckpoints store, CancellationToken cancellationToken)
    {
        if (keys.ReadRecordedCheckpoint() is not { } recorded)
        {
            return (null, $"no checkpoint recorded in the keys directory ({keys.CheckpointRecordPath}): checkpoints deleted from the end of the log would not be found");
        }
        var what = $"the keys directory records a checkpoint at entry {recorded.Sequence}, signed {Milliseconds.Format(recorded.At)} ({keys.CheckpointRecordPath})";
        var held = await store.ReadCheckpointsAsync(recorded.Sequence, recorded.Sequence, cancellationToken).FirstOrDefaultAsync(cancellationToken);
        if (held is null)
        {
            var newest = await store.ReadNewestCheckpointAsync(cancellationToken);
            return ($"{what}, which the store does not hold: checkpoints deleted from the end of the log, or the store restored from an older backup " +
                $"({(newest is null ? "the store holds no checkpoint" : $"the store's newest is at entry {newest.Sequence}, signed {Milliseconds.Format(newest.At)}")})", "");
        }
        return !held.Hash.AsSpan().SequenceEqual(recorded.Hash)
            ? ($"{what} of the hash {Convert.ToHexString(recorded.Hash)}, and the store's checkpoint at entry {recorded.Sequence} signs {Convert.ToHexString(held.Hash)}: " +
                "the keys directory signed another store's log after this one's (one keys directory for two stores)", "")
            : (null, $"{what}, held by the store");
    }

    /// <summary>
    /// Checks each checkpoint whose entry the chain's check finds good, given it entry by entry in sequence order (those
    /// of the archive files given, then the store's): that entry has the hash signed, and the signature is valid under a
    /// DSP certificate trusted here (<see cref="MessageLogCheckpoint.WhyNotTrusted"/>), and the checkpoint it names as the
    /// one before it is in the store (checkpoints of archived entries stay there). A checkpoint of an entry archived and in
    /// no file given is skipped; one past the last entry given (entries removed from the log's end) fails. What it finds,
    /// or what it throws, is told once the chain is intact (<see cref="Finish"/>): a broken chain is said first.
    /// </summary>
    private sealed class CheckpointCheck : IAsyncDisposable
    {
        private readonly FileKeyStore keys;
        private readonly IMessageLogCheckpoints store;
        private readonly IAsyncEnumerator<MessageLogCheckpoint> checkpoints;
        private readonly CancellationToken cancellationToken;
        private X509Certificate2? dsp;
        private IReadOnlyList<X509Certificate2>? issuers;
        private bool any, pending;
        private long last, verified, skipped, newest;
        /// <summary>When the newest checkpoint was signed, if it was verified (not skipped).</summary>
        private Instant? newestSigned;
        /// <summary>The entries given after the newest checkpoint so far: the last one's sequence, the first's and the last's times.</summary>
        private long afterLast;
        private Instant? afterFrom, afterTo;
        private string? fault;
        private ExceptionDispatchInfo? thrown;

        private CheckpointCheck(FileKeyStore keys, IMessageLogCheckpoints store, CancellationToken cancellationToken) =>
            (this.keys, this.store, this.cancellationToken, checkpoints) = (keys, store, cancellationToken, store.ReadCheckpointsAsync(cancellationToken: cancellationToken).GetAsyncEnumerator(cancellationToken));

        /// <summary>Reads the first checkpoint, before any entry: an entry is logged before it is signed, so each entry signed is among those read after, unless archived meanwhile (skipped).</summary>
        public static async Task<CheckpointCheck> StartAsync(FileKeyStore keys, IMessageLogCheckpoints store, CancellationToken cancellationToken)
        {
            var check = new CheckpointCheck(keys, store, cancellationToken);
            try
            {
                check.any = check.pending = await check.checkpoints.MoveNextAsync();
            }
            catch (Exception e)
            {
                check.thrown = ExceptionDispatchInfo.Capture(e);
            }
            return check;
        }

        /// <summary>
        /// An entry the chain's check found good. One given again (held by two archives, or by an archive and the store; the
        /// check started again) matches no checkpoint a second time: the checkpoints are read forward only, each once.
        /// </summary>
        public async ValueTask VerifiedAsync(MessageLogEntry entry)
        {
            last = Math.Max(last, entry.Sequence);
            try
            {
                while (pending && checkpoints.Current.Sequence <= entry.Sequence)
                {
                    var checkpoint = checkpoints.Current;
                    var before = newest;
                    (newest, newestSigned, afterLast, afterFrom, afterTo) = (checkpoint.Sequence, null, 0, null, null);
                    if (checkpoint.Sequence < entry.Sequence)
                    {
                        // Archived, in no archive given.
                        skipped++;
                    }
                    else if ((Fault(checkpoint, entry) ?? await MissingBeforeAsync(checkpoint, before)) is { } why)
                    {
                        (fault, pending) = (why, false);
                        return;
                    }
                    else
                    {
                        (verified, newestSigned) = (verified + 1, checkpoint.At);
                    }
                    pending = await checkpoints.MoveNextAsync();
                }
                if (entry.Sequence > newest && entry.Sequence > afterLast)
                {
                    (afterLast, afterFrom, afterTo) = (entry.Sequence, afterFrom ?? entry.Record.At, entry.Record.At);
                }
            }
            catch (Exception e)
            {
                // A store fault, keys that cannot be read: thrown once the chain is found intact, no more checked.
                (thrown, pending) = (ExceptionDispatchInfo.Capture(e), false);
            }
        }

        /// <summary>The first fault, or what to say, once every entry has been given; throws what checking a checkpoint threw.</summary>
        public (string? Fault, string Said) Finish(long head)
        {
            thrown?.Throw();
            return fault is not null ? (fault, "")
                : !any ? (null, $"no signed checkpoint yet: {CliContext.Count(head, "entry", "entries")} covered by the chain alone{Logged()}")
                // One left past the last entry.
                : pending ? ($"message log checkpoint at entry {checkpoints.Current.Sequence} fails: the log ends at entry {last}, before the entry it signed (entries removed from the end of the log)", "")
                : (null, $"checkpoints: {CliContext.Count(verified, "signed checkpoint", "signed checkpoints")} verified" +
                    (skipped == 0 ? "" : $", {skipped} of entries archived in no archive given skipped") +
                    $"; the newest at entry {newest}" + (newestSigned is { } signed ? $", signed {Milliseconds.Format(signed)}" : "") +
                    $", {CliContext.Count(Math.Max(0, head - newest), "entry", "entries")} after it covered by the chain alone{Logged()}");
        }

        /// <summary>
        /// When the entries after the newest checkpoint were logged, by their own times: the hub signs its head every
        /// interval it moved and as it stops, so entries after the newest that span much more than an interval were logged
        /// by a hub killed or whose store was away, or their checkpoints were deleted (which the chain of checkpoints cannot
        /// show for the newest). The times are the store's, and rewritable with the entries.
        /// </summary>
        private string Logged() =>
            (afterFrom, afterTo) is not ({ } from, { } to) ? ""
            : from == to ? $", logged at {Milliseconds.Format(from)}"
            : $", logged over {Span(to - from)} ({Milliseconds.Format(from)} to {Milliseconds.Format(to)})";

        /// <summary>
        /// Why <paramref name="checkpoint"/>, verified, fails for the checkpoint it names as the one before it, or null if
        /// that is in the store or it names none: <paramref name="before"/>, the one read just before it, or one looked for.
        /// The hub names the checkpoint it made last (the store's newest when it starts), so one missing was deleted, and
        /// a hub that signed its head after that hid the entries the deleted one would have shown rewritten.
        /// </summary>
        private async Task<string?> MissingBeforeAsync(MessageLogCheckpoint checkpoint, long before)
        {
            if (checkpoint.Previous is not (> 0 and var previous) || previous == before
                || await store.ReadCheckpointsAsync(previous, previous, cancellationToken).AnyAsync(cancellationToken))
            {
                return null;
            }
            // The checkpoint read before it, if any, still covers the entries up to its own.
            return $"message log checkpoint at entry {checkpoint.Sequence} fails: it follows the checkpoint at entry {previous}, which the store does not hold (deleted: " +
                $"entries {before + 1} to {checkpoint.Sequence} may have been rewritten, the chain recomputed, before it was signed)";
        }

        private string? Fault(MessageLogCheckpoint checkpoint, MessageLogEntry entry)
        {
            if (!entry.Hash.AsSpan().SequenceEqual(checkpoint.Hash))
            {
                return $"message log checkpoint at entry {checkpoint.Sequence} fails: the entry's hash is {Convert.ToHexString(entry.Hash)}, the hash signed {Convert.ToHexString(checkpoint.Hash)} (the entry, or one before it, was rewritten and the chain recomputed)";
            }
            dsp ??= keys.LoadDspCertificate();
            issuers ??= keys.LoadTrustedIssuers();
            if (dsp is null && issuers.Count == 0)
            {
                return $"message log checkpoint at entry {checkpoint.Sequence} cannot be checked: {keys.Directory} holds no DSP certificate or trusted issuer (give the hub's --data, whose keys directory signed it)";
            }
            return checkpoint.WhyNotTrusted(dsp, issuers) is { } why ? $"message log checkpoint at entry {checkpoint.Sequence} fails: {why}" : null;
        }

        public async ValueTask DisposeAsync()
        {
            await checkpoints.DisposeAsync();
            dsp?.Dispose();
            foreach (var issuer in issuers ?? [])
            {
                issuer.Dispose();
            }
        }
    }

    /// <summary>Entries <c>log archive</c> reads per query.</summary>
    private const long ArchiveStretch = 10_000;

    /// <summary>Entries <paramref name="from"/> to <paramref name="to"/>, read <see cref="ArchiveStretch"/> a query.</summary>
    private static async IAsyncEnumerable<MessageLogEntry> ArchiveStretchesAsync(IMessageLog log, long from, long to, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        for (var start = from; start <= to; start += ArchiveStretch)
        {
            await foreach (var entry in log.ReadAsync(start, Math.Min(to, start + ArchiveStretch - 1), cancellationToken))
            {
                yield return entry;
            }
        }
    }

    /// <summary>Removes an archive file written in part (its write failed).</summary>
    private static void DeletePartial(FileInfo file)
    {
        try
        {
            file.Delete();
        }
        catch (IOException)
        {
            // Left: the fault says what went wrong, and verify names a file's broken line.
        }
    }

    /// <summary>An instant in ISO 8601: in UTC (Z), with an offset, or a date alone (its start in UTC); null when it is none of them.</summary>
    /// <exception cref="FormatException">a time with an offset that is outside the years an Instant holds in UTC (9999-12-31T23:59:59-01:00).</exception>
    private static Instant? ParseTime(string text)
    {
        var trimmed = text.Trim();
        return InstantPattern.ExtendedIso.Parse(trimmed) is { Success: true } utc ? utc.Value
            : OffsetDateTimePattern.ExtendedIso.Parse(trimmed) is { Success: true } offset ? InUtc(offset.Value, text)
            : LocalDatePattern.Iso.Parse(trimmed) is { Success: true } date ? date.Value.AtStartOfDayInZone(DateTimeZone.Utc).ToInstant()
            : null;

        // A time in the first or last year, its offset taken off, can fall outside the years an Instant holds.
        static Instant InUtc(OffsetDateTime time, string text)
        {
            try
            {
                return time.ToInstant();
            }
            catch (OverflowException)
            {
                throw new FormatException($"--before: '{text}' is outside the times OpenDcc holds (years -9998 to 9999 in UTC)");
            }
        }
    }

    /// <summary>An archive's entries, a line that is none named with the file it is in.</summary>
    private static async IAsyncEnumerable<MessageLogEntry> Named(FileInfo file, IAsyncEnumerable<MessageLogEntry> entries)
    {
        await using var reading = entries.GetAsyncEnumerator();
        while (true)
        {
            try
            {
                if (!await reading.MoveNextAsync())
                {
                    yield break;
                }
            }
            catch (FormatException e)
            {
                throw new FormatException($"--archive {file.FullName}: {e.Message}", e);
            }
            yield return reading.Current;
        }
    }

    /// <summary>
    /// Checks archive files as one stretch of the chain: each file's own entries, each file going on from the one before
    /// it (the next entry, linked to its last hash), and the store's log going on from the last file. The first file's
    /// own link is taken as it says (the log's start, or an archive not given). A file may hold entries the one before it
    /// holds too, and the store entries the last file holds (an archive stopped while it removed them, then made again):
    /// the two must then be the same stretch of the chain, linked to the same entry and at the same hash where they end.
    /// Each entry found good is given to <paramref name="verified"/>. Exit 1 at the first fault.
    /// </summary>
    private static async Task<int> VerifyArchivesAsync(CliContext context, FileInfo[] files, OpenDcc.Storage.OpenDccStore store, long baseSequence, byte[] baseHash, Func<MessageLogEntry, ValueTask> verified, CancellationToken cancellationToken)
    {
        var checkedFiles = new List<(FileInfo File, long First, long Last)>();
        (long Sequence, byte[] Hash)? previous = null;
        foreach (var file in files)
        {
            CliContext.ExistingFile(file, "--archive");
            MessageLogEntry first;
            using (var reader = new StreamReader(file.FullName))
            {
                first = await Named(file, MessageLogArchive.ReadAsync(reader, cancellationToken)).FirstOrDefaultAsync(cancellationToken)
                    ?? throw new ArgumentException($"--archive: {file.FullName} holds no entry");
            }
            // In order: a file starts after the one before it starts, and at most one entry after it ends.
            var linkedTo = previous is not { } prev ? null
                : first.Sequence > prev.Sequence + 1 || first.Sequence <= checkedFiles[^1].First ? []
                : first.Sequence == prev.Sequence + 1 ? prev.Hash
                : await HashAtAsync(checkedFiles, first.Sequence - 1, cancellationToken);
            if (linkedTo is not null && !first.PreviousHash.AsSpan().SequenceEqual(linkedTo))
            {
                var before = previous!.Value;
                await context.Error.WriteLineAsync(first.Sequence > before.Sequence + 1
                    ? $"archives do not go on from each other: {file.Name} starts at entry {first.Sequence}, the one before it ends at entry {before.Sequence}: entries {before.Sequence + 1} to {first.Sequence - 1} are in no archive given"
                    : first.Sequence <= checkedFiles[^1].First || first.Sequence == before.Sequence + 1
                        ? $"archives do not go on from each other: {file.Name} starts at entry {first.Sequence}, not linked to entry {before.Sequence} of the one before it"
                        : $"archives do not go on from each other: {file.Name} starts at entry {first.Sequence}, not linked to entry {first.Sequence - 1} of the ones before it");
                return 1;
            }
            // The first entry of the log links to genesis; a later archive's first to the archive before it.
            var after = first.Sequence == 1 ? MessageLogChain.Genesis.ToArray() : first.PreviousHash;
            long count, last;
            byte[] lastHash;
            using (var reader = new StreamReader(file.FullName))
            {
                var (entries, broken, fileLast, fileLastHash) = await MessageLogChain.VerifyEntriesAsync(Named(file, MessageLogArchive.ReadAsync(reader, cancellationToken)), first.Sequence - 1, after, verified);
                if (broken is not null)
                {
                    await context.Error.WriteLineAsync($"archive broken at entry {broken.FirstBrokenSequence}: {broken.Fault} ({CliContext.Count(broken.EntriesChecked, "entry", "entries")} checked; {file.Name})");
                    return 1;
                }
                (count, last, lastHash) = (entries, fileLast, fileLastHash);
            }
            var overlap = previous is { } prior && first.Sequence <= prior.Sequence ? Math.Min(prior.Sequence, last) : (long?)null;
            if (overlap is { } through)
            {
                // Both linked to one entry; the same stretch only if they are at the same hash where the shorter ends.
                var mine = through == last ? lastHash : await HashAtAsync([(file, first.Sequence, last)], through, cancellationToken);
                var theirs = through == previous!.Value.Sequence ? previous.Value.Hash : await HashAtAsync(checkedFiles, through, cancellationToken);
                if (!mine.AsSpan().SequenceEqual(theirs))
                {
                    await context.Error.WriteLineAsync($"archives do not go on from each other: {file.Name} holds entries {first.Sequence} to {through} as the ones before it do, but its entry {through} is not theirs");
                    return 1;
                }
            }
            var links = overlap is { } both ? $"going on from the archives before it, which hold its entries {first.Sequence} to {both} as well (an archive stopped before it had removed them)"
                : previous is not null ? "going on from the archive before it"
                : first.Sequence == 1 ? "from the start of the log"
                : $"from entry {first.Sequence - 1}, whose hash it names {Convert.ToHexString(first.PreviousHash)} (an archive not given ends there)";
            await context.Output.WriteLineAsync($"archive intact: entries {first.Sequence} to {last} ({CliContext.Count(count, "entry", "entries")}), {links}; last hash {Convert.ToHexString(lastHash)} ({file.Name})");
            checkedFiles.Add((file, first.Sequence, last));
            previous = previous is { } kept && kept.Sequence > last ? kept : (last, lastHash);
        }
        var (end, endHash) = previous!.Value;
        if (end == baseSequence && endHash.AsSpan().SequenceEqual(baseHash))
        {
            await context.Output.WriteLineAsync($"the store's log goes on from the last archive given (entry {end})");
            return 0;
        }
        // The store still holds entries the archives hold: the same stretch if linked to the same entry and at the
        // same hash where the archives end (the store's entries are checked after this).
        var head = (await store.MessageLog.ReadHeadAsync(cancellationToken))?.Sequence ?? 0;
        var archivedAtBase = end > baseSequence && end <= head ? await HashAtAsync(checkedFiles, baseSequence, cancellationToken) : [];
        if (baseHash.AsSpan().SequenceEqual(archivedAtBase) && await store.MessageLog.ReadAsync(end, end, cancellationToken).FirstAsync(cancellationToken) is { } held && held.Sequence == end && held.Hash.AsSpan().SequenceEqual(endHash))
        {
            await context.Output.WriteLineAsync($"the store's log goes on from the archives given, which hold its entries {baseSequence + 1} to {end} as well (an archive stopped before it had removed them)");
            return 0;
        }
        await context.Error.WriteLineAsync(end < baseSequence
            ? $"the store's log does not go on from the last archive given: it ends at entry {end}, the store's archived entries at {baseSequence}: entries {end + 1} to {baseSequence} are in no archive given (give the later archives after it, in order)"
            : end > baseSequence
                ? $"the store's log does not go on from the last archive given: it ends at entry {end}, past the store's archived entries, which end at {baseSequence}, and the store holds no such stretch of the chain (an archive of another store, or a store restored from before it was made)"
                : $"the store's log does not go on from the last archive given: both end at entry {end}, but the store's is linked to another hash");
        return 1;
    }

    /// <summary>
    /// The hash of entry <paramref name="sequence"/> as the last of <paramref name="files"/> (checked already) that holds
    /// it, or links to it, has it; empty when none does (the log's start: its genesis hash).
    /// </summary>
    private static async Task<byte[]> HashAtAsync(IReadOnlyList<(FileInfo File, long First, long Last)> files, long sequence, CancellationToken cancellationToken)
    {
        if (sequence == 0)
        {
            return MessageLogChain.Genesis.ToArray();
        }
        if (files.LastOrDefault(f => f.First - 1 <= sequence && sequence <= f.Last) is not ({ } file, _, _))
        {
            return [];
        }
        using var reader = new StreamReader(file.FullName);
        await foreach (var entry in Named(file, MessageLogArchive.ReadAsync(reader, cancellationToken)))
        {
            if (entry.Sequence == sequence + 1)
            {
                return entry.PreviousHash;
            }
            if (entry.Sequence == sequence)
            {
                return entry.Hash;
            }
        }
        return [];
    }
}
