using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using NodaTime;
using NodaTime.Testing;
using OpenDcc.Core.Security;
using static OpenDcc.Core.Tests.Security.TestCertificates;

namespace OpenDcc.Core.Tests.Security;

public class CertificateAuthorityTests
{
    [Fact]
    public void Created_authority_is_a_self_signed_p256_ca_named_like_the_test_oca()
    {
        using var authority = CertificateAuthority.Create("Z1", new FakeClock(Now), Duration.FromDays(3650));
        var certificate = authority.Certificate;

        Assert.True(certificate.HasPrivateKey);
        Assert.Equal("CN=Z1, OU=07", certificate.Subject);
        Assert.Equal(certificate.Subject, certificate.Issuer);
        var constraints = Assert.Single(certificate.Extensions.OfType<X509BasicConstraintsExtension>());
        Assert.True(constraints.CertificateAuthority);
        var usage = Assert.Single(certificate.Extensions.OfType<X509KeyUsageExtension>());
        Assert.True(usage.KeyUsages.HasFlag(X509KeyUsageFlags.KeyCertSign));
        using var key = certificate.GetECDsaPublicKey();
        Assert.Equal(ECCurve.NamedCurves.nistP256.Oid.Value, key!.ExportParameters(false).Curve.Oid.Value);
    }

    [Fact]
    public void Authority_validity_follows_the_clock()
    {
        var clock = new FakeClock(Now);
        using var authority = CertificateAuthority.Create("Z1", clock, Duration.FromDays(10));

        Assert.Equal(Now - Duration.FromMinutes(5), Instant.FromDateTimeOffset(authority.Certificate.NotBefore.ToUniversalTime()));
        Assert.Equal(Now + Duration.FromDays(10), Instant.FromDateTimeOffset(authority.Certificate.NotAfter.ToUniversalTime()));
    }

    [Fact]
    public void Authority_needs_its_private_key()
    {
        using var publicOnly = X509CertificateLoader.LoadCertificate(Authority.Certificate.RawData);

        var error = Assert.Throws<ArgumentException>(() => new CertificateAuthority(publicOnly));

        Assert.Equal("certificate", error.ParamName);
        Assert.Contains("private key", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Issued_certificate_validity_follows_the_fake_clock()
    {
        var clock = new FakeClock(Now);
        clock.Advance(Duration.FromDays(40));

        using var certificate = Authority.Issue(Supplier, RemotePartyRole.Supplier, null, clock, Duration.FromDays(365));
        var parsed = OrganisationCertificate.FromX509(certificate);

        Assert.Equal(Now + Duration.FromDays(40) - Duration.FromMinutes(5), parsed.NotBefore);
        Assert.Equal(Now + Duration.FromDays(40 + 365), parsed.NotAfter);
        Assert.True(parsed.IsValidAt(clock.GetCurrentInstant()));
    }

    [Fact]
    public void Issued_certificate_does_not_outlive_its_authority()
    {
        var clock = new FakeClock(Now);
        using var authority = CertificateAuthority.Create("Short", clock, Duration.FromDays(30));

        using var certificate = authority.Issue(Supplier, RemotePartyRole.Supplier, null, clock, Duration.FromDays(365));

        Assert.Equal(authority.Certificate.NotAfter, certificate.NotAfter);
        Assert.Equal(Now + Duration.FromDays(30), OrganisationCertificate.FromX509(certificate).NotAfter);
    }

    [Fact]
    public void Issued_certificate_chains_to_the_authority()
    {
        using var certificate = Issue(Supplier, RemotePartyRole.Supplier);
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(Authority.Certificate);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.VerificationTime = Now.ToDateTimeUtc();

        Assert.True(chain.Build(certificate), string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation)));
        Assert.Equal(Authority.Certificate.Subject, certificate.Issuer);
    }

    [Fact]
    public void Issued_certificate_is_a_p256_digital_signature_end_entity_with_its_private_key()
    {
        using var certificate = Issue(Supplier, RemotePartyRole.Supplier);

        Assert.True(certificate.HasPrivateKey);
        var usage = Assert.Single(certificate.Extensions.OfType<X509KeyUsageExtension>());
        Assert.Equal(X509KeyUsageFlags.DigitalSignature, usage.KeyUsages);
        Assert.True(usage.Critical);
        Assert.False(Assert.Single(certificate.Extensions.OfType<X509BasicConstraintsExtension>()).CertificateAuthority);
        Assert.Equal("1.2.840.10045.4.3.2", certificate.SignatureAlgorithm.Value); // ecdsa-with-SHA256

        using var privateKey = certificate.GetECDsaPrivateKey()!;
        using var publicKey = certificate.GetECDsaPublicKey()!;
        var data = "DUIS"u8.ToArray();
        Assert.True(publicKey.VerifyData(data, privateKey.SignData(data, HashAlgorithmName.SHA256), HashAlgorithmName.SHA256));
    }

    [Fact]
    public void Each_issued_certificate_has_its_own_positive_serial_and_key()
    {
        using var first = Issue(Supplier, RemotePartyRole.Supplier);
        using var second = Issue(Supplier, RemotePartyRole.Supplier);

        Assert.NotEqual(first.SerialNumber, second.SerialNumber);
        Assert.True(first.SerialNumberBytes.Span[0] < 0x80, "a positive INTEGER has the sign bit of its first (big-endian) byte clear");
        Assert.NotEqual(first.GetPublicKey(), second.GetPublicKey());
    }
}
