using System.Globalization;
using System.Numerics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace OpenDcc.Core.Security;

/// <summary>
/// A certificate's ECDSA P-256 key made ready to sign or verify many DUIS messages: the key is taken out of the
/// certificate once for each use at the same time (taking it out costs more than the ECDSA operation itself), and the
/// issuer and serial number a signature names are formatted once.
/// </summary>
/// <remarks>
/// Each use at a time gets its own <see cref="ECDsa"/> instance, since .NET does not promise that one instance may be
/// used from several threads at once: taken from the idle ones and put back, so there are never more than were in use
/// at once. (One per thread, kept for each thread that ever used the key, grew without end in a soak: the thread pool's
/// threads come and go, and the hub's keys live as long as it does.) The certificate stays the caller's to dispose, after this key.
/// </remarks>
public sealed class XmlSignatureKey : IDisposable
{
    private readonly System.Collections.Concurrent.ConcurrentBag<ECDsa> idle = [];
    private readonly bool forSigning;
    private int made;
    private volatile bool disposed;
    private DuisSignature.SignatureTemplate? template;

    private XmlSignatureKey(X509Certificate2 certificate, bool forSigning)
    {
        Certificate = certificate;
        this.forSigning = forSigning;
        // The first key checks the certificate now.
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

    /// <summary>How many <see cref="ECDsa"/> instances this key has taken out of its certificate: the most used at once.</summary>
    internal int InstancesMade => Volatile.Read(ref made);

    internal byte[] SignHash(byte[] hash)
    {
        var key = Rent();
        try
        {
            return key.SignHash(hash, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        }
        finally
        {
            Return(key);
        }
    }

    internal bool VerifyHash(byte[] hash, byte[] signature)
    {
        var key = Rent();
        try
        {
            return key.VerifyHash(hash, signature, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        }
        finally
        {
            Return(key);
        }
    }

    public void Dispose()
    {
        disposed = true;
        while (idle.TryTake(out var key))
        {
            key.Dispose();
        }
    }

    private ECDsa Rent()
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        if (idle.TryTake(out var key))
        {
            return key;
        }
        Interlocked.Increment(ref made);
        return Extract(Certificate, forSigning)!;
    }

    private void Return(ECDsa key)
    {
        idle.Add(key);
        // Put back as the key was disposed: dispose it too.
        if (disposed && idle.TryTake(out var late))
        {
            late.Dispose();
        }
    }

    private static ECDsa? Extract(X509Certificate2 certificate, bool privateKey) =>
        privateKey ? certificate.GetECDsaPrivateKey() : certificate.GetECDsaPublicKey();
}
