using System.Globalization;
using System.Numerics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace OpenDcc.Core.Security;

/// <summary>
/// A certificate's ECDSA P-256 key made ready to sign or verify many DUIS messages: the key is taken out of the
/// certificate once per thread (taking it out costs more than the ECDSA operation itself), and the issuer and
/// serial number a signature names are formatted once.
/// </summary>
/// <remarks>
/// Each thread gets its own <see cref="ECDsa"/> instance, since .NET does not promise that one instance may be used
/// from several threads at once. The certificate stays the caller's to dispose, after this key.
/// </remarks>
public sealed class XmlSignatureKey : IDisposable
{
    private readonly ThreadLocal<ECDsa> keys;
    private readonly bool forSigning;
    private DuisSignature.SignatureTemplate? template;

    private XmlSignatureKey(X509Certificate2 certificate, bool forSigning)
    {
        Certificate = certificate;
        this.forSigning = forSigning;
        // The first key checks the certificate now; every thread, the first included, then gets its own.
        using (var probe = Extract(certificate, forSigning))
        {
            if (probe is null)
            {
                Problem = forSigning ? "the certificate has no ECDSA private key" : $"the certificate '{certificate.Subject}' has no ECDSA key";
            }
            else if (probe.KeySize != 256)
            {
                Problem = $"the key is ECDSA {probe.KeySize}, not P-256";
            }
        }
        keys = new ThreadLocal<ECDsa>(() => Extract(Certificate, this.forSigning)!, trackAllValues: true);
        Issuer = certificate.Issuer;
        X509IssuerName = DuisSignature.FormatIssuerName(certificate.IssuerName);
        SerialNumber = new BigInteger(certificate.SerialNumberBytes.Span, isUnsigned: true, isBigEndian: true).ToString(CultureInfo.InvariantCulture);
    }

    public X509Certificate2 Certificate { get; }

    /// <summary>The issuer in .NET's form (<see cref="X509Certificate.Issuer"/>, <see cref="OrganisationCertificate.IssuerName"/>).</summary>
    public string Issuer { get; }

    /// <summary>The issuer as a signature names it (<see cref="DuisSignature.FormatIssuerName"/>).</summary>
    public string X509IssuerName { get; }

    /// <summary>The serial number in decimal, without leading zeros.</summary>
    public string SerialNumber { get; }

    /// <summary>True for a key made by <see cref="ForSigning"/>.</summary>
    public bool CanSign => forSigning;

    /// <summary>Why this key cannot sign or verify a DUIS signature (no ECDSA key, not P-256); null when it can.</summary>
    public string? Problem { get; }

    /// <summary>The fixed parts of the signatures this key writes (<see cref="DuisSignature.SignCanonical"/>), made on first use.</summary>
    internal DuisSignature.SignatureTemplate Template => template ??= DuisSignature.SignatureTemplate.For(this);

    /// <summary>For signing with the certificate's private key.</summary>
    /// <exception cref="ArgumentException">the certificate has no ECDSA P-256 private key.</exception>
    public static XmlSignatureKey ForSigning(X509Certificate2 certificateWithKey)
    {
        ArgumentNullException.ThrowIfNull(certificateWithKey);
        var key = new XmlSignatureKey(certificateWithKey, forSigning: true);
        if (key.Problem is { } problem)
        {
            key.Dispose();
            throw new ArgumentException(problem, nameof(certificateWithKey));
        }
        return key;
    }

    /// <summary>For verifying with the certificate's public key; a certificate without a P-256 key gives a key whose <see cref="Problem"/> says so.</summary>
    public static XmlSignatureKey ForVerifying(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return new XmlSignatureKey(certificate, forSigning: false);
    }

    internal byte[] SignHash(byte[] hash) =>
        keys.Value!.SignHash(hash, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);

    internal bool VerifyHash(byte[] hash, byte[] signature) =>
        keys.Value!.VerifyHash(hash, signature, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);

    public void Dispose()
    {
        foreach (var key in keys.Values)
        {
            key.Dispose();
        }
        keys.Dispose();
    }

    private static ECDsa? Extract(X509Certificate2 certificate, bool privateKey) =>
        privateKey ? certificate.GetECDsaPrivateKey() : certificate.GetECDsaPublicKey();
}
