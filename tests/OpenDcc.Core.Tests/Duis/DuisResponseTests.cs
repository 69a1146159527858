using System.Security.Cryptography.Xml;
using System.Text;
using System.Xml;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using NodaTime;
using OpenDcc.Core.Duis;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Security;
using static OpenDcc.Core.Tests.Security.TestCertificates;

namespace OpenDcc.Core.Tests.Duis;

/// <summary>DUIS responses are written in canonical form and signed without a parse; both must agree with the general path.</summary>
public class DuisResponseTests
{
    private static readonly string[] TextPieces = ["plain", " ", "\n", "\t", "\r", "&", "<", ">", "\"", "'", "]]>", "€", "é", "𝄞", "A-1"];

    private static readonly System.Security.Cryptography.X509Certificates.X509Certificate2 DspXmlSign = Issue(Dsp, RemotePartyRole.DspXmlSign);

    [Property(MaxTest = 300)]
    public Property Written_response_is_its_own_canonical_form() =>
        Prop.ForAll(Seeds, seed =>
        {
            var xml = RandomResponse(new Random(seed)).ToCanonicalXml();
            var document = DuisSignature.Load(xml);
            var reference = new XmlDsigC14NTransform();
            reference.LoadInput(document);
            using var output = (Stream)reference.GetOutput(typeof(Stream));
            using var reader = new StreamReader(output, Encoding.UTF8);
            var canonical = reader.ReadToEnd();
            return canonical == Encoding.UTF8.GetString(xml) ? true : throw new InvalidOperationException($"written:\n{Encoding.UTF8.GetString(xml)}\ncanonical:\n{canonical}");
        });

    [Property(MaxTest = 100)]
    public Property Signed_without_a_parse_it_verifies_and_digests_as_the_general_signer_does() =>
        Prop.ForAll(Seeds, seed =>
        {
            using var key = XmlSignatureKey.ForSigning(DspXmlSign);
            var xml = RandomResponse(new Random(seed)).ToCanonicalXml();

            var fast = DuisSignature.SignCanonical(xml, key);
            var general = DuisSignature.Sign(xml, key);

            using var verifying = XmlSignatureKey.ForVerifying(DspXmlSign);
            var check = DuisSignature.VerifyAsync(fast, (_, _, _) => ValueTask.FromResult<XmlSignatureKey?>(verifying), CancellationToken.None).AsTask().Result;
            return check is SignatureCheck.Valid
                && DigestValue(fast) == DigestValue(general)
                && Encoding.UTF8.GetString(fast).StartsWith("<?xml version=\"1.0\" encoding=\"UTF-8\"?><sr:Response ", StringComparison.Ordinal);
        });

    [Fact]
    public void A_response_reads_back_with_its_ids_swapped_code_and_payload()
    {
        var requestId = new RequestId(Eui64.Parse("90-B3-D5-1F-30-01-00-00"), Eui64.Parse("00-DB-12-34-56-78-90-A0"), 1000);
        var response = new DuisResponse(requestId, "I0", Instant.FromUtc(2026, 11, 29, 10, 0, 0), "8.2", "8.2",
            new ResponsePayload.Inventory([new InventoryDevice(requestId.Target, "ESME", "Commissioned", "A & B", "<M>")]));

        var document = DuisSignature.Load(response.ToCanonicalXml());

        Assert.Equal("90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A0:1000", Text(document, "RequestID"));
        Assert.Equal("00-DB-12-34-56-78-90-A0:90-B3-D5-1F-30-01-00-00:1000", Text(document, "ResponseID"));
        Assert.Equal("I0", Text(document, "ResponseCode"));
        Assert.Equal("2026-11-29T10:00:00.000Z", Text(document, "ResponseDateTime"));
        Assert.Equal("A & B", Text(document, "DeviceManufacturer"));
        Assert.Equal("<M>", Text(document, "DeviceModel"));
    }

    [Fact]
    public void Signing_without_a_parse_needs_a_signing_key_and_a_closed_root()
    {
        using var verifying = XmlSignatureKey.ForVerifying(DspXmlSign);
        using var signing = XmlSignatureKey.ForSigning(DspXmlSign);
        var xml = RandomResponse(new Random(1)).ToCanonicalXml();

        Assert.Equal("signer", Assert.Throws<ArgumentException>(() => DuisSignature.SignCanonical(xml, verifying)).ParamName);
        Assert.Equal("canonicalDocument", Assert.Throws<ArgumentException>(() => DuisSignature.SignCanonical(Encoding.UTF8.GetBytes("<a>text"), signing)).ParamName);
    }

    private static Arbitrary<int> Seeds => ArbMap.Default.GeneratorFor<int>().ToArbitrary();

    private static string Text(XmlDocument document, string localName) =>
        document.GetElementsByTagName(localName, DuisNamespaces.ServiceUserGateway)[0]!.InnerText;

    private static string DigestValue(byte[] signed) =>
        DuisSignature.Load(signed).GetElementsByTagName("DigestValue", DuisSignature.XmlDsigNamespace)[0]!.InnerText;

    private static DuisResponse RandomResponse(Random random)
    {
        string Text() => string.Concat(Enumerable.Range(0, random.Next(0, 5)).Select(_ => TextPieces[random.Next(TextPieces.Length)]));
        Eui64 Id() => new((ulong)random.NextInt64());
        RequestId? requestId = random.Next(4) == 0 ? null : new RequestId(Id(), Id(), (ulong)random.NextInt64(1, long.MaxValue));
        ResponsePayload payload = random.Next(4) switch
        {
            0 => new ResponsePayload.None(),
            1 => new ResponsePayload.GbcsPayload(RandomBytes(random)),
            2 => new ResponsePayload.PreCommand(Text(), RandomBytes(random)),
            _ => new ResponsePayload.Inventory([.. Enumerable.Range(0, random.Next(0, 3)).Select(_ => new InventoryDevice(Id(), Text(), Text(), Text(), Text()))]),
        };
        return new DuisResponse(requestId, Text(), Instant.FromUnixTimeMilliseconds(random.NextInt64(0, 4_000_000_000_000)), Text(), Text(), payload, Text());
    }

    private static byte[] RandomBytes(Random random)
    {
        var bytes = new byte[random.Next(0, 64)];
        random.NextBytes(bytes);
        return bytes;
    }
}
