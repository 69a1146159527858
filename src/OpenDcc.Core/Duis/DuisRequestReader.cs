using System.Globalization;
using System.Xml;
using System.Xml.Linq;
using OpenDcc.Core.Catalogue;
using OpenDcc.Core.Identifiers;

namespace OpenDcc.Core.Duis;

/// <summary>Why a request could not be read; enough for the user to mend it.</summary>
/// <param name="RequestId">The RequestID when it could be read, so the response can still name it.</param>
public sealed record DuisReadFailure(string Reason, RequestId? RequestId, string? SchemaVersion, ServiceReferenceVariant? Variant);

/// <summary>
/// Reads the header and body of a DUIS <c>sr:Request</c>: RequestID, CommandVariant, ServiceReference,
/// ServiceReferenceVariant (known to the catalogue, consistent with the ServiceReference), and a body whose single
/// element is the one the SRV defines (or, for command variants 5–7, <c>sr:SignedPreCommand</c>).
/// </summary>
public static class DuisRequestReader
{
    /// <summary>The body element of a Signed Pre-Command (CV 5, 6, 7): the user's signed GBCS command in an <c>sr:GBCSPayload</c>.</summary>
    public const string SignedPreCommandElement = "SignedPreCommand";

    public static bool TryRead(XmlDocument document, ServiceCatalogue catalogue, out DuisRequest request, out DuisReadFailure failure)
    {
        ArgumentNullException.ThrowIfNull(document);
        ArgumentNullException.ThrowIfNull(catalogue);
        request = null!;
        failure = null!;
        var root = document.DocumentElement;
        if (root is null || root.LocalName != "Request" || root.NamespaceURI != DuisNamespaces.ServiceUserGateway)
        {
            failure = new DuisReadFailure($"the document element must be sr:Request in {DuisNamespaces.ServiceUserGateway}", null, null, null);
            return false;
        }
        var schemaVersion = root.GetAttribute("schemaVersion");
        var version = string.IsNullOrEmpty(schemaVersion) ? null : schemaVersion;
        var header = Child(root, "Header");
        if (header is null)
        {
            failure = new DuisReadFailure("sr:Header is missing", null, version, null);
            return false;
        }
        var requestIdText = Child(header, "RequestID")?.InnerText;
        if (requestIdText is null)
        {
            failure = new DuisReadFailure("sr:Header has no sr:RequestID", null, version, null);
            return false;
        }
        if (!RequestId.TryParse(requestIdText, out var requestId, out var idError))
        {
            failure = new DuisReadFailure($"sr:RequestID: {idError}", null, version, null);
            return false;
        }
        var srvText = Child(header, "ServiceReferenceVariant")?.InnerText.Trim();
        if (srvText is null || !catalogue.TryGet(srvText, out var found))
        {
            failure = new DuisReadFailure(srvText is null ? "sr:Header has no sr:ServiceReferenceVariant" : $"sr:ServiceReferenceVariant '{srvText}' is not a DUIS service reference variant", requestId, version, null);
            return false;
        }
        var variant = found;
        var serviceReference = Child(header, "ServiceReference")?.InnerText.Trim();
        if (serviceReference != variant.ServiceReference)
        {
            failure = new DuisReadFailure($"sr:ServiceReference '{serviceReference}' does not match variant {variant.Id} (expected {variant.ServiceReference})", requestId, version, variant);
            return false;
        }
        var cvText = Child(header, "CommandVariant")?.InnerText.Trim();
        if (!int.TryParse(cvText, NumberStyles.None, CultureInfo.InvariantCulture, out var commandVariant) || commandVariant is < 1 or > 8)
        {
            failure = new DuisReadFailure($"sr:CommandVariant '{cvText}' must be a number from 1 to 8", requestId, version, variant);
            return false;
        }
        bool? firstInSequence = null;
        if (Child(header, "FirstInSequence") is { } first)
        {
            if (!bool.TryParse(first.InnerText.Trim(), out var value))
            {
                failure = new DuisReadFailure($"sr:FirstInSequence '{first.InnerText}' must be true or false", requestId, version, variant);
                return false;
            }
            firstInSequence = value;
        }
        RequestId? preceding = null;
        if (Child(header, "PrecedingServiceRequestID") is { } precedingElement)
        {
            if (!RequestId.TryParse(precedingElement.InnerText, out var p, out var pError))
            {
                failure = new DuisReadFailure($"sr:PrecedingServiceRequestID: {pError}", requestId, version, variant);
                return false;
            }
            preceding = p;
        }
        var body = Child(root, "Body");
        var elements = body?.ChildNodes.OfType<XmlElement>().ToList() ?? [];
        // CV 5–7 carry the user's signed GBCS command instead of the SRV's own body (DUIS XSD: sr:SignedPreCommand).
        var expected = CommandVariant.TryGet(commandVariant, out var cv) && cv.TakesSignedPreCommand ? SignedPreCommandElement : variant.BodyElement;
        if (elements.Count != 1)
        {
            failure = new DuisReadFailure($"sr:Body must hold exactly one element, sr:{expected} for SRV {variant.Id} with command variant {commandVariant}", requestId, version, variant);
            return false;
        }
        var bodyElement = elements[0];
        // A command variant that does not fit the SRV is refused with E12 once the request is read (access control):
        // either body reads then, so that the user hears what is wrong, not that the body should be the other one.
        var either = !AccessControl.AccessControlPolicy.CommandVariantFits(variant, commandVariant)
            && (bodyElement.LocalName == SignedPreCommandElement || bodyElement.LocalName == variant.BodyElement);
        if (!either && (bodyElement.LocalName != expected || bodyElement.NamespaceURI != DuisNamespaces.ServiceUserGateway))
        {
            failure = new DuisReadFailure($"sr:Body holds {bodyElement.LocalName}, but SRV {variant.Id} ({variant.Name}) with command variant {commandVariant} takes sr:{expected}", requestId, version, variant);
            return false;
        }
        using var nodeReader = new XmlNodeReader(bodyElement);
        request = new DuisRequest(requestId, commandVariant, variant, version ?? "5.1", firstInSequence, preceding, XElement.Load(nodeReader));
        return true;
    }

    private static XmlElement? Child(XmlElement parent, string localName)
    {
        foreach (var node in parent.ChildNodes)
        {
            if (node is XmlElement e && e.LocalName == localName && e.NamespaceURI == DuisNamespaces.ServiceUserGateway)
            {
                return e;
            }
        }
        return null;
    }
}
