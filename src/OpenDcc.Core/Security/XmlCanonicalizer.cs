using System.Text;
using System.Xml;

namespace OpenDcc.Core.Security;

/// <summary>
/// Canonical XML 1.0 (of a whole document) and Exclusive XML Canonicalization 1.0 (of a subtree), both without
/// comments: the two forms a DUIS signature digests, the first for its Reference and the second for SignedInfo.
/// </summary>
/// <remarks>
/// Written here because the System.Security.Cryptography.Xml transforms first copy the document into a DOM of
/// their own, which on a DUIS-sized message costs several times the ECDSA operation itself. Input has no DTD, so no
/// entity references or defaulted attributes, and the caller has bounded its depth. The tests hold both forms to
/// those transforms on generated documents.
/// </remarks>
internal static class XmlCanonicalizer
{
    private const string XmlnsNamespace = "http://www.w3.org/2000/xmlns/";

    /// <summary>
    /// The whole document without comments, as <c>Reference URI=""</c> digests it: Canonical XML 1.0, or Exclusive
    /// C14N when the reference names that transform.
    /// </summary>
    public static string Document(XmlDocument document, bool exclusive)
    {
        var output = new StringBuilder(2048);
        var afterRoot = false;
        for (var node = document.FirstChild; node is not null; node = node.NextSibling)
        {
            switch (node)
            {
                case XmlElement root when exclusive:
                    WriteExclusive(root, new NamespaceScope(), output);
                    afterRoot = true;
                    break;
                case XmlElement root:
                    WriteInclusive(root, new NamespaceScope(), output);
                    afterRoot = true;
                    break;
                case XmlProcessingInstruction instruction:
                    // C14N §2.1: a line feed separates top-level PIs from the root element.
                    if (afterRoot)
                    {
                        output.Append('\n');
                    }
                    WriteInstruction(instruction, output);
                    if (!afterRoot)
                    {
                        output.Append('\n');
                    }
                    break;
                default:
                    // The XML declaration, whitespace outside the root and comments are not part of the canonical form.
                    break;
            }
        }
        return output.ToString();
    }

    /// <summary>Exclusive C14N 1.0 without comments and without an InclusiveNamespaces prefix list, of <paramref name="apex"/> and its descendants.</summary>
    public static string Exclusive(XmlElement apex)
    {
        var output = new StringBuilder(1024);
        WriteExclusive(apex, new NamespaceScope(), output);
        return output.ToString();
    }

    /// <param name="scope">The namespaces in scope at the parent: the ones it rendered or inherited.</param>
    private static void WriteInclusive(XmlElement element, NamespaceScope scope, StringBuilder output)
    {
        // This element's bindings, the last for a prefix winning; scope still holds the parent's until they are applied.
        var bound = new ElementBindings();
        foreach (XmlAttribute attribute in element.Attributes)
        {
            if (attribute.NamespaceURI == XmlnsNamespace)
            {
                var prefix = attribute.Prefix.Length == 0 ? "" : attribute.LocalName;
                if (prefix != "xml")
                {
                    bound.Set(prefix, attribute.Value);
                }
            }
        }
        // A document built in code may use a prefix without declaring it; bind it where a serializer would declare it.
        BindIfUnbound(element.Prefix, element.NamespaceURI);
        foreach (XmlAttribute attribute in element.Attributes)
        {
            if (attribute.Prefix.Length != 0 && attribute.NamespaceURI != XmlnsNamespace && attribute.Prefix != "xml")
            {
                BindIfUnbound(attribute.Prefix, attribute.NamespaceURI);
            }
        }

        // C14N §2.3: a namespace node is rendered unless the parent already had the same one in scope.
        var rendered = new List<Binding>();
        foreach (var binding in bound.Latest)
        {
            if (scope.Lookup(binding.Prefix) != binding.Uri)
            {
                rendered.Add(binding);
            }
        }
        var mark = scope.Mark;
        foreach (var binding in bound.Latest)
        {
            scope.Bind(binding.Prefix, binding.Uri);
        }
        WriteElement(element, rendered, output);
        WriteChildren(element, scope, output, inclusive: true);
        output.Append("</").Append(element.Name).Append('>');
        scope.Restore(mark);

        void BindIfUnbound(string prefix, string uri)
        {
            if ((bound.Find(prefix) ?? scope.Lookup(prefix)) != uri)
            {
                bound.Set(prefix, uri);
            }
        }
    }

    /// <param name="rendered">The namespaces output ancestors rendered.</param>
    private static void WriteExclusive(XmlElement element, NamespaceScope rendered, StringBuilder output)
    {
        var own = new List<Binding>();
        var mark = rendered.Mark;
        // Exc-C14N §3: only visibly utilized namespaces, i.e. the element's own prefix and its attributes' prefixes.
        Utilize(element.Prefix, element.NamespaceURI);
        foreach (XmlAttribute attribute in element.Attributes)
        {
            if (attribute.Prefix.Length != 0 && attribute.NamespaceURI != XmlnsNamespace && attribute.Prefix != "xml")
            {
                Utilize(attribute.Prefix, attribute.NamespaceURI);
            }
        }

        WriteElement(element, own, output);
        WriteChildren(element, rendered, output, inclusive: false);
        output.Append("</").Append(element.Name).Append('>');
        rendered.Restore(mark);

        void Utilize(string prefix, string uri)
        {
            if (rendered.Lookup(prefix) != uri)
            {
                rendered.Bind(prefix, uri);
                own.Add(new Binding(prefix, uri));
            }
        }
    }

    private static void WriteChildren(XmlElement element, NamespaceScope scope, StringBuilder output, bool inclusive)
    {
        for (var child = element.FirstChild; child is not null; child = child.NextSibling)
        {
            switch (child)
            {
                case XmlElement nested when inclusive:
                    WriteInclusive(nested, scope, output);
                    break;
                case XmlElement nested:
                    WriteExclusive(nested, scope, output);
                    break;
                case XmlText or XmlCDataSection or XmlWhitespace or XmlSignificantWhitespace:
                    AppendEscaped(child.Value!, output, attribute: false);
                    break;
                case XmlProcessingInstruction instruction:
                    WriteInstruction(instruction, output);
                    break;
                case XmlComment:
                    break;
                default:
                    throw new XmlException($"cannot canonicalize a {child.NodeType} node");
            }
        }
    }

    private static void WriteElement(XmlElement element, List<Binding> namespaces, StringBuilder output)
    {
        output.Append('<').Append(element.Name);
        // Namespace declarations first, by prefix (the default namespace's empty prefix first), then attributes by
        // namespace URI and local name (C14N §2.2 document order).
        namespaces.Sort(static (a, b) => string.CompareOrdinal(a.Prefix, b.Prefix));
        foreach (var binding in namespaces)
        {
            if (binding.Prefix.Length == 0)
            {
                output.Append(" xmlns=\"");
            }
            else
            {
                output.Append(" xmlns:").Append(binding.Prefix).Append("=\"");
            }
            AppendEscaped(binding.Uri, output, attribute: true);
            output.Append('"');
        }
        var attributes = element.Attributes;
        if (attributes.Count == 0)
        {
            output.Append('>');
            return;
        }
        var plain = new List<XmlAttribute>(attributes.Count);
        foreach (XmlAttribute attribute in attributes)
        {
            if (attribute.NamespaceURI != XmlnsNamespace)
            {
                plain.Add(attribute);
            }
        }
        plain.Sort(static (a, b) =>
        {
            var byNamespace = string.CompareOrdinal(a.NamespaceURI, b.NamespaceURI);
            return byNamespace != 0 ? byNamespace : string.CompareOrdinal(a.LocalName, b.LocalName);
        });
        foreach (var attribute in plain)
        {
            output.Append(' ').Append(attribute.Name).Append("=\"");
            AppendEscaped(attribute.Value, output, attribute: true);
            output.Append('"');
        }
        output.Append('>');
    }

    private static void WriteInstruction(XmlProcessingInstruction instruction, StringBuilder output)
    {
        output.Append("<?").Append(instruction.Target);
        if (instruction.Data.Length != 0)
        {
            output.Append(' ').Append(instruction.Data);
        }
        output.Append("?>");
    }

    /// <summary>C14N §2.3 escaping: text escapes &amp; &lt; &gt; CR; attribute values escape &amp; &lt; " TAB LF CR.</summary>
    internal static void AppendEscaped(string value, StringBuilder output, bool attribute)
    {
        var start = 0;
        for (var i = 0; i < value.Length; i++)
        {
            var replacement = value[i] switch
            {
                '&' => "&amp;",
                '<' => "&lt;",
                '>' when !attribute => "&gt;",
                '"' when attribute => "&quot;",
                '\t' when attribute => "&#x9;",
                '\n' when attribute => "&#xA;",
                '\r' => "&#xD;",
                _ => null,
            };
            if (replacement is not null)
            {
                output.Append(value, start, i - start).Append(replacement);
                start = i + 1;
            }
        }
        output.Append(value, start, value.Length - start);
    }

    private readonly record struct Binding(string Prefix, string Uri);

    /// <summary>
    /// The namespace bindings in scope as the walk descends: one table changed on the way into an element and put back on
    /// the way out, so that looking a prefix up costs the same however many namespaces are declared, on one element or
    /// on its ancestors (a chain of bindings looked up from the nearest made a message declaring thousands of namespaces
    /// cost minutes).
    /// </summary>
    private sealed class NamespaceScope
    {
        private readonly Dictionary<string, string> current = new(StringComparer.Ordinal);

        // What each binding replaced (null: the prefix was unbound), undone last first.
        private readonly List<(string Prefix, string? Previous)> undo = [];

        /// <summary>Where <see cref="Restore"/> goes back to.</summary>
        public int Mark => undo.Count;

        /// <summary>The URI bound to a prefix; the default namespace is "" when not bound, other prefixes null.</summary>
        public string? Lookup(string prefix) => current.TryGetValue(prefix, out var uri) ? uri : prefix.Length == 0 ? "" : null;

        public void Bind(string prefix, string uri)
        {
            undo.Add((prefix, current.TryGetValue(prefix, out var previous) ? previous : null));
            current[prefix] = uri;
        }

        public void Restore(int mark)
        {
            for (var i = undo.Count - 1; i >= mark; i--)
            {
                var (prefix, previous) = undo[i];
                if (previous is null)
                {
                    current.Remove(prefix);
                }
                else
                {
                    current[prefix] = previous;
                }
            }
            undo.RemoveRange(mark, undo.Count - mark);
        }
    }

    /// <summary>The namespaces one element binds, in the order first bound, each prefix holding the last URI bound to it.</summary>
    private struct ElementBindings
    {
        // A DUIS element binds none or one: the list alone is searched until there are more than a few.
        private const int Indexed = 8;

        private List<Binding>? latest;
        private Dictionary<string, int>? index;

        public readonly IReadOnlyList<Binding> Latest => (IReadOnlyList<Binding>?)latest ?? [];

        public readonly string? Find(string prefix) => IndexOf(prefix) is var at and >= 0 ? latest![at].Uri : null;

        public void Set(string prefix, string uri)
        {
            latest ??= [];
            var at = IndexOf(prefix);
            if (at >= 0)
            {
                latest[at] = new Binding(prefix, uri);
                return;
            }
            latest.Add(new Binding(prefix, uri));
            if (index is not null)
            {
                index[prefix] = latest.Count - 1;
            }
            else if (latest.Count > Indexed)
            {
                index = new Dictionary<string, int>(StringComparer.Ordinal);
                for (var i = 0; i < latest.Count; i++)
                {
                    index[latest[i].Prefix] = i;
                }
            }
        }

        private readonly int IndexOf(string prefix)
        {
            if (index is not null)
            {
                return index.TryGetValue(prefix, out var at) ? at : -1;
            }
            for (var i = 0; latest is not null && i < latest.Count; i++)
            {
                if (latest[i].Prefix == prefix)
                {
                    return i;
                }
            }
            return -1;
        }
    }
}
