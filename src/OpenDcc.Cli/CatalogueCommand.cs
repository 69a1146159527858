using System.CommandLine;
using OpenDcc.Core.Catalogue;
using Spectre.Console;

namespace OpenDcc.Cli;

/// <summary><c>opendcc catalogue [--role IS]</c>: the DUIS service reference variants as a table.</summary>
internal static class CatalogueCommand
{
    public static Command Create(CliContext context)
    {
        var role = new Option<string?>("--role") { Description = "Only the variants this role may send: IS, ES, GS, ED, GT, RSA or OU" };
        var command = new Command("catalogue", "Print the DUIS service catalogue (service reference variants)") { role };
        command.SetAction(parsed =>
        {
            var variants = ServiceCatalogue.Duis.Variants.AsEnumerable();
            if (parsed.GetValue(role) is { } code)
            {
                var r = UsersCommand.ParseField("--role", () => DccUserRoles.Parse(code));
                variants = variants.Where(v => v.IsEligibleFor(r));
            }
            var table = new Table().Border(TableBorder.Simple)
                .AddColumns("SRV", "Name", "Critical", "Future-dated", "DCC-scheduled", "Non-device", "Roles");
            var count = 0;
            foreach (var v in variants)
            {
                count++;
                table.AddRow(
                    Markup.Escape(v.Id),
                    Markup.Escape(v.Name),
                    v.IsCritical ? "Y" : "",
                    v.FutureDatedResponsePattern == FutureDatedResponsePattern.None ? "" : v.FutureDatedResponsePattern.ToString(),
                    v.IsDccSchedulable ? "Y" : "",
                    v.IsNonDevice ? "Y" : "",
                    v.EligibleRoles == DccUserRole.None ? "(none)" : v.EligibleRoles.Codes());
            }
            context.Console.Write(table);
            context.Console.WriteLine($"{count} service reference variants");
            return 0;
        });
        return command;
    }
}
