using System.Collections.Concurrent;
using System.Security.Cryptography.X509Certificates;
using System.Xml;
using NodaTime;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Parties;
using OpenDcc.Core.Security;

namespace OpenDcc.Core.Duis;

/// <summary>
/// Authenticates DUIS requests and signs DUIS responses. A request must be signed with the XmlSign (OU=87)
/// certificate registered for the originator EUI-64 in its RequestID, valid now; a response is signed with
/// OpenDcc's DSP XmlSign identity (OU=89).
/// </summary>
public sealed class DuisMessageSecurity(X509Certificate2 dspIdentity, IPartyStore parties, IClock clock)
{
    // Certificates bound to users do not change once imported; parsing them once keeps the PEM work off each request.
    private readonly ConcurrentDictionary<(string Issuer, string Serial), (OrganisationCertificate Bound, X509Certificate2 Certificate)> known = new();

    public X509Certificate2 DspIdentity { get; } = dspIdentity;

    public byte[] Sign(byte[] unsignedXml) => DuisSignature.Sign(unsignedXml, DspIdentity);

    /// <returns>Null when the request is authentic; otherwise why not (a reason to log as an authentication failure).</returns>
    public async Task<string?> VerifyAsync(XmlDocument document, Eui64 originator, CancellationToken cancellationToken = default)
    {
        OrganisationCertificate? bound = null;
        var check = await DuisSignature.VerifyAsync(document, async (issuer, serial, ct) =>
        {
            if (!known.TryGetValue((issuer, serial), out var entry))
            {
                var found = await parties.FindCertificateAsync(issuer, serial, ct);
                if (found is null)
                {
                    return null;
                }
                entry = (found, found.ToX509());
                known.TryAdd((issuer, serial), entry);
            }
            bound = entry.Bound;
            return entry.Certificate;
        }, cancellationToken);
        if (check is SignatureCheck.Invalid invalid)
        {
            return $"{invalid.Failure}: {invalid.Reason}";
        }
        if (bound!.EntityId != originator)
        {
            return $"OriginatorMismatch: the request is signed with the certificate of {bound.EntityId}, but its RequestID names {originator}";
        }
        if (bound.Role != RemotePartyRole.XmlSign)
        {
            return $"WrongCertificateRole: the signing certificate's role is {bound.Role} (OU={(int)bound.Role:X2}), not XmlSign (OU=87)";
        }
        if (!bound.IsValidAt(clock.GetCurrentInstant()))
        {
            return $"CertificateExpired: the signing certificate is valid {bound.NotBefore} to {bound.NotAfter}";
        }
        return null;
    }
}
