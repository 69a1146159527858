using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Xml;
using System.Xml.Linq;
using OpenDcc.Core.Catalogue;
using OpenDcc.Core.Duis;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Security;
using static OpenDcc.Core.Tests.Security.TestCertificates;

namespace OpenDcc.Core.Tests.Security;

/// <summary>
/// Adversarial probes of the request signature: a validly signed request, altered after signing, either fails
/// verification or reads (RequestID, command variant, SRV, body) exactly as it was signed.
/// </summary>
public class DuisSignatureWrappingTests
{
    private const string Sr = "http://www.dccinterface.co.uk/ServiceUserGateway";

    private static readonly Eui64 Meter = Eui64.Parse("00-DB-12-34-56-78-90-A0");

    private static readonly X509Certificate2 SupplierXmlSign = Issue(Supplier, RemotePartyRole.XmlSign);

    private static readonly XmlSignatureKey SupplierKey = XmlSignatureKey.ForVerifying(SupplierXmlSign);

    /// <summary>2.2 Top Up Device with a UTRN, CV 1, counter 1000.</summary>
    private static readonly string Signed = Encoding.UTF8.GetString(DuisSignature.Sign(
        DuisRequestWriter.Write(new RequestId(Supplier, Meter, 1000), 1, ServiceCatalogue.Duis["2.2"], new XElement(DuisNamespaces.Sr + "UTRN", "12345678901234567890")),
        SupplierXmlSign));

    private const string Id = "90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A0:1000";

    /// <summary>Each alteration, and what verification makes of it (null: it still verifies).</summary>
    private static readonly Dictionary<string, (Func<string, string> Alter, SignatureFailure? Expected)> Alterations = new()
    {
        // Only what canonicalization erases may change: these verify, and must read as signed.
        ["comment inside the RequestID counter"] = (s => s.Replace(":1000<", ":10<!-- 99 -->00<", StringComparison.Ordinal), null),
        ["RequestID as CDATA"] = (s => s.Replace($">{Id}<", $"><![CDATA[{Id}]]><", StringComparison.Ordinal), null),
        ["character references in the RequestID"] = (s => s.Replace($">{Id}<", $">&#x39;0-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A0:1&#48;00<", StringComparison.Ordinal), null),
        ["whitespace between header elements"] = (s => s.Replace("><sr:", ">\n  <sr:", StringComparison.Ordinal), null),
        ["whitespace by character reference between elements"] = (s => s.Replace("<sr:CommandVariant>", "&#32;&#x9;<sr:CommandVariant>", StringComparison.Ordinal), null),
        ["comment between header elements"] = (s => s.Replace("<sr:CommandVariant>", "<!-- x --><sr:CommandVariant>", StringComparison.Ordinal), null),
        ["comment before the root"] = (s => s.Replace("?><sr:Request", "?><!-- x --><sr:Request", StringComparison.Ordinal), null),
        ["signature moved between header and body"] = (MoveSignatureBeforeBody, null),
        ["redundant redeclaration of sr on the header"] = (s => s.Replace("<sr:Header>", $"<sr:Header xmlns:sr=\"{Sr}\">", StringComparison.Ordinal), null),
        ["attributes of the root in another order"] = (s => s.Replace($"<sr:Request xmlns:sr=\"{Sr}\" schemaVersion=\"5.1\">", $"<sr:Request schemaVersion='5.1'  xmlns:sr='{Sr}'>", StringComparison.Ordinal), null),
        ["UTF-8 byte order mark"] = (s => "\uFEFF" + s, null),
        ["no XML declaration"] = (s => s[s.IndexOf("?>", StringComparison.Ordinal)..][2..], null),
        ["empty element written with an end tag or self-closed"] = (s => s.Replace("<ds:Transform Algorithm=\"http://www.w3.org/2000/09/xmldsig#enveloped-signature\" />", "<ds:Transform Algorithm=\"http://www.w3.org/2000/09/xmldsig#enveloped-signature\"></ds:Transform>", StringComparison.Ordinal), null),

        // Anything else is a bad digest (or a structural refusal), wherever it is.
        ["whitespace inside the RequestID"] = (s => s.Replace($">{Id}<", $"> {Id} <", StringComparison.Ordinal), SignatureFailure.BadDigest),
        ["CR LF inside the UTRN"] = (s => s.Replace(">12345678901234567890<", ">12345678901234567890\r\n<", StringComparison.Ordinal), SignatureFailure.BadDigest),
        ["processing instruction inside the RequestID"] = (s => s.Replace(":1000<", ":10<?x 99?>00<", StringComparison.Ordinal), SignatureFailure.BadDigest),
        ["processing instruction before the root"] = (s => s.Replace("?><sr:Request", "?><?x y?><sr:Request", StringComparison.Ordinal), SignatureFailure.BadDigest),
        ["second header after the body"] = (s => s.Replace("</sr:Body>", $"</sr:Body><sr:Header><sr:RequestID>{Id.Replace(":1000", ":2000", StringComparison.Ordinal)}</sr:RequestID></sr:Header>", StringComparison.Ordinal), SignatureFailure.BadDigest),
        ["second header before the first"] = (s => s.Replace("<sr:Header>", $"<sr:Header><sr:RequestID>{Id.Replace(":1000", ":2000", StringComparison.Ordinal)}</sr:RequestID></sr:Header><sr:Header>", StringComparison.Ordinal), SignatureFailure.BadDigest),
        ["second RequestID first in the header"] = (s => s.Replace("<sr:Header>", $"<sr:Header><sr:RequestID>{Id.Replace(":1000", ":2000", StringComparison.Ordinal)}</sr:RequestID>", StringComparison.Ordinal), SignatureFailure.BadDigest),
        ["header moved into another namespace"] = (s => s.Replace("<sr:Header>", "<x:Header xmlns:x=\"urn:x\">", StringComparison.Ordinal).Replace("</sr:Header>", "</x:Header>", StringComparison.Ordinal), SignatureFailure.BadDigest),
        ["sr prefix renamed"] = (s => s.Replace("sr:", "dcc:", StringComparison.Ordinal).Replace("xmlns:sr=", "xmlns:dcc=", StringComparison.Ordinal), SignatureFailure.BadDigest),
        ["sr as the default namespace"] = (s => s.Replace("sr:", "", StringComparison.Ordinal).Replace("xmlns:sr=", "xmlns=", StringComparison.Ordinal), SignatureFailure.BadDigest),
        ["sr rebound on the header"] = (s => s.Replace("<sr:Header>", "<sr:Header xmlns:sr=\"urn:other\">", StringComparison.Ordinal), SignatureFailure.BadDigest),
        ["xml:lang on the header"] = (s => s.Replace("<sr:Header>", "<sr:Header xml:lang=\"en\">", StringComparison.Ordinal), SignatureFailure.BadDigest),
        ["xml:base on the body"] = (s => s.Replace("<sr:Body>", "<sr:Body xml:base=\"http://x/\">", StringComparison.Ordinal), SignatureFailure.BadDigest),
        ["xml:space preserve with whitespace"] = (s => s.Replace("<sr:Header>", "<sr:Header xml:space=\"preserve\"> ", StringComparison.Ordinal), SignatureFailure.BadDigest),
        ["signature inside the header"] = (s => MoveSignatureBeforeBody(s).Replace("</sr:Header><ds:Signature", "<ds:Signature", StringComparison.Ordinal).Replace("</ds:Signature><sr:Body>", "</ds:Signature></sr:Header><sr:Body>", StringComparison.Ordinal), SignatureFailure.InvalidStructure),
        ["second signature in the body"] = (s => s.Replace("<sr:Body>", "<sr:Body>" + SignatureOf(s), StringComparison.Ordinal), SignatureFailure.InvalidStructure),
        ["signed document wrapped in a new root"] = (s => "<sr:Request xmlns:sr=\"" + Sr + "\" schemaVersion=\"5.1\"><sr:Header><sr:RequestID>" + Id.Replace(":1000", ":2000", StringComparison.Ordinal) + "</sr:RequestID></sr:Header><sr:Body>" + s[(s.IndexOf("?>", StringComparison.Ordinal) + 2)..] + "</sr:Body></sr:Request>", SignatureFailure.InvalidStructure),
    };

    public static TheoryData<string> AlterationNames => [.. Alterations.Keys];

    [Fact]
    public async Task The_request_as_signed_verifies_and_reads()
    {
        var document = DuisSignature.Load(Encoding.UTF8.GetBytes(Signed));
        Assert.IsType<SignatureCheck.Valid>(await DuisSignature.VerifyAsync(document, Resolve, CancellationToken.None));
        Assert.Equal((Id, 1, "2.2", "12345678901234567890"), Read(Signed));
    }

    [Theory]
    [MemberData(nameof(AlterationNames))]
    public async Task An_alteration_after_signing_fails_verification_or_reads_as_signed(string alteration)
    {
        var (alter, expected) = Alterations[alteration];
        var altered = alter(Signed);
        Assert.NotEqual(Signed, altered);

        var check = await DuisSignature.VerifyAsync(DuisSignature.Load(Encoding.UTF8.GetBytes(altered)), Resolve, CancellationToken.None);

        if (expected is { } failure)
        {
            Assert.Equal(failure, Assert.IsType<SignatureCheck.Invalid>(check).Failure);
        }
        else
        {
            Assert.IsType<SignatureCheck.Valid>(check);
            Assert.Equal((Id, 1, "2.2", "12345678901234567890"), Read(altered));
        }
    }

    [Fact]
    public async Task Comments_added_to_the_body_after_signing_verify_and_reach_the_body_text_but_not_its_values()
    {
        // C14N without comments: a comment is no part of what is signed, so one added in transit verifies. The values
        // read from the body are the same; the body's text (handed to adapters) carries the comment.
        var altered = Signed.Replace(">12345678901234567890<", ">1234567890<!-- injected -->1234567890<", StringComparison.Ordinal);
        var document = DuisSignature.Load(Encoding.UTF8.GetBytes(altered));
        Assert.True(DuisRequestReader.TryRead(document, ServiceCatalogue.Duis, out var request, out _));
        Assert.IsType<SignatureCheck.Valid>(await DuisSignature.VerifyAsync(document, Resolve, CancellationToken.None));
        Assert.Equal("12345678901234567890", request.Body.Element(DuisNamespaces.Sr + "UTRN")!.Value);
        Assert.Contains("injected", request.Body.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Whitespace_added_to_mixed_content_after_signing_verifies_and_changes_the_elements_text()
    {
        // Whitespace-only text beside child elements is dropped before digesting. DUIS has no mixed content, so a
        // request as a DUIS client signs it has none; were an element to hold text and elements both, whitespace added
        // between a comment and a child element would change its text without changing the digest.
        var mixed = Encoding.UTF8.GetString(DuisSignature.Sign(
            DuisRequestWriter.Write(new RequestId(Supplier, Meter, 1000), 1, ServiceCatalogue.Duis["2.2"], new XElement(DuisNamespaces.Sr + "UTRN", "1234567890", new XElement(DuisNamespaces.Sr + "X"))),
            SupplierXmlSign));
        var altered = mixed.Replace(">1234567890<sr:X", ">1234567890<!----> <sr:X", StringComparison.Ordinal);
        var document = DuisSignature.Load(Encoding.UTF8.GetBytes(altered));
        Assert.True(DuisRequestReader.TryRead(document, ServiceCatalogue.Duis, out var request, out _));
        Assert.IsType<SignatureCheck.Valid>(await DuisSignature.VerifyAsync(document, Resolve, CancellationToken.None));
        Assert.Equal("1234567890 ", request.Body.Element(DuisNamespaces.Sr + "UTRN")!.Value);
    }

    [Theory]
    [InlineData("")]
    [InlineData("=")]
    [InlineData(",")]
    [InlineData("+")]
    [InlineData("CN=")]
    [InlineData("CN=a+")]
    [InlineData("CN=a,,OU=b")]
    [InlineData("CN=\"unterminated")]
    [InlineData("CN=#zz")]
    [InlineData("CN=#04")]
    [InlineData("CN=#0400")]
    [InlineData("OID.1.2.3=#0101FF")]
    [InlineData("1.2.840.113549.1.9.1=#1603616263")]
    [InlineData("99999999999999999999999999=x")]
    [InlineData("CN=a;OU=b")]
    [InlineData("CN=\\")]
    [InlineData("CN=\\zz")]
    [InlineData("CN=\uD83D\uDE00")]
    [InlineData("cn=test oca")]
    public async Task Any_issuer_name_is_refused_or_looked_up_never_thrown(string issuerName)
    {
        var altered = System.Text.RegularExpressions.Regex.Replace(Signed, "<ds:X509IssuerName>[^<]*</ds:X509IssuerName>", $"<ds:X509IssuerName>{System.Security.SecurityElement.Escape(issuerName)}</ds:X509IssuerName>");
        Assert.NotEqual(Signed, altered);
        var check = await DuisSignature.VerifyAsync(Encoding.UTF8.GetBytes(altered), Resolve, CancellationToken.None);
        Assert.Contains(Assert.IsType<SignatureCheck.Invalid>(check).Failure, new[] { SignatureFailure.InvalidStructure, SignatureFailure.UnknownCertificate });
    }

    [Theory]
    [InlineData("000{0}", null)]
    [InlineData("+{0}", SignatureFailure.InvalidStructure)]
    [InlineData("-{0}", SignatureFailure.InvalidStructure)]
    [InlineData(" {0} ", null)]
    [InlineData("{0}.0", SignatureFailure.InvalidStructure)]
    [InlineData("0x{0}", SignatureFailure.InvalidStructure)]
    [InlineData("{0}0", SignatureFailure.UnknownCertificate)]
    public async Task Serial_number_spellings(string spelling, SignatureFailure? expected)
    {
        var serial = OrganisationCertificate.FromX509(SupplierXmlSign).SerialNumber;
        var altered = Signed.Replace($">{serial}<", ">" + string.Format(System.Globalization.CultureInfo.InvariantCulture, spelling, serial) + "<", StringComparison.Ordinal);
        Assert.NotEqual(Signed, altered);
        var check = await DuisSignature.VerifyAsync(Encoding.UTF8.GetBytes(altered), Resolve, CancellationToken.None);
        if (expected is { } failure)
        {
            Assert.Equal(failure, Assert.IsType<SignatureCheck.Invalid>(check).Failure);
        }
        else
        {
            Assert.IsType<SignatureCheck.Valid>(check);
        }
    }

    [Fact]
    public async Task With_an_exclusive_c14n_reference_unused_namespace_declarations_may_change_and_nothing_read_does()
    {
        // Exclusive C14N renders only the namespaces an element visibly uses: declarations nothing uses are not signed.
        // The reader resolves no prefixes in content (no xsi:type, no QName values), so they change nothing it reads.
        EcdsaSha256SignatureDescription.Register();
        var document = new XmlDocument { PreserveWhitespace = true };
        document.LoadXml(Encoding.UTF8.GetString(DuisRequestWriter.Write(new RequestId(Supplier, Meter, 1000), 1, ServiceCatalogue.Duis["2.2"], new XElement(DuisNamespaces.Sr + "UTRN", "12345678901234567890"))));
        using var key = SupplierXmlSign.GetECDsaPrivateKey()!;
        var signedXml = new System.Security.Cryptography.Xml.SignedXml(document) { SigningKey = key };
        signedXml.SignedInfo!.CanonicalizationMethod = System.Security.Cryptography.Xml.SignedXml.XmlDsigExcC14NTransformUrl;
        signedXml.SignedInfo.SignatureMethod = DuisSignature.SignatureMethod;
        var reference = new System.Security.Cryptography.Xml.Reference("") { DigestMethod = DuisSignature.DigestMethod };
        reference.AddTransform(new System.Security.Cryptography.Xml.XmlDsigEnvelopedSignatureTransform());
        reference.AddTransform(new System.Security.Cryptography.Xml.XmlDsigExcC14NTransform());
        signedXml.AddReference(reference);
        var keyInfo = new System.Security.Cryptography.Xml.KeyInfoX509Data();
        keyInfo.AddIssuerSerial(SupplierXmlSign.Issuer, SupplierXmlSign.SerialNumber);
        signedXml.KeyInfo.AddClause(keyInfo);
        signedXml.ComputeSignature();
        document.DocumentElement!.AppendChild(document.ImportNode(signedXml.GetXml(), deep: true));

        var altered = document.OuterXml.Replace("<sr:Header>", "<sr:Header xmlns:unused=\"urn:evil\" xmlns:xsi=\"urn:not-xsi\">", StringComparison.Ordinal);
        Assert.NotEqual(document.OuterXml, altered);
        Assert.IsType<SignatureCheck.Valid>(await DuisSignature.VerifyAsync(DuisSignature.Load(Encoding.UTF8.GetBytes(altered)), Resolve, CancellationToken.None));
        Assert.Equal((Id, 1, "2.2", "12345678901234567890"), Read(altered));

        // Rebinding a prefix that is used is still a bad digest.
        var rebound = document.OuterXml.Replace("<sr:Header>", "<sr:Header xmlns:sr=\"urn:other\">", StringComparison.Ordinal);
        Assert.Equal(SignatureFailure.BadDigest, Assert.IsType<SignatureCheck.Invalid>(await DuisSignature.VerifyAsync(Encoding.UTF8.GetBytes(rebound), Resolve, CancellationToken.None)).Failure);
    }

    [Fact]
    public async Task An_attribute_value_with_tab_line_feed_and_carriage_return_signs_and_verifies_as_it_was()
    {
        // A parser normalizes literal TAB, LF and CR in attribute values to spaces: the signed message must carry them as
        // character references for the receiver to digest what was signed.
        var document = DuisSignature.Load(DuisRequestWriter.Write(new RequestId(Supplier, Meter, 1000), 1, ServiceCatalogue.Duis["2.2"], new XElement(DuisNamespaces.Sr + "UTRN", "12345678901234567890")));
        ((XmlElement)document.GetElementsByTagName("UTRN", Sr)[0]!).SetAttribute("note", "a\tb\nc\rd  e");
        using var signingKey = XmlSignatureKey.ForSigning(SupplierXmlSign);
        var signed = DuisSignature.Sign(document, signingKey);
        var check = await DuisSignature.VerifyAsync(signed, Resolve, CancellationToken.None);
        Assert.Equal("a\tb\nc\rd  e", ((XmlElement)Assert.IsType<SignatureCheck.Valid>(check).Document.GetElementsByTagName("UTRN", Sr)[0]!).GetAttribute("note"));
    }

    [Theory]
    [InlineData("<r xml:lang=\"en\"><a xml:space=\"preserve\" xml:base=\"http://x/\"> <b/> </a></r>")]
    [InlineData("<r xmlns=\"urn:d\"><a xmlns=\"\"><b xmlns=\"urn:d\"/></a></r>")]
    [InlineData("<p:r xmlns:p=\"urn:p\" xmlns:q=\"urn:q\"><p:a xmlns:p=\"urn:p\" q:x=\"1\"><q:b xmlns:q=\"urn:other\"/></p:a></p:r>")]
    [InlineData("<r b=\"2\" a=\"1\" xmlns:z=\"urn:a\" xmlns:y=\"urn:b\" z:c=\"3\" y:c=\"4\"/>")]
    [InlineData("<r><xml:a xml:lang=\"x\"/></r>")]
    public void Canonical_forms_of_namespace_and_xml_attribute_edge_cases_match_the_dotnet_transforms(string xml)
    {
        var document = new XmlDocument { PreserveWhitespace = true };
        document.LoadXml(xml);
        Assert.Equal(Transformed(new System.Security.Cryptography.Xml.XmlDsigC14NTransform(), document), XmlCanonicalizer.Document(document, exclusive: false));
        Assert.Equal(Transformed(new System.Security.Cryptography.Xml.XmlDsigExcC14NTransform(), document), XmlCanonicalizer.Document(document, exclusive: true));
    }

    private static string Transformed(System.Security.Cryptography.Xml.Transform transform, XmlDocument document)
    {
        transform.LoadInput(document);
        using var stream = (Stream)transform.GetOutput(typeof(Stream));
        return new StreamReader(stream, Encoding.UTF8).ReadToEnd();
    }

    private static ValueTask<XmlSignatureKey?> Resolve(string issuer, string serial, CancellationToken cancellationToken)
    {
        var certificate = OrganisationCertificate.FromX509(SupplierXmlSign);
        return ValueTask.FromResult(issuer == certificate.IssuerName && serial == certificate.SerialNumber ? SupplierKey : null);
    }

    /// <summary>RequestID, command variant, SRV and UTRN as the gateway reads them.</summary>
    private static (string, int, string, string?) Read(string xml)
    {
        var document = DuisSignature.Load(Encoding.UTF8.GetBytes(xml));
        Assert.True(DuisRequestReader.TryRead(document, ServiceCatalogue.Duis, out var request, out var failure), failure?.Reason);
        return (request.RequestId.ToString(), request.CommandVariant, request.Variant.Id, request.Body.Element(DuisNamespaces.Sr + "UTRN")?.Value);
    }

    private static string SignatureOf(string signed)
    {
        var start = signed.IndexOf("<ds:Signature", StringComparison.Ordinal);
        var end = signed.IndexOf("</ds:Signature>", StringComparison.Ordinal) + "</ds:Signature>".Length;
        return signed[start..end];
    }

    private static string MoveSignatureBeforeBody(string signed)
    {
        var signature = SignatureOf(signed);
        return signed.Replace(signature, "", StringComparison.Ordinal).Replace("<sr:Body>", signature + "<sr:Body>", StringComparison.Ordinal);
    }
}
