using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using NodaTime;

namespace OpenDcc.Core.Security;

/// <summary>
/// The DSP's signed word that the message log's entry <see cref="Sequence"/> had the hash <see cref="Hash"/> at
/// <see cref="At"/>. Whoever can write the store but not the keys directory can rewrite the newest entries and
/// recompute every hash after them, so that the chain checks again; they cannot sign the new hash, so an entry
/// rewritten at or before a checkpoint no longer matches it (<c>opendcc log verify</c>). Entries after the newest
/// checkpoint are covered by the chain alone. Each checkpoint names the one the hub made before it (<see cref="Previous"/>),
/// so that one deleted from the store is found by the next, which names it: a hub that goes on signing its head after
/// the entries under a checkpoint were rewritten and that checkpoint deleted signs the rewritten hash, and names the
/// deleted one.
/// </summary>
/// <param name="Signature">ECDSA P-256 over SHA-256 of the signed bytes (<see cref="SignedBytes"/>), r and s as fixed fields (IEEE P1363).</param>
/// <param name="Signer">The certificate that signed it, DER: the DSP XmlSign certificate of the time.</param>
/// <param name="Previous">
/// The sequence of the checkpoint the hub made before this one (the newest the store held, for a hub's first), 0 if
/// there was none; null for a checkpoint signed before checkpoints named their predecessor (v1), which names none.
/// </param>
public sealed record MessageLogCheckpoint(long Sequence, byte[] Hash, Instant At, byte[] Signature, byte[] Signer, long? Previous = null)
{
    /// <summary>Begins every signed checkpoint, so that no other message signed with the DSP key reads as one: v2 names its predecessor, v1 none.</summary>
    private static readonly byte[] Domain = "OpenDcc message log checkpoint v2"u8.ToArray();

    /// <summary>Began the checkpoints signed before they named their predecessor; those kept still verify.</summary>
    private static readonly byte[] DomainV1 = "OpenDcc message log checkpoint v1"u8.ToArray();

    /// <summary>
    /// Signs entry <paramref name="sequence"/>'s hash, at <paramref name="at"/>, following the checkpoint at entry
    /// <paramref name="previous"/> (0: none before it), with the DSP XmlSign key.
    /// </summary>
    /// <exception cref="ArgumentException">the key cannot sign, or <paramref name="previous"/> is negative.</exception>
    public static MessageLogCheckpoint Sign(long sequence, byte[] hash, Instant at, long previous, XmlSignatureKey key)
    {
        ArgumentNullException.ThrowIfNull(hash);
        ArgumentNullException.ThrowIfNull(key);
        ArgumentOutOfRangeException.ThrowIfNegative(previous);
        if (!key.CanSign)
        {
            throw new ArgumentException("a checkpoint is signed with a key made for signing", nameof(key));
        }
        return new MessageLogCheckpoint(sequence, hash, at, key.SignHash(SHA256.HashData(SignedBytes(sequence, hash, at, previous))), key.Certificate.RawData, previous);
    }

    /// <summary>
    /// Null when the signature is valid under a DSP certificate trusted here: <paramref name="dsp"/>, the key store's
    /// current DSP XmlSign certificate, or the certificate stored with the checkpoint if it is a DSP XmlSign certificate
    /// (OU=89) that one of <paramref name="issuers"/> (the local CA, the trusted issuers) signed, that CA valid at the
    /// checkpoint's time; otherwise why not. A key someone made has neither: no certificate of it was issued by a CA
    /// whose key is in the keys directory or trusted there.
    /// </summary>
    public string? WhyNotTrusted(X509Certificate2? dsp, IReadOnlyList<X509Certificate2> issuers)
    {
        ArgumentNullException.ThrowIfNull(issuers);
        if (dsp is not null && VerifiesWith(dsp))
        {
            return null;
        }
        X509Certificate2 signer;
        try
        {
            signer = X509CertificateLoader.LoadCertificate(Signer);
        }
        catch (CryptographicException)
        {
            return "the certificate stored with it is not a certificate";
        }
        using (signer)
        {
            if (dsp is not null && signer.RawData.AsSpan().SequenceEqual(dsp.RawData))
            {
                return "its signature does not verify with the DSP certificate";
            }
            RemotePartyRole role;
            try
            {
                role = OrganisationCertificate.FromX509(signer).Role;
            }
            catch (InvalidOrganisationCertificateException e)
            {
                return $"it is signed by '{signer.Subject}', not the DSP certificate, and {e.Message}";
            }
            if (role != RemotePartyRole.DspXmlSign)
            {
                return $"it is signed by '{signer.Subject}', not the DSP certificate, and that is no DSP XmlSign certificate (OU=89)";
            }
            if (TrustedIssuers.WhyNotIssuedBy(signer, issuers, At.ToDateTimeOffset()) is { } why)
            {
                return $"it is signed by '{signer.Subject}', not the DSP certificate, and {why}";
            }
            return VerifiesWith(signer) ? null : $"its signature does not verify with the certificate stored with it, '{signer.Subject}'";
        }
    }

    private bool VerifiesWith(X509Certificate2 certificate)
    {
        using var key = XmlSignatureKey.ForVerifying(certificate);
        return key.Problem is null && key.VerifyHash(SHA256.HashData(SignedBytes(Sequence, Hash, At, Previous)), Signature);
    }

    /// <summary>
    /// What is signed: the domain text, then the sequence (8 bytes), the hash's length (4 bytes) and the hash, the time
    /// in Unix ticks (8 bytes) and, from v2 on, the previous checkpoint's sequence (8 bytes), all big-endian. A v1
    /// checkpoint (<paramref name="previous"/> null) has no previous sequence and its own domain text, so no checkpoint
    /// of one version verifies as one of the other.
    /// </summary>
    private static byte[] SignedBytes(long sequence, ReadOnlySpan<byte> hash, Instant at, long? previous)
    {
        var domain = previous is null ? DomainV1 : Domain;
        var bytes = new byte[domain.Length + 8 + 4 + hash.Length + 8 + (previous is null ? 0 : 8)];
        domain.CopyTo(bytes, 0);
        var span = bytes.AsSpan(domain.Length);
        BinaryPrimitives.WriteInt64BigEndian(span, sequence);
        BinaryPrimitives.WriteInt32BigEndian(span[8..], hash.Length);
        hash.CopyTo(span[12..]);
        BinaryPrimitives.WriteInt64BigEndian(span[(12 + hash.Length)..], at.ToUnixTimeTicks());
        if (previous is { } before)
        {
            BinaryPrimitives.WriteInt64BigEndian(span[(20 + hash.Length)..], before);
        }
        return bytes;
    }
}

/// <summary>The message log's checkpoints (<see cref="MessageLogCheckpoint"/>), kept beside it in the store.</summary>
public interface IMessageLogCheckpoints
{
    /// <summary>Keeps a checkpoint; one of a sequence that has one already is not kept again.</summary>
    Task AddCheckpointAsync(MessageLogCheckpoint checkpoint, CancellationToken cancellationToken = default);

    /// <summary>The checkpoints of entries <paramref name="fromSequence"/> to <paramref name="toSequence"/>, in sequence order.</summary>
    IAsyncEnumerable<MessageLogCheckpoint> ReadCheckpointsAsync(long fromSequence = 1, long toSequence = long.MaxValue, CancellationToken cancellationToken = default);

    /// <summary>The checkpoint of the highest sequence kept, or null if none: the one a hub started again follows.</summary>
    Task<MessageLogCheckpoint?> ReadNewestCheckpointAsync(CancellationToken cancellationToken = default);
}
