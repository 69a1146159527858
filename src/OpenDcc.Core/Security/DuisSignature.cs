using System.Formats.Asn1;
using System.Globalization;
using System.Numerics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Xml;

namespace OpenDcc.Core.Security;

/// <summary>
/// The XML signature on every DUIS request and response (duis-and-dcc.md §1.7), in the form the DCC Boxed
/// signing tool writes and accepts: an enveloped <c>ds:Signature</c>, last child of the root, over the whole
/// document (<c>Reference URI=""</c>, enveloped-signature transform, SHA-256), SignedInfo in exclusive C14N,
/// signed ECDSA P-256 SHA-256 (<c>r || s</c>), signer named by <c>X509IssuerSerial</c>.
/// </summary>
/// <remarks>
/// <para>
/// Built by hand rather than through <c>SignedXml</c>: verification accepts only that one shape (so no
/// signature-wrapping, no URI dereferencing, no XPath/XSLT transforms, no embedded certificates) and says which check
/// failed; canonicalization is <see cref="XmlCanonicalizer"/>, which walks the parsed document once instead of
/// <c>SignedXml</c>'s serialize, reparse and copy.
/// </para>
/// <para>
/// Whitespace between elements is not signed. The DCC tool parses against the DUIS schema ignoring
/// element-content whitespace, before signing and before validating, so a pretty-printed message it signed, or
/// that it is asked to validate, is digested without that whitespace. Both directions here do the same without
/// the schema: DUIS has no mixed content, so whitespace-only text beside child elements is dropped from the
/// document (text in leaf elements is kept and signed).
/// </para>
/// </remarks>
public static class DuisSignature
{
    public const string XmlDsigNamespace = "http://www.w3.org/2000/09/xmldsig#";
    public const string CanonicalizationMethod = "http://www.w3.org/2001/10/xml-exc-c14n#";
    public const string SignatureMethod = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256";
    public const string DigestMethod = "http://www.w3.org/2001/04/xmlenc#sha256";
    public const string EnvelopedSignatureTransform = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";

    /// <summary>
    /// The largest DUIS message read: 11.1 and 11.4 carry a firmware image of up to 10,240,000 bytes inline (about
    /// 13.7 MB of base64) and a device ID list of up to 1,199,999 characters. A UTF-8 body of this many bytes has at
    /// most this many characters, so the parser's limit and the hub's body limit are one number.
    /// </summary>
    public const int MaxMessageBytes = 16 * 1024 * 1024;

    private const string Prefix = "ds";
    private const int P256SignatureLength = 64;

    /// <summary>DUIS nests about ten elements deep; far deeper input is refused before the recursive canonicalizer sees it.</summary>
    private const int MaxDepth = 64;

    private static readonly XmlReaderSettings ReaderSettings = new()
    {
        DtdProcessing = DtdProcessing.Prohibit,
        XmlResolver = null,
        IgnoreWhitespace = false,
        IgnoreComments = false,
        MaxCharactersInDocument = MaxMessageBytes,
    };

    private static readonly XmlWriterSettings WriterSettings = new()
    {
        Encoding = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false),
        OmitXmlDeclaration = true,
        // Entitize keeps every character of text and attribute values as parsed (a CR stays &#xD;), so the
        // receiver canonicalizes the very text that was digested.
        NewLineHandling = NewLineHandling.Entitize,
        Indent = false,
        CloseOutput = false,
    };

    /// <summary>
    /// Signs a DUIS message: removes any <c>ds:Signature</c> directly under the root (as the DCC tool does),
    /// appends a fresh one as the root's last child.
    /// </summary>
    /// <returns>The signed message, UTF-8 with an XML declaration.</returns>
    /// <exception cref="XmlException"><paramref name="unsignedXml"/> is not well-formed XML, has a DTD or is nested deeper than 64 elements.</exception>
    public static byte[] Sign(byte[] unsignedXml, XmlSignatureKey signer)
    {
        ArgumentNullException.ThrowIfNull(unsignedXml);
        return Sign(Load(unsignedXml), signer);
    }

    /// <summary>Signs once with a certificate; to sign many messages, make an <see cref="XmlSignatureKey"/> once.</summary>
    /// <exception cref="ArgumentException">the certificate has no ECDSA P-256 private key.</exception>
    public static byte[] Sign(byte[] unsignedXml, X509Certificate2 signerWithKey)
    {
        using var key = XmlSignatureKey.ForSigning(signerWithKey);
        return Sign(unsignedXml, key);
    }

    /// <summary>
    /// Signs <paramref name="document"/> in place (see <see cref="Sign(byte[], XmlSignatureKey)"/>; whitespace between
    /// elements is dropped as well) and serializes it.
    /// </summary>
    /// <returns>The signed message, UTF-8 with an XML declaration.</returns>
    /// <exception cref="XmlException">the document is nested deeper than 64 elements or holds an entity reference.</exception>
    /// <exception cref="ArgumentException">the document has no root or has a DTD; the key is for verifying only.</exception>
    public static byte[] Sign(XmlDocument document, XmlSignatureKey signer)
    {
        ArgumentNullException.ThrowIfNull(document);
        ArgumentNullException.ThrowIfNull(signer);
        var root = document.DocumentElement ?? throw new ArgumentException("the document has no root element", nameof(document));
        if (document.DocumentType is not null)
        {
            throw new ArgumentException("a DUIS message has no DTD", nameof(document));
        }
        if (!signer.CanSign)
        {
            throw new ArgumentException("the key is for verifying only", nameof(signer));
        }

        for (var child = root.FirstChild; child is not null;)
        {
            var next = child.NextSibling;
            if (child is XmlElement element && IsDs(element, "Signature"))
            {
                root.RemoveChild(element);
            }
            child = next;
        }
        _ = PrepareForDigest(root);
        var digest = DigestDocument(document, exclusive: false);

        // The writer declares xmlns:ds on ds:Signature unless the root already binds ds to XML-DSig, as the DCC's own templates do.
        var signature = Ds(document, "Signature");
        var signedInfo = signature.AppendChild(Ds(document, "SignedInfo"))!;
        signedInfo.AppendChild(Ds(document, "CanonicalizationMethod", "Algorithm", CanonicalizationMethod));
        signedInfo.AppendChild(Ds(document, "SignatureMethod", "Algorithm", SignatureMethod));
        var reference = signedInfo.AppendChild(Ds(document, "Reference", "URI", ""))!;
        reference.AppendChild(Ds(document, "Transforms"))!
            .AppendChild(Ds(document, "Transform", "Algorithm", EnvelopedSignatureTransform));
        reference.AppendChild(Ds(document, "DigestMethod", "Algorithm", DigestMethod));
        reference.AppendChild(Ds(document, "DigestValue"))!.InnerText = Convert.ToBase64String(digest);
        var signatureValue = signature.AppendChild(Ds(document, "SignatureValue"))!;
        var issuerSerial = signature.AppendChild(Ds(document, "KeyInfo"))!
            .AppendChild(Ds(document, "X509Data"))!
            .AppendChild(Ds(document, "X509IssuerSerial"))!;
        issuerSerial.AppendChild(Ds(document, "X509IssuerName"))!.InnerText = signer.X509IssuerName;
        issuerSerial.AppendChild(Ds(document, "X509SerialNumber"))!.InnerText = signer.SerialNumber;

        // SignedInfo is signed with its final prefixes: renaming anything afterwards would change its canonical form.
        var signedInfoHash = DigestSignedInfo((XmlElement)signedInfo);
        root.AppendChild(signature);
        signatureValue.InnerText = Convert.ToBase64String(signer.SignHash(signedInfoHash));
        return Serialize(document);
    }

    /// <summary>
    /// Signs a document that is already canonical (as <see cref="CanonicalXmlBuilder"/> writes it, with no
    /// <c>ds:Signature</c> and no <c>ds</c> prefix bound on its root): its bytes are what the Reference digests, so it is
    /// neither parsed nor canonicalized. The signature is the same as <see cref="Sign(byte[], XmlSignatureKey)"/> makes,
    /// as the root's last child.
    /// </summary>
    /// <returns>The signed message, UTF-8 with an XML declaration.</returns>
    /// <exception cref="ArgumentException">the document does not end with its root's end tag; the key is for verifying only.</exception>
    internal static byte[] SignCanonical(byte[] canonicalDocument, XmlSignatureKey signer)
    {
        ArgumentNullException.ThrowIfNull(canonicalDocument);
        ArgumentNullException.ThrowIfNull(signer);
        if (!signer.CanSign)
        {
            throw new ArgumentException("the key is for verifying only", nameof(signer));
        }
        var rootEnd = canonicalDocument.AsSpan().LastIndexOf("</"u8);
        if (rootEnd < 0 || canonicalDocument[^1] != (byte)'>')
        {
            throw new ArgumentException("the document does not end with its root's end tag", nameof(canonicalDocument));
        }

        // Only the digest and the signature value differ between two signatures by one key: the rest of SignedInfo and
        // of ds:Signature is the key's template, written once (SignatureTemplate).
        var template = signer.Template;
        var digestValue = Base64Text(SHA256.HashData(canonicalDocument));

        // Exclusive C14N of SignedInfo as the verifier computes it: ds declared on SignedInfo, the subtree's apex.
        var signedInfo = new byte[template.SignedInfoHead.Length + digestValue.Length + template.SignedInfoTail.Length];
        Concatenate(signedInfo, template.SignedInfoHead, digestValue, template.SignedInfoTail);
        var signatureText = Base64Text(signer.SignHash(SHA256.HashData(signedInfo)));

        var declaration = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"u8;
        var signatureBytes = template.SignatureHead.Length + digestValue.Length + template.SignatureMiddle.Length + signatureText.Length + template.SignatureTail.Length;
        var signed = new byte[declaration.Length + canonicalDocument.Length + signatureBytes];
        declaration.CopyTo(signed);
        canonicalDocument.AsSpan(0, rootEnd).CopyTo(signed.AsSpan(declaration.Length));
        Concatenate(signed.AsSpan(declaration.Length + rootEnd, signatureBytes), template.SignatureHead, digestValue, template.SignatureMiddle, signatureText, template.SignatureTail);
        canonicalDocument.AsSpan(rootEnd).CopyTo(signed.AsSpan(declaration.Length + rootEnd + signatureBytes));
        return signed;
    }

    /// <summary>Base64 as UTF-8 bytes, as the signature's text holds it.</summary>
    private static byte[] Base64Text(byte[] value)
    {
        var text = new byte[System.Buffers.Text.Base64.GetMaxEncodedToUtf8Length(value.Length)];
        System.Buffers.Text.Base64.EncodeToUtf8(value, text, out _, out _);
        return text;
    }

    private static void Concatenate(Span<byte> destination, params ReadOnlySpan<ReadOnlyMemory<byte>> parts)
    {
        foreach (var part in parts)
        {
            part.Span.CopyTo(destination);
            destination = destination[part.Length..];
        }
    }

    /// <summary>
    /// What <see cref="SignCanonical"/> writes around the two values that change: the canonical SignedInfo it signs, and
    /// the <c>ds:Signature</c> element it inserts, for one key (whose issuer and serial number it names). Made by the
    /// same builder as every other canonical document, with markers where the values go.
    /// </summary>
    internal sealed class SignatureTemplate
    {
        // U+0001 cannot appear in XML text, so no issuer name or serial number can hold a marker.
        private const string DigestMarker = "\u0001digest\u0001";
        private const string SignatureMarker = "\u0001signature\u0001";

        private SignatureTemplate(XmlSignatureKey signer)
        {
            var signedInfo = new CanonicalXmlBuilder(1024);
            WriteSignedInfo(signedInfo, DigestMarker, declareDs: true);
            (SignedInfoHead, SignedInfoTail) = Split(signedInfo.ToBytes(), DigestMarker);

            var signature = new CanonicalXmlBuilder(1536).Start($"{Prefix}:Signature", (Prefix, XmlDsigNamespace));
            WriteSignedInfo(signature, DigestMarker, declareDs: false);
            signature.Leaf($"{Prefix}:SignatureValue", SignatureMarker)
                .Start($"{Prefix}:KeyInfo").Start($"{Prefix}:X509Data").Start($"{Prefix}:X509IssuerSerial")
                .Leaf($"{Prefix}:X509IssuerName", signer.X509IssuerName)
                .Leaf($"{Prefix}:X509SerialNumber", signer.SerialNumber)
                .End().End().End()
                .End();
            (SignatureHead, var rest) = Split(signature.ToBytes(), DigestMarker);
            (SignatureMiddle, SignatureTail) = Split(rest, SignatureMarker);
        }

        /// <summary>SignedInfo, with <c>xmlns:ds</c> on it, up to the DigestValue text.</summary>
        public ReadOnlyMemory<byte> SignedInfoHead { get; }

        public ReadOnlyMemory<byte> SignedInfoTail { get; }

        /// <summary><c>ds:Signature</c> up to the DigestValue text.</summary>
        public ReadOnlyMemory<byte> SignatureHead { get; }

        /// <summary>From the DigestValue's end tag to the SignatureValue text.</summary>
        public ReadOnlyMemory<byte> SignatureMiddle { get; }

        /// <summary>From the SignatureValue's end tag to the end of <c>ds:Signature</c>.</summary>
        public ReadOnlyMemory<byte> SignatureTail { get; }

        public static SignatureTemplate For(XmlSignatureKey signer) => new(signer);

        private static (ReadOnlyMemory<byte> Before, ReadOnlyMemory<byte> After) Split(ReadOnlyMemory<byte> text, string marker)
        {
            var bytes = Encoding.UTF8.GetBytes(marker);
            var at = text.Span.IndexOf(bytes);
            if (at < 0 || text.Span[(at + bytes.Length)..].IndexOf(bytes) >= 0)
            {
                throw new InvalidOperationException("the signature template must hold each marker once");
            }
            return (text[..at], text[(at + bytes.Length)..]);
        }
    }

    private static void WriteSignedInfo(CanonicalXmlBuilder builder, string digestValue, bool declareDs) =>
        builder.Start($"{Prefix}:SignedInfo", declareDs ? (Prefix, XmlDsigNamespace) : null)
            .Start($"{Prefix}:CanonicalizationMethod", null, ("Algorithm", CanonicalizationMethod)).End()
            .Start($"{Prefix}:SignatureMethod", null, ("Algorithm", SignatureMethod)).End()
            .Start($"{Prefix}:Reference", null, ("URI", ""))
            .Start($"{Prefix}:Transforms").Start($"{Prefix}:Transform", null, ("Algorithm", EnvelopedSignatureTransform)).End().End()
            .Start($"{Prefix}:DigestMethod", null, ("Algorithm", DigestMethod)).End()
            .Leaf($"{Prefix}:DigestValue", digestValue)
            .End()
            .End();

    /// <summary>
    /// Checks the signature of a DUIS message. Never throws for bad input: every fault comes back as
    /// <see cref="SignatureCheck.Invalid"/>.
    /// </summary>
    /// <param name="resolveSigner">
    /// Finds the signer's certificate by issuer (as <see cref="NormaliseIssuerName"/> gives it, i.e. like
    /// <see cref="OrganisationCertificate.IssuerName"/>) and decimal serial number. Certificates carried in the
    /// message itself are never used.
    /// </param>
    public static ValueTask<SignatureCheck> VerifyAsync(byte[] signedXml, SignerCertificateResolver resolveSigner, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(signedXml);
        XmlDocument document;
        try
        {
            document = Load(signedXml);
        }
        catch (XmlException e)
        {
            return ValueTask.FromResult<SignatureCheck>(new SignatureCheck.Invalid(SignatureFailure.Malformed, e.Message));
        }
        return VerifyAsync(document, resolveSigner, cancellationToken);
    }

    /// <summary>
    /// Checks the signature of an already parsed message, loaded with <see cref="XmlDocument.PreserveWhitespace"/>
    /// set. Whitespace between elements is dropped from it, as from every verified document (see remarks on
    /// <see cref="DuisSignature"/>); it is otherwise left as it was found.
    /// </summary>
    public static async ValueTask<SignatureCheck> VerifyAsync(XmlDocument document, SignerCertificateResolver resolveSigner, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(document);
        ArgumentNullException.ThrowIfNull(resolveSigner);
        try
        {
            if (document.DocumentType is not null)
            {
                throw new Rejection(SignatureFailure.Malformed, "the document has a DTD");
            }
            var root = document.DocumentElement ?? throw new Rejection(SignatureFailure.Malformed, "the document has no root element");
            var signatures = PrepareForDigest(root);
            var parts = ReadSignature(root, signatures);
            var signer = await resolveSigner(parts.IssuerName, parts.SerialNumber, cancellationToken).ConfigureAwait(false)
                ?? throw new Rejection(SignatureFailure.UnknownCertificate, $"no certificate is known for issuer '{parts.IssuerName}' serial {parts.SerialNumber}");
            if (signer.Issuer != parts.IssuerName || signer.SerialNumber != parts.SerialNumber)
            {
                throw new Rejection(SignatureFailure.UnknownCertificate, $"the certificate found for issuer '{parts.IssuerName}' serial {parts.SerialNumber} is '{signer.Issuer}' serial {signer.SerialNumber}");
            }
            if (signer.Problem is { } problem)
            {
                throw new Rejection(SignatureFailure.UnsupportedAlgorithm, $"the signer's certificate '{signer.Certificate.Subject}': {problem}");
            }

            var signature = parts.SignedInfo.ParentNode!;
            var next = signature.NextSibling;
            byte[] digest;
            root.RemoveChild(signature);
            try
            {
                digest = DigestDocument(document, parts.ExclusiveReference);
            }
            finally
            {
                root.InsertBefore(signature, next);
            }
            if (!CryptographicOperations.FixedTimeEquals(digest, parts.DigestValue))
            {
                throw new Rejection(SignatureFailure.BadDigest, "the document does not match the signed digest: it was altered after signing");
            }
            if (parts.SignatureValue.Length != P256SignatureLength
                || !signer.VerifyHash(DigestSignedInfo(parts.SignedInfo), parts.SignatureValue))
            {
                throw new Rejection(SignatureFailure.BadSignature, $"the signature does not verify with the key of '{signer.Certificate.Subject}' (issuer '{parts.IssuerName}' serial {parts.SerialNumber})");
            }
            return new SignatureCheck.Valid(signer.Certificate, document);
        }
        catch (Rejection rejection)
        {
            return new SignatureCheck.Invalid(rejection.Failure, rejection.Message);
        }
        catch (XmlException e)
        {
            // Nested too deep, or an entity reference in a document built in code.
            return new SignatureCheck.Invalid(SignatureFailure.Malformed, e.Message);
        }
    }

    /// <summary>
    /// A distinguished name in .NET's form (<c>CN=Z1, OU=07</c>, as <see cref="X509Certificate2.Issuer"/> and
    /// <see cref="OrganisationCertificate.IssuerName"/> hold it), whether given that way or RFC 2253 style as Java
    /// and the DCC tool write it (<c>CN=Z1,OU=07</c>).
    /// </summary>
    /// <exception cref="CryptographicException">the text is not a distinguished name.</exception>
    public static string NormaliseIssuerName(string issuerName)
    {
        ArgumentNullException.ThrowIfNull(issuerName);
        if (NormalisedIssuers.TryGetValue(issuerName, out var known))
        {
            return known;
        }
        // Parsing and Reversed decoding both take the most significant RDN last, as .NET formats Issuer.
        var normalised = new X500DistinguishedName(issuerName).Decode(X500DistinguishedNameFlags.Reversed);
        if (NormalisedIssuers.Count >= MaxNormalisedIssuers)
        {
            // Full: of names sent before the signature is checked, most may be anyone's junk. Emptied rather than
            // closed, so that the few real issuers are parsed once again, not on every request from then on.
            NormalisedIssuers.Clear();
        }
        NormalisedIssuers.TryAdd(issuerName, normalised);
        return normalised;
    }

    /// <summary>
    /// Every signed request names its issuer, and there are few issuers (the SMKI CAs): parsing the name once each
    /// takes the ASN.1 work off the request path. Bounded, so names sent at random cannot grow it without end.
    /// </summary>
    internal static bool IsIssuerNameHeld(string issuerName) => NormalisedIssuers.ContainsKey(issuerName);

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> NormalisedIssuers = new(StringComparer.Ordinal);

    private const int MaxNormalisedIssuers = 256;

    /// <summary>Far longer than any SMKI CA's name (<c>CN=Z1,OU=07</c>); the X.500 parser is not linear in it.</summary>
    private const int MaxIssuerNameLength = 1024;

    /// <summary>49 digits hold a 20-octet serial number (RFC 5280 §4.1.2.2), with room for leading zeros.</summary>
    private const int MaxSerialNumberDigits = 64;

    /// <summary>
    /// The issuer name written into <c>X509IssuerName</c>: most significant RDN last and no space after the
    /// commas (<c>CN=Z1,OU=07</c>), as the DCC tool writes it; values are quoted the .NET way when they need it.
    /// </summary>
    public static string FormatIssuerName(X500DistinguishedName name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var text = new StringBuilder();
        foreach (var rdn in name.EnumerateRelativeDistinguishedNames())
        {
            var single = new AsnWriter(AsnEncodingRules.DER);
            using (single.PushSequence())
            {
                single.WriteEncodedValue(rdn.RawData.Span);
            }
            text.Append(text.Length == 0 ? "" : ",").Append(new X500DistinguishedName(single.Encode()).Name);
        }
        return text.ToString();
    }

    /// <summary>
    /// Parses a DUIS message into a DOM that keeps whitespace exactly, as signature checking needs; DTDs and external
    /// resources are refused, documents over <see cref="MaxMessageBytes"/> characters, and elements nested deeper than 64.
    /// </summary>
    /// <remarks>
    /// The depth is checked here, before anything reads the document: reading a deeply nested DOM element by element
    /// (an <see cref="XmlNodeReader"/> looks namespaces up through every ancestor) takes time that grows with the square
    /// of the depth, minutes for a 1.4 MB request, whoever sent it.
    /// </remarks>
    /// <exception cref="XmlException">not well-formed, has a DTD, or is nested deeper than 64 elements.</exception>
    public static XmlDocument Load(ReadOnlyMemory<byte> xml)
    {
        var document = new XmlDocument { PreserveWhitespace = true, XmlResolver = null };
        using var stream = System.Runtime.InteropServices.MemoryMarshal.TryGetArray(xml, out var segment)
            ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(xml.ToArray(), writable: false);
        using var reader = XmlReader.Create(stream, ReaderSettings);
        document.Load(reader);
        if (document.DocumentElement is { } root)
        {
            RefuseDeepNesting(root);
        }
        return document;
    }

    /// <summary>Walks the elements in document order without recursion or a stack.</summary>
    /// <exception cref="XmlException">elements are nested deeper than <see cref="MaxDepth"/>.</exception>
    private static void RefuseDeepNesting(XmlElement root)
    {
        XmlNode node = root;
        var depth = 1;
        while (true)
        {
            if (FirstElement(node.FirstChild) is { } child)
            {
                if (++depth > MaxDepth)
                {
                    throw new XmlException($"elements are nested deeper than {MaxDepth}");
                }
                node = child;
                continue;
            }
            // Up to the nearest element with a following element sibling, and on to that sibling; done at the root.
            XmlElement? next;
            while ((next = FirstElement(node.NextSibling)) is null || node == root)
            {
                if (node == root)
                {
                    return;
                }
                node = node.ParentNode!;
                depth--;
            }
            node = next;
        }
    }

    /// <summary><paramref name="node"/> or the first element among its following siblings.</summary>
    private static XmlElement? FirstElement(XmlNode? node)
    {
        while (node is not null and not XmlElement)
        {
            node = node.NextSibling;
        }
        return (XmlElement?)node;
    }

    private static byte[] Serialize(XmlDocument document)
    {
        using var output = new MemoryStream();
        output.Write("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"u8);
        using (var writer = XmlWriter.Create(output, WriterSettings))
        {
            foreach (XmlNode node in document.ChildNodes)
            {
                if (node is not (XmlDeclaration or XmlWhitespace))
                {
                    node.WriteTo(writer);
                }
            }
        }
        return output.ToArray();
    }

    /// <summary>SHA-256 of the document (its signature already removed) canonicalized as the Reference says.</summary>
    /// <remarks>With only the enveloped transform the node-set becomes octets by inclusive C14N 1.0 (XML-DSig §4.3.3.2).</remarks>
    private static byte[] DigestDocument(XmlDocument document, bool exclusive) =>
        SHA256.HashData(Encoding.UTF8.GetBytes(XmlCanonicalizer.Document(document, exclusive)));

    /// <summary>SHA-256 of SignedInfo in exclusive C14N, which needs nothing from its ancestors but the namespaces it uses.</summary>
    private static byte[] DigestSignedInfo(XmlElement signedInfo) =>
        SHA256.HashData(Encoding.UTF8.GetBytes(XmlCanonicalizer.Exclusive(signedInfo)));

    private static SignatureParts ReadSignature(XmlElement root, List<XmlElement> signatures)
    {
        if (signatures.Count == 0)
        {
            throw new Rejection(SignatureFailure.MissingSignature, "the message has no ds:Signature");
        }
        if (signatures.Count > 1)
        {
            throw new Rejection(SignatureFailure.InvalidStructure, $"the message has {signatures.Count} ds:Signature elements; exactly one is allowed");
        }
        var signature = signatures[0];
        if (signature.ParentNode != root)
        {
            throw new Rejection(SignatureFailure.InvalidStructure, "ds:Signature is not a direct child of the root element");
        }

        var (signedInfo, signatureValue, keyInfo) = Expect3(signature, "SignedInfo", "SignatureValue", "KeyInfo");
        var signedInfoParts = Children(signedInfo);
        if (signedInfoParts.Count < 3 || !IsDs(signedInfoParts[0], "CanonicalizationMethod") || !IsDs(signedInfoParts[1], "SignatureMethod")
            || signedInfoParts.Skip(2).Any(e => !IsDs(e, "Reference")))
        {
            throw new Rejection(SignatureFailure.InvalidStructure, "ds:SignedInfo must hold ds:CanonicalizationMethod, ds:SignatureMethod and ds:Reference, in that order");
        }
        ExpectAlgorithm(signedInfoParts[0], CanonicalizationMethod);
        ExpectAlgorithm(signedInfoParts[1], SignatureMethod);
        if (signedInfoParts.Count != 3)
        {
            throw new Rejection(SignatureFailure.InvalidStructure, $"ds:SignedInfo has {signedInfoParts.Count - 2} references; exactly one, to the whole document, is allowed");
        }

        var reference = signedInfoParts[2];
        if (reference.GetAttributeNode("URI") is not { Value: "" })
        {
            throw new Rejection(SignatureFailure.InvalidStructure, $"the ds:Reference URI is '{reference.GetAttribute("URI")}'; only URI=\"\" (the whole document) is allowed");
        }
        var (transforms, digestMethod, digestValue) = Expect3(reference, "Transforms", "DigestMethod", "DigestValue");
        var exclusive = ReadTransforms(transforms);
        ExpectAlgorithm(digestMethod, DigestMethod);

        var issuerSerials = Children(keyInfo).Where(e => IsDs(e, "X509Data")).SelectMany(Children).Where(e => IsDs(e, "X509IssuerSerial")).ToList();
        if (issuerSerials.Count != 1)
        {
            throw new Rejection(SignatureFailure.InvalidStructure, "ds:KeyInfo must name the signer by exactly one ds:X509Data/ds:X509IssuerSerial");
        }
        var issuerSerial = Children(issuerSerials[0]);
        if (issuerSerial.Count != 2 || !IsDs(issuerSerial[0], "X509IssuerName") || !IsDs(issuerSerial[1], "X509SerialNumber"))
        {
            throw new Rejection(SignatureFailure.InvalidStructure, "ds:X509IssuerSerial must hold ds:X509IssuerName and ds:X509SerialNumber");
        }
        // Bounded before they are parsed: both parsers take time that grows faster than the text (a 3 MB serial number
        // took minutes), and no certificate has such names or numbers.
        var issuerText = Text(issuerSerial[0]).Trim();
        if (issuerText.Length > MaxIssuerNameLength)
        {
            throw new Rejection(SignatureFailure.InvalidStructure, $"ds:X509IssuerName is {issuerText.Length} characters long; at most {MaxIssuerNameLength} are read");
        }
        string issuerName;
        try
        {
            issuerName = NormaliseIssuerName(issuerText);
        }
        catch (CryptographicException)
        {
            throw new Rejection(SignatureFailure.InvalidStructure, $"ds:X509IssuerName '{Excerpt.Of(issuerText)}' is not a distinguished name");
        }
        var serialText = Text(issuerSerial[1]).Trim();
        if (serialText.Length > MaxSerialNumberDigits)
        {
            throw new Rejection(SignatureFailure.InvalidStructure, $"ds:X509SerialNumber has {serialText.Length} characters; a certificate serial number (at most 20 octets, RFC 5280) has at most 49 digits, and at most {MaxSerialNumberDigits} are read");
        }
        if (!BigInteger.TryParse(serialText, NumberStyles.None, CultureInfo.InvariantCulture, out var serial))
        {
            throw new Rejection(SignatureFailure.InvalidStructure, $"ds:X509SerialNumber '{Excerpt.Of(serialText)}' is not a decimal number");
        }

        return new SignatureParts(
            signedInfo,
            exclusive,
            Base64(digestValue),
            Base64(signatureValue),
            issuerName,
            serial.ToString(CultureInfo.InvariantCulture));
    }

    /// <summary>
    /// One pass over the elements before digesting: refuses nesting deeper than <see cref="MaxDepth"/>, drops
    /// whitespace-only text from elements that have child elements (as a schema-aware parser drops element-content
    /// whitespace; DUIS has no mixed content), and finds the signatures.
    /// </summary>
    /// <returns>Every <c>ds:Signature</c> element, wherever it is.</returns>
    /// <exception cref="XmlException">elements are nested deeper than <see cref="MaxDepth"/>.</exception>
    private static List<XmlElement> PrepareForDigest(XmlElement root)
    {
        var signatures = new List<XmlElement>(1);
        var pending = new Stack<(XmlElement Element, int Depth)>();
        pending.Push((root, 1));
        while (pending.TryPop(out var item))
        {
            if (item.Depth > MaxDepth)
            {
                throw new XmlException($"elements are nested deeper than {MaxDepth}");
            }
            if (IsDs(item.Element, "Signature"))
            {
                signatures.Add(item.Element);
            }
            var hasElementChild = false;
            for (var child = item.Element.FirstChild; child is not null; child = child.NextSibling)
            {
                if (child is XmlElement element)
                {
                    hasElementChild = true;
                    pending.Push((element, item.Depth + 1));
                }
            }
            if (hasElementChild)
            {
                for (var child = item.Element.FirstChild; child is not null;)
                {
                    var next = child.NextSibling;
                    if (child is XmlWhitespace)
                    {
                        item.Element.RemoveChild(child);
                    }
                    child = next;
                }
            }
        }
        return signatures;
    }

    /// <summary>The enveloped-signature transform, optionally followed by exclusive C14N; true when the latter is there.</summary>
    private static bool ReadTransforms(XmlElement transforms)
    {
        var list = Children(transforms);
        if (list.Any(t => !IsDs(t, "Transform")))
        {
            throw new Rejection(SignatureFailure.InvalidStructure, "ds:Transforms may hold only ds:Transform elements");
        }
        var algorithms = list.Select(t => t.GetAttribute("Algorithm")).ToList();
        var allowed = algorithms is [EnvelopedSignatureTransform] or [EnvelopedSignatureTransform, CanonicalizationMethod];
        if (!allowed || list.Any(t => Children(t).Count != 0))
        {
            throw new Rejection(SignatureFailure.UnsupportedAlgorithm, $"the transforms [{string.Join(", ", algorithms)}] are not allowed; only enveloped-signature, optionally followed by exclusive C14N without parameters");
        }
        return algorithms.Count == 2;
    }

    private static void ExpectAlgorithm(XmlElement element, string algorithm)
    {
        var actual = element.GetAttribute("Algorithm");
        if (actual != algorithm || Children(element).Count != 0)
        {
            throw new Rejection(SignatureFailure.UnsupportedAlgorithm, $"ds:{element.LocalName} is '{Excerpt.Of(actual)}'{(actual == algorithm ? " with parameters" : "")}; only '{algorithm}' is allowed");
        }
    }

    private static (XmlElement, XmlElement, XmlElement) Expect3(XmlElement parent, string first, string second, string third)
    {
        var children = Children(parent);
        if (children.Count != 3 || !IsDs(children[0], first) || !IsDs(children[1], second) || !IsDs(children[2], third))
        {
            throw new Rejection(SignatureFailure.InvalidStructure, $"ds:{parent.LocalName} must hold ds:{first}, ds:{second} and ds:{third}, in that order, and nothing else");
        }
        return (children[0], children[1], children[2]);
    }

    /// <summary>The element children; comments and whitespace are skipped, any other content is a fault.</summary>
    private static List<XmlElement> Children(XmlElement parent)
    {
        var children = new List<XmlElement>(4);
        for (var node = parent.FirstChild; node is not null; node = node.NextSibling)
        {
            switch (node)
            {
                case XmlElement element:
                    children.Add(element);
                    break;
                case XmlWhitespace or XmlSignificantWhitespace or XmlComment:
                    break;
                case XmlText text when string.IsNullOrWhiteSpace(text.Value):
                    break;
                default:
                    throw new Rejection(SignatureFailure.InvalidStructure, $"ds:{parent.LocalName} holds unexpected {node.NodeType} content");
            }
        }
        return children;
    }

    /// <summary>The text of a leaf element.</summary>
    private static string Text(XmlElement element)
    {
        for (var node = element.FirstChild; node is not null; node = node.NextSibling)
        {
            if (node is not (XmlText or XmlWhitespace or XmlSignificantWhitespace))
            {
                throw new Rejection(SignatureFailure.InvalidStructure, $"ds:{element.LocalName} must hold text only, not {node.NodeType}");
            }
        }
        return element.InnerText;
    }

    private static byte[] Base64(XmlElement element)
    {
        try
        {
            return Convert.FromBase64String(Text(element));
        }
        catch (FormatException)
        {
            throw new Rejection(SignatureFailure.InvalidStructure, $"ds:{element.LocalName} is not base64");
        }
    }

    private static bool IsDs(XmlElement element, string localName) =>
        element.LocalName == localName && element.NamespaceURI == XmlDsigNamespace;

    private static XmlElement Ds(XmlDocument document, string localName, string? attribute = null, string? value = null)
    {
        var element = document.CreateElement(Prefix, localName, XmlDsigNamespace);
        if (attribute is not null)
        {
            element.SetAttribute(attribute, value);
        }
        return element;
    }

    private sealed record SignatureParts(XmlElement SignedInfo, bool ExclusiveReference, byte[] DigestValue, byte[] SignatureValue, string IssuerName, string SerialNumber);

    private sealed class Rejection(SignatureFailure failure, string message) : Exception(message)
    {
        public SignatureFailure Failure { get; } = failure;
    }
}

/// <summary>Finds a signer's certificate by the issuer and serial number a signature names.</summary>
/// <param name="issuerName">In .NET's form, like <see cref="OrganisationCertificate.IssuerName"/> (<c>CN=Z1, OU=07</c>).</param>
/// <param name="serialNumber">In decimal without leading zeros, like <see cref="OrganisationCertificate.SerialNumber"/>.</param>
/// <returns>The certificate's key (which stays the resolver's to dispose), or null when none is known.</returns>
public delegate ValueTask<XmlSignatureKey?> SignerCertificateResolver(string issuerName, string serialNumber, CancellationToken cancellationToken);

/// <summary>The outcome of checking a DUIS message's signature.</summary>
public abstract record SignatureCheck
{
    private SignatureCheck()
    {
    }

    /// <summary>The signature holds; <paramref name="Document"/> is the message as parsed, to be processed without parsing again.</summary>
    public sealed record Valid(X509Certificate2 Signer, XmlDocument Document) : SignatureCheck;

    public sealed record Invalid(SignatureFailure Failure, string Reason) : SignatureCheck;
}

public enum SignatureFailure
{
    /// <summary>Not well-formed XML, or it has a DTD.</summary>
    Malformed,

    /// <summary>No <c>ds:Signature</c> anywhere.</summary>
    MissingSignature,

    /// <summary>A signature in the wrong place, more than one, a reference other than <c>URI=""</c>, missing or extra parts.</summary>
    InvalidStructure,

    /// <summary>A canonicalization, signature, digest or transform algorithm other than the DUIS ones, or a signer key other than ECDSA P-256.</summary>
    UnsupportedAlgorithm,

    /// <summary>The resolver knows no certificate for the issuer and serial number.</summary>
    UnknownCertificate,

    /// <summary>The document differs from what was signed.</summary>
    BadDigest,

    /// <summary>SignedInfo was not signed by the named certificate's key.</summary>
    BadSignature,
}
