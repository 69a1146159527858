using System.Text;
using System.Xml;
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

    /// <summary>The body element as XML text (no declaration, no formatting), for a grain call that carries it.</summary>
    public string BodyText() => BodyWriter.Write(Body);

    /// <summary>
    /// Writes elements as text through one writer per thread: a fresh <see cref="XmlWriter"/> per element (as
    /// <see cref="XElement.ToString()"/> makes) allocates buffers many times the size of a DUIS body.
    /// </summary>
    private static class BodyWriter
    {
        [ThreadStatic]
        private static (XmlWriter Writer, StringBuilder Text)? current;

        public static string Write(XElement element)
        {
            var (writer, text) = current ?? Create();
            current = null;
            element.WriteTo(writer);
            writer.Flush();
            var result = text.ToString();
            // Only a writer that finished its element is kept; one an exception left half-way is dropped.
            current = (writer, text.Clear());
            return result;
        }

        private static (XmlWriter, StringBuilder) Create()
        {
            var text = new StringBuilder(512);
            return (XmlWriter.Create(new StringWriter(text, System.Globalization.CultureInfo.InvariantCulture), new XmlWriterSettings { OmitXmlDeclaration = true, ConformanceLevel = ConformanceLevel.Fragment }), text);
        }
    }
}
