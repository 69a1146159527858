using System.CommandLine;
using System.Globalization;
using NodaTime.Text;
using OpenDcc.Core.Security;
using Spectre.Console;

namespace OpenDcc.Cli;

/// <summary><c>opendcc log verify|show</c>: recompute the message log's hash chain; show its entries.</summary>
internal static class LogCommand
{
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
        var show = new Command("show", "Show entries: when, in or out, the user, the RequestID (or alert), the outcome (why a request was refused; what a delivered message is, E20/E21 with why, and what its delivery did) and the payload's size") { last, from };
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
            await using var store = await context.OpenExistingStoreAsync(parsed, ct);
            var head = (await store.MessageLog.ReadHeadAsync(ct))?.Sequence ?? 0;
            var first = parsed.GetValue(from) ?? Math.Max(1, head - count + 1);
            var table = new Table().Border(TableBorder.Simple).AddColumns("Seq", "At (UTC)", "Dir", "User", "RequestID or alert", "Outcome", "Bytes");
            var shown = 0;
            await foreach (var entry in store.MessageLog.ReadAsync(first, ct))
            {
                var record = entry.Record;
                table.AddRow(
                    entry.Sequence.ToString(CultureInfo.InvariantCulture),
                    InstantPattern.General.Format(record.At),
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
            await context.Output.WriteLineAsync(shown == 0 ? "no entries" : $"entries {first} to {first + shown - 1} of {head}");
            return 0;
        });
        log.Subcommands.Add(show);
        return log;
    }
}
