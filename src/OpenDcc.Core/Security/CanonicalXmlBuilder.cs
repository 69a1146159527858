using System.Text;

namespace OpenDcc.Core.Security;

/// <summary>
/// Writes a document that is already in its canonical form (Canonical XML 1.0 without comments): no XML
/// declaration, namespace declarations before attributes, start and end tags for every element, text and attribute
/// values escaped as C14N escapes them. For documents OpenDcc writes itself and signs with
/// <see cref="DuisSignature.SignCanonical"/>, which then needs no parse and no canonicalization.
/// </summary>
/// <remarks>
/// Attributes must be given in canonical order (by namespace URI, then local name); the tests hold the output to
/// <see cref="XmlCanonicalizer"/>. <see cref="ToBytes"/> finishes the builder: its text buffer
/// goes back to the thread's cache (every signed response writes three documents, and fresh buffers for each were a
/// large share of the gateway's allocations), and the builder cannot be used again.
/// </remarks>
internal sealed class CanonicalXmlBuilder
{
    /// <summary>Larger buffers (a big inventory answer) are not kept.</summary>
    private const int MaxCachedCapacity = 16 * 1024;

    [ThreadStatic]
    private static StringBuilder? cached;

    private readonly Stack<string> open = new();
    private StringBuilder? output;

    public CanonicalXmlBuilder(int capacity = 2048)
    {
        output = cached ?? new StringBuilder(capacity);
        cached = null;
    }

    private StringBuilder Output => output ?? throw new InvalidOperationException("the document is finished");

    /// <summary>Opens an element, declaring <paramref name="namespaceDeclaration"/> (prefix, URI) on it when given.</summary>
    public CanonicalXmlBuilder Start(string qualifiedName, (string Prefix, string Uri)? namespaceDeclaration = null, params ReadOnlySpan<(string Name, string Value)> attributes)
    {
        var text = Output;
        text.Append('<').Append(qualifiedName);
        if (namespaceDeclaration is var (prefix, uri))
        {
            text.Append(" xmlns:").Append(prefix).Append("=\"");
            XmlCanonicalizer.AppendEscaped(uri, text, attribute: true);
            text.Append('"');
        }
        foreach (var (name, value) in attributes)
        {
            text.Append(' ').Append(name).Append("=\"");
            XmlCanonicalizer.AppendEscaped(value, text, attribute: true);
            text.Append('"');
        }
        text.Append('>');
        open.Push(qualifiedName);
        return this;
    }

    public CanonicalXmlBuilder End()
    {
        Output.Append("</").Append(open.Pop()).Append('>');
        return this;
    }

    /// <summary>An element holding only text.</summary>
    public CanonicalXmlBuilder Leaf(string qualifiedName, string text, params ReadOnlySpan<(string Name, string Value)> attributes)
    {
        Start(qualifiedName, null, attributes);
        XmlCanonicalizer.AppendEscaped(text, Output, attribute: false);
        return End();
    }

    /// <summary>The canonical document, UTF-8; finishes the builder.</summary>
    public byte[] ToBytes()
    {
        var text = Finish();
        var encoder = Encoding.UTF8.GetEncoder();
        var length = 0;
        foreach (var chunk in text.GetChunks())
        {
            length += encoder.GetByteCount(chunk.Span, flush: false);
        }
        length += encoder.GetByteCount([], flush: true);
        encoder.Reset();
        var bytes = new byte[length];
        var written = 0;
        foreach (var chunk in text.GetChunks())
        {
            written += encoder.GetBytes(chunk.Span, bytes.AsSpan(written), flush: false);
        }
        encoder.GetBytes([], bytes.AsSpan(written), flush: true);
        Release(text);
        return bytes;
    }

    private StringBuilder Finish()
    {
        var text = Output;
        if (open.Count != 0)
        {
            throw new InvalidOperationException($"element {open.Peek()} is still open");
        }
        output = null;
        return text;
    }

    private static void Release(StringBuilder text)
    {
        if (text.Capacity <= MaxCachedCapacity)
        {
            cached = text.Clear();
        }
    }
}
