using System.Security.Cryptography.Xml;
using System.Text;
using System.Xml;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using OpenDcc.Core.Security;

namespace OpenDcc.Core.Tests.Security;

/// <summary>Our C14N against the System.Security.Cryptography.Xml transforms, on generated documents.</summary>
public class XmlCanonicalizerTests
{
    private static readonly string[] Prefixes = ["a", "b", "sr", "ds"];

    private static readonly string[] Namespaces = ["urn:a", "urn:b", "http://www.dccinterface.co.uk/ServiceUserGateway", "http://x.example/p?q=1&amp;r=&quot;2&quot;"];

    private static readonly string[] Names = ["Request", "x", "Y", "_z", "n-1", "é"];

    private static readonly string[] TextPieces = ["plain", " ", "\n", "\t", "&amp;", "&lt;", "&gt;", "&quot;", "'", "&#13;", "&#9;", "&#10;", "€", "]]&gt;", "<![CDATA[ <&> ]]>", "<!-- note -->", "<?pi some data?>", "<?empty?>"];

    private static readonly string[] AttributePieces = ["v", " ", "&amp;", "&lt;", ">", "&quot;", "'", "&#13;", "&#9;", "&#10;", "\t", "\n", "é"];

    [Property(MaxTest = 300)]
    public Property Whole_document_matches_canonical_xml_1_0() =>
        Prop.ForAll(Seeds, seed =>
        {
            var document = Parse(RandomDocument(new Random(seed)));
            return Matches(XmlCanonicalizer.Document(document, exclusive: false), Reference(new XmlDsigC14NTransform(), document));
        });

    [Property(MaxTest = 300)]
    public Property Whole_document_matches_exclusive_c14n() =>
        Prop.ForAll(Seeds, seed =>
        {
            var document = Parse(RandomDocument(new Random(seed)));
            return Matches(XmlCanonicalizer.Document(document, exclusive: true), Reference(new XmlDsigExcC14NTransform(), document));
        });

    [Property(MaxTest = 300)]
    public Property Any_subtree_matches_exclusive_c14n_in_its_namespace_context() =>
        Prop.ForAll(Seeds, seed =>
        {
            var random = new Random(seed);
            var document = Parse(RandomDocument(random));
            var elements = document.SelectNodes("//*")!.Cast<XmlElement>().ToList();
            var apex = elements[random.Next(elements.Count)];
            return Matches(XmlCanonicalizer.Exclusive(apex), Reference(new XmlDsigExcC14NTransform(), Isolate(apex)));
        });

    [Fact]
    public void Documented_example_renders_namespaces_attributes_and_text_canonically()
    {
        var document = Parse(
            "<?xml version=\"1.0\"?>\n<?first?>\n<!-- gone -->\n<b:r xmlns=\"urn:d\" xmlns:b=\"urn:b\" xmlns:u=\"urn:unused\" z=\"1\" b:a=\"&#9;&quot;\" a=\"&lt;&gt;\">"
            + "<b:c xmlns:b=\"urn:b\" xmlns=\"\"><![CDATA[x<y]]>&#13;</b:c><e/></b:r>\n<?last x?>");

        Assert.Equal(
            "<?first?>\n<b:r xmlns=\"urn:d\" xmlns:b=\"urn:b\" xmlns:u=\"urn:unused\" a=\"&lt;>\" z=\"1\" b:a=\"&#x9;&quot;\">"
            + "<b:c xmlns=\"\">x&lt;y&#xD;</b:c><e></e></b:r>\n<?last x?>",
            XmlCanonicalizer.Document(document, exclusive: false));
        Assert.Equal(
            "<b:c xmlns:b=\"urn:b\">x&lt;y&#xD;</b:c>",
            XmlCanonicalizer.Exclusive((XmlElement)document.DocumentElement!.FirstChild!));
    }

    [Fact]
    public void Many_namespaces_declared_on_one_element_and_redeclared_below_it_canonicalize_as_the_reference_does()
    {
        // A hostile request can declare as many namespaces as its body limit allows; the scope is one table, not a chain
        // looked up from the nearest binding (which took 75 s of CPU for 100,000 declarations on one element).
        // 200: the reference transforms refuse an element with several hundred.
        const int count = 200;
        var declarations = string.Concat(Enumerable.Range(0, count).Select(i => $" xmlns:p{i}=\"urn:{i}\""));
        var redeclared = string.Concat(Enumerable.Range(0, count).Where(i => i % 3 == 0).Select(i => $" xmlns:p{i}=\"urn:other{i}\""));
        var used = string.Concat(Enumerable.Range(0, count).Where(i => i % 7 == 0).Select(i => $" p{i}:a=\"{i}\""));
        var document = Parse($"<p1:r{declarations} xmlns=\"urn:d\"><p2:c{redeclared}{used} xmlns=\"\"><p3:d{used}/></p2:c><p6:e/></p1:r>");

        Assert.Equal(Reference(new XmlDsigC14NTransform(), document), XmlCanonicalizer.Document(document, exclusive: false));
        Assert.Equal(Reference(new XmlDsigExcC14NTransform(), document), XmlCanonicalizer.Document(document, exclusive: true));
    }

    private static Arbitrary<int> Seeds => ArbMap.Default.GeneratorFor<int>().ToArbitrary();

    private static bool Matches(string ours, string reference) =>
        ours == reference ? true : throw new InvalidOperationException($"ours:\n{ours}\nreference:\n{reference}");

    private static string Reference(Transform transform, XmlDocument document)
    {
        transform.LoadInput(document);
        using var output = (Stream)transform.GetOutput(typeof(Stream));
        using var reader = new StreamReader(output, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    /// <summary>The subtree as a document of its own, carrying every namespace declaration in scope at it.</summary>
    private static XmlDocument Isolate(XmlElement apex)
    {
        var alone = new XmlDocument { PreserveWhitespace = true };
        var copy = (XmlElement)alone.AppendChild(alone.ImportNode(apex, deep: true))!;
        for (var ancestor = apex.ParentNode as XmlElement; ancestor is not null; ancestor = ancestor.ParentNode as XmlElement)
        {
            foreach (XmlAttribute attribute in ancestor.Attributes)
            {
                if (attribute.NamespaceURI == "http://www.w3.org/2000/xmlns/" && !copy.HasAttribute(attribute.Name))
                {
                    copy.Attributes.Append((XmlAttribute)alone.ImportNode(attribute, deep: true));
                }
            }
        }
        return alone;
    }

    private static XmlDocument Parse(string xml)
    {
        var document = new XmlDocument { PreserveWhitespace = true, XmlResolver = null };
        document.LoadXml(xml);
        return document;
    }

    /// <summary>A well-formed, namespace-well-formed document mixing declarations, redeclarations, undeclarations, attributes and content.</summary>
    private static string RandomDocument(Random random)
    {
        var xml = new StringBuilder();
        if (random.Next(2) == 0)
        {
            xml.Append("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
        }
        AppendMisc(random, xml);
        AppendElement(random, xml, depth: 0, declared: []);
        AppendMisc(random, xml);
        return xml.ToString();
    }

    private static void AppendMisc(Random random, StringBuilder xml)
    {
        for (var i = random.Next(3); i > 0; i--)
        {
            xml.Append(Pick(random, ["\n", "<!-- c -->", "<?top data?>", "<?bare?>", " "]));
        }
    }

    private static void AppendElement(Random random, StringBuilder xml, int depth, HashSet<string> declared)
    {
        var inScope = new HashSet<string>(declared);
        var declarations = new StringBuilder();
        foreach (var prefix in Prefixes)
        {
            if (random.Next(4) == 0)
            {
                declarations.Append(" xmlns:").Append(prefix).Append("=\"").Append(Pick(random, Namespaces)).Append('"');
                inScope.Add(prefix);
            }
        }
        switch (random.Next(5))
        {
            case 0:
                declarations.Append(" xmlns=\"").Append(Pick(random, Namespaces)).Append('"');
                break;
            case 1:
                declarations.Append(" xmlns=\"\"");
                break;
        }
        var elementPrefix = inScope.Count > 0 && random.Next(2) == 0 ? Pick(random, [.. inScope]) : null;
        var name = (elementPrefix is null ? "" : elementPrefix + ":") + Pick(random, Names);

        xml.Append('<').Append(name).Append(declarations);
        var attributeNames = new HashSet<string>();
        for (var i = random.Next(4); i > 0; i--)
        {
            var attributePrefix = inScope.Count > 0 && random.Next(3) == 0 ? Pick(random, [.. inScope]) : null;
            var attributeName = (attributePrefix is null ? "" : attributePrefix + ":") + Pick(random, ["x", "a", "Z", "b1"]);
            // Two prefixes bound to one namespace would make a:x and b:x the same attribute: keep prefixed names unique by local name.
            if (attributeNames.Add(attributePrefix is null ? attributeName : "*:" + attributeName[(attributeName.IndexOf(':') + 1)..]))
            {
                xml.Append(' ').Append(attributeName).Append("=\"");
                for (var j = random.Next(4); j > 0; j--)
                {
                    xml.Append(Pick(random, AttributePieces));
                }
                xml.Append('"');
            }
        }
        if (random.Next(6) == 0)
        {
            xml.Append("/>");
            return;
        }
        xml.Append('>');
        for (var i = random.Next(depth < 4 ? 5 : 2); i > 0; i--)
        {
            if (depth < 4 && random.Next(2) == 0)
            {
                AppendElement(random, xml, depth + 1, inScope);
            }
            else
            {
                xml.Append(Pick(random, TextPieces));
            }
        }
        xml.Append("</").Append(name).Append('>');
    }

    private static string Pick(Random random, string[] choices) => choices[random.Next(choices.Length)];
}
