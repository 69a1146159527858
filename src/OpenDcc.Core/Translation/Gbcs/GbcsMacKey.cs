using System.Buffers.Binary;
using System.Security.Cryptography;
using OpenDcc.Core.Identifiers;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Modes;
using Org.BouncyCastle.Crypto.Parameters;

namespace OpenDcc.Core.Translation.Gbcs;

/// <summary>
/// The AES-128 key the access control broker and one device share for the GBCS MAC (duis-and-dcc.md §5: ECDH P-256,
/// a SHA-256 KDF, AES-GCM). The MAC is AES-GCM used as GMAC: no plaintext, the frame as additional data, a 12-byte tag,
/// and as IV the frame's own first <see cref="GbcsCodec.IvLength"/> bytes (version, direction, message code, originator
/// counter, originator system title: see <see cref="GbcsCodec"/>).
/// </summary>
/// <remarks>
/// GCM takes an IV of any length (NIST SP 800-38D), so the header's counter and system title go in whole, with the
/// direction: under one key no two frames share an IV as long as no originator uses a counter twice in one direction.
/// The broker's and a device's own counters only rise; a device answers each command once (its counter guard drops a
/// replay), and its response carries the command's counter under the device's title and the Response direction, apart
/// from its alerts. .NET's <c>AesGcm</c> takes 12-byte nonces only, so the GCM is BouncyCastle's (AES-NI and carry-less
/// multiply where the CPU has them, no native call per MAC). Each MAC uses a cipher of its own, so a key is shared by
/// threads without a lock; dispose it to clear the key.
/// </remarks>
public sealed class GbcsMacKey : IDisposable
{
    /// <summary>Bytes of the MAC tag at the end of every frame.</summary>
    public const int TagLength = 12;

    /// <summary>AES-128.</summary>
    public const int KeyLength = 16;

    /// <summary>The fixed label at the start of the KDF's OtherInfo; the two system titles follow it.</summary>
    public static ReadOnlySpan<byte> KdfLabel => "OpenDcc GBCS ACB MAC v1"u8;

    private readonly byte[] key;
    private bool disposed;

    private GbcsMacKey(ReadOnlySpan<byte> key) => this.key = key.ToArray();

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

    /// <summary>Writes the GMAC tag of <paramref name="authenticated"/> under <paramref name="iv"/> into <paramref name="tag"/>.</summary>
    internal void ComputeTag(ReadOnlySpan<byte> iv, ReadOnlySpan<byte> authenticated, Span<byte> tag)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        var gcm = new GcmBlockCipher(AesUtilities.CreateEngine());
        gcm.Init(true, new AeadParameters(new KeyParameter(key), TagLength * 8, iv.ToArray()));
        gcm.ProcessAadBytes(authenticated);
        gcm.DoFinal(tag[..TagLength]);
    }

    /// <summary>True if <paramref name="tag"/> is the GMAC tag of <paramref name="authenticated"/> under <paramref name="iv"/>; compared in constant time.</summary>
    internal bool VerifyTag(ReadOnlySpan<byte> iv, ReadOnlySpan<byte> authenticated, ReadOnlySpan<byte> tag)
    {
        if (tag.Length != TagLength)
        {
            return false;
        }
        Span<byte> expected = stackalloc byte[TagLength];
        ComputeTag(iv, authenticated, expected);
        return CryptographicOperations.FixedTimeEquals(expected, tag);
    }

    public void Dispose()
    {
        disposed = true;
        CryptographicOperations.ZeroMemory(key);
    }
}
