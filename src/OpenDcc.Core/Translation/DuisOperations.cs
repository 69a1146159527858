using System.Globalization;
using System.Security.Cryptography;
using System.Xml.Linq;
using NodaTime;
using OpenDcc.Core.Catalogue;
using OpenDcc.Core.Duis;

namespace OpenDcc.Core.Translation;

/// <summary>
/// Reads the device operation out of a DUIS service request. This is the half of translation every adapter
/// shares: which operation a DUIS body asks for; an adapter then puts the operation into its device's wire format.
/// SRVs not listed here are not translated (yet): they are refused with <see cref="NotTranslated"/>.
/// </summary>
public static class DuisOperations
{
    /// <summary>
    /// The response code for a device SRV OpenDcc does not translate for that device's adapter: E11, "SR not
    /// compatible with the device type", since no adapter of that device can carry it. (Choice, documented.)
    /// </summary>
    public const string NotTranslated = "E11";

    /// <summary>
    /// The response code for a future-dated device request (one whose body carries an <c>ExecutionDateTime</c>):
    /// OpenDcc does not hold commands for later yet (Scheduling/), and executing it at once would be wrong.
    /// The gateway's "not available yet" code (choice, documented).
    /// </summary>
    public const string FutureDatedNotAvailable = "E100";

    /// <summary>The SRVs translated into an operation, by SRV.</summary>
    public static IReadOnlyCollection<string> Variants => Readers.Keys;

    /// <summary>
    /// Each translated SRV: the elements its body may hold (DUIS XSD; the RTDS templates hold no others), besides
    /// <c>ExecutionDateTime</c> where the SRV may be future-dated, anything else being a body that does not match its SRV;
    /// and how the operation is read from it.
    /// </summary>
    private static readonly Dictionary<string, (string[] Parts, Func<XElement, DeviceOperation> Read)> Readers = new()
    {
        ["1.6"] = (["Credit", "Prepayment"], body => new DeviceOperation.ChangePaymentMode(body.Element(DuisNamespaces.Sr + "Prepayment") is not null ? PaymentMode.Prepayment : PaymentMode.Credit)),
        ["2.2"] = (["UTRN"], body => new DeviceOperation.TopUp(Utrn(body))),
        ["2.5"] = ([], _ => new DeviceOperation.ActivateEmergencyCredit()),
        ["4.1.1"] = ([], _ => new DeviceOperation.ReadImportRegisters()),
        ["4.6.1"] = (["ReadLogPeriod"], DailyReadLog),
        ["4.16"] = ([], _ => new DeviceOperation.ReadActivePower()),
        ["4.8.1"] = (["ReadLogPeriod"], Profile),
        ["4.17"] = (["ReadLogPeriod", "KAPublicSecurityCredentials"], Profile),
        ["4.10"] = (["ReadLogPeriod"], _ => new DeviceOperation.ReadNetworkData()),
        ["4.18"] = ([], _ => new DeviceOperation.ReadMeterBalance()),
        ["6.2.7"] = ([], _ => new DeviceOperation.ReadMeterPoint()),
        ["6.2.9"] = ([], _ => new DeviceOperation.ReadPaymentMode()),
        ["7.1"] = ([], _ => new DeviceOperation.SetSupply(SupplyState.Enabled)),
        ["7.2"] = ([], _ => new DeviceOperation.SetSupply(SupplyState.Disabled)),
        ["7.3"] = ([], _ => new DeviceOperation.SetSupply(SupplyState.Armed)),
        ["7.4"] = ([], _ => new DeviceOperation.ReadSupplyStatus()),
        ["11.1"] = (["FirmwareImage", "FirmwareVersion", "DeviceIDList"], body => new DeviceOperation.UpdateFirmware(
            FirmwareVersion(body),
            SHA256.HashData(Convert.FromBase64String(Required(body, "FirmwareImage"))))),
        ["11.2"] = ([], _ => new DeviceOperation.ReadFirmwareVersion()),
        ["11.3"] = (["FirmwareHash"], body => new DeviceOperation.ActivateFirmware(FirmwareHash(body))),
        ["8.1.1"] = (["CurrentDateTime", "TolerancePeriod"], body => new DeviceOperation.CommissionDevice(RequiredInstant(body, "CurrentDateTime"), Seconds(body, "TolerancePeriod", 0, 86_400))),
        ["8.7.1"] = (["OtherDeviceID"], body => new DeviceOperation.JoinDevice(Device(body, "OtherDeviceID"))),
        ["8.7.2"] = (["OtherDeviceID"], body => new DeviceOperation.JoinDevice(Device(body, "OtherDeviceID"))),
        ["8.8.1"] = (["OtherDeviceID"], body => new DeviceOperation.UnjoinDevice(Device(body, "OtherDeviceID"))),
        ["8.8.2"] = (["OtherDeviceID"], body => new DeviceOperation.UnjoinDevice(Device(body, "OtherDeviceID"))),
        ["8.9"] = (["ReadSecurityDetails"], _ => new DeviceOperation.ReadDeviceLog()),
        ["8.11"] = (["DeviceID", "RequestType", "AddDeviceToCHFWhitelist"], UpdateHanDeviceLog),
    };

    /// <summary>
    /// Forms of a translated SRV that are not: the element that asks for them, and why. Refused <see cref="NotTranslated"/>
    /// rather than answered in part.
    /// </summary>
    private static readonly Dictionary<string, (string Part, string Why)> UntranslatedForms = new()
    {
        ["8.9"] = ("ReadSecurityDetails", "the reference devices keep no security credentials for the devices in their logs; 8.9 without it reads the log's devices"),
    };

    /// <summary>
    /// Whether <paramref name="operation"/> is what SRV <paramref name="variant"/> asks of a device: a pre-command made
    /// at Transform for one SRV must come back signed under that SRV, not another.
    /// </summary>
    public static bool Asks(string variant, DeviceOperation operation) => (variant, operation) switch
    {
        ("1.6", DeviceOperation.ChangePaymentMode) => true,
        ("2.2", DeviceOperation.TopUp) => true,
        ("2.5", DeviceOperation.ActivateEmergencyCredit) => true,
        ("4.1.1", DeviceOperation.ReadImportRegisters) => true,
        ("4.6.1", DeviceOperation.ReadDailyReadLog) => true,
        ("4.16", DeviceOperation.ReadActivePower) => true,
        ("8.9", DeviceOperation.ReadDeviceLog) => true,
        ("6.2.7", DeviceOperation.ReadMeterPoint) => true,
        ("6.2.9", DeviceOperation.ReadPaymentMode) => true,
        ("4.8.1" or "4.17", DeviceOperation.ReadProfile) => true,
        ("4.10", DeviceOperation.ReadNetworkData) => true,
        ("4.18", DeviceOperation.ReadMeterBalance) => true,
        ("7.1", DeviceOperation.SetSupply { Target: SupplyState.Enabled }) => true,
        ("7.2", DeviceOperation.SetSupply { Target: SupplyState.Disabled }) => true,
        ("7.3", DeviceOperation.SetSupply { Target: SupplyState.Armed }) => true,
        ("7.4", DeviceOperation.ReadSupplyStatus) => true,
        ("11.1", DeviceOperation.UpdateFirmware) => true,
        ("11.2", DeviceOperation.ReadFirmwareVersion) => true,
        ("11.3", DeviceOperation.ActivateFirmware) => true,
        ("8.1.1", DeviceOperation.CommissionDevice) => true,
        ("8.7.1" or "8.7.2", DeviceOperation.JoinDevice) => true,
        ("8.8.1" or "8.8.2", DeviceOperation.UnjoinDevice) => true,
        ("8.11", DeviceOperation.AddToDeviceLog or DeviceOperation.RemoveFromDeviceLog) => true,
        _ => false,
    };

    /// <summary>
    /// What a command made from a request asks of its device. A critical command's is read back from the signed
    /// pre-command the device executes, so what the inventory records is what the device did (null when the adapter
    /// cannot read it, which the gateway's check made sure it can); any other's from the request's body.
    /// </summary>
    /// <param name="body">The request's body element, as text.</param>
    /// <param name="signedPreCommand">For a critical command (CV 5, 6): the user's signed pre-command.</param>
    public static bool TryReadCommand(string variant, string body, byte[]? signedPreCommand, ITranslationAdapter adapter, GatewayResponseCodes codes, out DeviceOperation? operation, out DeviceRefusal? refusal)
    {
        if (signedPreCommand is not null)
        {
            operation = (adapter as ICriticalCommandTranslation)?.ReadSignedPreCommand(signedPreCommand, out _)?.Operation;
            refusal = null;
            return true;
        }
        return TryRead(variant, XElement.Parse(body), codes, out operation, out refusal);
    }

    /// <summary>The operation a request's body asks of its target device.</summary>
    /// <param name="codes">Gives the code for a malformed body: the gateway's <see cref="GatewayResponseCodes.InvalidRequest"/>, as for a bad header.</param>
    /// <param name="refusal">
    /// Why not: <see cref="NotTranslated"/> when the SRV is not translated for devices; the invalid-request code when the
    /// body lacks or garbles what the operation needs (the reason names the field).
    /// </param>
    public static bool TryRead(string variant, XElement body, GatewayResponseCodes codes, out DeviceOperation? operation, out DeviceRefusal? refusal)
    {
        ArgumentNullException.ThrowIfNull(body);
        ArgumentNullException.ThrowIfNull(codes);
        operation = null;
        if (!Readers.TryGetValue(variant, out var reader))
        {
            refusal = new DeviceRefusal(NotTranslated, $"SRV {variant} is not translated for devices");
            return false;
        }
        if (Stranger(variant, reader.Parts, body) is { } stranger)
        {
            refusal = new DeviceRefusal(codes.InvalidRequest, $"SRV {variant}: sr:{body.Name.LocalName} holds {stranger}, which it does not take");
            return false;
        }
        if (UntranslatedForms.TryGetValue(variant, out var form) && body.Element(DuisNamespaces.Sr + form.Part) is not null)
        {
            refusal = new DeviceRefusal(NotTranslated, $"SRV {variant} with sr:{form.Part} is not translated for devices: {form.Why}");
            return false;
        }
        try
        {
            operation = reader.Read(body);
            refusal = null;
            return true;
        }
        catch (FormatException e)
        {
            refusal = new DeviceRefusal(codes.InvalidRequest, $"SRV {variant}: {e.Message}");
            return false;
        }
    }

    /// <summary>The first element of <paramref name="body"/> that SRV <paramref name="variant"/> does not take (<see cref="Readers"/>), named; null if none.</summary>
    private static string? Stranger(string variant, string[] parts, XElement body)
    {
        var futureDated = ServiceCatalogue.Duis[variant].FutureDatedResponsePattern != FutureDatedResponsePattern.None;
        foreach (var element in body.Elements())
        {
            var name = element.Name.LocalName;
            if (element.Name.Namespace != DuisNamespaces.Sr || !(parts.Contains(name, StringComparer.Ordinal) || (futureDated && name == "ExecutionDateTime")))
            {
                return element.Name.Namespace == DuisNamespaces.Sr ? $"sr:{Excerpt.Of(name)}" : $"{{{Excerpt.Of(element.Name.NamespaceName)}}}{Excerpt.Of(name)}";
            }
        }
        return null;
    }

    private static DeviceOperation Profile(XElement body)
    {
        var (from, to) = ReadLogPeriod(body);
        return new DeviceOperation.ReadProfile(from, to);
    }

    private static DeviceOperation DailyReadLog(XElement body)
    {
        var (from, to) = ReadLogPeriod(body);
        return new DeviceOperation.ReadDailyReadLog(from, to);
    }

    private static (Instant From, Instant To) ReadLogPeriod(XElement body)
    {
        var period = body.Element(DuisNamespaces.Sr + "ReadLogPeriod") ?? throw new FormatException("no ReadLogPeriod");
        var from = RequiredInstant(period, "StartDateTime");
        var to = RequiredInstant(period, "EndDateTime");
        return to > from ? (from, to) : throw new FormatException("the ReadLogPeriod ends before it starts");
    }

    /// <summary>
    /// 8.11 (DUIS XSD <c>UpdateHANDeviceLog</c>): the device, <c>RequestType</c> Add or Remove, and for Add the
    /// <c>AddDeviceToCHFWhitelist</c> with the <c>JoinTimePeriod</c> (1–3600 s) and the <c>InstallCode</c> (6–16 bytes of hex).
    /// </summary>
    private static DeviceOperation UpdateHanDeviceLog(XElement body)
    {
        var device = Device(body, "DeviceID");
        switch (Required(body, "RequestType"))
        {
            case "Add":
                var whitelist = body.Element(DuisNamespaces.Sr + "AddDeviceToCHFWhitelist") ?? throw new FormatException("RequestType Add needs AddDeviceToCHFWhitelist");
                var installCode = Required(whitelist, "InstallCode");
                byte[] code;
                try
                {
                    code = Convert.FromHexString(installCode);
                }
                catch (FormatException)
                {
                    throw new FormatException($"InstallCode '{Excerpt.Of(installCode)}' is not hex");
                }
                return code.Length is >= 6 and <= 16
                    ? new DeviceOperation.AddToDeviceLog(device, Convert.ToHexString(code), Seconds(whitelist, "JoinTimePeriod", 1, 3600))
                    : throw new FormatException($"InstallCode is {code.Length} bytes, not 6 to 16");
            case "Remove":
                return new DeviceOperation.RemoveFromDeviceLog(device);
            case var other:
                throw new FormatException($"RequestType '{Excerpt.Of(other)}' is neither Add nor Remove");
        }
    }

    private static Duration Seconds(XElement parent, string name, int min, int max) =>
        int.TryParse(Required(parent, name), NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) && seconds >= min && seconds <= max
            ? Duration.FromSeconds(seconds)
            : throw new FormatException($"{name} '{Required(parent, name)}' is not a whole number of seconds from {min} to {max}");

    /// <summary>11.1's FirmwareVersion: 1 to 8 characters (DUIS XSD).</summary>
    private static string FirmwareVersion(XElement body) =>
        Constrained(body, "FirmwareVersion", text => text.Length <= 8, "is longer than 8 characters");

    /// <summary>2.2's UTRN: 20 digits (DUIS XSD). Whether they make a valid UTRN for the meter is the meter's to say.</summary>
    private static string Utrn(XElement body) =>
        Constrained(body, "UTRN", text => text.Length == 20 && text.All(char.IsAsciiDigit), "is not 20 digits");

    /// <summary>11.3's FirmwareHash: 32 bytes of hexBinary (DUIS XSD), 64 hex digits.</summary>
    private static string FirmwareHash(XElement body) =>
        Constrained(body, "FirmwareHash", text => text.Length == 64 && text.All(char.IsAsciiHexDigit), "is not 32 bytes of hex (64 hex digits)");

    /// <summary>A required field whose text the DUIS XSD restricts; otherwise a <see cref="FormatException"/> quoting it and saying <paramref name="fault"/>.</summary>
    private static string Constrained(XElement parent, string name, Func<string, bool> allowed, string fault) =>
        Required(parent, name) is var text && allowed(text) ? text : throw new FormatException($"{name} '{Excerpt.Of(text)}' {fault}");

    private static Identifiers.Eui64 Device(XElement parent, string name) =>
        Identifiers.Eui64.TryParse(Required(parent, name), out var id, out var error) ? id : throw new FormatException($"{name}: {error}");

    private static string Required(XElement parent, string name) =>
        parent.Element(DuisNamespaces.Sr + name)?.Value.Trim() is { Length: > 0 } value ? value : throw new FormatException($"no {name}");

    private static Instant RequiredInstant(XElement parent, string name)
    {
        var text = Required(parent, name);
        try
        {
            return Instant(text);
        }
        catch (FormatException e)
        {
            throw new FormatException($"{name}: {e.Message}", e);
        }
    }

    /// <summary>A DUIS date-time (<see cref="DuisDateTime"/>): in UTC or with an offset.</summary>
    private static Instant Instant(string text) =>
        DuisDateTime.TryParse(text, out var instant)
            ? instant
            : throw new FormatException($"'{Excerpt.Of(text)}' is not a date-time in UTC (2026-11-01T00:00:00Z) or with an offset (2026-11-01T00:00:00+01:00)");
}
