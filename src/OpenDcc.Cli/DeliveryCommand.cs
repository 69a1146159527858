using System.CommandLine;
using NodaTime;
using NodaTime.Text;
using OpenDcc.Core.Delivery;
using OpenDcc.Core.Duis;
using OpenDcc.Core.Identifiers;
using Spectre.Console;

namespace OpenDcc.Cli;

/// <summary>
/// <c>opendcc delivery failed|redeliver</c>: the failed queue of responses and alerts no user endpoint took within
/// the retry window. A running hub sends a user's failed messages again by itself once a message reaches that user;
/// these commands show the queue and send it again by hand, for a user whose endpoint is back but gets no new traffic.
/// <c>opendcc delivery unanswered</c>: what is not yet on its way at all, the acknowledged device commands still unanswered;
/// <c>opendcc delivery local</c>: the commands given for local delivery whose answers have not come back.
/// </summary>
internal static class DeliveryCommand
{
    /// <summary>What <c>delivery failed</c> shows unless told: a queue held two days may hold millions.</summary>
    private const int DefaultLimit = 100;

    public static Command Create(CliContext context)
    {
        var delivery = context.WithStoreOptions(new Command("delivery", "Responses and alerts on their way to users' response URLs"));

        var listUser = new Option<string?>("--user") { Description = "Only this DCC user's messages (EUI-64)" };
        var limit = new Option<int>("--limit") { Description = $"Show at most this many, the oldest failures (default {DefaultLimit}); the count is of all of them", DefaultValueFactory = _ => DefaultLimit };
        var failed = new Command("failed", "List the failed queue, oldest failure first") { listUser, limit };
        failed.SetAction((parsed, ct) => ListAsync(context, parsed, DeliveryState.Failed, listUser, limit, ct));

        var queuedUser = new Option<string?>("--user") { Description = "Only this DCC user's messages (EUI-64)" };
        var queuedLimit = new Option<int>("--limit") { Description = $"Show at most this many, the soonest due (default {DefaultLimit}); the count is of all of them", DefaultValueFactory = _ => DefaultLimit };
        var queued = new Command("queued", "List the messages on their way, not yet delivered nor failed, soonest due first: each with its attempts so far, its last error and when it is tried next") { queuedUser, queuedLimit };
        queued.SetAction((parsed, ct) => ListAsync(context, parsed, DeliveryState.Pending, queuedUser, queuedLimit, ct));

        var redeliverUser = new Option<string?>("--user") { Description = "Only this DCC user's messages (EUI-64)" };
        var all = new Option<bool>("--all") { Description = "Every user's failed messages" };
        var redeliver = new Command("redeliver", $"Send failed messages again: the oldest {DeliveryOptions.Default.RedeliverBatchSize} of each user go back to the delivery queue, due now, and the rest as many at a time, each batch once a message of the one before reaches the user") { redeliverUser, all };
        redeliver.SetAction(async (parsed, ct) =>
        {
            var user = ParseUser(parsed.GetValue(redeliverUser));
            var everyone = parsed.GetValue(all);
            if (user is null && !everyone)
            {
                throw new ArgumentException("redeliver: give --user EUI64 for one user's failed messages, or --all for every user's");
            }
            if (user is not null && everyone)
            {
                throw new ArgumentException("redeliver: --user and --all: give one of them");
            }
            await using var store = await context.OpenExistingStoreAsync(parsed, ct);
            await KnownUserAsync(store, user, ct);
            // A batch per user, as the hub redelivers by itself (DeliveryOptions.RedeliverBatchSize): a backlog of two days
            // put back at once would hold every other message, other users' too, behind it. Once one of a batch reaches
            // the user, the hub puts back the next.
            var batch = DeliveryOptions.Default.RedeliverBatchSize;
            var now = context.Clock.GetCurrentInstant();
            var requeued = 0;
            foreach (var each in user is { } one ? [one] : await store.Delivery.UsersWithFailedAsync(ct))
            {
                requeued += await store.Delivery.RequeueFailedAsync(each, now, max: batch, cancellationToken: ct);
            }
            var left = await store.Delivery.CountAsync(DeliveryState.Failed, user, ct);
            await context.Output.WriteLineAsync(
                $"{CliContext.Count(requeued, "failed message", "failed messages")}{(user is { } u ? $" to DCC user {u}" : "")} queued for delivery again; a running hub sends them within a second" +
                (left == 0 ? "" : $". {(left == 1 ? "The other one follows" : $"The other {left:N0} follow")} in batches of {batch:N0} per user, each once a message of the batch before reaches the user (a message attempted in the last {DeliveryOptions.Default.RedeliverAfter.TotalMinutes:N0} minutes only after that)"));
            return 0;
        });

        var localLimit = new Option<int>("--limit") { Description = $"Show at most this many, the oldest (default {DefaultLimit}); the count is of all of them", DefaultValueFactory = _ => DefaultLimit };
        var local = new Command("local", $"List the commands given for local delivery (CV 2, 6) whose device's answer has not come back with 8.13, oldest first; each is kept {LocalCommands.KeptFor.Days} days") { localLimit };
        local.SetAction(async (parsed, ct) =>
        {
            var most = parsed.GetValue(localLimit);
            CheckLimit(most);
            await using var store = await context.OpenExistingStoreAsync(parsed, ct);
            // Those past their keeping are forgotten (the next command given removes them): an 8.13 gets E081301.
            var since = context.Clock.GetCurrentInstant() - LocalCommands.KeptFor;
            var commands = await store.LocalCommands.ListWaitingAsync(since, most, ct);
            var total = commands.Count < most ? commands.Count : await store.LocalCommands.CountWaitingAsync(since, ct);
            // The RequestID names the user (its originator) and the device (its target).
            var table = new Table().Border(TableBorder.Simple).AddColumns(
                new TableColumn("RequestID").NoWrap(), new TableColumn("SRV").NoWrap(), new TableColumn("Given").NoWrap(), new TableColumn("Forgotten after").NoWrap());
            foreach (var command in commands)
            {
                table.AddRow(
                    command.RequestId.ToString(),
                    Markup.Escape(command.ServiceReferenceVariant),
                    InstantPattern.General.Format(command.IssuedAt),
                    InstantPattern.General.Format(command.IssuedAt + LocalCommands.KeptFor));
            }
            context.Console.Write(table);
            context.Console.WriteLine($"{CliContext.Count(total, "command", "commands")} given for local delivery, the device's answer not returned" +
                (total > commands.Count ? $"; the oldest {commands.Count:N0} shown (--limit)" : ""));
            return 0;
        });

        var unansweredLimit = new Option<int>("--limit") { Description = $"Show at most this many, the oldest (default {DefaultLimit}); the count is of all of them", DefaultValueFactory = _ => DefaultLimit };
        var unanswered = new Command("unanswered", "List the device commands acknowledged (I99) whose answer is not yet on its way, oldest first: on the WAN or waiting for it, or left by a hub that did not stop cleanly (its next start answers those E21)") { unansweredLimit };
        unanswered.SetAction(async (parsed, ct) =>
        {
            var most = parsed.GetValue(unansweredLimit);
            CheckLimit(most);
            await using var store = await context.OpenExistingStoreAsync(parsed, ct);
            var commands = await store.UnansweredCommands.ListAsync(most, ct);
            var total = commands.Count < most ? commands.Count : await store.UnansweredCommands.CountAsync(ct);
            var now = context.Clock.GetCurrentInstant();
            var table = new Table().Border(TableBorder.Simple).AddColumns(
                new TableColumn("RequestID").NoWrap(), new TableColumn("SRV").NoWrap(), new TableColumn("Device").NoWrap(), new TableColumn("User").NoWrap(),
                new TableColumn("Acknowledged").NoWrap(), new TableColumn("Waiting").NoWrap());
            foreach (var command in commands)
            {
                var waiting = now - command.AcknowledgedAt;
                table.AddRow(
                    command.Request.RequestId.ToString(),
                    Markup.Escape(command.Request.ServiceReferenceVariant),
                    command.Request.Device.ToString(),
                    command.User.ToString(),
                    InstantPattern.General.Format(command.AcknowledgedAt),
                    waiting < Duration.Zero ? "" : $"{(long)waiting.TotalSeconds:N0} s");
            }
            context.Console.Write(table);
            context.Console.WriteLine($"{CliContext.Count(total, "device command", "device commands")} acknowledged and not yet answered" +
                (total > commands.Count ? $"; the oldest {commands.Count:N0} shown (--limit)" : ""));
            return 0;
        });

        delivery.Subcommands.Add(failed);
        delivery.Subcommands.Add(queued);
        delivery.Subcommands.Add(redeliver);
        delivery.Subcommands.Add(unanswered);
        delivery.Subcommands.Add(local);
        return delivery;
    }

    /// <summary>
    /// <c>delivery failed</c> and <c>delivery queued</c>: the messages in <paramref name="state"/>, as a table with each
    /// one's last error after it, a line each (in a column beside the identifiers it was squeezed to a few characters).
    /// </summary>
    private static async Task<int> ListAsync(CliContext context, ParseResult parsed, DeliveryState state, Option<string?> userOption, Option<int> limitOption, CancellationToken ct)
    {
        var user = ParseUser(parsed.GetValue(userOption));
        var limit = parsed.GetValue(limitOption);
        CheckLimit(limit);
        await using var store = await context.OpenExistingStoreAsync(parsed, ct);
        await KnownUserAsync(store, user, ct);
        var messages = await store.Delivery.ListAsync(state, user, limit, ct);
        var total = messages.Count < limit ? messages.Count : await store.Delivery.CountAsync(state, user, ct);
        var failed = state == DeliveryState.Failed;
        var retention = new RetryPolicy(DeliveryOptions.Default);
        var table = new Table().Border(TableBorder.Simple).AddColumns(
            new TableColumn("ID").NoWrap(), new TableColumn("User").NoWrap(), new TableColumn("Correlation").NoWrap(), new TableColumn("Attempts").NoWrap(),
            new TableColumn("Last attempt").NoWrap(), new TableColumn(failed ? "Purged after" : "Next attempt").NoWrap());
        foreach (var message in messages)
        {
            table.AddRow(
                message.Id.ToString(System.Globalization.CultureInfo.InvariantCulture),
                message.User.ToString(),
                Markup.Escape(message.Correlation),
                message.Attempts.ToString(System.Globalization.CultureInfo.InvariantCulture),
                message.LastAttemptAt is { } at ? InstantPattern.General.Format(at) : "",
                InstantPattern.General.Format(failed ? retention.FailedExpiry(message.EnqueuedAt) : message.NextAttemptAt));
        }
        context.Console.Write(table);
        foreach (var message in messages.Where(m => m.LastError is not null))
        {
            await context.Output.WriteLineAsync($"  {message.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)}: last error: {message.LastError}");
        }
        var (one, many, shownOf) = failed ? ("failed message", "failed messages", "oldest") : ("message on its way", "messages on their way", "soonest due");
        context.Console.WriteLine($"{CliContext.Count(total, one, many)}{(user is { } u ? $" to DCC user {u}" : "")}" +
            (total > messages.Count ? $"; the {shownOf} {messages.Count:N0} shown (--limit)" : ""));
        return 0;
    }

    private static void CheckLimit(int limit)
    {
        if (limit is < 1 or > 1_000_000)
        {
            throw new FormatException("--limit must be between 1 and 1,000,000");
        }
    }

    /// <summary>A --user that is no DCC user is a mistake (a mistyped ID), not a user with nothing queued.</summary>
    private static async Task KnownUserAsync(OpenDcc.Storage.OpenDccStore store, Eui64? user, CancellationToken cancellationToken)
    {
        if (user is { } id && await store.Parties.FindUserAsync(id, cancellationToken) is null)
        {
            throw new ArgumentException($"--user: {id} is not a DCC user (opendcc users list)");
        }
    }

    private static Eui64? ParseUser(string? text) =>
        text is null ? null : UsersCommand.ParseField("--user", () => Eui64.Parse(text));
}
