using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Xml.Linq;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using OpenDcc.Core.Duis;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Inventory;
using OpenDcc.Core.Security;
using OpenDcc.Core.Translation;
using OpenDcc.Simulator.Wan;
using static OpenDcc.Hub.Tests.TestHub;

namespace OpenDcc.Hub.Tests;

public sealed class DuisGatewayTests : IAsyncLifetime
{
    private const string SendCommand = "/api/v1/serviceS";
    private const string Transform = "/api/v1/serviceT";
    private const string NonDevice = "/api/v1/serviceD";
    private static readonly XNamespace Sr = "http://www.dccinterface.co.uk/ServiceUserGateway";
    private static readonly string TestFirmwareImage = Convert.ToBase64String("OpenDcc test firmware 2.0.0"u8);

    /// <summary>The body of an 11.1 Update Firmware request for version 2.0.0 of <paramref name="image"/> (base64) to the listed devices.</summary>
    private static string UpdateFirmwareBody(string image, params string[] deviceIds) =>
        $"<sr:FirmwareImage>{image}</sr:FirmwareImage><sr:FirmwareVersion>2.0.0</sr:FirmwareVersion><sr:DeviceIDList>{string.Join(",", deviceIds)}</sr:DeviceIDList>";
    private TestHub hub = null!;

    public async Task InitializeAsync() => hub = await StartAsync();

    public async Task DisposeAsync() => await hub.DisposeAsync();

    [Fact]
    public async Task A_signed_device_request_is_acknowledged_I99_then_answered_I0_at_the_users_response_url()
    {
        var counter = hub.NextCounter();
        var (code, response) = await hub.SendAsync(SendCommand, Request(Supplier, Meter, counter, 1, "4.1.1"));
        Assert.Equal("I99", code);
        var header = response.Root!.Element(Sr + "Header")!;
        Assert.Equal($"{Supplier}:{Meter}:{counter}", header.Element(Sr + "RequestID")!.Value);
        Assert.Equal($"{Meter}:{Supplier}:{counter}", header.Element(Sr + "ResponseID")!.Value);
        Assert.Equal("4.1.1", response.Descendants(Sr + "ServiceReferenceVariant").Single().Value);

        var asynchronous = await hub.Receiver.NextAsync(TimeSpan.FromSeconds(20));
        Assert.Equal("I0", await hub.CheckSignedResponseAsync(asynchronous));
        Assert.Equal($"{Meter}:{Supplier}:{counter}", XDocument.Parse(asynchronous).Descendants(Sr + "ResponseID").Single().Value);
        // The payload is the meter's own GBCS frame: MACed with the key it shares with the ACB, holding its register.
        var registers = Assert.IsType<DeviceOutcome.Registers>(hub.ReadDeviceAnswer(asynchronous, Meter));
        Assert.Equal(RegisterUnit.WattHours, registers.Unit);
        var expected = Assert.IsType<DeviceOutcome.Registers>(hub.World.Wan.Fleet[0].ElectricityMeter.Execute(new DeviceOperation.ReadImportRegisters(), registers.At));
        Assert.Equal(expected.Import, registers.Import);
        Assert.True(registers.Import > 0);
    }

    [Fact]
    public async Task Update_firmware_is_sent_to_the_dcc_and_distributed_to_each_listed_meter_which_then_runs_the_version_pending()
    {
        var counter = hub.NextCounter();
        var (code, _) = await hub.SendAsync(NonDevice, Request(Supplier, Dsp, counter, 8, "11.1", UpdateFirmwareBody(TestFirmwareImage, $"{Meter}")));
        Assert.Equal("I99", code);

        var asynchronous = await hub.Receiver.NextAsync(TimeSpan.FromSeconds(20));
        Assert.Equal("I0", await hub.CheckSignedResponseAsync(asynchronous));
        Assert.Equal($"{Dsp}:{Supplier}:{counter}", XDocument.Parse(asynchronous).Descendants(Sr + "ResponseID").Single().Value);
        var version = Assert.IsType<DeviceOutcome.FirmwareVersion>(hub.World.Wan.Fleet[0].ElectricityMeter.Execute(new DeviceOperation.ReadFirmwareVersion(), SystemClock.Instance.GetCurrentInstant()));
        Assert.Equal("2.0.0", version.Pending);
    }

    [Fact]
    public async Task Update_firmware_with_the_largest_image_the_duis_schema_allows_inline_is_taken_and_distributed()
    {
        // 10,240,000 bytes (13.7 MB of base64): the request is over three times the 4 MiB OpenDcc used to refuse.
        var image = new byte[10_240_000];
        new Random(7).NextBytes(image);
        var counter = hub.NextCounter();
        var (code, _) = await hub.SendAsync(NonDevice, Request(Supplier, Dsp, counter, 8, "11.1", UpdateFirmwareBody(Convert.ToBase64String(image), $"{Meter}")));
        Assert.Equal("I99", code);

        Assert.Equal("I0", await hub.CheckSignedResponseAsync(await hub.Receiver.NextAsync(TimeSpan.FromSeconds(30))));
        var version = Assert.IsType<DeviceOutcome.FirmwareVersion>(hub.World.Wan.Fleet[0].ElectricityMeter.Execute(new DeviceOperation.ReadFirmwareVersion(), SystemClock.Instance.GetCurrentInstant()));
        Assert.Equal("2.0.0", version.Pending);
    }

    [Fact]
    public async Task A_body_heavy_with_attributes_is_refused_before_it_is_parsed()
    {
        // .NET's XML reader spends seconds on megabytes of attributes: a DUIS request never has thousands.
        var attributes = string.Concat(Enumerable.Repeat("<sr:X a=\"1\" b=\"2\"/>", 1_001));
        var (status, contentType, body) = await hub.PostAsync(SendCommand, Encoding.UTF8.GetBytes(Request(Supplier, Meter, hub.NextCounter(), 1, "4.1.1", attributes)));
        Assert.Equal((HttpStatusCode.BadRequest, "application/problem+json"), (status, contentType));
        Assert.Contains("at most 2,000 attributes", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Update_firmware_that_cannot_reach_one_listed_meter_sends_the_supplier_a_dsp_signed_firmware_distribution_failure_naming_the_request_and_that_meter()
    {
        var counter = hub.NextCounter();
        var (code, _) = await hub.SendAsync(NonDevice, Request(Supplier, Dsp, counter, 8, "11.1", UpdateFirmwareBody(TestFirmwareImage, $"{Meter}", $"{OfflineMeter}")));
        Assert.Equal("I99", code);

        var received = new[] { await hub.Receiver.NextAsync(TimeSpan.FromSeconds(20)), await hub.Receiver.NextAsync(TimeSpan.FromSeconds(20)) };
        foreach (var message in received)
        {
            Assert.Equal("I0", await hub.CheckSignedResponseAsync(message));
        }
        var documents = received.Select(XDocument.Parse).ToLookup(d => d.Descendants(Sr + "DCCAlertMessage").Any());
        // The meter reached answers the 11.1 as before; the one offline is reported by the DCC alert, not by an E20.
        Assert.Equal($"{Dsp}:{Supplier}:{counter}", Assert.Single(documents[false]).Descendants(Sr + "ResponseID").Single().Value);
        var alert = Assert.Single(documents[true]);
        Assert.Equal(Supplier, RequestId.Parse(alert.Descendants(Sr + "ResponseID").Single().Value).Target);
        Assert.Equal(Core.Duis.DccAlertCodes.FirmwareDistributionFailure, alert.Descendants(Sr + "DCCAlertCode").Single().Value);
        var failure = alert.Descendants(Sr + "FirmwareDistributionFailure").Single();
        Assert.Equal([("UpdateFirmwareRequestID", $"{Supplier}:{Dsp}:{counter}"), ("MeterIDs", OfflineMeter.ToString())], failure.Elements().Select(e => (e.Name.LocalName, e.Value)));
        await Assert.ThrowsAsync<TimeoutException>(() => hub.Receiver.NextAsync(TimeSpan.FromSeconds(1)));
    }

    [Fact]
    public async Task Update_firmware_to_many_devices_reads_its_image_once_and_their_commands_share_one_copy_of_its_body()
    {
        var xml = Request(Supplier, Dsp, hub.NextCounter(), 8, "11.1", UpdateFirmwareBody(TestFirmwareImage, $"{Meter}", $"{OfflineMeter}"));
        Assert.True(DuisRequestReader.TryRead(DuisSignature.Load(Encoding.UTF8.GetBytes(xml)), Core.Catalogue.ServiceCatalogue.Duis, out var request, out _));
        var user = (await hub.Store.Parties.FindUserAsync(Supplier))!;
        var devices = await hub.Store.Inventory.FindDevicesAsync([Meter, OfflineMeter]);

        var prepared = await hub.Services.GetRequiredService<IDeviceRequestHandler>().PrepareAsync(request, user, devices);

        Assert.Equal([Meter, OfflineMeter], prepared.Select(p => p.Command!.Device.Id).Order());
        Assert.Same(prepared[0].Command!.Operation, prepared[1].Command!.Operation);
        Assert.Same(prepared[0].Command!.Body, prepared[1].Command!.Body);
    }

    [Fact]
    public async Task Update_firmware_takes_one_comma_separated_device_id_list_of_at_most_50000_devices_as_the_duis_xsd_has_it()
    {
        var twoLists = $"<sr:FirmwareImage>AAAA</sr:FirmwareImage><sr:FirmwareVersion>2.0.0</sr:FirmwareVersion><sr:DeviceIDList>{Meter}</sr:DeviceIDList><sr:DeviceIDList>{GasMeter}</sr:DeviceIDList>";
        Assert.Equal("E41", (await hub.SendAsync(NonDevice, Request(Supplier, Dsp, hub.NextCounter(), 8, "11.1", twoLists))).Code);

        var tooMany = Enumerable.Range(0, 50_001).Select(i => new Eui64(0x00DB000000000000UL + (ulong)i).ToString()).ToArray();
        Assert.Equal("E41", (await hub.SendAsync(NonDevice, Request(Supplier, Dsp, hub.NextCounter(), 8, "11.1", UpdateFirmwareBody("AAAA", tooMany)))).Code);
        var outcome = (await LogAsync()).Last(e => e.Record.Direction == MessageDirection.Inbound).Record.Outcome;
        Assert.Contains("names 50,001 devices; at most 50,000", outcome, StringComparison.Ordinal);

        Assert.Equal("E41", (await hub.SendAsync(NonDevice, Request(Supplier, Dsp, hub.NextCounter(), 8, "11.1", UpdateFirmwareBody("AAAA", " ")))).Code);
        Assert.Contains("names no device", (await LogAsync()).Last(e => e.Record.Direction == MessageDirection.Inbound).Record.Outcome, StringComparison.Ordinal);

        var tooLong = UpdateFirmwareBody("AAAA", $"{Meter}").Replace("2.0.0", "2.0.0-beta", StringComparison.Ordinal);
        Assert.Equal("E41", (await hub.SendAsync(NonDevice, Request(Supplier, Dsp, hub.NextCounter(), 8, "11.1", tooLong))).Code);
    }

    [Fact]
    public async Task Update_firmware_naming_a_device_not_in_the_inventory_is_refused_E19_and_nothing_is_sent()
    {
        var (code, _) = await hub.SendAsync(NonDevice, Request(Supplier, Dsp, hub.NextCounter(), 8, "11.1", UpdateFirmwareBody("AAAA", $"{Meter}", "00-DB-00-00-00-00-00-01")));

        Assert.Equal("E19", code);
        var version = Assert.IsType<DeviceOutcome.FirmwareVersion>(hub.World.Wan.Fleet[0].ElectricityMeter.Execute(new DeviceOperation.ReadFirmwareVersion(), SystemClock.Instance.GetCurrentInstant()));
        Assert.Null(version.Pending);
    }

    [Fact]
    public async Task Update_firmware_naming_a_device_whose_smi_status_does_not_allow_it_is_refused_E5_naming_it_and_nothing_is_sent()
    {
        await hub.Store.Inventory.UpdateDeviceAsync(GasMeter, d => d with { Status = SmiStatus.Decommissioned }, InventoryChange.ByOperator(SystemClock.Instance.GetCurrentInstant()));

        var (code, _) = await hub.SendAsync(NonDevice, Request(Supplier, Dsp, hub.NextCounter(), 8, "11.1", UpdateFirmwareBody("AAAA", $"{Meter}", $"{GasMeter}")));

        Assert.Equal("E5", code);
        // The logged outcome names the device whose status refuses it, not the one that would do.
        var outcome = (await LogAsync()).Last(e => e.Record.Direction == MessageDirection.Inbound).Record.Outcome;
        Assert.Contains($"{GasMeter} is Decommissioned", outcome);
        Assert.DoesNotContain(Meter.ToString(), outcome);
        foreach (var meter in new Simulator.Devices.SimulatedMeter[] { hub.World.Wan.Fleet[0].ElectricityMeter, hub.World.Wan.Fleet[0].GasMeter })
        {
            Assert.Null(Assert.IsType<DeviceOutcome.FirmwareVersion>(meter.Execute(new DeviceOperation.ReadFirmwareVersion(), SystemClock.Instance.GetCurrentInstant())).Pending);
        }
        await Assert.ThrowsAsync<TimeoutException>(() => hub.Receiver.NextAsync(TimeSpan.FromSeconds(1)));
    }

    [Fact]
    public async Task An_early_smart_meter_is_reached_in_its_own_text_format_and_its_answer_comes_back_translated_to_gbcs()
    {
        var (code, _) = await hub.SendAsync(SendCommand, Request(Supplier, EarlySmartMeter, hub.NextCounter(), 1, "4.1.1"));
        Assert.Equal("I99", code);

        var asynchronous = await hub.Receiver.NextAsync(TimeSpan.FromSeconds(20));
        Assert.Equal("I0", await hub.CheckSignedResponseAsync(asynchronous));
        var registers = Assert.IsType<DeviceOutcome.Registers>(hub.ReadDeviceAnswer(asynchronous, EarlySmartMeter));
        Assert.Equal(RegisterUnit.CubicDecimetres, registers.Unit);
        // The early-smart line carries the reading's time in whole seconds: the meter read within that second.
        var atSecond = Assert.IsType<DeviceOutcome.Registers>(hub.World.Wan.Fleet[1].GasMeter.Execute(new DeviceOperation.ReadImportRegisters(), registers.At));
        var secondLater = Assert.IsType<DeviceOutcome.Registers>(hub.World.Wan.Fleet[1].GasMeter.Execute(new DeviceOperation.ReadImportRegisters(), registers.At + Duration.FromSeconds(1)));
        Assert.InRange(registers.Import, atSecond.Import, secondLater.Import);
    }

    [Fact]
    public async Task The_meters_behind_one_comms_hub_are_each_answered_through_the_hubs_queues()
    {
        var site = hub.World.Wan.Fleet[0];
        await hub.World.AddToInventoryAsync(hub.Store.Inventory);
        var electricity = await hub.Store.Inventory.FindDeviceAsync(site.ElectricityMeter.Id);
        Assert.Equal(site.CommsHubId, electricity!.CommsHub);
        Assert.Equal(SimulatedWorld.RegionOf(site), electricity.Region);

        Assert.Equal("I99", (await hub.SendAsync(SendCommand, Request(Supplier, site.ElectricityMeter.Id, hub.NextCounter(), 1, "4.1.1"))).Code);
        Assert.Equal("I99", (await hub.SendAsync(SendCommand, Request(Supplier, site.GasMeter.Id, hub.NextCounter(), 1, "4.1.1"))).Code);

        var answers = new[] { await hub.Receiver.NextAsync(TimeSpan.FromSeconds(20)), await hub.Receiver.NextAsync(TimeSpan.FromSeconds(20)) }
            .ToDictionary(a => RequestId.Parse(XDocument.Parse(a).Descendants(Sr + "ResponseID").Single().Value).Originator);
        Assert.Equal(RegisterUnit.WattHours, Assert.IsType<DeviceOutcome.Registers>(hub.ReadDeviceAnswer(answers[site.ElectricityMeter.Id], site.ElectricityMeter.Id)).Unit);
        Assert.Equal(RegisterUnit.CubicDecimetres, Assert.IsType<DeviceOutcome.Registers>(hub.ReadDeviceAnswer(answers[site.GasMeter.Id], site.GasMeter.Id)).Unit);
    }

    [Fact]
    public async Task A_device_the_wan_cannot_reach_gets_I99_then_E20_and_the_message_log_says_why()
    {
        var counter = hub.NextCounter();
        var (code, _) = await hub.SendAsync(SendCommand, Request(Supplier, OfflineMeter, counter, 1, "4.1.1"));
        Assert.Equal("I99", code);

        Assert.Equal("E20", await hub.CheckSignedResponseAsync(await hub.Receiver.NextAsync(TimeSpan.FromSeconds(20))));
        // The DUIS response has no field for why; the log entry of its delivery does.
        var (handedOver, delivered) = await DeliveryLoggedAsync(new RequestId(Supplier, OfflineMeter, counter));
        Assert.Equal($"E20 unreachable: device {OfflineMeter} is unreachable: its comms hub is offline; Delivered; the bytes of entry {handedOver}", delivered.Outcome);
    }

    [Fact]
    public async Task A_device_in_the_inventory_that_the_wan_has_no_key_for_gets_I99_then_E20_saying_so()
    {
        var stranger = Eui64.Parse("00-DB-12-34-56-78-99-01");
        await hub.Store.Inventory.AddDevicesAsync([new Device(stranger, DeviceType.ESME, SmiStatus.Commissioned)]);
        var counter = hub.NextCounter();
        Assert.Equal("I99", (await hub.SendAsync(SendCommand, Request(Supplier, stranger, counter, 1, "4.1.1"))).Code);

        Assert.Equal("E20", await hub.CheckSignedResponseAsync(await hub.Receiver.NextAsync(TimeSpan.FromSeconds(20))));
        var (handedOver, delivered) = await DeliveryLoggedAsync(new RequestId(Supplier, stranger, counter));
        Assert.Equal(
            $"E20 unreachable: device {stranger} is unreachable: the SM WAN knows no key-agreement key for it (no such device on the WAN); Delivered; the bytes of entry {handedOver}",
            delivered.Outcome);
    }

    [Fact]
    public async Task An_srv_no_adapter_translates_or_a_device_type_it_does_not_carry_is_refused_E11_at_once()
    {
        Assert.Equal("E11", (await hub.SendAsync(SendCommand, Request(Supplier, Meter, hub.NextCounter(), 1, "6.2.4"))).Code);
        Assert.Equal("E11", (await hub.SendAsync(SendCommand, Request(Supplier, CommsHub, hub.NextCounter(), 1, "11.2"))).Code);
    }

    [Fact]
    public async Task A_device_request_to_a_suspended_or_decommissioned_device_is_refused_E5()
    {
        var suspended = Eui64.Parse("00-DB-12-34-56-78-90-C1");
        var decommissioned = Eui64.Parse("00-DB-12-34-56-78-90-C2");
        await hub.Store.Inventory.AddDevicesAsync([new Device(suspended, DeviceType.ESME, SmiStatus.Suspended), new Device(decommissioned, DeviceType.ESME, SmiStatus.Decommissioned)]);

        Assert.Equal("E5", (await hub.SendAsync(SendCommand, Request(Supplier, suspended, hub.NextCounter(), 1, "4.1.1"))).Code);
        Assert.Equal("E5", (await hub.SendAsync(SendCommand, Request(Supplier, decommissioned, hub.NextCounter(), 1, "4.1.1"))).Code);
    }

    [Fact]
    public async Task A_future_dated_device_request_is_refused_rather_than_executed_at_once()
    {
        var (code, _) = await hub.SendAsync(SendCommand, Request(Supplier, Meter, hub.NextCounter(), 1, "7.4", "<sr:ExecutionDateTime>2030-01-15T09:00:00.00Z</sr:ExecutionDateTime>"));

        Assert.Equal("E100", code);
    }

    [Fact]
    public async Task An_execution_date_time_that_is_not_a_date_time_is_refused_as_an_invalid_request_naming_it_and_quoting_no_more_than_its_start()
    {
        var garbage = "next Tuesday " + new string('x', 100_000);

        var (code, _) = await hub.SendAsync(SendCommand, Request(Supplier, Meter, hub.NextCounter(), 1, "7.4", $"<sr:ExecutionDateTime>{garbage}</sr:ExecutionDateTime>"));

        Assert.Equal("E41", code);
        var outcome = (await LogAsync()).Last(e => e.Record.Direction == MessageDirection.Inbound).Record.Outcome;
        Assert.Contains("ExecutionDateTime 'next Tuesday xxx", outcome, StringComparison.Ordinal);
        Assert.Contains("is not a date-time", outcome, StringComparison.Ordinal);
        Assert.True(outcome.Length < 2_000, $"the outcome quotes {outcome.Length:N0} characters");
    }

    [Fact]
    public async Task A_top_up_to_a_meter_in_credit_mode_is_refused_by_the_meter_itself()
    {
        var meter = hub.World.Wan.Fleet[0].ElectricityMeter;
        meter.Execute(new DeviceOperation.ChangePaymentMode(PaymentMode.Credit), SystemClock.Instance.GetCurrentInstant());

        var (code, _) = await hub.SendAsync(SendCommand, Request(Supplier, Meter, hub.NextCounter(), 1, "2.2", "<sr:UTRN>73946144332040217315</sr:UTRN>"));
        Assert.Equal("I99", code);

        var asynchronous = await hub.Receiver.NextAsync(TimeSpan.FromSeconds(20));
        Assert.Equal("I0", await hub.CheckSignedResponseAsync(asynchronous));
        Assert.Equal(RefusalReason.WrongPaymentMode, Assert.IsType<DeviceOutcome.Refused>(hub.ReadDeviceAnswer(asynchronous, Meter)).Reason);
    }

    [Fact]
    public async Task A_byte_changed_after_signing_is_an_authentication_failure_and_logged_as_one()
    {
        var signed = hub.Sign(Request(Supplier, Meter, hub.NextCounter(), 1, "4.1.1"), Supplier);
        var text = Encoding.UTF8.GetString(signed).Replace("<sr:CommandVariant>1<", "<sr:CommandVariant>3<", StringComparison.Ordinal);
        var (status, _, body) = await hub.PostAsync(SendCommand, Encoding.UTF8.GetBytes(text));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("E42", await hub.CheckSignedResponseAsync(body));
        Assert.Contains(await LogAsync(), e => e.Record.Direction == MessageDirection.Inbound && e.Record.Outcome.StartsWith("E42 AuthenticationFailure: BadDigest", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_request_signed_with_a_revoked_certificate_is_an_authentication_failure_once_the_revocation_reaches_the_hub()
    {
        Assert.Equal("I99", (await hub.SendAsync(SendCommand, Request(Supplier, Meter, hub.NextCounter(), 1, "4.1.1"))).Code);
        var certificate = Assert.Single(await hub.Store.Parties.ListCertificatesAsync(Supplier), c => c.Role == RemotePartyRole.XmlSign);
        // As certs revoke does it: in the store, from another process, past the hub's cache.
        Assert.True(await hub.Store.Parties.RevokeCertificateAsync(certificate.Thumbprint, SystemClock.Instance.GetCurrentInstant()));
        await Task.Delay(DuisMessageSecurity.BindingFreshFor.ToTimeSpan() + TimeSpan.FromMilliseconds(200));

        var (code, _) = await hub.SendAsync(SendCommand, Request(Supplier, Meter, hub.NextCounter(), 1, "4.1.1"));

        Assert.Equal("E42", code);
        Assert.Contains(await LogAsync(), e => e.Record.Outcome.StartsWith($"E42 AuthenticationFailure: CertificateRevoked: the signing certificate (serial {certificate.SerialNumber}) was revoked at ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_certificate_revoked_by_a_process_whose_clock_runs_ahead_of_the_hubs_is_refused_at_once()
    {
        var certificate = Assert.Single(await hub.Store.Parties.ListCertificatesAsync(Supplier), c => c.Role == RemotePartyRole.XmlSign);
        // certs revoke on a host whose clock is ten minutes ahead of the hub's (or the hub's stepped back since).
        Assert.True(await hub.Store.Parties.RevokeCertificateAsync(certificate.Thumbprint, SystemClock.Instance.GetCurrentInstant() + Duration.FromMinutes(10)));
        await Task.Delay(DuisMessageSecurity.BindingFreshFor.ToTimeSpan() + TimeSpan.FromMilliseconds(200));

        var (code, _) = await hub.SendAsync(SendCommand, Request(Supplier, Meter, hub.NextCounter(), 1, "4.1.1"));

        Assert.Equal("E42", code);
        Assert.Contains(await LogAsync(), e => e.Record.Outcome.StartsWith("E42 AuthenticationFailure: CertificateRevoked", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_user_and_certificate_added_by_another_process_are_taken_on_the_next_request_after_a_refusal()
    {
        Assert.Equal("E42", (await hub.SendAsync(SendCommand, Request(Stranger, Meter, hub.NextCounter(), 1, "4.1.1"), Stranger)).Code);

        // As users add and certs import do it: in the store, past the hub's caches, with no wait after.
        await hub.Store.Parties.AddUserAsync(new Core.Parties.DccUser(Stranger, "Late Supplier", Core.Catalogue.DccUserRole.ImportSupplier, Core.Parties.DccUserStatus.Active, hub.Receiver.Url));
        await hub.Store.Parties.AddCertificateAsync(OrganisationCertificate.FromX509(hub.KeyOf(Stranger)));
        var (code, _) = await hub.SendAsync(SendCommand, Request(Stranger, Meter, hub.NextCounter(), 1, "4.1.1"), Stranger);

        // No refusal of the unknown certificate or user was kept.
        Assert.Equal("I99", code);
    }

    [Fact]
    public async Task A_request_from_an_unknown_originator_is_an_authentication_failure()
    {
        var (code, _) = await hub.SendAsync(SendCommand, Request(Stranger, Meter, hub.NextCounter(), 1, "4.1.1"), Stranger);
        Assert.Equal("E42", code);
    }

    [Fact]
    public async Task A_request_signed_by_the_dsp_itself_is_an_authentication_failure_saying_the_dsp_is_no_dcc_user()
    {
        using var dsp = hub.DspCertificate;
        using var key = XmlSignatureKey.ForSigning(dsp);
        var signed = DuisSignature.Sign(Encoding.UTF8.GetBytes(Request(Eui64Defaults.Dsp, Meter, hub.NextCounter(), 1, "4.1.1")), key);
        var (status, _, body) = await hub.PostAsync(SendCommand, signed);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("E42", await hub.CheckSignedResponseAsync(body));
        Assert.Contains(await LogAsync(), e => e.Record.Outcome.StartsWith($"E42 AuthenticationFailure: OriginatorIsTheDsp: the RequestID's originator {Eui64Defaults.Dsp} is the DSP", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_request_signed_with_another_users_key_is_an_authentication_failure()
    {
        var (code, _) = await hub.SendAsync(SendCommand, Request(Supplier, Meter, hub.NextCounter(), 1, "4.1.1"), NetworkOperator);
        Assert.Equal("E42", code);
        Assert.Contains(await LogAsync(), e => e.Record.Outcome.Contains("OriginatorMismatch", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_role_not_eligible_for_the_srv_gets_E2()
    {
        // 4.1.4 Read Instantaneous Import Block Counters is for gas suppliers only.
        var (code, _) = await hub.SendAsync(SendCommand, Request(NetworkOperator, Meter, hub.NextCounter(), 1, "4.1.4"));
        Assert.Equal("E2", code);
    }

    [Fact]
    public async Task An_unknown_device_gets_E19()
    {
        var (code, _) = await hub.SendAsync(SendCommand, Request(Supplier, UnknownMeter, hub.NextCounter(), 1, "4.1.1"));
        Assert.Equal("E19", code);
    }

    [Fact]
    public async Task A_command_variant_sent_to_another_endpoint_gets_E13_and_one_unfit_for_the_srv_gets_E12()
    {
        Assert.Equal("E13", (await hub.SendAsync(NonDevice, Request(Supplier, Meter, hub.NextCounter(), 1, "4.1.1"))).Code);
        Assert.Equal("E12", (await hub.SendAsync(SendCommand, Request(Supplier, Dsp, hub.NextCounter(), 1, "8.2", $"<sr:DeviceID>{Meter}</sr:DeviceID>"))).Code);
        Assert.Equal("E12", (await hub.SendAsync(SendCommand, Request(Supplier, Meter, hub.NextCounter(), 1, "7.2"))).Code);
    }

    [Fact]
    public async Task Read_inventory_answers_with_the_device_and_pre_notification_adds_one()
    {
        var (code, response) = await hub.SendAsync(NonDevice, Request(Supplier, Dsp, hub.NextCounter(), 8, "8.2", $"<sr:DeviceID>{Meter}</sr:DeviceID>"));
        Assert.Equal("I0", code);
        var device = response.Descendants(Sr + "Device").Single();
        Assert.Equal(Meter.ToString(), device.Element(Sr + "DeviceID")!.Value);
        Assert.Equal("ESME", device.Element(Sr + "DeviceType")!.Value);
        Assert.Equal("Commissioned", device.Element(Sr + "DeviceStatus")!.Value);

        var newMeter = Eui64.Parse("00-DB-12-34-56-78-90-B1");
        var (notified, _) = await hub.SendAsync(NonDevice, Request(Supplier, Dsp, hub.NextCounter(), 8, "12.2",
            $"<sr:DeviceID>{newMeter}</sr:DeviceID><sr:DeviceManufacturer>AB01</sr:DeviceManufacturer><sr:DeviceModel>020B</sr:DeviceModel><sr:DeviceType>GSME</sr:DeviceType>"));
        Assert.Equal("I0", notified);
        var added = await hub.Store.Inventory.FindDeviceAsync(newMeter);
        Assert.Equal(new Device(newMeter, DeviceType.GSME, SmiStatus.Pending) { Manufacturer = "AB01", Model = "020B" }, added);
    }

    [Fact]
    public async Task Malformed_xml_gets_a_problem_document_never_a_500_and_a_wrong_body_gets_E41()
    {
        var (status, contentType, body) = await hub.PostAsync(SendCommand, "<sr:Request"u8.ToArray());
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("application/problem+json", contentType);
        Assert.Contains("not well-formed", body, StringComparison.Ordinal);

        (status, _, body) = await hub.PostAsync(SendCommand, """<?xml version="1.0"?><!DOCTYPE sr:Request [<!ENTITY x "y">]><sr:Request/>"""u8.ToArray());
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("the request is not well-formed XML: it has a DTD (<!DOCTYPE>), which a DUIS request may not have",
            System.Text.Json.JsonDocument.Parse(body).RootElement.GetProperty("detail").GetString());

        var wrongBody = Request(Supplier, Meter, hub.NextCounter(), 1, "4.1.1").Replace("ReadInstantaneousImportRegisters", "ReadInventory", StringComparison.Ordinal);
        Assert.Equal("E41", (await hub.SendAsync(SendCommand, wrongBody)).Code);

        // Refused before it is read: a request nested far deeper than DUIS ever is.
        var nested = string.Concat(Enumerable.Repeat("<a>", 10_000)) + string.Concat(Enumerable.Repeat("</a>", 10_000));
        (status, contentType, body) = await hub.PostAsync(SendCommand, Encoding.UTF8.GetBytes(Request(Supplier, Meter, hub.NextCounter(), 1, "4.1.1", nested)));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("application/problem+json", contentType);
        Assert.Contains("elements are nested deeper than 64", body, StringComparison.Ordinal);

        // Refused before it is read: UTF-16, whose bytes the scan would read as an unclosed comment, with an element of
        // namespaced attributes the parser takes seconds on (minutes at a few megabytes) after it.
        var attributes = string.Concat(Enumerable.Range(0, 20_000).Select(i => $" xmlns:p{i}=\"u{i}\" p{i}:a=\"\""));
        var utf16 = $"<?xml version=\"1.0\" encoding=\"UTF-16\"?><sr:Request xmlns:sr=\"http://www.dccinterface.co.uk/ServiceUserGateway\">\u213C\u2D2D<sr:Header/><sr:Body><sr:X{attributes}/></sr:Body></sr:Request>";
        (status, contentType, body) = await hub.PostAsync(SendCommand, [.. Encoding.Unicode.GetPreamble(), .. Encoding.Unicode.GetBytes(utf16)]);
        Assert.Equal((HttpStatusCode.BadRequest, "application/problem+json"), (status, contentType));
        Assert.Contains("a DUIS request is UTF-8 encoded", body, StringComparison.Ordinal);

        // A refusal quotes what was sent, cut short: a RequestID a megabyte long does not come back whole.
        var longId = Request(Supplier, Meter, hub.NextCounter(), 1, "4.1.1").Replace(":00-DB-", $":{new string('7', 1_000_000)}:00-DB-", StringComparison.Ordinal);
        (status, _, body) = await hub.PostAsync(SendCommand, Encoding.UTF8.GetBytes(longId));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("characters left out)", body, StringComparison.Ordinal);
        Assert.True(body.Length < 2_000, $"{body.Length} characters came back");
    }

    [Fact]
    public async Task A_body_declared_as_anything_but_xml_is_refused_415_logged_and_its_counter_not_spent()
    {
        var counter = hub.NextCounter();
        var signed = hub.Sign(Request(Supplier, Meter, counter, 1, "4.1.1"), Supplier);

        foreach (var declared in new[] { "application/x-www-form-urlencoded", "application/json; charset=utf-8", "not a media type" })
        {
            var (status, contentType, body) = await hub.PostAsync(SendCommand, signed, declared);
            Assert.Equal((HttpStatusCode.UnsupportedMediaType, "application/problem+json"), (status, contentType));
            Assert.Contains($"send it as Content-Type: application/xml, not '{declared}'", JsonDocument.Parse(body).RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
            var refused = (await LogAsync()).Last(e => e.Record.Direction == MessageDirection.Inbound).Record;
            Assert.StartsWith("NotXml: a DUIS request is XML", refused.Outcome, StringComparison.Ordinal);
            Assert.Equal(signed, refused.Payload.ToArray());
        }

        // Refused unread: the same signed request, declared as XML, is taken under the same counter.
        var (accepted, _, response) = await hub.PostAsync(SendCommand, signed, "text/xml; charset=utf-8");
        Assert.Equal(HttpStatusCode.OK, accepted);
        Assert.Equal("I99", await hub.CheckSignedResponseAsync(response));
        // No Content-Type at all is read as XML; this one is a replay by now.
        var (replayed, _, again) = await hub.PostAsync(SendCommand, signed, contentType: null);
        Assert.Equal(HttpStatusCode.OK, replayed);
        Assert.Equal("E43", await hub.CheckSignedResponseAsync(again));
    }

    [Fact]
    public async Task A_wrong_method_or_an_unknown_path_gets_a_problem_document()
    {
        using var get = await hub.Http.GetAsync(new Uri(SendCommand, UriKind.Relative));
        Assert.Equal(HttpStatusCode.MethodNotAllowed, get.StatusCode);
        Assert.Equal("application/problem+json", get.Content.Headers.ContentType?.MediaType);

        var (status, contentType, body) = await hub.PostAsync("/api/v1/serviceX", "<sr:Request/>"u8.ToArray());
        Assert.Equal((HttpStatusCode.NotFound, "application/problem+json"), (status, contentType));
        Assert.Contains("\"status\":404", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_body_over_16_MiB_is_refused_with_413_whether_or_not_it_declares_its_length()
    {
        var oversized = new byte[(16 * 1024 * 1024) + 1];
        var (status, contentType, body) = await hub.PostAsync(SendCommand, oversized);
        Assert.Equal((HttpStatusCode.RequestEntityTooLarge, "application/problem+json"), (status, contentType));
        Assert.Contains("the body is over 16,777,216 bytes, the most a DUIS message may be", body, StringComparison.Ordinal);

        // Chunked: no Content-Length to check before reading.
        using var chunked = new StreamContent(new MemoryStream(oversized));
        chunked.Headers.ContentLength = null;
        using var request = new HttpRequestMessage(HttpMethod.Post, SendCommand) { Content = chunked };
        request.Headers.TransferEncodingChunked = true;
        using var response = await hub.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }

    [Fact]
    public async Task A_declared_length_alone_does_not_make_the_hub_set_aside_memory_for_a_body_not_sent()
    {
        var address = new Uri(hub.Http.BaseAddress!, SendCommand);
        var clients = new List<System.Net.Sockets.TcpClient>();
        var before = GC.GetTotalAllocatedBytes(precise: true);
        try
        {
            // 64 senders each declare 16 MiB, the most a DUIS body may be, and send one byte of it.
            for (var i = 0; i < 64; i++)
            {
                var client = new System.Net.Sockets.TcpClient();
                clients.Add(client);
                await client.ConnectAsync(address.Host, address.Port);
                await client.GetStream().WriteAsync(Encoding.ASCII.GetBytes($"POST {SendCommand} HTTP/1.1\r\nHost: {address.Authority}\r\nContent-Type: application/xml\r\nContent-Length: {16 * 1024 * 1024}\r\n\r\n<"));
            }
            await Task.Delay(TimeSpan.FromSeconds(1));
            var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
            // A buffer of the declared size each would be 1 GiB.
            Assert.True(allocated < 256L * 1024 * 1024, $"{allocated / 1024 / 1024} MiB allocated for 64 bodies of one byte");
        }
        finally
        {
            clients.ForEach(c => c.Dispose());
        }
    }

    [Theory]
    [InlineData("Transfer-Encoding: chunked", "zz\r\n<sr:Request/>\r\n0\r\n\r\n")] // not a chunk size
    [InlineData("Transfer-Encoding: chunked", "3\r\n<srXX0\r\n\r\n")] // a chunk without its CRLF
    [InlineData("Content-Length: 1000", "<sr:Request")] // the client stops sending before the length it gave: 408 once Kestrel's least data rate is missed (5 s)
    public async Task A_body_that_cannot_be_read_is_the_clients_fault_a_4xx_problem_not_a_500(string framing, string body)
    {
        var address = new Uri(hub.Http.BaseAddress!, SendCommand);
        using var client = new System.Net.Sockets.TcpClient();
        await client.ConnectAsync(address.Host, address.Port);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"POST {SendCommand} HTTP/1.1\r\nHost: {address.Authority}\r\nContent-Type: application/xml\r\n{framing}\r\n\r\n{body}"));
        using var reader = new StreamReader(stream, Encoding.ASCII);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var response = await reader.ReadToEndAsync(timeout.Token);
        Assert.StartsWith(framing.StartsWith("Content-Length", StringComparison.Ordinal) ? "HTTP/1.1 408 " : "HTTP/1.1 400 ", response, StringComparison.Ordinal);
        Assert.Contains("Content-Type: application/problem+json", response, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(HttpStatusCode.OK, (await hub.Http.GetAsync(new Uri("/health", UriKind.Relative))).StatusCode);
    }

    [Fact]
    public async Task A_request_refused_before_its_sender_is_authenticated_is_logged_up_to_64_KiB_with_its_length_and_digest()
    {
        var small = "<sr:Request"u8.ToArray();
        var large = Encoding.UTF8.GetBytes("<sr:Request>" + new string('x', 1_048_576));
        Assert.Equal(HttpStatusCode.BadRequest, (await hub.PostAsync(SendCommand, small)).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await hub.PostAsync(SendCommand, large)).Status);

        var refused = (await LogAsync()).Where(e => e.Record.Direction == MessageDirection.Inbound && e.Record.Outcome.StartsWith("MalformedXml", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, refused.Count);
        Assert.Equal(small, refused[0].Record.Payload.ToArray());
        AssertLoggedCut(refused[1], large, "1,048,588");
        Assert.True((await MessageLogChain.VerifyAsync(hub.Store.MessageLog)).IsIntact);
    }

    [Fact]
    public async Task A_refused_replay_of_a_large_signed_request_is_logged_up_to_64_KiB_with_the_digest_of_the_request_it_repeats()
    {
        var image = new byte[96_000];
        new Random(11).NextBytes(image);
        var counter = hub.NextCounter();
        var signed = hub.Sign(Request(Supplier, Dsp, counter, 8, "11.1", UpdateFirmwareBody(Convert.ToBase64String(image), $"{Meter}")), Supplier);
        var (status, _, body) = await hub.PostAsync(NonDevice, signed);
        Assert.Equal((HttpStatusCode.OK, "I99"), (status, await hub.CheckSignedResponseAsync(body)));
        (status, _, body) = await hub.PostAsync(NonDevice, signed);
        Assert.Equal((HttpStatusCode.OK, "E43"), (status, await hub.CheckSignedResponseAsync(body)));
        // The firmware the first one sent reaches the meter; its I0 is not this test's.
        Assert.Equal("I0", await hub.CheckSignedResponseAsync(await hub.Receiver.NextAsync(TimeSpan.FromSeconds(30))));

        var correlation = new RequestId(Supplier, Dsp, counter).ToString();
        var requests = (await LogAsync()).Where(e => e.Record.Correlation == correlation && e.Record.Direction == MessageDirection.Inbound).ToList();
        Assert.Equal(["I99", "E43"], requests.Select(e => e.Record.Outcome[..3]));
        Assert.Equal(signed, requests[0].Record.Payload.ToArray());
        // The replay's digest is that of the entry it repeats, which holds the request whole.
        AssertLoggedCut(requests[1], requests[0].Record.Payload.ToArray(), signed.Length.ToString("N0", CultureInfo.InvariantCulture));
        Assert.True((await MessageLogChain.VerifyAsync(hub.Store.MessageLog)).IsIntact);
    }

    /// <summary>The entry keeps the first 64 KiB of <paramref name="whole"/>, and its outcome ends with the whole's length and SHA-256.</summary>
    private static void AssertLoggedCut(MessageLogEntry entry, byte[] whole, string length)
    {
        Assert.Equal(whole.AsSpan(0, DuisGateway.MaxRefusedRequestLogBytes).ToArray(), entry.Record.Payload.ToArray());
        Assert.EndsWith($"[the log keeps the first 65,536 of its {length} bytes; SHA-256 of all of them {Convert.ToHexString(SHA256.HashData(whole))}]", entry.Record.Outcome, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Every_request_and_response_is_in_the_message_log_whose_chain_verifies()
    {
        await hub.SendAsync(SendCommand, Request(Supplier, Meter, hub.NextCounter(), 1, "4.1.1"));
        await hub.SendAsync(SendCommand, Request(Supplier, UnknownMeter, hub.NextCounter(), 1, "4.1.1"));
        await hub.Receiver.NextAsync(TimeSpan.FromSeconds(20));
        var log = await LogAsync();
        Assert.Equal(2, log.Count(e => e.Record.Direction == MessageDirection.Inbound));
        Assert.Contains(log, e => e.Record.Direction == MessageDirection.Outbound && e.Record.Outcome == "I99");
        Assert.Contains(log, e => e.Record.Direction == MessageDirection.Outbound && e.Record.Outcome == "E19");
        Assert.True((await MessageLogChain.VerifyAsync(hub.Store.MessageLog)).IsIntact);
    }

    /// <summary>
    /// The message log entry of the delivery of a request's asynchronous response, logged just after its POST, and the
    /// sequence of the entry that handed the response over to delivery, which holds its bytes.
    /// </summary>
    private async Task<(long HandedOver, MessageLogRecord Delivered)> DeliveryLoggedAsync(RequestId request)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (waited.Elapsed < TimeSpan.FromSeconds(20))
        {
            var log = (await LogAsync()).Where(e => e.Record.Correlation == request.ToString()).ToList();
            if (log.LastOrDefault(e => e.Record.Outcome.Contains(" queued for delivery to ", StringComparison.Ordinal)) is { } handedOver
                && log.LastOrDefault(e => e.Record.Outcome.EndsWith($"; Delivered; the bytes of entry {handedOver.Sequence}", StringComparison.Ordinal)) is { } delivered)
            {
                return (handedOver.Sequence, delivered.Record);
            }
            await Task.Delay(50);
        }
        throw new TimeoutException($"no delivery of an answer to {request} logged within 20 s");
    }

    private async Task<List<MessageLogEntry>> LogAsync()
    {
        var entries = new List<MessageLogEntry>();
        await foreach (var entry in hub.Store.MessageLog.ReadAsync())
        {
            entries.Add(entry);
        }
        return entries;
    }
}
