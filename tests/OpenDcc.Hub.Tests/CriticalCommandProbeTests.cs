using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Xml.Linq;
using NodaTime;
using OpenDcc.Core.Catalogue;
using OpenDcc.Core.Duis;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Security;
using OpenDcc.Core.Translation;
using OpenDcc.Core.Translation.Gbcs;
using static OpenDcc.Hub.Tests.TestHub;

namespace OpenDcc.Hub.Tests;

/// <summary>
/// Adversarial probes of critical commands (Transform, Signed Pre-Command): every refusal is a DUIS code the gateway
/// documents (GatewayResponseCodes: E44 not a signed pre-command of this device, signer and SRV; E45 not signed by a
/// valid Digital Signing certificate of the originator), is logged with that code, is never an HTTP error, and the
/// meter never executes what was refused.
/// </summary>
public sealed class CriticalCommandProbeTests : IAsyncLifetime
{
    private const string SendCommand = "/api/v1/serviceS";
    private static readonly XNamespace Sr = DuisNamespaces.Sr;
    private TestHub hub = null!;

    public async Task InitializeAsync() => hub = await StartAsync();

    public async Task DisposeAsync() => await hub.DisposeAsync();

    private static Instant Now => SystemClock.Instance.GetCurrentInstant();

    private SupplyState MeterSupply =>
        Assert.IsType<DeviceOutcome.SupplyStatus>(hub.Wan.Fleet[0].ElectricityMeter.Execute(new DeviceOperation.ReadSupplyStatus(), Now)).State;

    [Fact]
    public async Task A_signed_pre_command_altered_in_any_region_after_signing_is_refused_logged_and_never_reaches_the_meter()
    {
        var signed = hub.SignPreCommand(await hub.TransformAsync(Meter, "7.2"));
        var signatureAt = signed.Length - 1 - CommandSignature.Length;

        // Bytes 0..31 header (magic, direction, message code, counter, originator, recipient, payload length),
        // then the payload, the signature length and the signature.
        var cases = new (string Region, Func<byte[], byte[]> Alter, string Code)[]
        {
            ("magic/version", b => Flip(b, 0), "E44"),
            ("direction", b => Flip(b, 1), "E44"),
            ("message code", b => Flip(b, 3), "E44"),
            ("counter (transaction ID)", b => Flip(b, 11), "E45"),
            ("originator (signer)", b => Flip(b, 19), "E44"),
            ("recipient (device ID)", b => Flip(b, 27), "E44"),
            ("payload length", b => Flip(b, 31), "E44"),
            ("payload", b => Flip(b, 32), "E44"),
            ("signature length", b => Flip(b, signatureAt), "E44"),
            ("signature r", b => Flip(b, signatureAt + 1), "E45"),
            ("signature s", b => Flip(b, b.Length - 1), "E45"),
            ("signature zeroed", b => { var c = (byte[])b.Clone(); Array.Clear(c, signatureAt + 1, CommandSignature.Length); return c; }, "E45"),
            ("a byte appended", b => [.. b, 0], "E44"),
            ("signature dropped", b => b[..^CommandSignature.Length], "E44"),
        };
        foreach (var (region, alter, code) in cases)
        {
            var (sent, outcome) = await SendSignedAsync(Meter, "7.2", alter(signed));
            Assert.True(code == sent, $"{region}: {sent} ({outcome})");
            Assert.StartsWith(code + " ", outcome, StringComparison.Ordinal);
        }
        Assert.Equal(SupplyState.Enabled, MeterSupply);
        await Assert.ThrowsAsync<TimeoutException>(() => hub.Receiver.NextAsync(TimeSpan.FromSeconds(1)));

        // None of them spent the pre-command's counter: the genuine one still goes through.
        Assert.Equal("I99", (await SendSignedAsync(Meter, "7.2", signed)).Code);
        Assert.Equal("I0", await hub.CheckSignedResponseAsync(await hub.Receiver.NextAsync(TimeSpan.FromSeconds(20))));
        Assert.Equal(SupplyState.Disabled, MeterSupply);
    }

    [Fact]
    public async Task A_changed_firmware_hash_in_a_signed_11_3_is_refused_E45_as_the_signature_no_longer_verifies()
    {
        var hash = Convert.ToHexString(SHA256.HashData("image"u8));
        var signed = hub.SignPreCommand(await hub.TransformAsync(Meter, "11.3", bodyInner: $"<sr:FirmwareHash>{hash}</sr:FirmwareHash>"));
        // The last payload byte is the hash's last character: another hex digit keeps the payload well-formed.
        var altered = (byte[])signed.Clone();
        var at = signed.Length - 2 - CommandSignature.Length;
        altered[at] = altered[at] == (byte)'0' ? (byte)'1' : (byte)'0';

        Assert.Equal("E45", (await SendSignedAsync(Meter, "11.3", altered)).Code);
        await Assert.ThrowsAsync<TimeoutException>(() => hub.Receiver.NextAsync(TimeSpan.FromSeconds(1)));
    }

    [Fact]
    public async Task Signed_with_another_users_digital_signing_key_an_expired_or_a_revoked_certificate_is_refused_E45()
    {
        var preCommand = await hub.TransformAsync(Meter, "7.2");
        using var ca = CertificateAuthority.Create("Probe OCA", SystemClock.Instance, Duration.FromDays(30));

        // The network operator's own Digital Signing (OU=03) key, bound to it in the hub.
        using var operatorSigning = ca.Issue(NetworkOperator, RemotePartyRole.NetworkOperator, "Test DNO", SystemClock.Instance, Duration.FromDays(30));
        await hub.Store.Parties.AddCertificateAsync(OrganisationCertificate.FromX509(operatorSigning));
        using (var key = operatorSigning.GetECDsaPrivateKey()!)
        {
            Assert.Equal("E45", (await SendSignedAsync(Meter, "7.2", GbcsCodec.SignPreCommand(preCommand, key))).Code);
            // Re-headed to name the network operator as its signer and signed by it, sent by the supplier: not the originator's.
            var reheaded = (byte[])preCommand.Clone();
            BinaryPrimitives.WriteUInt64BigEndian(reheaded.AsSpan(12), NetworkOperator.Value);
            Assert.Equal("E44", (await SendSignedAsync(Meter, "7.2", GbcsCodec.SignPreCommand(reheaded, key))).Code);
        }

        // The supplier's own Digital Signing certificate, revoked a minute ago: its signature no longer counts.
        var signing = OrganisationCertificate.FromX509(hub.DigitalSigningKeyOf(Supplier));
        Assert.True(await hub.Store.Parties.RevokeCertificateAsync(signing.Thumbprint, Now - Duration.FromMinutes(1)));
        var (code, outcome) = await SendSignedAsync(Meter, "7.2", hub.SignPreCommand(preCommand));
        Assert.Equal("E45", code);
        Assert.Contains("revoked", outcome, StringComparison.Ordinal);

        // A Digital Signing certificate of the supplier that expired yesterday, and signed with its key.
        var past = new PastClock(Now - Duration.FromDays(3));
        using var pastCa = CertificateAuthority.Create("Probe OCA past", past, Duration.FromDays(30));
        using var expired = pastCa.Issue(Supplier, RemotePartyRole.Supplier, "Test Supplier", past, Duration.FromDays(2));
        await hub.Store.Parties.AddCertificateAsync(OrganisationCertificate.FromX509(expired));
        using (var key = expired.GetECDsaPrivateKey()!)
        {
            (code, outcome) = await SendSignedAsync(Meter, "7.2", GbcsCodec.SignPreCommand(preCommand, key));
            Assert.Equal("E45", code);
            Assert.Contains("expired", outcome, StringComparison.Ordinal);
        }

        Assert.Equal(SupplyState.Enabled, MeterSupply);
        await Assert.ThrowsAsync<TimeoutException>(() => hub.Receiver.NextAsync(TimeSpan.FromSeconds(1)));
    }

    [Fact]
    public async Task A_pre_command_sent_for_another_device_or_as_a_non_critical_srv_is_refused()
    {
        var signed = hub.SignPreCommand(await hub.TransformAsync(Meter, "7.2"));

        // The electricity meter's pre-command under a RequestID for the gas meter.
        Assert.Equal("E44", (await SendSignedAsync(GasMeter, "7.2", signed)).Code);
        // A signed pre-command for SRV 7.4, which is not critical: the command variant does not fit the SRV.
        Assert.Equal("E12", (await SendSignedAsync(Meter, "7.4", signed)).Code);
        // A signed pre-command for local delivery (CV 6) altered after signing.
        Assert.Equal("E45", (await SendSignedAsync(Meter, "7.2", Flip(signed, signed.Length - 1), commandVariant: 6)).Code);

        Assert.Equal(SupplyState.Enabled, MeterSupply);
        await Assert.ThrowsAsync<TimeoutException>(() => hub.Receiver.NextAsync(TimeSpan.FromSeconds(1)));
    }

    [Fact]
    public async Task The_same_signed_pre_command_twice_or_an_older_one_after_a_later_one_is_not_executed_again()
    {
        var disable = hub.SignPreCommand(await hub.TransformAsync(Meter, "7.2"));
        var enable = hub.SignPreCommand(await hub.TransformAsync(Meter, "7.1"));

        Assert.Equal("I99", (await SendSignedAsync(Meter, "7.2", disable)).Code);
        Assert.Equal("I0", await NextAnswerCodeAsync());
        Assert.Equal(SupplyState.Disabled, MeterSupply);
        // Twice, straight away, under a new RequestID.
        Assert.Equal("I99", (await SendSignedAsync(Meter, "7.2", disable)).Code);
        Assert.Equal("E44", await NextAnswerCodeAsync());

        // The later Transform's command, then the earlier one: the earlier one's counter is below, so it never runs.
        Assert.Equal("I99", (await SendSignedAsync(Meter, "7.1", enable)).Code);
        Assert.Equal("I0", await NextAnswerCodeAsync());
        Assert.Equal(SupplyState.Enabled, MeterSupply);
        var older = hub.SignPreCommand(await hub.TransformAsync(Meter, "7.2"));
        var later = hub.SignPreCommand(await hub.TransformAsync(Meter, "7.3"));
        Assert.Equal("I99", (await SendSignedAsync(Meter, "7.3", later)).Code);
        Assert.Equal("I0", await NextAnswerCodeAsync());
        Assert.Equal("I99", (await SendSignedAsync(Meter, "7.2", older)).Code);
        Assert.Equal("E44", await NextAnswerCodeAsync());
        Assert.Equal(SupplyState.Armed, MeterSupply);
    }

    [Fact]
    public async Task A_signature_of_the_wrong_length_or_in_der_form_is_refused_E44_and_an_empty_or_huge_payload_gets_a_duis_code()
    {
        var preCommand = await hub.TransformAsync(Meter, "7.2");
        var content = preCommand[..^1];
        using var key = hub.DigitalSigningKeyOf(Supplier).GetECDsaPrivateKey()!;

        // DER (ASN.1 SEQUENCE of r and s), as many libraries sign, with its own length in the signature length byte.
        var der = key.SignData(content, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
        Assert.Equal("E44", (await SendSignedAsync(Meter, "7.2", [.. content, (byte)der.Length, .. der])).Code);
        // DER under a signature length byte of 64: the lengths do not add up.
        Assert.Equal("E44", (await SendSignedAsync(Meter, "7.2", [.. content, CommandSignature.Length, .. der])).Code);
        // 63 bytes of a P1363 signature.
        var p1363 = CommandSignature.Sign(content, key);
        Assert.Equal("E44", (await SendSignedAsync(Meter, "7.2", [.. content, 63, .. p1363[..63]])).Code);

        // An empty GBCSPayload.
        Assert.Equal("E44", (await SendSignedAsync(Meter, "7.2", [])).Code);
        // A 9 MB GBCSPayload (12 MB of base64, within the largest DUIS message): a pre-command whose payload the meter's format does not read.
        var huge = new byte[preCommand.Length + (9 * 1024 * 1024)];
        preCommand.AsSpan(0, 32).CopyTo(huge);
        BinaryPrimitives.WriteUInt32BigEndian(huge.AsSpan(28), (uint)(huge.Length - 32 - 1 - CommandSignature.Length));
        huge[^(CommandSignature.Length + 1)] = CommandSignature.Length;
        Assert.Equal("E44", (await SendSignedAsync(Meter, "7.2", huge)).Code);
        // A payload length that says 4 GB.
        var longer = (byte[])hub.SignPreCommand(preCommand).Clone();
        BinaryPrimitives.WriteUInt32BigEndian(longer.AsSpan(28), uint.MaxValue);
        Assert.Equal("E44", (await SendSignedAsync(Meter, "7.2", longer)).Code);

        Assert.Equal(SupplyState.Enabled, MeterSupply);
        await Assert.ThrowsAsync<TimeoutException>(() => hub.Receiver.NextAsync(TimeSpan.FromSeconds(1)));
    }

    [Fact]
    public async Task A_signed_pre_command_the_supplier_built_itself_without_a_transform_is_checked_as_any_other()
    {
        // OpenDcc does not require a preceding Transform (CriticalCommands: a Signed Pre-Command is checked on its own).
        var own = GbcsCodec.EncodePreCommand(new GbcsHeader(hub.NextCounter(), Supplier, Meter), new DeviceOperation.SetSupply(SupplyState.Disabled));
        Assert.Equal("E45", (await SendSignedAsync(Meter, "7.2", Flip(hub.SignPreCommand(own), own.Length + 5))).Code);
        Assert.Equal("I99", (await SendSignedAsync(Meter, "7.2", hub.SignPreCommand(own))).Code);
        Assert.Equal("I0", await NextAnswerCodeAsync());
        Assert.Equal(SupplyState.Disabled, MeterSupply);
    }

    [Fact]
    public async Task Under_its_transforms_request_id_a_signed_pre_command_for_another_srv_or_device_is_a_replay()
    {
        var counter = hub.NextCounter();
        var signed = hub.SignPreCommand(await hub.TransformAsync(Meter, "7.2", counter: counter));

        Assert.Equal("E43", (await hub.SendAsync(SendCommand, Encoding.UTF8.GetString(DuisRequestWriter.WriteSignedPreCommand(new RequestId(Supplier, Meter, counter), ServiceCatalogue.Duis["7.1"], signed)))).Code);
        Assert.Equal("E43", (await hub.SendAsync(SendCommand, Encoding.UTF8.GetString(DuisRequestWriter.WriteSignedPreCommand(new RequestId(Supplier, GasMeter, counter), ServiceCatalogue.Duis["7.2"], signed)))).Code);
        Assert.Equal(SupplyState.Enabled, MeterSupply);
    }

    [Fact]
    public async Task A_signed_pre_command_with_no_gbcs_payload_element_is_refused_with_a_duis_code()
    {
        var id = new RequestId(Supplier, Meter, hub.NextCounter());
        var xml = Encoding.UTF8.GetString(DuisRequestWriter.Write(id, 5, ServiceCatalogue.Duis["7.2"], new XElement(Sr + "Other", "x")));
        var (code, _) = await hub.SendAsync(SendCommand, xml);
        Assert.Matches("^E4[14]$", code);
    }

    private async Task<string> NextAnswerCodeAsync() => await hub.CheckSignedResponseAsync(await hub.Receiver.NextAsync(TimeSpan.FromSeconds(20)));

    /// <summary>Sends a signed pre-command as the supplier; the synchronous code and the request's logged outcome.</summary>
    private async Task<(string Code, string Outcome)> SendSignedAsync(Eui64 device, string srv, byte[] signedPreCommand, int commandVariant = 5)
    {
        var id = new RequestId(Supplier, device, hub.NextCounter());
        var xml = Encoding.UTF8.GetString(DuisRequestWriter.WriteSignedPreCommand(id, ServiceCatalogue.Duis[srv], signedPreCommand, commandVariant));
        // CV 6 (local delivery) goes to the non-device endpoint.
        var (code, _) = await hub.SendAsync(commandVariant == 6 ? "/api/v1/serviceD" : SendCommand, xml);
        var logged = await hub.Store.MessageLog.ReadCorrelatedAsync(id.ToString(), 1, long.MaxValue).Select(e => e.Record.Outcome).FirstAsync();
        return (code, logged);
    }

    private static byte[] Flip(byte[] bytes, int at)
    {
        var copy = (byte[])bytes.Clone();
        copy[at] ^= 0x5A;
        return copy;
    }

    private sealed class PastClock(Instant at) : IClock
    {
        public Instant GetCurrentInstant() => at;
    }
}
