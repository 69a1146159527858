using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using NodaTime;
using NodaTime.Testing;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Security;

namespace OpenDcc.Core.Tests.Security;

/// <summary>Certificates for the security tests: a local CA on a fixed clock, and hand-built subjects for rejections.</summary>
internal static class TestCertificates
{
    public static readonly Instant Now = Instant.FromUtc(2026, 11, 28, 12, 0);

    public static readonly Eui64 Supplier = Eui64.Parse("90-B3-D5-1F-30-01-00-00");

    public static readonly Eui64 Dsp = Eui64.Parse("90-B3-D5-1F-30-00-00-02");

    /// <summary>One CA for the whole test run, valid for ten years from <see cref="Now"/>.</summary>
    public static CertificateAuthority Authority { get; } = CertificateAuthority.Create("Test OCA", new FakeClock(Now), Duration.FromDays(3650));

    public static X509Certificate2 Issue(Eui64 entity, RemotePartyRole role) =>
        Authority.Issue(entity, role, "Test party", new FakeClock(Now), Duration.FromDays(365));

    /// <summary>A subject DER from (OID, value writer) pairs, one attribute per RDN, in order.</summary>
    public static X500DistinguishedName Subject(params (string Oid, Action<AsnWriter> Value)[] attributes)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            foreach (var (oid, value) in attributes)
            {
                using (writer.PushSetOf())
                using (writer.PushSequence())
                {
                    writer.WriteObjectIdentifier(oid);
                    value(writer);
                }
            }
        }
        return new X500DistinguishedName(writer.Encode());
    }

    public static (string, Action<AsnWriter>) Ou(string text) =>
        (OrganisationCertificate.OrganizationalUnitOid, w => w.WriteCharacterString(UniversalTagNumber.UTF8String, text));

    public static (string, Action<AsnWriter>) UniqueIdentifier(byte[] bits, int unusedBits = 0) =>
        (OrganisationCertificate.X500UniqueIdentifierOid, w => w.WriteBitString(bits, unusedBits));

    public static (string, Action<AsnWriter>) CommonName(string text) =>
        ("2.5.4.3", w => w.WriteCharacterString(UniversalTagNumber.UTF8String, text));

    /// <summary>A self-signed ECDSA certificate with the given subject on the given curve.</summary>
    public static X509Certificate2 SelfSigned(X500DistinguishedName subject, ECCurve curve)
    {
        using var key = ECDsa.Create(curve);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        return request.CreateSelfSigned(Now.ToDateTimeOffset(), Now.Plus(Duration.FromDays(1)).ToDateTimeOffset());
    }

    public static X509Certificate2 SelfSigned(X500DistinguishedName subject) => SelfSigned(subject, ECCurve.NamedCurves.nistP256);
}
