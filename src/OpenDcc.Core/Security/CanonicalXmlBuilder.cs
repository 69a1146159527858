using System.Text;

namespace OpenDcc.Core.Security;

/// <summary>
/// Writes a document that is already in its canonical form (Canonical XML 1.0 without comments): no XML
/// declaration, namespace declarations before attributes, start and end tags for every element, text and attribute
/// values escaped as C14N escapes them. For documents OpenDcc writes itself and signs with
/// <see cref="DuisSignature.SignCanonical"/>, which then needs no parse and no canonicalization.
/// </summary>
/// <remarks>Attributes must be given in canonical order (by namespace URI, then local name); the tests hold the output to <see cref="XmlCanonicalizer"/>.</remarks>
internal sealed class CanonicalXmlBuilder(int capacity = 2048)
{
    private readonly StringBuilder output = new(capacity);
    private readonly Stack<string> open = new();

    /// <summary>Opens an element, declaring <paramref name="namespaceDeclaration"/> (prefix, URI) on it when given.</summary>
    public CanonicalXmlBuilder Start(string qualifiedName, (string Prefix, string Uri)? namespaceDeclaration = null, params ReadOnlySpan<(string Name, string Value)> attributes)
    {
        output.Append('<').Append(qualifiedName);
        if (namespaceDeclaration is var (prefix, uri))
        {
            output.Append(" xmlns:").Append(prefix).Append("=\"");
            XmlCanonicalizer.AppendEscaped(uri, output, attribute: true);
            output.Append('"');
        }
        foreach (var (name, value) in attributes)
        {
            output.Append(' ').Append(name).Append("=\"");
            XmlCanonicalizer.AppendEscaped(value, output, attribute: true);
            output.Append('"');
        }
        output.Append('>');
        open.Push(qualifiedName);
        return this;
    }

    public CanonicalXmlBuilder End()
    {
        output.Append("</").Append(open.Pop()).Append('>');
        return this;
    }

    /// <summary>An element holding only text.</summary>
    public CanonicalXmlBuilder Leaf(string qualifiedName, string text, params ReadOnlySpan<(string Name, string Value)> attributes)
    {
        Start(qualifiedName, null, attributes);
        XmlCanonicalizer.AppendEscaped(text, output, attribute: false);
        return End();
    }

    /// <summary>The canonical document, UTF-8.</summary>
    public byte[] ToBytes() => open.Count == 0
        ? Encoding.UTF8.GetBytes(output.ToString())
        : throw new InvalidOperationException($"element {open.Peek()} is still open");

    public override string ToString() => output.ToString();
}
