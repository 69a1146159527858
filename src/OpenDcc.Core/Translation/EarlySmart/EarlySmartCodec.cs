using System.Globalization;
using System.Text;
using NodaTime;
using OpenDcc.Core.Identifiers;

namespace OpenDcc.Core.Translation.EarlySmart;

/// <summary>
/// The verbs of the early-smart line protocol. Commands are imperative, responses are nouns, alerts start with '!':
/// <list type="table">
/// <listheader><term>Verb</term><description>Meaning and fields</description></listheader>
/// <item><term>RREG</term><description>read import registers</description></item>
/// <item><term>RPROF</term><description>read profile: from, to (Unix seconds)</description></item>
/// <item><term>RNET</term><description>read network data</description></item>
/// <item><term>RFW</term><description>read firmware version</description></item>
/// <item><term>FWLOAD</term><description>update firmware: ver, hash (hex)</description></item>
/// <item><term>FWACT</term><description>activate firmware: ver</description></item>
/// <item><term>SUPPLY</term><description>set supply: state (ON, OFF, ARM)</description></item>
/// <item><term>RSUP</term><description>read supply status</description></item>
/// <item><term>TOPUP</term><description>top up: utrn</description></item>
/// <item><term>ECRED</term><description>activate emergency credit</description></item>
/// <item><term>RBAL</term><description>read meter balance</description></item>
/// <item><term>PAYMODE</term><description>change payment mode: mode (CREDIT, PREPAY)</description></item>
/// <item><term>JOIN</term><description>join a device: dev (its EUI-64)</description></item>
/// <item><term>UNJOIN</term><description>unjoin a device: dev (its EUI-64)</description></item>
/// <item><term>COMM</term><description>commission, setting the clock: now (Unix seconds), tol (seconds)</description></item>
/// <item><term>LOGADD</term><description>add a device to the comms hub's device log: dev, code (install code, hex), join (seconds)</description></item>
/// <item><term>LOGDEL</term><description>remove a device from the comms hub's device log: dev</description></item>
/// <item><term>RDAILY</term><description>read the daily read log: from, to (Unix seconds)</description></item>
/// <item><term>RMPXN</term><description>read the configured MPAN or MPRN</description></item>
/// <item><term>RMODE</term><description>read the payment mode</description></item>
/// <item><term>RLOG</term><description>read the device log (the devices the meter is joined to)</description></item>
/// <item><term>RPWR</term><description>read active import power</description></item>
/// <item><term>ACK</term><description>done</description></item>
/// <item><term>REG</term><description>registers: val, unit (WH, DM3), at</description></item>
/// <item><term>PROF</term><description>profile: int (seconds), unit, vals (start:value,start:value…)</description></item>
/// <item><term>NET</term><description>network data: dv (decivolts), w (watts), at</description></item>
/// <item><term>FW</term><description>firmware version: run, pend (absent when nothing is pending)</description></item>
/// <item><term>SUP</term><description>supply status: state</description></item>
/// <item><term>BAL</term><description>balance: cr, ec (pence), mode</description></item>
/// <item><term>DAILY</term><description>daily reads: unit, vals (at:value,at:value…)</description></item>
/// <item><term>MPXN</term><description>meter point: mpxn</description></item>
/// <item><term>MODE</term><description>payment mode: mode</description></item>
/// <item><term>LOG</term><description>device log: devs (EUI-64s, comma-separated)</description></item>
/// <item><term>PWR</term><description>active power: w (watts), at</description></item>
/// <item><term>NAK</term><description>refused: why (NOTSUP, MODE, UTRN, NOPEND, STATE, AUTH, HANLOG), txt</description></item>
/// <item><term>!OUT !RST !LOWCR !NOCR !FWBAD</term><description>alerts (outage, restored, low credit, supply off for no credit, firmware verification failed): code (4 hex digits), at</description></item>
/// </list>
/// </summary>
public static class EarlySmartVerbs
{
    public const string ReadImportRegisters = "RREG";
    public const string ReadProfile = "RPROF";
    public const string ReadNetworkData = "RNET";
    public const string ReadFirmwareVersion = "RFW";
    public const string UpdateFirmware = "FWLOAD";
    public const string ActivateFirmware = "FWACT";
    public const string SetSupply = "SUPPLY";
    public const string ReadSupplyStatus = "RSUP";
    public const string TopUp = "TOPUP";
    public const string ActivateEmergencyCredit = "ECRED";
    public const string ReadMeterBalance = "RBAL";
    public const string ChangePaymentMode = "PAYMODE";
    public const string JoinDevice = "JOIN";
    public const string UnjoinDevice = "UNJOIN";
    public const string CommissionDevice = "COMM";
    public const string AddToDeviceLog = "LOGADD";
    public const string RemoveFromDeviceLog = "LOGDEL";
    public const string ReadDailyReadLog = "RDAILY";
    public const string ReadMeterPoint = "RMPXN";
    public const string ReadPaymentMode = "RMODE";
    public const string ReadDeviceLog = "RLOG";
    public const string ReadActivePower = "RPWR";

    public const string Done = "ACK";
    public const string Registers = "REG";
    public const string Profile = "PROF";
    public const string NetworkData = "NET";
    public const string FirmwareVersion = "FW";
    public const string SupplyStatus = "SUP";
    public const string Balance = "BAL";
    public const string Refused = "NAK";
    public const string DailyReads = "DAILY";
    public const string MeterPoint = "MPXN";
    public const string PaymentModeSetting = "MODE";
    public const string DeviceLog = "LOG";
    public const string ActivePower = "PWR";

    public const string PowerRestored = "!RST";
    public const string LowCredit = "!LOWCR";
    public const string SupplyDisabledNoCredit = "!NOCR";
    public const string FirmwareVerificationFailed = "!FWBAD";

    internal static readonly EarlySmartWords<DeviceAlertKind> Alerts = new(
        (DeviceAlertKind.PowerRestored, PowerRestored),
        (DeviceAlertKind.LowCredit, LowCredit),
        (DeviceAlertKind.SupplyDisabledNoCredit, SupplyDisabledNoCredit),
        (DeviceAlertKind.FirmwareVerificationFailed, FirmwareVerificationFailed));

    internal static readonly IReadOnlySet<string> Commands = new HashSet<string>(StringComparer.Ordinal)
    {
        ReadImportRegisters, ReadProfile, ReadNetworkData, ReadFirmwareVersion, UpdateFirmware, ActivateFirmware,
        SetSupply, ReadSupplyStatus, TopUp, ActivateEmergencyCredit, ReadMeterBalance, ChangePaymentMode, JoinDevice, UnjoinDevice,
        CommissionDevice, AddToDeviceLog, RemoveFromDeviceLog, ReadDailyReadLog, ReadMeterPoint, ReadPaymentMode, ReadDeviceLog, ReadActivePower,
    };

    internal static readonly IReadOnlySet<string> Responses = new HashSet<string>(StringComparer.Ordinal)
    {
        Done, Registers, Profile, NetworkData, FirmwareVersion, SupplyStatus, Balance, Refused, DailyReads, MeterPoint, PaymentModeSetting, DeviceLog, ActivePower,
    };

    internal static readonly IReadOnlySet<string> AlertVerbs = new HashSet<string>(StringComparer.Ordinal)
    {
        PowerRestored, LowCredit, SupplyDisabledNoCredit, FirmwareVerificationFailed,
    };
}

/// <summary>
/// The proprietary text protocol of pre-SMETS "early smart" meters, one line per message:
/// <code>ES1|&lt;sequence&gt;|&lt;device EUI-64, 16 hex digits&gt;|&lt;verb&gt;|k=v;k=v|&lt;CRC-32, 8 hex digits&gt;</code>
/// The sequence is unsigned decimal and must rise (<see cref="EarlySmartSequenceGuard"/>); the CRC-32 (IEEE) covers
/// the UTF-8 bytes of everything before the last '|'. Values are escaped as <see cref="EarlySmartFieldWriter"/>
/// describes, so a line has no raw line break and splits on '|' and ';' without ambiguity. There is no cryptography:
/// these meters trusted whatever their head-end sent. Encoded lines carry no line ending; the decoder accepts one
/// trailing "\n" or "\r\n". Decoding never throws on bad input.
/// </summary>
public static class EarlySmartCodec
{
    public const string Version = "ES1";

    private static readonly EarlySmartWords<SupplyState> SupplyWords = new(
        (SupplyState.Enabled, "ON"), (SupplyState.Disabled, "OFF"), (SupplyState.Armed, "ARM"));

    private static readonly EarlySmartWords<PaymentMode> ModeWords = new(
        (PaymentMode.Credit, "CREDIT"), (PaymentMode.Prepayment, "PREPAY"));

    private static readonly EarlySmartWords<RegisterUnit> UnitWords = new(
        (RegisterUnit.WattHours, "WH"), (RegisterUnit.CubicDecimetres, "DM3"));

    private static readonly EarlySmartWords<RefusalReason> ReasonWords = new(
        (RefusalReason.NotSupported, "NOTSUP"),
        (RefusalReason.WrongPaymentMode, "MODE"),
        (RefusalReason.UtrnRejected, "UTRN"),
        (RefusalReason.NoPendingFirmware, "NOPEND"),
        (RefusalReason.InvalidState, "STATE"),
        (RefusalReason.Unauthorised, "AUTH"),
        (RefusalReason.NotInDeviceLog, "HANLOG"));

    public static string EncodeCommand(EarlySmartHeader header, DeviceOperation operation)
    {
        ArgumentNullException.ThrowIfNull(operation);
        var (verb, fields) = operation switch
        {
            DeviceOperation.ReadImportRegisters => (EarlySmartVerbs.ReadImportRegisters, Fields()),
            DeviceOperation.ReadProfile read => (EarlySmartVerbs.ReadProfile, Fields().Instant("from", read.From).Instant("to", read.To)),
            DeviceOperation.ReadNetworkData => (EarlySmartVerbs.ReadNetworkData, Fields()),
            DeviceOperation.ReadFirmwareVersion => (EarlySmartVerbs.ReadFirmwareVersion, Fields()),
            DeviceOperation.UpdateFirmware update => (EarlySmartVerbs.UpdateFirmware, Fields().Text("ver", update.Version).Hex("hash", update.ImageHash.Span)),
            DeviceOperation.ActivateFirmware activate => (EarlySmartVerbs.ActivateFirmware, Fields().Text("hash", activate.ImageHash)),
            DeviceOperation.SetSupply set => (EarlySmartVerbs.SetSupply, Fields().Raw("state", SupplyWords[set.Target])),
            DeviceOperation.ReadSupplyStatus => (EarlySmartVerbs.ReadSupplyStatus, Fields()),
            DeviceOperation.TopUp topUp => (EarlySmartVerbs.TopUp, Fields().Text("utrn", topUp.Utrn)),
            DeviceOperation.ActivateEmergencyCredit => (EarlySmartVerbs.ActivateEmergencyCredit, Fields()),
            DeviceOperation.ReadMeterBalance => (EarlySmartVerbs.ReadMeterBalance, Fields()),
            DeviceOperation.ChangePaymentMode change => (EarlySmartVerbs.ChangePaymentMode, Fields().Raw("mode", ModeWords[change.Mode])),
            DeviceOperation.JoinDevice join => (EarlySmartVerbs.JoinDevice, Fields().Raw("dev", join.Other.ToString())),
            DeviceOperation.UnjoinDevice unjoin => (EarlySmartVerbs.UnjoinDevice, Fields().Raw("dev", unjoin.Other.ToString())),
            DeviceOperation.CommissionDevice commission => (EarlySmartVerbs.CommissionDevice, Fields().Instant("now", commission.CurrentDateTime).Seconds("tol", commission.Tolerance)),
            DeviceOperation.AddToDeviceLog add => (EarlySmartVerbs.AddToDeviceLog, Fields().Raw("dev", add.Device.ToString()).Text("code", add.InstallCode).Seconds("join", add.JoinTimePeriod)),
            DeviceOperation.RemoveFromDeviceLog remove => (EarlySmartVerbs.RemoveFromDeviceLog, Fields().Raw("dev", remove.Device.ToString())),
            DeviceOperation.ReadDailyReadLog log => (EarlySmartVerbs.ReadDailyReadLog, Fields().Instant("from", log.From).Instant("to", log.To)),
            DeviceOperation.ReadMeterPoint => (EarlySmartVerbs.ReadMeterPoint, Fields()),
            DeviceOperation.ReadPaymentMode => (EarlySmartVerbs.ReadPaymentMode, Fields()),
            DeviceOperation.ReadDeviceLog => (EarlySmartVerbs.ReadDeviceLog, Fields()),
            DeviceOperation.ReadActivePower => (EarlySmartVerbs.ReadActivePower, Fields()),
            _ => throw new ArgumentException($"No early-smart verb for {operation.GetType().Name}", nameof(operation)),
        };
        return Line(header, verb, fields);
    }

    /// <summary>A device's EUI-64 field; a malformed one fails the line (recorded in the reader, never thrown).</summary>
    private static Identifiers.Eui64 Device(EarlySmartFieldReader f, string key)
    {
        var text = f.Required(key);
        if (Identifiers.Eui64.TryParse(text, out var id, out var error))
        {
            return id;
        }
        f.Fail($"{key}: {error}");
        return default;
    }

    /// <summary>A comma-separated list of EUI-64s (empty: none); a malformed one fails the line.</summary>
    private static List<Identifiers.Eui64> Devices(EarlySmartFieldReader f, string key)
    {
        var text = f.Required(key);
        var devices = new List<Identifiers.Eui64>();
        if (f.Error is not null || text.Length == 0)
        {
            return devices;
        }
        foreach (var item in text.Split(','))
        {
            if (!Identifiers.Eui64.TryParse(item, out var id, out var error))
            {
                f.Fail($"{key}: {error}");
                break;
            }
            devices.Add(id);
        }
        return devices;
    }

    public static string EncodeResponse(EarlySmartHeader header, DeviceOutcome outcome)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        var (verb, fields) = outcome switch
        {
            DeviceOutcome.Done => (EarlySmartVerbs.Done, Fields()),
            DeviceOutcome.Registers r => (EarlySmartVerbs.Registers, Fields().Number("val", r.Import).Raw("unit", UnitWords[r.Unit]).Instant("at", r.At)),
            DeviceOutcome.Profile p => (EarlySmartVerbs.Profile, Fields().Seconds("int", p.Interval).Raw("unit", UnitWords[p.Unit]).Raw("vals", TimedValues(p.Values.Select(v => (v.Start, v.Value))))),
            DeviceOutcome.NetworkData n => (EarlySmartVerbs.NetworkData, Fields().Number("dv", n.RmsVoltageDeciVolts).Number("w", n.ActivePowerWatts).Instant("at", n.At)),
            DeviceOutcome.FirmwareVersion f => (EarlySmartVerbs.FirmwareVersion, f.Pending is null ? Fields().Text("run", f.Running) : Fields().Text("run", f.Running).Text("pend", f.Pending)),
            DeviceOutcome.SupplyStatus s => (EarlySmartVerbs.SupplyStatus, Fields().Raw("state", SupplyWords[s.State])),
            DeviceOutcome.Balance b => (EarlySmartVerbs.Balance, Fields().Number("cr", b.CreditPence).Number("ec", b.EmergencyCreditInUsePence).Raw("mode", ModeWords[b.Mode])),
            DeviceOutcome.Refused r => (EarlySmartVerbs.Refused, Fields().Raw("why", ReasonWords[r.Reason]).Text("txt", r.Detail)),
            DeviceOutcome.DailyReads d => (EarlySmartVerbs.DailyReads, Fields().Raw("unit", UnitWords[d.Unit]).Raw("vals", TimedValues(d.Reads.Select(r => (r.At, r.Value))))),
            DeviceOutcome.MeterPoint m => (EarlySmartVerbs.MeterPoint, Fields().Text("mpxn", m.Mpxn)),
            DeviceOutcome.PaymentModeSetting m => (EarlySmartVerbs.PaymentModeSetting, Fields().Raw("mode", ModeWords[m.Mode])),
            DeviceOutcome.DeviceLog l => (EarlySmartVerbs.DeviceLog, Fields().Raw("devs", string.Join(',', l.Devices))),
            DeviceOutcome.ActivePower p => (EarlySmartVerbs.ActivePower, Fields().Number("w", p.Watts).Instant("at", p.At)),
            _ => throw new ArgumentException($"No early-smart verb for {outcome.GetType().Name}", nameof(outcome)),
        };
        return Line(header, verb, fields);
    }

    public static string EncodeAlert(EarlySmartHeader header, DeviceAlert alert)
    {
        ArgumentNullException.ThrowIfNull(alert);
        var fields = new EarlySmartFieldWriter()
            .Raw("code", alert.AlertCode.ToString("X4", CultureInfo.InvariantCulture))
            .Instant("at", alert.At);
        return Line(header, EarlySmartVerbs.Alerts[alert.Kind], fields);
    }

    public static EarlySmartDecodeResult<DeviceOperation> DecodeCommand(string? line) =>
        Decode<DeviceOperation>(line, EarlySmartVerbs.Commands, "command", static (verb, f) => verb switch
        {
            EarlySmartVerbs.ReadImportRegisters => new DeviceOperation.ReadImportRegisters(),
            EarlySmartVerbs.ReadProfile => new DeviceOperation.ReadProfile(f.Instant("from"), f.Instant("to")),
            EarlySmartVerbs.ReadNetworkData => new DeviceOperation.ReadNetworkData(),
            EarlySmartVerbs.ReadFirmwareVersion => new DeviceOperation.ReadFirmwareVersion(),
            EarlySmartVerbs.UpdateFirmware => new DeviceOperation.UpdateFirmware(f.Text("ver"), f.Hex("hash")),
            EarlySmartVerbs.ActivateFirmware => new DeviceOperation.ActivateFirmware(f.Text("hash")),
            EarlySmartVerbs.SetSupply => new DeviceOperation.SetSupply(f.Word("state", SupplyWords)),
            EarlySmartVerbs.ReadSupplyStatus => new DeviceOperation.ReadSupplyStatus(),
            EarlySmartVerbs.TopUp => new DeviceOperation.TopUp(f.Text("utrn")),
            EarlySmartVerbs.ActivateEmergencyCredit => new DeviceOperation.ActivateEmergencyCredit(),
            EarlySmartVerbs.ReadMeterBalance => new DeviceOperation.ReadMeterBalance(),
            EarlySmartVerbs.JoinDevice => new DeviceOperation.JoinDevice(Device(f, "dev")),
            EarlySmartVerbs.UnjoinDevice => new DeviceOperation.UnjoinDevice(Device(f, "dev")),
            EarlySmartVerbs.CommissionDevice => new DeviceOperation.CommissionDevice(f.Instant("now"), f.Seconds("tol")),
            EarlySmartVerbs.AddToDeviceLog => new DeviceOperation.AddToDeviceLog(Device(f, "dev"), f.Text("code"), f.Seconds("join")),
            EarlySmartVerbs.RemoveFromDeviceLog => new DeviceOperation.RemoveFromDeviceLog(Device(f, "dev")),
            EarlySmartVerbs.ReadDailyReadLog => new DeviceOperation.ReadDailyReadLog(f.Instant("from"), f.Instant("to")),
            EarlySmartVerbs.ReadMeterPoint => new DeviceOperation.ReadMeterPoint(),
            EarlySmartVerbs.ReadPaymentMode => new DeviceOperation.ReadPaymentMode(),
            EarlySmartVerbs.ReadDeviceLog => new DeviceOperation.ReadDeviceLog(),
            EarlySmartVerbs.ReadActivePower => new DeviceOperation.ReadActivePower(),
            _ => new DeviceOperation.ChangePaymentMode(f.Word("mode", ModeWords)),
        });

    public static EarlySmartDecodeResult<DeviceOutcome> DecodeResponse(string? line) =>
        Decode<DeviceOutcome>(line, EarlySmartVerbs.Responses, "response", static (verb, f) => verb switch
        {
            EarlySmartVerbs.Done => new DeviceOutcome.Done(),
            EarlySmartVerbs.Registers => new DeviceOutcome.Registers(f.Number("val"), f.Word("unit", UnitWords), f.Instant("at")),
            EarlySmartVerbs.Profile => new DeviceOutcome.Profile(f.Seconds("int"), f.Word("unit", UnitWords), [.. ReadTimedValues(f).Select(v => new ProfileValue(v.At, v.Value))]),
            EarlySmartVerbs.NetworkData => new DeviceOutcome.NetworkData(f.Int32("dv"), f.Int32("w"), f.Instant("at")),
            EarlySmartVerbs.FirmwareVersion => new DeviceOutcome.FirmwareVersion(f.Text("run"), f.OptionalText("pend")),
            EarlySmartVerbs.SupplyStatus => new DeviceOutcome.SupplyStatus(f.Word("state", SupplyWords)),
            EarlySmartVerbs.Balance => new DeviceOutcome.Balance(f.Number("cr"), f.Number("ec"), f.Word("mode", ModeWords)),
            EarlySmartVerbs.DailyReads => new DeviceOutcome.DailyReads(f.Word("unit", UnitWords), [.. ReadTimedValues(f).Select(v => new RegisterRead(v.At, v.Value))]),
            EarlySmartVerbs.MeterPoint => new DeviceOutcome.MeterPoint(f.Text("mpxn")),
            EarlySmartVerbs.PaymentModeSetting => new DeviceOutcome.PaymentModeSetting(f.Word("mode", ModeWords)),
            EarlySmartVerbs.DeviceLog => new DeviceOutcome.DeviceLog(Devices(f, "devs")),
            EarlySmartVerbs.ActivePower => new DeviceOutcome.ActivePower(f.Int32("w"), f.Instant("at")),
            _ => new DeviceOutcome.Refused(f.Word("why", ReasonWords), f.Text("txt")),
        });

    public static EarlySmartDecodeResult<DeviceAlert> DecodeAlert(string? line) =>
        Decode<DeviceAlert>(line, EarlySmartVerbs.AlertVerbs, "alert", static (verb, f) =>
        {
            EarlySmartVerbs.Alerts.TryParse(verb, out var kind);
            return new DeviceAlert(kind, f.UInt16Hex("code"), f.Instant("at"));
        });

    private static EarlySmartFieldWriter Fields() => new();

    /// <summary>A profile's or daily read log's values: <c>unix seconds:value</c>, comma-separated.</summary>
    private static string TimedValues(IEnumerable<(Instant At, long Value)> values) =>
        string.Join(',', values.Select(v => string.Create(CultureInfo.InvariantCulture, $"{v.At.ToUnixTimeSeconds()}:{v.Value}")));

    private static List<(Instant At, long Value)> ReadTimedValues(EarlySmartFieldReader fields)
    {
        var raw = fields.Required("vals");
        var values = new List<(Instant At, long Value)>();
        if (fields.Error is not null || raw.Length == 0)
        {
            return values;
        }
        foreach (var entry in raw.Split(','))
        {
            var colon = entry.IndexOf(':', StringComparison.Ordinal);
            if (colon < 0
                || !long.TryParse(entry.AsSpan(0, colon), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var start)
                || !long.TryParse(entry.AsSpan(colon + 1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value)
                || start < Instant.MinValue.ToUnixTimeSeconds()
                || start > Instant.MaxValue.ToUnixTimeSeconds())
            {
                fields.Fail($"entry '{entry}' of vals is not <unix seconds>:<value>");
                break;
            }
            values.Add((Instant.FromUnixTimeSeconds(start), value));
        }
        return values;
    }

    private static string Line(EarlySmartHeader header, string verb, EarlySmartFieldWriter fields)
    {
        var body = string.Create(CultureInfo.InvariantCulture, $"{Version}|{header.Sequence}|{header.Device.ToCompactString()}|{verb}|{fields}");
        return string.Create(CultureInfo.InvariantCulture, $"{body}|{Crc32Ieee.Compute(Encoding.UTF8.GetBytes(body)):X8}");
    }

    private static EarlySmartDecodeResult<T> Decode<T>(string? line, IReadOnlySet<string> verbs, string expected, Func<string, EarlySmartFieldReader, T> parse)
        where T : class
    {
        if (line is null)
        {
            return EarlySmartDecodeResult<T>.Fail(EarlySmartFailure.Malformed, "no line");
        }
        if (line.EndsWith('\n'))
        {
            line = line.EndsWith("\r\n", StringComparison.Ordinal) ? line[..^2] : line[..^1];
        }
        var lastBar = line.LastIndexOf('|');
        if (lastBar < 0)
        {
            return EarlySmartDecodeResult<T>.Fail(EarlySmartFailure.Malformed, "line has no '|'-separated parts");
        }
        var body = line[..lastBar];
        var crcText = line[(lastBar + 1)..];
        if (crcText.Length != 8 || !uint.TryParse(crcText, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var crc))
        {
            return EarlySmartDecodeResult<T>.Fail(EarlySmartFailure.Malformed, $"checksum '{crcText}' is not eight hex digits");
        }
        var actual = Crc32Ieee.Compute(Encoding.UTF8.GetBytes(body));
        if (crc != actual)
        {
            return EarlySmartDecodeResult<T>.Fail(EarlySmartFailure.BadChecksum, $"CRC-32 is {crc:X8} on the line but {actual:X8} over its content");
        }

        var parts = body.Split('|');
        if (parts.Length != 5)
        {
            return EarlySmartDecodeResult<T>.Fail(EarlySmartFailure.Malformed, $"line has {parts.Length + 1} '|'-separated parts, not 6");
        }
        if (parts[0] != Version)
        {
            return EarlySmartDecodeResult<T>.Fail(EarlySmartFailure.UnsupportedVersion, $"line starts '{parts[0]}', not '{Version}'");
        }
        if (!ulong.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var sequence))
        {
            return EarlySmartDecodeResult<T>.Fail(EarlySmartFailure.Malformed, $"sequence '{parts[1]}' is not an unsigned decimal number");
        }
        if (parts[2].Length != 16 || !Eui64.TryParse(parts[2], out var device))
        {
            return EarlySmartDecodeResult<T>.Fail(EarlySmartFailure.Malformed, $"device '{parts[2]}' is not 16 hex digits");
        }
        var verb = parts[3];
        if (!verbs.Contains(verb))
        {
            var known = EarlySmartVerbs.Commands.Contains(verb) || EarlySmartVerbs.Responses.Contains(verb) || EarlySmartVerbs.AlertVerbs.Contains(verb);
            return known
                ? EarlySmartDecodeResult<T>.Fail(EarlySmartFailure.WrongDirection, $"verb '{verb}' is not a {expected}")
                : EarlySmartDecodeResult<T>.Fail(EarlySmartFailure.UnknownVerb, $"verb '{verb}' is not an early-smart verb");
        }
        var fields = EarlySmartFieldReader.Parse(parts[4]);
        var value = parse(verb, fields);
        if (fields.Error is not null)
        {
            return EarlySmartDecodeResult<T>.Fail(EarlySmartFailure.MalformedFields, $"{verb}: {fields.Error}");
        }
        return EarlySmartDecodeResult<T>.Success(new EarlySmartHeader(sequence, device), verb, value);
    }
}
