using System.CommandLine;
using OpenDcc.Core.Security;

namespace OpenDcc.Cli;

/// <summary><c>opendcc log verify</c>: recompute the message log's hash chain.</summary>
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
        return log;
    }
}
