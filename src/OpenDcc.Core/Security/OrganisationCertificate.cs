using System.Formats.Asn1;
using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using NodaTime;
using OpenDcc.Core.Identifiers;

namespace OpenDcc.Core.Security;

/// <summary>
/// An SMKI-style organisation certificate: ECDSA P-256, subject <c>OU</c> = remote-party role as two hex
/// digits, subject <c>x500UniqueIdentifier</c> = the party's EUI-64 as a BIT STRING.
/// </summary>
/// <param name="IssuerName">The issuer's distinguished name as .NET formats it (e.g. <c>CN=Z1, OU=07</c>).</param>
/// <param name="SerialNumber">The serial number in decimal, as XML signatures carry it in <c>X509SerialNumber</c>.</param>
/// <param name="Thumbprint">SHA-256 of the DER encoding, upper-case hex.</param>
public sealed record OrganisationCertificate(
    Eui64 EntityId,
    RemotePartyRole Role,
    string IssuerName,
    string SerialNumber,
    string Thumbprint,
    Instant NotBefore,
    Instant NotAfter,
    string Pem)
{
    public const string X500UniqueIdentifierOid = "2.5.4.45";
    public const string OrganizationalUnitOid = "2.5.4.11";

    /// <summary>When an operator revoked it (<see cref="Parties.IPartyStore.RevokeCertificateAsync"/>); null while it stands.</summary>
    public Instant? RevokedAt { get; init; }

    /// <summary>Within its validity period and not revoked (a revocation holds from when it is stored, whatever its time says).</summary>
    public bool IsValidAt(Instant instant) => RevokedAt is null && NotBefore <= instant && instant <= NotAfter;

    public X509Certificate2 ToX509() => X509Certificate2.CreateFromPem(Pem);

    /// <summary>Reads and checks the SMKI fields of a certificate.</summary>
    /// <exception cref="InvalidOrganisationCertificateException">a field is missing or malformed.</exception>
    public static OrganisationCertificate FromX509(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        var subject = certificate.Subject;
        using (var key = certificate.GetECDsaPublicKey())
        {
            if (key is null)
            {
                throw new InvalidOrganisationCertificateException(subject, "its key is not an ECDSA key");
            }
            var curve = key.ExportParameters(false).Curve;
            if (!curve.IsNamed || curve.Oid.Value != ECCurve.NamedCurves.nistP256.Oid.Value)
            {
                throw new InvalidOrganisationCertificateException(subject, "its key is not on curve P-256 (prime256v1)");
            }
        }
        string? ou = null;
        Eui64? entity = null;
        foreach (var rdn in certificate.SubjectName.EnumerateRelativeDistinguishedNames())
        {
            if (rdn.HasMultipleElements)
            {
                continue;
            }
            switch (rdn.GetSingleElementType().Value)
            {
                case OrganizationalUnitOid:
                    ou = rdn.GetSingleElementValue();
                    break;
                case X500UniqueIdentifierOid:
                    entity = ReadUniqueIdentifier(rdn.RawData.Span, subject);
                    break;
            }
        }
        if (ou is null)
        {
            throw new InvalidOrganisationCertificateException(subject, "its subject has no OU (remote-party role)");
        }
        if (ou.Length != 2 || !byte.TryParse(ou, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var roleCode) || !Enum.IsDefined((RemotePartyRole)roleCode))
        {
            throw new InvalidOrganisationCertificateException(subject, $"its subject OU '{ou}' is not a known remote-party role (two hex digits such as 02 or 87)");
        }
        if (entity is null)
        {
            throw new InvalidOrganisationCertificateException(subject, "its subject has no x500UniqueIdentifier (EUI-64)");
        }
        return new OrganisationCertificate(
            entity.Value,
            (RemotePartyRole)roleCode,
            certificate.Issuer,
            new System.Numerics.BigInteger(certificate.SerialNumberBytes.Span, isUnsigned: true, isBigEndian: true).ToString(CultureInfo.InvariantCulture),
            Convert.ToHexString(certificate.GetCertHash(HashAlgorithmName.SHA256)),
            Instant.FromDateTimeOffset(certificate.NotBefore.ToUniversalTime()),
            Instant.FromDateTimeOffset(certificate.NotAfter.ToUniversalTime()),
            certificate.ExportCertificatePem());
    }

    private static Eui64 ReadUniqueIdentifier(ReadOnlySpan<byte> rdnDer, string subject)
    {
        // RelativeDistinguishedName ::= SET OF SEQUENCE { type OID, value UniqueIdentifier (BIT STRING) }
        try
        {
            var set = new AsnReader(rdnDer.ToArray(), AsnEncodingRules.DER).ReadSetOf();
            var pair = set.ReadSequence();
            pair.ReadObjectIdentifier();
            var bits = pair.ReadBitString(out var unusedBits);
            if (unusedBits != 0 || bits.Length != 8)
            {
                throw new InvalidOrganisationCertificateException(subject, $"its x500UniqueIdentifier is {bits.Length} bytes, not an 8-byte EUI-64");
            }
            return Eui64.FromBytes(bits);
        }
        catch (AsnContentException e)
        {
            throw new InvalidOrganisationCertificateException(subject, $"its x500UniqueIdentifier is not a BIT STRING ({e.Message})");
        }
    }

    /// <summary>The DER of an SMKI subject: <c>CN</c> (optional), <c>OU</c> = role, <c>x500UniqueIdentifier</c> = EUI-64.</summary>
    public static X500DistinguishedName SubjectFor(Eui64 entity, RemotePartyRole role, string? commonName = null)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            if (commonName is not null)
            {
                WriteRdn(writer, "2.5.4.3", w => w.WriteCharacterString(UniversalTagNumber.UTF8String, commonName));
            }
            WriteRdn(writer, OrganizationalUnitOid, w => w.WriteCharacterString(UniversalTagNumber.UTF8String, ((int)role).ToString("X2", CultureInfo.InvariantCulture)));
            WriteRdn(writer, X500UniqueIdentifierOid, w => w.WriteBitString(entity.ToBytes()));
        }
        return new X500DistinguishedName(writer.Encode());
    }

    private static void WriteRdn(AsnWriter writer, string oid, Action<AsnWriter> value)
    {
        using (writer.PushSetOf())
        using (writer.PushSequence())
        {
            writer.WriteObjectIdentifier(oid);
            value(writer);
        }
    }
}

public sealed class InvalidOrganisationCertificateException(string subject, string fault)
    : Exception($"certificate '{subject}' is not a usable organisation certificate: {fault}")
{
    public string Subject { get; } = subject;

    public string Fault { get; } = fault;
}

/// <summary>
/// A certificate whose issuer and serial number another stored certificate has (<see cref="Holder"/>): an issuer gives
/// each serial once (RFC 5280 4.1.2.2) and a signature names its certificate by the two (XMLDSig X509IssuerSerial), so
/// both cannot be bound; a CA that issued both, or a certificate forged to look like a bound one, is for an operator to see.
/// </summary>
public sealed class DuplicateCertificateSerialException : Exception
{
    public DuplicateCertificateSerialException(OrganisationCertificate certificate, OrganisationCertificate holder)
        : base(MessageOf(certificate, holder))
    {
        Certificate = certificate;
        Holder = holder;
    }

    /// <summary>The certificate refused.</summary>
    public OrganisationCertificate Certificate { get; }

    /// <summary>The stored certificate with that issuer and serial.</summary>
    public OrganisationCertificate Holder { get; }

    private static string MessageOf(OrganisationCertificate certificate, OrganisationCertificate holder)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        ArgumentNullException.ThrowIfNull(holder);
        return $"certificate for {certificate.EntityId} has issuer '{certificate.IssuerName}' and serial {certificate.SerialNumber}, which the {holder.Role} (OU={(int)holder.Role:X2}) certificate bound to {holder.EntityId} already has: a certificate is known by its issuer and serial";
    }
}
