using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Xml.Linq;
using NodaTime;
using OpenDcc.Core.Catalogue;
using OpenDcc.Core.Duis;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Translation;
using OpenDcc.Core.Translation.Gbcs;
using static OpenDcc.Hub.Tests.TestHub;

namespace OpenDcc.Hub.Tests;

/// <summary>
/// Critical commands end to end (duis-and-dcc.md §1.4, §1.7): Transform (CV 4) returns the device's own pre-command,
/// the supplier signs it with its Digital Signing key and sends it back as a Signed Pre-Command (CV 5), the gateway
/// checks it, the ACB MACs it, and the simulated meter checks the supplier's signature against its trust anchor.
/// </summary>
public class CriticalCommandTests : IAsyncLifetime
{
    private const string SendCommand = "/api/v1/serviceS";
    private const string Transform = "/api/v1/serviceT";
    private static readonly XNamespace Sr = DuisNamespaces.Sr;
    private TestHub hub = null!;

    public async Task InitializeAsync() => hub = await StartAsync(overLoopback: OverLoopback);

    /// <summary>Whether the fleet runs in a simulator host of its own, reached over loopback (<c>serve --simulator</c>).</summary>
    protected virtual bool OverLoopback => false;

    public async Task DisposeAsync() => await hub.DisposeAsync();

    private Instant Now => SystemClock.Instance.GetCurrentInstant();

    private SupplyState MeterSupply =>
        Assert.IsType<DeviceOutcome.SupplyStatus>(hub.Wan.Fleet[0].ElectricityMeter.Execute(new DeviceOperation.ReadSupplyStatus(), Now)).State;

    [Fact]
    public async Task Disable_then_enable_supply_through_transform_and_a_signed_pre_command_switches_the_meter_and_answers_the_supplier()
    {
        Assert.Equal(SupplyState.Enabled, MeterSupply);

        var disabled = await SendSignedAsync("7.2", await TransformAsync("7.2"));
        Assert.Equal(SupplyState.Disabled, MeterSupply);
        Assert.IsType<DeviceOutcome.Done>(hub.ReadDeviceAnswer(disabled, Meter));

        var enabled = await SendSignedAsync("7.1", await TransformAsync("7.1"));
        Assert.Equal(SupplyState.Enabled, MeterSupply);
        Assert.IsType<DeviceOutcome.Done>(hub.ReadDeviceAnswer(enabled, Meter));
    }

    [Fact]
    public async Task Firmware_distributed_with_11_1_is_activated_by_11_3_naming_its_hash_and_a_meter_refuses_another_hash()
    {
        var image = "OpenDcc test firmware 2.0.0"u8.ToArray();
        var (code, _) = await hub.SendAsync("/api/v1/serviceD", Request(Supplier, Dsp, hub.NextCounter(), 8, "11.1",
            $"<sr:FirmwareImage>{Convert.ToBase64String(image)}</sr:FirmwareImage><sr:FirmwareVersion>2.0.0</sr:FirmwareVersion><sr:DeviceIDList>{Meter}</sr:DeviceIDList>"));
        Assert.Equal("I99", code);
        Assert.Equal("I0", await hub.CheckSignedResponseAsync(await hub.Receiver.NextAsync(TimeSpan.FromSeconds(20))));
        Assert.Equal("2.0.0", Firmware.Pending);

        var another = Convert.ToHexString(SHA256.HashData("another image"u8));
        var refused = await SendSignedAsync("11.3", await TransformAsync("11.3", bodyInner: $"<sr:FirmwareHash>{another}</sr:FirmwareHash>"));
        Assert.IsType<DeviceOutcome.Refused>(hub.ReadDeviceAnswer(refused, Meter));
        Assert.Equal(("1.0.0", "2.0.0"), (Firmware.Running, Firmware.Pending));

        var activated = await SendSignedAsync("11.3", await TransformAsync("11.3", bodyInner: $"<sr:FirmwareHash>{Convert.ToHexString(SHA256.HashData(image))}</sr:FirmwareHash>"));
        Assert.IsType<DeviceOutcome.Done>(hub.ReadDeviceAnswer(activated, Meter));
        Assert.Equal(("2.0.0", (string?)null), (Firmware.Running, Firmware.Pending));
    }

    private DeviceOutcome.FirmwareVersion Firmware =>
        Assert.IsType<DeviceOutcome.FirmwareVersion>(hub.Wan.Fleet[0].ElectricityMeter.Execute(new DeviceOperation.ReadFirmwareVersion(), Now));

    [Fact]
    public async Task Arm_supply_leaves_the_meter_armed()
    {
        await SendSignedAsync("7.3", await TransformAsync("7.3"));
        Assert.Equal(SupplyState.Armed, MeterSupply);
    }

    [Fact]
    public async Task Transform_returns_the_meters_pre_command_naming_the_supplier_and_the_request_counter_unsigned()
    {
        var counter = hub.NextCounter();
        var (code, response) = await hub.SendAsync(Transform, Request(Supplier, Meter, counter, 4, "7.2"));
        Assert.Equal("I0", code);
        var preCommand = response.Descendants(Sr + "PreCommand").Single();
        Assert.Equal(GbcsReferenceAdapter.AdapterName, preCommand.Element(Sr + "GBCSVersion")!.Value);

        var read = GbcsCodec.ReadPreCommand(Convert.FromBase64String(preCommand.Element(Sr + "GBCSPayload")!.Value));
        Assert.True(read.Succeeded, read.Reason);
        Assert.Equal(new GbcsHeader(counter, Supplier, Meter), read.Header);
        Assert.Equal(new DeviceOperation.SetSupply(SupplyState.Disabled), read.Value.Operation);
        Assert.False(read.Value.IsSigned);
    }

    [Fact]
    public async Task A_pre_command_signed_with_another_key_is_refused_E45_before_the_wan_and_the_meter_keeps_its_supply()
    {
        var preCommand = await TransformAsync("7.2");
        using var forger = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        Assert.Equal("E45", await SendAsync("7.2", GbcsCodec.SignPreCommand(preCommand, forger)));
        // Signed with the supplier's XmlSign key rather than its Digital Signing key: refused the same way.
        using (var xmlSign = hub.KeyOf(Supplier).GetECDsaPrivateKey()!)
        {
            Assert.Equal("E45", await SendAsync("7.2", GbcsCodec.SignPreCommand(preCommand, xmlSign)));
        }

        Assert.Equal(SupplyState.Enabled, MeterSupply);
        await Assert.ThrowsAsync<TimeoutException>(() => hub.Receiver.NextAsync(TimeSpan.FromSeconds(2)));
    }

    [Fact]
    public async Task An_unsigned_a_mangled_a_misdirected_or_a_relabelled_pre_command_is_refused_E44()
    {
        var preCommand = await TransformAsync("7.2");
        var signed = Sign(preCommand);

        Assert.Equal("E44", await SendAsync("7.2", preCommand));
        Assert.Equal("E44", await SendAsync("7.2", signed[..^1]));
        // The pre-command of the gas meter, sent for the electricity meter.
        Assert.Equal("E44", await SendAsync("7.2", Sign(await TransformAsync("7.2", GasMeter))));
        // A Disable Supply pre-command sent as Enable Supply.
        Assert.Equal("E44", await SendAsync("7.1", signed));
        Assert.Equal("E41", await SendAsync("7.2", "not base64!"u8.ToArray(), raw: true));

        Assert.Equal(SupplyState.Enabled, MeterSupply);
    }

    [Fact]
    public async Task A_critical_srv_sent_as_cv_1_is_refused_E12_and_transform_for_an_early_smart_meter_is_E11()
    {
        Assert.Equal("E12", (await hub.SendAsync(SendCommand, Request(Supplier, Meter, hub.NextCounter(), 1, "7.2"))).Code);
        Assert.Equal("E12", (await hub.SendAsync(Transform, Request(Supplier, Meter, hub.NextCounter(), 4, "7.4"))).Code);
        Assert.Equal("E11", (await hub.SendAsync(Transform, Request(Supplier, EarlySmartMeter, hub.NextCounter(), 4, "7.2"))).Code);
        Assert.Equal(SupplyState.Enabled, MeterSupply);
    }

    [Fact]
    public async Task A_signed_pre_command_sent_again_under_a_new_request_id_is_refused_E44_by_the_dcc_as_the_meter_would_drop_it()
    {
        var disable = Sign(await TransformAsync("7.2"));
        Assert.Equal("I99", await SendAsync("7.2", disable));
        Assert.Equal("I0", await hub.CheckSignedResponseAsync(await hub.Receiver.NextAsync(TimeSpan.FromSeconds(20))));
        Assert.Equal(SupplyState.Disabled, MeterSupply);
        await SendSignedAsync("7.1", await TransformAsync("7.1"));
        Assert.Equal(SupplyState.Enabled, MeterSupply);

        // The same signed Disable Supply again, under a new RequestID: its counter is not above the supplier's last
        // critical command to the meter, so the DCC does not send it (the meter would drop it).
        Assert.Equal("I99", await SendAsync("7.2", disable));
        Assert.Equal("E44", await hub.CheckSignedResponseAsync(await hub.Receiver.NextAsync(TimeSpan.FromSeconds(20))));
        Assert.Equal(SupplyState.Enabled, MeterSupply);
    }

    [Fact]
    public async Task A_signed_pre_command_under_its_transforms_request_id_as_dcc_boxeds_client_sends_it_is_carried_out_once()
    {
        var counter = hub.NextCounter();
        var signed = Sign(await hub.TransformAsync(Meter, "7.2", counter: counter));
        var xml = Encoding.UTF8.GetString(DuisRequestWriter.WriteSignedPreCommand(new RequestId(Supplier, Meter, counter), ServiceCatalogue.Duis["7.2"], signed));

        Assert.Equal("I99", (await hub.SendAsync(SendCommand, xml)).Code);
        Assert.Equal("I0", await hub.CheckSignedResponseAsync(await hub.Receiver.NextAsync(TimeSpan.FromSeconds(20))));
        Assert.Equal(SupplyState.Disabled, MeterSupply);

        // Sent again (re-signed, so not the same bytes): a replay.
        Assert.Equal("E43", (await hub.SendAsync(SendCommand, xml)).Code);
    }

    [Fact]
    public async Task A_signed_pre_command_under_its_transforms_request_id_after_another_request_is_a_replay()
    {
        var counter = hub.NextCounter();
        var signed = Sign(await hub.TransformAsync(Meter, "7.2", counter: counter));
        Assert.Equal("I99", (await hub.SendAsync(SendCommand, Request(Supplier, Meter, hub.NextCounter(), 1, "7.4"))).Code);

        var (code, _) = await hub.SendAsync(SendCommand, Encoding.UTF8.GetString(DuisRequestWriter.WriteSignedPreCommand(new RequestId(Supplier, Meter, counter), ServiceCatalogue.Duis["7.2"], signed)));

        Assert.Equal("E43", code);
        Assert.Equal(SupplyState.Enabled, MeterSupply);
        // Under a new counter it is carried out.
        Assert.Equal("I99", await SendAsync("7.2", signed));
    }

    [Fact]
    public async Task A_meter_whose_trust_anchor_is_another_suppliers_refuses_a_command_the_dcc_let_through()
    {
        using var otherSupplier = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var ca = Core.Security.CertificateAuthority.Create("Other OCA", SystemClock.Instance, Duration.FromDays(30));
        using var other = ca.Issue(Eui64.Parse("90-B3-D5-1F-30-01-00-99"), Core.Security.RemotePartyRole.Supplier, "Other", SystemClock.Instance, Duration.FromDays(30));
        hub.Wan.PlaceSupplierTrustAnchor(Meter, Simulator.Wan.TrustAnchor.FromCertificate(Core.Security.OrganisationCertificate.FromX509(other)));

        var answer = await SendSignedAsync("7.2", await TransformAsync("7.2"));

        var refused = Assert.IsType<DeviceOutcome.Refused>(hub.ReadDeviceAnswer(answer, Meter));
        Assert.Equal(RefusalReason.Unauthorised, refused.Reason);
        Assert.Equal(SupplyState.Enabled, MeterSupply);
    }

    private Task<byte[]> TransformAsync(string srv, Eui64? device = null, string bodyInner = "") => hub.TransformAsync(device ?? Meter, srv, bodyInner);

    private byte[] Sign(byte[] preCommand) => hub.SignPreCommand(preCommand);

    /// <summary>Signs the pre-command as the supplier, sends it with CV 5 and returns the asynchronous I0 response.</summary>
    private async Task<string> SendSignedAsync(string srv, byte[] preCommand)
    {
        Assert.Equal("I99", await SendAsync(srv, Sign(preCommand)));
        var asynchronous = await hub.Receiver.NextAsync(TimeSpan.FromSeconds(20));
        Assert.Equal("I0", await hub.CheckSignedResponseAsync(asynchronous));
        Assert.Equal(srv, XDocument.Parse(asynchronous).Descendants(Sr + "ServiceReferenceVariant").Single().Value);
        return asynchronous;
    }

    private async Task<string> SendAsync(string srv, byte[] signedPreCommand, bool raw = false)
    {
        var id = new RequestId(Supplier, Meter, hub.NextCounter());
        var xml = raw
            ? Encoding.UTF8.GetString(DuisRequestWriter.Write(id, 5, ServiceCatalogue.Duis[srv], new XElement(Sr + "GBCSPayload", Encoding.UTF8.GetString(signedPreCommand))))
            : Encoding.UTF8.GetString(DuisRequestWriter.WriteSignedPreCommand(id, ServiceCatalogue.Duis[srv], signedPreCommand));
        return (await hub.SendAsync(SendCommand, xml)).Code;
    }
}

/// <summary>
/// The same critical commands to a fleet in a simulator host of its own (<c>opendcc simulate</c>): the hub's
/// connection places the supplier's Digital Signing key on the simulated meters over loopback.
/// </summary>
public sealed class LoopbackCriticalCommandTests : CriticalCommandTests
{
    protected override bool OverLoopback => true;
}
