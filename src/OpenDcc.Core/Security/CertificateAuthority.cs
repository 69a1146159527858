using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using NodaTime;
using OpenDcc.Core.Identifiers;

namespace OpenDcc.Core.Security;

/// <summary>
/// A local issuing CA for an installation without access to the real SMKI: it issues ECDSA P-256
/// organisation certificates in the SMKI shape (role in <c>OU</c>, EUI-64 in <c>x500UniqueIdentifier</c>),
/// signed ecdsa-with-SHA256, like the DCC test OCA "CN=Z1, OU=07".
/// </summary>
public sealed class CertificateAuthority : IDisposable
{
    private readonly X509Certificate2 certificate;

    public CertificateAuthority(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        if (!certificate.HasPrivateKey)
        {
            throw new ArgumentException("a certificate authority needs its private key", nameof(certificate));
        }
        this.certificate = certificate;
    }

    public X509Certificate2 Certificate => certificate;

    /// <summary>Creates a fresh self-signed CA valid for <paramref name="validity"/> from now.</summary>
    public static CertificateAuthority Create(string name, IClock clock, Duration validity)
    {
        ArgumentNullException.ThrowIfNull(clock);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var subject = new X500DistinguishedName($"CN={name}, OU=07");
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        var now = clock.GetCurrentInstant();
        var cert = request.CreateSelfSigned(now.Minus(Duration.FromMinutes(5)).ToDateTimeOffset(), now.Plus(validity).ToDateTimeOffset());
        return new CertificateAuthority(cert);
    }

    /// <summary>Issues a digital-signature organisation certificate with a fresh P-256 key.</summary>
    /// <returns>The certificate with its private key attached.</returns>
    public X509Certificate2 Issue(Eui64 entity, RemotePartyRole role, string? commonName, IClock clock, Duration validity)
    {
        ArgumentNullException.ThrowIfNull(clock);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(OrganisationCertificate.SubjectFor(entity, role, commonName), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        var now = clock.GetCurrentInstant();
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F; // a positive INTEGER
        var notAfter = Instant.Min(now.Plus(validity), Instant.FromDateTimeOffset(certificate.NotAfter.ToUniversalTime()));
        using var issued = request.Create(certificate, now.Minus(Duration.FromMinutes(5)).ToDateTimeOffset(), notAfter.ToDateTimeOffset(), serial);
        return issued.CopyWithPrivateKey(key);
    }

    public void Dispose() => certificate.Dispose();
}
