using System.Text;
using System.Xml;
using System.Xml.Linq;
using OpenDcc.Core.Catalogue;
using OpenDcc.Core.Identifiers;

namespace OpenDcc.Core.Duis;

/// <summary>Writes unsigned DUIS service requests, as a DCC user's system does before signing them.</summary>
public static class DuisRequestWriter
{
    /// <summary>A Signed Pre-Command (CV 5 by default): the user's signed GBCS command for a critical SRV.</summary>
    public static byte[] WriteSignedPreCommand(RequestId requestId, ServiceReferenceVariant variant, ReadOnlySpan<byte> signedPreCommand, int commandVariant = 5) =>
        Write(requestId, commandVariant, variant, new XElement(DuisNamespaces.Sr + "GBCSPayload", Convert.ToBase64String(signedPreCommand)));

    /// <param name="bodyContent">The children of the SRV's body element (e.g. <c>sr:DeviceID</c> for 8.2), or of <c>sr:SignedPreCommand</c> for command variants 5–7.</param>
    public static byte[] Write(RequestId requestId, int commandVariant, ServiceReferenceVariant variant, params XElement[] bodyContent)
    {
        ArgumentNullException.ThrowIfNull(variant);
        var sr = DuisNamespaces.Sr;
        var bodyElement = CommandVariant.TryGet(commandVariant, out var cv) && cv.TakesSignedPreCommand ? DuisRequestReader.SignedPreCommandElement : variant.BodyElement;
        var document = new XDocument(
            new XDeclaration("1.0", "UTF-8", null),
            new XElement(sr + "Request",
                new XAttribute(XNamespace.Xmlns + "sr", DuisNamespaces.ServiceUserGateway),
                new XAttribute("schemaVersion", "5.1"),
                new XElement(sr + "Header",
                    new XElement(sr + "RequestID", requestId.ToString()),
                    new XElement(sr + "CommandVariant", commandVariant),
                    new XElement(sr + "ServiceReference", variant.ServiceReference),
                    new XElement(sr + "ServiceReferenceVariant", variant.Id)),
                new XElement(sr + "Body", new XElement(sr + bodyElement, bodyContent))));
        using var stream = new MemoryStream();
        using (var writer = XmlWriter.Create(stream, new XmlWriterSettings { Encoding = new UTF8Encoding(false) }))
        {
            document.Save(writer);
        }
        return stream.ToArray();
    }
}
