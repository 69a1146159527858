using System.Numerics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Security.Cryptography.Xml;
using System.Text;
using System.Xml;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using NodaTime;
using NodaTime.Testing;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Security;
using static OpenDcc.Core.Tests.Security.TestCertificates;

namespace OpenDcc.Core.Tests.Security;

/// <summary>The XML signature on DUIS messages (duis-and-dcc.md §1.7), in the DCC Boxed signing tool's form.</summary>
public class DuisSignatureTests
{
    private const string Ds = DuisSignature.XmlDsigNamespace;

    private const string UnsignedRequest =
        """<?xml version="1.0" encoding="UTF-8"?><sr:Request xmlns:sr="http://www.dccinterface.co.uk/ServiceUserGateway" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" schemaVersion="5.4">"""
        + "<sr:Header><sr:RequestID>90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A0:1000</sr:RequestID><sr:CommandVariant>1</sr:CommandVariant>"
        + "<sr:ServiceReference>4.1</sr:ServiceReference><sr:ServiceReferenceVariant>4.1.1</sr:ServiceReferenceVariant></sr:Header>"
        + "<sr:Body><sr:ReadInstantaneousImportRegisters/></sr:Body></sr:Request>";

    /// <summary>
    /// A request as the DCC Boxed signing tool signed it (supplier XmlSign key of the ZAZ1 test PKI, issuer
    /// CN=Z1,OU=07); its SignatureValue is wrapped with &amp;#13; as Java writes base64.
    /// </summary>
    private const string ToolSignedRequest =
        """<?xml version="1.0" encoding="UTF-8" standalone="no"?><sr:Request xmlns:sr="http://www.dccinterface.co.uk/ServiceUserGateway" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" schemaVersion="5.4">"""
        + "<sr:Header><sr:RequestID>90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A0:1795906100263</sr:RequestID><sr:CommandVariant>1</sr:CommandVariant>"
        + "<sr:ServiceReference>4.1</sr:ServiceReference><sr:ServiceReferenceVariant>4.1.1</sr:ServiceReferenceVariant></sr:Header>"
        + "<sr:Body><sr:ReadInstantaneousImportRegisters/></sr:Body><ds:Signature><ds:SignedInfo>"
        + """<ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/><ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"/>"""
        + """<ds:Reference URI=""><ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/></ds:Transforms>"""
        + """<ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue>lyfl5QgU3tonWdAV6XcdhGPdb8NOiUWFKbr1llFdS1U=</ds:DigestValue></ds:Reference></ds:SignedInfo>"""
        + "<ds:SignatureValue>4g1rQl+h/fHTTxljTKi1bnVqE6QveVgXBSZimxvdUt7FhvaP6RtE6tG4VheOhDSpmlMKKIPijsOI&#13;\nu+z3FbLEGA==</ds:SignatureValue>"
        + "<ds:KeyInfo><ds:X509Data><ds:X509IssuerSerial><ds:X509IssuerName>CN=Z1,OU=07</ds:X509IssuerName>"
        + "<ds:X509SerialNumber>27572613927499351639968579586655397031</ds:X509SerialNumber></ds:X509IssuerSerial></ds:X509Data></ds:KeyInfo></ds:Signature></sr:Request>";

    private static readonly Eui64 OtherSupplier = Eui64.Parse("90-B3-D5-1F-30-02-00-00");

    private static readonly X509Certificate2 SupplierXmlSign = Issue(Supplier, RemotePartyRole.XmlSign);

    private static readonly XmlSignatureKey SupplierSigningKey = XmlSignatureKey.ForSigning(SupplierXmlSign);

    private static readonly X509Certificate2 OtherXmlSign = Issue(OtherSupplier, RemotePartyRole.XmlSign);

    private static readonly X509Certificate2 DspXmlSign = Issue(Dsp, RemotePartyRole.DspXmlSign);

    /// <summary>Looks certificates up the way the gateway will: by the issuer and serial an <see cref="OrganisationCertificate"/> stores.</summary>
    private static readonly SignerCertificateResolver Known = Resolver(SupplierXmlSign, OtherXmlSign, DspXmlSign);

    /// <summary>Same subject and issuer as <see cref="SupplierXmlSign"/>, another key and serial.</summary>
    private static readonly X509Certificate2 SupplierXmlSignWithAnotherSerial = Issue(Supplier, RemotePartyRole.XmlSign);

    private static readonly byte[] SignedRequest = DuisSignature.Sign(Utf8(UnsignedRequest), SupplierXmlSign);

    /// <summary>Text for the property: markup characters, CR, tab, line and non-breaking separators, non-ASCII.</summary>
    private const string TextCharacters = "abcXYZ019 \t\n\r<>&\"'=;#éß€\u00A0\u2028";

    [Theory]
    [InlineData(65)]
    [InlineData(100_000)]
    public void Loading_refuses_elements_nested_deeper_than_64(int depth)
    {
        var nested = string.Concat(Enumerable.Repeat("<a>", depth - 1)) + "<b/>" + string.Concat(Enumerable.Repeat("</a>", depth - 1));
        var error = Assert.Throws<XmlException>(() => DuisSignature.Load(Utf8(nested)));
        Assert.Equal("elements are nested deeper than 64", error.Message);
    }

    [Fact]
    public void Loading_takes_64_levels_and_any_number_of_elements_beside_each_other()
    {
        // The root, 62 levels of a (each followed by a sibling c), and b at the 64th level.
        var deepest = "<r>" + string.Concat(Enumerable.Repeat("<a>x<!-- c --> ", 62)) + "<b/>" + string.Concat(Enumerable.Repeat("</a><c/>", 62)) + "</r>";
        Assert.Single(DuisSignature.Load(Utf8(deepest)).GetElementsByTagName("b").Cast<XmlElement>());
        var wide = "<r>" + string.Concat(Enumerable.Repeat("<a><b/></a>", 10_000)) + "</r>";
        Assert.Equal(10_000, DuisSignature.Load(Utf8(wide)).DocumentElement!.ChildNodes.Count);
    }

    [Fact]
    public async Task Signed_request_verifies_with_the_signers_certificate()
    {
        var signed = DuisSignature.Sign(Utf8(UnsignedRequest), SupplierXmlSign);

        var check = await DuisSignature.VerifyAsync(signed, Known, CancellationToken.None);

        var valid = Assert.IsType<SignatureCheck.Valid>(check);
        Assert.Equal(SupplierXmlSign.Thumbprint, valid.Signer.Thumbprint);
        Assert.Equal("Request", valid.Document.DocumentElement!.LocalName);
    }

    [Fact]
    public void Signature_is_the_last_child_of_the_root_with_the_ds_prefix_and_the_duis_algorithms()
    {
        var signed = DuisSignature.Sign(Utf8(UnsignedRequest), DspXmlSign);
        var document = Parse(signed);

        Assert.StartsWith("""<?xml version="1.0" encoding="UTF-8"?><sr:Request""", Encoding.UTF8.GetString(signed), StringComparison.Ordinal);
        var signature = Assert.IsType<XmlElement>(document.DocumentElement!.LastChild);
        Assert.Equal(("Signature", Ds), (signature.LocalName, signature.NamespaceURI));
        Assert.All(signature.SelectNodes("descendant-or-self::*")!.Cast<XmlElement>(), e => Assert.Equal(("ds", Ds), (e.Prefix, e.NamespaceURI)));
        var ns = Namespaces(document);
        Assert.Equal("http://www.w3.org/2001/10/xml-exc-c14n#", Value(signature, "ds:SignedInfo/ds:CanonicalizationMethod/@Algorithm", ns));
        Assert.Equal("http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256", Value(signature, "ds:SignedInfo/ds:SignatureMethod/@Algorithm", ns));
        Assert.Equal("", Value(signature, "ds:SignedInfo/ds:Reference/@URI", ns));
        Assert.Equal("http://www.w3.org/2000/09/xmldsig#enveloped-signature", Assert.Single(signature.SelectNodes("ds:SignedInfo/ds:Reference/ds:Transforms/ds:Transform/@Algorithm", ns)!.Cast<XmlNode>()).Value);
        Assert.Equal("http://www.w3.org/2001/04/xmlenc#sha256", Value(signature, "ds:SignedInfo/ds:Reference/ds:DigestMethod/@Algorithm", ns));
        Assert.Equal(32, Convert.FromBase64String(Value(signature, "ds:SignedInfo/ds:Reference/ds:DigestValue", ns)).Length);
        Assert.Equal(64, Convert.FromBase64String(Value(signature, "ds:SignatureValue", ns)).Length);
        var organisation = OrganisationCertificate.FromX509(DspXmlSign);
        Assert.Equal("CN=Test OCA,OU=07", Value(signature, "ds:KeyInfo/ds:X509Data/ds:X509IssuerSerial/ds:X509IssuerName", ns));
        Assert.Equal(organisation.SerialNumber, Value(signature, "ds:KeyInfo/ds:X509Data/ds:X509IssuerSerial/ds:X509SerialNumber", ns));
    }

    [Fact]
    public async Task Signing_again_replaces_the_previous_signature()
    {
        var once = DuisSignature.Sign(Utf8(UnsignedRequest), SupplierXmlSign);

        var twice = DuisSignature.Sign(once, OtherXmlSign);

        Assert.Equal(1, Parse(twice).GetElementsByTagName("Signature", Ds).Count);
        var valid = Assert.IsType<SignatureCheck.Valid>(await DuisSignature.VerifyAsync(twice, Known, CancellationToken.None));
        Assert.Equal(OtherXmlSign.Thumbprint, valid.Signer.Thumbprint);
    }

    [Fact]
    public async Task Changing_one_byte_of_content_is_a_bad_digest()
    {
        var signed = Encoding.UTF8.GetString(DuisSignature.Sign(Utf8(UnsignedRequest), SupplierXmlSign));

        var tampered = signed.Replace(":1000<", ":1001<", StringComparison.Ordinal);

        Assert.NotEqual(signed, tampered);
        Assert.Equal(SignatureFailure.BadDigest, await FailureOf(Utf8(tampered)));
    }

    [Fact]
    public async Task Changing_the_signature_value_is_a_bad_signature()
    {
        var document = Parse(DuisSignature.Sign(Utf8(UnsignedRequest), SupplierXmlSign));
        var value = (XmlElement)document.GetElementsByTagName("SignatureValue", Ds)[0]!;
        var bytes = Convert.FromBase64String(value.InnerText);
        bytes[10] ^= 0x01;
        value.InnerText = Convert.ToBase64String(bytes);

        Assert.Equal(SignatureFailure.BadSignature, await FailureOf(document));
    }

    [Fact]
    public async Task Truncated_signature_value_is_a_bad_signature()
    {
        var document = Parse(DuisSignature.Sign(Utf8(UnsignedRequest), SupplierXmlSign));
        var value = (XmlElement)document.GetElementsByTagName("SignatureValue", Ds)[0]!;
        value.InnerText = Convert.ToBase64String(Convert.FromBase64String(value.InnerText)[..63]);

        Assert.Equal(SignatureFailure.BadSignature, await FailureOf(document));
    }

    [Fact]
    public async Task Unknown_issuer_and_serial_is_an_unknown_certificate()
    {
        var signed = DuisSignature.Sign(Utf8(UnsignedRequest), SupplierXmlSign);

        var check = await DuisSignature.VerifyAsync(signed, Resolver(OtherXmlSign, DspXmlSign), CancellationToken.None);

        var invalid = Assert.IsType<SignatureCheck.Invalid>(check);
        Assert.Equal(SignatureFailure.UnknownCertificate, invalid.Failure);
        Assert.Contains(OrganisationCertificate.FromX509(SupplierXmlSign).SerialNumber, invalid.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_serial_number_or_issuer_name_longer_than_any_certificate_has_is_refused_unparsed_and_leading_zeros_are_read()
    {
        var serial = OrganisationCertificate.FromX509(SupplierXmlSign).SerialNumber;
        var signed = Encoding.UTF8.GetString(DuisSignature.Sign(Utf8(UnsignedRequest), SupplierXmlSign));
        Assert.Contains($">{serial}<", signed, StringComparison.Ordinal);

        var padded = Utf8(signed.Replace($">{serial}<", $">{serial.PadLeft(64, '0')}<", StringComparison.Ordinal));
        Assert.IsType<SignatureCheck.Valid>(await DuisSignature.VerifyAsync(padded, Known, CancellationToken.None));

        var longSerial = Utf8(signed.Replace($">{serial}<", $">{new string('9', 1_000_000)}<", StringComparison.Ordinal));
        var invalid = Assert.IsType<SignatureCheck.Invalid>(await DuisSignature.VerifyAsync(longSerial, Known, CancellationToken.None));
        Assert.Equal(SignatureFailure.InvalidStructure, invalid.Failure);
        Assert.Contains("ds:X509SerialNumber has 1000000 characters", invalid.Reason, StringComparison.Ordinal);

        var longIssuer = Utf8(signed.Replace(">CN=", $">{string.Join(",", Enumerable.Range(0, 100_000).Select(i => $"OU=x{i}"))},CN=", StringComparison.Ordinal));
        invalid = Assert.IsType<SignatureCheck.Invalid>(await DuisSignature.VerifyAsync(longIssuer, Known, CancellationToken.None));
        Assert.Equal(SignatureFailure.InvalidStructure, invalid.Failure);
        Assert.Contains("ds:X509IssuerName is", invalid.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Certificate_the_resolver_returns_for_another_serial_is_not_used()
    {
        var signed = DuisSignature.Sign(Utf8(UnsignedRequest), SupplierXmlSign);

        using var anotherSerial = XmlSignatureKey.ForVerifying(SupplierXmlSignWithAnotherSerial);

        var check = await DuisSignature.VerifyAsync(signed, (_, _, _) => ValueTask.FromResult<XmlSignatureKey?>(anotherSerial), CancellationToken.None);

        Assert.Equal(SignatureFailure.UnknownCertificate, Assert.IsType<SignatureCheck.Invalid>(check).Failure);
    }

    [Fact]
    public async Task Signature_by_one_user_naming_another_users_certificate_is_a_bad_signature()
    {
        var document = Parse(DuisSignature.Sign(Utf8(UnsignedRequest), OtherXmlSign));
        var victim = OrganisationCertificate.FromX509(SupplierXmlSign);
        document.GetElementsByTagName("X509SerialNumber", Ds)[0]!.InnerText = victim.SerialNumber;

        Assert.Equal(SignatureFailure.BadSignature, await FailureOf(document));
    }

    [Fact]
    public async Task Certificate_embedded_in_key_info_is_never_used()
    {
        // The attacker signs with their own key, names the victim, and ships their own certificate alongside.
        var document = Parse(DuisSignature.Sign(Utf8(UnsignedRequest), OtherXmlSign));
        document.GetElementsByTagName("X509SerialNumber", Ds)[0]!.InnerText = OrganisationCertificate.FromX509(SupplierXmlSign).SerialNumber;
        var embedded = document.CreateElement("ds", "X509Certificate", Ds);
        embedded.InnerText = Convert.ToBase64String(OtherXmlSign.RawData);
        document.GetElementsByTagName("X509Data", Ds)[0]!.AppendChild(embedded);

        Assert.Equal(SignatureFailure.BadSignature, await FailureOf(document));
    }

    [Fact]
    public async Task Unsigned_message_is_missing_its_signature()
    {
        Assert.Equal(SignatureFailure.MissingSignature, await FailureOf(Utf8(UnsignedRequest)));
    }

    [Fact]
    public async Task Second_signature_is_rejected()
    {
        var document = Parse(DuisSignature.Sign(Utf8(UnsignedRequest), SupplierXmlSign));
        var signature = document.DocumentElement!.LastChild!;
        document.GetElementsByTagName("Body", "http://www.dccinterface.co.uk/ServiceUserGateway")[0]!.AppendChild(signature.CloneNode(deep: true));

        Assert.Equal(SignatureFailure.InvalidStructure, await FailureOf(document));
    }

    [Fact]
    public async Task Signature_below_the_root_is_rejected()
    {
        var document = Parse(DuisSignature.Sign(Utf8(UnsignedRequest), SupplierXmlSign));
        var signature = document.DocumentElement!.LastChild!;
        document.GetElementsByTagName("Body", "http://www.dccinterface.co.uk/ServiceUserGateway")[0]!.AppendChild(signature);

        Assert.Equal(SignatureFailure.InvalidStructure, await FailureOf(document));
    }

    [Theory]
    [InlineData("ds:SignedInfo/ds:Reference/@URI", "#x", SignatureFailure.InvalidStructure)]
    [InlineData("ds:SignedInfo/ds:Reference/@URI", "#xpointer(/)", SignatureFailure.InvalidStructure)]
    [InlineData("ds:SignedInfo/ds:SignatureMethod/@Algorithm", "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256", SignatureFailure.UnsupportedAlgorithm)]
    [InlineData("ds:SignedInfo/ds:SignatureMethod/@Algorithm", "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384", SignatureFailure.UnsupportedAlgorithm)]
    [InlineData("ds:SignedInfo/ds:CanonicalizationMethod/@Algorithm", "http://www.w3.org/TR/2001/REC-xml-c14n-20010315", SignatureFailure.UnsupportedAlgorithm)]
    [InlineData("ds:SignedInfo/ds:Reference/ds:DigestMethod/@Algorithm", "http://www.w3.org/2000/09/xmldsig#sha1", SignatureFailure.UnsupportedAlgorithm)]
    [InlineData("ds:SignedInfo/ds:Reference/ds:Transforms/ds:Transform/@Algorithm", "http://www.w3.org/TR/1999/REC-xslt-19991116", SignatureFailure.UnsupportedAlgorithm)]
    [InlineData("ds:KeyInfo/ds:X509Data/ds:X509IssuerSerial/ds:X509SerialNumber", "0x1234", SignatureFailure.InvalidStructure)]
    [InlineData("ds:KeyInfo/ds:X509Data/ds:X509IssuerSerial/ds:X509SerialNumber", "-5", SignatureFailure.InvalidStructure)]
    [InlineData("ds:SignatureValue", "not base64!", SignatureFailure.InvalidStructure)]
    public async Task Signature_outside_the_duis_profile_is_rejected(string path, string value, SignatureFailure failure)
    {
        var document = Parse(DuisSignature.Sign(Utf8(UnsignedRequest), SupplierXmlSign));
        document.DocumentElement!.LastChild!.SelectSingleNode(path, Namespaces(document))!.InnerText = value;

        Assert.Equal(failure, await FailureOf(document));
    }

    [Fact]
    public async Task Missing_reference_uri_is_rejected()
    {
        var document = Parse(DuisSignature.Sign(Utf8(UnsignedRequest), SupplierXmlSign));
        ((XmlElement)document.GetElementsByTagName("Reference", Ds)[0]!).RemoveAttribute("URI");

        Assert.Equal(SignatureFailure.InvalidStructure, await FailureOf(document));
    }

    [Fact]
    public async Task Extra_xpath_transform_is_rejected()
    {
        var document = Parse(DuisSignature.Sign(Utf8(UnsignedRequest), SupplierXmlSign));
        var transform = document.CreateElement("ds", "Transform", Ds);
        transform.SetAttribute("Algorithm", "http://www.w3.org/TR/1999/REC-xpath-19991116");
        transform.AppendChild(document.CreateElement("ds", "XPath", Ds))!.InnerText = "not(ancestor-or-self::sr:Body)";
        document.GetElementsByTagName("Transforms", Ds)[0]!.AppendChild(transform);

        Assert.Equal(SignatureFailure.UnsupportedAlgorithm, await FailureOf(document));
    }

    [Fact]
    public async Task Second_reference_is_rejected()
    {
        var document = Parse(DuisSignature.Sign(Utf8(UnsignedRequest), SupplierXmlSign));
        var reference = document.GetElementsByTagName("Reference", Ds)[0]!;
        reference.ParentNode!.AppendChild(reference.CloneNode(deep: true));

        Assert.Equal(SignatureFailure.InvalidStructure, await FailureOf(document));
    }

    [Fact]
    public async Task Object_inside_the_signature_is_rejected()
    {
        var document = Parse(DuisSignature.Sign(Utf8(UnsignedRequest), SupplierXmlSign));
        document.DocumentElement!.LastChild!.AppendChild(document.CreateElement("ds", "Object", Ds));

        Assert.Equal(SignatureFailure.InvalidStructure, await FailureOf(document));
    }

    [Fact]
    public async Task Document_with_a_dtd_is_malformed()
    {
        var signed = Encoding.UTF8.GetString(DuisSignature.Sign(Utf8(UnsignedRequest), SupplierXmlSign));
        var withDtd = signed.Replace(
            "?><sr:Request",
            """?><!DOCTYPE sr:Request [<!ENTITY leak SYSTEM "file:///etc/passwd">]><sr:Request""",
            StringComparison.Ordinal);

        var check = await DuisSignature.VerifyAsync(Utf8(withDtd), Known, CancellationToken.None);

        var invalid = Assert.IsType<SignatureCheck.Invalid>(check);
        Assert.Equal(SignatureFailure.Malformed, invalid.Failure);
        Assert.Contains("DTD", invalid.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("not xml")]
    [InlineData("<sr:Request>")]
    [InlineData("<a></b>")]
    [InlineData("<a/><b/>")]
    [InlineData("<a xmlns:x='urn:x'><y:b/></a>")]
    public async Task Malformed_xml_is_reported_not_thrown(string xml)
    {
        Assert.Equal(SignatureFailure.Malformed, await FailureOf(Utf8(xml)));
    }

    [Fact]
    public async Task Invalid_utf8_is_malformed()
    {
        Assert.Equal(SignatureFailure.Malformed, await FailureOf([.. "<a>"u8, 0xC3, 0x28, .. "</a>"u8]));
    }

    [Fact]
    public async Task Deeply_nested_document_is_malformed_rather_than_exhausting_the_stack()
    {
        const int depth = 100_000;
        var xml = new StringBuilder().Insert(0, "<a>", depth).Insert(depth * 3, "</a>", depth).ToString();

        Assert.Equal(SignatureFailure.Malformed, await FailureOf(Utf8(xml)));
    }

    [Property(MaxTest = 200)]
    public Property Any_truncation_of_a_signed_message_is_rejected_without_an_exception() =>
        Prop.ForAll(Gen.Choose(0, SignedRequest.Length - 1).ToArbitrary(), length =>
            Check(SignedRequest[..length]) is SignatureCheck.Invalid);

    [Property(MaxTest = 100)]
    public Property Signed_text_of_any_content_verifies_and_flipping_any_character_breaks_it() =>
        Prop.ForAll(
            (from text in Gen.NonEmptyListOf(Gen.Elements(TextCharacters.ToCharArray())).Select(cs => new string([.. cs]))
             from index in Gen.Choose(0, text.Length - 1)
             select (text, index)).ToArbitrary(),
            change =>
            {
                var (text, index) = change;
                var document = Parse(Utf8(UnsignedRequest));
                var body = document.GetElementsByTagName("ReadInstantaneousImportRegisters", "http://www.dccinterface.co.uk/ServiceUserGateway")[0]!;
                body.InnerText = text;
                var signed = DuisSignature.Sign(document, SupplierSigningKey);
                var received = Check(signed) is SignatureCheck.Valid valid
                    && valid.Document.GetElementsByTagName("ReadInstantaneousImportRegisters", "http://www.dccinterface.co.uk/ServiceUserGateway")[0]!.InnerText == text;

                var flipped = Parse(signed);
                var characters = text.ToCharArray();
                characters[index] = characters[index] == 'a' ? 'b' : 'a';
                flipped.GetElementsByTagName("ReadInstantaneousImportRegisters", "http://www.dccinterface.co.uk/ServiceUserGateway")[0]!.InnerText = new string(characters);
                var broken = Check(flipped) is SignatureCheck.Invalid { Failure: SignatureFailure.BadDigest };
                return received && broken;
            });

    [Fact]
    public async Task Whitespace_between_elements_is_not_signed_but_whitespace_in_values_is()
    {
        var pretty = UnsignedRequest.Replace("><sr:", ">\r\n  <sr:", StringComparison.Ordinal).Replace("></sr:", ">\n</sr:", StringComparison.Ordinal);
        var signed = Encoding.UTF8.GetString(DuisSignature.Sign(Utf8(pretty), SupplierXmlSign));
        Assert.DoesNotContain("\n", signed, StringComparison.Ordinal);

        var reindented = signed.Replace("><", ">\n    <", StringComparison.Ordinal);
        Assert.IsType<SignatureCheck.Valid>(await DuisSignature.VerifyAsync(Utf8(reindented), Known, CancellationToken.None));

        var paddedValue = signed.Replace("<sr:CommandVariant>1<", "<sr:CommandVariant> 1<", StringComparison.Ordinal);
        Assert.Equal(SignatureFailure.BadDigest, await FailureOf(Utf8(paddedValue)));
    }

    [Fact]
    public async Task Request_signed_by_the_dcc_tool_passes_the_digest_check()
    {
        // Without the tool's (GPL) certificate, a stand-in with the same issuer and serial: the digest the tool
        // computed must agree with ours, so only the signature itself, made by a different key, fails.
        using var z1 = CertificateAuthority.Create("Z1", new FakeClock(Now), Duration.FromDays(3650));
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(OrganisationCertificate.SubjectFor(Supplier, RemotePartyRole.XmlSign), key, HashAlgorithmName.SHA256);
        var serial = BigInteger.Parse("27572613927499351639968579586655397031", System.Globalization.CultureInfo.InvariantCulture).ToByteArray(isUnsigned: true, isBigEndian: true);
        using var standIn = request.Create(z1.Certificate, Now.ToDateTimeOffset(), Now.Plus(Duration.FromDays(1)).ToDateTimeOffset(), serial);

        var check = await DuisSignature.VerifyAsync(Utf8(ToolSignedRequest), Resolver(standIn), CancellationToken.None);

        Assert.Equal(SignatureFailure.BadSignature, Assert.IsType<SignatureCheck.Invalid>(check).Failure);
        Assert.Equal(SignatureFailure.BadDigest, await FailureOf(Utf8(ToolSignedRequest.Replace("4.1.1", "4.1.2", StringComparison.Ordinal)), Resolver(standIn)));
    }

    [Fact]
    public void Signature_verifies_with_dotnet_signed_xml()
    {
        EcdsaSha256SignatureDescription.Register();
        var document = Parse(DuisSignature.Sign(Utf8(UnsignedRequest), SupplierXmlSign));
        var signedXml = new SignedXml(document);
        signedXml.LoadXml((XmlElement)document.DocumentElement!.LastChild!);
        using var key = SupplierXmlSign.GetECDsaPublicKey()!;

        Assert.True(signedXml.CheckSignature(key));
        using var otherKey = OtherXmlSign.GetECDsaPublicKey()!;
        Assert.False(signedXml.CheckSignature(otherKey));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Signature_made_by_dotnet_signed_xml_verifies(bool exclusiveReference)
    {
        // SignedXml writes the default namespace rather than ds:, and may add exclusive C14N to the reference
        // (which digests differently: the unused xmlns:xsi on the root drops out).
        EcdsaSha256SignatureDescription.Register();
        var document = Parse(Utf8(UnsignedRequest));
        using var key = SupplierXmlSign.GetECDsaPrivateKey()!;
        var signedXml = new SignedXml(document) { SigningKey = key };
        signedXml.SignedInfo!.CanonicalizationMethod = SignedXml.XmlDsigExcC14NTransformUrl;
        signedXml.SignedInfo.SignatureMethod = DuisSignature.SignatureMethod;
        var reference = new Reference("") { DigestMethod = DuisSignature.DigestMethod };
        reference.AddTransform(new XmlDsigEnvelopedSignatureTransform());
        if (exclusiveReference)
        {
            reference.AddTransform(new XmlDsigExcC14NTransform());
        }
        signedXml.AddReference(reference);
        var keyInfo = new KeyInfoX509Data();
        keyInfo.AddIssuerSerial(SupplierXmlSign.Issuer, SupplierXmlSign.SerialNumber); // hex in, decimal out
        signedXml.KeyInfo.AddClause(keyInfo);
        signedXml.ComputeSignature();
        document.DocumentElement!.AppendChild(document.ImportNode(signedXml.GetXml(), deep: true));

        var check = await DuisSignature.VerifyAsync(document, Known, CancellationToken.None);

        Assert.Equal(SupplierXmlSign.Thumbprint, Assert.IsType<SignatureCheck.Valid>(check).Signer.Thumbprint);
    }

    [Fact]
    public void Issuer_name_in_java_and_dotnet_style_normalises_to_the_certificate_issuer()
    {
        using var z1 = CertificateAuthority.Create("Z1", new FakeClock(Now), Duration.FromDays(3650));
        using var issued = z1.Issue(Supplier, RemotePartyRole.XmlSign, null, new FakeClock(Now), Duration.FromDays(1));

        Assert.Equal("CN=Z1, OU=07", DuisSignature.NormaliseIssuerName("CN=Z1,OU=07"));
        Assert.Equal("CN=Z1, OU=07", DuisSignature.NormaliseIssuerName("CN=Z1, OU=07"));
        Assert.Equal(issued.Issuer, DuisSignature.NormaliseIssuerName("CN=Z1,OU=07"));
        Assert.Equal(OrganisationCertificate.FromX509(issued).IssuerName, DuisSignature.NormaliseIssuerName("CN=Z1,OU=07"));
        Assert.Equal("CN=Z1,OU=07", DuisSignature.FormatIssuerName(issued.IssuerName));
    }

    [Theory]
    [InlineData("Z1", "CN=Z1,OU=07")]
    [InlineData("Acme, Inc", "CN=\"Acme, Inc\",OU=07")]
    [InlineData("quote \" and plus + here", "CN=\"quote \"\" and plus + here\",OU=07")]
    public void Formatted_issuer_name_normalises_back_to_the_certificate_issuer(string commonName, string formatted)
    {
        var name = Subject(Ou("07"), CommonName(commonName));

        Assert.Equal(formatted, DuisSignature.FormatIssuerName(name));
        Assert.Equal(name.Name, DuisSignature.NormaliseIssuerName(DuisSignature.FormatIssuerName(name)));
    }

    [Fact]
    public void Signing_needs_the_private_key()
    {
        using var publicOnly = X509CertificateLoader.LoadCertificate(SupplierXmlSign.RawData);

        var error = Assert.Throws<ArgumentException>(() => DuisSignature.Sign(Utf8(UnsignedRequest), publicOnly));

        Assert.Equal("certificateWithKey", error.ParamName);
    }

    [Fact]
    public void A_key_for_verifying_cannot_sign()
    {
        using var verifying = XmlSignatureKey.ForVerifying(SupplierXmlSign);

        var error = Assert.Throws<ArgumentException>(() => DuisSignature.Sign(Utf8(UnsignedRequest), verifying));

        Assert.Equal("signer", error.ParamName);
    }

    [Fact]
    public async Task One_signing_key_signs_correctly_from_many_threads_at_once()
    {
        using var key = XmlSignatureKey.ForSigning(SupplierXmlSign);

        var signed = await Task.WhenAll(Enumerable.Range(0, 64).Select(_ => Task.Run(() => DuisSignature.Sign(Utf8(UnsignedRequest), key))));

        Assert.All(signed, s => Assert.IsType<SignatureCheck.Valid>(Check(s)));
    }

    [Fact]
    public void A_key_used_from_thread_after_thread_keeps_no_more_instances_than_were_in_use_at_once()
    {
        using var key = XmlSignatureKey.ForSigning(SupplierXmlSign);

        // As the thread pool's threads come and go under a hub that runs for months.
        for (var i = 0; i < 40; i++)
        {
            var thread = new Thread(() => DuisSignature.Sign(Utf8(UnsignedRequest), key));
            thread.Start();
            thread.Join();
        }

        Assert.Equal(1, key.InstancesMade);
        key.Dispose();
        Assert.Throws<ObjectDisposedException>(() => DuisSignature.Sign(Utf8(UnsignedRequest), key));
    }

    private static SignerCertificateResolver Resolver(params X509Certificate2[] certificates)
    {
        var byIssuerSerial = certificates
            .Select(c => (Organisation: OrganisationCertificate.FromX509(c), Key: XmlSignatureKey.ForVerifying(c)))
            .ToDictionary(e => (e.Organisation.IssuerName, e.Organisation.SerialNumber), e => e.Key);
        return (issuer, serial, _) => ValueTask.FromResult(byIssuerSerial.GetValueOrDefault((issuer, serial)));
    }

    private static async Task<SignatureFailure> FailureOf(byte[] xml, SignerCertificateResolver? resolver = null) =>
        Assert.IsType<SignatureCheck.Invalid>(await DuisSignature.VerifyAsync(xml, resolver ?? Known, CancellationToken.None)).Failure;

    private static async Task<SignatureFailure> FailureOf(XmlDocument document) =>
        Assert.IsType<SignatureCheck.Invalid>(await DuisSignature.VerifyAsync(document, Known, CancellationToken.None)).Failure;

    /// <summary>Verifies with <see cref="Known"/>, whose lookups complete at once, for the properties.</summary>
    private static SignatureCheck Check(byte[] xml) => Completed(DuisSignature.VerifyAsync(xml, Known, CancellationToken.None));

    private static SignatureCheck Check(XmlDocument document) => Completed(DuisSignature.VerifyAsync(document, Known, CancellationToken.None));

    private static SignatureCheck Completed(ValueTask<SignatureCheck> pending)
    {
        Assert.True(pending.IsCompletedSuccessfully);
        return pending.Result;
    }

    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    private static XmlDocument Parse(byte[] xml)
    {
        var document = new XmlDocument { PreserveWhitespace = true, XmlResolver = null };
        using var reader = XmlReader.Create(new MemoryStream(xml), new XmlReaderSettings { DtdProcessing = DtdProcessing.Prohibit });
        document.Load(reader);
        return document;
    }

    private static XmlNamespaceManager Namespaces(XmlDocument document)
    {
        var ns = new XmlNamespaceManager(document.NameTable);
        ns.AddNamespace("ds", Ds);
        ns.AddNamespace("sr", "http://www.dccinterface.co.uk/ServiceUserGateway");
        return ns;
    }

    private static string Value(XmlNode context, string xpath, XmlNamespaceManager ns) =>
        (context.SelectSingleNode(xpath, ns) ?? throw new InvalidOperationException($"nothing at {xpath}")).InnerText;

    [Fact]
    public void Issuer_names_sent_at_random_until_the_cache_is_full_do_not_leave_a_real_issuer_parsed_on_every_request()
    {
        for (var i = 0; i < 1_000; i++)
        {
            DuisSignature.NormaliseIssuerName($"CN=junk {i},OU=07");
        }

        // A real issuer first named after them (its first request since the hub started).
        var issuer = $"CN=Z{Guid.NewGuid():N},OU=07";
        DuisSignature.NormaliseIssuerName(issuer);

        Assert.True(DuisSignature.IsIssuerNameHeld(issuer));
    }
}
