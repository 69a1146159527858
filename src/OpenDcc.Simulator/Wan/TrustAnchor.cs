using System.Security.Cryptography;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Security;

namespace OpenDcc.Simulator.Wan;

/// <summary>
/// A remote party's public key as a GBCS device holds it (duis-and-dcc.md §5.1, "Trust anchors on devices"): the
/// role it is trusted in, the party's EUI-64, and the key of its Digital Signing certificate. The device checks a
/// critical command's signature against the anchor of the role, and only if the command names that party.
/// </summary>
public sealed record TrustAnchor(RemotePartyRole Role, Eui64 Party, ReadOnlyMemory<byte> SubjectPublicKeyInfo)
{
    /// <exception cref="ArgumentException">the certificate is not a Digital Signing certificate.</exception>
    public static TrustAnchor FromCertificate(OrganisationCertificate certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        if (!CommandSignature.IsDigitalSigning(certificate))
        {
            throw new ArgumentException($"certificate {certificate.SerialNumber} of {certificate.EntityId} ({certificate.Role}) is not a Digital Signing certificate", nameof(certificate));
        }
        using var x509 = certificate.ToX509();
        return new TrustAnchor(certificate.Role, certificate.EntityId, x509.PublicKey.ExportSubjectPublicKeyInfo());
    }

    /// <summary>Whether <paramref name="signature"/> is this party's signature of <paramref name="content"/>.</summary>
    public bool Verifies(ReadOnlySpan<byte> content, ReadOnlySpan<byte> signature)
    {
        using var key = ECDsa.Create();
        key.ImportSubjectPublicKeyInfo(SubjectPublicKeyInfo.Span, out _);
        return CommandSignature.Verify(content, signature, key);
    }
}
