using System.Collections.Concurrent;
using System.Security.Cryptography.X509Certificates;
using System.Xml;
using NodaTime;
using OpenDcc.Core.Caching;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Parties;
using OpenDcc.Core.Security;

namespace OpenDcc.Core.Duis;

/// <summary>
/// Authenticates DUIS requests and signs DUIS responses. A request must be signed with the XmlSign (OU=87)
/// certificate registered for the originator EUI-64 in its RequestID, valid now; a response is signed with
/// OpenDcc's DSP XmlSign identity (OU=89), which this object owns from construction.
/// </summary>
public sealed class DuisMessageSecurity(X509Certificate2 dspIdentity, IPartyStore parties, IClock clock) : IDisposable
{
    private readonly XmlSignatureKey dspKey = XmlSignatureKey.ForSigning(dspIdentity);

    private readonly Eui64 dsp = OrganisationCertificate.FromX509(dspIdentity).EntityId;

    // A certificate's content does not change once imported; parsing it and taking out its key once keeps that work off
    // each request. Its binding can (certs revoke, from another process): that is read again once it is
    // BindingFreshFor old, so a revocation reaches a running hub within that.
    private readonly ConcurrentDictionary<(string Issuer, string Serial), (OrganisationCertificate Bound, XmlSignatureKey Key, Instant ReadAt)> known = new();

    /// <summary>How long a certificate's binding read from the store is used before it is read again: how soon a revocation made elsewhere takes effect.</summary>
    public static readonly Duration BindingFreshFor = Duration.FromSeconds(1);

    /// <summary>
    /// How long a certificate no request has named is kept parsed: one in use is read again every
    /// <see cref="BindingFreshFor"/> it is used, so one not read for this long has not signed a request for as long.
    /// </summary>
    public static readonly Duration KeptUnusedFor = Duration.FromMinutes(10);

    private readonly Lock sweeping = new();
    private Instant nextSweep = Instant.MinValue;

    /// <summary>How many certificates are held parsed, bound to their users.</summary>
    public int CertificatesHeld => known.Count;

    /// <summary>The DCC's own EUI-64, from its DSP identity: the target of every non-device request.</summary>
    public Eui64 Dsp => dsp;

    /// <summary>The response, signed with the DSP key.</summary>
    public byte[] Sign(DuisResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        return DuisSignature.SignCanonical(response.ToCanonicalXml(), dspKey);
    }

    /// <summary>The device alert, signed with the DSP key.</summary>
    public byte[] Sign(DuisDeviceAlert alert)
    {
        ArgumentNullException.ThrowIfNull(alert);
        return DuisSignature.SignCanonical(alert.ToCanonicalXml(), dspKey);
    }

    /// <summary>The DCC alert, signed with the DSP key.</summary>
    public byte[] Sign(DuisDccAlert alert)
    {
        ArgumentNullException.ThrowIfNull(alert);
        return DuisSignature.SignCanonical(alert.ToCanonicalXml(), dspKey);
    }

    /// <returns>Null when the request is authentic; otherwise why not (a reason to log as an authentication failure).</returns>
    public async Task<string?> VerifyAsync(XmlDocument document, Eui64 originator, CancellationToken cancellationToken = default)
    {
        if (originator == dsp)
        {
            // Its certificate is the hub's own, bound to no user: "unknown certificate" would mislead.
            return $"OriginatorIsTheDsp: the RequestID's originator {originator} is the DSP (OpenDcc itself); service requests come from DCC users";
        }
        OrganisationCertificate? bound = null;
        var now = clock.GetCurrentInstant();
        SweepIfDue(now);
        var check = await DuisSignature.VerifyAsync(document, async (issuer, serial, ct) =>
        {
            if (known.TryGetValue((issuer, serial), out var entry) && Freshness.ReadWithin(entry.ReadAt, now, BindingFreshFor))
            {
                bound = entry.Bound;
                return entry.Key;
            }
            var found = await parties.FindCertificateAsync(issuer, serial, ct);
            if (found is null)
            {
                return null;
            }
            if (entry.Key is null)
            {
                var key = XmlSignatureKey.ForVerifying(found.ToX509());
                entry = known.GetOrAdd((issuer, serial), (found, key, now));
                if (entry.Key != key)
                {
                    Release(key);
                }
            }
            // The key stays the one parsed first (the same certificate: same issuer and serial); the binding is the one just read.
            known[(issuer, serial)] = entry = entry with { Bound = found, ReadAt = now };
            bound = found;
            return entry.Key;
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
        if (bound.RevokedAt is { } revoked)
        {
            return $"CertificateRevoked: the signing certificate (serial {bound.SerialNumber}) was revoked at {revoked}";
        }
        if (!bound.IsValidAt(now))
        {
            return $"CertificateExpired: the signing certificate is valid {bound.NotBefore} to {bound.NotAfter}";
        }
        return null;
    }

    public void Dispose()
    {
        foreach (var (_, key, _) in known.Values)
        {
            Release(key);
        }
        known.Clear();
        dspKey.Dispose();
        dspIdentity.Dispose();
    }

    /// <summary>
    /// Every <see cref="KeptUnusedFor"/>, drops the certificates not read in that time (or read after now: the clock
    /// stepped back), so that what is held is the certificates signing requests lately, not every one that ever signed
    /// one (rolled over, expired, revoked, its user gone quiet), which it was for as long as the hub ran. A dropped
    /// key is not disposed: a request being verified may hold it; its handles go with the garbage collector.
    /// </summary>
    private void SweepIfDue(Instant now)
    {
        lock (sweeping)
        {
            // Due a period after the last; sooner when the clock stepped back, so a step back does not put sweeps off.
            if (now < nextSweep && nextSweep - now <= KeptUnusedFor)
            {
                return;
            }
            nextSweep = now + KeptUnusedFor;
        }
        foreach (var (certificate, entry) in known)
        {
            if (!Freshness.ReadWithin(entry.ReadAt, now, KeptUnusedFor))
            {
                // Only that entry: one read again meanwhile stays.
                known.TryRemove(new KeyValuePair<(string, string), (OrganisationCertificate, XmlSignatureKey, Instant)>(certificate, entry));
            }
        }
    }

    private static void Release(XmlSignatureKey key)
    {
        key.Dispose();
        key.Certificate.Dispose();
    }
}
