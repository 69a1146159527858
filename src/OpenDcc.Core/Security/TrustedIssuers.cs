using System.Security.Cryptography.X509Certificates;

namespace OpenDcc.Core.Security;

/// <summary>
/// The certificate authorities whose organisation certificates OpenDcc binds to DCC users: the issuing CAs the operator
/// trusts (SMKI's Organisation CA in production; <c>opendcc certs trust add</c>) and the local CA (<c>certs issue</c>).
/// A certificate is taken only if one of them with its issuer's name signed it: a certificate naming a trusted issuer
/// but signed by another key is refused.
/// </summary>
public static class TrustedIssuers
{
    /// <summary>
    /// Null when one of <paramref name="issuers"/> named as the certificate's issuer, and valid at <paramref name="at"/>,
    /// signed it; otherwise why not.
    /// </summary>
    public static string? WhyNotIssuedBy(X509Certificate2 certificate, IReadOnlyList<X509Certificate2> issuers, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        ArgumentNullException.ThrowIfNull(issuers);
        var named = issuers.Where(i => i.SubjectName.RawData.AsSpan().SequenceEqual(certificate.IssuerName.RawData)).ToList();
        if (named.Count == 0)
        {
            return $"its issuer '{certificate.Issuer}' is not a trusted CA (add the CA's certificate with 'opendcc certs trust add')";
        }
        named = [.. named.Where(i => WhyNotAnIssuer(i, at) is null)];
        if (named.Count == 0)
        {
            return $"the trusted CA '{certificate.Issuer}' is not valid now (expired, not yet valid, or no CA): its certificates are not taken";
        }
        var signed = new Org.BouncyCastle.X509.X509CertificateParser().ReadCertificate(certificate.RawData);
        foreach (var issuer in named)
        {
            try
            {
                signed.Verify(new Org.BouncyCastle.X509.X509CertificateParser().ReadCertificate(issuer.RawData).GetPublicKey());
                return null;
            }
            catch (Exception e) when (e is Org.BouncyCastle.Security.GeneralSecurityException or Org.BouncyCastle.Security.SecurityUtilityException or ArgumentException or InvalidOperationException)
            {
                // Not this one: another CA of the same name (a rolled-over key) may have signed it.
            }
        }
        return $"its signature does not verify with the trusted CA '{certificate.Issuer}' (a certificate naming that CA, signed by another key)";
    }

    /// <summary>Why <paramref name="certificate"/> cannot be a trusted issuer; null when it can: a CA certificate (basic constraints; keyCertSign when it has a key usage), valid at <paramref name="at"/> (neither expired nor not yet valid).</summary>
    public static string? WhyNotAnIssuer(X509Certificate2 certificate, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        if (certificate.Extensions.OfType<X509BasicConstraintsExtension>().FirstOrDefault() is not { CertificateAuthority: true })
        {
            return $"'{certificate.Subject}' is not a CA certificate (its basic constraints do not make it a CA)";
        }
        if (certificate.Extensions.OfType<X509KeyUsageExtension>().FirstOrDefault() is { } usage && !usage.KeyUsages.HasFlag(X509KeyUsageFlags.KeyCertSign))
        {
            return $"'{certificate.Subject}' may not sign certificates (its key usage lacks keyCertSign)";
        }
        return at > certificate.NotAfter ? $"'{certificate.Subject}' expired at {certificate.NotAfter.ToUniversalTime():u}"
            : at < certificate.NotBefore ? $"'{certificate.Subject}' is not valid before {certificate.NotBefore.ToUniversalTime():u}"
            : null;
    }
}
