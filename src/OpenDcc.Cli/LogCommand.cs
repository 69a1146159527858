using System.CommandLine;
using System.Globalization;
using NodaTime.Text;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Security;
using Spectre.Console;

namespace OpenDcc.Cli;

/// <summary><c>opendcc log verify|show|payload</c>: recompute the message log's hash chain; show its entries, all of one request's; print one entry's message.</summary>
internal static class LogCommand
{
    /// <summary>The log's times to the millisecond: what a request and its responses took is read off them.</summary>
    private static readonly InstantPattern Milliseconds = InstantPattern.CreateWithInvariantCulture("uuuu-MM-dd'T'HH:mm:ss.fff'Z'");

    public static Command Create(CliContext context)
    {
        var log = context.WithStoreOptions(new Command("log", "The message log of every message received or sent"));
        var verify = new Command("verify", "Recompute the hash chain and report the first broken entry (exit 1 if any)");
        verify.SetAction(async (parsed, ct) =>
        {
            await using var store = await context.OpenExistingStoreAsync(parsed, ct);
            var result = await MessageLogChain.VerifyAsync(store.MessageLog, ct);
            if (result.IsIntact)
            {
                var head = await store.MessageLog.ReadHeadAsync(ct);
                await context.Output.WriteLineAsync(
                    $"message log intact: {result.EntriesChecked} entries" + (head is { } h ? $", head {Convert.ToHexString(h.Hash)}" : ""));
                return 0;
            }
            await context.Error.WriteLineAsync($"message log broken at entry {result.FirstBrokenSequence}: {result.Fault} ({result.EntriesChecked} entries checked)");
            return 1;
        });
        log.Subcommands.Add(verify);

        var last = new Option<int>("--last") { Description = "How many of the newest entries to show", DefaultValueFactory = _ => 20 };
        var from = new Option<long?>("--from") { Description = "Show entries from this sequence number on (with --last: at most that many)" };
        var requestId = new Option<string?>("--request-id") { Description = "Show what became of one request: the entries of this RequestID (ORIGINATOR:TARGET:COUNTER), oldest first: the request, its response, the device's answer, each attempt to deliver it (with --last: at most that many)" };
        var show = new Command("show", "Show entries: when (to the millisecond), in or out, the user, the RequestID (or alert), the outcome (why a request was refused; what a delivered message is, E20/E21 with why, and what its delivery did) and the payload's size") { last, from, requestId };
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
            var request = parsed.GetValue(requestId) is { } text ? UsersCommand.ParseField("--request-id", () => RequestId.Parse(text)) : (RequestId?)null;
            if (request is not null && parsed.GetValue(from) is not null)
            {
                throw new ArgumentException("--request-id and --from: give one of them");
            }
            await using var store = await context.OpenExistingStoreAsync(parsed, ct);
            var head = (await store.MessageLog.ReadHeadAsync(ct))?.Sequence ?? 0;
            var first = parsed.GetValue(from) ?? Math.Max(1, head - count + 1);
            var entries = request is { } r ? store.MessageLog.ReadCorrelatedAsync(r.ToString(), ct) : store.MessageLog.ReadAsync(first, ct);
            var table = new Table().Border(TableBorder.Simple).AddColumns("Seq", "At (UTC)", "Dir", "User", "RequestID or alert", "Outcome", "Bytes");
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
                request is { } one ? (shown == 0 ? $"no entries for RequestID {one}" : $"{CliContext.Count(shown, "entry", "entries")} for RequestID {one}{(shown == count ? " (--last)" : "")}")
                : shown == 0 ? "no entries" : $"entries {first} to {first + shown - 1} of {head}");
            return 0;
        });
        log.Subcommands.Add(show);

        var sequence = new Option<long>("--seq") { Description = "The entry's sequence number (log show gives it)", Required = true };
        var output = new Option<FileInfo?>("--out") { Description = "Write the message's bytes, exactly as received or sent, to this file (for example to check its signature elsewhere) instead of printing it as text" };
        var payload = new Command("payload", "Print one entry's message as it went over the wire: the signed DUIS XML of a request or response, the body of a delivered message") { sequence, output };
        payload.SetAction(async (parsed, ct) =>
        {
            var wanted = parsed.GetValue(sequence);
            if (wanted < 1)
            {
                throw new ArgumentException("--seq: sequence numbers start at 1");
            }
            await using var store = await context.OpenExistingStoreAsync(parsed, ct);
            var head = (await store.MessageLog.ReadHeadAsync(ct))?.Sequence ?? 0;
            var entry = wanted > head ? null : await store.MessageLog.ReadAsync(wanted, ct).FirstOrDefaultAsync(ct);
            if (entry is null)
            {
                throw new ArgumentException($"--seq: no entry {wanted} (the log has {CliContext.Count(head, "entry", "entries")})");
            }
            if (parsed.GetValue(output) is { } file)
            {
                await File.WriteAllBytesAsync(file.FullName, entry.Record.Payload.ToArray(), ct);
                await context.Output.WriteLineAsync($"entry {wanted}: {CliContext.Count(entry.Record.Payload.Length, "byte", "bytes")} written to {file.FullName}");
            }
            else
            {
                await context.Output.WriteLineAsync(System.Text.Encoding.UTF8.GetString(entry.Record.Payload.Span));
            }
            return 0;
        });
        log.Subcommands.Add(payload);
        return log;
    }
}
