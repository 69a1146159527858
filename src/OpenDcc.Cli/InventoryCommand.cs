using System.CommandLine;
using System.Globalization;
using OpenDcc.Core;
using OpenDcc.Core.Catalogue;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Inventory;
using OpenDcc.Core.Wan;
using Spectre.Console;

namespace OpenDcc.Cli;

/// <summary><c>opendcc inventory add|import|list|show|site|models</c>: the smart metering inventory.</summary>
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
    private const string ManufacturerColumn = "manufacturer";
    private const string FirmwareColumn = "firmware_version";
    private const string UprnColumn = "uprn";
    private const string RadioCellColumn = "radio_cell";
    private const string SecondaryImportMpanColumn = "secondary_import_mpan";
    private const string ExportMpanColumn = "export_mpan";
    private const string AllOrNothing = "all-or-nothing";
    private const string SkipInvalid = "skip-invalid";

    // Rows per store lookup and per batch written.
    private const int ImportChunk = 5_000;

    private const string Header = $"{IdColumn},{TypeColumn}[,{StatusColumn}][,{ModelColumn}][,{HubColumn}][,{RegionColumn}][,{MpanColumn}][,{MprnColumn}][,{ManufacturerColumn}][,{FirmwareColumn}][,{UprnColumn}][,{RadioCellColumn}][,{SecondaryImportMpanColumn}][,{ExportMpanColumn}]";

    public static Command Create(CliContext context)
    {
        var inventory = context.WithStoreOptions(new Command("inventory", "The smart metering inventory: devices, their types and SMI statuses"));

        var device = new Option<string>("--device") { Description = "The device's EUI-64", Required = true };
        var type = new Option<string>("--type") { Description = "ESME, GSME, CHF, GPF, PPMID, HCALCS or IHD", Required = true };
        var status = new Option<string?>("--status") { Description = $"SMI status, e.g. Pending, InstalledNotCommissioned, Commissioned. Default: {DefaultStatus}" };
        var model = new Option<string?>("--model") { Description = "The manufacturer's model, which picks the translation adapter (default: the default adapter)" };
        var hub = new Option<string?>("--comms-hub") { Description = "The EUI-64 of the comms hub the device is joined to (a CHF already in the inventory)" };
        var region = new Option<string?>("--region") { Description = "The SM WAN region of its comms hub: North, Central or South" };
        var mpan = new Option<string?>("--mpan") { Description = "The MPAN core (13 digits) an electricity meter serves" };
        var mprn = new Option<string?>("--mprn") { Description = "The MPRN a gas meter serves" };
        var manufacturer = new Option<string?>("--manufacturer") { Description = "The DUIS manufacturer identifier, e.g. AB01; with --model, the pair must be an approved model" };
        var firmware = new Option<string?>("--firmware") { Description = "The firmware version the device runs (up to 8 characters, as DUIS writes it)" };
        var uprn = new Option<string?>("--uprn") { Description = "The UPRN of the premises the device is installed at" };
        var cell = new Option<string?>("--radio-cell") { Description = "A comms hub's SM WAN radio cell" };
        var secondaryMpan = new Option<string?>("--secondary-import-mpan") { Description = "An electricity meter's secondary import MPAN core (13 digits)" };
        var exportMpan = new Option<string?>("--export-mpan") { Description = "An electricity meter's export MPAN core (13 digits)" };
        var add = new Command("add", "Add a device to the inventory") { device, type, status, model, hub, region, mpan, mprn, manufacturer, firmware, uprn, cell, secondaryMpan, exportMpan };
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
                Manufacturer = parsed.GetValue(manufacturer) is { Length: > 0 } f ? UsersCommand.ParseField("--manufacturer", () => Identifier(f, 30)) : null,
                FirmwareVersion = parsed.GetValue(firmware) is { Length: > 0 } v ? UsersCommand.ParseField("--firmware", () => Identifier(v, 8)) : null,
                Uprn = parsed.GetValue(uprn) is { } u ? UsersCommand.ParseField("--uprn", () => Uprn.Parse(u)) : null,
                RadioCell = parsed.GetValue(cell) is { Length: > 0 } c ? UsersCommand.ParseField("--radio-cell", () => Identifier(c, 30)) : null,
                SecondaryImportMpan = parsed.GetValue(secondaryMpan) is { } si ? UsersCommand.ParseField("--secondary-import-mpan", () => Mpan.Parse(si)) : null,
                ExportMpan = parsed.GetValue(exportMpan) is { } ex ? UsersCommand.ParseField("--export-mpan", () => Mpan.Parse(ex)) : null,
            };
            if (added.Misfits().FirstOrDefault() is ({ } property, { } fault))
            {
                throw new FormatException($"{AddOptionOf[property]}: {fault}");
            }
            if (added.Model is { } m0)
            {
                UsersCommand.ParseField("--model", () => Identifier(m0, 30));
            }
            await using var store = await context.OpenStoreAsync(parsed, ct);
            if (added is { Manufacturer: { } maker, Model: { } name } && !await store.ApprovedModels.IsApprovedAsync(new ApprovedModel(maker, name), ct))
            {
                throw new FormatException($"--model: {maker}/{name} is not an approved device model (opendcc inventory models add)");
            }
            if (HalfAModel(added, "--manufacturer", "--model") is { } half && (await store.ApprovedModels.ListApprovedModelsAsync(ct)).Count > 0)
            {
                throw new FormatException(half);
            }
            if (added.CommsHub is { } joined && joined != added.Id && CommsHubFault(joined, (await store.Inventory.FindDeviceAsync(joined, ct))?.Type) is { } hubFault)
            {
                throw new FormatException($"--comms-hub: {hubFault}");
            }
            if ((await MeterPointsServedElsewhereAsync([new Row(0, added)], new HashSet<int>(), [], points => store.Inventory.MetersInServiceAsync(points, cancellationToken: ct))).FirstOrDefault() is (_, { } servedBy, { } servedFault))
            {
                throw new FormatException($"{AddOptionOf[servedBy]}: {servedFault}");
            }
            await store.Inventory.AddDevicesAsync([added], InventoryChange.ByOperator(context.Clock.GetCurrentInstant()), ct);
            await context.Output.WriteLineAsync($"added {added.Type} {added.Id} ({added.Status})");
            if (added.Mprn?.CheckDigitWarning is { } warning)
            {
                // Accepted: the check-digit rule is not confirmed by Xoserve (README, choices).
                await context.Error.WriteLineAsync($"warning: --mprn: {warning}");
            }
            return 0;
        });

        var file = new Argument<FileInfo>("file") { Description = $"CSV with the header {Header}; a missing or empty status is {DefaultStatus}, other missing or empty fields stay unknown" };
        var mode = new Option<string>("--mode")
        {
            Description = $"{AllOrNothing}: any invalid row imports nothing (default); {SkipInvalid}: import the valid rows and report the others",
            DefaultValueFactory = _ => AllOrNothing,
        };
        mode.AcceptOnlyFromAmong(AllOrNothing, SkipInvalid);
        var import = new Command("import", "Add (or adopt) the devices in a CSV file: every row is checked (fields, repeats, devices already known, approved models) and reported by line") { file, mode };
        import.SetAction(async (parsed, ct) =>
        {
            var csv = CliContext.ExistingFile(parsed.GetValue(file), "file");
            var skipInvalid = parsed.GetRequiredValue(mode) == SkipInvalid;
            var faults = new List<(int Line, string Fault)>();
            var ids = new Dictionary<Eui64, FileDevice>();
            await using var rows = new ImportFile(csv, faults, ids);
            // The header is read before the store is opened: a file refused outright opens none.
            await rows.OpenAsync(ct);
            await using var store = await context.OpenStoreAsync(parsed, ct);
            var change = InventoryChange.ByOperator(context.Clock.GetCurrentInstant());
            var checks = await context.Console.Progress().AutoClear(true).HideCompleted(false).StartAsync(async progress =>
            {
                // A file's progress is the share of it read; a pipe's is not known.
                var reading = rows.CanSeek ? progress.AddTask("importing", maxValue: Math.Max(rows.Length, 1)) : progress.AddTask("importing").IsIndeterminate();
                // One transaction, committed once the whole file is read and checked: rows are checked and written a chunk
                // at a time, so an import holds a chunk, not the file, and an invalid row anywhere (all or nothing), a
                // fault, or a file refused late still leaves the inventory as it was.
                await using var import = await store.Inventory.BeginImportAsync(change, ct);
                var checks = new ImportChecks(import, store.ApprovedModels, skipInvalid, faults, ids);
                var chunk = new List<Row>(ImportChunk);
                // A chunk is checked before the next row is read: the IDs read are those of its rows and before.
                while (await rows.ReadChunkAsync(chunk, ct))
                {
                    await checks.CheckAsync(chunk, ct);
                    chunk.Clear();
                    if (rows.CanSeek)
                    {
                        reading.Value = rows.Position;
                    }
                }
                await checks.CheckAsync(chunk, ct);
                if (await checks.FinishAsync(ct))
                {
                    await import.CommitAsync(ct);
                }
                reading.Value = reading.MaxValue;
                return checks;
            });
            var invalid = faults.Select(f => f.Line).Distinct().Count();
            foreach (var (line, fault) in faults.OrderBy(f => f.Line))
            {
                await context.Error.WriteLineAsync($"line {line}: {fault}");
            }
            foreach (var (line, warning) in checks.Warnings)
            {
                // Accepted: the check-digit rule is not confirmed by Xoserve (README, choices).
                await context.Error.WriteLineAsync($"line {line}: warning: mprn: {warning}");
            }
            if (invalid > 0 && !skipInvalid)
            {
                await context.Error.WriteLineAsync($"opendcc: {csv.Name}: {invalid} invalid {(invalid == 1 ? "row" : "rows")}; nothing imported");
                return 1;
            }
            var imported = checks.Imported;
            await context.Output.WriteLineAsync($"imported {CliContext.Count(imported, "device", "devices")} from {csv.Name}{(invalid > 0 ? $"; skipped {invalid} invalid {(invalid == 1 ? "row" : "rows")}" : "")}");
            // Skipping the invalid rows is a success only if some were not: a file of nothing but faults imported nothing.
            return imported == 0 && invalid > 0 ? 1 : 0;
        });

        var list = new Command("list", "List the devices in the inventory");
        list.SetAction(async (parsed, ct) =>
        {
            await using var store = await context.OpenExistingStoreAsync(parsed, ct);
            // A page at a time, each its own table of the same column widths (the first with the headers): a store of
            // millions of devices is listed holding one page, not the whole table and every row rendered.
            var widths = ListWidths();
            long count = 0;
            Eui64? after = null;
            while (true)
            {
                var page = await store.Inventory.ListDevicesAfterAsync(after, ListPage, ct);
                // The region is the SM WAN region of the device's comms hub: a device's own, when it has none, is its
                // hub's (as inventory show gives it). Every device on the WAN is in one, so one not recorded is shown
                // as unknown rather than left blank as a column that may rightly be empty is (a hub has no comms hub).
                var hubs = page.ToDictionary(d => d.Id);
                var elsewhere = page.Where(d => d.Region is null && d.CommsHub is { } h && !hubs.ContainsKey(h)).Select(d => d.CommsHub!.Value).ToHashSet();
                foreach (var hub in elsewhere.Count == 0 ? [] : await store.Inventory.FindDevicesAsync(elsewhere, ct))
                {
                    hubs[hub.Id] = hub;
                }
                var table = new Table().Border(TableBorder.Simple);
                string[] headers = ["ID", "Type", "SMI status", "Model", "Comms hub", "Region", "MPAN/MPRN"];
                for (var i = 0; i < headers.Length; i++)
                {
                    table.AddColumn(new TableColumn(headers[i]).Width(widths[i]));
                }
                if (count > 0)
                {
                    table.HideHeaders();
                }
                foreach (var d in page)
                {
                    var region = d.Region ?? (d.CommsHub is { } hub && hubs.TryGetValue(hub, out var theHub) ? theHub.Region : null);
                    table.AddRow(d.Id.ToString(), d.Type.ToString(), d.Status.ToString(), Markup.Escape(d.Model ?? ""), d.CommsHub?.ToString() ?? "", region?.ToString() ?? "unknown", d.Mpan?.ToString() ?? d.Mprn?.ToString() ?? "");
                }
                var first = count == 0;
                count += page.Count;
                var end = page.Count < ListPage;
                if (first && end)
                {
                    context.Console.Write(table);
                    break;
                }
                // Written as one table: the border's blank lines between pages (the bottom of one, the top of the
                // next) are left out, and one ends the last.
                var lines = Rendered(table, context.Console.Profile.Width);
                foreach (var line in lines.Skip(first ? 0 : 1).Take(lines.Length - (first ? 0 : 1) - 1))
                {
                    await context.Output.WriteLineAsync(line);
                }
                if (end)
                {
                    await context.Output.WriteLineAsync();
                    break;
                }
                after = page[^1].Id;
            }
            context.Console.WriteLine(CliContext.Count(count, "device", "devices"));
            return 0;
        });

        var shown = new Option<string>("--device") { Description = "The device's EUI-64", Required = true };
        var show = new Command("show", "Show a device: what the inventory holds of it, its site, the devices joined to it and its SMI status history") { shown };
        show.SetAction(async (parsed, ct) =>
        {
            var id = UsersCommand.ParseField("--device", () => Eui64.Parse(parsed.GetRequiredValue(shown)));
            await using var store = await context.OpenExistingStoreAsync(parsed, ct);
            var d = await store.Inventory.FindDeviceAsync(id, ct) ?? throw new FormatException($"--device: device {id} is not in the inventory");
            var site = d.Uprn is { } at ? await store.Inventory.FindSiteAsync(at, ct) : null;
            var grid = new Grid().AddColumn().AddColumn();
            void Line(string name, string? value) => grid.AddRow(name, Markup.Escape(value ?? ""));
            Line("Device", $"{d.Id} {d.Type}");
            Line("SMI status", d.Status.ToString());
            Line("Manufacturer / model", d.Manufacturer is null && d.Model is null ? null : $"{d.Manufacturer ?? "?"} / {d.Model ?? "?"}");
            Line("Firmware", d.FirmwareVersion);
            Line("SMETS/CHTS version", d.SmetsChtsVersion);
            // The region and radio cell are the hub's: a meter's own, when it has none, come from its hub's record.
            var hubId = d.Type == DeviceType.CHF ? d.Id : d.CommsHub;
            var hub = hubId == d.Id ? d : hubId is { } other ? await store.Inventory.FindDeviceAsync(other, ct) : null;
            Line("Comms hub", hubId is { } h
                ? $"{(h == d.Id ? "itself" : h.ToString())} ({(d.Region ?? hub?.Region)?.ToString() ?? "region unknown"}{((d.RadioCell ?? hub?.RadioCell) is { } rc ? ", cell " + rc : "")})"
                : null);
            Line("Meter point", d.Mpan?.ToString() ?? d.Mprn?.ToString());
            if (d.Type == DeviceType.ESME)
            {
                Line("Secondary import MPAN", d.SecondaryImportMpan?.ToString());
                Line("Export MPAN", d.ExportMpan?.ToString());
            }
            var premises = string.Join(' ', new[] { site?.PostCode, site?.AddressIdentifier }.OfType<string>());
            Line("Site", d.Uprn is { } u ? $"UPRN {u}{(premises.Length > 0 ? $", {premises}" : "")}{(site?.LeadSupplier is { } lead ? $", lead supplier {lead}" : "")}" : null);
            Line("Joined to", string.Join(", ", await store.Inventory.FindJoinedAsync(id, ct)));
            context.Console.Write(grid);
            var entries = await store.Inventory.StatusHistoryAsync(id, ct);
            if (entries.Count == 0)
            {
                // Devices a hub takes in from its WAN's list (serve --simulate, a simulator over loopback) are added in bulk, without a history.
                context.Console.WriteLine("SMI status history: none recorded (taken in from the WAN's list of devices, not added by an operator or a service request)");
                return 0;
            }
            var history = new Table().Border(TableBorder.Simple).AddColumns("SMI status", "Since", "By SRV", "By user");
            foreach (var entry in entries)
            {
                history.AddRow(entry.Status.ToString(), entry.Since.ToString(), entry.ServiceReferenceVariant ?? "(operator)", entry.User?.ToString() ?? "");
            }
            context.Console.Write(history);
            return 0;
        });

        inventory.Subcommands.Add(add);
        inventory.Subcommands.Add(import);
        inventory.Subcommands.Add(list);
        inventory.Subcommands.Add(show);
        inventory.Subcommands.Add(SiteCommand(context));
        inventory.Subcommands.Add(ModelsCommand(context));
        return inventory;
    }

    /// <summary><c>inventory site set</c>: the premises devices are installed at.</summary>
    private static Command SiteCommand(CliContext context)
    {
        var uprn = new Option<string>("--uprn") { Description = "The premises' UPRN", Required = true };
        var postCode = new Option<string?>("--post-code") { Description = "Its post code" };
        var address = new Option<string?>("--address-id") { Description = "Its address identifier (house number or name, up to 30 characters)" };
        var lead = new Option<string?>("--lead-supplier") { Description = "The EUI-64 of the supplier that leads the premises" };
        var set = new Command("set", "Add a site, or change what is known of it: the options given change (an empty value clears one), the others stay") { uprn, postCode, address, lead };
        set.SetAction(async (parsed, ct) =>
        {
            var site = UsersCommand.ParseField("--uprn", () => Uprn.Parse(parsed.GetRequiredValue(uprn)));
            bool Given(Option<string?> option) => parsed.GetResult(option) is not null;
            var code = UsersCommand.ParseField("--post-code", () => Site.NormalisePostCode(parsed.GetValue(postCode)));
            var leader = parsed.GetValue(lead) is { Length: > 0 } l ? UsersCommand.ParseField("--lead-supplier", () => Eui64.Parse(l)) : (Eui64?)null;
            var addressId = parsed.GetValue(address) is { } given && !string.IsNullOrWhiteSpace(given)
                ? UsersCommand.ParseField("--address-id", () => FreeText.Checked(given, "an address identifier (DUIS)", 30, "address"))
                : null;
            await using var store = await context.OpenStoreAsync(parsed, ct);
            if (leader is { } supplier)
            {
                var user = await store.Parties.FindUserAsync(supplier, ct) ?? throw new ArgumentException($"--lead-supplier: {supplier} is not a DCC user (opendcc users add)");
                if (!user.Roles.IsSupplier())
                {
                    throw new ArgumentException($"--lead-supplier: {supplier} is {user.Roles.Codes()}, not a supplier (IS, ES or GS)");
                }
            }
            var known = await store.Inventory.FindSiteAsync(site, ct);
            // A post code not given stays as stored, one saved before post codes were checked too (Site.Stored).
            var saved = Given(postCode)
                ? new Site(site, code, Given(address) ? addressId : known?.AddressIdentifier, Given(lead) ? leader : known?.LeadSupplier)
                : Site.Stored(site, known?.PostCode, Given(address) ? addressId : known?.AddressIdentifier, Given(lead) ? leader : known?.LeadSupplier);
            await store.Inventory.SaveSiteAsync(saved, ct);
            await context.Output.WriteLineAsync(
                $"site UPRN {saved.Uprn} {(known is null ? "added" : "saved")}: post code {saved.PostCode ?? "unknown"}, address identifier {saved.AddressIdentifier ?? "unknown"}, lead supplier {saved.LeadSupplier?.ToString() ?? "none"}");
            return 0;
        });
        return new Command("site", "The premises devices are installed at") { set };
    }

    /// <summary><c>inventory models add|import|list</c>: the approved device models.</summary>
    private static Command ModelsCommand(CliContext context)
    {
        var manufacturer = new Option<string>("--manufacturer") { Description = "The DUIS manufacturer identifier, e.g. AB01", Required = true };
        var model = new Option<string>("--model") { Description = "The DUIS model identifier, e.g. 010A030B", Required = true };
        var add = new Command("add", "Approve a device model") { manufacturer, model };
        add.SetAction(async (parsed, ct) =>
        {
            ApprovedModel approved;
            try
            {
                approved = ApprovedModel.Given(parsed.GetRequiredValue(manufacturer), parsed.GetRequiredValue(model));
            }
            catch (ArgumentException e)
            {
                // The parameter at fault is the option's name: manufacturer or model.
                throw new FormatException($"--{e.ParamName}: {OpenDccCli.MessageOf(e)}", e);
            }
            await using var store = await context.OpenStoreAsync(parsed, ct);
            var added = await store.ApprovedModels.AddApprovedModelsAsync([approved], ct);
            await context.Output.WriteLineAsync(added == 1 ? $"approved {approved}" : $"{approved} was approved already");
            return 0;
        });
        var file = new Argument<FileInfo>("file") { Description = "CSV with the header manufacturer,model" };
        var import = new Command("import", "Approve every model in a CSV file; a malformed line approves nothing") { file };
        import.SetAction(async (parsed, ct) =>
        {
            var csv = CliContext.ExistingFile(parsed.GetValue(file), "file");
            IReadOnlyList<ApprovedModel> models;
            try
            {
                using var text = File.OpenText(csv.FullName);
                models = ApprovedDeviceModels.Parse(text);
            }
            catch (FormatException e)
            {
                throw new FormatException($"{csv.Name} {e.Message}", e);
            }
            await using var store = await context.OpenStoreAsync(parsed, ct);
            var added = await store.ApprovedModels.AddApprovedModelsAsync(models, ct);
            await context.Output.WriteLineAsync($"approved {CliContext.Count(added, "new model", "new models")} from {csv.Name} ({models.Distinct().Count() - added} approved already)");
            return 0;
        });
        var list = new Command("list", "List the approved device models");
        list.SetAction(async (parsed, ct) =>
        {
            await using var store = await context.OpenExistingStoreAsync(parsed, ct);
            var models = await store.ApprovedModels.ListApprovedModelsAsync(ct);
            var table = new Table().Border(TableBorder.Simple).AddColumns("Manufacturer", "Model");
            foreach (var m in models)
            {
                table.AddRow(Markup.Escape(m.Manufacturer), Markup.Escape(m.Model));
            }
            context.Console.Write(table);
            context.Console.WriteLine(models.Count == 0 ? "no approved models: every model is accepted until one is approved" : CliContext.Count(models.Count, "approved model", "approved models"));
            return 0;
        });
        return new Command("models", "The approved device models: only these may be pre-notified, given to a device or adopted") { add, import, list };
    }

    /// <summary>Devices read and written per table by <c>inventory list</c>.</summary>
    internal const int ListPage = 1_000;

    /// <summary>
    /// The widths of <c>inventory list</c>'s columns, the same on every page: each its header's or the longest value it
    /// can hold (a model's 30 characters, as <c>inventory add</c> takes one; a longer one, learnt from the WAN, wraps).
    /// </summary>
    private static int[] ListWidths()
    {
        var eui = Eui64.Parse("00-00-00-00-00-00-00-00").ToString().Length;
        return [
            eui,
            Math.Max("Type".Length, Enum.GetNames<DeviceType>().Max(n => n.Length)),
            Math.Max("SMI status".Length, Enum.GetNames<SmiStatus>().Max(n => n.Length)),
            30,
            eui,
            Math.Max("unknown".Length, Enum.GetNames<WanRegion>().Max(n => n.Length)),
            Math.Max("MPAN/MPRN".Length, 13),
        ];
    }

    /// <summary>The lines of a table as a console of this width, without colour, writes it.</summary>
    private static string[] Rendered(Table table, int width)
    {
        using var text = new StringWriter(CultureInfo.InvariantCulture);
        var console = CliContext.CreateConsole(text);
        console.Profile.Width = width;
        console.Write(table);
        return text.ToString().TrimEnd('\n', '\r').Split('\n').Select(l => l.TrimEnd('\r')).ToArray();
    }

    /// <summary>A DUIS identifier field: trimmed, 1 to <paramref name="maxLength"/> characters, no control characters.</summary>
    private static string Identifier(string text, int maxLength) =>
        FreeText.FaultOf(text, "the value", maxLength) is { } fault ? throw new FormatException(fault) : text.Trim();

    private sealed record Row(int Line, Device Device);

    /// <summary>
    /// An ID of an import's file, by the line first reading it, and that row's device's type once the row is found to
    /// have no fault of its own (its fields, the inventory, its model): what a row naming it as its comms hub finds.
    /// </summary>
    private readonly record struct FileDevice(int Line, DeviceType? Type);

    /// <summary>
    /// The checks of an import across its rows, made a chunk of rows at a time as they are read, in the order and with
    /// the faults of a file checked whole: devices already in the inventory and models not approved, then comms hubs,
    /// then meter points served twice. The rows passing all are added to the import, a chunk at a time, unless (all or
    /// nothing) some row had a fault. Held across the file: each ID's first line (<see cref="FileDevice"/>), each meter
    /// point served (as the line first serving it), the faults and warnings; and the rows naming a comms hub the file
    /// has not come to yet, with those read after them, until it does: a row's meter points are checked only once the
    /// earlier rows are known good or not. The inventory is read in the import's transaction, where the devices added
    /// so far are found too: a row good so far is the same whether found there or among the rows read.
    /// </summary>
    private sealed class ImportChecks(IDeviceImport import, IApprovedModelStore models, bool skipInvalid, List<(int Line, string Fault)> faults, Dictionary<Eui64, FileDevice> ids)
    {
        private readonly Dictionary<ApprovedModel, bool> approved = [];
        private bool? anyApproved;
        private readonly HashSet<int> faulty = [];
        private readonly Dictionary<Eui64, List<Row>> awaitingHub = [];
        private readonly HashSet<int> awaitingLines = [];
        private readonly Queue<Row> unserved = new();
        private readonly Dictionary<MeterPoint, int> firstLine = [];
        private readonly List<Device> toAdd = [];

        /// <summary>The MPRN check-digit warnings of the rows imported (or to be), by line.</summary>
        public List<(int Line, string Warning)> Warnings { get; } = [];

        public int Imported { get; private set; }

        public async Task CheckAsync(IReadOnlyList<Row> chunk, CancellationToken cancellationToken)
        {
            anyApproved ??= (await models.ListApprovedModelsAsync(cancellationToken)).Count > 0;
            var stored = (await import.FindDevicesAsync([.. chunk.Select(r => r.Device.Id)], cancellationToken)).Select(d => d.Id).ToHashSet();
            foreach (var row in chunk)
            {
                if (stored.Contains(row.Device.Id))
                {
                    Fault(row.Line, $"{IdColumn}: device {row.Device.Id} is already in the inventory");
                }
                if (row.Device is { Manufacturer: { } maker, Model: { } name })
                {
                    var model = new ApprovedModel(maker, name);
                    if (!approved.TryGetValue(model, out var ok))
                    {
                        approved[model] = ok = await models.IsApprovedAsync(model, cancellationToken);
                    }
                    if (!ok)
                    {
                        Fault(row.Line, $"{ModelColumn}: {model} is not an approved device model");
                    }
                }
                else if (anyApproved.Value && HalfAModel(row.Device, ManufacturerColumn, ModelColumn) is { } half)
                {
                    Fault(row.Line, half);
                }
                if (!faulty.Contains(row.Line))
                {
                    ids[row.Device.Id] = new FileDevice(row.Line, row.Device.Type);
                }
            }

            // A comms hub named is looked for in the inventory, then among the rows read; one the file has not come to yet is waited for.
            var joined = chunk.Where(r => r.Device.CommsHub is { } hub && hub != r.Device.Id).ToList();
            var hubs = (await import.FindDevicesAsync([.. joined.Select(r => r.Device.CommsHub!.Value).ToHashSet()], cancellationToken)).ToDictionary(d => d.Id);
            foreach (var row in chunk)
            {
                unserved.Enqueue(row);
            }
            foreach (var row in joined)
            {
                var hub = row.Device.CommsHub!.Value;
                if (hubs.TryGetValue(hub, out var found))
                {
                    HubFault(row, hub, found.Type);
                }
                else if (ids.TryGetValue(hub, out var read))
                {
                    HubFault(row, hub, read.Type);
                }
                else
                {
                    (awaitingHub.TryGetValue(hub, out var waiting) ? waiting : awaitingHub[hub] = []).Add(row);
                    awaitingLines.Add(row.Line);
                }
            }
            foreach (var hub in awaitingHub.Keys.Where(ids.ContainsKey).ToList())
            {
                Arrived(hub);
            }
            await MeterPointsAsync(cancellationToken);
        }

        /// <summary>After the last chunk: a comms hub still waited for is not in the file. Adds what is left; whether the import is to be committed.</summary>
        public async Task<bool> FinishAsync(CancellationToken cancellationToken)
        {
            foreach (var hub in awaitingHub.Keys.ToList())
            {
                Arrived(hub);
            }
            await MeterPointsAsync(cancellationToken);
            if (faults.Count > 0 && !skipInvalid)
            {
                return false;
            }
            await AddAsync(cancellationToken);
            return true;
        }

        private void Fault(int line, string fault)
        {
            faults.Add((line, fault));
            faulty.Add(line);
        }

        /// <summary>The fault of a row naming a hub: not there (<paramref name="found"/> null), or not a CHF.</summary>
        private void HubFault(Row row, Eui64 hub, DeviceType? found)
        {
            if (found is null)
            {
                Fault(row.Line, $"{HubColumn}: {hub} is neither in the inventory nor a valid CHF row of this file");
            }
            else if (CommsHubFault(hub, found) is { } fault)
            {
                Fault(row.Line, $"{HubColumn}: {fault}");
            }
        }

        /// <summary>The rows waiting for <paramref name="hub"/> checked against what the file had for it, if anything.</summary>
        private void Arrived(Eui64 hub)
        {
            foreach (var row in awaitingHub[hub])
            {
                HubFault(row, hub, ids.TryGetValue(hub, out var read) ? read.Type : null);
                awaitingLines.Remove(row.Line);
            }
            awaitingHub.Remove(hub);
        }

        /// <summary>The meter points of the rows read, in order, up to the first still waiting for its comms hub; those passing are to be added.</summary>
        private async Task MeterPointsAsync(CancellationToken cancellationToken)
        {
            var ready = new List<Row>();
            while (unserved.TryPeek(out var next) && !awaitingLines.Contains(next.Line))
            {
                ready.Add(unserved.Dequeue());
            }
            foreach (var (line, property, fault) in await MeterPointsServedElsewhereAsync(ready, faulty, firstLine, StoredBeforeAsync))
            {
                Fault(line, $"{ImportColumnOf[property]}: {fault}");
            }
            foreach (var row in ready.Where(r => !faulty.Contains(r.Line)))
            {
                if (row.Device.Mprn?.CheckDigitWarning is { } warning)
                {
                    Warnings.Add((row.Line, warning));
                }
                // All or nothing adds nothing once a row has a fault: the import will be rolled back.
                if (skipInvalid || faults.Count == 0)
                {
                    toAdd.Add(row.Device);
                }
            }
            if (!skipInvalid && faults.Count > 0)
            {
                toAdd.Clear();
            }
            if (toAdd.Count >= ImportChunk)
            {
                await AddAsync(cancellationToken);
            }

            // A meter this import added is a good row read before, and named by its line as such.
            async Task<IReadOnlyDictionary<MeterPoint, Device>> StoredBeforeAsync(IReadOnlyCollection<MeterPoint> meterPoints) =>
                (await import.MetersInServiceAsync(meterPoints, cancellationToken))
                    .Where(m => !(ids.TryGetValue(m.Value.Id, out var read) && read.Type is not null))
                    .ToDictionary();
        }

        private async Task AddAsync(CancellationToken cancellationToken)
        {
            await import.AddAsync(toAdd, cancellationToken);
            Imported += toAdd.Count;
            toAdd.Clear();
        }
    }

    /// <summary>The <c>inventory add</c> option that sets each property <see cref="Device.Misfits"/> or <see cref="Device.ServedMeterPoints"/> may name.</summary>
    private static readonly Dictionary<string, string> AddOptionOf = new()
    {
        [nameof(Device.Mpan)] = "--mpan",
        [nameof(Device.SecondaryImportMpan)] = "--secondary-import-mpan",
        [nameof(Device.ExportMpan)] = "--export-mpan",
        [nameof(Device.Mprn)] = "--mprn",
        [nameof(Device.RadioCell)] = "--radio-cell",
        [nameof(Device.CommsHub)] = "--comms-hub",
    };

    /// <summary>The import column of each property <see cref="Device.Misfits"/> or <see cref="Device.ServedMeterPoints"/> may name.</summary>
    private static readonly Dictionary<string, string> ImportColumnOf = new()
    {
        [nameof(Device.Mpan)] = MpanColumn,
        [nameof(Device.SecondaryImportMpan)] = SecondaryImportMpanColumn,
        [nameof(Device.ExportMpan)] = ExportMpanColumn,
        [nameof(Device.Mprn)] = MprnColumn,
        [nameof(Device.RadioCell)] = RadioCellColumn,
        [nameof(Device.CommsHub)] = HubColumn,
    };

    /// <summary>
    /// A manufacturer without a model or a model without a manufacturer, named by the fields given; null otherwise.
    /// While models are approved, neither can be shown approved (the list names each model with its manufacturer),
    /// and the model alone would pick the device's adapter.
    /// </summary>
    private static string? HalfAModel(Device device, string manufacturerField, string modelField) => device switch
    {
        { Manufacturer: not null, Model: null } => $"{modelField}: give the model too: approved models are named by manufacturer and model",
        { Manufacturer: null, Model: not null } => $"{manufacturerField}: give the manufacturer too: approved models are named by manufacturer and model",
        _ => null,
    };

    /// <summary>Why <paramref name="hub"/> cannot be a device's comms hub, given the type of the device of that ID (null when there is none); null when it can.</summary>
    private static string? CommsHubFault(Eui64 hub, DeviceType? found) => found switch
    {
        null => $"no device {hub} is in the inventory: add the comms hub (CHF) first",
        not DeviceType.CHF => $"{hub} is {found.Value.WithArticle()}, not a comms hub (CHF)",
        _ => null,
    };

    /// <summary>
    /// Each MPAN or MPRN of a row's meter in service, of the rows without a fault (<paramref name="faultyLines"/>: those are not
    /// imported, so take nothing), that another meter in service serves, in the inventory or on an earlier row
    /// (<see cref="InventoryStoreExtensions.MetersInServiceAsync"/>). Named by the property that holds it.
    /// <paramref name="firstLine"/> has the line of each served on an earlier row, these rows' added; <paramref name="metersInService"/>
    /// gives the inventory's.
    /// </summary>
    private static async Task<List<(int Line, string Property, string Fault)>> MeterPointsServedElsewhereAsync(IReadOnlyList<Row> rows, IReadOnlySet<int> faultyLines, Dictionary<MeterPoint, int> firstLine, Func<IReadOnlyCollection<MeterPoint>, Task<IReadOnlyDictionary<MeterPoint, Device>>> metersInService)
    {
        var serving = rows.Where(r => !faultyLines.Contains(r.Line) && r.Device.IsInService && r.Device.ServedMeterPoints().Any()).ToList();
        var stored = await metersInService([.. serving.SelectMany(r => r.Device.ServedMeterPoints().Select(m => m.MeterPoint))]);
        var faults = new List<(int Line, string Property, string Fault)>();
        foreach (var row in serving)
        {
            foreach (var (property, served) in row.Device.ServedMeterPoints())
            {
                if (stored.TryGetValue(served, out var other) && other.Id != row.Device.Id)
                {
                    faults.Add((row.Line, property, $"{served} is served already by {other.Type} {other.Id} ({other.Status}): a meter point has one meter in service"));
                }
                else if (!firstLine.TryAdd(served, row.Line))
                {
                    faults.Add((row.Line, property, $"{served} is served already by the meter on line {firstLine[served]}"));
                }
            }
        }
        return faults;
    }

    /// <summary>
    /// Reads and checks each row as it is taken: each field, and that no ID repeats an earlier row (<paramref name="ids"/>
    /// has each ID read, by its first line). Yields the rows without a fault; the faults, added to <paramref name="faults"/>,
    /// name the line and column. Blank lines are skipped; the header must come first.
    /// </summary>
    private static IEnumerable<Row> ReadRows(FileInfo csv, TextReader text, List<(int Line, string Fault)> faults, Dictionary<Eui64, FileDevice> ids)
    {
        Dictionary<string, int>? columns = null;
        var width = 0;
        using var records = CsvRecords.Read(text).GetEnumerator();
        while (true)
        {
            try
            {
                if (!records.MoveNext())
                {
                    break;
                }
            }
            catch (FormatException e)
            {
                throw new FormatException($"{csv.Name} {e.Message}", e);
            }
            var (number, fields) = records.Current;
            if (columns is null)
            {
                columns = ReadHeader(csv, number, fields);
                width = fields.Length;
                continue;
            }
            if (fields.Length != width)
            {
                faults.Add((number, $"has {fields.Length} fields, the header {width}"));
                continue;
            }
            var before = faults.Count;
            var row = new RowFields(columns, fields, number, faults);
            var id = row.Required<Eui64>(IdColumn, Eui64.TryParse);
            if (id is { } known && !ids.TryAdd(known, new FileDevice(number, null)))
            {
                faults.Add((number, $"{IdColumn}: device {known} repeats line {ids[known].Line}"));
            }
            var type = row.Required<DeviceType>(TypeColumn, DeviceTypes.TryParse);
            var status = row.Text(StatusColumn).Length == 0 ? DefaultStatus : row.Required<SmiStatus>(StatusColumn, SmiStatuses.TryParse);
            var device = new
            {
                Model = row.Identifier(ModelColumn, 30),
                CommsHub = row.Optional<Eui64>(HubColumn, Eui64.TryParse),
                Region = row.Optional<OpenDcc.Core.Wan.WanRegion>(RegionColumn, TryParseRegion),
                Mpan = row.Optional<Mpan>(MpanColumn, Mpan.TryParse),
                Mprn = row.Optional<Mprn>(MprnColumn, Mprn.TryParse),
                Manufacturer = row.Identifier(ManufacturerColumn, 30),
                FirmwareVersion = row.Identifier(FirmwareColumn, 8),
                Uprn = row.Optional<Uprn>(UprnColumn, Uprn.TryParse),
                RadioCell = row.Identifier(RadioCellColumn, 30),
                SecondaryImportMpan = row.Optional<Mpan>(SecondaryImportMpanColumn, Mpan.TryParse),
                ExportMpan = row.Optional<Mpan>(ExportMpanColumn, Mpan.TryParse),
            };
            if (faults.Count > before)
            {
                continue;
            }
            var added = new Device(id!.Value, type!.Value, status!.Value)
            {
                Model = device.Model, CommsHub = device.CommsHub, Region = device.Region, Mpan = device.Mpan, Mprn = device.Mprn,
                Manufacturer = device.Manufacturer, FirmwareVersion = device.FirmwareVersion, Uprn = device.Uprn,
                RadioCell = device.RadioCell, SecondaryImportMpan = device.SecondaryImportMpan, ExportMpan = device.ExportMpan,
            };
            faults.AddRange(added.Misfits().Select(m => (number, $"{ImportColumnOf[m.Property]}: {m.Fault}")));
            if (faults.Count == before)
            {
                yield return new Row(number, added);
            }
        }
        if (columns is null)
        {
            throw new FormatException($"{csv.Name}: empty; the first line must be the header {Header}");
        }
    }

    /// <summary>
    /// The import file's valid rows (<see cref="ReadRows"/>), read a chunk at a time on a thread of the pool, the wait for
    /// which the command's token ends. A FIFO's open waits for a writer, and its read for the writer's next line, in calls
    /// no token reaches (a FileStream's ReadAsync of a pipe makes the same blocking read on the pool, looking at the token
    /// only before it): made on the command's own thread, they held it, and Ctrl-C went unheeded while the writer was
    /// silent. Now Ctrl-C ends the wait, and the import as a fault does, its transaction not committed; the read given up
    /// on ends with the process (in one that goes on, it closes the file when it returns).
    /// </summary>
    private sealed class ImportFile(FileInfo csv, List<(int Line, string Fault)> faults, Dictionary<Eui64, FileDevice> ids) : IAsyncDisposable
    {
        private FileStream? stream;
        private StreamReader? text;
        private IEnumerator<Row>? rows;
        private bool more;
        private bool taken;
        private Task reading = Task.CompletedTask;

        public bool CanSeek => stream!.CanSeek;

        public long Length => stream!.Length;

        public long Position => stream!.Position;

        /// <summary>Opens the file and reads its header, and on to its first valid row.</summary>
        public Task OpenAsync(CancellationToken cancellationToken) => ReadAsync(() =>
        {
            stream = File.OpenRead(csv.FullName);
            text = new StreamReader(stream);
            rows = ReadRows(csv, text, faults, ids).GetEnumerator();
            more = rows.MoveNext();
            return more;
        }, cancellationToken);

        /// <summary>Adds the rows that follow to <paramref name="chunk"/> until it holds <see cref="ImportChunk"/> (true) or the file ends (false).</summary>
        public Task<bool> ReadChunkAsync(List<Row> chunk, CancellationToken cancellationToken) => ReadAsync(() =>
        {
            // The row after a full chunk is read only when the next is asked for, once the full one is checked.
            if (taken)
            {
                more = rows!.MoveNext();
                taken = false;
            }
            while (more)
            {
                chunk.Add(rows!.Current);
                if (chunk.Count == ImportChunk)
                {
                    taken = true;
                    return true;
                }
                more = rows.MoveNext();
            }
            return false;
        }, cancellationToken);

        public ValueTask DisposeAsync()
        {
            _ = reading.ContinueWith(_ => Close(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            return ValueTask.CompletedTask;
        }

        private Task<T> ReadAsync<T>(Func<T> read, CancellationToken cancellationToken)
        {
            var started = Task.Run(read, cancellationToken);
            reading = started;
            return started.WaitAsync(cancellationToken);
        }

        private void Close()
        {
            rows?.Dispose();
            text?.Dispose();
            stream?.Dispose();
        }
    }

    private delegate bool FieldParser<T>(string? text, out T value, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? error);

    /// <summary>One import row's fields by column name (empty when the file has no such column), each fault added to the import's.</summary>
    private sealed class RowFields(Dictionary<string, int> columns, string[] fields, int line, List<(int Line, string Fault)> faults)
    {
        public string Text(string column) => columns.TryGetValue(column, out var i) ? fields[i] : "";

        /// <summary>The field's value; null, with its fault added, when it does not parse (empty included).</summary>
        public T? Required<T>(string column, FieldParser<T> parse)
            where T : struct
        {
            if (parse(Text(column), out var value, out var error))
            {
                return value;
            }
            faults.Add((line, $"{column}: {error}"));
            return null;
        }

        /// <summary>Null when empty; otherwise as <see cref="Required{T}"/>.</summary>
        public T? Optional<T>(string column, FieldParser<T> parse)
            where T : struct =>
            Text(column).Length == 0 ? null : Required(column, parse);

        /// <summary>An optional DUIS identifier of at most <paramref name="maxLength"/> characters: null when empty or (with its fault added) not one.</summary>
        public string? Identifier(string column, int maxLength)
        {
            var text = Text(column);
            if (text.Length > 0 && FreeText.FaultOf(text, "the value", maxLength) is { } fault)
            {
                faults.Add((line, $"{column}: {fault}"));
                return null;
            }
            return text.Length > 0 ? text : null;
        }
    }

    private static readonly string[] ImportColumns =
        [IdColumn, TypeColumn, StatusColumn, ModelColumn, HubColumn, RegionColumn, MpanColumn, MprnColumn, ManufacturerColumn, FirmwareColumn, UprnColumn, RadioCellColumn, SecondaryImportMpanColumn, ExportMpanColumn];

    /// <summary>Each column's position, by its name as <see cref="ImportColumns"/> spells it.</summary>
    private static Dictionary<string, int> ReadHeader(FileInfo csv, int line, string[] names)
    {
        var columns = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < names.Length; i++)
        {
            var known = Array.Find(ImportColumns, n => string.Equals(n, names[i], StringComparison.OrdinalIgnoreCase));
            if (known is null || !columns.TryAdd(known, i))
            {
                throw new FormatException(
                    $"{csv.Name} line {line}: {(known is null ? "unknown" : "repeated")} column '{names[i]}'; the header is {Header}");
            }
        }
        if (!columns.ContainsKey(IdColumn) || !columns.ContainsKey(TypeColumn))
        {
            throw new FormatException($"{csv.Name} line {line}: the header needs {IdColumn} and {TypeColumn} (and may have {string.Join(", ", ImportColumns.Skip(2))})");
        }
        return columns;
    }

    private static bool TryParseRegion(string? text, out OpenDcc.Core.Wan.WanRegion region, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? error)
    {
        var ok = Enum.TryParse(text, ignoreCase: true, out region) && Enum.IsDefined(region) && !int.TryParse(text, out _);
        error = ok ? null : $"'{text}' is not North, Central or South";
        return ok;
    }

    private static OpenDcc.Core.Wan.WanRegion ParseRegion(string text) =>
        TryParseRegion(text.Trim(), out var region, out var error) ? region : throw new FormatException(error);
}
