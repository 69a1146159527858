using System.Text;
using NodaTime;
using OpenDcc.Core.Alerts;
using OpenDcc.Core.Duis;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Security;
using OpenDcc.Interop.Tests.Tooling;

namespace OpenDcc.Interop.Tests;

/// <summary>
/// Alert documents the hub writes that the gateway tests do not raise end to end against the tools — alerts reporting a
/// throttled run (ThrottledAlertSequenceId, ThrottledAlertCount), DCC and device alerts alike, and the firmware
/// distribution failure —, signed with the ZAZ1 DSP key: the DCC tool's Validate accepts them and duis-parser reads
/// them. (Both end to end are in the Hub tests; this holds the documents to the real tools.)
/// </summary>
[Collection(DccToolingCollection.Name)]
public sealed class AlertDocumentInteropTests(SignedRtds rtds)
{
    [Fact]
    public async Task A_dcc_alert_and_a_device_alert_reporting_a_throttled_run_pass_the_tools_validation_and_duis_parser_reads_the_run()
    {
        var identities = rtds.Tooling.Identities;
        using var dsp = FileKeyStore.Combine(identities.Dsp.CertificatePath, identities.Dsp.KeyPath);
        using var key = XmlSignatureKey.ForSigning(dsp);
        var at = SystemClock.Instance.GetCurrentInstant();
        var commsHub = Eui64.Parse("00-DB-12-34-56-78-90-A2");
        var meter = Eui64.Parse("00-DB-12-34-56-78-90-A0");
        var run = new ThrottledAlerts(1_795_900_123, 17);
        var alerts = new[]
        {
            new DuisDccAlert(identities.Dsp.Id, identities.NetworkOperator.Id, 1, DccAlertCodes.PowerOutage, new DccAlertEvent.PowerOutage(commsHub, at - Duration.FromMinutes(4), Mpan.Parse("1200000000011")), at) { Throttled = run }.ToCanonicalXml(),
            new DuisDeviceAlert(meter, identities.Supplier.Id, 2, 0x8F36, new byte[] { 0xC1, 0x03, 0x03, 0x02 }, at) { Throttled = run }.ToCanonicalXml(),
        }.Select(xml => Encoding.UTF8.GetString(DuisSignature.Sign(xml, key))).ToList();

        Assert.All(await rtds.Tooling.ValidateManyAsync(alerts), v => Assert.True(v.Succeeded, v.Reason));
        var parsed = await rtds.Tooling.ParseManyAsync(alerts);
        Assert.All(parsed, p =>
        {
            Assert.True(p.Parsed, p.Detail);
            Assert.Contains("\"ThrottledAlertSequenceId\":\"1795900123\"", p.Detail, StringComparison.Ordinal);
            Assert.Contains("\"ThrottledAlertCount\":\"17\"", p.Detail, StringComparison.Ordinal);
        });
    }

    [Fact]
    public async Task A_firmware_distribution_failure_naming_the_update_firmware_request_and_two_meters_passes_the_tools_validation_and_duis_parser_reads_it()
    {
        var identities = rtds.Tooling.Identities;
        using var dsp = FileKeyStore.Combine(identities.Dsp.CertificatePath, identities.Dsp.KeyPath);
        using var key = XmlSignatureKey.ForSigning(dsp);
        var request = new RequestId(identities.Supplier.Id, identities.Dsp.Id, 1_795_906_000_001);
        var meters = new[] { Eui64.Parse("00-DB-12-34-56-78-90-A0"), Eui64.Parse("00-DB-12-34-56-78-90-B0") };
        var alert = Encoding.UTF8.GetString(DuisSignature.Sign(
            new DuisDccAlert(identities.Dsp.Id, identities.Supplier.Id, 3, DccAlertCodes.FirmwareDistributionFailure, new DccAlertEvent.FirmwareDistributionFailure(request, meters), SystemClock.Instance.GetCurrentInstant()).ToCanonicalXml(),
            key));

        var validation = await rtds.Tooling.ValidateAsync(alert);
        Assert.True(validation.Succeeded, validation.Reason);
        var parsed = Assert.Single(await rtds.Tooling.ParseManyAsync([alert]));
        Assert.True(parsed.Parsed, parsed.Detail);
        Assert.Contains("\"DCCAlertCode\":\"N5\"", parsed.Detail, StringComparison.Ordinal);
        Assert.Contains($"\"MeterIDs\":\"{string.Join(',', meters)}\"", parsed.Detail, StringComparison.Ordinal);
    }
}
