using System.CommandLine;
using OpenDcc.Core.Identifiers;

namespace OpenDcc.Cli;

/// <summary><c>opendcc validate mpan|mprn|uprn|eui64 VALUE</c>: what an identifier says, or what is wrong with it.</summary>
internal static class ValidateCommand
{
    public static Command Create(CliContext context)
    {
        var command = new Command("validate", "Check an identifier and print what it encodes (exit 1 naming the fault if invalid)");
        command.Subcommands.Add(Kind(context, "mpan", "An MPAN core (13 digits) or full 21-digit supply number", ValidateMpan));
        command.Subcommands.Add(Kind(context, "mprn", "A gas MPRN (6-10 digits)", ValidateMprn));
        command.Subcommands.Add(Kind(context, "uprn", "A UPRN (1-12 digits)", ValidateUprn));
        command.Subcommands.Add(Kind(context, "eui64", "An EUI-64 such as 90-B3-D5-1F-30-01-00-00", ValidateEui64));
        return command;
    }

    private static Command Kind(CliContext context, string name, string description, Func<string, IEnumerable<(string Field, string Value)>> validate)
    {
        var value = new Argument<string>("value") { Description = "The identifier to check" };
        var command = new Command(name, description) { value };
        command.SetAction(async parsed =>
        {
            var text = parsed.GetRequiredValue(value);
            List<(string Field, string Value)> fields;
            try
            {
                fields = [.. validate(text)];
            }
            catch (FormatException e)
            {
                await context.Error.WriteLineAsync($"invalid {name}: {e.Message}");
                return 1;
            }
            var width = fields.Max(f => f.Field.Length);
            foreach (var (field, v) in fields)
            {
                await context.Output.WriteLineAsync($"{field.PadRight(width)}  {v}");
            }
            return 0;
        });
        return command;
    }

    private static IEnumerable<(string, string)> ValidateMpan(string text)
    {
        var compact = string.Concat(text.Where(c => !char.IsWhiteSpace(c)));
        Mpan core;
        var fields = new List<(string, string)>();
        if (compact.Length == 21)
        {
            var supply = SupplyNumber.Parse(text);
            core = supply.Core;
            fields.Add(("supply number", supply.ToString()));
            fields.Add(("profile class", supply.ProfileClass.ToString("D2", System.Globalization.CultureInfo.InvariantCulture)));
            fields.Add(("MTC", supply.MeterTimeswitchCode.ToString("D3", System.Globalization.CultureInfo.InvariantCulture)));
            fields.Add(("LLFC", supply.LineLossFactorClass));
        }
        else
        {
            core = Mpan.Parse(text);
        }
        var distributor = core.Distributor;
        fields.Insert(0, ("MPAN core", core.ToString()));
        fields.Add(("distributor", $"{distributor.Id:D2} {distributor.MpasId}{(distributor.IsIdno ? " (IDNO)" : "")}"));
        fields.Add(("operator", distributor.OperatorName));
        fields.Add(("GSP group", distributor.GspGroup is { } g ? $"{g} {g.AreaName}" : "none (IDNO: the GSP group is that of the host network)"));
        fields.Add(("unique id", core.UniqueIdentifier));
        fields.Add(("check digit", $"{core.CheckDigit} (valid)"));
        return fields;
    }

    private static IEnumerable<(string, string)> ValidateMprn(string text)
    {
        var mprn = Mprn.Parse(text);
        yield return ("MPRN", mprn.ToString());
        yield return ("transporter", mprn.IsIndependentGasTransporter ? "independent gas transporter (74-77)" : "gas distribution network");
        yield return ("check digits", mprn.CheckDigitWarning is { } warning ? $"warning: {warning}" : "pass (community rule, not confirmed by Xoserve)");
    }

    private static IEnumerable<(string, string)> ValidateUprn(string text)
    {
        var uprn = Uprn.Parse(text);
        yield return ("UPRN", uprn.ToString());
    }

    private static IEnumerable<(string, string)> ValidateEui64(string text)
    {
        var eui = Eui64.Parse(text);
        yield return ("EUI-64", eui.ToString());
        yield return ("hex", eui.ToCompactString());
    }
}
