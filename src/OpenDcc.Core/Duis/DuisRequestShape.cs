using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using System.Text.Unicode;

namespace OpenDcc.Core.Duis;

/// <summary>
/// What a DUIS request's bytes may hold before they go to the XML parser: a small tree of elements with few attributes,
/// whose only large parts are text (a firmware image, a device ID list). .NET's XML reader spends seconds on a few
/// megabytes of attributes on one element, so a body that is not of that shape is refused before it is parsed.
/// </summary>
/// <remarks>
/// The scan finds tags the way a parser would in well-formed XML (text holds no <c>&lt;</c>; comments, CDATA and
/// processing instructions are skipped whole; a <c>&gt;</c> inside a quoted value does not end its tag) and counts
/// nodes, attributes (one <c>=</c> each, outside quoted values) and tag lengths. It never judges well-formedness:
/// anything it cannot follow is left to the parser, which refuses it.
/// </remarks>
public static partial class DuisRequestShape
{
    /// <summary>The longest start or end tag: a DUIS element has a few short attributes and namespace declarations.</summary>
    public const int MaxTagBytes = 8 * 1024;

    /// <summary>
    /// Elements, comments, CDATA sections and processing instructions, each a node of the parsed document: the DUIS
    /// V5.1 schema repeats no element more than 120 times, so a request has far fewer.
    /// </summary>
    public const int MaxNodes = 20_000;

    /// <summary>Attributes and namespace declarations in the whole request.</summary>
    public const int MaxAttributes = 2_000;

    /// <returns>Null when the request may be parsed; otherwise why it is refused.</returns>
    public static string? Refusal(ReadOnlySpan<byte> xml)
    {
        if (EncodingRefusal(xml) is { } encoding)
        {
            return encoding;
        }
        var nodes = 0;
        var attributes = 0;
        var at = 0;
        while (true)
        {
            var next = xml[at..].IndexOf((byte)'<');
            if (next < 0)
            {
                return null;
            }
            at += next;
            var rest = xml[at..];
            var end = rest.Length > 1 && rest[1] == (byte)'/';
            if (!end && ++nodes > MaxNodes)
            {
                return string.Create(CultureInfo.InvariantCulture, $"a DUIS request has at most {MaxNodes:N0} elements, comments, CDATA sections and processing instructions; this one has more");
            }
            if ((Skipped(rest, "<!--"u8, "-->"u8) ?? Skipped(rest, "<![CDATA["u8, "]]>"u8) ?? Skipped(rest, "<?"u8, "?>"u8)) is { } skipped)
            {
                if (skipped < 0)
                {
                    return null;
                }
                at += skipped;
                continue;
            }
            if (rest.Length > 1 && rest[1] == (byte)'!')
            {
                // A document type declaration, which the parser refuses as soon as it reaches it.
                return null;
            }
            byte quote = 0;
            var length = 1;
            for (; length < rest.Length && (quote != 0 || rest[length] != (byte)'>'); length++)
            {
                var b = rest[length];
                if (length >= MaxTagBytes)
                {
                    return string.Create(CultureInfo.InvariantCulture, $"a DUIS request's tags are at most {MaxTagBytes:N0} bytes long; one at byte {at:N0} is longer");
                }
                if (quote != 0)
                {
                    quote = b == quote ? (byte)0 : quote;
                }
                else if (b is (byte)'"' or (byte)'\'')
                {
                    quote = b;
                }
                else if (b == (byte)'=' && ++attributes > MaxAttributes)
                {
                    return string.Create(CultureInfo.InvariantCulture, $"a DUIS request has at most {MaxAttributes:N0} attributes and namespace declarations; this one has more");
                }
            }
            at += length;
        }
    }

    /// <summary>
    /// The scan reads bytes as UTF-8, in which no byte of a multi-byte character is an ASCII one, so what it finds is
    /// what the parser will: a request in any other encoding is refused before either (DUIS messages are UTF-8). The
    /// parser would otherwise take UTF-16 or UTF-32 (by their byte order mark or their first bytes) or the encoding a
    /// declaration names, in whose bytes the scan could find a tag's end, or an unclosed comment, where there is none.
    /// </summary>
    private static string? EncodingRefusal(ReadOnlySpan<byte> xml)
    {
        if (xml.StartsWith((ReadOnlySpan<byte>)[0xFE, 0xFF]) || xml.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE]))
        {
            return "a DUIS request is UTF-8 encoded: this one starts with a UTF-16 or UTF-32 byte order mark";
        }
        // NUL is no XML character: only an encoding of two or four bytes a character (UTF-16, UTF-32) puts it there.
        if (xml.IndexOf((byte)0) is var nul and >= 0)
        {
            return string.Create(CultureInfo.InvariantCulture, $"a DUIS request is UTF-8 encoded: this one has a NUL byte at byte {nul:N0} (UTF-16 or UTF-32?)");
        }
        return DeclarationRefusal(xml) ?? Utf8Refusal(xml);
    }

    /// <summary>An XML declaration that does not end, or that names an encoding other than UTF-8.</summary>
    private static string? DeclarationRefusal(ReadOnlySpan<byte> xml)
    {
        var declaration = xml.StartsWith("\uFEFF"u8) ? xml[3..] : xml;
        if (!declaration.StartsWith("<?xml"u8))
        {
            return null;
        }
        var end = declaration[..Math.Min(declaration.Length, MaxTagBytes)].IndexOf("?>"u8);
        if (end < 0)
        {
            return string.Create(CultureInfo.InvariantCulture, $"a DUIS request's XML declaration ends within {MaxTagBytes:N0} bytes; this one does not");
        }
        var declared = DeclaredEncoding().Match(Encoding.ASCII.GetString(declaration[..end]));
        return declared.Success && !declared.Groups[1].Value.Equals("UTF-8", StringComparison.OrdinalIgnoreCase)
            ? $"a DUIS request is UTF-8 encoded: this one declares encoding '{declared.Groups[1].Value}'"
            : null;
    }

    /// <summary>
    /// Bytes that are no UTF-8, wherever they are: the parser refuses them inside the document, but would pass over a
    /// broken sequence after the root's end tag.
    /// </summary>
    private static string? Utf8Refusal(ReadOnlySpan<byte> xml)
    {
        if (Utf8.IsValid(xml))
        {
            return null;
        }
        var at = 0;
        while (Rune.DecodeFromUtf8(xml[at..], out _, out var length) == OperationStatus.Done)
        {
            at += length;
        }
        return string.Create(CultureInfo.InvariantCulture, $"a DUIS request is UTF-8 encoded: this one is not, from byte {at:N0}");
    }

    [GeneratedRegex(@"\sencoding\s*=\s*[""']([^""']*)[""']")]
    private static partial Regex DeclaredEncoding();

    /// <summary>
    /// Null when <paramref name="text"/> does not open with <paramref name="open"/>; otherwise the bytes up to the end
    /// of <paramref name="close"/>, or -1 when it is never closed.
    /// </summary>
    private static int? Skipped(ReadOnlySpan<byte> text, ReadOnlySpan<byte> open, ReadOnlySpan<byte> close)
    {
        if (!text.StartsWith(open))
        {
            return null;
        }
        var end = text[open.Length..].IndexOf(close);
        return end < 0 ? -1 : open.Length + end + close.Length;
    }
}
