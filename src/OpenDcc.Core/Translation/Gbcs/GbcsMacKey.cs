using System.Buffers.Binary;
using System.Security.Cryptography;
using OpenDcc.Core.Identifiers;

namespace OpenDcc.Core.Translation.Gbcs;

/// <summary>
/// The AES-128 key the access control broker and one device share for the GBCS MAC (duis-and-dcc.md §5: ECDH P-256,
/// a SHA-256 KDF, AES-GCM). The MAC is AES-GCM used as GMAC: no plaintext, the frame as additional data, a 12-byte tag.
/// </summary>
/// <remarks>
/// <see cref="AesGcm"/> is not thread-safe, so one instance is kept and every use takes a lock: a key can be shared by
/// the threads of a head-end. Dispose it when the device's key is retired.
/// </remarks>
public sealed class GbcsMacKey : IDisposable
{
    /// <summary>Bytes of the MAC tag at the end of every frame.</summary>
    public const int TagLength = 12;

    /// <summary>Bytes of the AES-GCM nonce.</summary>
    public const int NonceLength = 12;

    /// <summary>AES-128.</summary>
    public const int KeyLength = 16;

    /// <summary>The fixed label at the start of the KDF's OtherInfo; the two system titles follow it.</summary>
    public static ReadOnlySpan<byte> KdfLabel => "OpenDcc GBCS ACB MAC v1"u8;

    private static ReadOnlySpan<byte> NonceLabel => "OpenDcc GBCS nonce v1"u8;

    private readonly Lock gate = new();
    private readonly AesGcm aes;

    private GbcsMacKey(ReadOnlySpan<byte> key) => aes = new AesGcm(key, TagLength);

    /// <summary>A key from its 16 raw bytes (for keys held elsewhere, and for test vectors).</summary>
    public static GbcsMacKey FromBytes(ReadOnlySpan<byte> key) =>
        key.Length == KeyLength ? new GbcsMacKey(key) : throw new ArgumentException($"A GBCS MAC key is {KeyLength} bytes, not {key.Length}", nameof(key));

    /// <summary>
    /// Derives the key one side holds from its own key-agreement private key and the other side's public key. The
    /// access control broker passes its private key and the device's public key; the device passes its private key and
    /// the broker's public key; both get the same key because ECDH gives both the same shared secret Z and the
    /// OtherInfo always names the broker first.
    /// </summary>
    /// <remarks>
    /// NIST SP 800-56A concatenation KDF with SHA-256, one round: SHA-256(0x00000001 ‖ Z ‖ OtherInfo), OtherInfo =
    /// <see cref="KdfLabel"/> ‖ broker EUI-64 ‖ device EUI-64 (8 bytes each, big-endian). The first 16 bytes are the key.
    /// </remarks>
    public static GbcsMacKey Derive(ECDiffieHellman ownPrivate, ECDiffieHellmanPublicKey peerPublic, Eui64 acb, Eui64 device)
    {
        ArgumentNullException.ThrowIfNull(ownPrivate);
        ArgumentNullException.ThrowIfNull(peerPublic);
        byte[] counter = [0x00, 0x00, 0x00, 0x01];
        var otherInfo = new byte[KdfLabel.Length + 16];
        KdfLabel.CopyTo(otherInfo);
        BinaryPrimitives.WriteUInt64BigEndian(otherInfo.AsSpan(KdfLabel.Length), acb.Value);
        BinaryPrimitives.WriteUInt64BigEndian(otherInfo.AsSpan(KdfLabel.Length + 8), device.Value);
        var digest = ownPrivate.DeriveKeyFromHash(peerPublic, HashAlgorithmName.SHA256, counter, otherInfo);
        try
        {
            return new GbcsMacKey(digest.AsSpan(0, KeyLength));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(digest);
        }
    }

    /// <summary>
    /// The nonce for a frame: the first 12 bytes of SHA-256(label ‖ originator system title ‖ originator counter), both
    /// 8 bytes big-endian. GBCS builds its IV from the system title and the counter; an 8-byte title and an 8-byte
    /// counter do not fit in 12 bytes side by side, and truncating the counter would repeat nonces when it wraps, so
    /// the two are hashed. Each (originator, counter) pair gets its own nonce as long as the originator never reuses a
    /// counter under one key, which is what the counter guard enforces on the receiving side.
    /// </summary>
    internal static byte[] Nonce(Eui64 originator, ulong counter)
    {
        Span<byte> input = stackalloc byte[NonceLabel.Length + 16];
        NonceLabel.CopyTo(input);
        BinaryPrimitives.WriteUInt64BigEndian(input[NonceLabel.Length..], originator.Value);
        BinaryPrimitives.WriteUInt64BigEndian(input[(NonceLabel.Length + 8)..], counter);
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(input, hash);
        return hash[..NonceLength].ToArray();
    }

    /// <summary>Writes the GMAC tag of <paramref name="authenticated"/> under <paramref name="nonce"/> into <paramref name="tag"/>.</summary>
    internal void ComputeTag(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> authenticated, Span<byte> tag)
    {
        lock (gate)
        {
            aes.Encrypt(nonce, [], [], tag, authenticated);
        }
    }

    /// <summary>True if <paramref name="tag"/> is the GMAC tag of <paramref name="authenticated"/>; compared in constant time.</summary>
    internal bool VerifyTag(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> authenticated, ReadOnlySpan<byte> tag)
    {
        if (tag.Length != TagLength)
        {
            return false;
        }
        Span<byte> expected = stackalloc byte[TagLength];
        ComputeTag(nonce, authenticated, expected);
        return CryptographicOperations.FixedTimeEquals(expected, tag);
    }

    public void Dispose()
    {
        lock (gate)
        {
            aes.Dispose();
        }
    }
}
