using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using NodaTime;
using OpenDcc.Core.Identifiers;

namespace OpenDcc.Core.Security;

/// <summary>
/// The digital signature a Known Remote Party puts on a critical command (GBCS "Cryptographic Protection I",
/// duis-and-dcc.md §1.7 and §5.1): ECDSA on P-256 over SHA-256, written as r ‖ s (32 bytes each), made with the
/// party's Digital Signing key — the one whose SMKI organisation certificate carries its role (Supplier OU=02,
/// Network Operator OU=03) and the key usage digitalSignature, not its XmlSign key.
/// </summary>
public static class CommandSignature
{
    /// <summary>Bytes of a signature: r and s, 32 bytes each.</summary>
    public const int Length = 64;

    /// <summary>The remote-party roles whose Digital Signing certificates may sign critical commands for a DCC user.</summary>
    public static IReadOnlySet<RemotePartyRole> SigningRoles { get; } = new HashSet<RemotePartyRole> { RemotePartyRole.Supplier, RemotePartyRole.NetworkOperator };

    public static byte[] Sign(ReadOnlySpan<byte> content, ECDsa key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return key.SignData(content, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
    }

    public static bool Verify(ReadOnlySpan<byte> content, ReadOnlySpan<byte> signature, ECDsa publicKey)
    {
        ArgumentNullException.ThrowIfNull(publicKey);
        return signature.Length == Length && publicKey.VerifyData(content, signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
    }

    /// <summary>Whether a certificate is a Digital Signing certificate that may sign critical commands.</summary>
    public static bool IsDigitalSigning(OrganisationCertificate certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        if (!SigningRoles.Contains(certificate.Role))
        {
            return false;
        }
        using var x509 = certificate.ToX509();
        return x509.Extensions.OfType<X509KeyUsageExtension>().SingleOrDefault() is { } usage && usage.KeyUsages.HasFlag(X509KeyUsageFlags.DigitalSignature);
    }

    /// <summary>
    /// Checks a remote party's signature with the Digital Signing certificates bound to it.
    /// </summary>
    /// <param name="certificates">The certificates bound to <paramref name="signer"/> (any roles; only Digital Signing ones count).</param>
    /// <returns>Null when a Digital Signing certificate of <paramref name="signer"/> valid at <paramref name="now"/> verifies the signature; otherwise why not.</returns>
    public static string? Check(ReadOnlySpan<byte> content, ReadOnlySpan<byte> signature, Eui64 signer, IEnumerable<OrganisationCertificate> certificates, Instant now)
    {
        ArgumentNullException.ThrowIfNull(certificates);
        var signing = certificates.Where(c => c.EntityId == signer && IsDigitalSigning(c)).ToList();
        if (signing.Count == 0)
        {
            return $"{signer} has no Digital Signing certificate (OU=02 or 03, key usage digitalSignature)";
        }
        var valid = signing.Where(c => c.IsValidAt(now)).ToList();
        if (valid.Count == 0)
        {
            return $"no Digital Signing certificate of {signer} is valid now ({string.Join("; ", signing.Select(c => $"serial {c.SerialNumber} {WhyNotValid(c, now)}"))})";
        }
        if (signature.Length != Length)
        {
            return $"the signature is {signature.Length} bytes, not {Length}";
        }
        foreach (var certificate in valid)
        {
            using var x509 = certificate.ToX509();
            using var key = x509.GetECDsaPublicKey();
            if (key is not null && Verify(content, signature, key))
            {
                return null;
            }
        }
        return $"the signature does not verify with the Digital Signing certificate of {signer} (serial {string.Join(", ", valid.Select(c => c.SerialNumber))})";
    }

    /// <summary>Why a certificate is not valid at <paramref name="now"/>: revoked, expired or not yet valid.</summary>
    private static string WhyNotValid(OrganisationCertificate certificate, Instant now) => certificate switch
    {
        { RevokedAt: { } revoked } => $"revoked at {revoked}",
        _ when now < certificate.NotBefore => $"valid from {certificate.NotBefore}",
        _ => $"expired at {certificate.NotAfter}",
    };
}
