using System.Buffers.Binary;
using System.Security.Cryptography;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Security;
using OpenDcc.Core.Translation;
using OpenDcc.Core.Translation.Gbcs;
using static OpenDcc.Core.Tests.Translation.VocabularyGenerators;

namespace OpenDcc.Core.Tests.Translation;

/// <summary>
/// The GBCS critical-command frame (GbcsCodec.Critical.cs): a pre-command from Transform, signed by the remote
/// party, MACed by the ACB; what the gateway and the device read from it, and that no change goes unnoticed.
/// </summary>
public sealed class GbcsCriticalCommandTests : IDisposable
{
    private static readonly Eui64 Supplier = Eui64.Parse("90-B3-D5-1F-30-01-00-00");
    private static readonly Eui64 Meter = Eui64.Parse("00-DB-12-34-56-78-90-A0");

    private readonly ECDsa supplierKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly ECDsa otherKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly GbcsMacKey meterKey = GbcsMacKey.FromBytes(Convert.FromHexString("000102030405060708090A0B0C0D0E0F"));
    private readonly GbcsMacKey otherMeterKey = GbcsMacKey.FromBytes(Convert.FromHexString("F0E0D0C0B0A090807060504030201000"));

    public void Dispose()
    {
        supplierKey.Dispose();
        otherKey.Dispose();
        meterKey.Dispose();
        otherMeterKey.Dispose();
    }

    [Property]
    public Property A_pre_command_reads_back_unsigned_with_its_operation_and_header() =>
        Prop.ForAll(Operations.ToArbitrary(), GbcsHeaders.ToArbitrary(), (operation, header) =>
        {
            var read = GbcsCodec.ReadPreCommand(GbcsCodec.EncodePreCommand(header, operation));
            return read.Succeeded && read.Header == header && Vocabulary.Same(operation, read.Value.Operation) && !read.Value.IsSigned;
        });

    [Property]
    public Property A_signed_pre_command_carries_a_signature_of_its_content_that_verifies_with_the_signers_key_only() =>
        Prop.ForAll(Operations.ToArbitrary(), GbcsHeaders.ToArbitrary(), (operation, header) =>
        {
            var signed = GbcsCodec.SignPreCommand(GbcsCodec.EncodePreCommand(header, operation), supplierKey);
            var read = GbcsCodec.ReadPreCommand(signed);
            return read.Succeeded && read.Value.IsSigned && read.Header == header && Vocabulary.Same(operation, read.Value.Operation)
                && CommandSignature.Verify(read.Value.SignedContent.Span, read.Value.Signature.Span, supplierKey)
                && !CommandSignature.Verify(read.Value.SignedContent.Span, read.Value.Signature.Span, otherKey);
        });

    [Property]
    public Property Flipping_any_byte_of_a_signed_pre_command_makes_it_unreadable_or_its_signature_fail() =>
        Prop.ForAll(Operations.ToArbitrary(), Gen.Choose(0, int.MaxValue).ToArbitrary(), Gen.Choose(1, 255).ToArbitrary(), (operation, position, mask) =>
        {
            var signed = GbcsCodec.SignPreCommand(GbcsCodec.EncodePreCommand(new GbcsHeader(7, Supplier, Meter), operation), supplierKey);
            signed[position % signed.Length] ^= (byte)mask;

            var read = GbcsCodec.ReadPreCommand(signed);

            return !read.Succeeded || !CommandSignature.Verify(read.Value.SignedContent.Span, read.Value.Signature.Span, supplierKey);
        });

    [Property]
    public Property The_acbs_frame_decodes_at_its_device_and_any_flipped_byte_or_another_devices_key_fails_its_mac() =>
        Prop.ForAll(Operations.ToArbitrary(), Gen.Choose(0, int.MaxValue).ToArbitrary(), Gen.Choose(1, 255).ToArbitrary(), (operation, position, mask) =>
        {
            var signed = GbcsCodec.SignPreCommand(GbcsCodec.EncodePreCommand(new GbcsHeader(9, Supplier, Meter), operation), supplierKey);
            var frame = GbcsCodec.ProtectCriticalCommand(signed, meterKey);

            var decoded = GbcsCodec.DecodeCriticalCommand(frame, meterKey);
            var elsewhere = GbcsCodec.DecodeCriticalCommand(frame, otherMeterKey);
            frame[position % frame.Length] ^= (byte)mask;
            var flipped = GbcsCodec.DecodeCriticalCommand(frame, meterKey);

            return decoded.Succeeded && Vocabulary.Same(operation, decoded.Value.Operation) && decoded.Value.Signature.Span.SequenceEqual(signed.AsSpan(^CommandSignature.Length..))
                && elsewhere.Failure == GbcsFailure.BadMac
                && flipped.Failure == GbcsFailure.BadMac;
        });

    [Fact]
    public void A_pre_command_has_the_documented_layout_ending_in_a_null_signature()
    {
        var preCommand = GbcsCodec.EncodePreCommand(new GbcsHeader(0x0102030405060708, Supplier, Meter), new DeviceOperation.SetSupply(SupplyState.Disabled));

        Assert.Equal(GbcsCodec.HeaderLength + 1 + 1, preCommand.Length);
        Assert.Equal(GbcsCodec.MagicVersion, preCommand[0]);
        Assert.Equal((byte)GbcsDirection.CriticalCommand, preCommand[1]);
        Assert.Equal(GbcsMessageCodes.SetSupply, BinaryPrimitives.ReadUInt16BigEndian(preCommand.AsSpan(2)));
        Assert.Equal(0x0102030405060708UL, BinaryPrimitives.ReadUInt64BigEndian(preCommand.AsSpan(4)));
        Assert.Equal(Supplier.ToBytes(), preCommand[12..20]);
        Assert.Equal(Meter.ToBytes(), preCommand[20..28]);
        Assert.Equal((byte)SupplyState.Disabled, preCommand[32]);
        Assert.Equal(0, preCommand[^1]);

        var signed = GbcsCodec.SignPreCommand(preCommand, supplierKey);
        Assert.Equal(preCommand.Length + CommandSignature.Length, signed.Length);
        Assert.Equal(CommandSignature.Length, signed[33]);
        Assert.Equal(signed.Length + GbcsMacKey.TagLength, GbcsCodec.ProtectCriticalCommand(signed, meterKey).Length);
    }

    [Fact]
    public void The_acb_does_not_protect_an_unsigned_pre_command_and_nobody_signs_a_signed_one_again()
    {
        var preCommand = GbcsCodec.EncodePreCommand(new GbcsHeader(1, Supplier, Meter), new DeviceOperation.SetSupply(SupplyState.Enabled));

        Assert.Throws<ArgumentException>(() => GbcsCodec.ProtectCriticalCommand(preCommand, meterKey));
        Assert.Throws<ArgumentException>(() => GbcsCodec.SignPreCommand(GbcsCodec.SignPreCommand(preCommand, supplierKey), supplierKey));
    }

    [Theory]
    [InlineData(0, GbcsFailure.Truncated)]
    [InlineData(20, GbcsFailure.Truncated)]
    public void Short_input_is_truncated(int length, GbcsFailure failure) =>
        Assert.Equal(failure, GbcsCodec.ReadPreCommand(new byte[length]).Failure);

    [Fact]
    public void An_ordinary_command_frame_is_not_a_pre_command_and_a_signature_block_of_another_length_is_malformed()
    {
        using var key = GbcsMacKey.FromBytes(new byte[16]);
        Assert.Equal(GbcsFailure.WrongDirection, GbcsCodec.ReadPreCommand(GbcsCodec.EncodeCommand(new GbcsHeader(1, Supplier, Meter), new DeviceOperation.ReadSupplyStatus(), key)).Failure);

        var preCommand = GbcsCodec.EncodePreCommand(new GbcsHeader(1, Supplier, Meter), new DeviceOperation.ReadSupplyStatus());
        preCommand[^1] = 32;
        Assert.Equal(GbcsFailure.MalformedSignature, GbcsCodec.ReadPreCommand(preCommand).Failure);
        Assert.Equal(GbcsFailure.LengthMismatch, GbcsCodec.ReadPreCommand([.. GbcsCodec.EncodePreCommand(new GbcsHeader(1, Supplier, Meter), new DeviceOperation.ReadSupplyStatus()), 0]).Failure);
    }

    [Fact]
    public void The_reference_adapter_reads_back_what_its_transform_made_once_signed_and_names_signer_device_and_counter()
    {
        using var acb = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        using var adapter = new GbcsReferenceAdapter(Eui64.Parse("90-B3-D5-1F-30-00-00-02"), acb, new NoDeviceKeys());
        var preCommand = adapter.ToPreCommand(new DeviceOperation.SetSupply(SupplyState.Armed), Meter, Supplier, 42);

        Assert.Null(adapter.ReadSignedPreCommand(preCommand, out var unsigned));
        Assert.Contains("not signed", unsigned, StringComparison.Ordinal);
        var read = adapter.ReadSignedPreCommand(GbcsCodec.SignPreCommand(preCommand, supplierKey), out var failure);

        Assert.Null(failure);
        Assert.Equal((Supplier, Meter, 42UL), (read!.RemoteParty, read.Device, read.Counter));
        Assert.Equal(new DeviceOperation.SetSupply(SupplyState.Armed), read.Operation);
    }

    [Fact]
    public void Every_translated_srv_asks_the_operation_it_reads_and_no_other_srvs()
    {
        foreach (var variant in DuisOperations.Variants)
        {
            // The critical and non-critical forms of one service ask the same operation.
            var others = DuisOperations.Variants.Where(v => v != variant && !SameService(v, variant));
            var operation = Sample(variant);
            if (operation is null)
            {
                continue;
            }
            Assert.True(DuisOperations.Asks(variant, operation), variant);
            Assert.All(others, other => Assert.False(DuisOperations.Asks(other, operation), $"{other} asks {operation}"));
        }
    }

    private static DeviceOperation? Sample(string variant) => variant switch
    {
        "7.1" => new DeviceOperation.SetSupply(SupplyState.Enabled),
        "7.2" => new DeviceOperation.SetSupply(SupplyState.Disabled),
        "7.3" => new DeviceOperation.SetSupply(SupplyState.Armed),
        "1.6" => new DeviceOperation.ChangePaymentMode(PaymentMode.Prepayment),
        "2.5" => new DeviceOperation.ActivateEmergencyCredit(),
        "11.3" => new DeviceOperation.ActivateFirmware(Convert.ToHexString(SHA256.HashData("firmware 1.1.0"u8))),
        "4.1.1" => new DeviceOperation.ReadImportRegisters(),
        "7.4" => new DeviceOperation.ReadSupplyStatus(),
        "8.1.1" => new DeviceOperation.CommissionDevice(NodaTime.Instant.FromUnixTimeSeconds(1_700_000_000), NodaTime.Duration.FromSeconds(60)),
        "8.7.1" or "8.7.2" => new DeviceOperation.JoinDevice(Meter),
        "8.8.1" or "8.8.2" => new DeviceOperation.UnjoinDevice(Meter),
        "8.11" => new DeviceOperation.RemoveFromDeviceLog(Meter),
        _ => null,
    };

    private static bool SameService(string a, string b) =>
        (a, b) is ("4.8.1" or "4.17", "4.8.1" or "4.17") or ("8.7.1" or "8.7.2", "8.7.1" or "8.7.2") or ("8.8.1" or "8.8.2", "8.8.1" or "8.8.2");

    private sealed class NoDeviceKeys : IDeviceKeyDirectory
    {
        public ECDiffieHellmanPublicKey? FindKeyAgreementKey(Eui64 device) => null;
    }
}
