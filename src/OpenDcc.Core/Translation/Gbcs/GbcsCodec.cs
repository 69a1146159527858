using System.Buffers.Binary;
using NodaTime;
using OpenDcc.Core.Identifiers;

namespace OpenDcc.Core.Translation.Gbcs;

/// <summary>
/// A GBCS-like binary frame for device commands, responses and alerts (duis-and-dcc.md §1.7 and §5):
/// <code>
/// offset size
///      0    1  magic/version 0xC1
///      1    1  direction (GbcsDirection)
///      2    2  message code (GbcsMessageCodes)
///      4    8  originator counter
///     12    8  originator system title (EUI-64)
///     20    8  recipient system title (EUI-64)
///     28    4  payload length n
///     32    n  payload (big-endian fields, see GbcsFieldWriter)
///   32+n   12  MAC tag: AES-128-GMAC over bytes [0, 32+n), its IV bytes [0, 20) (GbcsMacKey)
/// </code>
/// All integers are big-endian. Decoding checks the lengths, then the MAC, and only then reads anything the sender
/// chose; it never throws on bad input. Replay protection is the caller's next step: <see cref="GbcsCounterGuard"/>.
/// Critical commands, which a Known Remote Party signs before the ACB MACs them, have a frame of their own
/// (GbcsCodec.Critical.cs).
/// </summary>
public static partial class GbcsCodec
{
    public const byte MagicVersion = 0xC1;

    public const int HeaderLength = 32;

    /// <summary>The most bytes a string or byte-string field holds (its length is 16 bits); a string's are UTF-8.</summary>
    public const int MostFieldBytes = ushort.MaxValue;

    /// <summary>The MAC's IV: a frame's first bytes, from its version to its originator's system title.</summary>
    public const int IvLength = 20;

    private const int CounterOffset = 4;
    private const int OriginatorOffset = 12;
    private const int RecipientOffset = 20;
    private const int LengthOffset = 28;

    public static byte[] EncodeCommand(GbcsHeader header, DeviceOperation operation, GbcsMacKey key) =>
        Frame(GbcsDirection.Command, GbcsMessageCodes.For(operation), header, OperationFields(operation).Written, key);

    public static byte[] EncodeResponse(GbcsHeader header, DeviceOutcome outcome, GbcsMacKey key)
    {
        var code = GbcsMessageCodes.For(outcome);
        var fields = new GbcsFieldWriter();
        switch (outcome)
        {
            case DeviceOutcome.Registers registers:
                fields.Int64(registers.Import);
                fields.Enum(registers.Unit);
                fields.Instant(registers.At);
                break;
            case DeviceOutcome.Profile profile:
                fields.Duration(profile.Interval);
                fields.Enum(profile.Unit);
                WriteTimedValues(fields, profile.Values.Count, profile.Values.Select(v => (v.Start, v.Value)));
                break;
            case DeviceOutcome.NetworkData network:
                fields.Int32(network.RmsVoltageDeciVolts);
                fields.Int32(network.ActivePowerWatts);
                fields.Instant(network.At);
                break;
            case DeviceOutcome.FirmwareVersion firmware:
                fields.String(firmware.Running);
                fields.OptionalString(firmware.Pending);
                break;
            case DeviceOutcome.SupplyStatus status:
                fields.Enum(status.State);
                break;
            case DeviceOutcome.Balance balance:
                fields.Int64(balance.CreditPence);
                fields.Int64(balance.EmergencyCreditInUsePence);
                fields.Enum(balance.Mode);
                break;
            case DeviceOutcome.Refused refused:
                fields.Enum(refused.Reason);
                fields.String(refused.Detail);
                break;
            case DeviceOutcome.DailyReads daily:
                fields.Enum(daily.Unit);
                WriteTimedValues(fields, daily.Reads.Count, daily.Reads.Select(r => (r.At, r.Value)));
                break;
            case DeviceOutcome.MeterPoint point:
                fields.String(point.Mpxn);
                break;
            case DeviceOutcome.PaymentModeSetting mode:
                fields.Enum(mode.Mode);
                break;
            case DeviceOutcome.DeviceLog log:
                fields.UInt32((uint)log.Devices.Count);
                foreach (var device in log.Devices)
                {
                    fields.UInt64(device.Value);
                }
                break;
            case DeviceOutcome.ActivePower power:
                fields.Int32(power.Watts);
                fields.Instant(power.At);
                break;
            default:
                break; // Done
        }
        return Frame(GbcsDirection.Response, code, header, fields.Written, key);
    }

    public static byte[] EncodeAlert(GbcsHeader header, DeviceAlert alert, GbcsMacKey key)
    {
        ArgumentNullException.ThrowIfNull(alert);
        var fields = new GbcsFieldWriter();
        fields.UInt16(alert.AlertCode);
        fields.Instant(alert.At);
        return Frame(GbcsDirection.Alert, GbcsMessageCodes.For(alert.Kind), header, fields.Written, key);
    }

    /// <summary>The direction byte of a frame (command, response or alert), unchecked: which decoder to use, nothing more; null when too short to say.</summary>
    public static GbcsDirection? DirectionOf(ReadOnlySpan<byte> frame) => frame.Length > 1 ? (GbcsDirection)frame[1] : null;

    /// <summary>A frame's header (counter, originator, recipient), unchecked (its MAC is not verified); null when it holds none.</summary>
    public static GbcsHeader? HeaderOf(ReadOnlySpan<byte> frame) =>
        frame.Length >= HeaderLength && frame[0] == MagicVersion ? ReadHeader(frame) : null;

    /// <summary>The counter, originator and recipient of a frame at least a header long, as they stand.</summary>
    private static GbcsHeader ReadHeader(ReadOnlySpan<byte> frame) =>
        new(BinaryPrimitives.ReadUInt64BigEndian(frame[CounterOffset..]),
            new Eui64(BinaryPrimitives.ReadUInt64BigEndian(frame[OriginatorOffset..])),
            new Eui64(BinaryPrimitives.ReadUInt64BigEndian(frame[RecipientOffset..])));

    public static GbcsDecodeResult<DeviceOperation> DecodeCommand(ReadOnlySpan<byte> frame, GbcsMacKey key) =>
        Decode<DeviceOperation>(frame, key, GbcsDirection.Command, ReadOperation);

    public static GbcsDecodeResult<DeviceOutcome> DecodeResponse(ReadOnlySpan<byte> frame, GbcsMacKey key) =>
        Decode<DeviceOutcome>(frame, key, GbcsDirection.Response, static (ushort code, ref GbcsFieldReader fields) => code switch
        {
            GbcsMessageCodes.Done => new DeviceOutcome.Done(),
            GbcsMessageCodes.Registers => new DeviceOutcome.Registers(fields.Int64(), fields.Enum<RegisterUnit>(), fields.Instant()),
            GbcsMessageCodes.Profile => ReadProfile(ref fields),
            GbcsMessageCodes.NetworkData => new DeviceOutcome.NetworkData(fields.Int32(), fields.Int32(), fields.Instant()),
            GbcsMessageCodes.FirmwareVersion => new DeviceOutcome.FirmwareVersion(fields.String(), fields.OptionalString()),
            GbcsMessageCodes.SupplyStatus => new DeviceOutcome.SupplyStatus(fields.Enum<SupplyState>()),
            GbcsMessageCodes.Balance => new DeviceOutcome.Balance(fields.Int64(), fields.Int64(), fields.Enum<PaymentMode>()),
            GbcsMessageCodes.Refused => new DeviceOutcome.Refused(fields.Enum<RefusalReason>(), fields.String()),
            GbcsMessageCodes.DailyReads => ReadDailyReads(ref fields),
            GbcsMessageCodes.MeterPoint => new DeviceOutcome.MeterPoint(fields.String()),
            GbcsMessageCodes.PaymentModeSetting => new DeviceOutcome.PaymentModeSetting(fields.Enum<PaymentMode>()),
            GbcsMessageCodes.DeviceLog => ReadDeviceLog(ref fields),
            GbcsMessageCodes.ActivePower => new DeviceOutcome.ActivePower(fields.Int32(), fields.Instant()),
            _ => null,
        });

    public static GbcsDecodeResult<DeviceAlert> DecodeAlert(ReadOnlySpan<byte> frame, GbcsMacKey key) =>
        Decode<DeviceAlert>(frame, key, GbcsDirection.Alert, static (ushort code, ref GbcsFieldReader fields) =>
            GbcsMessageCodes.TryGetAlertKind(code, out var kind) ? new DeviceAlert(kind, fields.UInt16(), fields.Instant()) : null);

    private static GbcsFieldWriter OperationFields(DeviceOperation operation)
    {
        ArgumentNullException.ThrowIfNull(operation);
        var fields = new GbcsFieldWriter();
        switch (operation)
        {
            case DeviceOperation.ReadProfile read:
                fields.Instant(read.From);
                fields.Instant(read.To);
                break;
            case DeviceOperation.ReadDailyReadLog log:
                fields.Instant(log.From);
                fields.Instant(log.To);
                break;
            case DeviceOperation.UpdateFirmware update:
                fields.String(update.Version);
                fields.Bytes(update.ImageHash.Span);
                break;
            case DeviceOperation.ActivateFirmware activate:
                fields.String(activate.ImageHash);
                break;
            case DeviceOperation.SetSupply set:
                fields.Enum(set.Target);
                break;
            case DeviceOperation.TopUp topUp:
                fields.String(topUp.Utrn);
                break;
            case DeviceOperation.ChangePaymentMode change:
                fields.Enum(change.Mode);
                break;
            case DeviceOperation.JoinDevice join:
                fields.UInt64(join.Other.Value);
                break;
            case DeviceOperation.UnjoinDevice unjoin:
                fields.UInt64(unjoin.Other.Value);
                break;
            case DeviceOperation.CommissionDevice commission:
                fields.Instant(commission.CurrentDateTime);
                fields.Duration(commission.Tolerance);
                break;
            case DeviceOperation.AddToDeviceLog add:
                fields.UInt64(add.Device.Value);
                fields.String(add.InstallCode);
                fields.Duration(add.JoinTimePeriod);
                break;
            case DeviceOperation.RemoveFromDeviceLog remove:
                fields.UInt64(remove.Device.Value);
                break;
            default:
                break; // the message code says it all
        }
        return fields;
    }

    private static DeviceOperation? ReadOperation(ushort code, ref GbcsFieldReader fields) => code switch
    {
        GbcsMessageCodes.ReadImportRegisters => new DeviceOperation.ReadImportRegisters(),
        GbcsMessageCodes.ReadProfile => new DeviceOperation.ReadProfile(fields.Instant(), fields.Instant()),
        GbcsMessageCodes.ReadNetworkData => new DeviceOperation.ReadNetworkData(),
        GbcsMessageCodes.ReadFirmwareVersion => new DeviceOperation.ReadFirmwareVersion(),
        GbcsMessageCodes.UpdateFirmware => new DeviceOperation.UpdateFirmware(fields.String(), fields.Bytes()),
        GbcsMessageCodes.ActivateFirmware => new DeviceOperation.ActivateFirmware(fields.String()),
        GbcsMessageCodes.SetSupply => new DeviceOperation.SetSupply(fields.Enum<SupplyState>()),
        GbcsMessageCodes.ReadSupplyStatus => new DeviceOperation.ReadSupplyStatus(),
        GbcsMessageCodes.TopUp => new DeviceOperation.TopUp(fields.String()),
        GbcsMessageCodes.ActivateEmergencyCredit => new DeviceOperation.ActivateEmergencyCredit(),
        GbcsMessageCodes.ReadMeterBalance => new DeviceOperation.ReadMeterBalance(),
        GbcsMessageCodes.ChangePaymentMode => new DeviceOperation.ChangePaymentMode(fields.Enum<PaymentMode>()),
        GbcsMessageCodes.JoinDevice => new DeviceOperation.JoinDevice(new Identifiers.Eui64((ulong)fields.Int64())),
        GbcsMessageCodes.UnjoinDevice => new DeviceOperation.UnjoinDevice(new Identifiers.Eui64((ulong)fields.Int64())),
        GbcsMessageCodes.CommissionDevice => new DeviceOperation.CommissionDevice(fields.Instant(), fields.Duration()),
        GbcsMessageCodes.AddToDeviceLog => new DeviceOperation.AddToDeviceLog(new Identifiers.Eui64((ulong)fields.Int64()), fields.String(), fields.Duration()),
        GbcsMessageCodes.RemoveFromDeviceLog => new DeviceOperation.RemoveFromDeviceLog(new Identifiers.Eui64((ulong)fields.Int64())),
        GbcsMessageCodes.ReadDailyReadLog => new DeviceOperation.ReadDailyReadLog(fields.Instant(), fields.Instant()),
        GbcsMessageCodes.ReadMeterPoint => new DeviceOperation.ReadMeterPoint(),
        GbcsMessageCodes.ReadPaymentMode => new DeviceOperation.ReadPaymentMode(),
        GbcsMessageCodes.ReadDeviceLog => new DeviceOperation.ReadDeviceLog(),
        GbcsMessageCodes.ReadActivePower => new DeviceOperation.ReadActivePower(),
        _ => null,
    };

    private static DeviceOutcome.DeviceLog ReadDeviceLog(ref GbcsFieldReader fields)
    {
        var count = fields.UInt32();
        var devices = new List<Identifiers.Eui64>();
        for (var i = 0u; i < count && fields.Error is null; i++)
        {
            devices.Add(new Identifiers.Eui64((ulong)fields.Int64()));
        }
        return new DeviceOutcome.DeviceLog(devices);
    }

    private static DeviceOutcome.DailyReads ReadDailyReads(ref GbcsFieldReader fields)
    {
        var unit = fields.Enum<RegisterUnit>();
        return new DeviceOutcome.DailyReads(unit, [.. ReadTimedValues(ref fields).Select(v => new RegisterRead(v.At, v.Value))]);
    }

    private static DeviceOutcome.Profile ReadProfile(ref GbcsFieldReader fields)
    {
        var interval = fields.Duration();
        var unit = fields.Enum<RegisterUnit>();
        return new DeviceOutcome.Profile(interval, unit, [.. ReadTimedValues(ref fields).Select(v => new ProfileValue(v.At, v.Value))]);
    }

    /// <summary>A profile's or daily read log's values: their count, then each one's instant and value.</summary>
    private static void WriteTimedValues(GbcsFieldWriter fields, int count, IEnumerable<(Instant At, long Value)> values)
    {
        fields.UInt32((uint)count);
        foreach (var (at, value) in values)
        {
            fields.Instant(at);
            fields.Int64(value);
        }
    }

    private static List<(Instant At, long Value)> ReadTimedValues(ref GbcsFieldReader fields)
    {
        var count = fields.UInt32();
        var values = new List<(Instant At, long Value)>();
        for (var i = 0u; i < count && fields.Error is null; i++)
        {
            values.Add((fields.Instant(), fields.Int64()));
        }
        return values;
    }

    private static byte[] Frame(GbcsDirection direction, ushort code, GbcsHeader header, ReadOnlySpan<byte> payload, GbcsMacKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var frame = new byte[HeaderLength + payload.Length + GbcsMacKey.TagLength];
        WriteHeader(frame, direction, code, header, payload.Length);
        payload.CopyTo(frame.AsSpan(HeaderLength));
        var authenticated = frame.AsSpan(0, HeaderLength + payload.Length);
        key.ComputeTag(frame.AsSpan(0, IvLength), authenticated, frame.AsSpan(authenticated.Length));
        return frame;
    }

    private delegate T? PayloadParser<T>(ushort code, ref GbcsFieldReader fields)
        where T : class;

    private static GbcsDecodeResult<T> Decode<T>(ReadOnlySpan<byte> frame, GbcsMacKey key, GbcsDirection expected, PayloadParser<T> parse)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(key);
        if (frame.Length < HeaderLength + GbcsMacKey.TagLength)
        {
            return GbcsDecodeResult<T>.Fail(GbcsFailure.Truncated, $"frame of {frame.Length} bytes is shorter than a header and a MAC tag ({HeaderLength + GbcsMacKey.TagLength})");
        }
        long declared = BinaryPrimitives.ReadUInt32BigEndian(frame[LengthOffset..]);
        long expectedLength = HeaderLength + declared + GbcsMacKey.TagLength;
        if (frame.Length < expectedLength)
        {
            return GbcsDecodeResult<T>.Fail(GbcsFailure.Truncated, $"frame of {frame.Length} bytes is shorter than the {expectedLength} its payload length ({declared}) says");
        }
        if (frame.Length > expectedLength)
        {
            return GbcsDecodeResult<T>.Fail(GbcsFailure.LengthMismatch, $"frame of {frame.Length} bytes is longer than the {expectedLength} its payload length ({declared}) says");
        }

        var header = ReadHeader(frame);
        var authenticated = frame[..^GbcsMacKey.TagLength];
        if (!key.VerifyTag(frame[..IvLength], authenticated, frame[^GbcsMacKey.TagLength..]))
        {
            return GbcsDecodeResult<T>.Fail(GbcsFailure.BadMac, $"MAC of the frame from {header.Originator} (counter {header.Counter}) does not verify under this key");
        }

        if (frame[0] != MagicVersion)
        {
            return GbcsDecodeResult<T>.Fail(GbcsFailure.UnsupportedVersion, $"magic/version byte is 0x{frame[0]:X2}, not 0x{MagicVersion:X2}");
        }
        var direction = (GbcsDirection)frame[1];
        if (direction != expected)
        {
            var name = Enum.IsDefined(direction) ? direction.ToString() : $"0x{frame[1]:X2}";
            return GbcsDecodeResult<T>.Fail(GbcsFailure.WrongDirection, $"a {expected} was expected but the frame's direction is {name}");
        }
        return Payload(frame, (int)declared, header, expected, parse);
    }

    /// <summary>Reads the payload of a frame whose lengths (and MAC, where it has one) have been checked.</summary>
    private static GbcsDecodeResult<T> Payload<T>(ReadOnlySpan<byte> frame, int declared, GbcsHeader header, GbcsDirection expected, PayloadParser<T> parse)
        where T : class
    {
        var code = BinaryPrimitives.ReadUInt16BigEndian(frame[2..]);
        var fields = new GbcsFieldReader(frame.Slice(HeaderLength, declared));
        var value = parse(code, ref fields);
        if (value is null)
        {
            return GbcsDecodeResult<T>.Fail(GbcsFailure.UnknownMessageCode, $"message code 0x{code:X4} is not a known {expected}");
        }
        if (fields.Error is null && !fields.AtEnd)
        {
            fields.Fail("payload has bytes after its last field");
        }
        if (fields.Error is not null)
        {
            return GbcsDecodeResult<T>.Fail(GbcsFailure.MalformedPayload, $"message code 0x{code:X4}: {fields.Error}");
        }
        return GbcsDecodeResult<T>.Success(header, code, value);
    }
}
