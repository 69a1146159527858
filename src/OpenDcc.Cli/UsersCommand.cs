using System.CommandLine;
using System.Globalization;
using NodaTime.Text;
using OpenDcc.Core;
using OpenDcc.Core.Catalogue;
using OpenDcc.Core.Delivery;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Parties;
using OpenDcc.Core.Security;
using Spectre.Console;

namespace OpenDcc.Cli;

/// <summary><c>opendcc users add|list|distributors|status|response-url|api-key|reset-counter</c>: the DCC users (SEC parties) OpenDcc serves, the distributors they act for, their REST API keys and replay counters.</summary>
internal static class UsersCommand
{
    public static Command Create(CliContext context)
    {
        var users = context.WithStoreOptions(new Command("users", "DCC users: their IDs, roles and response URLs"));

        var id = new Option<string>("--id") { Description = "The user's EUI-64 (business originator ID)", Required = true };
        var roles = new Option<string[]>("--role") { Description = "A user role: IS, ES, GS, ED, GT, RSA or OU (repeat for several)", Required = true, AllowMultipleArgumentsPerToken = false };
        var name = new Option<string>("--name") { Description = "The organisation's name", Required = true };
        var url = new Option<string?>("--response-url") { Description = "Where OpenDcc POSTs asynchronous responses and alerts" };
        var distributors = new Option<string[]>("--distributor") { Description = "An electricity distributor ID the user acts for, e.g. 13 (repeat for several): a network operator's smart-grid reads are limited to these MPANs", AllowMultipleArgumentsPerToken = false };
        var add = new Command("add", "Register a DCC user") { id, roles, name, url, distributors };
        add.SetAction(async (parsed, ct) =>
        {
            var eui = ParseField("--id", () => Eui64.Parse(parsed.GetRequiredValue(id)));
            var roleSet = ParseField("--role", () => parsed.GetRequiredValue(roles).Aggregate(DccUserRole.None, (acc, r) => acc | DccUserRoles.Parse(r)));
            var responseUrl = ParseResponseUrl("--response-url", parsed.GetValue(url));
            var areas = ParseDistributors(parsed.GetValue(distributors));
            ActsForDistributors(roleSet, areas);
            DccUser user;
            try
            {
                var given = parsed.GetRequiredValue(name);
                user = new DccUser(eui, string.IsNullOrWhiteSpace(given) ? given : FreeText.Checked(given, "a DCC user's name", MaxNameLength, "name"), roleSet, DccUserStatus.Active, responseUrl) { Distributors = areas };
            }
            catch (ArgumentException e) when (e.ParamName is "name" or "roles")
            {
                throw new FormatException($"{(e.ParamName == "name" ? "--name" : "--role")}: {OpenDccCli.MessageOf(e)}", e);
            }
            // The DSP's own EUI-64 (the hub's, or the default one keys init gives it): a request from it is refused E42.
            var keys = context.KeyStore(parsed);
            var dsp = keys.DspIdOr(Hub.Eui64Defaults.Dsp);
            if (eui == dsp)
            {
                throw new FormatException($"--id: {eui} is the DSP's own EUI-64 (OpenDcc itself), not a DCC user's: the gateway refuses requests from it (E42)");
            }
            await using var store = await context.OpenStoreAsync(parsed, ct);
            await store.Parties.AddUserAsync(user, ct);
            await context.Output.WriteLineAsync($"added DCC user {user.Id} '{user.Name}' ({user.Roles.Codes()}){(areas.IsEmpty ? "" : $", acting for distributors {areas}")}");
            return 0;
        });

        var areasId = new Option<string>("--id") { Description = "The user's EUI-64", Required = true };
        var areasOf = new Option<string[]>("--distributor") { Description = "A distributor ID the user acts for (repeat for several; none: acts for none)", AllowMultipleArgumentsPerToken = false };
        var setAreas = new Command("distributors", "Set the electricity distributors a user acts for, replacing those it had") { areasId, areasOf };
        setAreas.SetAction(async (parsed, ct) =>
        {
            var eui = ParseField("--id", () => Eui64.Parse(parsed.GetRequiredValue(areasId)));
            var areas = ParseDistributors(parsed.GetValue(areasOf));
            await using var store = await context.OpenExistingStoreAsync(parsed, ct);
            ActsForDistributors((await store.Parties.FindUserAsync(eui, ct) ?? throw new UnknownDccUserException(eui)).Roles, areas);
            await store.Parties.SetDistributorsAsync(eui, areas, ct);
            await context.Output.WriteLineAsync(areas.IsEmpty ? $"DCC user {eui} acts for no distributor" : $"DCC user {eui} acts for distributors {areas}");
            return 0;
        });

        var statusId = new Option<string>("--id") { Description = "The user's EUI-64", Required = true };
        var statusTo = new Option<DccUserStatus>("--to") { Description = "Active, Suspended (its requests and API calls refused, E3, until it is Active again) or Withdrawn (it has left)", Required = true };
        var setStatus = new Command("status", "Set a user's status: a running hub refuses a user that is not Active (E3) within a second") { statusId, statusTo };
        setStatus.SetAction(async (parsed, ct) =>
        {
            var eui = ParseField("--id", () => Eui64.Parse(parsed.GetRequiredValue(statusId)));
            var status = parsed.GetValue(statusTo);
            await using var store = await context.OpenExistingStoreAsync(parsed, ct);
            var was = (await store.Parties.FindUserAsync(eui, ct) ?? throw new UnknownDccUserException(eui)).Status;
            await store.Parties.SetUserStatusAsync(eui, status, ct);
            await context.Output.WriteLineAsync(
                (was == status ? $"DCC user {eui} is {status} already" : $"DCC user {eui} is {status} (was {was})") +
                (status == DccUserStatus.Active ? "" : ": its DUIS requests are refused E3 and its API calls 403; answers to requests accepted before, and alerts, are still delivered"));
            return 0;
        });

        var urlId = new Option<string>("--id") { Description = "The user's EUI-64", Required = true };
        var newUrl = new Option<string?>("--url") { Description = "Where OpenDcc POSTs the user's asynchronous responses and alerts (none: nowhere; new ones go to the failed queue at once, those on their way at the end of their retry window unless a URL is set before their next attempt)" };
        var setUrl = new Command("response-url", "Set or remove a user's response URL; the user's messages not yet delivered go there from their next attempt") { urlId, newUrl };
        setUrl.SetAction(async (parsed, ct) =>
        {
            var eui = ParseField("--id", () => Eui64.Parse(parsed.GetRequiredValue(urlId)));
            var responseUrl = ParseResponseUrl("--url", parsed.GetValue(newUrl));
            await using var store = await context.OpenExistingStoreAsync(parsed, ct);
            await store.Parties.SetResponseUrlAsync(eui, responseUrl, ct);
            if (responseUrl is null)
            {
                // What the dispatcher does with them now: each attempt is sent nowhere (NoResponseUrl), so they reach the
                // failed queue at the end of their retry window unless a URL is set before their next attempt.
                var onTheirWay = await store.Delivery.CountAsync(DeliveryState.Pending, eui, ct);
                await context.Output.WriteLineAsync(
                    $"DCC user {eui} has no response URL: its new asynchronous responses and alerts go to the failed queue at once ('no response URL registered')" +
                    (onTheirWay == 0
                        ? ""
                        : $"; on their way, {CliContext.Count(onTheirWay, "message", "messages")}: sent nowhere (each attempt logged NoResponseUrl), to the failed queue at the end of the retry window unless a URL is set before the next attempt"));
                return 0;
            }
            // The failed queue is not sent again by itself (that is the hub's once a message reaches the user): said, with how.
            var failed = await store.Delivery.CountAsync(DeliveryState.Failed, eui, ct);
            await context.Output.WriteLineAsync($"DCC user {eui}'s responses and alerts go to {responseUrl}, its messages not yet delivered from their next attempt" +
                (failed == 0 ? "" : $"; {CliContext.Count(failed, "failed message waits", "failed messages wait")} in the failed queue: 'opendcc delivery redeliver --user {eui}' sends {(failed == 1 ? "it" : "them")} there"));
            return 0;
        });

        var keyUser = new Option<string>("--id") { Description = "The user's EUI-64", Required = true };
        var revoke = new Option<string?>("--revoke") { Description = "Revoke the user's API key with this key ID (or the whole token) instead of issuing one" };
        var listKeys = new Option<bool>("--list") { Description = "List the user's API keys instead of issuing one" };
        var apiKey = new Command("api-key", "Issue a REST API key for a user (the token is shown once; only its hash is kept), or list or revoke its keys") { keyUser, revoke, listKeys };
        apiKey.SetAction(async (parsed, ct) =>
        {
            var eui = ParseField("--id", () => Eui64.Parse(parsed.GetRequiredValue(keyUser)));
            var revokeId = parsed.GetValue(revoke);
            if (revokeId is not null && parsed.GetValue(listKeys))
            {
                throw new ArgumentException("--revoke and --list: give one of them, or neither to issue a key");
            }
            await using var store = await context.OpenExistingStoreAsync(parsed, ct);
            var keys = await store.ApiKeys.ListAsync(eui, ct);
            if (parsed.GetValue(listKeys))
            {
                var table = new Table().Border(TableBorder.Simple).AddColumns("Key ID", "Created", "Revoked");
                foreach (var key in keys)
                {
                    table.AddRow(key.Id, InstantPattern.General.Format(key.CreatedAt), key.RevokedAt is { } at ? InstantPattern.General.Format(at) : "");
                }
                context.Console.Write(table);
                context.Console.WriteLine($"{CliContext.Count(keys.Count, "API key", "API keys")} of DCC user {eui}");
                return 0;
            }
            if (revokeId is not null)
            {
                // The whole token finds its key by its hash, as the API does: what an operator holds when a token has leaked.
                revokeId = revokeId.Trim();
                if (ApiKey.IsWellFormed(revokeId))
                {
                    var key = await store.ApiKeys.FindByTokenHashAsync(ApiKey.HashOf(revokeId), ct);
                    revokeId = key is { } found && found.User == eui
                        ? found.Id
                        : throw new ArgumentException($"--revoke: the token given is no API key of DCC user {eui}");
                }
                if (keys.All(k => k.Id != revokeId))
                {
                    throw new ArgumentException($"--revoke: DCC user {eui} has no API key {Excerpt.Of(revokeId)} (give the key ID that --list shows, 12 hex digits, or the whole token)");
                }
                var revoked = await store.ApiKeys.RevokeAsync(revokeId, context.Clock.GetCurrentInstant(), ct);
                await context.Output.WriteLineAsync(revoked ? $"revoked API key {revokeId} of DCC user {eui}" : $"API key {revokeId} of DCC user {eui} was already revoked");
                return 0;
            }
            var (issued, token) = ApiKey.Issue(eui, context.Clock.GetCurrentInstant());
            await store.ApiKeys.AddAsync(issued, ApiKey.HashOf(token), ct);
            await context.Output.WriteLineAsync($"issued API key {issued.Id} for DCC user {eui}; send it as 'Authorization: Bearer TOKEN'. The token is shown only now:");
            await context.Output.WriteLineAsync(token);
            return 0;
        });

        var list = new Command("list", "List the DCC users, with the RequestID counter last accepted from each (its next request must have a greater one)");
        list.SetAction(async (parsed, ct) =>
        {
            await using var store = await context.OpenExistingStoreAsync(parsed, ct);
            var all = await store.Parties.ListUsersAsync(ct);
            // IDs, URLs and counters are copied whole: they do not wrap, the names and lists do.
            var table = new Table().Border(TableBorder.Simple).AddColumns(
                new TableColumn("ID").NoWrap(), new TableColumn("Name"), new TableColumn("Roles"), new TableColumn("Status"), new TableColumn("Certificates"),
                new TableColumn("Response URL").NoWrap(), new TableColumn("Distributors"), new TableColumn("API keys"), new TableColumn("Last counter").NoWrap());
            foreach (var user in all)
            {
                var certificates = await store.Parties.ListCertificatesAsync(user.Id, ct);
                var apiKeys = await store.ApiKeys.ListAsync(user.Id, ct);
                table.AddRow(
                    user.Id.ToString(),
                    Markup.Escape(user.Name),
                    user.Roles.Codes(),
                    user.Status.ToString(),
                    certificates.Count == 0 ? "none" : string.Join(", ", certificates.Select(c => $"{c.Role} ({(int)c.Role:X2}){(c.RevokedAt is null ? "" : " revoked")}")),
                    Markup.Escape(user.ResponseUrl?.ToString() ?? ""),
                    user.Distributors.ToCodes(),
                    apiKeys.Count(k => !k.IsRevoked).ToString(System.Globalization.CultureInfo.InvariantCulture),
                    // The RequestID counter last accepted from the user: its next request must have a greater one.
                    (await store.ReplayCounters.ReadAsync(user.Id, ct))?.Last.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none");
            }
            context.Console.Write(table);
            context.Console.WriteLine(CliContext.Count(all.Count, "DCC user", "DCC users"));
            return 0;
        });

        users.Subcommands.Add(add);
        users.Subcommands.Add(list);
        users.Subcommands.Add(setAreas);
        users.Subcommands.Add(setStatus);
        users.Subcommands.Add(setUrl);
        users.Subcommands.Add(apiKey);
        users.Subcommands.Add(ResetCounterCommand(context));
        return users;
    }

    /// <summary>
    /// <c>users reset-counter --id EUI64 --to N</c>: lowers a user's replay counter, for a counter run away (a request
    /// signed with the largest counter, 18446744073709551615, leaves the user no greater one to send). Only with no hub
    /// serving from the store (the hub's grain holds the counter); the reset is logged in the message log, in the
    /// transaction that makes it.
    /// </summary>
    private static Command ResetCounterCommand(CliContext context)
    {
        var id = new Option<string>("--id") { Description = "The user's EUI-64", Required = true };
        var to = new Option<ulong>("--to") { Description = "The counter to lower it to: the user's next request needs a greater one. Above every counter the user used before the one that ran away, so its old requests stay replays", Required = true };
        var reset = new Command("reset-counter", "Lower a user's replay counter that ran away (no hub may be serving); its accepted requests with counters above the new one could be accepted again if replayed") { id, to };
        reset.SetAction(async (parsed, ct) =>
        {
            var eui = ParseField("--id", () => Eui64.Parse(parsed.GetRequiredValue(id)));
            var counter = parsed.GetValue(to);
            await using var store = await context.OpenExistingStoreAsync(parsed, ct);
            _ = await store.Parties.FindUserAsync(eui, ct) ?? throw new UnknownDccUserException(eui);
            // Held until the reset is logged: no hub may start meanwhile and read the counter as it was.
            OpenDcc.Storage.IHubLease noHub;
            try
            {
                noHub = await store.LeaseForHubAsync(ct);
            }
            catch (InvalidOperationException e)
            {
                throw new InvalidOperationException($"a hub serves from this store, and holds the user's counter: stop it, then reset the counter ({e.Message})", e);
            }
            await using var held = noHub;
            var last = (await store.ReplayCounters.ReadAsync(eui, ct))?.Last;
            if (last is not { } current || current <= counter)
            {
                await context.Output.WriteLineAsync($"DCC user {eui}'s replay counter is {(last is { } l ? l.ToString(CultureInfo.InvariantCulture) : "not set (no request accepted)")}: nothing to lower to {counter}");
                return 0;
            }
            var now = context.Clock.GetCurrentInstant();
            await store.MessageLog.AppendAsync(
            [
                new MessageLogRecord(now, MessageDirection.Inbound, eui, null, $"ReplayCounterReset: the operator lowered the replay counter from {current} to {counter}", ReadOnlyMemory<byte>.Empty) { ResetsCounterTo = counter },
            ], ct);
            await context.Output.WriteLineAsync(
                $"DCC user {eui}'s replay counter lowered from {current} to {counter} (logged): its next request needs a counter above {counter}; a request of its accepted before with a counter above {counter} would be accepted again if replayed");
            return 0;
        });
        return reset;
    }

    /// <summary>The longest organisation name <c>users add</c> takes.</summary>
    private const int MaxNameLength = 200;

    private static DistributorSet ParseDistributors(string[]? ids) =>
        ParseField("--distributor", () => DistributorSet.Parse(string.Join(' ', ids ?? [])));

    private static Uri? ParseResponseUrl(string option, string? text) =>
        text is null ? null : ParseField(option, () => Uri.TryCreate(text, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
            ? uri.UserInfo.Length == 0 ? uri : throw new FormatException("a response URL carries no credentials (user:password@): the store, the CLI's lists and the message log would show them")
            : throw new FormatException($"'{text}' is not an absolute http or https URL"));

    /// <summary>Refuses distributors for a user that is no electricity distributor: only an ED's smart-grid reads are limited to them, so for any other they would mean nothing.</summary>
    private static void ActsForDistributors(DccUserRole roles, DistributorSet areas)
    {
        if (!areas.IsEmpty && (roles & DccUserRole.ElectricityDistributor) == 0)
        {
            throw new ArgumentException($"--distributor: only an electricity distributor (ED) acts for distributors; this user is {roles.Codes()}");
        }
    }

    /// <summary>Turns a parse or validation failure into a message that names the option at fault.</summary>
    public static T ParseField<T>(string option, Func<T> parse)
    {
        try
        {
            return parse();
        }
        catch (Exception e) when (e is FormatException or ArgumentException)
        {
            throw new FormatException($"{option}: {OpenDccCli.MessageOf(e)}", e);
        }
    }
}
