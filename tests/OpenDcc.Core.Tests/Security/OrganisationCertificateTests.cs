using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using NodaTime;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Security;
using static OpenDcc.Core.Tests.Security.TestCertificates;

namespace OpenDcc.Core.Tests.Security;

/// <summary>The SMKI shape of organisation certificates (duis-and-dcc.md §5.1).</summary>
public class OrganisationCertificateTests
{
    private static readonly Arbitrary<Eui64> Euis =
        ArbMap.Default.GeneratorFor<DoNotSize<ulong>>().Select(v => new Eui64(v.Item)).ToArbitrary();

    private static readonly Arbitrary<RemotePartyRole> Roles = Gen.Elements(Enum.GetValues<RemotePartyRole>()).ToArbitrary();

    [Property(MaxTest = 50)]
    public Property Issued_certificate_reads_back_with_its_eui_64_and_role() =>
        Prop.ForAll(Euis, Roles, (entity, role) =>
        {
            using var certificate = Authority.Issue(entity, role, "Party", new NodaTime.Testing.FakeClock(Now), Duration.FromDays(30));
            var parsed = OrganisationCertificate.FromX509(certificate);
            return parsed.EntityId == entity && parsed.Role == role;
        });

    [Fact]
    public void Subject_carries_the_role_as_two_hex_digits_in_ou_and_the_eui_as_an_8_byte_bit_string()
    {
        using var certificate = Issue(Supplier, RemotePartyRole.XmlSign);

        var attributes = ReadSubject(certificate.SubjectName);

        Assert.Equal(["2.5.4.3", OrganisationCertificate.OrganizationalUnitOid, OrganisationCertificate.X500UniqueIdentifierOid], attributes.Select(a => a.Oid));
        var ou = new AsnReader(attributes[1].Value, AsnEncodingRules.DER);
        Assert.Equal("87", ou.ReadCharacterString(UniversalTagNumber.UTF8String));
        var uid = new AsnReader(attributes[2].Value, AsnEncodingRules.DER);
        Assert.Equal(new byte[] { 0x90, 0xB3, 0xD5, 0x1F, 0x30, 0x01, 0x00, 0x00 }, uid.ReadBitString(out var unusedBits));
        Assert.Equal(0, unusedBits);
        Assert.Contains("OU=87", certificate.SubjectName.Name, StringComparison.Ordinal);
        Assert.Contains("CN=Test party", certificate.SubjectName.Name, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(RemotePartyRole.Root, "00")]
    [InlineData(RemotePartyRole.Supplier, "02")]
    [InlineData(RemotePartyRole.Other, "7F")]
    [InlineData(RemotePartyRole.DspXmlSign, "89")]
    public void Subject_writes_the_role_as_upper_case_hex(RemotePartyRole role, string ou)
    {
        var subject = OrganisationCertificate.SubjectFor(Supplier, role);

        Assert.Contains($"OU={ou}", subject.Name, StringComparison.Ordinal);
    }

    [Fact]
    public void Subject_without_common_name_has_only_ou_and_unique_identifier()
    {
        var subject = OrganisationCertificate.SubjectFor(Supplier, RemotePartyRole.Supplier);

        Assert.Equal([OrganisationCertificate.OrganizationalUnitOid, OrganisationCertificate.X500UniqueIdentifierOid], ReadSubject(subject).Select(a => a.Oid));
    }

    [Fact]
    public void Fields_are_read_from_the_certificate()
    {
        using var certificate = Issue(Supplier, RemotePartyRole.Supplier);

        var parsed = OrganisationCertificate.FromX509(certificate);

        Assert.Equal(Authority.Certificate.Subject, parsed.IssuerName);
        Assert.Equal(System.Numerics.BigInteger.Parse("0" + certificate.SerialNumber, System.Globalization.NumberStyles.AllowHexSpecifier, System.Globalization.CultureInfo.InvariantCulture).ToString(System.Globalization.CultureInfo.InvariantCulture), parsed.SerialNumber);
        Assert.Equal(Convert.ToHexString(certificate.GetCertHash(HashAlgorithmName.SHA256)), parsed.Thumbprint);
        Assert.Equal(64, parsed.Thumbprint.Length);
        Assert.StartsWith("-----BEGIN CERTIFICATE-----", parsed.Pem, StringComparison.Ordinal);
        Assert.Equal(certificate.RawData, parsed.ToX509().RawData);
    }

    [Fact]
    public void Certificate_without_its_key_reads_the_same_as_with_it()
    {
        using var certificate = Issue(Supplier, RemotePartyRole.Supplier);
        using var publicOnly = X509CertificateLoader.LoadCertificate(certificate.RawData);

        Assert.Equal(OrganisationCertificate.FromX509(certificate), OrganisationCertificate.FromX509(publicOnly));
    }

    [Fact]
    public void Validity_is_inclusive_of_both_ends()
    {
        using var certificate = Issue(Supplier, RemotePartyRole.Supplier);
        var parsed = OrganisationCertificate.FromX509(certificate);

        Assert.True(parsed.IsValidAt(parsed.NotBefore));
        Assert.True(parsed.IsValidAt(parsed.NotAfter));
        Assert.False(parsed.IsValidAt(parsed.NotBefore - Duration.FromSeconds(1)));
        Assert.False(parsed.IsValidAt(parsed.NotAfter + Duration.FromSeconds(1)));
    }

    [Fact]
    public void Rsa_certificate_is_rejected_as_not_ecdsa()
    {
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest(OrganisationCertificate.SubjectFor(Supplier, RemotePartyRole.Supplier), rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var certificate = request.CreateSelfSigned(Now.ToDateTimeOffset(), Now.Plus(Duration.FromDays(1)).ToDateTimeOffset());

        var error = Assert.Throws<InvalidOrganisationCertificateException>(() => OrganisationCertificate.FromX509(certificate));

        Assert.Contains("not an ECDSA key", error.Message, StringComparison.Ordinal);
        Assert.Equal(certificate.Subject, error.Subject);
    }

    [Fact]
    public void Ecdsa_p384_certificate_is_rejected_as_not_p256()
    {
        using var certificate = SelfSigned(OrganisationCertificate.SubjectFor(Supplier, RemotePartyRole.Supplier), ECCurve.NamedCurves.nistP384);

        var error = Assert.Throws<InvalidOrganisationCertificateException>(() => OrganisationCertificate.FromX509(certificate));

        Assert.Contains("P-256", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Subject_without_ou_is_rejected()
    {
        using var certificate = SelfSigned(Subject(CommonName("No role"), UniqueIdentifier(Supplier.ToBytes())));

        var error = Assert.Throws<InvalidOrganisationCertificateException>(() => OrganisationCertificate.FromX509(certificate));

        Assert.Contains("no OU", error.Message, StringComparison.Ordinal);
        Assert.Equal("its subject has no OU (remote-party role)", error.Fault);
    }

    [Theory]
    [InlineData("ZZ")]
    [InlineData("2")]
    [InlineData("002")]
    [InlineData("10")]
    [InlineData("")]
    public void Subject_whose_ou_is_not_a_known_role_in_two_hex_digits_is_rejected_naming_it(string ou)
    {
        using var certificate = SelfSigned(Subject(CommonName("Bad role"), Ou(ou), UniqueIdentifier(Supplier.ToBytes())));

        var error = Assert.Throws<InvalidOrganisationCertificateException>(() => OrganisationCertificate.FromX509(certificate));

        Assert.Contains($"OU '{ou}'", error.Message, StringComparison.Ordinal);
        Assert.Contains("not a known remote-party role", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Subject_without_x500_unique_identifier_is_rejected()
    {
        var builder = new X500DistinguishedNameBuilder();
        builder.AddCommonName("No EUI");
        builder.AddOrganizationalUnitName("02");
        using var certificate = SelfSigned(builder.Build());

        var error = Assert.Throws<InvalidOrganisationCertificateException>(() => OrganisationCertificate.FromX509(certificate));

        Assert.Contains("no x500UniqueIdentifier", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(7, 0)]
    [InlineData(9, 0)]
    [InlineData(8, 3)]
    public void Unique_identifier_that_is_not_a_whole_8_byte_bit_string_is_rejected(int length, int unusedBits)
    {
        using var certificate = SelfSigned(Subject(Ou("02"), UniqueIdentifier(new byte[length], unusedBits)));

        var error = Assert.Throws<InvalidOrganisationCertificateException>(() => OrganisationCertificate.FromX509(certificate));

        Assert.Contains("x500UniqueIdentifier", error.Fault, StringComparison.Ordinal);
        Assert.Contains("8-byte EUI-64", error.Fault, StringComparison.Ordinal);
    }

    [Fact]
    public void Unique_identifier_written_as_text_is_rejected_as_not_a_bit_string()
    {
        var builder = new X500DistinguishedNameBuilder();
        builder.AddOrganizationalUnitName("02");
        builder.Add(OrganisationCertificate.X500UniqueIdentifierOid, "90B3D51F30010000", UniversalTagNumber.UTF8String);
        using var certificate = SelfSigned(builder.Build());

        var error = Assert.Throws<InvalidOrganisationCertificateException>(() => OrganisationCertificate.FromX509(certificate));

        Assert.Contains("not a BIT STRING", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Hand_built_smki_subject_is_accepted()
    {
        using var certificate = SelfSigned(Subject(CommonName("Z1 user"), Ou("02"), UniqueIdentifier(Supplier.ToBytes())));

        var parsed = OrganisationCertificate.FromX509(certificate);

        Assert.Equal(Supplier, parsed.EntityId);
        Assert.Equal(RemotePartyRole.Supplier, parsed.Role);
    }

    private static List<(string Oid, byte[] Value)> ReadSubject(X500DistinguishedName name)
    {
        var attributes = new List<(string, byte[])>();
        var sequence = new AsnReader(name.RawData, AsnEncodingRules.DER).ReadSequence();
        while (sequence.HasData)
        {
            var set = sequence.ReadSetOf();
            var pair = set.ReadSequence();
            Assert.False(set.HasData, "one attribute per RDN");
            var oid = pair.ReadObjectIdentifier();
            attributes.Add((oid, pair.ReadEncodedValue().ToArray()));
            Assert.False(pair.HasData);
        }
        return attributes;
    }
}
