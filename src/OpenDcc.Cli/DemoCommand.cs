using System.CommandLine;
using System.Security.Cryptography.X509Certificates;
using System.Xml.Linq;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using NodaTime.Text;
using OpenDcc.Core.Catalogue;
using OpenDcc.Core.Duis;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Inventory;
using OpenDcc.Core.Parties;
using OpenDcc.Core.Registration;
using OpenDcc.Core.Security;
using OpenDcc.Core.Translation;
using OpenDcc.Core.Translation.Gbcs;
using OpenDcc.Hub;
using OpenDcc.Simulator.Devices;
using OpenDcc.Simulator.Wan;
using OpenDcc.Storage;
using Spectre.Console;

namespace OpenDcc.Cli;

/// <summary>
/// <c>opendcc demo</c>: a hub on a fresh SQLite data directory, sample users with freshly issued keys and a few
/// devices, a mix of signed requests (valid and not), a table of what came back, then serving until Ctrl-C.
/// </summary>
internal static class DemoCommand
{
    private static readonly Eui64 Supplier = Eui64.Parse("90-B3-D5-1F-30-01-00-00");
    private static readonly Eui64 NetworkOperator = Eui64.Parse("90-B3-D5-1F-30-02-00-00");
    private static readonly Eui64 Electricity = Eui64.Parse("00-DB-12-34-56-78-90-A0");
    private static readonly Eui64 Gas = Eui64.Parse("00-DB-12-34-56-78-90-A1");
    private static readonly Eui64 CommsHub = Eui64.Parse("00-DB-12-34-56-78-90-A2");
    private static readonly XNamespace Sr = DuisNamespaces.Sr;

    /// <summary>The simulated fleet: site 0's meters are the demo's; the rest join the inventory for the network operator's aggregate read.</summary>
    private const int SmartGridSites = 100;

    public static Command Create(CliContext context)
    {
        var urls = new Option<string>("--urls") { Description = $"Where the hub listens (default {HubOptions.DefaultUrls})", DefaultValueFactory = _ => HubOptions.DefaultUrls };
        var data = new Option<DirectoryInfo?>("--data") { Description = "A fresh (empty or new) data directory; default: a new temporary one" };
        var exit = new Option<bool>("--no-wait") { Description = "Stop after printing the results instead of serving until Ctrl-C" };
        var demo = new Command("demo", "Start a hub with sample users and devices, send signed requests, show the responses, keep serving") { urls, data, exit };
        demo.SetAction(async (parsed, ct) =>
        {
            var directory = parsed.GetValue(data) is { } given ? CliContext.CheckedDataDirectory(given.FullName) : null;
            if (directory is not null && Directory.Exists(directory) && Directory.EnumerateFileSystemEntries(directory).Any())
            {
                await context.Error.WriteLineAsync($"opendcc: --data: {directory} is not empty; the demo needs a fresh data directory");
                return 1;
            }
            // Where it will listen is checked before anything is written: a demo that cannot listen leaves --data as it was.
            if (CliContext.UrlsFault(parsed.GetRequiredValue(urls)) is { } fault)
            {
                await context.Error.WriteLineAsync($"opendcc: {fault}");
                return 1;
            }
            // By default a new directory of its own, named for when it started (two demos started in the same second get two).
            directory ??= Directory.CreateTempSubdirectory(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"opendcc-demo-{context.Clock.GetCurrentInstant().ToDateTimeUtc():yyyyMMddHHmmss}-")).FullName;
            await using var receiver = await ResponseReceiver.StartAsync();
            var options = new HubOptions(directory, Urls: parsed.GetRequiredValue(urls), SiloPort: LoopbackPorts.Free(), GatewayPort: LoopbackPorts.Free());
            // The demo's meters are site 0 of a simulated fleet, on the simulated WAN under the IDs the DCC's test data uses.
            using var world = SimulatedWorld.Create(new FileKeyStore(Path.Combine(directory, "keys")), Eui64Defaults.Dsp, new SimulatedFleet(seed: 1, siteCount: SmartGridSites), context.Clock);
            world.Wan.InstallSiteDevice(Electricity, DeviceType.ESME);
            world.Wan.InstallSiteDevice(Gas, DeviceType.GSME);
            world.Wan.InstallSiteDevice(CommsHub, DeviceType.CHF);
            // The registration systems: the demo supplier supplies site 0, the demo network operator runs its area.
            world.Registrations.FleetRegistration = new MeterPointRegistration(null, null, Supplier, NetworkOperator);
            // The demo's electricity meter serves site 0's MPAN, which a power outage alert names.
            world.Registrations.Register(Electricity, new MeterPointRegistration(world.Wan.Fleet[0].Mpan, null, Supplier, NetworkOperator));
            // A prepayment meter for the top-up.
            world.Wan.Fleet[0].ElectricityMeter.Execute(new DeviceOperation.ChangePaymentMode(PaymentMode.Prepayment), context.Clock.GetCurrentInstant());
            await using var app = await HubHost.BuildAsync(options, context.Clock, world.Devices, ct);
            if (!await context.StartHubAsync(app, options.Urls, ct))
            {
                if (parsed.GetValue(data) is null)
                {
                    // The demo's own directory, of no use now: not left behind in /tmp.
                    await app.DisposeAsync();
                    Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
                    Directory.Delete(directory, recursive: true);
                }
                return 1;
            }
            var hubUrl = app.Urls.First();
            var store = app.Services.GetRequiredService<OpenDccStore>();
            context.Console.MarkupLine($"[bold]OpenDcc demo[/]: hub at {Markup.Escape(hubUrl)}, data in {Markup.Escape(directory)} (SQLite)");

            var (keys, supplierSigning) = await ProvisionAsync(store, new FileKeyStore(Path.Combine(directory, "keys")), receiver.Url, context.Clock, ct);
            // The meters hold their registered supplier's Digital Signing key as their supplier trust anchor.
            await world.PlaceSupplierTrustAnchorsAsync(store.Parties, context.Clock.GetCurrentInstant(), ct);
            context.Console.MarkupLine("Provisioned 2 DCC users with fresh XmlSign keys from the local CA (and a Digital Signing key for the supplier, which its meters hold as their trust anchor), and 3 devices.");

            using var http = new HttpClient { BaseAddress = new Uri(hubUrl) };
            var counter = (ulong)context.Clock.GetCurrentInstant().ToUnixTimeMilliseconds();
            var table = new Table().Border(TableBorder.Rounded).AddColumns("#", "Request", "From", "Endpoint", "Response", "Meaning");
            var row = 0;
            byte[]? lastSigned = null;
            async Task<XDocument?> SendAsync(string description, Eui64 from, Eui64 target, int cv, string srv, DuisEndpoint endpoint, Func<byte[], byte[]>? spoil = null, byte[]? reuse = null, params XElement[] body)
            {
                var signed = reuse ?? DuisSignature.Sign(DuisRequestWriter.Write(new RequestId(from, target, ++counter), cv, ServiceCatalogue.Duis[srv], body), keys[from]);
                using var content = new ByteArrayContent(spoil is null ? signed : spoil(signed));
                content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/xml");
                using var response = await http.PostAsync(new Uri(CommandVariant.PathOf(endpoint), UriKind.Relative), content, ct);
                var text = await response.Content.ReadAsStringAsync(ct);
                var document = response.IsSuccessStatusCode ? XDocument.Parse(text) : null;
                var code = document?.Descendants(Sr + "ResponseCode").Single().Value ?? $"HTTP {(int)response.StatusCode}";
                var meaning = ResponseCode.Known.FirstOrDefault(k => k.Code == code)?.Meaning ?? Meaning(code);
                if (document?.Descendants(Sr + "DSPInventory").FirstOrDefault() is { } inventory)
                {
                    meaning = "Success: " + string.Join("; ", inventory.Elements(Sr + "Device").Select(d => $"{d.Element(Sr + "DeviceType")!.Value} {d.Element(Sr + "DeviceID")!.Value} {d.Element(Sr + "DeviceStatus")!.Value}"));
                }
                if (document?.Descendants(Sr + "LocalCommand").FirstOrDefault() is { } command)
                {
                    meaning = $"Success: the meter's command for an installer to deliver over its HAN ({Convert.FromBase64String(command.Value).Length} bytes, the ACB's MAC on it)";
                }
                // 8.13's answer is the device's own, from the device its OriginalRequestID names.
                if (body.FirstOrDefault(e => e.Name == Sr + "OriginalRequestID") is { } original && document?.Descendants(Sr + "GBCSPayload").FirstOrDefault() is { } returned
                    && world.ReadAnswer(Convert.FromBase64String(returned.Value), RequestId.Parse(original.Value).Target, Eui64Defaults.Dsp) is { Succeeded: true } read)
                {
                    meaning = $"Success: {Describe(read.Value!)}";
                }
                table.AddRow((++row).ToString(System.Globalization.CultureInfo.InvariantCulture), Markup.Escape($"{srv} {description}"), from == Supplier ? "Supplier" : "DNO",
                    CommandVariant.PathOf(endpoint), code.StartsWith('I') ? $"[green]{code}[/]" : $"[red]{code}[/]", Markup.Escape(meaning));
                if (reuse is null)
                {
                    lastSigned = signed;
                }
                return document;
            }

            // A critical command: Transform returns the meter's own command unsigned; the supplier signs it with its
            // Digital Signing key and sends it back as a Signed Pre-Command (CV 5); the ACB MACs it; the meter checks
            // the supplier's signature against its trust anchor.
            var meter = world.Wan.Fleet[0].ElectricityMeter;
            SupplyState Supply() => ((DeviceOutcome.SupplyStatus)meter.Execute(new DeviceOperation.ReadSupplyStatus(), context.Clock.GetCurrentInstant())).State;
            async Task<SupplyState> SupplyOnceAsync(SupplyState expected)
            {
                for (var wait = 0; wait < 50 && Supply() != expected; wait++)
                {
                    await Task.Delay(100, ct);
                }
                return Supply();
            }
            async Task<byte[]> TransformAsync(string description, string srv)
            {
                var transformed = await SendAsync(description, Supplier, Electricity, 4, srv, DuisEndpoint.Transform);
                return Convert.FromBase64String(transformed!.Descendants(Sr + "PreCommand").Single().Element(Sr + "GBCSPayload")!.Value);
            }
            XElement Signed(byte[] preCommand, System.Security.Cryptography.ECDsa key) => new(Sr + "GBCSPayload", Convert.ToBase64String(GbcsCodec.SignPreCommand(preCommand, key)));

            await SendAsync("Read Instantaneous Import Registers", Supplier, Electricity, 1, "4.1.1", DuisEndpoint.SendCommand);
            await SendAsync("... the same signed request again", Supplier, Electricity, 1, "4.1.1", DuisEndpoint.SendCommand, reuse: lastSigned);
            var local = await SendAsync("Read Instantaneous Import Registers, for local delivery (CV 2)", Supplier, Electricity, 2, "4.1.1", DuisEndpoint.NonDevice);
            if (local?.Descendants(Sr + "LocalCommand").SingleOrDefault() is { } localCommand)
            {
                // The installer's hand-held terminal takes the command to the meter over its HAN, and the supplier returns
                // the meter's answer to the DCC, which checks it against the command.
                var answer = await world.Wan.ExchangeAsync(Electricity, Convert.FromBase64String(localCommand.Value), ct);
                await SendAsync("Return Local Command Response: the meter's answer to it", Supplier, Eui64Defaults.Dsp, 8, "8.13", DuisEndpoint.NonDevice,
                    body: [new XElement(Sr + "OriginalRequestID", local.Descendants(Sr + "RequestID").Single().Value), new XElement(Sr + "DeviceGBCSResponse", Convert.ToBase64String(answer))]);
            }
            // Yesterday's settlement day, London midnight to midnight: 46, 48 or 50 half-hours.
            var today = SettlementCalendar.DateOf(context.Clock.GetCurrentInstant());
            await SendAsync("Read Active Import Profile Data (yesterday, midnight to midnight)", Supplier, Electricity, 1, "4.8.1", DuisEndpoint.SendCommand,
                body: new XElement(Sr + "ReadLogPeriod",
                    new XElement(Sr + "StartDateTime", InstantPattern.ExtendedIso.Format(SettlementCalendar.StartOf(today.PlusDays(-1)))),
                    new XElement(Sr + "EndDateTime", InstantPattern.ExtendedIso.Format(SettlementCalendar.StartOf(today)))));
            await SendAsync("Top Up Device", Supplier, Electricity, 1, "2.2", DuisEndpoint.SendCommand, body: new XElement(Sr + "UTRN", "00050073946144332041"));
            await SendAsync("Update Firmware (image distributed, pending activation)", Supplier, Eui64Defaults.Dsp, 8, "11.1", DuisEndpoint.NonDevice,
                body: [new XElement(Sr + "FirmwareImage", Convert.ToBase64String("OpenDcc demo firmware 1.1.0"u8)), new XElement(Sr + "FirmwareVersion", "1.1.0"), new XElement(Sr + "DeviceIDList", Electricity.ToString())]);
            await SendAsync("Read Firmware Version", Supplier, Electricity, 1, "11.2", DuisEndpoint.SendCommand);
            await SendAsync("Read Inventory", Supplier, Eui64Defaults.Dsp, 8, "8.2", DuisEndpoint.NonDevice, body: new XElement(Sr + "DeviceID", Gas.ToString()));
            await SendAsync("Read Network Data", NetworkOperator, Electricity, 1, "4.10", DuisEndpoint.SendCommand);
            await SendAsync("Read Block Counters (gas suppliers only)", NetworkOperator, Gas, 1, "4.1.4", DuisEndpoint.SendCommand);
            await SendAsync("Read Registers of a meter not in the inventory", Supplier, Eui64.Parse("00-DB-12-34-56-78-90-FF"), 1, "4.1.1", DuisEndpoint.SendCommand);
            var supplyBefore = Supply();
            var disable = await TransformAsync("Disable Supply, Transform (critical): the meter's own command, unsigned", "7.2");
            using (var stranger = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256))
            {
                await SendAsync("Disable Supply, the pre-command signed with a key that is not the supplier's", Supplier, Electricity, 5, "7.2", DuisEndpoint.SendCommand, body: Signed(disable, stranger));
            }
            await SendAsync("Disable Supply, the pre-command signed by the supplier (CV 5)", Supplier, Electricity, 5, "7.2", DuisEndpoint.SendCommand, body: Signed(disable, supplierSigning));
            var supplyDisabled = await SupplyOnceAsync(SupplyState.Disabled);
            var enable = await TransformAsync("Enable Supply, Transform (critical)", "7.1");
            await SendAsync("Enable Supply, the pre-command signed by the supplier (CV 5)", Supplier, Electricity, 5, "7.1", DuisEndpoint.SendCommand, body: Signed(enable, supplierSigning));
            var supplyEnabled = await SupplyOnceAsync(SupplyState.Enabled);
            await SendAsync("Read Supply Status sent to Non-Device", Supplier, Electricity, 1, "7.4", DuisEndpoint.NonDevice);
            await SendAsync("Read Firmware Version, a byte changed after signing", Supplier, CommsHub, 1, "11.2", DuisEndpoint.SendCommand,
                spoil: bytes => System.Text.Encoding.UTF8.GetBytes(System.Text.Encoding.UTF8.GetString(bytes).Replace(">11.2<", ">11.2 <", StringComparison.Ordinal)));
            await SendAsync("Device Pre-notification", Supplier, Eui64Defaults.Dsp, 8, "12.2", DuisEndpoint.NonDevice,
                body: [new XElement(Sr + "DeviceID", "00-DB-12-34-56-78-90-B0"), new XElement(Sr + "DeviceManufacturer", "AB01"), new XElement(Sr + "DeviceModel", "010A030B"), new XElement(Sr + "DeviceType", "ESME")]);
            context.Console.Write(table);
            context.Console.MarkupLine($"Supply of meter {Electricity}: [bold]{supplyBefore}[/] before; [bold]{supplyDisabled}[/] after the signed Disable Supply (the wrongly signed one was refused before the WAN); [bold]{supplyEnabled}[/] after the signed Enable Supply.");

            // A power cut at site 0 for ten minutes: the comms hub reports the loss of power to the WAN provider and the DCC
            // raises a DCC Alert (AD1) to the network operator, then the supplier; the meter reports the restoration (a device alert) to both.
            // Simulated as already over (from a quarter of an hour ago to five minutes ago), so that both are reported
            // now; said so, lest the past start time look like a clock fault.
            var now = context.Clock.GetCurrentInstant();
            var (cutAt, restoredAt) = (now - Duration.FromMinutes(15), now - Duration.FromMinutes(5));
            context.Console.MarkupLine($"Power cut at site 0 (MPAN {world.Wan.Fleet[0].Mpan}) for ten minutes, simulated as already over: off at {cutAt}, back at {restoredAt} (it is {now}).");
            await world.Wan.PowerOutageAsync(Electricity, cutAt, restoredAt, ct);
            await Task.Delay(TimeSpan.FromSeconds(2), ct);
            var asyncTable = new Table().Border(TableBorder.Rounded).AddColumns("Asynchronous response to the user's URL, as queued", "Code", "What the device said (GBCSPayload read with the ACB-device key)");
            foreach (var doc in InQueueOrder(receiver.Received))
            {
                var responseId = RequestId.Parse(doc.Descendants(Sr + "ResponseID").Single().Value);
                var to = responseId.Target == Supplier ? "Supplier" : "DNO";
                if (doc.Descendants(Sr + "DeviceAlertMessage").SingleOrDefault() is { } deviceAlert)
                {
                    var code = deviceAlert.Element(Sr + "AlertCode")!.Value;
                    asyncTable.AddRow(Markup.Escape($"device alert from {responseId.Originator} to {to}"), "I0",
                        Markup.Escape($"alert {code}: {(code == "8F36" ? "power restored" : "device alert")}"));
                    continue;
                }
                if (doc.Descendants(Sr + "DCCAlertMessage").SingleOrDefault() is { } dccAlert)
                {
                    var outage = dccAlert.Descendants(Sr + "PowerOutageEvent").SingleOrDefault();
                    asyncTable.AddRow(Markup.Escape($"DCC alert {dccAlert.Element(Sr + "DCCAlertCode")!.Value} from the DCC to {to}"), "I0",
                        Markup.Escape(outage is null ? "" : $"power outage: comms hub {outage.Element(Sr + "CommsHubDeviceID")!.Value} lost power at {outage.Element(Sr + "StartDateTime")!.Value}, MPAN {outage.Element(Sr + "MPxN")!.Value}"));
                    continue;
                }
                // 11.1 went to the DCC, which sent the image to the one meter the demo lists; the answer is that meter's.
                var device = responseId.Originator == Eui64Defaults.Dsp ? Electricity : responseId.Originator;
                var said = doc.Descendants(Sr + "GBCSPayload").SingleOrDefault() is { } payload && world.ReadAnswer(Convert.FromBase64String(payload.Value), device, Eui64Defaults.Dsp) is { Succeeded: true } answer
                    ? Describe(answer.Value!)
                    : "";
                asyncTable.AddRow(Markup.Escape($"{doc.Descendants(Sr + "ServiceReferenceVariant").Single().Value} from {device}"), doc.Descendants(Sr + "ResponseCode").Single().Value, Markup.Escape(said));
            }
            context.Console.Write(asyncTable);
            await ShowSmartGridReadAsync(context, store, app.Services.GetRequiredService<IPartyStore>(), world, http, ct);
            var log = await MessageLogChain.VerifyAsync(store.MessageLog, cancellationToken: ct);
            context.Console.MarkupLine($"Message log: {CliContext.Count(log.EntriesChecked, "entry", "entries")}, chain {(log.IsIntact ? "[green]intact[/]" : "[red]broken[/]")}.");

            if (!parsed.GetValue(exit))
            {
                context.Console.MarkupLine($"Serving DUIS at {Markup.Escape(hubUrl)}/api/v1/serviceS|T|D and /health; Ctrl-C to stop.");
                try
                {
                    await Task.Delay(Timeout.Infinite, ct);
                }
                catch (OperationCanceledException)
                {
                }
            }
            await app.StopAsync(CancellationToken.None);
            foreach (var key in keys.Values)
            {
                key.Dispose();
            }
            supplierSigning.Dispose();
            return log.IsIntact ? 0 : 1;
        });
        return demo;
    }

    /// <summary>
    /// The network operator's aggregate voltage read over REST: it acts for site 0's distributor, gets an API key, and
    /// asks for every meter of that GSP group, read afresh through the comms hub queues.
    /// </summary>
    private static async Task ShowSmartGridReadAsync(CliContext context, OpenDccStore store, IPartyStore parties, SimulatedWorld world, HttpClient http, CancellationToken ct)
    {
        await world.AddToInventoryAsync(store.Inventory, ct);
        var area = world.Wan.Fleet[0].Mpan.Distributor;
        // Through the hub's own party store, so the change reaches its cache of users at once.
        await parties.SetDistributorsAsync(NetworkOperator, DistributorSet.Of(area), ct);
        var (key, token) = ApiKey.Issue(NetworkOperator, context.Clock.GetCurrentInstant());
        await store.ApiKeys.AddAsync(key, ApiKey.HashOf(token), ct);
        var group = area.GspGroup!.Value;
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/smart-grid/power-quality")
        {
            Content = new StringContent($$"""{"gspGroup": "{{group}}", "deadlineSeconds": 10}""", System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        using var response = await http.SendAsync(request, ct);
        using var body = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct));
        var answer = body.RootElement;
        context.Console.MarkupLine($"Smart grid: the network operator's aggregate voltage read (REST, API key {key.Id}) over GSP group {group} ({Markup.Escape(group.AreaName)}) of the {SmartGridSites}-site fleet:");
        if (!response.IsSuccessStatusCode)
        {
            context.Console.MarkupLine($"  [red]HTTP {(int)response.StatusCode}[/] {Markup.Escape(answer.GetProperty("detail").GetString() ?? "")}");
            return;
        }
        var voltage = answer.GetProperty("voltage");
        // Every part of metersAsked, so that the figures add up.
        context.Console.MarkupLine($"  {answer.GetProperty("metersAsked").GetInt32()} meters asked: [green]{answer.GetProperty("answered").GetInt32()} answered[/], {answer.GetProperty("unreachable").GetInt32()} unreachable, {answer.GetProperty("noAnswer").GetInt32()} no answer, {answer.GetProperty("failed").GetInt32()} failed, {answer.GetProperty("outstanding").GetInt32()} outstanding");
        if (voltage.ValueKind != System.Text.Json.JsonValueKind.Null)
        {
            context.Console.MarkupLine($"  voltage mean {voltage.GetProperty("mean").GetDecimal():0.00} V, min {voltage.GetProperty("min").GetDecimal():0.0} V, max {voltage.GetProperty("max").GetDecimal():0.0} V");
            context.Console.MarkupLine($"  active power {answer.GetProperty("activePower").GetProperty("total").GetInt64():N0} W in all");
        }
    }

    /// <summary>
    /// The messages the users' endpoints received, in the order the hub queued them (by their ResponseID's counter, which
    /// for an alert the hub gives as it queues it, and for a response is its request's), not as they arrived: each
    /// user's endpoint is sent to on its own, so an AD1 queued for the network operator, then the supplier, may reach
    /// the supplier first, and a table in arrival order would show the routing the wrong way round.
    /// </summary>
    internal static IReadOnlyList<XDocument> InQueueOrder(IEnumerable<string> received) =>
        [.. received.Select(message => XDocument.Parse(message)).OrderBy(doc => RequestId.Parse(doc.Descendants(Sr + "ResponseID").Single().Value).Counter)];

    private static string Describe(DeviceOutcome outcome) => outcome switch
    {
        DeviceOutcome.Registers r => $"import register {r.Import:N0} {(r.Unit == RegisterUnit.WattHours ? "Wh" : "dm³")}",
        DeviceOutcome.Profile p => $"{p.Values.Count} values of {p.Interval.TotalMinutes:N0} min, {p.Values.Sum(v => v.Value):N0} {(p.Unit == RegisterUnit.WattHours ? "Wh" : "dm³")} in all",
        DeviceOutcome.NetworkData n => $"{n.RmsVoltageDeciVolts / 10.0:N1} V, {n.ActivePowerWatts:N0} W",
        DeviceOutcome.Balance b => $"credit {b.CreditPence / 100.0:N2} GBP, {b.Mode}",
        DeviceOutcome.Refused r => $"refused: {r.Reason} ({r.Detail})",
        DeviceOutcome.Done => "done",
        DeviceOutcome.FirmwareVersion f => $"firmware {f.Running}{(f.Pending is null ? "" : $", {f.Pending} pending")}",
        DeviceOutcome.SupplyStatus s => $"supply {s.State}",
        _ => outcome.ToString(),
    };

    private static string Meaning(string code) => code switch
    {
        "E41" => "Invalid request (OpenDcc's choice of code)",
        "E42" => "Authentication failure: bad or missing signature (OpenDcc's choice of code)",
        "E43" => "Replay: counter not greater than the last accepted (OpenDcc's choice of code)",
        "E44" => "Signed Pre-Command malformed or not for this device, signer or SRV (OpenDcc's choice of code)",
        "E45" => "Signed Pre-Command signature does not verify with the user's Digital Signing certificate (OpenDcc's choice of code)",
        _ => "",
    };

    /// <returns>The users' XmlSign certificates with their keys, and the supplier's Digital Signing key.</returns>
    private static async Task<(Dictionary<Eui64, X509Certificate2> XmlSign, System.Security.Cryptography.ECDsa SupplierSigning)> ProvisionAsync(OpenDccStore store, FileKeyStore keyStore, Uri responseUrl, IClock clock, CancellationToken ct)
    {
        using var ca = keyStore.LoadLocalCa();
        var keys = new Dictionary<Eui64, X509Certificate2>();
        foreach (var user in new[]
        {
            new DccUser(Supplier, "Demo Supplier", DccUserRole.ImportSupplier | DccUserRole.GasSupplier, DccUserStatus.Active, responseUrl),
            new DccUser(NetworkOperator, "Demo Network Operator", DccUserRole.ElectricityDistributor, DccUserStatus.Active, responseUrl),
        })
        {
            await store.Parties.AddUserAsync(user, ct);
            var certificate = ca.Issue(user.Id, RemotePartyRole.XmlSign, user.Name, clock, Duration.FromDays(365));
            await store.Parties.AddCertificateAsync(OrganisationCertificate.FromX509(certificate), ct);
            keys[user.Id] = certificate;
        }
        // The supplier's Digital Signing (OU=02) certificate: its key signs critical commands.
        using var signing = ca.Issue(Supplier, RemotePartyRole.Supplier, "Demo Supplier", clock, Duration.FromDays(365));
        await store.Parties.AddCertificateAsync(OrganisationCertificate.FromX509(signing), ct);
        await store.Inventory.AddDevicesAsync(
        [
            new Device(Electricity, DeviceType.ESME, SmiStatus.Commissioned) { Model = SimulatedWorld.GbcsModel, CommsHub = CommsHub },
            new Device(Gas, DeviceType.GSME, SmiStatus.Commissioned) { Model = SimulatedWorld.GbcsModel, CommsHub = CommsHub },
            new Device(CommsHub, DeviceType.CHF, SmiStatus.Commissioned),
        ], ct);
        return (keys, signing.GetECDsaPrivateKey()!);
    }
}
