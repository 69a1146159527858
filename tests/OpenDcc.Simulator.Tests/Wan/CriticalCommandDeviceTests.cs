using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using NodaTime;
using NodaTime.Testing;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Security;
using OpenDcc.Core.Translation;
using OpenDcc.Core.Translation.Gbcs;
using OpenDcc.Core.Wan;
using OpenDcc.Simulator.Devices;
using OpenDcc.Simulator.Wan;

namespace OpenDcc.Simulator.Tests.Wan;

/// <summary>
/// A simulated GBCS meter at the far end of the WAN receiving critical commands straight from the ACB (as if the DCC
/// had let one through): it executes only those signed by the supplier whose key it holds as its trust anchor.
/// </summary>
public sealed class CriticalCommandDeviceTests : IDisposable
{
    private static readonly Eui64 Acb = Eui64.Parse("90-B3-D5-1F-30-00-00-02");
    private static readonly Eui64 Supplier = Eui64.Parse("90-B3-D5-1F-30-01-00-00");
    private static readonly Eui64 OtherSupplier = Eui64.Parse("90-B3-D5-1F-30-01-00-01");
    private static readonly Instant Now = Instant.FromUtc(2026, 11, 28, 12, 0);

    private readonly ECDiffieHellman acbKey = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
    private readonly SimulatedWan wan;
    private readonly GbcsReferenceAdapter acb;
    private readonly CertificateAuthority ca = CertificateAuthority.Create("Test OCA", new FakeClock(Now), Duration.FromDays(3650));
    private readonly ECDsa supplierKey;
    private readonly ECDsa otherSupplierKey;
    private ulong counter = 100;

    public CriticalCommandDeviceTests()
    {
        wan = new SimulatedWan(new SimulatedFleet(seed: 11, siteCount: 2), Acb, acbKey.PublicKey, new FakeClock(Now), SimulatedWanOptions.Instant);
        acb = new GbcsReferenceAdapter(Acb, acbKey, wan);
        supplierKey = IssueSigningKey(Supplier, out var supplierAnchor);
        otherSupplierKey = IssueSigningKey(OtherSupplier, out var otherAnchor);
        // Site 0's meters trust the supplier; site 1's electricity meter trusts the other supplier.
        wan.PlaceSupplierTrustAnchor(null, supplierAnchor);
        wan.PlaceSupplierTrustAnchor(wan.Fleet[1].ElectricityMeter.Id, otherAnchor);
    }

    private SimulatedElectricityMeter Meter => wan.Fleet[0].ElectricityMeter;

    public void Dispose()
    {
        acb.Dispose();
        wan.Dispose();
        acbKey.Dispose();
        ca.Dispose();
        supplierKey.Dispose();
        otherSupplierKey.Dispose();
    }

    [Fact]
    public async Task A_command_signed_by_the_trusted_supplier_is_executed_and_answered_done()
    {
        var answer = await SendAsync(Meter.Id, Signed(SupplyState.Disabled, Supplier, supplierKey));

        Assert.IsType<DeviceOutcome.Done>(answer);
        Assert.Equal(SupplyState.Disabled, SupplyOf(Meter));
    }

    [Fact]
    public async Task A_forged_signature_or_a_supplier_the_meter_does_not_trust_is_refused_unauthorised_and_nothing_changes()
    {
        // Names the trusted supplier but signed with another key.
        Assert.Equal(RefusalReason.Unauthorised, Refusal(await SendAsync(Meter.Id, Signed(SupplyState.Disabled, Supplier, otherSupplierKey))));
        // Properly signed, by a supplier this meter does not hold an anchor for.
        Assert.Equal(RefusalReason.Unauthorised, Refusal(await SendAsync(Meter.Id, Signed(SupplyState.Disabled, OtherSupplier, otherSupplierKey))));

        Assert.Equal(SupplyState.Enabled, SupplyOf(Meter));
        // The other supplier's own meter obeys it.
        Assert.IsType<DeviceOutcome.Done>(await SendAsync(wan.Fleet[1].ElectricityMeter.Id, Signed(SupplyState.Disabled, OtherSupplier, otherSupplierKey, wan.Fleet[1].ElectricityMeter.Id)));
        Assert.Equal(SupplyState.Disabled, SupplyOf(wan.Fleet[1].ElectricityMeter));
    }

    [Fact]
    public async Task A_meter_without_a_supplier_trust_anchor_refuses_every_critical_command()
    {
        using var bare = new SimulatedWan(new SimulatedFleet(seed: 11, siteCount: 1), Acb, acbKey.PublicKey, new FakeClock(Now), SimulatedWanOptions.Instant);
        using var broker = new GbcsReferenceAdapter(Acb, acbKey, bare);
        var signed = GbcsCodec.SignPreCommand(broker.ToPreCommand(new DeviceOperation.SetSupply(SupplyState.Disabled), bare.Fleet[0].ElectricityMeter.Id, Supplier, 1), supplierKey);

        var answer = broker.FromDevice(await bare.ExchangeAsync(bare.Fleet[0].ElectricityMeter.Id, broker.ToDevice(signed, bare.Fleet[0].ElectricityMeter.Id), CancellationToken.None), bare.Fleet[0].ElectricityMeter.Id);

        Assert.Equal(RefusalReason.Unauthorised, Refusal(Assert.IsType<DeviceMessage.Answer>(answer).Outcome));
        Assert.Equal(SupplyState.Enabled, SupplyOf(bare.Fleet[0].ElectricityMeter));
    }

    [Fact]
    public async Task A_replayed_critical_command_is_dropped_and_does_not_undo_a_later_one()
    {
        var disable = acb.ToDevice(Signed(SupplyState.Disabled, Supplier, supplierKey), Meter.Id);
        await ExchangeAsync(Meter.Id, disable);
        await ExchangeAsync(Meter.Id, acb.ToDevice(Signed(SupplyState.Enabled, Supplier, supplierKey), Meter.Id));

        await Assert.ThrowsAsync<DeviceSilentException>(() => wan.ExchangeAsync(Meter.Id, disable, CancellationToken.None));
        Assert.Equal(SupplyState.Enabled, SupplyOf(Meter));
    }

    [Fact]
    public async Task A_command_protected_for_another_meter_is_dropped()
    {
        var frame = acb.ToDevice(Signed(SupplyState.Disabled, Supplier, supplierKey), wan.Fleet[0].GasMeter.Id);

        await Assert.ThrowsAsync<DeviceSilentException>(() => wan.ExchangeAsync(Meter.Id, frame, CancellationToken.None));
        Assert.Equal(SupplyState.Enabled, SupplyOf(Meter));
    }

    private byte[] Signed(SupplyState target, Eui64 signer, ECDsa key, Eui64? device = null) =>
        GbcsCodec.SignPreCommand(acb.ToPreCommand(new DeviceOperation.SetSupply(target), device ?? Meter.Id, signer, ++counter), key);

    private async Task<DeviceOutcome> SendAsync(Eui64 device, byte[] signedPreCommand) =>
        await ExchangeAsync(device, acb.ToDevice(signedPreCommand, device));

    private async Task<DeviceOutcome> ExchangeAsync(Eui64 device, byte[] frame) =>
        Assert.IsType<DeviceMessage.Answer>(acb.FromDevice(await wan.ExchangeAsync(device, frame, CancellationToken.None), device)).Outcome;

    private static RefusalReason Refusal(DeviceOutcome outcome) => Assert.IsType<DeviceOutcome.Refused>(outcome).Reason;

    private static SupplyState SupplyOf(SimulatedMeter meter) =>
        Assert.IsType<DeviceOutcome.SupplyStatus>(meter.Execute(new DeviceOperation.ReadSupplyStatus(), Now)).State;

    private ECDsa IssueSigningKey(Eui64 party, out TrustAnchor anchor)
    {
        using var issued = ca.Issue(party, RemotePartyRole.Supplier, "Supplier", new FakeClock(Now), Duration.FromDays(365));
        anchor = TrustAnchor.FromCertificate(OrganisationCertificate.FromX509(issued));
        return issued.GetECDsaPrivateKey()!;
    }
}
