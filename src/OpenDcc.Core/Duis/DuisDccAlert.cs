using NodaTime;
using OpenDcc.Core.Alerts;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Security;

namespace OpenDcc.Core.Duis;

/// <summary>
/// A DUIS DCC Alert for one user (unsigned): a <c>sr:Response</c> whose body is a <c>sr:DCCAlertMessage</c> with its
/// <c>DCCAlertCode</c> and a <c>DCCAlert</c> carrying one event. Its ResponseID names the DSP as originator and the user
/// as target, with a counter that rises per alert.
/// </summary>
public sealed record DuisDccAlert
{
    public DuisDccAlert(Eui64 dsp, Eui64 user, ulong counter, string alertCode, DccAlertEvent alertEvent, Instant at, string schemaVersion = DuisResponse.DefaultSchemaVersion)
    {
        ArgumentNullException.ThrowIfNull(alertEvent);
        if (!DccAlertCodes.IsDefined(alertCode))
        {
            throw new ArgumentOutOfRangeException(nameof(alertCode), alertCode, "not a DCCAlertCode (AD1, N1–N65 but N32, N999)");
        }
        (Dsp, User, Counter, AlertCode, Event, At, SchemaVersion) = (dsp, user, counter, alertCode, alertEvent, at, schemaVersion);
    }

    public Eui64 Dsp { get; }

    public Eui64 User { get; }

    public ulong Counter { get; }

    public string AlertCode { get; }

    public DccAlertEvent Event { get; }

    public Instant At { get; }

    public string SchemaVersion { get; }

    public RequestId ResponseId => new(Dsp, User, Counter);

    /// <summary>The alerts of this code for this device the DCC throttled since the last one delivered, which this one reports; null: none.</summary>
    public ThrottledAlerts? Throttled { get; init; }

    /// <summary>The alert document in canonical form, ready for <see cref="DuisSignature.SignCanonical"/>.</summary>
    public byte[] ToCanonicalXml()
    {
        var xml = DuisDeviceAlert.WriteThrottled(
                DuisDeviceAlert.StartAlert(ResponseId, At, SchemaVersion)
                    .Start("sr:DCCAlertMessage")
                    .Leaf("sr:DCCAlertCode", AlertCode),
                Throttled)
            .Start("sr:DCCAlert");
        Event.WriteTo(xml);
        return xml.End().End().End().End().ToBytes();
    }
}

/// <summary>The event a DCC Alert reports: one choice of the XSD's <c>DCCAlert</c>.</summary>
public abstract record DccAlertEvent
{
    private protected DccAlertEvent()
    {
    }

    internal abstract void WriteTo(CanonicalXmlBuilder xml);

    /// <summary>
    /// <c>DeviceStatusChangeEvent</c> with the <c>MeterIdentity</c> choice: a meter's SMI status changed and this is the
    /// meter point it serves (<c>MeterMPxNs/ImportMPxN</c>, 1–13 characters).
    /// </summary>
    public sealed record MeterStatusChange : DccAlertEvent
    {
        public MeterStatusChange(Eui64 device, string importMpxn)
        {
            ArgumentException.ThrowIfNullOrEmpty(importMpxn);
            if (importMpxn.Length > 13)
            {
                throw new ArgumentOutOfRangeException(nameof(importMpxn), importMpxn, "an ImportMPxN has at most 13 characters");
            }
            (Device, ImportMpxn) = (device, importMpxn);
        }

        public Eui64 Device { get; }

        public string ImportMpxn { get; }

        internal override void WriteTo(CanonicalXmlBuilder xml) =>
            xml.Start("sr:DeviceStatusChangeEvent")
                .Leaf("sr:DeviceID", Device.ToString())
                .Start("sr:DeviceStatusChange").Start("sr:MeterIdentity").Start("sr:MeterMPxNs")
                .Leaf("sr:ImportMPxN", ImportMpxn)
                .End().End().End()
                .End();
    }

    /// <summary>
    /// <c>PowerOutageEvent</c>: the comms hub lost mains power at <see cref="Start"/> (its power-loss report to the WAN
    /// provider), at the premises of the electricity meter point <see cref="Mpan"/>. The schema's event has a start and
    /// no end: the restoration is the electricity meter's own device alert.
    /// </summary>
    public sealed record PowerOutage(Eui64 CommsHub, Instant Start, Mpan Mpan) : DccAlertEvent
    {
        internal override void WriteTo(CanonicalXmlBuilder xml) =>
            xml.Start("sr:PowerOutageEvent")
                .Leaf("sr:CommsHubDeviceID", CommsHub.ToString())
                .Leaf("sr:StartDateTime", DuisResponse.DateTimePattern.Format(Start))
                .Leaf("sr:MPxN", Mpan.ToString())
                .End();
    }

    /// <summary>
    /// <c>FirmwareDistributionFailure</c>: the firmware image of the 11.1 request <see cref="UpdateFirmwareRequest"/>
    /// could not be delivered to <see cref="Meters"/> (<c>MeterIDs</c>, a comma-separated <c>DeviceIDList</c>).
    /// </summary>
    public sealed record FirmwareDistributionFailure : DccAlertEvent
    {
        /// <exception cref="ArgumentException">no meter.</exception>
        public FirmwareDistributionFailure(RequestId updateFirmwareRequest, IReadOnlyList<Eui64> meters)
        {
            ArgumentNullException.ThrowIfNull(meters);
            if (meters.Count == 0)
            {
                throw new ArgumentException("a firmware distribution failure names at least one meter", nameof(meters));
            }
            (UpdateFirmwareRequest, Meters) = (updateFirmwareRequest, meters);
        }

        public RequestId UpdateFirmwareRequest { get; }

        public IReadOnlyList<Eui64> Meters { get; }

        internal override void WriteTo(CanonicalXmlBuilder xml) =>
            xml.Start("sr:FirmwareDistributionFailure")
                .Leaf("sr:UpdateFirmwareRequestID", UpdateFirmwareRequest.ToString())
                .Leaf("sr:MeterIDs", string.Join(',', Meters))
                .End();
    }
}

/// <summary>DUIS <c>DCCAlertCode</c> values (XSD <c>DCCAlertMessage</c>: AD1, N1–N65 without N32, N999).</summary>
public static class DccAlertCodes
{
    /// <summary>
    /// The code OpenDcc sends when a meter is commissioned (8.1.1 confirmed: InstalledNotCommissioned → Commissioned).
    /// OpenDcc's choice: the schema lists the codes but not which event each one reports, so this mapping is
    /// UNCONFIRMED (duis-and-dcc.md §1.6).
    /// </summary>
    public const string MeterCommissioned = "N12";

    /// <summary>
    /// The code of a comms hub's power outage (<see cref="DccAlertEvent.PowerOutage"/>). OpenDcc's choice, UNCONFIRMED
    /// like every code here: AD1 is the schema's one code outside the N series, as the power outage event is the one
    /// DCC Alert raised from the CSP's report of a device rather than from DCC processing, and "AD1" is remembered as
    /// the DCC's power outage alert; no source at hand (duis-and-dcc.md §1.6) ties the code to the event.
    /// </summary>
    public const string PowerOutage = "AD1";

    /// <summary>
    /// The code of an 11.1 firmware image not delivered to a meter (<see cref="DccAlertEvent.FirmwareDistributionFailure"/>).
    /// OpenDcc's choice, UNCONFIRMED: FirmwareDistributionFailure is the fifth event the schema's <c>DCCAlert</c> lists,
    /// and with no source for the mapping the code follows that position (N12, chosen before, keeps its number).
    /// </summary>
    public const string FirmwareDistributionFailure = "N5";

    public static bool IsDefined(string? code) =>
        code switch
        {
            "AD1" or "N999" => true,
            ['N', .. var digits] when digits.Length is 1 or 2 && digits[0] != '0' && int.TryParse(digits, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) => n is >= 1 and <= 65 and not 32,
            _ => false,
        };
}
