using System.Text;
using System.Xml;
using System.Xml.Linq;
using OpenDcc.Core.Catalogue;
using OpenDcc.Core.Identifiers;

namespace OpenDcc.Core.Duis;

/// <summary>Writes unsigned DUIS service requests, as a DCC user's system does before signing them.</summary>
public static class DuisRequestWriter
{
    /// <param name="bodyContent">The children of the SRV's body element (e.g. <c>sr:DeviceID</c> for 8.2).</param>
    public static byte[] Write(RequestId requestId, int commandVariant, ServiceReferenceVariant variant, params XElement[] bodyContent)
    {
        ArgumentNullException.ThrowIfNull(variant);
        var sr = DuisNamespaces.Sr;
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
                new XElement(sr + "Body", new XElement(sr + variant.BodyElement, bodyContent))));
        using var stream = new MemoryStream();
        using (var writer = XmlWriter.Create(stream, new XmlWriterSettings { Encoding = new UTF8Encoding(false) }))
        {
            document.Save(writer);
        }
        return stream.ToArray();
    }
}
