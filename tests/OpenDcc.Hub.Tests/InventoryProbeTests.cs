using System.Net;
using System.Text;
using System.Xml.Linq;
using NodaTime;
using OpenDcc.Core.Duis;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Inventory;
using OpenDcc.Core.Security;
using static OpenDcc.Hub.Tests.TestHub;

namespace OpenDcc.Hub.Tests;

/// <summary>
/// Hostile and racing inventory requests (12.2, 8.2, 8.3, 8.4) on serviceD: each gets its DUIS code, logged with its
/// response, never a 500, and the inventory is left as the log says.
/// </summary>
public sealed class InventoryProbeTests(Xunit.Abstractions.ITestOutputHelper output) : IAsyncLifetime
{
    private const string NonDevice = "/api/v1/serviceD";
    private static readonly XNamespace Sr = "http://www.dccinterface.co.uk/ServiceUserGateway";
    private static readonly Eui64 NewMeter = Eui64.Parse("00-DB-12-34-56-78-92-10");
    private static readonly Uprn Premises = Uprn.Parse("100023336956");
    private static readonly Mpan MeterPoint = Mpan.Create(12, 1);
    private const string Approved = "<sr:DeviceManufacturer>AB01</sr:DeviceManufacturer><sr:DeviceModel>020B</sr:DeviceModel>";
    private TestHub hub = null!;

    public async Task InitializeAsync()
    {
        hub = await StartAsync(approvedModels: [new ApprovedModel("AB01", "020B")]);
        await hub.Store.Inventory.SaveSiteAsync(new Site(Premises, "SW1A 1AA", "10", Supplier));
        await hub.Store.Inventory.UpdateDeviceAsync(Meter, d => d with { Uprn = Premises, Mpan = MeterPoint, CommsHub = CommsHub }, Change());
    }

    public async Task DisposeAsync() => await hub.DisposeAsync();

    private static InventoryChange Change() => InventoryChange.ByOperator(SystemClock.Instance.GetCurrentInstant());

    [Fact]
    public async Task A_hostile_pre_notification_gets_its_code_logged_with_the_response_and_adds_nothing()
    {
        foreach (var (body, expected) in new (string, string)[]
        {
            ("", "E41"),
            ("<sr:DeviceID>00-DB-12-34-56-78-92-10</sr:DeviceID><sr:DeviceID>00-DB-12-34-56-78-92-11</sr:DeviceID>" + Approved + "<sr:DeviceType>ESME</sr:DeviceType>", "E41"),
            ("<sr:DeviceID>٠٠-DB-12-34-56-78-92-10</sr:DeviceID>" + Approved + "<sr:DeviceType>ESME</sr:DeviceType>", "E41"),
            ("<sr:DeviceID>００-DB-12-34-56-78-92-10</sr:DeviceID>" + Approved + "<sr:DeviceType>ESME</sr:DeviceType>", "E41"),
            ("<sr:DeviceID>00-DB-12-34-56-78-92-10</sr:DeviceID>" + Approved + "<sr:DeviceType>esme</sr:DeviceType>", "E41"),
            ("<sr:DeviceID>00-DB-12-34-56-78-92-10</sr:DeviceID>" + Approved + "<sr:DeviceType>Meter</sr:DeviceType>", "E41"),
            ("<sr:DeviceID>00-DB-12-34-56-78-92-10</sr:DeviceID>" + Approved + "<sr:DeviceType>ESME</sr:DeviceType><sr:DeviceType>GSME</sr:DeviceType>", "E41"),
            ("<sr:DeviceID>00-DB-12-34-56-78-92-10</sr:DeviceID>" + Approved, "E41"),
            ("<sr:DeviceID>00-DB-12-34-56-78-92-10</sr:DeviceID><sr:DeviceManufacturer>AB01</sr:DeviceManufacturer><sr:DeviceModel>9999</sr:DeviceModel><sr:DeviceType>ESME</sr:DeviceType>", "E120201"),
            ("<sr:DeviceID>00-DB-12-34-56-78-92-10</sr:DeviceID><sr:DeviceManufacturer>ZZ99</sr:DeviceManufacturer><sr:DeviceModel>020B</sr:DeviceModel><sr:DeviceType>ESME</sr:DeviceType>", "E120201"),
            ("<sr:DeviceID>00-DB-12-34-56-78-92-10</sr:DeviceID><sr:DeviceManufacturer>AB01AB01AB01AB01AB01AB01AB01AB0</sr:DeviceManufacturer><sr:DeviceModel>020B</sr:DeviceModel><sr:DeviceType>ESME</sr:DeviceType>", "E41"),
            ("<sr:DeviceID>00-DB-12-34-56-78-92-10</sr:DeviceID>" + Approved + "<sr:DeviceType>ESME</sr:DeviceType><sr:FirmwareVersion>123456789</sr:FirmwareVersion>", "E41"),
            ("<sr:DeviceID>00-DB-12-34-56-78-92-10</sr:DeviceID>" + Approved + "<sr:DeviceType>ESME</sr:DeviceType><sr:SMETSCHTSVersion>a\tb</sr:SMETSCHTSVersion>", "E41"),
            ("<sr:DeviceID>00-DB-12-34-56-78-92-10</sr:DeviceID>" + Approved + "<sr:DeviceType>GSME</sr:DeviceType><sr:AssociatedGPFDeviceID>00-DB-12-34-56-78-92-10</sr:AssociatedGPFDeviceID>", "E19"),
            ("<sr:DeviceID>00-DB-12-34-56-78-92-10</sr:DeviceID>" + Approved + "<sr:DeviceType>GSME</sr:DeviceType><sr:AssociatedGPFDeviceID>00-DB-12-34-56-78-90-A1</sr:AssociatedGPFDeviceID>", "E11"),
        })
        {
            var before = await hub.Store.Inventory.ListDevicesAsync();

            var (status, code) = await PostAsync("12.2", body);

            Assert.Equal((body, HttpStatusCode.OK, expected), (body, status, code));
            Assert.Equal(before, await hub.Store.Inventory.ListDevicesAsync());
        }
    }

    [Fact]
    public async Task A_very_long_value_is_refused_E41_and_adds_nothing()
    {
        var (status, code) = await PostAsync("12.2", $"<sr:DeviceID>{NewMeter}</sr:DeviceID>{Approved}<sr:DeviceType>ESME</sr:DeviceType><sr:FirmwareVersion>{new string('7', 200_000)}</sr:FirmwareVersion>");

        Assert.Equal((HttpStatusCode.OK, "E41"), (status, code));
        Assert.Null(await hub.Store.Inventory.FindDeviceAsync(NewMeter));
    }

    [Fact]
    public async Task A_device_pre_notified_twice_is_added_once_and_a_notice_of_another_type_is_refused_E11()
    {
        Assert.Equal("I0", (await PostAsync("12.2", $"<sr:DeviceID>{NewMeter}</sr:DeviceID>{Approved}<sr:DeviceType>ESME</sr:DeviceType>")).Code);
        // As README documents: a known device is left as it is; the log says so.
        Assert.Equal("I0", (await PostAsync("12.2", $"<sr:DeviceID>{NewMeter}</sr:DeviceID>{Approved}<sr:DeviceType>ESME</sr:DeviceType>")).Code);
        Assert.Equal("E11", (await PostAsync("12.2", $"<sr:DeviceID>{NewMeter}</sr:DeviceID>{Approved}<sr:DeviceType>GSME</sr:DeviceType>")).Code);

        Assert.Equal(DeviceType.ESME, (await hub.Store.Inventory.FindDeviceAsync(NewMeter))!.Type);
        Assert.Single(await hub.Store.Inventory.StatusHistoryAsync(NewMeter));
        var outcomes = await InboundOutcomesAsync("12.2");
        Assert.Single(outcomes, o => o.StartsWith($"I0 device {NewMeter} pre-notified as", StringComparison.Ordinal));
        Assert.Single(outcomes, o => o.StartsWith($"I0 device {NewMeter} was pre-notified already", StringComparison.Ordinal));
        Assert.Single(outcomes, o => o.StartsWith($"E11 device {NewMeter} is in the inventory as an ESME, not a GSME", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_malformed_mpan_is_refused_E41_and_the_meter_keeps_its_own()
    {
        foreach (var mpxn in new[]
        {
            "<sr:ImportMPxN>1200000000016</sr:ImportMPxN>", // wrong check digit
            "<sr:ImportMPxN>١٢٠٠٠٠٠٠٠٠٠١٥</sr:ImportMPxN>", // Arabic-Indic digits
            "<sr:ImportMPxN>１２００００００００１５</sr:ImportMPxN>", // full-width digits
            "<sr:ImportMPxN>12000000000150</sr:ImportMPxN>",
            "<sr:ImportMPxN>0000000000000</sr:ImportMPxN>",
            "<sr:ImportMPxN>-120000000001</sr:ImportMPxN>",
            "<sr:ImportMPxN>1.2E12</sr:ImportMPxN>",
            "<sr:ImportMPxN>1200000000015</sr:ImportMPxN><sr:ImportMPxN>1200000000015</sr:ImportMPxN>",
            "<sr:ExportMPAN>1200000000016</sr:ExportMPAN>",
            "<sr:SecondaryImportMPAN>١٢٠٠٠٠٠٠٠٠٠١٥</sr:SecondaryImportMPAN>",
        })
        {
            var before = await hub.Store.Inventory.FindDeviceAsync(Meter);

            var (status, code) = await PostAsync("8.4", $"<sr:DeviceID>{Meter}</sr:DeviceID><sr:UpdateMPxN>{mpxn}</sr:UpdateMPxN>");

            Assert.Equal((mpxn, HttpStatusCode.OK, "E41"), (mpxn, status, code));
            Assert.Equal(before, await hub.Store.Inventory.FindDeviceAsync(Meter));
        }
    }

    [Fact]
    public async Task A_malformed_mprn_is_refused_E41_and_the_gas_meter_keeps_its_own()
    {
        foreach (var mpxn in new[]
        {
            "<sr:ImportMPxN>12345</sr:ImportMPxN>",
            "<sr:ImportMPxN>12345678901</sr:ImportMPxN>",
            "<sr:ImportMPxN>١٢٣٤٥٦٧٨٩٠</sr:ImportMPxN>",
            "<sr:ImportMPxN>12345 6789</sr:ImportMPxN>",
        })
        {
            var before = await hub.Store.Inventory.FindDeviceAsync(GasMeter);

            var (status, code) = await PostAsync("8.4", $"<sr:DeviceID>{GasMeter}</sr:DeviceID><sr:UpdateMPxN>{mpxn}</sr:UpdateMPxN>");

            Assert.Equal((mpxn, HttpStatusCode.OK, "E41"), (mpxn, status, code));
            Assert.Equal(before, await hub.Store.Inventory.FindDeviceAsync(GasMeter));
        }
    }

    [Fact]
    public async Task A_hostile_read_inventory_selector_gets_its_code()
    {
        foreach (var (selector, expected) in new (string, string)[]
        {
            ("<sr:UPRN>١٠٠٠٢٣٣٣٦٩٥٦</sr:UPRN>", "E41"),
            ("<sr:UPRN>0</sr:UPRN>", "E41"),
            ("<sr:UPRN>1000233369560</sr:UPRN>", "E41"),
            ("<sr:UPRN>100023336956</sr:UPRN><sr:UPRN>100023336956</sr:UPRN>", "E41"),
            ("<sr:UPRN>  100023336956 </sr:UPRN>", "I0"),
            ("<sr:MPxN>١٢٠٠٠٠٠٠٠٠٠١٥</sr:MPxN>", "E41"),
            ("<sr:MPxN>1200000000016</sr:MPxN>", "E41"),
            ("<sr:MPxN>12 0000 0000 015</sr:MPxN>", "E41"),
            ("<sr:MPxN></sr:MPxN>", "E41"),
            ("<sr:DeviceID></sr:DeviceID>", "E41"),
            ("<sr:DeviceID>00-db-12-34-56-78-90-a0</sr:DeviceID>", "I0"),
            ("<sr:UPRN>100023336956</sr:UPRN><sr:MPxN>1200000000015</sr:MPxN>", "E41"),
            ("<sr:PropertyFilter><sr:PostCode>SW1A 1AA</sr:PostCode></sr:PropertyFilter>", "E41"),
            ("<sr:PropertyFilter><sr:PostCode>ＳＷ１Ａ １ＡＡ</sr:PostCode><sr:AddressIdentifier>10</sr:AddressIdentifier></sr:PropertyFilter>", "E41"),
        })
        {
            var answer = await PostAsync("8.2", selector);
            Assert.Equal((selector, HttpStatusCode.OK, expected), (selector, answer.Status, answer.Code));
        }
    }

    [Fact]
    public async Task Read_inventory_answers_what_the_inventory_holds_field_by_field()
    {
        await hub.Store.Inventory.UpdateDeviceAsync(Meter, d => d with { SecondaryImportMpan = Mpan.Parse("1312345678224"), ExportMpan = Mpan.Parse("1312345678330"), SmetsChtsVersion = "V4.2", FirmwareVersion = "0000000A" }, Change());
        var stored = (await hub.Store.Inventory.FindDeviceAsync(Meter))!;
        var commissioned = (await hub.Store.Inventory.StatusHistoryAsync(Meter)).FirstOrDefault(h => h.Status == SmiStatus.Commissioned);

        var (code, response) = await SendAsync("8.2", $"<sr:DeviceID>{Meter}</sr:DeviceID>");

        Assert.Equal("I0", code);
        var shown = Assert.Single(response.Descendants(Sr + "Device"));
        string? Field(string name) => shown.Element(Sr + name)?.Value;
        Assert.Equal(stored.Id.ToString(), Field("DeviceID"));
        Assert.Equal(stored.Type.ToString(), Field("DeviceType"));
        Assert.Equal(stored.Status.ToString(), Field("DeviceStatus"));
        Assert.Equal(stored.Manufacturer ?? "Unknown", Field("DeviceManufacturer"));
        Assert.Equal(stored.Model ?? "Unknown", Field("DeviceModel"));
        Assert.Equal(stored.SmetsChtsVersion, Field("SMETSCHTSVersion"));
        Assert.Equal(stored.FirmwareVersion, Field("DeviceFirmwareVersion"));
        Assert.Equal(stored.Mpan?.ToString(), Field("ImportMPxN"));
        Assert.Equal(stored.SecondaryImportMpan?.ToString(), Field("SecondaryImportMPAN"));
        Assert.Equal(stored.ExportMpan?.ToString(), Field("ExportMPAN"));
        Assert.Equal(stored.Uprn?.ToString(), Field("UPRN"));
        Assert.Equal(stored.Region?.ToString(), Field("CSPRegion"));
        Assert.Equal(commissioned?.Since.InZone(DateTimeZoneProviders.Tzdb["Europe/London"]).Date.ToString("uuuu-MM-dd", null), Field("DateCommissioned"));
        Assert.Equal("SW1A 1AA", shown.Element(Sr + "PropertyFilter")?.Element(Sr + "PostCode")?.Value);
    }

    [Fact]
    public async Task A_non_device_request_addressed_to_a_device_not_the_dcc_is_refused_E41_logged_and_changes_nothing()
    {
        var counter = hub.NextCounter();
        var (status, code) = await PostRawAsync(Request(Supplier, Meter, counter, 8, "8.4", $"<sr:DeviceID>{Meter}</sr:DeviceID><sr:UpdateDeviceStatusExceptCH>Pending</sr:UpdateDeviceStatusExceptCH>"));

        Assert.Equal((HttpStatusCode.OK, "E41"), (status, code));
        Assert.Equal(SmiStatus.Commissioned, (await hub.Store.Inventory.FindDeviceAsync(Meter))!.Status);
        var logged = await hub.Store.MessageLog.ReadCorrelatedAsync(new RequestId(Supplier, Meter, counter).ToString(), 1, long.MaxValue).ToListAsync();
        Assert.Equal([(MessageDirection.Inbound, "E41"), (MessageDirection.Outbound, "E41")], logged.Select(e => (e.Record.Direction, e.Record.Outcome[..3])));
    }

    [Fact]
    public async Task Many_pre_notifications_of_one_device_at_once_add_it_once_and_the_log_says_which()
    {
        var answers = await AtOnceAsync(Enumerable.Range(0, 16).Select(_ => ("12.2", $"<sr:DeviceID>{NewMeter}</sr:DeviceID>{Approved}<sr:DeviceType>ESME</sr:DeviceType>")));

        Assert.All(answers, a => Assert.Contains(a, new[] { (HttpStatusCode.OK, "I0"), (HttpStatusCode.OK, Replay) }));
        Assert.Single(await hub.Store.Inventory.StatusHistoryAsync(NewMeter));
        var outcomes = await InboundOutcomesAsync("12.2");
        Assert.Equal(16, outcomes.Count);
        Assert.Equal(answers.Count(a => a.Code == "I0"), outcomes.Count(o => o.StartsWith("I0", StringComparison.Ordinal)));
        Assert.Single(outcomes, o => o.StartsWith($"I0 device {NewMeter} pre-notified as", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Many_deletions_of_one_pending_device_at_once_delete_it_once_and_the_others_are_told_E19()
    {
        await hub.Store.Inventory.AddDevicesAsync([new Device(NewMeter, DeviceType.ESME, SmiStatus.Pending)], Change());

        var answers = await AtOnceAsync(Enumerable.Range(0, 16).Select(_ => ("8.4", $"<sr:DeviceID>{NewMeter}</sr:DeviceID><sr:DeleteDevice/>")));

        Assert.All(answers, a => Assert.Contains(a, new[] { (HttpStatusCode.OK, "I0"), (HttpStatusCode.OK, "E19"), (HttpStatusCode.OK, Replay) }));
        Assert.Single(answers, a => a.Code == "I0");
        Assert.Null(await hub.Store.Inventory.FindDeviceAsync(NewMeter));
        Assert.Single(await InboundOutcomesAsync("8.4"), o => o.StartsWith("I0", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Many_meters_given_one_mpan_at_once_leave_exactly_one_serving_it()
    {
        var taken = Mpan.Parse("1312345678118");
        var meters = Enumerable.Range(0, 12).Select(i => Eui64.Parse($"00-DB-12-34-56-78-93-{i:X2}")).ToList();
        await hub.Store.Inventory.AddDevicesAsync([.. meters.Select(m => new Device(m, DeviceType.ESME, SmiStatus.Commissioned))], Change());

        var answers = await AtOnceAsync(meters.Select(m => ("8.4", $"<sr:DeviceID>{m}</sr:DeviceID><sr:UpdateMPxN><sr:ImportMPxN>{taken}</sr:ImportMPxN></sr:UpdateMPxN>")));

        Assert.All(answers, a => Assert.Contains(a, new[] { (HttpStatusCode.OK, "I0"), (HttpStatusCode.OK, "E41"), (HttpStatusCode.OK, Replay) }));
        Assert.Single(answers, a => a.Code == "I0");
        var serving = Assert.Single(await hub.Store.Inventory.FindDevicesServingAsync([taken]));
        Assert.Single(await InboundOutcomesAsync("8.4"), o => o == $"I0 device {serving.Id} serves {taken}");
    }

    [Fact]
    public async Task Many_detail_changes_of_one_device_at_once_are_each_made_or_refused_and_the_last_logged_is_what_it_holds()
    {
        var answers = await AtOnceAsync(Enumerable.Range(0, 12).Select(i => ("8.4", $"<sr:DeviceID>{Meter}</sr:DeviceID><sr:UpdateDeviceDetails><sr:FirmwareVersion>{i:D8}</sr:FirmwareVersion></sr:UpdateDeviceDetails>")));

        Assert.All(answers, a => Assert.True(a is (HttpStatusCode.OK, "I0" or Replay) or (HttpStatusCode.ServiceUnavailable, _), $"{a.Status} {a.Code}"));
        var made = await hub.Store.MessageLog.ReadAsync()
            .Where(e => e.Record.Direction == MessageDirection.Inbound && e.Record.Outcome.StartsWith($"I0 device {Meter} details updated", StringComparison.Ordinal))
            .ToListAsync();
        Assert.Equal(answers.Count(a => a.Code == "I0"), made.Count);
        var last = XDocument.Parse(Encoding.UTF8.GetString(made[^1].Record.Payload.ToArray())).Descendants(Sr + "FirmwareVersion").Single().Value;
        Assert.Equal(last, (await hub.Store.Inventory.FindDeviceAsync(Meter))!.FirmwareVersion);
    }

    [Fact]
    public async Task Firmware_distribution_to_a_device_the_inventory_does_not_hold_or_holds_pending_is_refused_and_sends_nothing()
    {
        await hub.Store.Inventory.AddDevicesAsync([new Device(NewMeter, DeviceType.ESME, SmiStatus.Pending)], Change());

        foreach (var (list, expected) in new (string, string)[]
        {
            ("00-DB-12-34-56-78-90-FF", "E19"),
            ("00-DB-12-34-56-78-90-A0,00-DB-12-34-56-78-90-FF", "E19"),
            ("٠٠-DB-12-34-56-78-90-A0", "E41"),
            ("00-DB-12-34-56-78-90-A0,", "E41"),
            ("00-DB-12-34-56-78-92-10", "E5"),
        })
        {

            var (status, code) = await PostAsync("11.1", $"<sr:FirmwareImage>AAAA</sr:FirmwareImage><sr:FirmwareVersion>2.0.0</sr:FirmwareVersion><sr:DeviceIDList>{list}</sr:DeviceIDList>");

            Assert.Equal((list, HttpStatusCode.OK, expected), (list, status, code));
            Assert.DoesNotContain(await hub.Store.MessageLog.ReadAsync().Select(e => e.Record.Outcome).ToListAsync(), o => o.StartsWith("I99", StringComparison.Ordinal));
        }
    }

    /// <summary>The replay refusal: the hub's one user sends its counters in order, and a request overtaken on its way is refused so.</summary>
    private const string Replay = "E43";

    /// <summary>
    /// Requests from the one user, each started a millisecond after the one before (counters in order) without waiting
    /// for its answer: they overlap in the gateway's checks and the log's commits. One that overtakes another on its way
    /// in is refused <see cref="Replay"/>, as it should be.
    /// </summary>
    private async Task<(HttpStatusCode Status, string Code)[]> AtOnceAsync(IEnumerable<(string Srv, string Body)> requests)
    {
        var sent = new List<Task<(HttpStatusCode, string)>>();
        foreach (var (srv, body) in requests)
        {
            sent.Add(PostAsync(srv, body));
            await Task.Delay(1);
        }
        var answers = await Task.WhenAll(sent);
        output.WriteLine(string.Join(", ", answers.GroupBy(a => $"{(int)a.Item1} {a.Item2}").Select(g => $"{g.Key} x{g.Count()}")));
        return answers;
    }

    private async Task<List<string>> InboundOutcomesAsync(string srv) =>
        await hub.Store.MessageLog.ReadAsync()
            .Where(e => e.Record.Direction == MessageDirection.Inbound && e.Record.Payload.Length > 0 && XDocument.Parse(Encoding.UTF8.GetString(e.Record.Payload.ToArray())).Descendants(Sr + "ServiceReferenceVariant").SingleOrDefault()?.Value == srv)
            .Select(e => e.Record.Outcome)
            .ToListAsync();

    private Task<(HttpStatusCode Status, string Code)> PostAsync(string srv, string body) =>
        PostRawAsync(Request(Supplier, Dsp, hub.NextCounter(), 8, srv, body));

    /// <summary>Signs and posts; the response code, checked to be logged with the request under its RequestID (none for a 503).</summary>
    private async Task<(HttpStatusCode Status, string Code)> PostRawAsync(string xml)
    {
        var requestId = XDocument.Parse(xml).Descendants().First(e => e.Name.LocalName == "RequestID").Value;
        var (status, _, body) = await hub.PostAsync(NonDevice, hub.Sign(xml, Supplier));
        if (status != HttpStatusCode.OK)
        {
            return (status, body);
        }
        var code = await hub.CheckSignedResponseAsync(body);
        var logged = await hub.Store.MessageLog.ReadCorrelatedAsync(requestId, 1, long.MaxValue).ToListAsync();
        Assert.Equal(2, logged.Count);
        Assert.StartsWith(code + " ", logged[0].Record.Outcome, StringComparison.Ordinal);
        Assert.Equal(code, logged[1].Record.Outcome);
        return (status, code);
    }

    private Task<(string Code, XDocument Response)> SendAsync(string srv, string body) =>
        hub.SendAsync(NonDevice, Request(Supplier, Dsp, hub.NextCounter(), 8, srv, body));
}
