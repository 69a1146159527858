using NodaTime;
using NodaTime.Text;
using OpenDcc.Core.Catalogue;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Security;

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

    /// <summary>A command for local delivery (CV 2, 6), protected as the device expects, for the user to take to it over its HAN.</summary>
    public sealed record LocalCommand(ReadOnlyMemory<byte> Bytes) : ResponsePayload;

    /// <summary>The answer to 8.2 Read Inventory.</summary>
    public sealed record Inventory(IReadOnlyList<InventoryDevice> Devices) : ResponsePayload;

    /// <summary>The answer to 12.1 Request WAN Matrix: the address asked about, as <c>sr:Request</c> echoes it, and the coverage there.</summary>
    /// <param name="Uprn">The UPRN asked about; or, with it null, <paramref name="PartialAddress"/>.</param>
    public sealed record WanMatrix(Uprn? Uprn, (string PostCode, string AddressIdentifier)? PartialAddress, Wan.WanCoverage Coverage) : ResponsePayload;
}

/// <summary>One <c>sr:Device</c> of a <c>sr:DSPInventory</c>; the optional elements are written only when known.</summary>
public sealed record InventoryDevice(Eui64 DeviceId, string DeviceType, string DeviceStatus, string Manufacturer, string Model)
{
    public string? SmetsChtsVersion { get; init; }

    public string? FirmwareVersion { get; init; }

    /// <summary>The day the device was first commissioned (Europe/London), <c>yyyy-MM-dd</c>.</summary>
    public string? DateCommissioned { get; init; }

    /// <summary>The MPAN or MPRN the meter serves.</summary>
    public string? ImportMpxn { get; init; }

    /// <summary>An ESME's secondary import MPAN.</summary>
    public string? SecondaryImportMpan { get; init; }

    /// <summary>An ESME's export MPAN.</summary>
    public string? ExportMpan { get; init; }

    public string? Uprn { get; init; }

    /// <summary>The premises' post code and address identifier (<c>PropertyFilter</c>), both or neither.</summary>
    public (string PostCode, string AddressIdentifier)? PropertyFilter { get; init; }

    /// <summary>The SM WAN region of the device's comms hub: North, Central or South.</summary>
    public string? CspRegion { get; init; }
}

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

    internal static readonly InstantPattern DateTimePattern = InstantPattern.CreateWithInvariantCulture("uuuu'-'MM'-'dd'T'HH':'mm':'ss.fff'Z'");

    public RequestId? ResponseId => RequestId?.ToResponseId();

    /// <summary>A response for a request, echoing its SRV and schema version.</summary>
    public static DuisResponse For(DuisRequest request, string code, Instant at, ResponsePayload? payload = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        return new DuisResponse(request.RequestId, code, at, request.Variant.ServiceReference, request.Variant.Id, payload ?? new ResponsePayload.None(), request.SchemaVersion);
    }

    /// <summary>
    /// Writes the <c>sr:Response</c> document, UTF-8, in its canonical form (no XML declaration), ready for
    /// <see cref="DuisSignature.SignCanonical"/> or any other signer.
    /// </summary>
    public byte[] ToCanonicalXml()
    {
        const string sr = "sr";
        var w = new CanonicalXmlBuilder()
            .Start("sr:Response", (sr, DuisNamespaces.ServiceUserGateway), ("schemaVersion", SchemaVersion))
            .Start("sr:Header");
        if (RequestId is { } requestId)
        {
            w.Leaf("sr:RequestID", requestId.ToString()).Leaf("sr:ResponseID", requestId.ToResponseId().ToString());
        }
        w.Leaf("sr:ResponseCode", ResponseCode)
            .Leaf("sr:ResponseDateTime", DateTimePattern.Format(ResponseDateTime))
            .End()
            .Start("sr:Body").Start("sr:ResponseMessage")
            .Leaf("sr:ServiceReference", ServiceReference)
            .Leaf("sr:ServiceReferenceVariant", ServiceReferenceVariant);
        switch (Payload)
        {
            case ResponsePayload.GbcsPayload gbcs:
                w.Leaf("sr:GBCSPayload", Convert.ToBase64String(gbcs.Bytes.Span));
                break;
            case ResponsePayload.PreCommand pre:
                w.Start("sr:PreCommand").Leaf("sr:GBCSVersion", pre.GbcsVersion).Leaf("sr:GBCSPayload", Convert.ToBase64String(pre.Bytes.Span)).End();
                break;
            case ResponsePayload.LocalCommand local:
                w.Start("sr:LocalCommand").Leaf("sr:GBCSPayload", Convert.ToBase64String(local.Bytes.Span)).End();
                break;
            case ResponsePayload.Inventory inventory:
                w.Start("sr:DSPInventory");
                foreach (var d in inventory.Devices)
                {
                    w.Start("sr:Device")
                        .Leaf("sr:DeviceID", d.DeviceId.ToString())
                        .Leaf("sr:DeviceType", d.DeviceType)
                        .Leaf("sr:DeviceStatus", d.DeviceStatus)
                        .Leaf("sr:DeviceManufacturer", d.Manufacturer)
                        .Leaf("sr:DeviceModel", d.Model);
                    // The XSD's sequence order: SMETSCHTSVersion, DeviceFirmwareVersion, …, DateCommissioned, ImportMPxN, SecondaryImportMPAN, ExportMPAN, …, UPRN, PropertyFilter, CSPRegion.
                    Optional(w, "sr:SMETSCHTSVersion", d.SmetsChtsVersion);
                    Optional(w, "sr:DeviceFirmwareVersion", d.FirmwareVersion);
                    Optional(w, "sr:DateCommissioned", d.DateCommissioned);
                    Optional(w, "sr:ImportMPxN", d.ImportMpxn);
                    Optional(w, "sr:SecondaryImportMPAN", d.SecondaryImportMpan);
                    Optional(w, "sr:ExportMPAN", d.ExportMpan);
                    Optional(w, "sr:UPRN", d.Uprn);
                    if (d.PropertyFilter is { } filter)
                    {
                        w.Start("sr:PropertyFilter").Leaf("sr:PostCode", filter.PostCode).Leaf("sr:AddressIdentifier", filter.AddressIdentifier).End();
                    }
                    Optional(w, "sr:CSPRegion", d.CspRegion);
                    w.End();
                }
                w.End();
                break;
            case ResponsePayload.WanMatrix matrix:
                w.Start("sr:DSPWANMatrix").Start("sr:Request");
                if (matrix.Uprn is { } uprn)
                {
                    w.Leaf("sr:UPRN", uprn.ToString());
                }
                else if (matrix.PartialAddress is var (postCode, addressIdentifier))
                {
                    w.Start("sr:PartialAddress").Leaf("sr:PostCode", postCode).Leaf("sr:AddressIdentifier", addressIdentifier).End();
                }
                var coverage = matrix.Coverage;
                w.End()
                    .Leaf("sr:CSPRegion", coverage.Region.ToString())
                    .Leaf("sr:CoverageAvailability", coverage.CoverageAvailable ? "true" : "false");
                Optional(w, "sr:AnticipatedCoverageDate", Wan.WanCoverage.FormatDate(coverage.AnticipatedCoverageDate));
                w.Leaf("sr:WANTechnology", coverage.WanTechnology)
                    .Leaf("sr:ConnectivityLikelihood", coverage.ConnectivityLikelihood.ToString());
                Optional(w, "sr:AuxiliaryEquipmentRequired", coverage.AuxiliaryEquipmentRequired);
                Optional(w, "sr:AdditionalInformation", coverage.AdditionalInformation);
                w.End();
                break;
        }
        return w.End().End().End().ToBytes();
    }

    private static void Optional(CanonicalXmlBuilder w, string name, string? value)
    {
        if (value is not null)
        {
            w.Leaf(name, value);
        }
    }

    /// <summary>For a request whose SRV is known but which is otherwise unreadable (bad header field, wrong body).</summary>
    public static DuisResponse Unreadable(DuisReadFailure failure, string code, Instant at)
    {
        ArgumentNullException.ThrowIfNull(failure);
        var variant = failure.Variant ?? throw new ArgumentException("a DUIS response needs the request's service reference variant", nameof(failure));
        return new DuisResponse(failure.RequestId, code, at, variant.ServiceReference, variant.Id, new ResponsePayload.None(), failure.SchemaVersion ?? DefaultSchemaVersion);
    }
}
