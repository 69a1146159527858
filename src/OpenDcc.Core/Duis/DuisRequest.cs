using System.Xml.Linq;
using OpenDcc.Core.Catalogue;
using OpenDcc.Core.Identifiers;

namespace OpenDcc.Core.Duis;

/// <summary>The XML namespaces of DUIS messages.</summary>
public static class DuisNamespaces
{
    public const string ServiceUserGateway = "http://www.dccinterface.co.uk/ServiceUserGateway";
    public const string XmlDsig = "http://www.w3.org/2000/09/xmldsig#";

    public static readonly XNamespace Sr = ServiceUserGateway;
}

/// <summary>
/// A DUIS service request as read from the wire (its signature is checked separately, on the raw bytes).
/// </summary>
/// <param name="SchemaVersion">The <c>schemaVersion</c> attribute, echoed in responses.</param>
/// <param name="Body">The SRV's body element, or for command variants 5–7 the <c>sr:SignedPreCommand</c> (the single child of <c>sr:Body</c>), detached from the document.</param>
public sealed record DuisRequest(
    RequestId RequestId,
    int CommandVariant,
    ServiceReferenceVariant Variant,
    string SchemaVersion,
    bool? FirstInSequence,
    RequestId? PrecedingServiceRequestId,
    XElement Body)
{
    public bool IsNonDevice => Variant.IsNonDevice;
}
