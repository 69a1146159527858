using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Security;
using OpenDcc.Interop.Tests.Tooling;

namespace OpenDcc.Interop.Tests;

[Collection(DccToolingCollection.Name)]
public sealed class Zaz1IdentityTests(SignedRtds rtds)
{
    [Fact]
    public void The_supplier_certificate_reads_as_an_XmlSign_organisation_certificate()
    {
        var certificate = Read(rtds.Tooling.Identities.Supplier);
        Assert.Equal(RemotePartyRole.XmlSign, certificate.Role);
        Assert.Equal(0x87, (int)certificate.Role);
        Assert.Equal(Eui64.Parse("90-B3-D5-1F-30-01-00-00"), certificate.EntityId);
    }

    [Fact]
    public void The_DSP_certificate_reads_as_a_DSP_XmlSign_organisation_certificate()
    {
        var certificate = Read(rtds.Tooling.Identities.Dsp);
        Assert.Equal(RemotePartyRole.DspXmlSign, certificate.Role);
        Assert.Equal(0x89, (int)certificate.Role);
        Assert.Equal(Eui64.Parse("90-B3-D5-1F-30-00-00-02"), certificate.EntityId);
    }

    [Theory]
    [InlineData("Supplier")]
    [InlineData("Network Operator")]
    [InlineData("Other User")]
    [InlineData("DSP")]
    public void Each_extracted_key_belongs_to_its_certificate_and_identity(string name)
    {
        var identity = Assert.Single(rtds.Tooling.Identities.All, i => i.Name == name);
        Assert.StartsWith(Path.GetTempPath(), identity.CertificatePath, StringComparison.Ordinal);

        var certificate = Read(identity);
        Assert.Equal(identity.Id, certificate.EntityId);
        Assert.Equal(identity.Role, certificate.Role);

        using var key = ECDsa.Create();
        if (identity.KeyPath.EndsWith(".pem", StringComparison.Ordinal))
        {
            key.ImportFromPem(File.ReadAllText(identity.KeyPath));
        }
        else
        {
            key.ImportPkcs8PrivateKey(File.ReadAllBytes(identity.KeyPath), out _);
        }
        using var x509 = certificate.ToX509();
        using var withKey = x509.CopyWithPrivateKey(key); // throws when the key does not match the certificate
        using var publicKey = withKey.GetECDsaPublicKey()!;
        byte[] data = [1, 2, 3];
        Assert.True(publicKey.VerifyData(data, key.SignData(data, HashAlgorithmName.SHA256), HashAlgorithmName.SHA256));
    }

    private static OrganisationCertificate Read(Zaz1Identity identity)
    {
        using var x509 = X509Certificate2.CreateFromPem(File.ReadAllText(identity.CertificatePath));
        return OrganisationCertificate.FromX509(x509);
    }
}
