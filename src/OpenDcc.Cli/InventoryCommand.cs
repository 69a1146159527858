using System.CommandLine;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Inventory;
using Spectre.Console;

namespace OpenDcc.Cli;

/// <summary><c>opendcc inventory add|import|list</c>: the smart metering inventory of devices.</summary>
internal static class InventoryCommand
{
    /// <summary>A device added without a status is taken to be in service, so requests to it pass the E5 check.</summary>
    public const SmiStatus DefaultStatus = SmiStatus.Commissioned;

    private const string IdColumn = "device_id";
    private const string TypeColumn = "device_type";
    private const string StatusColumn = "smi_status";
    private const string ModelColumn = "model";
    private const string HubColumn = "comms_hub";
    private const string RegionColumn = "wan_region";
    private const string MpanColumn = "mpan";
    private const string MprnColumn = "mprn";
    private const string Header = $"{IdColumn},{TypeColumn}[,{StatusColumn}][,{ModelColumn}][,{HubColumn}][,{RegionColumn}][,{MpanColumn}][,{MprnColumn}]";

    public static Command Create(CliContext context)
    {
        var inventory = context.WithStoreOptions(new Command("inventory", "The smart metering inventory: devices, their types and SMI statuses"));

        var device = new Option<string>("--device") { Description = "The device's EUI-64", Required = true };
        var type = new Option<string>("--type") { Description = "ESME, GSME, CHF, GPF, PPMID, HCALCS or IHD", Required = true };
        var status = new Option<string?>("--status") { Description = $"SMI status, e.g. Pending, InstalledNotCommissioned, Commissioned. Default: {DefaultStatus}" };
        var model = new Option<string?>("--model") { Description = "The manufacturer's model, which picks the translation adapter (default: the default adapter)" };
        var hub = new Option<string?>("--comms-hub") { Description = "The EUI-64 of the comms hub the device is joined to" };
        var region = new Option<string?>("--region") { Description = "The SM WAN region of its comms hub: North, Central or South" };
        var mpan = new Option<string?>("--mpan") { Description = "The MPAN core (13 digits) an electricity meter serves" };
        var mprn = new Option<string?>("--mprn") { Description = "The MPRN a gas meter serves" };
        var add = new Command("add", "Add a device to the inventory") { device, type, status, model, hub, region, mpan, mprn };
        add.SetAction(async (parsed, ct) =>
        {
            var added = new Device(
                UsersCommand.ParseField("--device", () => Eui64.Parse(parsed.GetRequiredValue(device))),
                UsersCommand.ParseField("--type", () => DeviceTypes.Parse(parsed.GetRequiredValue(type))),
                parsed.GetValue(status) is { } s ? UsersCommand.ParseField("--status", () => SmiStatuses.Parse(s)) : DefaultStatus)
            {
                Model = parsed.GetValue(model) is { Length: > 0 } m ? m.Trim() : null,
                CommsHub = parsed.GetValue(hub) is { } h ? UsersCommand.ParseField("--comms-hub", () => Eui64.Parse(h)) : null,
                Region = parsed.GetValue(region) is { } r ? UsersCommand.ParseField("--region", () => ParseRegion(r)) : null,
                Mpan = parsed.GetValue(mpan) is { } e ? UsersCommand.ParseField("--mpan", () => Mpan.Parse(e)) : null,
                Mprn = parsed.GetValue(mprn) is { } g ? UsersCommand.ParseField("--mprn", () => Mprn.Parse(g)) : null,
            };
            await using var store = await context.OpenStoreAsync(parsed, ct);
            await store.Inventory.AddDeviceAsync(added, ct);
            await context.Output.WriteLineAsync($"added {added.Type} {added.Id} ({added.Status})");
            return 0;
        });

        var file = new Argument<FileInfo>("file") { Description = $"CSV with the header {Header}; a missing or empty status is {DefaultStatus}, other missing or empty fields stay unknown" };
        var import = new Command("import", "Add every device in a CSV file in one transaction; a single invalid row imports nothing") { file };
        import.SetAction(async (parsed, ct) =>
        {
            var csv = parsed.GetRequiredValue(file);
            var valid = ReadRows(csv, out var faults);
            await using var store = await context.OpenStoreAsync(parsed, ct);
            if (faults.Count == 0)
            {
                try
                {
                    await store.Inventory.AddDevicesAsync([.. valid.Select(r => r.Device)], ct);
                    await context.Output.WriteLineAsync($"imported {valid.Count} devices from {csv.Name}");
                    return 0;
                }
                catch (DuplicateDeviceException e)
                {
                    faults.AddRange(AlreadyKnown(valid, e.Ids));
                }
            }
            else
            {
                // Ask the store about the rows that read well too, so one run names every row to fix.
                var known = await store.Inventory.FindDevicesAsync([.. valid.Select(r => r.Device.Id)], ct);
                faults.AddRange(AlreadyKnown(valid, known.Select(d => d.Id)));
            }
            var lines = faults.Select(f => f.Line).Distinct().Count();
            foreach (var (line, fault) in faults.OrderBy(f => f.Line))
            {
                await context.Error.WriteLineAsync($"line {line}: {fault}");
            }
            await context.Error.WriteLineAsync($"opendcc: {csv.Name}: {lines} invalid {(lines == 1 ? "row" : "rows")}; nothing imported");
            return 1;
        });

        var list = new Command("list", "List the devices in the inventory");
        list.SetAction(async (parsed, ct) =>
        {
            await using var store = await context.OpenStoreAsync(parsed, ct);
            var all = await store.Inventory.ListDevicesAsync(ct);
            var table = new Table().Border(TableBorder.Simple).AddColumns("ID", "Type", "SMI status", "Model", "Comms hub", "Region", "MPAN/MPRN");
            foreach (var d in all)
            {
                table.AddRow(d.Id.ToString(), d.Type.ToString(), d.Status.ToString(), Markup.Escape(d.Model ?? ""), d.CommsHub?.ToString() ?? "", d.Region?.ToString() ?? "", d.Mpan?.ToString() ?? d.Mprn?.ToString() ?? "");
            }
            context.Console.Write(table);
            context.Console.WriteLine($"{all.Count} devices");
            return 0;
        });

        inventory.Subcommands.Add(add);
        inventory.Subcommands.Add(import);
        inventory.Subcommands.Add(list);
        return inventory;
    }

    private sealed record Row(int Line, Device Device);

    private static IEnumerable<(int Line, string Fault)> AlreadyKnown(List<Row> rows, IEnumerable<Eui64> ids)
    {
        var known = ids.ToHashSet();
        return rows.Where(r => known.Contains(r.Device.Id)).Select(r => (r.Line, $"{IdColumn}: device {r.Device.Id} is already in the inventory"));
    }

    /// <summary>
    /// Reads and checks every row: each field, and that no ID repeats an earlier row. Returns the rows without a
    /// fault; the faults name the line and column. Blank lines are skipped; the header must come first.
    /// </summary>
    private static List<Row> ReadRows(FileInfo csv, out List<(int Line, string Fault)> faults)
    {
        if (!csv.Exists)
        {
            throw new FileNotFoundException($"{csv.FullName}: no such file");
        }
        faults = [];
        var rows = new List<Row>();
        int[]? columns = null; // positions of device_id, device_type, smi_status, model, comms_hub, wan_region, mpan, mprn (-1 when absent)
        var width = 0;
        var firstLine = new Dictionary<Eui64, int>();
        var number = 0;
        foreach (var text in File.ReadLines(csv.FullName))
        {
            number++;
            if (string.IsNullOrWhiteSpace(text))
            {
                continue;
            }
            var fields = text.Split(',').Select(Unquote).ToArray();
            if (columns is null)
            {
                columns = ReadHeader(csv, number, fields);
                width = fields.Length;
                continue;
            }
            var before = faults.Count;
            if (fields.Length != width)
            {
                faults.Add((number, $"has {fields.Length} fields, the header {width}"));
                continue;
            }
            Eui64? id = Eui64.TryParse(fields[columns[0]], out var parsedId, out var idError) ? parsedId : null;
            if (id is null)
            {
                faults.Add((number, $"{IdColumn}: {idError}"));
            }
            else if (!firstLine.TryAdd(id.Value, number))
            {
                faults.Add((number, $"{IdColumn}: device {id} repeats line {firstLine[id.Value]}"));
            }
            DeviceType? type = DeviceTypes.TryParse(fields[columns[1]], out var parsedType, out var typeError) ? parsedType : null;
            if (type is null)
            {
                faults.Add((number, $"{TypeColumn}: {typeError}"));
            }
            var statusText = columns[2] < 0 ? "" : fields[columns[2]];
            string? statusError = null;
            SmiStatus? status = statusText.Length == 0 ? DefaultStatus : SmiStatuses.TryParse(statusText, out var parsedStatus, out statusError) ? parsedStatus : null;
            if (status is null)
            {
                faults.Add((number, $"{StatusColumn}: {statusError}"));
            }
            var modelText = columns[3] < 0 ? "" : fields[columns[3]];
            var hubText = columns[4] < 0 ? "" : fields[columns[4]];
            Eui64? hub = null;
            if (hubText.Length > 0)
            {
                if (Eui64.TryParse(hubText, out var parsedHub, out var hubError))
                {
                    hub = parsedHub;
                }
                else
                {
                    faults.Add((number, $"{HubColumn}: {hubError}"));
                }
            }
            var regionText = columns[5] < 0 ? "" : fields[columns[5]];
            OpenDcc.Core.Wan.WanRegion? region = null;
            if (regionText.Length > 0)
            {
                if (Enum.TryParse<OpenDcc.Core.Wan.WanRegion>(regionText, ignoreCase: true, out var parsedRegion) && Enum.IsDefined(parsedRegion))
                {
                    region = parsedRegion;
                }
                else
                {
                    faults.Add((number, $"{RegionColumn}: '{regionText}' is not North, Central or South"));
                }
            }
            var mpanText = columns[6] < 0 ? "" : fields[columns[6]];
            Mpan? meterPoint = null;
            if (mpanText.Length > 0)
            {
                if (Mpan.TryParse(mpanText, out var parsedMpan, out var mpanError))
                {
                    meterPoint = parsedMpan;
                }
                else
                {
                    faults.Add((number, $"{MpanColumn}: {mpanError}"));
                }
            }
            var mprnText = columns[7] < 0 ? "" : fields[columns[7]];
            Mprn? gasPoint = null;
            if (mprnText.Length > 0)
            {
                if (Mprn.TryParse(mprnText, out var parsedMprn, out var mprnError))
                {
                    gasPoint = parsedMprn;
                }
                else
                {
                    faults.Add((number, $"{MprnColumn}: {mprnError}"));
                }
            }
            if (faults.Count == before)
            {
                rows.Add(new Row(number, new Device(id!.Value, type!.Value, status!.Value)
                {
                    Model = modelText.Length > 0 ? modelText : null, CommsHub = hub, Region = region, Mpan = meterPoint, Mprn = gasPoint,
                }));
            }
        }
        if (columns is null)
        {
            throw new FormatException($"{csv.Name}: empty; the first line must be the header {Header}");
        }
        return rows;
    }

    private static int[] ReadHeader(FileInfo csv, int line, string[] names)
    {
        string[] known = [IdColumn, TypeColumn, StatusColumn, ModelColumn, HubColumn, RegionColumn, MpanColumn, MprnColumn];
        var columns = Enumerable.Repeat(-1, known.Length).ToArray();
        for (var i = 0; i < names.Length; i++)
        {
            var k = Array.FindIndex(known, n => string.Equals(n, names[i], StringComparison.OrdinalIgnoreCase));
            if (k < 0 || columns[k] >= 0)
            {
                throw new FormatException(
                    $"{csv.Name} line {line}: {(k < 0 ? "unknown" : "repeated")} column '{names[i]}'; the header is {Header}");
            }
            columns[k] = i;
        }
        if (columns[0] < 0 || columns[1] < 0)
        {
            throw new FormatException($"{csv.Name} line {line}: the header needs {IdColumn} and {TypeColumn} (and may have {StatusColumn}, {ModelColumn}, {HubColumn}, {RegionColumn}, {MpanColumn}, {MprnColumn})");
        }
        return columns;
    }

    private static OpenDcc.Core.Wan.WanRegion ParseRegion(string text) =>
        Enum.TryParse<OpenDcc.Core.Wan.WanRegion>(text.Trim(), ignoreCase: true, out var region) && Enum.IsDefined(region)
            ? region
            : throw new FormatException($"'{text}' is not North, Central or South");

    /// <summary>Trims a field and the double quotes a spreadsheet may put round it.</summary>
    private static string Unquote(string field)
    {
        var f = field.Trim();
        return f.Length >= 2 && f[0] == '"' && f[^1] == '"' ? f[1..^1].Trim() : f;
    }
}
