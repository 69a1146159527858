using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Xml.Linq;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using OpenDcc.Core.Catalogue;
using OpenDcc.Core.Duis;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Inventory;
using OpenDcc.Core.Parties;
using OpenDcc.Core.Registration;
using OpenDcc.Core.Security;
using OpenDcc.Core.Translation;
using OpenDcc.Core.Translation.Gbcs;
using OpenDcc.Core.Wan;
using OpenDcc.Hub;
using OpenDcc.Interop.Tests.Tooling;
using OpenDcc.Simulator.Devices;
using OpenDcc.Simulator.Wan;
using OpenDcc.Storage;
using Xunit.Abstractions;

namespace OpenDcc.Interop.Tests;

/// <summary>
/// OpenDcc as a drop-in for DCC Boxed: every RTDS template the DCC signing tool can sign is POSTed to a real hub that
/// holds the ZAZ1 users, their certificates and the RTDS devices, and signs with the ZAZ1 DSP key; the tool's own
/// Validate and duis-parser judge every response.
/// </summary>
[Collection(DccToolingCollection.Name)]
public sealed class GatewayInteropTests(SignedRtds rtds, ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly XNamespace Sr = RtdsTemplate.Duis;
    private readonly string dataDirectory = Path.Combine(Path.GetTempPath(), "opendcc-interop-hub-" + Guid.NewGuid().ToString("N"));
    private WebApplication hub = null!;
    private SimulatedWorld world = null!;
    private ResponseReceiver receiver = null!;
    private HttpClient http = null!;

    private DccTooling Tooling => rtds.Tooling;

    public async Task InitializeAsync()
    {
        receiver = await ResponseReceiver.StartAsync();

        // The DCC Boxed DSP identity, so that the tool's Validate finds the signer of every response.
        var identities = Tooling.Identities;
        new FileKeyStore(Path.Combine(dataDirectory, "keys")).SaveDspIdentity(FileKeyStore.Combine(identities.Dsp.CertificatePath, identities.Dsp.KeyPath));
        var port = FreePort();
        // The RTDS electricity and gas meters, comms hub (its HAN device log) and gas proxy function (its copy of the gas
        // meter's data) are site 0 of a simulated fleet, on the simulated WAN under their RTDS IDs.
        world = SimulatedWorld.Create(new FileKeyStore(Path.Combine(dataDirectory, "keys")), Eui64Defaults.Dsp, new SimulatedFleet(seed: 3, siteCount: 1), SystemClock.Instance);
        foreach (var device in Tooling.RtdsDevices.Where(d => TypeOf(d.Type) is DeviceType.ESME or DeviceType.GSME or DeviceType.CHF or DeviceType.GPF))
        {
            // As 'serve --install' does.
            world.Wan.InstallSiteDevice(device.Id, TypeOf(device.Type));
        }
        hub = await HubHost.BuildAsync(new HubOptions(dataDirectory, Urls: $"http://127.0.0.1:{port}", SiloPort: FreePort(), GatewayPort: FreePort()), SystemClock.Instance, world.Devices);
        await hub.StartAsync();
        http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
    }

    private OpenDccStore Store => hub.Services.GetRequiredService<OpenDccStore>();

    private async Task ProvisionAsync(bool includeOtherUser)
    {
        var identities = Tooling.Identities;
        var users = new List<(Zaz1Identity Identity, string Name, DccUserRole Roles)>
        {
            (identities.Supplier, "ZAZ1 Supplier", DccUserRole.ImportSupplier | DccUserRole.ExportSupplier | DccUserRole.GasSupplier),
            (identities.NetworkOperator, "ZAZ1 Network Operator", DccUserRole.ElectricityDistributor | DccUserRole.GasTransporter),
        };
        if (includeOtherUser)
        {
            users.Add((identities.OtherUser, "ZAZ1 Other User", DccUserRole.OtherUser | DccUserRole.RegisteredSupplierAgent));
        }
        foreach (var (identity, name, roles) in users)
        {
            if (await Store.Parties.FindUserAsync(identity.Id) is null)
            {
                await Store.Parties.AddUserAsync(new DccUser(identity.Id, name, roles, DccUserStatus.Active, receiver.Url));
            }
            using var certificate = X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(identity.CertificatePath));
            await Store.Parties.AddCertificateAsync(OrganisationCertificate.FromX509(certificate));
        }
        foreach (var device in Tooling.RtdsDevices)
        {
            if (await Store.Inventory.FindDeviceAsync(device.Id) is null)
            {
                var type = TypeOf(device.Type);
                await Store.Inventory.AddDeviceAsync(new Device(device.Id, type, SmiStatus.Commissioned) { Model = type is DeviceType.ESME or DeviceType.GSME or DeviceType.GPF ? SimulatedWorld.GbcsModel : null });
            }
        }
        // The coverage the 12.1 template's address (PartialAddress, post code M22 0RR) is answered from.
        await Store.WanCoverage.ReplaceAsync([new WanCoverage("M22", WanRegion.Central, true, null, "Cellular", ConnectivityLikelihood.High, AdditionalInformation: "Interop test coverage")]);
        // The devices the join and unjoin templates pair with (OtherDeviceID), as in-home displays: a join to a device
        // the inventory does not hold is refused (E19).
        foreach (var other in Tooling.Templates.Where(t => t.ServiceReferenceVariant is "8.7.2" or "8.8.2")
            .SelectMany(t => XDocument.Parse(t.Xml).Descendants(Sr + "OtherDeviceID")).Select(e => Eui64.Parse(e.Value)).Distinct())
        {
            if (await Store.Inventory.FindDeviceAsync(other) is null)
            {
                await Store.Inventory.AddDeviceAsync(new Device(other, DeviceType.IHD, SmiStatus.Commissioned));
            }
        }
    }

    [Fact]
    public async Task Every_signable_rtds_template_gets_a_schema_valid_dsp_signed_response_that_duis_parser_reads()
    {
        await ProvisionAsync(includeOtherUser: true);
        // The templates that change the inventory (decommission, delete, comms hub returns) would take the RTDS devices
        // out of service for the templates after them: they run in their own test, in an order that fits.
        var signed = rtds.Signed.Where(s => !ChangesInventory(s.Template.ServiceReferenceVariant)).ToList();
        var replies = new ConcurrentDictionary<string, (HttpStatusCode Status, string Body)>();
        // One originator's requests go in counter order (replay protection); originators run side by side.
        await Task.WhenAll(signed.GroupBy(s => s.Template.RequestId.Originator).Select(async group =>
        {
            foreach (var template in group.OrderBy(s => CounterOf(s.Xml)))
            {
                replies[template.Template.FileName] = await PostAsync(PathFor(template.Template.CommandVariant), template.Xml);
            }
        }));

        Assert.All(replies, r => Assert.Equal(HttpStatusCode.OK, r.Value.Status));
        var bodies = signed.Select(s => replies[s.Template.FileName].Body).ToList();
        var validations = await Tooling.ValidateManyAsync(bodies);
        var invalid = signed.Zip(validations).Where(p => !p.Second.Succeeded).Select(p => $"{p.First.Template.FileName}: {p.Second.Reason}").ToList();
        Assert.True(invalid.Count == 0, "the DCC tool refused responses:\n" + string.Join('\n', invalid));
        var parsed = await Tooling.ParseManyAsync(bodies);
        var unparsed = signed.Zip(parsed).Where(p => !p.Second.Parsed).Select(p => $"{p.First.Template.FileName}: {p.Second.Detail}").ToList();
        Assert.True(unparsed.Count == 0, "duis-parser refused responses:\n" + string.Join('\n', unparsed));

        var codes = signed.Select(s => (s.Template, Code: CodeOf(replies[s.Template.FileName].Body))).ToList();
        var accepted = codes.Count(c => c.Code is "I0" or "I99");
        var summary = new StringBuilder();
        summary.AppendLine(CultureInfo.InvariantCulture, $"RTDS templates: {rtds.All.Count}; signed by the DCC tool: {signed.Count}; accepted by OpenDcc (I0/I99): {accepted}");
        foreach (var group in codes.GroupBy(c => c.Code).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            summary.AppendLine(CultureInfo.InvariantCulture, $"  {group.Key}: {group.Count()}  e.g. {string.Join(", ", group.Take(3).Select(c => c.Template.ServiceReferenceVariant + " CV" + c.Template.CommandVariant))}");
        }
        output.WriteLine(summary.ToString());
        rtds.Report(summary.ToString().TrimEnd());

        // Every template from a provisioned ZAZ1 user with a well-formed request is accepted, apart from the known
        // gaps: non-device services not built yet (E100), and device SRVs or device types the reference adapters do
        // not translate (E11). The 8.13 template returns an RTDS meter's answer to a command OpenDcc never gave: E081301.
        var provisioned = new HashSet<Eui64> { Tooling.Identities.Supplier.Id, Tooling.Identities.NetworkOperator.Id, Tooling.Identities.OtherUser.Id };
        var unexpected = codes.Where(c => provisioned.Contains(c.Template.RequestId.Originator)
                && c.Code is not ("I0" or "I99" or "E11" or "E100" or "E080201")
                && !(c.Template.ServiceReferenceVariant == "8.13" && c.Code == "E081301")
                && !(c.Code == "E2" && !ServiceCatalogue.Duis[c.Template.ServiceReferenceVariant].IsEligibleFor(RolesOf(c.Template.RequestId.Originator))))
            .Select(c => $"{c.Template.FileName}: {c.Code}").ToList();
        Assert.True(unexpected.Count == 0, "unexpected refusals:\n" + string.Join('\n', unexpected));
        // The command for local delivery (CV 2) is answered at once with the meter's command in it.
        var local = Assert.Single(signed, s => s.Template.CommandVariant == 2);
        Assert.Single(XDocument.Parse(replies[local.Template.FileName].Body).Descendants(Sr + "LocalCommand"));
        // 12.1 Request WAN Matrix is answered from the coverage data, its DSPWANMatrix valid for the DCC tool.
        var wanMatrix = Assert.Single(signed, s => s.Template.ServiceReferenceVariant == "12.1");
        Assert.Equal("I0", CodeOf(replies[wanMatrix.Template.FileName].Body));
        Assert.Equal("Central", XDocument.Parse(replies[wanMatrix.Template.FileName].Body).Descendants(Sr + "DSPWANMatrix").Single().Element(Sr + "CSPRegion")!.Value);
        var translated = codes.Count(c => c.Code == "I99");
        Assert.True(translated >= 40, $"only {translated} device templates translated and sent");

        // The asynchronous device responses arrive at the users' response URL, DSP-signed and schema-valid.
        var deviceRequests = codes.Count(c => c.Code == "I99");
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (receiver.Received.Count < deviceRequests && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
        }
        Assert.Equal(deviceRequests, receiver.Received.Count);
        var asyncValidations = await Tooling.ValidateManyAsync(receiver.Received);
        Assert.All(asyncValidations, v => Assert.True(v.Succeeded, v.Reason));
        Assert.All(await Tooling.ParseManyAsync(receiver.Received), p => Assert.True(p.Parsed, p.Detail));

        // A read's answer carries the simulated meter's own data: its register, read from the GBCS frame.
        var registerReads = receiver.Received.Select(XDocument.Parse)
            .Where(d => d.Descendants(Sr + "ServiceReferenceVariant").Single().Value == "4.1.1" && d.Descendants(Sr + "ResponseCode").Single().Value == "I0")
            .ToList();
        Assert.NotEmpty(registerReads);
        foreach (var read in registerReads)
        {
            var meter = RequestId.Parse(read.Descendants(Sr + "ResponseID").Single().Value).Originator;
            var frame = Convert.FromBase64String(read.Descendants(Sr + "GBCSPayload").Single().Value);
            var answer = world.ReadAnswer(frame, meter, Eui64Defaults.Dsp);
            Assert.True(answer.Succeeded, answer.Reason);
            var registers = Assert.IsType<DeviceOutcome.Registers>(answer.Value);
            Assert.True(registers.Import > 0);
        }
        // Each asynchronous answer: who it came from (with its type and what it said, its GBCS frame read back, for an RTDS
        // device), the SRV and the response code.
        var decoded = receiver.Received.Select(XDocument.Parse).Where(d => d.Descendants(Sr + "ResponseID").Any()).Select(d =>
        {
            var from = RequestId.Parse(d.Descendants(Sr + "ResponseID").Single().Value).Originator;
            var type = Tooling.RtdsDevices.SingleOrDefault(r => r.Id == from) is { } rtds ? TypeOf(rtds.Type) : (DeviceType?)null;
            var payload = d.Descendants(Sr + "GBCSPayload").SingleOrDefault();
            return (From: from, Type: type, Srv: d.Descendants(Sr + "ServiceReferenceVariant").Single().Value, Code: d.Descendants(Sr + "ResponseCode").Single().Value,
                Answer: type is null || payload is null ? null : world.ReadAnswer(Convert.FromBase64String(payload.Value), from, Eui64Defaults.Dsp).Value);
        }).ToList();
        // The gas meter's reads the templates send its gas proxy function (GCS13a, GCS60a, GCS61) are answered from the
        // GPF's copy of the gas meter's data: its register in cubic decimetres, its balance, its daily log.
        var fromGasProxy = decoded.Where(a => a.Type == DeviceType.GPF).ToList();
        Assert.Equal(["4.1.1", "4.1.1", "4.17", "4.18", "4.18"], fromGasProxy.Select(a => a.Srv).Order(StringComparer.Ordinal));
        Assert.All(fromGasProxy, a => Assert.Equal("I0", a.Code));
        Assert.All(fromGasProxy.Where(a => a.Srv == "4.1.1"), a => Assert.Equal(RegisterUnit.CubicDecimetres, Assert.IsType<DeviceOutcome.Registers>(a.Answer).Unit));
        // The meters read back the metering point they are configured with (6.2.7): site 0's MPAN and MPRN.
        var meterPoints = decoded.Where(a => a.Srv == "6.2.7").ToList();
        Assert.Equal(3, meterPoints.Count);
        Assert.All(meterPoints, a => Assert.Equal(new DeviceOutcome.MeterPoint(a.Type == DeviceType.ESME ? world.Wan.Fleet[0].Mpan.ToString() : world.Wan.Fleet[0].Mprn.ToString()), a.Answer));
        // The comms hub reads back its device log (8.9), site 0's own devices in it, and the gas meter the devices joined
        // to it; the third 8.9 to the hub asks for security details, which are not kept: E11.
        var commsHubLogs = decoded.Where(a => a.Srv == "8.9" && a.Type == DeviceType.CHF).Select(a => Assert.IsType<DeviceOutcome.DeviceLog>(a.Answer)).ToList();
        Assert.Equal(2, commsHubLogs.Count);
        Assert.All(commsHubLogs, log => Assert.Contains(world.Wan.Fleet[0].ElectricityMeter.Id, log.Devices));
        Assert.IsType<DeviceOutcome.DeviceLog>(Assert.Single(decoded, a => a.Srv == "8.9" && a.Type == DeviceType.GSME).Answer);
        // The electricity meter's active power (4.16) is what its network data gives at the same instant.
        var power = Assert.IsType<DeviceOutcome.ActivePower>(Assert.Single(decoded, a => a.Srv == "4.16").Answer);
        Assert.Equal(Assert.IsType<DeviceOutcome.NetworkData>(world.Wan.Fleet[0].ElectricityMeter.Execute(new DeviceOperation.ReadNetworkData(), power.At)).ActivePowerWatts, power.Watts);
        output.WriteLine($"asynchronous device responses: {receiver.Received.Count}, of which 4.1.1 register reads decoded: {registerReads.Count}");
        Assert.True((await MessageLogChain.VerifyAsync(Store.MessageLog)).IsIntact);
    }

    [Fact]
    public async Task A_comms_hubs_power_outage_reaches_the_network_operator_and_the_supplier_as_an_AD1_dcc_alert_the_tool_validates_and_duis_parser_reads()
    {
        await ProvisionAsync(includeOtherUser: false);
        world.Registrations.FleetRegistration = new MeterPointRegistration(null, null, Tooling.Identities.Supplier.Id, Tooling.Identities.NetworkOperator.Id);
        var meter = Tooling.RtdsDevices.First(d => TypeOf(d.Type) is DeviceType.ESME).Id;
        // The WAN reports site 0's comms hub under the lowest RTDS comms hub ID; the meter is on it, at site 0's MPAN.
        var commsHub = Tooling.RtdsDevices.Where(d => TypeOf(d.Type) is DeviceType.CHF).Select(d => d.Id).MinBy(id => id.Value);
        var mpan = world.Wan.Fleet[0].Mpan;
        await Store.Inventory.UpdateDeviceAsync(meter, d => d with { CommsHub = commsHub, Mpan = mpan }, InventoryChange.ByOperator(SystemClock.Instance.GetCurrentInstant()));
        var now = SystemClock.Instance.GetCurrentInstant();

        await world.Wan.PowerOutageAsync(meter, now - Duration.FromMinutes(30), now - Duration.FromMinutes(20));

        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (receiver.Received.Count < 4 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }
        var alerts = receiver.Received.ToList();
        Assert.Equal(4, alerts.Count);
        Assert.All(await Tooling.ValidateManyAsync(alerts), v => Assert.True(v.Succeeded, v.Reason));
        var parsed = await Tooling.ParseManyAsync(alerts);
        Assert.All(parsed, p => Assert.True(p.Parsed, p.Detail));
        // duis-parser reads the DCC alert's code and its event.
        Assert.Equal(2, parsed.Count(p => p.Detail.Contains("\"DCCAlertCode\":\"AD1\"", StringComparison.Ordinal) && p.Detail.Contains("PowerOutageEvent", StringComparison.Ordinal)));
        var outages = alerts.Select(XDocument.Parse).Where(d => d.Descendants(Sr + "DCCAlertMessage").Any()).ToList();
        Assert.Equal(
            new HashSet<Eui64> { Tooling.Identities.Supplier.Id, Tooling.Identities.NetworkOperator.Id },
            outages.Select(d => RequestId.Parse(d.Descendants(Sr + "ResponseID").Single().Value).Target).ToHashSet());
        Assert.All(outages, d =>
        {
            Assert.Equal("AD1", d.Descendants(Sr + "DCCAlertCode").Single().Value);
            Assert.Equal(commsHub.ToString(), d.Descendants(Sr + "CommsHubDeviceID").Single().Value);
            Assert.Equal(mpan.ToString(), d.Descendants(Sr + "MPxN").Single().Value);
        });
        // The restoration is the meter's own device alert, to both.
        Assert.Equal(2, alerts.Count(a => XDocument.Parse(a).Descendants(Sr + "DeviceAlertMessage").Any()));
    }

    [Fact]
    public async Task The_real_tools_requests_are_rejected_for_the_right_reasons()
    {
        var identities = Tooling.Identities;
        var meter = Tooling.RtdsDevices.First(d => d.Type == RtdsDeviceType.Esme).Id;
        var readRegisters = Tooling.Templates.First(t => t.ServiceReferenceVariant == "4.1.1" && t.CommandVariant == 1 && t.RequestId.Originator == identities.Supplier.Id && !t.Xml.Contains("ExecutionDateTime", StringComparison.Ordinal));

        // Unknown originator: the Other User's key is real, but it is not (yet) a DCC user here.
        await ProvisionAsync(includeOtherUser: false);
        var fromOtherUser = Retarget(readRegisters.Xml, identities.OtherUser.Id, meter);
        Assert.Equal("E42", await SendSignedAsync("/api/v1/serviceS", fromOtherUser));

        // A byte changed after signing.
        var tampered = (await Tooling.SignAsync(Retarget(readRegisters.Xml, identities.Supplier.Id, meter), preserveCounter: true))
            .Replace("<sr:CommandVariant>1</sr:CommandVariant>", "<sr:CommandVariant>1 </sr:CommandVariant>", StringComparison.Ordinal);
        Assert.Equal("E42", await CodeOfPostAsync("/api/v1/serviceS", tampered));

        // A replayed request: the second copy of the same signed bytes.
        var once = await Tooling.SignAsync(Retarget(readRegisters.Xml, identities.Supplier.Id, meter), preserveCounter: true);
        Assert.Equal("I99", await CodeOfPostAsync("/api/v1/serviceS", once));
        Assert.Equal("E43", await CodeOfPostAsync("/api/v1/serviceS", once));

        // A role not eligible: the network operator (ED, GT) asking for gas block counters (GS only).
        var blockCounters = Tooling.Templates.First(t => t.ServiceReferenceVariant == "4.1.4");
        Assert.Equal("E2", await SendSignedAsync("/api/v1/serviceS", Retarget(blockCounters.Xml, identities.NetworkOperator.Id, blockCounters.RequestId.Target)));

        // An unknown device.
        Assert.Equal("E19", await SendSignedAsync("/api/v1/serviceS", Retarget(readRegisters.Xml, identities.Supplier.Id, Eui64.Parse("00-DB-12-34-56-78-90-FF"))));

        var log = new List<MessageLogEntry>();
        await foreach (var entry in Store.MessageLog.ReadAsync())
        {
            log.Add(entry);
        }
        Assert.Equal(2, log.Count(e => e.Record.Direction == MessageDirection.Inbound && e.Record.Outcome.Contains("AuthenticationFailure", StringComparison.Ordinal)));
        Assert.Single(log, e => e.Record.Direction == MessageDirection.Inbound && e.Record.Outcome.Contains("Replay", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_inventory_templates_move_the_rtds_devices_through_their_smi_statuses_with_schema_valid_responses()
    {
        await ProvisionAsync(includeOtherUser: false);
        var hubId = Eui64.Parse(XDocument.Parse(Tooling.Templates.First(t => t.ServiceReferenceVariant == "8.14.1").Xml).Descendants(Sr + "DeviceID").First().Value);
        var meter = Eui64.Parse(XDocument.Parse(Tooling.Templates.First(t => t.ServiceReferenceVariant == "8.3").Xml).Descendants(Sr + "DeviceID").First().Value);
        var change = InventoryChange.ByOperator(SystemClock.Instance.GetCurrentInstant());
        await Store.Inventory.UpdateDeviceAsync(hubId, d => d with { Status = SmiStatus.Pending }, change);
        // The install templates place the hub at the meter serving their MPxN (an MPRN): the RTDS gas meter, here.
        var mprn = Mprn.Parse(XDocument.Parse(Tooling.Templates.First(t => t.ServiceReferenceVariant == "8.14.1").Xml).Descendants(Sr + "MPxN").First().Value);
        var gasMeter = Tooling.RtdsDevices.First(d => TypeOf(d.Type) is DeviceType.GSME).Id;
        await Store.Inventory.UpdateDeviceAsync(gasMeter, d => d with { Mprn = mprn }, change);

        // A comms hub installed without SM WAN, then with it, then returned for a fault; a second return finds it withdrawn.
        Assert.Equal("I0", await SendTemplateAsync("8.14.2"));
        Assert.Equal(SmiStatus.InstalledNotCommissioned, (await Store.Inventory.FindDeviceAsync(hubId))!.Status);
        Assert.Equal("I0", await SendTemplateAsync("8.14.1"));
        Assert.Equal(SmiStatus.Commissioned, (await Store.Inventory.FindDeviceAsync(hubId))!.Status);
        // Read Inventory's full answer, every optional element the inventory holds, passes the tool's schema check.
        var premises = Uprn.Parse("100023336956");
        await Store.Inventory.SaveSiteAsync(new Site(premises, "SW1A 1AA", "10", Tooling.Identities.Supplier.Id));
        await Store.Inventory.UpdateDeviceAsync(hubId, d => d with
        {
            Manufacturer = "AB01", Model = "CH01", FirmwareVersion = "0002012F", SmetsChtsVersion = "CHTS V1.2", Uprn = premises, Region = Core.Wan.WanRegion.North,
        }, change);
        var (_, inventory) = await SendTemplateForBodyAsync("8.2");
        var device = XDocument.Parse(inventory).Descendants(Sr + "Device").Single();
        Assert.Equal(
            ["DeviceID", "DeviceType", "DeviceStatus", "DeviceManufacturer", "DeviceModel", "SMETSCHTSVersion", "DeviceFirmwareVersion", "DateCommissioned", "UPRN", "PropertyFilter", "CSPRegion"],
            device.Elements().Select(e => e.Name.LocalName));
        Assert.Equal("SW1A 1AA", device.Element(Sr + "PropertyFilter")!.Element(Sr + "PostCode")!.Value);
        Assert.Equal("I0", await SendTemplateAsync("8.14.3"));
        Assert.Equal(SmiStatus.Withdrawn, (await Store.Inventory.FindDeviceAsync(hubId))!.Status);
        Assert.Equal("E5", await SendTemplateAsync("8.14.4"));
        Assert.Equal(
            [SmiStatus.Pending, SmiStatus.InstalledNotCommissioned, SmiStatus.Commissioned, SmiStatus.Withdrawn],
            (await Store.Inventory.StatusHistoryAsync(hubId)).Select(h => h.Status));
        Assert.All((await Store.Inventory.StatusHistoryAsync(hubId)).Skip(1), h => Assert.Equal(Tooling.Identities.Supplier.Id, h.User));

        // The meter is decommissioned; deleting it is refused (only a pending device may be deleted) until it is pending.
        Assert.Equal("I0", await SendTemplateAsync("8.3"));
        Assert.Equal(SmiStatus.Decommissioned, (await Store.Inventory.FindDeviceAsync(meter))!.Status);
        Assert.Equal("E5", await SendTemplateAsync("8.4"));
        await Store.Inventory.UpdateDeviceAsync(meter, d => d with { Status = SmiStatus.Pending }, change);
        Assert.Equal("I0", await SendTemplateAsync("8.4"));
        Assert.Null(await Store.Inventory.FindDeviceAsync(meter));
    }

    /// <summary>Signs the first template of an SRV with a fresh counter, sends it, checks the response with the tool and returns its code.</summary>
    private async Task<string> SendTemplateAsync(string serviceReferenceVariant) => (await SendTemplateForBodyAsync(serviceReferenceVariant)).Code;

    private async Task<(string Code, string Body)> SendTemplateForBodyAsync(string serviceReferenceVariant)
    {
        var template = Tooling.Templates.First(t => t.ServiceReferenceVariant == serviceReferenceVariant);
        var (status, body) = await PostAsync(PathFor(template.CommandVariant), await Tooling.SignAsync(template.Xml, preserveCounter: false));
        Assert.Equal(HttpStatusCode.OK, status);
        var validation = await Tooling.ValidateAsync(body);
        Assert.True(validation.Succeeded, validation.Reason);
        Assert.True((await Tooling.ParseManyAsync([body]))[0].Parsed);
        return (CodeOf(body), body);
    }

    private static bool ChangesInventory(string serviceReferenceVariant) => serviceReferenceVariant is "8.3" or "8.4" or "8.14.1" or "8.14.2" or "8.14.3" or "8.14.4";

    [Fact]
    public async Task The_rtds_disable_supply_goes_through_transform_and_a_signed_pre_command_the_tool_finds_schema_valid_and_the_meter_obeys()
    {
        await ProvisionAsync(includeOtherUser: false);
        using var signing = await IssueSupplierSigningCertificateAsync();
        var template = Tooling.Templates.First(t => t.ServiceReferenceVariant == "7.2" && t.CommandVariant == 4);
        var meter = template.RequestId.Target;

        var answer = await TransformSignAndSendAsync(template.Xml, "7.2", signing);

        var done = world.ReadAnswer(Convert.FromBase64String(XDocument.Parse(answer).Descendants(Sr + "GBCSPayload").Single().Value), meter, Eui64Defaults.Dsp);
        Assert.IsType<DeviceOutcome.Done>(done.Value);
        Assert.Equal(new DeviceOutcome.SupplyStatus(SupplyState.Disabled), world.Wan.Fleet[0].ElectricityMeter.Execute(new DeviceOperation.ReadSupplyStatus(), SystemClock.Instance.GetCurrentInstant()));
    }

    [Fact]
    public async Task The_rtds_han_device_log_and_commissioning_templates_whitelist_and_commission_the_meter_when_its_hub_and_it_confirm()
    {
        await ProvisionAsync(includeOtherUser: false);
        using var signing = await IssueSupplierSigningCertificateAsync();
        var add = Tooling.Templates.First(t => t.ServiceReferenceVariant == "8.11" && t.Xml.Contains("<sr:RequestType>Add</sr:RequestType>", StringComparison.Ordinal));
        var commission = Tooling.Templates.First(t => t.ServiceReferenceVariant == "8.1.1" && TypeOf(Tooling.RtdsDevices.Single(d => d.Id == t.RequestId.Target).Type) is DeviceType.ESME);
        var hubId = add.RequestId.Target;
        var meter = Eui64.Parse(XDocument.Parse(add.Xml).Descendants(Sr + "DeviceID").First().Value);
        Assert.Equal(meter, commission.RequestId.Target);
        var change = InventoryChange.ByOperator(SystemClock.Instance.GetCurrentInstant());
        await Store.Inventory.UpdateDeviceAsync(meter, d => d with { Status = SmiStatus.Pending }, change);

        // 8.11 to the comms hub: the meter goes on its device log and, once the hub confirms, is Whitelisted.
        Assert.Equal("I99", await CodeOfPostAsync("/api/v1/serviceS", await Tooling.SignAsync(add.Xml, preserveCounter: false)));
        var whitelisted = await ValidAnswerAsync();
        Assert.IsType<DeviceOutcome.Done>(world.ReadAnswer(Convert.FromBase64String(XDocument.Parse(whitelisted).Descendants(Sr + "GBCSPayload").Single().Value), hubId, Eui64Defaults.Dsp).Value);
        Assert.Equal(SmiStatus.Whitelisted, (await Store.Inventory.FindDeviceAsync(meter))!.Status);

        // Installed at a meter point, then 8.1.1 with the DCC's time now: the meter sets its clock and is Commissioned.
        var mpan = Mpan.Create(10, 1_000_000_001L);
        await Store.Inventory.UpdateDeviceAsync(meter, d => d with { Status = SmiStatus.InstalledNotCommissioned, Mpan = mpan }, change);
        await Task.Delay(1100); // the gateway's device cache keeps a device for up to a second
        var now = NodaTime.Text.InstantPattern.ExtendedIso.Format(SystemClock.Instance.GetCurrentInstant());
        var xml = System.Text.RegularExpressions.Regex.Replace(commission.Xml, "<sr:CurrentDateTime>[^<]*</sr:CurrentDateTime>", $"<sr:CurrentDateTime>{now}</sr:CurrentDateTime>");
        var dccAlerts = new List<string>();
        var answer = await TransformSignAndSendAsync(xml, "8.1.1", signing, dccAlerts);

        Assert.IsType<DeviceOutcome.Done>(world.ReadAnswer(Convert.FromBase64String(XDocument.Parse(answer).Descendants(Sr + "GBCSPayload").Single().Value), meter, Eui64Defaults.Dsp).Value);
        Assert.Equal(SmiStatus.Commissioned, (await Store.Inventory.FindDeviceAsync(meter))!.Status);
        Assert.Equal(
            [(SmiStatus.Whitelisted, "8.11"), (SmiStatus.Commissioned, "8.1.1")],
            (await Store.Inventory.StatusHistoryAsync(meter)).Where(h => h.User == Tooling.Identities.Supplier.Id).Select(h => (h.Status, h.ServiceReferenceVariant!)));
        // The DCC alert of the commissioning, to the registered supplier: schema-valid and DSP-signed as the tool checks, read by duis-parser.
        if (dccAlerts.Count == 0)
        {
            var alert = await receiver.NextAsync(TimeSpan.FromSeconds(20));
            var validation = await Tooling.ValidateAsync(alert);
            Assert.True(validation.Succeeded, validation.Reason);
            Assert.All(await Tooling.ParseManyAsync([alert]), p => Assert.True(p.Parsed, p.Detail));
            dccAlerts.Add(alert);
        }
        var dccAlert = XDocument.Parse(Assert.Single(dccAlerts));
        Assert.Equal(Tooling.Identities.Supplier.Id, RequestId.Parse(dccAlert.Descendants(Sr + "ResponseID").Single().Value).Target);
        Assert.Equal(DccAlertCodes.MeterCommissioned, dccAlert.Descendants(Sr + "DCCAlertCode").Single().Value);
        Assert.Equal(mpan.ToString(), dccAlert.Descendants(Sr + "DeviceStatusChangeEvent").Single().Descendants(Sr + "ImportMPxN").Single().Value);
    }

    /// <summary>
    /// The ZAZ1 supplier's own Digital Signing certificate (Z1-supplier-ds) expired in October 2025, so the supplier
    /// gets a fresh one from a local CA; its meters hold it as their supplier trust anchor.
    /// </summary>
    private async Task<System.Security.Cryptography.X509Certificates.X509Certificate2> IssueSupplierSigningCertificateAsync()
    {
        var supplier = Tooling.Identities.Supplier.Id;
        using var ca = CertificateAuthority.Create("Interop OCA", SystemClock.Instance, Duration.FromDays(30));
        var signing = ca.Issue(supplier, RemotePartyRole.Supplier, "ZAZ1 Supplier", SystemClock.Instance, Duration.FromDays(30));
        await Store.Parties.AddCertificateAsync(OrganisationCertificate.FromX509(signing));
        world.Registrations.FleetRegistration = new MeterPointRegistration(null, null, supplier, Tooling.Identities.NetworkOperator.Id);
        Assert.Equal(1, await world.PlaceSupplierTrustAnchorsAsync(Store.Parties, SystemClock.Instance.GetCurrentInstant()));
        return signing;
    }

    /// <summary>
    /// A critical template's Transform (CV 4, signed by the tool), the pre-command signed with the supplier's Digital
    /// Signing key and sent back as a tool-signed Signed Pre-Command (CV 5): every message the tool finds valid; the
    /// device's asynchronous I0.
    /// </summary>
    private async Task<string> TransformSignAndSendAsync(string templateXml, string serviceReferenceVariant, System.Security.Cryptography.X509Certificates.X509Certificate2 signing, List<string>? dccAlerts = null)
    {
        var supplier = Tooling.Identities.Supplier.Id;
        var target = RtdsTemplate.Parse("x", templateXml).RequestId.Target;
        var (status, transformed) = await PostAsync("/api/v1/serviceT", await Tooling.SignAsync(Retarget(templateXml, supplier, target), preserveCounter: true));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.True((await Tooling.ValidateAsync(transformed)).Succeeded);
        Assert.Equal("I0", CodeOf(transformed));
        var preCommand = Convert.FromBase64String(XDocument.Parse(transformed).Descendants(Sr + "PreCommand").Single().Element(Sr + "GBCSPayload")!.Value);

        using var key = signing.GetECDsaPrivateKey()!;
        var signedPreCommand = Encoding.UTF8.GetString(DuisRequestWriter.WriteSignedPreCommand(new RequestId(supplier, target, Tooling.NextCounter()), ServiceCatalogue.Duis[serviceReferenceVariant], GbcsCodec.SignPreCommand(preCommand, key)));
        var request = await Tooling.SignAsync(signedPreCommand, preserveCounter: true);
        var requestValidation = await Tooling.ValidateAsync(request);
        Assert.True(requestValidation.Succeeded, requestValidation.Reason);
        Assert.Equal("I99", await CodeOfPostAsync("/api/v1/serviceS", request));
        return await ValidAnswerAsync(dccAlerts);
    }

    /// <summary>The next asynchronous response: schema-valid and DSP-signed as the tool checks, read by duis-parser, I0.</summary>
    /// <param name="dccAlerts">Where DCC alerts that arrive first (each checked the same way) are put; null: none expected.</param>
    private async Task<string> ValidAnswerAsync(List<string>? dccAlerts = null)
    {
        while (true)
        {
            var answer = await receiver.NextAsync(TimeSpan.FromSeconds(20));
            var answerValidation = await Tooling.ValidateAsync(answer);
            Assert.True(answerValidation.Succeeded, answerValidation.Reason);
            Assert.All(await Tooling.ParseManyAsync([answer]), p => Assert.True(p.Parsed, p.Detail));
            Assert.Equal("I0", CodeOf(answer));
            if (dccAlerts is not null && XDocument.Parse(answer).Descendants(Sr + "DCCAlertMessage").Any())
            {
                dccAlerts.Add(answer);
                continue;
            }
            return answer;
        }
    }

    private async Task<string> SendSignedAsync(string path, string unsignedXml) =>
        await CodeOfPostAsync(path, await Tooling.SignAsync(unsignedXml, preserveCounter: true));

    private async Task<string> CodeOfPostAsync(string path, string signedXml)
    {
        var (status, body) = await PostAsync(path, signedXml);
        Assert.Equal(HttpStatusCode.OK, status);
        var validation = await Tooling.ValidateAsync(body);
        Assert.True(validation.Succeeded, validation.Reason);
        return CodeOf(body);
    }

    private string Retarget(string xml, Eui64 originator, Eui64 target) =>
        DccTooling.WithCounter(
            xml.Replace(RtdsTemplate.Parse("x", xml).RequestId.ToString(), $"{originator}:{target}:1", StringComparison.Ordinal),
            Tooling.NextCounter());

    private async Task<(HttpStatusCode Status, string Body)> PostAsync(string path, string xml)
    {
        using var content = new StringContent(xml, Encoding.UTF8, "application/xml");
        using var response = await http.PostAsync(new Uri(path, UriKind.Relative), content);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private DccUserRole RolesOf(Eui64 originator) =>
        originator == Tooling.Identities.Supplier.Id ? DccUserRole.ImportSupplier | DccUserRole.ExportSupplier | DccUserRole.GasSupplier
        : originator == Tooling.Identities.NetworkOperator.Id ? DccUserRole.ElectricityDistributor | DccUserRole.GasTransporter
        : DccUserRole.OtherUser | DccUserRole.RegisteredSupplierAgent;

    private static string PathFor(int commandVariant) =>
        CommandVariant.TryGet(commandVariant, out var cv) ? CommandVariant.PathOf(cv.Endpoint) : "/api/v1/serviceS";

    private static string CodeOf(string responseXml) => XDocument.Parse(responseXml).Descendants(Sr + "ResponseCode").Single().Value;

    private static ulong CounterOf(string xml) => RtdsTemplate.Parse("x", xml).RequestId.Counter;

    /// <summary>The harness's best guess from the SRVs a device receives; the two it cannot place are taken as HCALCS.</summary>
    private static DeviceType TypeOf(RtdsDeviceType type) => type switch
    {
        RtdsDeviceType.Esme => DeviceType.ESME,
        RtdsDeviceType.Gsme => DeviceType.GSME,
        RtdsDeviceType.Gpf => DeviceType.GPF,
        RtdsDeviceType.Chf => DeviceType.CHF,
        RtdsDeviceType.Ppmid => DeviceType.PPMID,
        _ => DeviceType.HCALCS,
    };

    private static int FreePort() => LoopbackPorts.Free();

    public async Task DisposeAsync()
    {
        http.Dispose();
        await hub.StopAsync();
        await hub.DisposeAsync();
        await receiver.DisposeAsync();
        world.Dispose();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(dataDirectory, recursive: true);
    }
}
