using System.Security.Cryptography.Xml;
using System.Text;
using System.Xml.Linq;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using NodaTime;
using OpenDcc.Core.Alerts;
using OpenDcc.Core.Duis;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Security;
using static OpenDcc.Core.Tests.Security.TestCertificates;

namespace OpenDcc.Core.Tests.Duis;

/// <summary>A DCC Alert is a DUIS Response whose body is a DCCAlertMessage, in the schema's order, signed by the DSP.</summary>
public class DuisDccAlertTests
{
    private static readonly XNamespace Sr = DuisNamespaces.Sr;

    private static readonly System.Security.Cryptography.X509Certificates.X509Certificate2 DspXmlSign = Issue(Dsp, RemotePartyRole.DspXmlSign);

    private static readonly Eui64 Meter = Eui64.Parse("00-DB-12-34-56-78-90-A0");

    private static DuisDccAlert MeterCommissioned() =>
        new(Dsp, Supplier, 1_795_906_100_263, DccAlertCodes.MeterCommissioned, new DccAlertEvent.MeterStatusChange(Meter, "1012345678901"), Instant.FromUtc(2026, 11, 29, 9, 0, 1) + Duration.FromMilliseconds(250));

    [Fact]
    public void A_meter_status_change_alert_is_a_response_with_a_dcc_alert_message_carrying_the_device_status_change_event_in_schema_order()
    {
        var document = XDocument.Parse(Encoding.UTF8.GetString(MeterCommissioned().ToCanonicalXml()));

        var root = document.Root!;
        Assert.Equal(Sr + "Response", root.Name);
        Assert.Equal(["Header", "Body"], root.Elements().Select(e => e.Name.LocalName));
        Assert.Equal(
            [("ResponseID", $"{Dsp}:{Supplier}:1795906100263"), ("ResponseCode", "I0"), ("ResponseDateTime", "2026-11-29T09:00:01.250Z")],
            root.Element(Sr + "Header")!.Elements().Select(e => (e.Name.LocalName, e.Value)));
        var message = Assert.Single(root.Element(Sr + "Body")!.Elements());
        Assert.Equal(Sr + "DCCAlertMessage", message.Name);
        Assert.Equal(["DCCAlertCode", "DCCAlert"], message.Elements().Select(e => e.Name.LocalName));
        Assert.Equal("N12", message.Element(Sr + "DCCAlertCode")!.Value);
        var alertEvent = Assert.Single(message.Element(Sr + "DCCAlert")!.Elements());
        Assert.Equal(Sr + "DeviceStatusChangeEvent", alertEvent.Name);
        Assert.Equal(["DeviceID", "DeviceStatusChange"], alertEvent.Elements().Select(e => e.Name.LocalName));
        Assert.Equal(Meter.ToString(), alertEvent.Element(Sr + "DeviceID")!.Value);
        var identity = Assert.Single(alertEvent.Element(Sr + "DeviceStatusChange")!.Elements());
        Assert.Equal(Sr + "MeterIdentity", identity.Name);
        Assert.Equal("1012345678901", identity.Element(Sr + "MeterMPxNs")!.Element(Sr + "ImportMPxN")!.Value);
    }

    [Fact]
    public void A_power_outage_alert_is_AD1_with_a_power_outage_event_naming_the_comms_hub_the_start_and_the_mpan_in_schema_order()
    {
        var commsHub = Eui64.Parse("00-DB-12-34-56-78-90-A2");
        var start = Instant.FromUtc(2026, 11, 29, 8, 47, 3) + Duration.FromMilliseconds(5);
        var alert = new DuisDccAlert(Dsp, Supplier, 7, DccAlertCodes.PowerOutage, new DccAlertEvent.PowerOutage(commsHub, start, Mpan.Parse("1200000000011")), Instant.FromUtc(2026, 11, 29, 9, 0));

        var message = XDocument.Parse(Encoding.UTF8.GetString(alert.ToCanonicalXml())).Root!.Element(Sr + "Body")!.Element(Sr + "DCCAlertMessage")!;

        Assert.Equal("AD1", message.Element(Sr + "DCCAlertCode")!.Value);
        var alertEvent = Assert.Single(message.Element(Sr + "DCCAlert")!.Elements());
        Assert.Equal(Sr + "PowerOutageEvent", alertEvent.Name);
        Assert.Equal(
            [("CommsHubDeviceID", "00-DB-12-34-56-78-90-A2"), ("StartDateTime", "2026-11-29T08:47:03.005Z"), ("MPxN", "1200000000011")],
            alertEvent.Elements().Select(e => (e.Name.LocalName, e.Value)));
    }

    [Fact]
    public void A_firmware_distribution_failure_names_the_update_firmware_request_and_the_meters_as_one_device_id_list()
    {
        var request = new RequestId(Supplier, Dsp, 1_795_906_000_001);
        var alert = new DuisDccAlert(Dsp, Supplier, 8, DccAlertCodes.FirmwareDistributionFailure,
            new DccAlertEvent.FirmwareDistributionFailure(request, [Meter, Eui64.Parse("00-DB-12-34-56-78-90-B0")]), Instant.FromUtc(2026, 11, 29, 9, 0));

        var message = XDocument.Parse(Encoding.UTF8.GetString(alert.ToCanonicalXml())).Descendants(Sr + "DCCAlertMessage").Single();

        Assert.Equal("N5", message.Element(Sr + "DCCAlertCode")!.Value);
        var failure = Assert.Single(message.Element(Sr + "DCCAlert")!.Elements());
        Assert.Equal(Sr + "FirmwareDistributionFailure", failure.Name);
        Assert.Equal(
            [("UpdateFirmwareRequestID", $"{Supplier}:{Dsp}:1795906000001"), ("MeterIDs", "00-DB-12-34-56-78-90-A0,00-DB-12-34-56-78-90-B0")],
            failure.Elements().Select(e => (e.Name.LocalName, e.Value)));
        Assert.Throws<ArgumentException>(() => new DccAlertEvent.FirmwareDistributionFailure(request, []));
    }

    [Fact]
    public void A_throttled_run_is_reported_by_sequence_id_and_count_right_after_the_code_in_dcc_and_device_alerts_alike()
    {
        var run = new ThrottledAlerts(1_795_900_000, 42);
        var dcc = XDocument.Parse(Encoding.UTF8.GetString((MeterCommissioned() with { Throttled = run }).ToCanonicalXml())).Descendants(Sr + "DCCAlertMessage").Single();
        var device = XDocument.Parse(Encoding.UTF8.GetString(new DuisDeviceAlert(Meter, Supplier, 9, 0x8F36, new byte[] { 1, 2 }, Instant.FromUtc(2026, 11, 29, 9, 0)) { Throttled = run }.ToCanonicalXml()))
            .Descendants(Sr + "DeviceAlertMessage").Single();

        Assert.Equal(["DCCAlertCode", "ThrottledAlertSequenceId", "ThrottledAlertCount", "DCCAlert"], dcc.Elements().Select(e => e.Name.LocalName));
        Assert.Equal(["AlertCode", "ThrottledAlertSequenceId", "ThrottledAlertCount", "GBCSPayload"], device.Elements().Select(e => e.Name.LocalName));
        Assert.All([dcc, device], message =>
            Assert.Equal(("1795900000", "42"), (message.Element(Sr + "ThrottledAlertSequenceId")!.Value, message.Element(Sr + "ThrottledAlertCount")!.Value)));
    }

    [Fact]
    public async Task A_dcc_alert_signed_with_the_dsp_key_verifies_and_is_its_own_canonical_form()
    {
        var xml = MeterCommissioned().ToCanonicalXml();
        var reference = new XmlDsigC14NTransform();
        reference.LoadInput(DuisSignature.Load(xml));
        using (var output = (Stream)reference.GetOutput(typeof(Stream)))
        using (var reader = new StreamReader(output, Encoding.UTF8))
        {
            Assert.Equal(await reader.ReadToEndAsync(), Encoding.UTF8.GetString(xml));
        }

        using var key = XmlSignatureKey.ForSigning(DspXmlSign);
        var signed = DuisSignature.SignCanonical(xml, key);

        using var verifying = XmlSignatureKey.ForVerifying(DspXmlSign);
        var check = await DuisSignature.VerifyAsync(signed, (_, _, _) => ValueTask.FromResult<XmlSignatureKey?>(verifying), CancellationToken.None);
        var valid = Assert.IsType<SignatureCheck.Valid>(check);
        Assert.Equal("DCCAlertMessage", valid.Document.GetElementsByTagName("DCCAlertMessage", DuisNamespaces.ServiceUserGateway)[0]!.LocalName);
        // One changed character and it no longer verifies.
        var tampered = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(signed).Replace("<sr:DCCAlertCode>N12<", "<sr:DCCAlertCode>N13<", StringComparison.Ordinal));
        Assert.IsType<SignatureCheck.Invalid>(await DuisSignature.VerifyAsync(tampered, (_, _, _) => ValueTask.FromResult<XmlSignatureKey?>(verifying), CancellationToken.None));
    }

    [Property]
    public Property Only_the_schemas_dcc_alert_codes_are_defined() =>
        Prop.ForAll(Gen.Choose(-5, 1200).ToArbitrary(), Gen.Elements("N", "AD", "n", "X", "N0").ToArbitrary(), (number, prefix) =>
        {
            var code = $"{prefix}{number}";
            var expected = code is "AD1" or "N999" || (prefix == "N" && number is >= 1 and <= 65 and not 32);
            return DccAlertCodes.IsDefined(code) == expected;
        });

    [Fact]
    public void A_code_outside_the_schema_or_an_mpxn_longer_than_13_characters_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new DuisDccAlert(Dsp, Supplier, 1, "N32", new DccAlertEvent.MeterStatusChange(Meter, "1"), Instant.FromUnixTimeSeconds(0)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new DccAlertEvent.MeterStatusChange(Meter, "12345678901234"));
    }
}
