using System.CommandLine;
using System.Security.Cryptography.X509Certificates;
using System.Xml.Linq;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using OpenDcc.Core.Catalogue;
using OpenDcc.Core.Duis;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Inventory;
using OpenDcc.Core.Parties;
using OpenDcc.Core.Security;
using OpenDcc.Hub;
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

    public static Command Create(CliContext context)
    {
        var urls = new Option<string>("--urls") { Description = $"Where the hub listens (default {HubOptions.DefaultUrls})", DefaultValueFactory = _ => HubOptions.DefaultUrls };
        var data = new Option<DirectoryInfo?>("--data") { Description = "A fresh (empty or new) data directory; default: a new temporary one" };
        var exit = new Option<bool>("--no-wait") { Description = "Stop after printing the results instead of serving until Ctrl-C" };
        var demo = new Command("demo", "Start a hub with sample users and devices, send signed requests, show the responses, keep serving") { urls, data, exit };
        demo.SetAction(async (parsed, ct) =>
        {
            var directory = parsed.GetValue(data)?.FullName ?? Path.Combine(Path.GetTempPath(), "opendcc-demo-" + DateTime.UtcNow.ToString("yyyyMMddHHmmss", System.Globalization.CultureInfo.InvariantCulture));
            if (Directory.Exists(directory) && Directory.EnumerateFileSystemEntries(directory).Any())
            {
                await context.Error.WriteLineAsync($"opendcc: --data: {directory} is not empty; the demo needs a fresh data directory");
                return 1;
            }
            await using var receiver = await ResponseReceiver.StartAsync();
            var options = new HubOptions(directory, Urls: parsed.GetRequiredValue(urls), SiloPort: LoopbackPorts.Free(), GatewayPort: LoopbackPorts.Free());
            await using var app = await HubHost.BuildAsync(options, context.Clock, ct);
            await app.StartAsync(ct);
            var hubUrl = app.Urls.First();
            var store = app.Services.GetRequiredService<OpenDccStore>();
            context.Console.MarkupLine($"[bold]OpenDcc demo[/]: hub at {Markup.Escape(hubUrl)}, data in {Markup.Escape(directory)} (SQLite)");

            var keys = await ProvisionAsync(store, new FileKeyStore(Path.Combine(directory, "keys")), receiver.Url, context.Clock, ct);
            context.Console.MarkupLine("Provisioned 2 DCC users with fresh XmlSign keys from the local CA, and 3 devices.");

            using var http = new HttpClient { BaseAddress = new Uri(hubUrl) };
            var counter = (ulong)context.Clock.GetCurrentInstant().ToUnixTimeMilliseconds();
            var table = new Table().Border(TableBorder.Rounded).AddColumns("#", "Request", "From", "Endpoint", "Response", "Meaning");
            var row = 0;
            byte[]? lastSigned = null;
            async Task SendAsync(string description, Eui64 from, Eui64 target, int cv, string srv, DuisEndpoint endpoint, Func<byte[], byte[]>? spoil = null, byte[]? reuse = null, params XElement[] body)
            {
                var signed = reuse ?? DuisSignature.Sign(DuisRequestWriter.Write(new RequestId(from, target, ++counter), cv, ServiceCatalogue.Duis[srv], body), keys[from]);
                using var content = new ByteArrayContent(spoil is null ? signed : spoil(signed));
                content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/xml");
                using var response = await http.PostAsync(new Uri(CommandVariant.PathOf(endpoint), UriKind.Relative), content, ct);
                var text = await response.Content.ReadAsStringAsync(ct);
                var code = response.IsSuccessStatusCode ? XDocument.Parse(text).Descendants(Sr + "ResponseCode").Single().Value : $"HTTP {(int)response.StatusCode}";
                var meaning = ResponseCode.Known.FirstOrDefault(k => k.Code == code)?.Meaning ?? Meaning(code);
                if (XDocument.Parse(text).Descendants(Sr + "DSPInventory").FirstOrDefault() is { } inventory)
                {
                    meaning = "Success: " + string.Join("; ", inventory.Elements(Sr + "Device").Select(d => $"{d.Element(Sr + "DeviceType")!.Value} {d.Element(Sr + "DeviceID")!.Value} {d.Element(Sr + "DeviceStatus")!.Value}"));
                }
                table.AddRow((++row).ToString(System.Globalization.CultureInfo.InvariantCulture), Markup.Escape($"{srv} {description}"), from == Supplier ? "Supplier" : "DNO",
                    CommandVariant.PathOf(endpoint), code.StartsWith('I') ? $"[green]{code}[/]" : $"[red]{code}[/]", Markup.Escape(meaning));
                if (reuse is null)
                {
                    lastSigned = signed;
                }
            }

            await SendAsync("Read Instantaneous Import Registers", Supplier, Electricity, 1, "4.1.1", DuisEndpoint.SendCommand);
            await SendAsync("... the same signed request again", Supplier, Electricity, 1, "4.1.1", DuisEndpoint.SendCommand, reuse: lastSigned);
            await SendAsync("Read Inventory", Supplier, Eui64Defaults.Dsp, 8, "8.2", DuisEndpoint.NonDevice, body: new XElement(Sr + "DeviceID", Gas.ToString()));
            await SendAsync("Read Network Data", NetworkOperator, Electricity, 1, "4.10", DuisEndpoint.SendCommand);
            await SendAsync("Read Block Counters (gas suppliers only)", NetworkOperator, Gas, 1, "4.1.4", DuisEndpoint.SendCommand);
            await SendAsync("Read Registers of a meter not in the inventory", Supplier, Eui64.Parse("00-DB-12-34-56-78-90-FF"), 1, "4.1.1", DuisEndpoint.SendCommand);
            await SendAsync("Disable Supply, Transform (critical)", Supplier, Electricity, 4, "7.2", DuisEndpoint.Transform);
            await SendAsync("Read Supply Status sent to Non-Device", Supplier, Electricity, 1, "7.4", DuisEndpoint.NonDevice);
            await SendAsync("Read Firmware Version, a byte changed after signing", Supplier, CommsHub, 1, "11.2", DuisEndpoint.SendCommand,
                spoil: bytes => System.Text.Encoding.UTF8.GetBytes(System.Text.Encoding.UTF8.GetString(bytes).Replace(">11.2<", ">11.2 <", StringComparison.Ordinal)));
            await SendAsync("Device Pre-notification", Supplier, Eui64Defaults.Dsp, 8, "12.2", DuisEndpoint.NonDevice,
                body: [new XElement(Sr + "DeviceID", "00-DB-12-34-56-78-90-B0"), new XElement(Sr + "DeviceType", "ESME")]);
            context.Console.Write(table);

            await Task.Delay(TimeSpan.FromSeconds(2), ct);
            var asyncTable = new Table().Border(TableBorder.Rounded).AddColumns("Asynchronous response delivered to", "Response ID", "Code");
            foreach (var message in receiver.Received)
            {
                var doc = XDocument.Parse(message);
                asyncTable.AddRow(Markup.Escape(receiver.Url.ToString()), doc.Descendants(Sr + "ResponseID").Single().Value, doc.Descendants(Sr + "ResponseCode").Single().Value);
            }
            context.Console.Write(asyncTable);
            var log = await MessageLogChain.VerifyAsync(store.MessageLog, ct);
            context.Console.MarkupLine($"Message log: {log.EntriesChecked} entries, chain {(log.IsIntact ? "[green]intact[/]" : "[red]broken[/]")}.");

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
            return log.IsIntact ? 0 : 1;
        });
        return demo;
    }

    private static string Meaning(string code) => code switch
    {
        "E41" => "Invalid request (OpenDcc's choice of code)",
        "E42" => "Authentication failure: bad or missing signature (OpenDcc's choice of code)",
        "E43" => "Replay: counter not greater than the last accepted (OpenDcc's choice of code)",
        _ => "",
    };

    private static async Task<Dictionary<Eui64, X509Certificate2>> ProvisionAsync(OpenDccStore store, FileKeyStore keyStore, Uri responseUrl, IClock clock, CancellationToken ct)
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
        await store.Inventory.AddDevicesAsync(
        [
            new Device(Electricity, DeviceType.ESME, SmiStatus.Commissioned),
            new Device(Gas, DeviceType.GSME, SmiStatus.Commissioned),
            new Device(CommsHub, DeviceType.CHF, SmiStatus.Commissioned),
        ], ct);
        return keys;
    }
}
