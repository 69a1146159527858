using System.Globalization;
using System.Text;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using OpenDcc.Core.Duis;

namespace OpenDcc.Core.Tests.Duis;

public class DuisRequestShapeTests
{
    private const string Request =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><sr:Request xmlns:sr=\"http://www.dccinterface.co.uk/ServiceUserGateway\" schemaVersion=\"5.1\">"
        + "<sr:Header><sr:RequestID>90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A0:1</sr:RequestID><sr:CommandVariant>1</sr:CommandVariant>"
        + "<sr:ServiceReference>4.1</sr:ServiceReference><sr:ServiceReferenceVariant>4.1.1</sr:ServiceReferenceVariant></sr:Header>"
        + "<sr:Body><sr:ReadInstantaneousImportRegisters/></sr:Body></sr:Request>";

    [Fact]
    public void A_duis_request_with_megabytes_of_text_in_its_leaves_may_be_parsed()
    {
        var image = new string('A', 14_000_000);
        Assert.Null(DuisRequestShape.Refusal(Utf8(Request.Replace("<sr:ReadInstantaneousImportRegisters/>", $"<sr:UpdateFirmware><sr:FirmwareImage>{image}</sr:FirmwareImage></sr:UpdateFirmware>", StringComparison.Ordinal))));
    }

    [Fact]
    public void Too_many_attributes_or_nodes_or_too_long_a_tag_are_refused_naming_the_limit()
    {
        var attributes = string.Concat(Enumerable.Range(0, DuisRequestShape.MaxAttributes).Select(i => $"<e a{i}=\"1\"/>"));
        Assert.Null(DuisRequestShape.Refusal(Utf8($"<r>{attributes}</r>")));
        Assert.Contains("at most 2,000 attributes", DuisRequestShape.Refusal(Utf8($"<r x=\"1\">{attributes}</r>")), StringComparison.Ordinal);

        var nodes = string.Concat(Enumerable.Repeat("<e/>", DuisRequestShape.MaxNodes - 4));
        Assert.Null(DuisRequestShape.Refusal(Utf8($"<?pi?><r>{nodes}<!-- c --><![CDATA[x]]></r>")));
        Assert.Contains("at most 20,000 elements, comments, CDATA sections and processing instructions", DuisRequestShape.Refusal(Utf8($"<?pi?><r>{nodes}<!-- c --><![CDATA[x]]><e/></r>")), StringComparison.Ordinal);

        var value = new string('v', DuisRequestShape.MaxTagBytes);
        Assert.Contains("tags are at most 8,192 bytes", DuisRequestShape.Refusal(Utf8($"<r a=\"{value}\"/>")), StringComparison.Ordinal);
        Assert.Contains("tags are at most 8,192 bytes", DuisRequestShape.Refusal(Utf8($"<r></r{new string(' ', DuisRequestShape.MaxTagBytes)}>")), StringComparison.Ordinal);
    }

    [Fact]
    public void Markup_inside_comments_cdata_instructions_and_quoted_values_is_not_counted()
    {
        var inert = string.Concat(Enumerable.Repeat("a=\"1\" <e/>", DuisRequestShape.MaxNodes));
        Assert.Null(DuisRequestShape.Refusal(Utf8($"<r><!-- {inert} --><![CDATA[{inert}]]><?pi {inert}?></r>")));
        // A '>' or '=' inside a quoted value neither ends the tag nor makes an attribute.
        Assert.Null(DuisRequestShape.Refusal(Utf8($"<r a=\"{string.Concat(Enumerable.Repeat("=>'", 2_500))}\"/>")));
        // A double quote inside a single-quoted value opens nothing: the attributes after it still count.
        Assert.Contains("attributes", DuisRequestShape.Refusal(Utf8($"<r>{string.Concat(Enumerable.Repeat("<e a='\"' b='1'/>", 1_001))}</r>")), StringComparison.Ordinal);
    }

    [Fact]
    public void A_request_in_utf_8_with_or_without_its_byte_order_mark_may_be_parsed()
    {
        Assert.Null(DuisRequestShape.Refusal([0xEF, 0xBB, 0xBF, .. Utf8(Request)]));
        Assert.Null(DuisRequestShape.Refusal(Utf8(Request.Replace("encoding=\"UTF-8\"", "encoding='utf-8'", StringComparison.Ordinal))));
        Assert.Null(DuisRequestShape.Refusal(Utf8(Request.Replace(" encoding=\"UTF-8\"", "", StringComparison.Ordinal))));
    }

    [Theory]
    [InlineData("utf-16LE BOM", "byte order mark")]
    [InlineData("utf-16BE BOM", "byte order mark")]
    [InlineData("utf-16LE", "NUL byte at byte 1")]
    [InlineData("utf-16BE", "NUL byte at byte 0")]
    [InlineData("utf-32LE BOM", "byte order mark")]
    [InlineData("utf-32BE", "NUL byte at byte 0")]
    public void A_request_in_utf_16_or_utf_32_is_refused_before_it_is_scanned(string encoding, string expected)
    {
        var (name, bom) = encoding.EndsWith(" BOM", StringComparison.Ordinal) ? (encoding[..^4], true) : (encoding, false);
        var text = Encoding.GetEncoding(name);
        var bytes = (bom ? text.GetPreamble() : []).Concat(text.GetBytes(Request.Replace("UTF-8", name, StringComparison.Ordinal))).ToArray();

        Assert.Contains(expected, DuisRequestShape.Refusal(bytes), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null, new byte[] { 0xE2, 0x82 })]
    [InlineData("00-DB-", new byte[] { 0x80 })]
    [InlineData("00-DB-", new byte[] { 0xC0, 0xAF })]
    [InlineData("</sr:Header>", new byte[] { 0xED, 0xA0, 0x80 })]
    public void A_request_with_bytes_that_are_not_utf_8_anywhere_is_refused_naming_the_first(string? before, byte[] inserted)
    {
        // Before the text given, or after the root's end tag (null), where the parser would not look.
        var bytes = Utf8(Request);
        var offset = before is null ? bytes.Length : Encoding.UTF8.GetByteCount(Request[..Request.IndexOf(before, StringComparison.Ordinal)]);
        byte[] broken = [.. bytes[..offset], .. inserted, .. bytes[offset..]];

        Assert.Equal(string.Create(CultureInfo.InvariantCulture, $"a DUIS request is UTF-8 encoded: this one is not, from byte {offset:N0}"), DuisRequestShape.Refusal(broken));
    }

    [Theory]
    [InlineData("ISO-8859-1")]
    [InlineData("UTF-16")]
    [InlineData("Shift_JIS")]
    public void A_request_declaring_an_encoding_other_than_utf_8_is_refused(string declared)
    {
        Assert.Equal($"a DUIS request is UTF-8 encoded: this one declares encoding '{declared}'",
            DuisRequestShape.Refusal(Utf8(Request.Replace("encoding=\"UTF-8\"", $"encoding=\"{declared}\"", StringComparison.Ordinal))));
    }

    [Fact]
    public void An_xml_declaration_is_read_for_its_encoding_however_long_or_refused_if_it_does_not_end_within_a_tags_length()
    {
        var padded = Request.Replace("version=\"1.0\"", "version=\"1.0\"" + new string(' ', 1_000), StringComparison.Ordinal);
        Assert.Null(DuisRequestShape.Refusal(Utf8(padded)));
        Assert.Contains("declares encoding 'ISO-8859-1'", DuisRequestShape.Refusal(Utf8(padded.Replace("UTF-8", "ISO-8859-1", StringComparison.Ordinal))), StringComparison.Ordinal);
        Assert.Contains("XML declaration ends within 8,192 bytes", DuisRequestShape.Refusal(Utf8(Request.Replace("version=\"1.0\"", "version=\"1.0\"" + new string(' ', 9_000), StringComparison.Ordinal))), StringComparison.Ordinal);
    }

    [Fact]
    public void Utf_16_text_whose_bytes_read_as_an_unclosed_comment_does_not_take_thousands_of_attributes_past_the_scan()
    {
        // U+213C U+2D2D is "<!--" in UTF-16LE bytes: read byte by byte, the rest would be an unclosed comment, left to the parser.
        var attributes = string.Concat(Enumerable.Range(0, 10_000).Select(i => $" xmlns:p{i}=\"u{i}\" p{i}:a=\"\""));
        var text = $"<?xml version=\"1.0\" encoding=\"UTF-16\"?><sr:Request xmlns:sr=\"http://www.dccinterface.co.uk/ServiceUserGateway\">\u213C\u2D2D<sr:Header/><sr:Body><sr:X{attributes}/></sr:Body></sr:Request>";

        Assert.StartsWith("a DUIS request is UTF-8 encoded", DuisRequestShape.Refusal([.. Encoding.Unicode.GetPreamble(), .. Encoding.Unicode.GetBytes(text)]), StringComparison.Ordinal);
        Assert.StartsWith("a DUIS request is UTF-8 encoded", DuisRequestShape.Refusal(Encoding.Unicode.GetBytes(text)), StringComparison.Ordinal);
    }

    [Property(MaxTest = 300)]
    public Property Whatever_the_bytes_the_scan_ends_with_an_answer(byte[] bytes, NonNegativeInt cut)
    {
        // Unterminated tags, comments and sections, or a DTD, are left to the parser: the scan never throws.
        var text = Request[..(cut.Get % Request.Length)] + Encoding.UTF8.GetString(bytes ?? []);
        var refusal = DuisRequestShape.Refusal(Utf8(text));
        return (refusal is null || refusal.StartsWith("a DUIS request", StringComparison.Ordinal)).ToProperty();
    }

    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);
}
