using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using NodaTime;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Security;
using static OpenDcc.Core.Tests.Security.TestCertificates;

namespace OpenDcc.Core.Tests.Security;

/// <summary>Which certificates may vouch for a critical command's signature (GBCS Cryptographic Protection I).</summary>
public sealed class CommandSignatureTests
{
    private static readonly Eui64 OtherSupplier = Eui64.Parse("90-B3-D5-1F-30-01-00-01");

    private static readonly Lazy<(OrganisationCertificate Certificate, ECDsa Key)> SupplierSigning = new(() => Bound(Supplier, RemotePartyRole.Supplier));
    private static readonly Lazy<(OrganisationCertificate Certificate, ECDsa Key)> SupplierXmlSign = new(() => Bound(Supplier, RemotePartyRole.XmlSign));
    private static readonly Lazy<(OrganisationCertificate Certificate, ECDsa Key)> OtherSigning = new(() => Bound(OtherSupplier, RemotePartyRole.Supplier));

    [Property]
    public Property Only_the_signers_own_valid_digital_signing_certificate_vouches_for_its_signature() =>
        Prop.ForAll(VocabularyBytes, Gen.Elements(0, 1, 2).ToArbitrary(), (content, whose) =>
        {
            var signer = new[] { SupplierSigning, SupplierXmlSign, OtherSigning }[whose].Value;
            var signature = CommandSignature.Sign(content, signer.Key);
            var all = new[] { SupplierSigning.Value.Certificate, SupplierXmlSign.Value.Certificate, OtherSigning.Value.Certificate };

            var verdict = CommandSignature.Check(content, signature, Supplier, all, Now);

            // Only a signature by the supplier's Digital Signing key passes, whatever else is bound.
            return (verdict is null) == (whose == 0);
        });

    [Property]
    public Property A_changed_byte_of_content_or_signature_is_refused() =>
        Prop.ForAll(VocabularyBytes, Gen.Choose(0, int.MaxValue).ToArbitrary(), Gen.Choose(1, 255).ToArbitrary(), (content, position, mask) =>
        {
            var signature = CommandSignature.Sign(content, SupplierSigning.Value.Key);
            var bytes = content.Concat(signature).ToArray();
            bytes[position % bytes.Length] ^= (byte)mask;
            return CommandSignature.Check(bytes[..content.Length], bytes[content.Length..], Supplier, [SupplierSigning.Value.Certificate], Now) is not null;
        });

    [Fact]
    public void Only_supplier_and_network_operator_certificates_with_digital_signature_usage_sign_commands()
    {
        Assert.True(CommandSignature.IsDigitalSigning(SupplierSigning.Value.Certificate));
        Assert.False(CommandSignature.IsDigitalSigning(SupplierXmlSign.Value.Certificate));
        Assert.True(CommandSignature.IsDigitalSigning(Bound(Supplier, RemotePartyRole.NetworkOperator).Certificate));
    }

    [Fact]
    public void A_user_without_a_signing_certificate_or_with_only_an_expired_one_is_told_so()
    {
        var content = "critical"u8.ToArray();
        var signature = CommandSignature.Sign(content, SupplierSigning.Value.Key);

        Assert.Contains("no Digital Signing certificate", CommandSignature.Check(content, signature, Supplier, [SupplierXmlSign.Value.Certificate], Now), StringComparison.Ordinal);
        Assert.Contains("valid now", CommandSignature.Check(content, signature, Supplier, [SupplierSigning.Value.Certificate], Now + Duration.FromDays(400)), StringComparison.Ordinal);
        Assert.Null(CommandSignature.Check(content, signature, Supplier, [SupplierSigning.Value.Certificate], Now));
    }

    [Fact]
    public void A_command_signed_with_a_revoked_certificate_is_refused_saying_it_was_revoked()
    {
        var content = "critical"u8.ToArray();
        var signature = CommandSignature.Sign(content, SupplierSigning.Value.Key);
        var certificate = SupplierSigning.Value.Certificate;
        var revoked = certificate with { RevokedAt = Now - Duration.FromMinutes(1) };

        Assert.Equal(
            $"no Digital Signing certificate of {Supplier} is valid now (serial {certificate.SerialNumber} revoked at {Now - Duration.FromMinutes(1)})",
            CommandSignature.Check(content, signature, Supplier, [revoked], Now));
        // Revoked at a time after now (the revoker's clock ahead of this one, or this one stepped back since): revoked all
        // the same, not put off until this clock gets there.
        Assert.Equal(
            $"no Digital Signing certificate of {Supplier} is valid now (serial {certificate.SerialNumber} revoked at {Now + Duration.FromMinutes(1)})",
            CommandSignature.Check(content, signature, Supplier, [certificate with { RevokedAt = Now + Duration.FromMinutes(1) }], Now));
    }

    private static Arbitrary<byte[]> VocabularyBytes => Gen.ArrayOf(Gen.Choose(0, 255).Select(b => (byte)b)).Where(b => b.Length > 0).ToArbitrary();

    private static (OrganisationCertificate Certificate, ECDsa Key) Bound(Eui64 party, RemotePartyRole role)
    {
        using var issued = Issue(party, role);
        return (OrganisationCertificate.FromX509(issued), issued.GetECDsaPrivateKey()!);
    }
}
