using System.Text;
using System.Xml;
using NodaTime;
using NodaTime.Text;
using OpenDcc.Core.Catalogue;
using OpenDcc.Core.Identifiers;

namespace OpenDcc.Core.Duis;

/// <summary>What a <c>sr:ResponseMessage</c> carries after its ServiceReference and ServiceReferenceVariant.</summary>
public abstract record ResponsePayload
{
    /// <summary>Nothing more: an acknowledgement (I99), an error, or a success with no data.</summary>
    public sealed record None : ResponsePayload;

    /// <summary>A GBCS message from or for a device, base64 on the wire.</summary>
    public sealed record GbcsPayload(ReadOnlyMemory<byte> Bytes) : ResponsePayload;

    /// <summary>The result of Transform (CV 4): a command for the user to sign.</summary>
    public sealed record PreCommand(string GbcsVersion, ReadOnlyMemory<byte> Bytes) : ResponsePayload;

    /// <summary>The answer to 8.2 Read Inventory.</summary>
    public sealed record Inventory(IReadOnlyList<InventoryDevice> Devices) : ResponsePayload;
}

/// <summary>One <c>sr:Device</c> of a <c>sr:DSPInventory</c>.</summary>
public sealed record InventoryDevice(Eui64 DeviceId, string DeviceType, string DeviceStatus, string Manufacturer, string Model);

/// <summary>
/// A DUIS response (unsigned). <see cref="ResponseId"/> is the RequestID with originator and target swapped, as
/// DCC Boxed writes it. A response to a request that could not be read carries neither ID.
/// </summary>
public sealed record DuisResponse(
    RequestId? RequestId,
    string ResponseCode,
    Instant ResponseDateTime,
    string ServiceReference,
    string ServiceReferenceVariant,
    ResponsePayload Payload,
    string SchemaVersion = DuisResponse.DefaultSchemaVersion)
{
    public const string DefaultSchemaVersion = "5.1";

    private static readonly InstantPattern DateTimePattern = InstantPattern.CreateWithInvariantCulture("uuuu'-'MM'-'dd'T'HH':'mm':'ss.fff'Z'");

    public RequestId? ResponseId => RequestId?.ToResponseId();

    /// <summary>A response for a request, echoing its SRV and schema version.</summary>
    public static DuisResponse For(DuisRequest request, string code, Instant at, ResponsePayload? payload = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        return new DuisResponse(request.RequestId, code, at, request.Variant.ServiceReference, request.Variant.Id, payload ?? new ResponsePayload.None(), request.SchemaVersion);
    }

    /// <summary>Writes the <c>sr:Response</c> document, UTF-8, ready to be signed.</summary>
    public byte[] ToXml()
    {
        var settings = new XmlWriterSettings { Encoding = new UTF8Encoding(false), Indent = false, OmitXmlDeclaration = false };
        using var stream = new MemoryStream();
        using (var w = XmlWriter.Create(stream, settings))
        {
            const string sr = DuisNamespaces.ServiceUserGateway;
            w.WriteStartDocument();
            w.WriteStartElement("sr", "Response", sr);
            w.WriteAttributeString("schemaVersion", SchemaVersion);
            w.WriteStartElement("sr", "Header", sr);
            if (RequestId is { } requestId)
            {
                w.WriteElementString("sr", "RequestID", sr, requestId.ToString());
                w.WriteElementString("sr", "ResponseID", sr, requestId.ToResponseId().ToString());
            }
            w.WriteElementString("sr", "ResponseCode", sr, ResponseCode);
            w.WriteElementString("sr", "ResponseDateTime", sr, DateTimePattern.Format(ResponseDateTime));
            w.WriteEndElement();
            w.WriteStartElement("sr", "Body", sr);
            w.WriteStartElement("sr", "ResponseMessage", sr);
            w.WriteElementString("sr", "ServiceReference", sr, ServiceReference);
            w.WriteElementString("sr", "ServiceReferenceVariant", sr, ServiceReferenceVariant);
            switch (Payload)
            {
                case ResponsePayload.GbcsPayload gbcs:
                    w.WriteElementString("sr", "GBCSPayload", sr, Convert.ToBase64String(gbcs.Bytes.Span));
                    break;
                case ResponsePayload.PreCommand pre:
                    w.WriteStartElement("sr", "PreCommand", sr);
                    w.WriteElementString("sr", "GBCSVersion", sr, pre.GbcsVersion);
                    w.WriteElementString("sr", "GBCSPayload", sr, Convert.ToBase64String(pre.Bytes.Span));
                    w.WriteEndElement();
                    break;
                case ResponsePayload.Inventory inventory:
                    w.WriteStartElement("sr", "DSPInventory", sr);
                    foreach (var d in inventory.Devices)
                    {
                        w.WriteStartElement("sr", "Device", sr);
                        w.WriteElementString("sr", "DeviceID", sr, d.DeviceId.ToString());
                        w.WriteElementString("sr", "DeviceType", sr, d.DeviceType);
                        w.WriteElementString("sr", "DeviceStatus", sr, d.DeviceStatus);
                        w.WriteElementString("sr", "DeviceManufacturer", sr, d.Manufacturer);
                        w.WriteElementString("sr", "DeviceModel", sr, d.Model);
                        w.WriteEndElement();
                    }
                    w.WriteEndElement();
                    break;
            }
            w.WriteEndElement();
            w.WriteEndElement();
            w.WriteEndElement();
            w.WriteEndDocument();
        }
        return stream.ToArray();
    }

    /// <summary>For a request whose SRV is known but which is otherwise unreadable (bad header field, wrong body).</summary>
    public static DuisResponse Unreadable(DuisReadFailure failure, string code, Instant at)
    {
        ArgumentNullException.ThrowIfNull(failure);
        var variant = failure.Variant ?? throw new ArgumentException("a DUIS response needs the request's service reference variant", nameof(failure));
        return new DuisResponse(failure.RequestId, code, at, variant.ServiceReference, variant.Id, new ResponsePayload.None(), failure.SchemaVersion ?? DefaultSchemaVersion);
    }
}
