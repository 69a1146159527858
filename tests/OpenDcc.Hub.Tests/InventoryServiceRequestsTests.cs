using System.Xml.Linq;
using NodaTime;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Inventory;
using static OpenDcc.Hub.Tests.TestHub;

namespace OpenDcc.Hub.Tests;

/// <summary>The inventory's service requests end to end through the hub: 12.2, 8.2, 8.3, 8.4 and 8.14.x.</summary>
public sealed class InventoryServiceRequestsTests : IAsyncLifetime
{
    private const string SendCommand = "/api/v1/serviceS";
    private const string NonDevice = "/api/v1/serviceD";
    private static readonly XNamespace Sr = "http://www.dccinterface.co.uk/ServiceUserGateway";
    private static readonly Eui64 NewGasMeter = Eui64.Parse("00-DB-12-34-56-78-91-10");
    private static readonly Eui64 Gpf = Eui64.Parse("00-DB-12-34-56-78-91-11");
    private static readonly Eui64 Ppmid = Eui64.Parse("00-DB-12-34-56-78-91-12");
    private static readonly Uprn Premises = Uprn.Parse("100023336956");
    private static readonly Mpan MeterPoint = Mpan.Create(12, 1);
    private TestHub hub = null!;

    public async Task InitializeAsync()
    {
        hub = await StartAsync(approvedModels: [new ApprovedModel("AB01", "010A030B"), new ApprovedModel("AB01", "020B")]);
        // The test meter and comms hub at one site, with a PPMID joined to the meter and a GPF on the hub.
        await hub.Store.Inventory.SaveSiteAsync(new Site(Premises, "SW1A 1AA", "10", Supplier));
        var change = InventoryChange.ByOperator(SystemClock.Instance.GetCurrentInstant());
        await hub.Store.Inventory.UpdateDeviceAsync(Meter, d => d with { Uprn = Premises, Mpan = MeterPoint, CommsHub = CommsHub }, change);
        await hub.Store.Inventory.UpdateDeviceAsync(CommsHub, d => d with { Uprn = Premises, CommsHub = CommsHub }, change);
        await hub.Store.Inventory.AddDevicesAsync(
            [new Device(Gpf, DeviceType.GPF, SmiStatus.Commissioned) { CommsHub = CommsHub, Uprn = Premises }, new Device(Ppmid, DeviceType.PPMID, SmiStatus.Commissioned) { Uprn = Premises }], change);
        await hub.Store.Inventory.JoinAsync(Meter, Ppmid);
    }

    public async Task DisposeAsync() => await hub.DisposeAsync();

    [Fact]
    public async Task A_gas_meter_pre_notified_again_with_its_gpf_is_paired_with_it_once_and_not_with_a_second_gpf()
    {
        var notice = $"<sr:DeviceID>{NewGasMeter}</sr:DeviceID><sr:DeviceManufacturer>AB01</sr:DeviceManufacturer><sr:DeviceModel>020B</sr:DeviceModel><sr:DeviceType>GSME</sr:DeviceType>";
        Assert.Equal("I0", (await SendAsync("12.2", notice)).Code);
        var stored = await hub.Store.Inventory.FindDeviceAsync(NewGasMeter);
        Assert.Empty(await hub.Store.Inventory.FindJoinedAsync(NewGasMeter));

        Assert.Equal("I0", (await SendAsync("12.2", notice + $"<sr:AssociatedGPFDeviceID>{Gpf}</sr:AssociatedGPFDeviceID>")).Code);
        Assert.Equal([Gpf], await hub.Store.Inventory.FindJoinedAsync(NewGasMeter));
        Assert.Equal("I0", (await SendAsync("12.2", notice + $"<sr:AssociatedGPFDeviceID>{Gpf}</sr:AssociatedGPFDeviceID>")).Code);

        var otherGpf = Eui64.Parse("00-DB-12-34-56-78-91-30");
        await hub.Store.Inventory.AddDevicesAsync([new Device(otherGpf, DeviceType.GPF, SmiStatus.Commissioned)], InventoryChange.ByOperator(SystemClock.Instance.GetCurrentInstant()));
        Assert.Equal("E41", (await SendAsync("12.2", notice + $"<sr:AssociatedGPFDeviceID>{otherGpf}</sr:AssociatedGPFDeviceID>")).Code);

        Assert.Equal([Gpf], await hub.Store.Inventory.FindJoinedAsync(NewGasMeter));
        Assert.Equal(stored, await hub.Store.Inventory.FindDeviceAsync(NewGasMeter));
        Assert.Single(await hub.Store.Inventory.StatusHistoryAsync(NewGasMeter));
        var logged = await hub.Store.MessageLog.ReadAsync().ToListAsync();
        Assert.Contains(logged, e => e.Record.Outcome.StartsWith($"I0 device {NewGasMeter} was pre-notified already; paired with GPF {Gpf} now", StringComparison.Ordinal));
        Assert.Contains(logged, e => e.Record.Outcome.StartsWith($"E41 gas meter {NewGasMeter} is paired with GPF {Gpf}, not {otherGpf}", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("00-DB-12-34-56-78-91-99", "GSME", "E19")]
    [InlineData("00-DB-12-34-56-78-90-A0", "GSME", "E11")]
    [InlineData("00-DB-12-34-56-78-91-11", "ESME", "E41")]
    public async Task A_pre_notification_whose_associated_gpf_is_unknown_no_gpf_or_for_no_gas_meter_is_refused_and_adds_nothing(string associated, string type, string code)
    {
        var (answer, _) = await SendAsync("12.2",
            $"<sr:DeviceID>{NewGasMeter}</sr:DeviceID><sr:DeviceManufacturer>AB01</sr:DeviceManufacturer><sr:DeviceModel>020B</sr:DeviceModel><sr:DeviceType>{type}</sr:DeviceType><sr:AssociatedGPFDeviceID>{associated}</sr:AssociatedGPFDeviceID>");

        Assert.Equal(code, answer);
        Assert.Null(await hub.Store.Inventory.FindDeviceAsync(NewGasMeter));
    }

    [Theory]
    [InlineData("00-DB-12-34-56-78-90-A0", "ESME", "00-DB-12-34-56-78-91-11", "E41")]
    [InlineData("00-DB-12-34-56-78-90-A1", "GSME", "00-DB-12-34-56-78-91-99", "E19")]
    [InlineData("00-DB-12-34-56-78-90-A1", "GSME", "00-DB-12-34-56-78-90-A0", "E11")]
    public async Task A_pre_notification_of_a_device_held_already_is_checked_as_the_first_one_was(string device, string type, string associated, string code)
    {
        var id = Eui64.Parse(device);
        var before = await hub.Store.Inventory.FindDeviceAsync(id);
        Assert.NotNull(before);

        var (answer, _) = await SendAsync("12.2",
            $"<sr:DeviceID>{id}</sr:DeviceID><sr:DeviceManufacturer>AB01</sr:DeviceManufacturer><sr:DeviceModel>020B</sr:DeviceModel><sr:DeviceType>{type}</sr:DeviceType><sr:AssociatedGPFDeviceID>{associated}</sr:AssociatedGPFDeviceID>");

        Assert.Equal(code, answer);
        Assert.Equal(before, await hub.Store.Inventory.FindDeviceAsync(id));
        Assert.DoesNotContain(Eui64.Parse(associated), await hub.Store.Inventory.FindJoinedAsync(id));
    }

    [Fact]
    public async Task Read_inventory_by_uprn_mpan_and_property_filter_answers_every_device_at_the_premises()
    {
        Eui64[] atPremises = [Meter, CommsHub, Gpf, Ppmid];
        foreach (var selector in new[]
        {
            $"<sr:UPRN>{Premises}</sr:UPRN>",
            $"<sr:MPxN>{MeterPoint}</sr:MPxN>",
            "<sr:PropertyFilter><sr:PostCode>sw1a1aa</sr:PostCode><sr:AddressIdentifier>10</sr:AddressIdentifier></sr:PropertyFilter>",
        })
        {
            var (code, response) = await SendAsync("8.2", selector);
            Assert.Equal("I0", code);
            var devices = response.Descendants(Sr + "Device").ToList();
            Assert.Equal(atPremises.Order().Select(d => d.ToString()), devices.Select(d => d.Element(Sr + "DeviceID")!.Value));
            var meter = devices.Single(d => d.Element(Sr + "DeviceID")!.Value == Meter.ToString());
            Assert.Equal(MeterPoint.ToString(), meter.Element(Sr + "ImportMPxN")!.Value);
            Assert.Equal(Premises.ToString(), meter.Element(Sr + "UPRN")!.Value);
            Assert.Equal("10", meter.Element(Sr + "PropertyFilter")!.Element(Sr + "AddressIdentifier")!.Value);
        }
    }

    [Fact]
    public async Task Read_inventory_of_a_meter_point_without_a_site_answers_the_meter_its_hub_and_what_is_joined_to_it()
    {
        var gasPoint = Mprn.Parse("0123456789");
        await hub.Store.Inventory.UpdateDeviceAsync(GasMeter, d => d with { Mprn = gasPoint, CommsHub = CommsHub }, InventoryChange.ByOperator(SystemClock.Instance.GetCurrentInstant()));
        await hub.Store.Inventory.JoinAsync(GasMeter, Gpf);

        var (code, response) = await SendAsync("8.2", $"<sr:MPxN>{gasPoint}</sr:MPxN>");

        Assert.Equal("I0", code);
        Assert.Equal(new[] { GasMeter, CommsHub, Gpf }.Order().Select(d => d.ToString()), response.Descendants(Sr + "DeviceID").Select(d => d.Value));
    }

    [Theory]
    [InlineData("<sr:UPRN>4242</sr:UPRN>", "E080201")]
    [InlineData("<sr:MPxN>1200000000990</sr:MPxN>", "E080201")]
    [InlineData("<sr:DeviceID>00-DB-12-34-56-78-90-FF</sr:DeviceID>", "E080201")]
    [InlineData("<sr:UPRN>12x</sr:UPRN>", "E41")]
    [InlineData("<sr:MPxN>1200000000015</sr:MPxN>", "E41")]
    [InlineData("<sr:PropertyFilter><sr:PostCode>S!</sr:PostCode><sr:AddressIdentifier>10</sr:AddressIdentifier></sr:PropertyFilter>", "E41")]
    [InlineData("<sr:PropertyFilter><sr:PostCode>1234567</sr:PostCode><sr:AddressIdentifier>10</sr:AddressIdentifier></sr:PropertyFilter>", "E41")]
    public async Task Read_inventory_finding_nothing_or_given_a_bad_selector_says_which(string selector, string expected)
    {
        Assert.Equal(expected, (await SendAsync("8.2", selector)).Code);
    }

    [Fact]
    public async Task A_decommissioned_meter_is_unjoined_and_refuses_device_requests_with_E5()
    {
        Assert.Equal("I99", (await hub.SendAsync(SendCommand, Request(Supplier, Meter, hub.NextCounter(), 1, "4.1.1"))).Code);

        Assert.Equal("I0", (await SendAsync("8.3", $"<sr:DeviceID>{Meter}</sr:DeviceID>")).Code);

        Assert.Equal(SmiStatus.Decommissioned, (await hub.Store.Inventory.FindDeviceAsync(Meter))!.Status);
        Assert.Empty(await hub.Store.Inventory.FindJoinedAsync(Meter));
        await Task.Delay(1100); // the gateway's device cache keeps a device for up to a second
        Assert.Equal("E5", (await hub.SendAsync(SendCommand, Request(Supplier, Meter, hub.NextCounter(), 1, "4.1.1"))).Code);
        Assert.Equal("E5", (await SendAsync("8.3", $"<sr:DeviceID>{Meter}</sr:DeviceID>")).Code);
    }

    [Theory]
    [InlineData("8.3", "<sr:DeviceID>00-DB-12-34-56-78-90-A2</sr:DeviceID>", "E11")]
    [InlineData("8.3", "<sr:DeviceID>00-DB-12-34-56-78-90-FF</sr:DeviceID>", "E19")]
    [InlineData("8.3", "<sr:DeviceID>not-an-eui</sr:DeviceID>", "E41")]
    [InlineData("8.4", "<sr:DeviceID>00-DB-12-34-56-78-90-A2</sr:DeviceID><sr:UpdateDeviceStatusExceptCH>Pending</sr:UpdateDeviceStatusExceptCH>", "E11")]
    [InlineData("8.4", "<sr:DeviceID>00-DB-12-34-56-78-90-A0</sr:DeviceID><sr:UpdateDeviceStatusCH>Withdrawn</sr:UpdateDeviceStatusCH>", "E11")]
    [InlineData("8.4", "<sr:DeviceID>00-DB-12-34-56-78-90-A0</sr:DeviceID><sr:UpdateDeviceStatusExceptCH>Commissioned</sr:UpdateDeviceStatusExceptCH>", "E41")]
    [InlineData("8.4", "<sr:DeviceID>00-DB-12-34-56-78-90-A0</sr:DeviceID><sr:DeleteDevice/>", "E5")]
    [InlineData("8.4", "<sr:DeviceID>00-DB-12-34-56-78-90-A2</sr:DeviceID><sr:UpdateMPxN><sr:ImportMPxN>1200000000990</sr:ImportMPxN></sr:UpdateMPxN>", "E11")]
    [InlineData("8.4", "<sr:DeviceID>00-DB-12-34-56-78-90-A0</sr:DeviceID><sr:UpdateDeviceDetails><sr:DeviceModel>FFFF</sr:DeviceModel></sr:UpdateDeviceDetails>", "E080405")]
    [InlineData("8.4", "<sr:DeviceID>00-DB-12-34-56-78-90-A1</sr:DeviceID><sr:UpdateMPxN><sr:ExportMPAN>1312345678330</sr:ExportMPAN></sr:UpdateMPxN>", "E11")]
    [InlineData("8.4", "<sr:DeviceID>00-DB-12-34-56-78-90-A0</sr:DeviceID><sr:UpdateMPxN><sr:ExportMPAN>1312345678333</sr:ExportMPAN></sr:UpdateMPxN>", "E41")]
    [InlineData("8.4", "<sr:DeviceID>00-DB-12-34-56-78-90-A0</sr:DeviceID><sr:UpdateMPxN><sr:SecondaryImportMPAN>131234567822</sr:SecondaryImportMPAN></sr:UpdateMPxN>", "E41")]
    [InlineData("8.4", "<sr:DeviceID>00-DB-12-34-56-78-90-A0</sr:DeviceID><sr:UpdateMPxN/>", "E41")]
    [InlineData("12.2", "<sr:DeviceID>00-DB-12-34-56-78-90-B7</sr:DeviceID><sr:DeviceManufacturer>AB01</sr:DeviceManufacturer><sr:DeviceModel>020B</sr:DeviceModel><sr:DeviceType>0</sr:DeviceType>", "E41")]
    [InlineData("8.2", "<sr:DeviceID>00-DB-12-34-56-78-90-A0</sr:DeviceID><sr:UPRN>100000000001</sr:UPRN>", "E41")]
    [InlineData("8.4", "<sr:DeviceID>00-DB-12-34-56-78-90-B0</sr:DeviceID><sr:DeleteDevice/><sr:UpdateDeviceStatusExceptCH>InstalledNotCommissioned</sr:UpdateDeviceStatusExceptCH>", "E41")]
    [InlineData("8.2", "<sr:DeviceID>00-DB-12-34-56-78-90-FF</sr:DeviceID><sr:DeviceID>00-DB-12-34-56-78-90-A0</sr:DeviceID>", "E41")]
    [InlineData("8.3", "<sr:DeviceID>00-DB-12-34-56-78-90-A0</sr:DeviceID><sr:DeviceID>00-DB-12-34-56-78-90-A1</sr:DeviceID>", "E41")]
    [InlineData("8.4", "<sr:DeviceID>00-DB-12-34-56-78-90-A0</sr:DeviceID><sr:UpdateDeviceDetails><sr:FirmwareVersion>1</sr:FirmwareVersion><sr:FirmwareVersion>2</sr:FirmwareVersion></sr:UpdateDeviceDetails>", "E41")]
    [InlineData("12.2", "<sr:DeviceID>00-DB-12-34-56-78-90-B7</sr:DeviceID><sr:DeviceManufacturer>AB01</sr:DeviceManufacturer><sr:DeviceModel>020B</sr:DeviceModel><sr:DeviceType>ESME, GSME</sr:DeviceType>", "E41")]
    [InlineData("8.14.1", "<sr:DeviceID>00-DB-12-34-56-78-90-A0</sr:DeviceID><sr:CHFInstallType>New CHF Install</sr:CHFInstallType><sr:MPxN>1200000000990</sr:MPxN><sr:AerialInstall>false</sr:AerialInstall><sr:CHFLocation>Deep indoors</sr:CHFLocation>", "E11")]
    [InlineData("8.14.1", "<sr:DeviceID>00-DB-12-34-56-78-90-A2</sr:DeviceID><sr:CHFInstallType>New CHF Install</sr:CHFInstallType><sr:MPxN>1200000000990</sr:MPxN><sr:AerialInstall>false</sr:AerialInstall><sr:CHFLocation>Deep indoors</sr:CHFLocation>", "E5")]
    public async Task A_request_for_the_wrong_device_type_an_unknown_device_or_an_unfit_status_is_refused_and_changes_nothing(string srv, string body, string expected)
    {
        var before = await hub.Store.Inventory.ListDevicesAsync();

        Assert.Equal(expected, (await SendAsync(srv, body)).Code);

        Assert.Equal(before, await hub.Store.Inventory.ListDevicesAsync());
    }

    [Theory]
    [InlineData("12.2", "<sr:DeviceID>00-DB-12-34-56-78-91-10</sr:DeviceID><sr:DeviceManufacturer>AB01</sr:DeviceManufacturer><sr:DeviceModel>020B</sr:DeviceModel><sr:DeviceType>GSME</sr:DeviceType><sr:AssociatedGpfDeviceID>00-DB-12-34-56-78-91-11</sr:AssociatedGpfDeviceID>", "sr:AssociatedGpfDeviceID")]
    [InlineData("8.3", "<sr:DeviceID>00-DB-12-34-56-78-90-A0</sr:DeviceID><sr:Reason>exchanged</sr:Reason>", "sr:Reason")]
    [InlineData("8.4", "<sr:DeviceID>00-DB-12-34-56-78-90-A0</sr:DeviceID><sr:UpdateDeviceStatusExceptCH>Pending</sr:UpdateDeviceStatusExceptCH><sr:Note>x</sr:Note>", "sr:Note")]
    [InlineData("8.4", "<sr:DeviceID>00-DB-12-34-56-78-90-A0</sr:DeviceID><sr:UpdateDeviceDetails><sr:FirmwareVersoin>00000009</sr:FirmwareVersoin></sr:UpdateDeviceDetails>", "sr:FirmwareVersoin")]
    [InlineData("8.4", "<sr:DeviceID>00-DB-12-34-56-78-90-A0</sr:DeviceID><sr:UpdateMPxN><sr:ImportMPxN>1312345678118</sr:ImportMPxN><sr:ExportMpan>1312345678330</sr:ExportMpan></sr:UpdateMPxN>", "sr:ExportMpan")]
    [InlineData("8.2", "<sr:PropertyFilter><sr:PostCode>SW1A 1AA</sr:PostCode><sr:AddressIdentifier>10</sr:AddressIdentifier><sr:Town>London</sr:Town></sr:PropertyFilter>", "sr:Town")]
    [InlineData("8.14.4", "<sr:DeviceID>00-DB-12-34-56-78-90-A2</sr:DeviceID><sr:CHFNoFaultReturnType>No Fault Return (general)</sr:CHFNoFaultReturnType><x:Note xmlns:x=\"urn:elsewhere\">x</x:Note>", "{urn:elsewhere}Note")]
    public async Task An_inventory_request_whose_body_holds_an_element_its_srv_does_not_take_is_refused_E41_naming_it_and_changes_nothing(string srv, string body, string stranger)
    {
        var before = await hub.Store.Inventory.ListDevicesAsync();

        Assert.Equal("E41", (await SendAsync(srv, body)).Code);

        Assert.Equal(before, await hub.Store.Inventory.ListDevicesAsync());
        Assert.Empty(await hub.Store.Inventory.FindJoinedAsync(NewGasMeter));
        var logged = await hub.Store.MessageLog.ReadAsync().ToListAsync();
        Assert.Contains(logged, e => e.Record.Outcome.StartsWith("E41 ", StringComparison.Ordinal) && e.Record.Outcome.Contains(stranger, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Update_inventory_changes_a_meter_s_details_its_mpan_and_its_status_and_deletes_a_pending_device()
    {
        var mpan = Mpan.Create(14, 77);
        Assert.Equal("I0", (await SendAsync("8.4", $"<sr:DeviceID>{Meter}</sr:DeviceID><sr:UpdateDeviceDetails><sr:DeviceManufacturer>AB01</sr:DeviceManufacturer><sr:DeviceModel>010a030b</sr:DeviceModel><sr:FirmwareVersion>00000003</sr:FirmwareVersion></sr:UpdateDeviceDetails>")).Code);
        Assert.Equal("I0", (await SendAsync("8.4", $"<sr:DeviceID>{Meter}</sr:DeviceID><sr:UpdateMPxN><sr:ImportMPxN>{mpan}</sr:ImportMPxN></sr:UpdateMPxN>")).Code);
        Assert.Equal("I0", (await SendAsync("8.4", $"<sr:DeviceID>{Meter}</sr:DeviceID><sr:UpdateDeviceStatusExceptCH>Pending</sr:UpdateDeviceStatusExceptCH>")).Code);

        var meter = (await hub.Store.Inventory.FindDeviceAsync(Meter))!;
        Assert.Equal(("AB01", "010A030B", "00000003", mpan, SmiStatus.Pending), (meter.Manufacturer!, meter.Model!, meter.FirmwareVersion!, meter.Mpan!.Value, meter.Status));
        Assert.Equal("8.4", (await hub.Store.Inventory.StatusHistoryAsync(Meter))[^1].ServiceReferenceVariant);

        Assert.Equal("I0", (await SendAsync("8.4", $"<sr:DeviceID>{Meter}</sr:DeviceID><sr:DeleteDevice/>")).Code);
        Assert.Null(await hub.Store.Inventory.FindDeviceAsync(Meter));
        Assert.Empty(await hub.Store.Inventory.FindJoinedAsync(Ppmid));
    }

    [Fact]
    public async Task Deleting_a_pending_comms_hub_other_devices_name_is_refused_E41_naming_one_and_deletes_it_once_none_does()
    {
        var hubId = Eui64.Parse("00-DB-12-34-56-78-91-20");
        var change = InventoryChange.ByOperator(SystemClock.Instance.GetCurrentInstant());
        await hub.Store.Inventory.AddDevicesAsync([new Device(hubId, DeviceType.CHF, SmiStatus.Pending)], change);
        await hub.Store.Inventory.UpdateDeviceAsync(Ppmid, d => d with { CommsHub = hubId }, change);
        var delete = $"<sr:DeviceID>{hubId}</sr:DeviceID><sr:DeleteDevice/>";

        Assert.Equal("E41", (await SendAsync("8.4", delete)).Code);

        Assert.NotNull(await hub.Store.Inventory.FindDeviceAsync(hubId));
        var logged = await hub.Store.MessageLog.ReadAsync().ToListAsync();
        Assert.Contains(logged, e => e.Record.Outcome.StartsWith($"E41 PPMID {Ppmid} names comms hub {hubId}", StringComparison.Ordinal));

        await hub.Store.Inventory.UpdateDeviceAsync(Ppmid, d => d with { CommsHub = null }, change);
        Assert.Equal("I0", (await SendAsync("8.4", delete)).Code);
        Assert.Null(await hub.Store.Inventory.FindDeviceAsync(hubId));
    }

    [Fact]
    public async Task Update_inventory_gives_a_meter_a_secondary_import_and_an_export_mpan_which_read_inventory_shows_beside_its_import_mpan_and_finds_it_by()
    {
        var secondary = Mpan.Parse("1312345678224");
        var export = Mpan.Parse("1312345678330");
        Assert.Equal("I0", (await SendAsync("8.4", $"<sr:DeviceID>{Meter}</sr:DeviceID><sr:UpdateMPxN><sr:SecondaryImportMPAN>{secondary}</sr:SecondaryImportMPAN></sr:UpdateMPxN>")).Code);
        Assert.Equal("I0", (await SendAsync("8.4", $"<sr:DeviceID>{Meter}</sr:DeviceID><sr:UpdateMPxN><sr:ExportMPAN>{export}</sr:ExportMPAN></sr:UpdateMPxN>")).Code);
        // The import MPAN again as the export MPAN, or the export or secondary MPAN as the import one: refused, and each stays.
        Assert.Equal("E41", (await SendAsync("8.4", $"<sr:DeviceID>{Meter}</sr:DeviceID><sr:UpdateMPxN><sr:ExportMPAN>{MeterPoint}</sr:ExportMPAN></sr:UpdateMPxN>")).Code);
        Assert.Equal("E41", (await SendAsync("8.4", $"<sr:DeviceID>{Meter}</sr:DeviceID><sr:UpdateMPxN><sr:ImportMPxN>{export}</sr:ImportMPxN></sr:UpdateMPxN>")).Code);
        Assert.Equal("E41", (await SendAsync("8.4", $"<sr:DeviceID>{Meter}</sr:DeviceID><sr:UpdateMPxN><sr:ImportMPxN>{secondary}</sr:ImportMPxN></sr:UpdateMPxN>")).Code);

        var meter = (await hub.Store.Inventory.FindDeviceAsync(Meter))!;
        Assert.Equal((MeterPoint, secondary, export), (meter.Mpan!.Value, meter.SecondaryImportMpan!.Value, meter.ExportMpan!.Value));
        var (code, response) = await SendAsync("8.2", $"<sr:DeviceID>{Meter}</sr:DeviceID>");
        Assert.Equal("I0", code);
        var shown = response.Descendants(Sr + "Device").Single(d => d.Element(Sr + "DeviceID")!.Value == Meter.ToString());
        // In the XSD's order: ImportMPxN, SecondaryImportMPAN, ExportMPAN, then the premises.
        Assert.Equal(
            [("ImportMPxN", MeterPoint.ToString()), ("SecondaryImportMPAN", secondary.ToString()), ("ExportMPAN", export.ToString()), ("UPRN", Premises.ToString())],
            shown.Elements().SkipWhile(e => e.Name.LocalName != "ImportMPxN").Take(4).Select(e => (e.Name.LocalName, e.Value)));
        // Read Inventory by any of the meter's MPANs finds it.
        foreach (var mpan in (Mpan[])[secondary, export])
        {
            var (byMpan, found) = await SendAsync("8.2", $"<sr:MPxN>{mpan}</sr:MPxN>");
            Assert.Equal("I0", byMpan);
            Assert.Contains(found.Descendants(Sr + "DeviceID"), d => d.Value == Meter.ToString());
        }
    }

    [Fact]
    public async Task Update_inventory_refuses_an_mpan_another_meter_in_service_serves_but_not_one_a_decommissioned_meter_kept()
    {
        var other = Eui64.Parse("00-DB-12-34-56-78-90-C9");
        var taken = Mpan.Parse("1312345678118");
        var change = InventoryChange.ByOperator(SystemClock.Instance.GetCurrentInstant());
        await hub.Store.Inventory.AddDevicesAsync([new Device(other, DeviceType.ESME, SmiStatus.Commissioned) { Mpan = taken }], change);

        Assert.Equal("E41", (await SendAsync("8.4", $"<sr:DeviceID>{Meter}</sr:DeviceID><sr:UpdateMPxN><sr:ExportMPAN>{taken}</sr:ExportMPAN></sr:UpdateMPxN>")).Code);
        Assert.Equal("E41", (await SendAsync("8.4", $"<sr:DeviceID>{Meter}</sr:DeviceID><sr:UpdateMPxN><sr:ImportMPxN>{taken}</sr:ImportMPxN></sr:UpdateMPxN>")).Code);
        Assert.Contains(await hub.Store.MessageLog.ReadAsync().Select(e => e.Record.Outcome).ToListAsync(), o => o.StartsWith($"E41 ExportMPAN {taken} is served already by ESME {other} (Commissioned)", StringComparison.Ordinal));
        Assert.Equal(MeterPoint, (await hub.Store.Inventory.FindDeviceAsync(Meter))!.Mpan);

        await hub.Store.Inventory.UpdateDeviceAsync(other, d => d with { Status = SmiStatus.Decommissioned }, change);
        Assert.Equal("I0", (await SendAsync("8.4", $"<sr:DeviceID>{Meter}</sr:DeviceID><sr:UpdateMPxN><sr:ExportMPAN>{taken}</sr:ExportMPAN></sr:UpdateMPxN>")).Code);
    }

    [Fact]
    public async Task Update_inventory_refuses_an_mprn_another_gas_meter_in_service_serves_but_not_one_a_decommissioned_gas_meter_kept()
    {
        var other = Eui64.Parse("00-DB-12-34-56-78-90-C9");
        var taken = Mprn.Parse("0123456789");
        var change = InventoryChange.ByOperator(SystemClock.Instance.GetCurrentInstant());
        await hub.Store.Inventory.AddDevicesAsync([new Device(other, DeviceType.GSME, SmiStatus.Commissioned) { Mprn = taken }], change);
        var updateMprn = $"<sr:DeviceID>{GasMeter}</sr:DeviceID><sr:UpdateMPxN><sr:ImportMPxN>{taken}</sr:ImportMPxN></sr:UpdateMPxN>";

        Assert.Equal("E41", (await SendAsync("8.4", updateMprn)).Code);
        Assert.Contains(await hub.Store.MessageLog.ReadAsync().Select(e => e.Record.Outcome).ToListAsync(), o => o.StartsWith($"E41 ImportMPxN {taken} is served already by GSME {other} (Commissioned)", StringComparison.Ordinal));
        Assert.Null((await hub.Store.Inventory.FindDeviceAsync(GasMeter))!.Mprn);
        // Read Inventory by the MPRN finds the one meter serving it.
        var (code, response) = await SendAsync("8.2", $"<sr:MPxN>{taken}</sr:MPxN>");
        Assert.Equal("I0", code);
        Assert.Equal([other.ToString()], response.Descendants(Sr + "DeviceID").Select(d => d.Value));

        await hub.Store.Inventory.UpdateDeviceAsync(other, d => d with { Status = SmiStatus.Decommissioned }, change);
        Assert.Equal("I0", (await SendAsync("8.4", updateMprn)).Code);
        Assert.Equal(taken, (await hub.Store.Inventory.FindDeviceAsync(GasMeter))!.Mprn);
    }

    [Fact]
    public async Task A_returned_comms_hub_is_withdrawn_with_its_gpf()
    {
        Assert.Equal("I0", (await SendAsync("8.14.4", $"<sr:DeviceID>{CommsHub}</sr:DeviceID><sr:CHFNoFaultReturnType>No Fault Return (general)</sr:CHFNoFaultReturnType>")).Code);

        Assert.Equal(SmiStatus.Withdrawn, (await hub.Store.Inventory.FindDeviceAsync(CommsHub))!.Status);
        Assert.Equal(SmiStatus.Withdrawn, (await hub.Store.Inventory.FindDeviceAsync(Gpf))!.Status);
        Assert.Equal(SmiStatus.Commissioned, (await hub.Store.Inventory.FindDeviceAsync(Meter))!.Status);
    }

    [Theory]
    [InlineData("8.14.1", "<sr:CHFInstallType>New CHF Install</sr:CHFInstallType><sr:MPxN>1200000000990</sr:MPxN><sr:AerialInstall>maybe</sr:AerialInstall><sr:CHFLocation>Deep indoors</sr:CHFLocation>", "AerialInstall 'maybe' is not true or false")]
    [InlineData("8.14.1", "<sr:MPxN>1200000000990</sr:MPxN>", "8.14.1 needs CHFInstallType")]
    [InlineData("8.14.3", "<sr:CHFFaultReturnType>Not a type</sr:CHFFaultReturnType><sr:OtherDeviceID>00-DB-12-34-56-78-90-A0</sr:OtherDeviceID><sr:CHFConnectionMethod>Cradle</sr:CHFConnectionMethod><sr:CHFFaultReason>LED Fault</sr:CHFFaultReason>", "CHFFaultReturnType 'Not a type' is not one of")]
    // A time alone (.NET would date it from the machine's clock) and a date in a culture's order are no xs:dateTime.
    [InlineData("8.14.1", "<sr:CHFInstallType>New CHF Install</sr:CHFInstallType><sr:InstallDateTime>12:00</sr:InstallDateTime><sr:MPxN>1200000000990</sr:MPxN><sr:AerialInstall>false</sr:AerialInstall><sr:CHFLocation>Deep indoors</sr:CHFLocation>", "InstallDateTime '12:00' is not a date and time")]
    [InlineData("8.14.4", "<sr:CHFNoFaultReturnType>No Fault Return (general)</sr:CHFNoFaultReturnType><sr:UserRefDateTime>11/01/2026 09:00</sr:UserRefDateTime>", "UserRefDateTime '11/01/2026 09:00' is not a date and time")]
    public async Task A_comms_hub_status_update_missing_or_garbling_a_field_of_its_srv_is_refused_E41_and_changes_nothing(string srv, string fields, string fault)
    {
        var hubId = Eui64.Parse("00-DB-12-34-56-78-91-21");
        await hub.Store.Inventory.AddDeviceAsync(new Device(hubId, DeviceType.CHF, srv == "8.14.1" ? SmiStatus.Pending : SmiStatus.Commissioned));

        Assert.Equal("E41", (await SendAsync(srv, $"<sr:DeviceID>{hubId}</sr:DeviceID>{fields}")).Code);

        Assert.Equal(srv == "8.14.1" ? SmiStatus.Pending : SmiStatus.Commissioned, (await hub.Store.Inventory.FindDeviceAsync(hubId))!.Status);
        var logged = await hub.Store.MessageLog.ReadAsync().ToListAsync();
        Assert.Contains(logged, e => e.Record.Outcome.Contains(fault, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_comms_hub_installed_at_a_meter_point_takes_the_meter_s_premises()
    {
        var hubId = Eui64.Parse("00-DB-12-34-56-78-91-20");
        await hub.Store.Inventory.AddDeviceAsync(new Device(hubId, DeviceType.CHF, SmiStatus.Pending));

        Assert.Equal("I0", (await SendAsync("8.14.1", $"<sr:DeviceID>{hubId}</sr:DeviceID><sr:CHFInstallType>New CHF Install</sr:CHFInstallType><sr:MPxN>{MeterPoint}</sr:MPxN><sr:AerialInstall>false</sr:AerialInstall><sr:CHFLocation>Deep indoors</sr:CHFLocation>")).Code);

        var installed = (await hub.Store.Inventory.FindDeviceAsync(hubId))!;
        Assert.Equal((SmiStatus.Commissioned, (Uprn?)Premises), (installed.Status, installed.Uprn));
    }

    [Fact]
    public async Task A_comms_hub_installed_at_a_meter_point_takes_that_meter_s_premises_not_those_of_another_device_found_there()
    {
        // A meter at premises of its own, naming the test comms hub (at the test premises, and first in ID order).
        var meter = Eui64.Parse("00-DB-12-34-56-78-91-30");
        var (mpan, premises) = (Mpan.Create(15, 3), Uprn.Parse("4242"));
        var hubId = Eui64.Parse("00-DB-12-34-56-78-91-20");
        await hub.Store.Inventory.AddDevicesAsync(
            [new Device(meter, DeviceType.ESME, SmiStatus.Commissioned) { Mpan = mpan, Uprn = premises, CommsHub = CommsHub }, new Device(hubId, DeviceType.CHF, SmiStatus.Pending)],
            InventoryChange.ByOperator(SystemClock.Instance.GetCurrentInstant()));

        Assert.Equal("I0", (await SendAsync("8.14.1", $"<sr:DeviceID>{hubId}</sr:DeviceID><sr:CHFInstallType>New CHF Install</sr:CHFInstallType><sr:MPxN>{mpan}</sr:MPxN><sr:AerialInstall>false</sr:AerialInstall><sr:CHFLocation>Deep indoors</sr:CHFLocation>")).Code);

        Assert.Equal((Uprn?)premises, (await hub.Store.Inventory.FindDeviceAsync(hubId))!.Uprn);
    }

    [Theory]
    [InlineData("8.14.1", "1200000000990", null)]
    [InlineData("8.14.2", "1200000000990", null)]
    [InlineData("8.14.1", "1200000000990", SmiStatus.Decommissioned)]
    public async Task A_comms_hub_install_at_an_mpxn_no_meter_in_service_serves_is_refused_E19_and_changes_nothing(string srv, string mpxn, SmiStatus? servedBy)
    {
        var hubId = Eui64.Parse("00-DB-12-34-56-78-91-20");
        var change = InventoryChange.ByOperator(SystemClock.Instance.GetCurrentInstant());
        await hub.Store.Inventory.AddDevicesAsync([new Device(hubId, DeviceType.CHF, SmiStatus.Pending) { Uprn = Premises }], change);
        if (servedBy is { } status)
        {
            // A meter exchanged keeps its MPAN, out of service: it serves the meter point no longer.
            await hub.Store.Inventory.AddDevicesAsync([new Device(Eui64.Parse("00-DB-12-34-56-78-91-30"), DeviceType.ESME, status) { Mpan = Mpan.Parse(mpxn), Uprn = Uprn.Parse("4242") }], change);
        }
        var survey = srv == "8.14.2"
            ? "<sr:PremiseType>Terraced</sr:PremiseType><sr:MetalObstructionCheck>false</sr:MetalObstructionCheck><sr:ConnectivityObstructionCheck>false</sr:ConnectivityObstructionCheck><sr:SharedObstructionCheck>false</sr:SharedObstructionCheck>"
            : "";

        Assert.Equal("E19", (await SendAsync(srv, $"<sr:DeviceID>{hubId}</sr:DeviceID><sr:CHFInstallType>New CHF Install</sr:CHFInstallType><sr:MPxN>{mpxn}</sr:MPxN><sr:AerialInstall>false</sr:AerialInstall><sr:CHFLocation>Deep indoors</sr:CHFLocation>{survey}")).Code);

        var stays = (await hub.Store.Inventory.FindDeviceAsync(hubId))!;
        Assert.Equal((SmiStatus.Pending, (Uprn?)Premises), (stays.Status, stays.Uprn));
        Assert.Single(await hub.Store.Inventory.StatusHistoryAsync(hubId));
        var logged = await hub.Store.MessageLog.ReadAsync().ToListAsync();
        Assert.Contains(logged, e => e.Record.Outcome.StartsWith($"E19 MPxN {mpxn} is served by no meter in service", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_join_is_recorded_when_the_meter_confirms_it_and_an_unjoin_the_meter_refuses_changes_nothing()
    {
        var ihd = Eui64.Parse("00-DB-12-34-56-78-91-13");
        await hub.Store.Inventory.AddDeviceAsync(new Device(ihd, DeviceType.IHD, SmiStatus.Commissioned));
        // On the HAN of the meter's comms hub (8.11 puts it there: HanDeviceLogTests).
        WhitelistOnSimulatedHub(0, ihd);

        Assert.Equal("I99", (await hub.SendAsync(SendCommand, Request(Supplier, Meter, hub.NextCounter(), 1, "8.7.2", $"<sr:OtherDeviceID>{ihd}</sr:OtherDeviceID>"))).Code);
        var joined = await hub.Receiver.NextAsync(TimeSpan.FromSeconds(20));
        Assert.Equal("I0", await hub.CheckSignedResponseAsync(joined));
        Assert.IsType<Core.Translation.DeviceOutcome.Done>(hub.ReadDeviceAnswer(joined, Meter));
        Assert.Equal([ihd], hub.World.Wan.Fleet[0].ElectricityMeter.Joined);
        Assert.Equal(new[] { Ppmid, ihd }.Order(), await hub.Store.Inventory.FindJoinedAsync(Meter));

        // The inventory has the PPMID joined, the meter does not: its refusal leaves the inventory as it was.
        Assert.Equal("I99", (await hub.SendAsync(SendCommand, Request(Supplier, Meter, hub.NextCounter(), 1, "8.8.2", $"<sr:OtherDeviceID>{Ppmid}</sr:OtherDeviceID>"))).Code);
        var refused = await hub.Receiver.NextAsync(TimeSpan.FromSeconds(20));
        Assert.IsType<Core.Translation.DeviceOutcome.Refused>(hub.ReadDeviceAnswer(refused, Meter));
        Assert.Contains(Ppmid, await hub.Store.Inventory.FindJoinedAsync(Meter));

        Assert.Equal("I99", (await hub.SendAsync(SendCommand, Request(Supplier, Meter, hub.NextCounter(), 1, "8.8.2", $"<sr:OtherDeviceID>{ihd}</sr:OtherDeviceID>"))).Code);
        Assert.IsType<Core.Translation.DeviceOutcome.Done>(hub.ReadDeviceAnswer(await hub.Receiver.NextAsync(TimeSpan.FromSeconds(20)), Meter));
        Assert.Equal([Ppmid], await hub.Store.Inventory.FindJoinedAsync(Meter));
        Assert.Empty(hub.World.Wan.Fleet[0].ElectricityMeter.Joined);
    }

    [Fact]
    public async Task An_early_smart_meter_joins_through_its_own_wire_format()
    {
        WhitelistOnSimulatedHub(1, Ppmid);
        Assert.Equal("I99", (await hub.SendAsync(SendCommand, Request(Supplier, EarlySmartMeter, hub.NextCounter(), 1, "8.7.2", $"<sr:OtherDeviceID>{Ppmid}</sr:OtherDeviceID>"))).Code);

        Assert.IsType<Core.Translation.DeviceOutcome.Done>(hub.ReadDeviceAnswer(await hub.Receiver.NextAsync(TimeSpan.FromSeconds(20)), EarlySmartMeter));
        Assert.Equal([Meter, EarlySmartMeter], await hub.Store.Inventory.FindJoinedAsync(Ppmid));
    }

    [Fact]
    public async Task Joining_a_device_the_inventory_does_not_hold_is_refused_E19_and_never_sent()
    {
        var stranger = Eui64.Parse("00-DB-12-34-56-78-91-99");

        Assert.Equal("E19", (await hub.SendAsync(SendCommand, Request(Supplier, Meter, hub.NextCounter(), 1, "8.7.2", $"<sr:OtherDeviceID>{stranger}</sr:OtherDeviceID>"))).Code);

        Assert.Empty(hub.World.Wan.Fleet[0].ElectricityMeter.Joined);
    }

    /// <summary>The simulated comms hub of a fleet site holds the device in its device log, as an installer's 8.11 would leave it.</summary>
    private void WhitelistOnSimulatedHub(int site, Eui64 device) =>
        Assert.IsType<Core.Translation.DeviceOutcome.Done>(hub.World.Wan.Fleet[site].CommsHub.Execute(
            new Core.Translation.DeviceOperation.AddToDeviceLog(device, "0102030405060708", Duration.FromSeconds(90)), SystemClock.Instance.GetCurrentInstant()));

    private Task<(string Code, XDocument Response)> SendAsync(string srv, string body) =>
        hub.SendAsync(NonDevice, Request(Supplier, Dsp, hub.NextCounter(), 8, srv, body));
}
