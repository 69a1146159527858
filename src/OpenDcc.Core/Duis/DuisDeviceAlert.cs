using System.Globalization;
using NodaTime;
using OpenDcc.Core.Alerts;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Security;

namespace OpenDcc.Core.Duis;

/// <summary>
/// A DUIS device alert for one user (unsigned): a <c>sr:Response</c> whose body is a <c>sr:DeviceAlertMessage</c>
/// with the 2-byte GBCS alert code in hex and the device's alert frame as <c>GBCSPayload</c>. Its ResponseID names
/// the device as originator and the user as target, with a counter that rises per alert.
/// </summary>
public sealed record DuisDeviceAlert(Eui64 Device, Eui64 User, ulong Counter, ushort AlertCode, ReadOnlyMemory<byte> Gbcs, Instant At, string SchemaVersion = DuisResponse.DefaultSchemaVersion)
{
    public RequestId ResponseId => new(Device, User, Counter);

    /// <summary>The alerts of this code from this device the DCC throttled since the last one delivered, which this one reports; null: none.</summary>
    public ThrottledAlerts? Throttled { get; init; }

    /// <summary>The alert document in canonical form, ready for <see cref="DuisSignature.SignCanonical"/>.</summary>
    public byte[] ToCanonicalXml() =>
        WriteThrottled(
            StartAlert(ResponseId, At, SchemaVersion)
                .Start("sr:DeviceAlertMessage")
                .Leaf("sr:AlertCode", AlertCode.ToString("X4", CultureInfo.InvariantCulture)),
            Throttled)
            .Leaf("sr:GBCSPayload", Convert.ToBase64String(Gbcs.Span))
            .End().End()
            .End()
            .ToBytes();

    /// <summary>
    /// <c>ThrottledAlertSequenceId</c> and <c>ThrottledAlertCount</c>, which device and DCC alert messages alike carry
    /// right after their code, when alerts were throttled.
    /// </summary>
    internal static CanonicalXmlBuilder WriteThrottled(CanonicalXmlBuilder xml, ThrottledAlerts? throttled) =>
        throttled is { } run
            ? xml.Leaf("sr:ThrottledAlertSequenceId", run.SequenceId.ToString(CultureInfo.InvariantCulture))
                .Leaf("sr:ThrottledAlertCount", run.Count.ToString(CultureInfo.InvariantCulture))
            : xml;

    /// <summary>
    /// An alert's envelope, device or DCC alert alike: <c>sr:Response</c> with a header of its ResponseID (no RequestID:
    /// nobody asked), <c>I0</c> and the time, left open inside <c>sr:Body</c> for the alert message.
    /// </summary>
    internal static CanonicalXmlBuilder StartAlert(RequestId responseId, Instant at, string schemaVersion) =>
        new CanonicalXmlBuilder()
            .Start("sr:Response", ("sr", DuisNamespaces.ServiceUserGateway), ("schemaVersion", schemaVersion))
            .Start("sr:Header")
            .Leaf("sr:ResponseID", responseId.ToString())
            .Leaf("sr:ResponseCode", "I0")
            .Leaf("sr:ResponseDateTime", DuisResponse.DateTimePattern.Format(at))
            .End()
            .Start("sr:Body");
}
