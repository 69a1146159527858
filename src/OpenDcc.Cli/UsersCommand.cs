using System.CommandLine;
using OpenDcc.Core.Catalogue;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Parties;
using Spectre.Console;

namespace OpenDcc.Cli;

/// <summary><c>opendcc users add|list</c>: the DCC users (SEC parties) OpenDcc serves.</summary>
internal static class UsersCommand
{
    public static Command Create(CliContext context)
    {
        var users = context.WithStoreOptions(new Command("users", "DCC users: their IDs, roles and response URLs"));

        var id = new Option<string>("--id") { Description = "The user's EUI-64 (business originator ID)", Required = true };
        var roles = new Option<string[]>("--role") { Description = "A user role: IS, ES, GS, ED, GT, RSA or OU (repeat for several)", Required = true, AllowMultipleArgumentsPerToken = false };
        var name = new Option<string>("--name") { Description = "The organisation's name", Required = true };
        var url = new Option<string?>("--response-url") { Description = "Where OpenDcc POSTs asynchronous responses and alerts" };
        var add = new Command("add", "Register a DCC user") { id, roles, name, url };
        add.SetAction(async (parsed, ct) =>
        {
            var eui = ParseField("--id", () => Eui64.Parse(parsed.GetRequiredValue(id)));
            var roleSet = ParseField("--role", () => parsed.GetRequiredValue(roles).Aggregate(DccUserRole.None, (acc, r) => acc | DccUserRoles.Parse(r)));
            var responseUrl = parsed.GetValue(url) is { } u
                ? ParseField("--response-url", () => Uri.TryCreate(u, UriKind.Absolute, out var uri) ? uri : throw new FormatException($"'{u}' is not an absolute URL"))
                : null;
            var user = new DccUser(eui, parsed.GetRequiredValue(name), roleSet, DccUserStatus.Active, responseUrl);
            await using var store = await context.OpenStoreAsync(parsed, ct);
            await store.Parties.AddUserAsync(user, ct);
            await context.Output.WriteLineAsync($"added DCC user {user.Id} '{user.Name}' ({user.Roles.Codes()})");
            return 0;
        });

        var list = new Command("list", "List the DCC users");
        list.SetAction(async (parsed, ct) =>
        {
            await using var store = await context.OpenStoreAsync(parsed, ct);
            var all = await store.Parties.ListUsersAsync(ct);
            var table = new Table().Border(TableBorder.Simple).AddColumns("ID", "Name", "Roles", "Status", "Certificates", "Response URL");
            foreach (var user in all)
            {
                var certificates = await store.Parties.ListCertificatesAsync(user.Id, ct);
                table.AddRow(
                    user.Id.ToString(),
                    Markup.Escape(user.Name),
                    user.Roles.Codes(),
                    user.Status.ToString(),
                    certificates.Count == 0 ? "none" : string.Join(", ", certificates.Select(c => $"{c.Role} ({(int)c.Role:X2})")),
                    Markup.Escape(user.ResponseUrl?.ToString() ?? ""));
            }
            context.Console.Write(table);
            context.Console.WriteLine($"{all.Count} DCC users");
            return 0;
        });

        users.Subcommands.Add(add);
        users.Subcommands.Add(list);
        return users;
    }

    /// <summary>Turns a parse failure into a message that names the option at fault.</summary>
    public static T ParseField<T>(string option, Func<T> parse)
    {
        try
        {
            return parse();
        }
        catch (FormatException e)
        {
            throw new FormatException($"{option}: {e.Message}", e);
        }
    }
}
