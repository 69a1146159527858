using System.Text;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using NodaTime;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Translation;
using OpenDcc.Core.Translation.EarlySmart;
using OpenDcc.Core.Translation.Gbcs;
using static OpenDcc.Core.Tests.Translation.VocabularyGenerators;

namespace OpenDcc.Core.Tests.Translation;

/// <summary>The early-smart line protocol: round trips, escaping, the CRC and the rising sequence.</summary>
public class EarlySmartCodecTests
{
    private static readonly Eui64 Meter = Eui64.Parse("00-DB-12-34-56-78-90-A0");

    private static readonly Arbitrary<EarlySmartHeader> Headers =
        (from sequence in Counter
         from device in Eui
         select new EarlySmartHeader(sequence, device)).ToArbitrary();

    [Property]
    public Property Every_operation_decodes_to_itself_with_its_header() =>
        Prop.ForAll(Operations.ToArbitrary(), Headers, (operation, header) =>
        {
            var decoded = EarlySmartCodec.DecodeCommand(EarlySmartCodec.EncodeCommand(header, operation));
            return decoded.Succeeded && Vocabulary.Same(operation, decoded.Value) && decoded.Header == header;
        });

    [Property]
    public Property Every_outcome_decodes_to_itself_with_its_header() =>
        Prop.ForAll(Outcomes.ToArbitrary(), Headers, (outcome, header) =>
        {
            var decoded = EarlySmartCodec.DecodeResponse(EarlySmartCodec.EncodeResponse(header, outcome));
            return decoded.Succeeded && Vocabulary.Same(outcome, decoded.Value) && decoded.Header == header;
        });

    [Property]
    public Property Every_alert_decodes_to_itself_with_its_header() =>
        Prop.ForAll(DeviceAlerts.ToArbitrary(), Headers, (alert, header) =>
        {
            var decoded = EarlySmartCodec.DecodeAlert(EarlySmartCodec.EncodeAlert(header, alert));
            return decoded.Succeeded && decoded.Value == alert && decoded.Header == header;
        });

    [Property]
    public Property Encoded_lines_are_one_line_of_six_parts() =>
        Prop.ForAll(Outcomes.ToArbitrary(), Headers, (outcome, header) =>
        {
            var line = EarlySmartCodec.EncodeResponse(header, outcome);
            return !line.Contains('\n', StringComparison.Ordinal) && !line.Contains('\r', StringComparison.Ordinal) && line.Split('|').Length == 6;
        });

    [Fact]
    public void Crc32_gives_the_standard_check_value()
    {
        Assert.Equal(0xCBF43926u, Crc32Ieee.Compute("123456789"u8));
        Assert.Equal(0u, Crc32Ieee.Compute([]));
    }

    [Fact]
    public void A_top_up_line_reads_as_documented()
    {
        var line = EarlySmartCodec.EncodeCommand(new EarlySmartHeader(42, Meter), new DeviceOperation.TopUp("12345678901234567890"));

        const string body = "ES1|42|00DB1234567890A0|TOPUP|utrn=12345678901234567890";
        Assert.Equal($"{body}|{Crc32Ieee.Compute(Encoding.UTF8.GetBytes(body)):X8}", line);
    }

    [Fact]
    public void Separators_in_text_are_escaped_and_survive()
    {
        var refused = new DeviceOutcome.Refused(RefusalReason.InvalidState, "a|b;c=d\\e\nf\\p");

        var line = EarlySmartCodec.EncodeResponse(new EarlySmartHeader(1, Meter), refused);

        Assert.Contains(@"txt=a\pb\sc\ed\\e\nf\\p|", line, StringComparison.Ordinal);
        Assert.Equal(refused, EarlySmartCodec.DecodeResponse(line).Value);
    }

    [Fact]
    public void Instants_are_whole_unix_seconds_rounding_towards_the_past()
    {
        var at = Instant.FromUnixTimeSeconds(1_700_000_000) + Duration.FromMilliseconds(999);
        var line = EarlySmartCodec.EncodeAlert(new EarlySmartHeader(1, Meter), new DeviceAlert(DeviceAlertKind.LowCredit, 0x8F1C, at));

        Assert.Contains("|!LOWCR|code=8F1C;at=1700000000|", line, StringComparison.Ordinal);
        Assert.Equal(Instant.FromUnixTimeSeconds(1_700_000_000), EarlySmartCodec.DecodeAlert(line).Value?.At);
    }

    [Fact]
    public void No_pending_firmware_and_an_empty_pending_version_stay_distinct()
    {
        var none = EarlySmartCodec.EncodeResponse(new EarlySmartHeader(1, Meter), new DeviceOutcome.FirmwareVersion("1.0", null));
        var empty = EarlySmartCodec.EncodeResponse(new EarlySmartHeader(2, Meter), new DeviceOutcome.FirmwareVersion("1.0", ""));

        Assert.DoesNotContain("pend", none, StringComparison.Ordinal);
        Assert.Contains(";pend=|", empty, StringComparison.Ordinal);
        Assert.Equal(new DeviceOutcome.FirmwareVersion("1.0", null), EarlySmartCodec.DecodeResponse(none).Value);
        Assert.Equal(new DeviceOutcome.FirmwareVersion("1.0", ""), EarlySmartCodec.DecodeResponse(empty).Value);
    }

    [Fact]
    public void An_empty_profile_round_trips()
    {
        var profile = new DeviceOutcome.Profile(Duration.FromMinutes(30), RegisterUnit.WattHours, []);

        var line = EarlySmartCodec.EncodeResponse(new EarlySmartHeader(1, Meter), profile);
        var decoded = EarlySmartCodec.DecodeResponse(line);

        Assert.Contains("|PROF|int=1800;unit=WH;vals=|", line, StringComparison.Ordinal);
        Assert.True(decoded.Succeeded && Vocabulary.Same(profile, decoded.Value));
    }

    [Fact]
    public void A_trailing_line_ending_is_accepted()
    {
        var line = EarlySmartCodec.EncodeCommand(new EarlySmartHeader(7, Meter), new DeviceOperation.ReadMeterBalance());

        Assert.True(EarlySmartCodec.DecodeCommand(line + "\n").Succeeded);
        Assert.True(EarlySmartCodec.DecodeCommand(line + "\r\n").Succeeded);
    }

    [Property]
    public Property Changing_any_character_is_caught_by_the_checksum() =>
        Prop.ForAll(Operations.ToArbitrary(), Gen.Choose(0, int.MaxValue).ToArbitrary(), (operation, position) =>
        {
            var line = EarlySmartCodec.EncodeCommand(new EarlySmartHeader(5, Meter), operation);
            var crcStart = line.LastIndexOf('|') + 1;
            var index = position % (crcStart - 1); // the body, not the bar before the checksum
            var chars = line.ToCharArray();
            chars[index] = chars[index] == 'X' ? 'Y' : 'X';

            var decoded = EarlySmartCodec.DecodeCommand(new string(chars));

            return decoded.Failure == EarlySmartFailure.BadChecksum;
        });

    [Fact]
    public void A_line_with_a_wrong_crc_is_refused_with_both_values()
    {
        var line = EarlySmartCodec.EncodeCommand(new EarlySmartHeader(5, Meter), new DeviceOperation.SetSupply(SupplyState.Enabled));
        var wrong = line[..^8] + "00000000";

        var decoded = EarlySmartCodec.DecodeCommand(wrong);

        Assert.Equal(EarlySmartFailure.BadChecksum, decoded.Failure);
        Assert.Contains("00000000", decoded.Reason, StringComparison.Ordinal);
        Assert.Contains(line[^8..], decoded.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_line_with_an_unknown_verb_is_refused_naming_the_verb()
    {
        var decoded = EarlySmartCodec.DecodeCommand(WithCrc("ES1|5|00DB1234567890A0|SELFDESTRUCT|"));

        Assert.Equal(EarlySmartFailure.UnknownVerb, decoded.Failure);
        Assert.Contains("SELFDESTRUCT", decoded.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_response_verb_is_the_wrong_direction_for_a_command()
    {
        var line = EarlySmartCodec.EncodeResponse(new EarlySmartHeader(5, Meter), new DeviceOutcome.Done());

        Assert.Equal(EarlySmartFailure.WrongDirection, EarlySmartCodec.DecodeCommand(line).Failure);
        Assert.Equal(EarlySmartFailure.WrongDirection, EarlySmartCodec.DecodeAlert(line).Failure);
    }

    [Theory]
    [InlineData("ES1|5|00DB1234567890A0|SUPPLY|", EarlySmartFailure.MalformedFields, "'state' is missing")]
    [InlineData("ES1|5|00DB1234567890A0|SUPPLY|state=MAYBE", EarlySmartFailure.MalformedFields, "MAYBE")]
    [InlineData("ES1|5|00DB1234567890A0|SUPPLY|state=ON;state=OFF", EarlySmartFailure.MalformedFields, "twice")]
    [InlineData("ES1|5|00DB1234567890A0|TOPUP|utrn=12\\x", EarlySmartFailure.MalformedFields, "bad escape")]
    [InlineData("ES1|5|00DB1234567890A0|RPROF|from=1;to=soon", EarlySmartFailure.MalformedFields, "soon")]
    [InlineData("ES2|5|00DB1234567890A0|RREG|", EarlySmartFailure.UnsupportedVersion, "ES2")]
    [InlineData("ES1|-5|00DB1234567890A0|RREG|", EarlySmartFailure.Malformed, "sequence")]
    [InlineData("ES1|5|00-DB-12|RREG|", EarlySmartFailure.Malformed, "device")]
    [InlineData("ES1|5|00DB1234567890A0|RREG", EarlySmartFailure.Malformed, "parts")]
    public void Bad_lines_with_a_good_crc_are_refused_with_a_reason(string body, EarlySmartFailure failure, string reasonPart)
    {
        var decoded = EarlySmartCodec.DecodeCommand(WithCrc(body));

        Assert.Equal(failure, decoded.Failure);
        Assert.Contains(reasonPart, decoded.Reason, StringComparison.Ordinal);
    }

    [Property]
    public Property Decoding_arbitrary_text_never_throws() =>
        Prop.ForAll(Text.ToArbitrary(), text =>
        {
            var crc = WithCrc(text);
            return !EarlySmartCodec.DecodeCommand(text).Succeeded
                & EarlySmartCodec.DecodeResponse(crc).Failure != EarlySmartFailure.BadChecksum
                & !EarlySmartCodec.DecodeAlert(crc).Succeeded;
        });

    /// <summary>Seconds near the most a duration holds in 64-bit ticks (922 337 203 685), either side of it, and any.</summary>
    private static readonly Gen<long> DurationSeconds = Gen.OneOf(
        Long,
        from offset in Gen.Choose(-1_000_000, 1_000_000)
        from scale in Gen.Elements(1L, 1_000L, 100_000L)
        from sign in Gen.Elements(1L, -1L)
        select sign * (long.MaxValue / NodaConstants.TicksPerSecond + (offset * scale)));

    [Property]
    public Property A_duration_a_line_carries_is_one_the_codec_writes_again_or_the_line_is_refused() =>
        Prop.ForAll(DurationSeconds.ToArbitrary(), seconds =>
        {
            var profile = EarlySmartCodec.DecodeResponse(WithCrc($"ES1|5|00DB1234567890A0|PROF|int={seconds};unit=WH;vals="));
            var commission = EarlySmartCodec.DecodeCommand(WithCrc($"ES1|5|00DB1234567890A0|COMM|now=0;tol={seconds}"));

            return (!profile.Succeeded || EarlySmartCodec.DecodeResponse(EarlySmartCodec.EncodeResponse(profile.Header, profile.Value)).Succeeded)
                && (!commission.Succeeded || EarlySmartCodec.DecodeCommand(EarlySmartCodec.EncodeCommand(commission.Header, commission.Value)).Succeeded)
                && profile.Succeeded == commission.Succeeded;
        });

    [Fact]
    public void Decoding_null_is_a_malformed_line()
    {
        Assert.Equal(EarlySmartFailure.Malformed, EarlySmartCodec.DecodeCommand(null).Failure);
    }

    [Fact]
    public void Repeated_and_older_sequences_are_refused_per_device()
    {
        var guard = new EarlySmartSequenceGuard();
        var other = new Eui64(Meter.Value + 1);

        Assert.True(guard.TryAccept(new EarlySmartHeader(100, Meter)));
        Assert.False(guard.TryAccept(new EarlySmartHeader(100, Meter)));
        Assert.False(guard.TryAccept(new EarlySmartHeader(99, Meter)));
        Assert.True(guard.TryAccept(new EarlySmartHeader(1, other)));
        Assert.True(guard.TryAccept(new EarlySmartHeader(101, Meter)));
        Assert.Equal(101UL, guard.LastAccepted(Meter));
    }

    [Property]
    public Property The_two_formats_differ_on_the_wire_for_the_same_operation() =>
        Prop.ForAll(Operations.ToArbitrary(), Counter.ToArbitrary(), (operation, counter) =>
        {
            using var key = GbcsMacKey.FromBytes(new byte[16]);
            var gbcs = GbcsCodec.EncodeCommand(new GbcsHeader(counter, Meter, Meter), operation, key);
            var early = Encoding.UTF8.GetBytes(EarlySmartCodec.EncodeCommand(new EarlySmartHeader(counter, Meter), operation));

            return !gbcs.AsSpan().SequenceEqual(early)
                && !GbcsCodec.DecodeCommand(early, key).Succeeded
                && !EarlySmartCodec.DecodeCommand(Encoding.UTF8.GetString(gbcs)).Succeeded;
        });

    private static string WithCrc(string body) => $"{body}|{Crc32Ieee.Compute(Encoding.UTF8.GetBytes(body)):X8}";
}
