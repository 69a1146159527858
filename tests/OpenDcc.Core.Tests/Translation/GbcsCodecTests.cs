using System.Buffers.Binary;
using System.Security.Cryptography;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using NodaTime;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Translation;
using OpenDcc.Core.Translation.Gbcs;
using static OpenDcc.Core.Tests.Translation.VocabularyGenerators;

namespace OpenDcc.Core.Tests.Translation;

/// <summary>The GBCS-like frame (duis-and-dcc.md §1.7, §5): round trips, the MAC, the KDF and the counter.</summary>
public sealed class GbcsCodecTests : IDisposable
{
    private static readonly Eui64 Acb = Eui64.Parse("90-B3-D5-1F-30-00-00-02");
    private static readonly Eui64 Meter = Eui64.Parse("00-DB-12-34-56-78-90-A0");
    private static readonly Eui64 OtherMeter = Eui64.Parse("00-DB-12-34-56-78-90-A1");

    private readonly GbcsMacKey key = GbcsMacKey.FromBytes(Convert.FromHexString("000102030405060708090A0B0C0D0E0F"));

    public void Dispose() => key.Dispose();

    [Property]
    public Property Every_operation_decodes_to_itself_with_its_header() =>
        Prop.ForAll(Operations.ToArbitrary(), GbcsHeaders.ToArbitrary(), (operation, header) =>
        {
            var decoded = GbcsCodec.DecodeCommand(GbcsCodec.EncodeCommand(header, operation, key), key);
            return decoded.Succeeded
                && Vocabulary.Same(operation, decoded.Value)
                && decoded.Header == header
                && decoded.MessageCode == GbcsMessageCodes.For(operation);
        });

    [Property]
    public Property Every_outcome_decodes_to_itself_with_its_header() =>
        Prop.ForAll(Outcomes.ToArbitrary(), GbcsHeaders.ToArbitrary(), (outcome, header) =>
        {
            var decoded = GbcsCodec.DecodeResponse(GbcsCodec.EncodeResponse(header, outcome, key), key);
            return decoded.Succeeded && Vocabulary.Same(outcome, decoded.Value) && decoded.Header == header;
        });

    [Property]
    public Property Every_alert_decodes_to_itself_with_its_header() =>
        Prop.ForAll(DeviceAlerts.ToArbitrary(), GbcsHeaders.ToArbitrary(), (alert, header) =>
        {
            var decoded = GbcsCodec.DecodeAlert(GbcsCodec.EncodeAlert(header, alert, key), key);
            return decoded.Succeeded && decoded.Value == alert && decoded.Header == header;
        });

    [Fact]
    public void Instants_keep_tick_precision_and_drop_finer_nanoseconds()
    {
        var at = Instant.FromUnixTimeTicks(17_000_000_001_234_567L) + Duration.FromNanoseconds(89);
        var frame = GbcsCodec.EncodeCommand(Header(1), new DeviceOperation.ReadProfile(at, at), key);

        var decoded = GbcsCodec.DecodeCommand(frame, key);

        Assert.Equal(new DeviceOperation.ReadProfile(Instant.FromUnixTimeTicks(17_000_000_001_234_567L), Instant.FromUnixTimeTicks(17_000_000_001_234_567L)), decoded.Value);
    }

    [Fact]
    public void Frame_has_the_documented_grouping_header_and_a_12_byte_tag()
    {
        var frame = GbcsCodec.EncodeCommand(new GbcsHeader(0x0102030405060708, Acb, Meter), new DeviceOperation.SetSupply(SupplyState.Armed), key);

        Assert.Equal(GbcsCodec.HeaderLength + 1 + GbcsMacKey.TagLength, frame.Length);
        Assert.Equal(GbcsCodec.MagicVersion, frame[0]);
        Assert.Equal((byte)GbcsDirection.Command, frame[1]);
        Assert.Equal(GbcsMessageCodes.SetSupply, BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(2)));
        Assert.Equal(0x0102030405060708UL, BinaryPrimitives.ReadUInt64BigEndian(frame.AsSpan(4)));
        Assert.Equal(Acb.ToBytes(), frame[12..20]);
        Assert.Equal(Meter.ToBytes(), frame[20..28]);
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32BigEndian(frame.AsSpan(28)));
        Assert.Equal((byte)SupplyState.Armed, frame[32]);
    }

    [Fact]
    public void Every_kind_has_its_own_message_code()
    {
        var operations = Enumerable.Range(0, 200).SelectMany(_ => Operations.Sample(1, 1)).Select(GbcsMessageCodes.For);
        var outcomes = Enumerable.Range(0, 200).SelectMany(_ => Outcomes.Sample(1, 1)).Select(GbcsMessageCodes.For);
        var alerts = Enum.GetValues<DeviceAlertKind>().Select(GbcsMessageCodes.For);

        var codes = operations.Distinct().Concat(outcomes.Distinct()).Concat(alerts).ToList();

        Assert.Equal(22 + 13 + 4, codes.Count);
        Assert.Equal(codes.Count, codes.Distinct().Count());
    }

    [Property]
    public Property Flipping_any_byte_of_a_frame_makes_it_fail_and_outside_the_length_field_fails_the_mac() =>
        Prop.ForAll(Operations.ToArbitrary(), Gen.Choose(0, int.MaxValue).ToArbitrary(), Gen.Choose(1, 255).ToArbitrary(), (operation, position, mask) =>
        {
            var frame = GbcsCodec.EncodeCommand(Header(7), operation, key);
            var index = position % frame.Length;
            frame[index] ^= (byte)mask;

            var decoded = GbcsCodec.DecodeCommand(frame, key);

            var inLengthField = index is >= 28 and < 32;
            return !decoded.Succeeded && (inLengthField || decoded.Failure == GbcsFailure.BadMac);
        });

    [Fact]
    public void Every_single_byte_flip_of_a_response_is_a_bad_mac()
    {
        var frame = GbcsCodec.EncodeResponse(Header(9, Meter, Acb), new DeviceOutcome.Refused(RefusalReason.UtrnRejected, "used"), key);

        for (var i = 0; i < frame.Length; i++)
        {
            if (i is >= 28 and < 32)
            {
                continue;
            }
            var tampered = (byte[])frame.Clone();
            tampered[i] ^= 0x80;
            Assert.Equal(GbcsFailure.BadMac, GbcsCodec.DecodeResponse(tampered, key).Failure);
        }
    }

    [Fact]
    public void Both_sides_of_the_key_agreement_derive_the_same_key()
    {
        using var acbKeys = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        using var meterKeys = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        using var atAcb = GbcsMacKey.Derive(acbKeys, meterKeys.PublicKey, Acb, Meter);
        using var atMeter = GbcsMacKey.Derive(meterKeys, acbKeys.PublicKey, Acb, Meter);

        var command = GbcsCodec.EncodeCommand(Header(1), new DeviceOperation.ReadMeterBalance(), atAcb);
        var response = GbcsCodec.EncodeResponse(Header(1, Meter, Acb), new DeviceOutcome.Balance(120, 0, PaymentMode.Prepayment), atMeter);

        Assert.True(GbcsCodec.DecodeCommand(command, atMeter).Succeeded);
        Assert.True(GbcsCodec.DecodeResponse(response, atAcb).Succeeded);
    }

    [Fact]
    public void The_mac_is_aes_gcm_with_the_frames_first_20_bytes_as_iv_and_the_frame_as_additional_data()
    {
        // Computed independently with Python's cryptography package (OpenSSL's AES-GCM, which takes a 20-byte IV):
        // AESGCM(bytes(range(16))).encrypt(iv, b"", aad)[:12].
        var iv = Convert.FromHexString("C10200010000000000000007000000000000000A");
        var tag = new byte[GbcsMacKey.TagLength];

        key.ComputeTag(iv, "OpenDcc GBCS frame"u8, tag);

        Assert.Equal("E56951C42D9921FDEB0A9FD9", Convert.ToHexString(tag));
    }

    [Property]
    public Property With_a_12_byte_iv_the_mac_is_the_tag_of_the_platforms_aes_gcm(byte[] aad, int seed)
    {
        var random = new Random(seed);
        var keyBytes = new byte[GbcsMacKey.KeyLength];
        var iv = new byte[12];
        random.NextBytes(keyBytes);
        random.NextBytes(iv);
        using var ours = GbcsMacKey.FromBytes(keyBytes);
        using var platform = new AesGcm(keyBytes, GbcsMacKey.TagLength);
        var expected = new byte[GbcsMacKey.TagLength];
        var actual = new byte[GbcsMacKey.TagLength];

        platform.Encrypt(iv, ReadOnlySpan<byte>.Empty, Span<byte>.Empty, expected, aad ?? []);
        ours.ComputeTag(iv, aad ?? [], actual);

        return (expected.AsSpan().SequenceEqual(actual) && ours.VerifyTag(iv, aad ?? [], expected)).ToProperty();
    }

    [Fact]
    public void A_response_and_an_alert_from_one_device_with_one_counter_are_maced_under_different_ivs()
    {
        var header = Header(7, Meter, Acb);
        var response = GbcsCodec.EncodeResponse(header, new DeviceOutcome.Done(), key);
        var alert = GbcsCodec.EncodeAlert(header, new DeviceAlert(DeviceAlertKind.PowerRestored, 0x8F36, Instant.FromUnixTimeSeconds(1_800_000_000)), key);

        Assert.False(response.AsSpan(0, GbcsCodec.IvLength).SequenceEqual(alert.AsSpan(0, GbcsCodec.IvLength)));
    }

    [Fact]
    public void Derived_key_is_the_first_16_bytes_of_sha256_over_counter_shared_secret_and_other_info()
    {
        using var acbKeys = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        using var meterKeys = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        var z = acbKeys.DeriveRawSecretAgreement(meterKeys.PublicKey);
        byte[] kdfInput = [0, 0, 0, 1, .. z, .. GbcsMacKey.KdfLabel, .. Acb.ToBytes(), .. Meter.ToBytes()];
        using var expected = GbcsMacKey.FromBytes(SHA256.HashData(kdfInput).AsSpan(0, 16));
        using var derived = GbcsMacKey.Derive(meterKeys, acbKeys.PublicKey, Acb, Meter);

        var frame = GbcsCodec.EncodeCommand(Header(1), new DeviceOperation.ReadSupplyStatus(), expected);

        Assert.True(GbcsCodec.DecodeCommand(frame, derived).Succeeded);
    }

    [Fact]
    public void A_frame_maced_with_another_devices_key_fails_the_mac()
    {
        using var acbKeys = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        using var meterKeys = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        using var otherKeys = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        using var forMeter = GbcsMacKey.Derive(meterKeys, acbKeys.PublicKey, Acb, Meter);
        using var forOther = GbcsMacKey.Derive(acbKeys, otherKeys.PublicKey, Acb, OtherMeter);

        var frame = GbcsCodec.EncodeCommand(Header(1, Acb, OtherMeter), new DeviceOperation.SetSupply(SupplyState.Disabled), forOther);
        var decoded = GbcsCodec.DecodeCommand(frame, forMeter);

        Assert.False(decoded.Succeeded);
        Assert.Equal(GbcsFailure.BadMac, decoded.Failure);
    }

    [Fact]
    public void The_same_key_pair_bound_to_another_device_id_gives_another_key()
    {
        using var acbKeys = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        using var meterKeys = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        using var forMeter = GbcsMacKey.Derive(acbKeys, meterKeys.PublicKey, Acb, Meter);
        using var forOther = GbcsMacKey.Derive(acbKeys, meterKeys.PublicKey, Acb, OtherMeter);

        var frame = GbcsCodec.EncodeCommand(Header(1), new DeviceOperation.ReadFirmwareVersion(), forMeter);

        Assert.Equal(GbcsFailure.BadMac, GbcsCodec.DecodeCommand(frame, forOther).Failure);
    }

    [Fact]
    public void Replayed_and_older_counters_are_refused_per_originator()
    {
        var guard = new GbcsCounterGuard();

        Assert.True(guard.TryAccept(Header(10)));
        Assert.False(guard.TryAccept(Header(10)));
        Assert.False(guard.TryAccept(Header(9)));
        Assert.True(guard.TryAccept(Header(11)));
        Assert.True(guard.TryAccept(Header(1, Meter, Acb)));
        Assert.Equal(11UL, guard.LastAccepted(Acb));
        Assert.Equal(1UL, guard.LastAccepted(Meter));
        Assert.Null(guard.LastAccepted(OtherMeter));
    }

    [Fact]
    public void Of_racing_copies_of_one_frame_only_one_is_accepted()
    {
        var guard = new GbcsCounterGuard();

        var accepted = Enumerable.Range(0, 1000).AsParallel().Count(_ => guard.TryAccept(Header(5)));

        Assert.Equal(1, accepted);
    }

    [Fact]
    public void No_pending_firmware_and_an_empty_pending_version_stay_distinct()
    {
        var none = GbcsCodec.DecodeResponse(GbcsCodec.EncodeResponse(Header(1, Meter, Acb), new DeviceOutcome.FirmwareVersion("1.0", null), key), key);
        var empty = GbcsCodec.DecodeResponse(GbcsCodec.EncodeResponse(Header(2, Meter, Acb), new DeviceOutcome.FirmwareVersion("1.0", ""), key), key);

        Assert.Equal(new DeviceOutcome.FirmwareVersion("1.0", null), none.Value);
        Assert.Equal(new DeviceOutcome.FirmwareVersion("1.0", ""), empty.Value);
    }

    [Property]
    public Property A_replayed_frame_passes_the_mac_but_not_the_guard() =>
        Prop.ForAll(Operations.ToArbitrary(), Counter.ToArbitrary(), (operation, counter) =>
        {
            var guard = new GbcsCounterGuard();
            var frame = GbcsCodec.EncodeCommand(Header(counter), operation, key);
            var first = GbcsCodec.DecodeCommand(frame, key);
            var replay = GbcsCodec.DecodeCommand(frame, key);
            return first.Succeeded && guard.TryAccept(first.Header) && replay.Succeeded && !guard.TryAccept(replay.Header);
        });

    [Fact]
    public void A_response_is_refused_where_a_command_is_expected()
    {
        var frame = GbcsCodec.EncodeResponse(Header(3, Meter, Acb), new DeviceOutcome.Done(), key);

        var decoded = GbcsCodec.DecodeCommand(frame, key);

        Assert.Equal(GbcsFailure.WrongDirection, decoded.Failure);
        Assert.Contains("Response", decoded.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_message_code_under_a_valid_mac_is_refused_with_the_code()
    {
        var frame = GbcsCodec.EncodeCommand(Header(3), new DeviceOperation.ReadImportRegisters(), key);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(2), 0x0999);
        Remac(frame);

        var decoded = GbcsCodec.DecodeCommand(frame, key);

        Assert.Equal(GbcsFailure.UnknownMessageCode, decoded.Failure);
        Assert.Contains("0x0999", decoded.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void An_undefined_enum_value_under_a_valid_mac_is_a_malformed_payload()
    {
        var frame = GbcsCodec.EncodeCommand(Header(3), new DeviceOperation.ChangePaymentMode(PaymentMode.Credit), key);
        frame[GbcsCodec.HeaderLength] = 9;
        Remac(frame);

        var decoded = GbcsCodec.DecodeCommand(frame, key);

        Assert.Equal(GbcsFailure.MalformedPayload, decoded.Failure);
        Assert.Contains("PaymentMode", decoded.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_wrong_magic_byte_under_a_valid_mac_is_an_unsupported_version()
    {
        var frame = GbcsCodec.EncodeAlert(Header(3, Meter, Acb), new DeviceAlert(DeviceAlertKind.PowerRestored, 0x8F01, Instant.FromUnixTimeSeconds(1)), key);
        frame[0] = 0xC2;
        Remac(frame);

        Assert.Equal(GbcsFailure.UnsupportedVersion, GbcsCodec.DecodeAlert(frame, key).Failure);
    }

    [Fact]
    public void Cut_frames_are_truncated_and_padded_frames_are_length_mismatches()
    {
        var frame = GbcsCodec.EncodeCommand(Header(3), new DeviceOperation.TopUp("12345678901234567890"), key);

        Assert.Equal(GbcsFailure.Truncated, GbcsCodec.DecodeCommand(frame.AsSpan(0, 10), key).Failure);
        Assert.Equal(GbcsFailure.Truncated, GbcsCodec.DecodeCommand(frame.AsSpan(0, frame.Length - 1), key).Failure);
        Assert.Equal(GbcsFailure.LengthMismatch, GbcsCodec.DecodeCommand([.. frame, 0], key).Failure);
        Assert.Equal(GbcsFailure.Truncated, GbcsCodec.DecodeCommand([], key).Failure);
    }

    [Property]
    public Property Decoding_arbitrary_bytes_never_throws() =>
        Prop.ForAll(Bytes.ToArbitrary(), bytes =>
            !GbcsCodec.DecodeCommand(bytes, key).Succeeded
            && !GbcsCodec.DecodeResponse(bytes, key).Succeeded
            && !GbcsCodec.DecodeAlert(bytes, key).Succeeded);

    [Fact]
    public void A_key_can_be_used_from_many_threads_at_once()
    {
        var frames = Enumerable.Range(1, 64).Select(i => GbcsCodec.EncodeCommand(Header((ulong)i), new DeviceOperation.TopUp(i.ToString("D20", System.Globalization.CultureInfo.InvariantCulture)), key)).ToList();

        var results = frames.AsParallel().Select(f => GbcsCodec.DecodeCommand(f, key).Succeeded).ToList();

        Assert.All(results, Assert.True);
    }

    private static GbcsHeader Header(ulong counter) => new(counter, Acb, Meter);

    private static GbcsHeader Header(ulong counter, Eui64 originator, Eui64 recipient) => new(counter, originator, recipient);

    private void Remac(byte[] frame)
    {
        key.ComputeTag(frame.AsSpan(0, GbcsCodec.IvLength), frame.AsSpan(0, frame.Length - GbcsMacKey.TagLength), frame.AsSpan(frame.Length - GbcsMacKey.TagLength));
    }
}
