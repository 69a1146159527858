using System.Globalization;
using System.Xml.Linq;
using OpenDcc.Core.Identifiers;

namespace OpenDcc.Interop.Tests.Tooling;

/// <summary>
/// One DUIS request template from the DCC's Reference Test Data Set, as <c>@smartdcc/duis-templates</c> ships it
/// (unsigned, with a placeholder signature), with its header read.
/// </summary>
/// <param name="FileName">The template's file name, e.g. <c>ECS17b_4.1.1_SINGLE_SUCCESS_REQUEST_DUIS.XML</c>.</param>
/// <param name="Xml">The file's text, unchanged.</param>
/// <param name="BodyElement">The local name of the <c>sr:Body</c> child, e.g. <c>ReadInstantaneousImportRegisters</c>.</param>
public sealed record RtdsTemplate(
    string FileName,
    string Xml,
    RequestId RequestId,
    int CommandVariant,
    string ServiceReference,
    string ServiceReferenceVariant,
    string BodyElement)
{
    public static readonly XNamespace Duis = "http://www.dccinterface.co.uk/ServiceUserGateway";

    public static RtdsTemplate Parse(string fileName, string xml)
    {
        var root = XDocument.Parse(xml).Root ?? throw new FormatException($"{fileName}: no root element");
        var header = root.Element(Duis + "Header") ?? throw new FormatException($"{fileName}: no sr:Header");
        string Field(string name) => header.Element(Duis + name)?.Value.Trim() ?? throw new FormatException($"{fileName}: no sr:{name} in the header");
        var body = root.Element(Duis + "Body")?.Elements().FirstOrDefault() ?? throw new FormatException($"{fileName}: sr:Body is empty");
        return new RtdsTemplate(
            fileName,
            xml,
            RequestId.Parse(Field("RequestID")),
            int.Parse(Field("CommandVariant"), NumberStyles.None, CultureInfo.InvariantCulture),
            Field("ServiceReference"),
            Field("ServiceReferenceVariant"),
            body.Name.LocalName);
    }

    public override string ToString() => $"{FileName} (SRV {ServiceReferenceVariant}, CV {CommandVariant}, {RequestId})";
}
