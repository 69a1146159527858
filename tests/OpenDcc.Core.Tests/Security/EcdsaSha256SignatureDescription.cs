using System.Security.Cryptography;

using OpenDcc.Core.Security;

namespace OpenDcc.Core.Tests.Security;

/// <summary>
/// ECDSA with SHA-256 for <c>System.Security.Cryptography.Xml.SignedXml</c>, which knows only RSA and DSA
/// out of the box. The signature value is IEEE P1363 <c>r || s</c> (64 bytes on P-256), as XML-DSig
/// (RFC 6931 §2.3.6, RFC 4050) and the DCC Boxed signing tool write it, not the DER that
/// <c>ECDsa.SignHash</c> would otherwise give X.509.
/// </summary>
/// <remarks>
/// <see cref="DuisSignature"/> signs and verifies without <c>SignedXml</c> (for strictness and speed); call
/// <see cref="Register"/> before using <c>SignedXml</c> on DUIS signatures (tests do, to check one against the other).
/// </remarks>
public sealed class EcdsaSha256SignatureDescription : SignatureDescription
{
    private static readonly Lock Gate = new();
    private static bool registered;

    public EcdsaSha256SignatureDescription()
    {
        KeyAlgorithm = typeof(ECDsa).AssemblyQualifiedName;
        DigestAlgorithm = typeof(SHA256).AssemblyQualifiedName;
    }

    /// <summary>Maps <see cref="DuisSignature.SignatureMethod"/> to this description in <see cref="CryptoConfig"/>; safe to call from any thread, any number of times.</summary>
    public static void Register()
    {
        lock (Gate)
        {
            if (!registered)
            {
                CryptoConfig.AddAlgorithm(typeof(EcdsaSha256SignatureDescription), DuisSignature.SignatureMethod);
                registered = true;
            }
        }
    }

    public override HashAlgorithm CreateDigest() => SHA256.Create();

    public override AsymmetricSignatureFormatter CreateFormatter(AsymmetricAlgorithm key) => new Formatter(AsEcdsa(key));

    public override AsymmetricSignatureDeformatter CreateDeformatter(AsymmetricAlgorithm key) => new Deformatter(AsEcdsa(key));

    private static ECDsa AsEcdsa(AsymmetricAlgorithm key) =>
        key as ECDsa ?? throw new CryptographicException($"ecdsa-sha256 needs an ECDSA key, not {key?.GetType().Name ?? "null"}");

    private static void RequireSha256(string name)
    {
        if (!string.Equals(name, "SHA256", StringComparison.OrdinalIgnoreCase) && name != typeof(SHA256).AssemblyQualifiedName)
        {
            throw new CryptographicUnexpectedOperationException($"ecdsa-sha256 hashes with SHA-256, not {name}");
        }
    }

    private static void RequireSha256Length(byte[] hash)
    {
        ArgumentNullException.ThrowIfNull(hash);
        if (hash.Length != SHA256.HashSizeInBytes)
        {
            throw new CryptographicException($"a SHA-256 hash is {SHA256.HashSizeInBytes} bytes, not {hash.Length}");
        }
    }

    private sealed class Formatter(ECDsa key) : AsymmetricSignatureFormatter
    {
        private ECDsa key = key;

        public override void SetKey(AsymmetricAlgorithm key) => this.key = AsEcdsa(key);

        public override void SetHashAlgorithm(string strName) => RequireSha256(strName);

        public override byte[] CreateSignature(byte[] rgbHash)
        {
            RequireSha256Length(rgbHash);
            return key.SignHash(rgbHash, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        }
    }

    private sealed class Deformatter(ECDsa key) : AsymmetricSignatureDeformatter
    {
        private ECDsa key = key;

        public override void SetKey(AsymmetricAlgorithm key) => this.key = AsEcdsa(key);

        public override void SetHashAlgorithm(string strName) => RequireSha256(strName);

        public override bool VerifySignature(byte[] rgbHash, byte[] rgbSignature)
        {
            RequireSha256Length(rgbHash);
            ArgumentNullException.ThrowIfNull(rgbSignature);
            return key.VerifyHash(rgbHash, rgbSignature, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        }
    }
}
