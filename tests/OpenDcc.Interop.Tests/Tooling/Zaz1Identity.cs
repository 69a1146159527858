using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Security;

namespace OpenDcc.Interop.Tests.Tooling;

/// <summary>
/// A ZAZ1 (DCC Boxed test PKI) XmlSign identity whose certificate and private key the signing tool bundles,
/// extracted from <c>tool.jar</c> at test time into a temporary folder. Never commit these files.
/// </summary>
/// <param name="CertificatePath">The certificate, PEM.</param>
/// <param name="KeyPath">The private key, PKCS#8: DER for the user identities, PEM for the DSP.</param>
public sealed record Zaz1Identity(string Name, Eui64 Id, RemotePartyRole Role, string CertificatePath, string KeyPath)
{
    public override string ToString() => $"{Name} {Id} ({Role})";
}

/// <summary>The XmlSign identities in the signing tool: three DCC users and the DSP that signs responses.</summary>
public sealed record Zaz1Identities(Zaz1Identity Supplier, Zaz1Identity NetworkOperator, Zaz1Identity OtherUser, Zaz1Identity Dsp)
{
    public IReadOnlyList<Zaz1Identity> All => [Supplier, NetworkOperator, OtherUser, Dsp];

    /// <summary>JAR entry stems (<c>STEM.pem</c> certificate, <c>STEM.key</c> or <c>STEM.key.pem</c> key) of each identity.</summary>
    internal static readonly (string Name, string Id, RemotePartyRole Role, string Certificate, string Key)[] JarEntries =
    [
        ("Supplier", "90-B3-D5-1F-30-01-00-00", RemotePartyRole.XmlSign, "xml-sign-90B3D51F30010000-ds.pem", "xml-sign-90B3D51F30010000-ds.key"),
        ("Network Operator", "90-B3-D5-1F-30-02-00-00", RemotePartyRole.XmlSign, "xml-sign-90B3D51F30020000-ds.pem", "xml-sign-90B3D51F30020000-ds.key"),
        ("Other User", "00-DB-12-34-56-78-00-04", RemotePartyRole.XmlSign, "xml-sign-00DB123456780004-ds.pem", "xml-sign-00DB123456780004-ds.key"),
        ("DSP", "90-B3-D5-1F-30-00-00-02", RemotePartyRole.DspXmlSign, "dsp-xml-sign-90B3D51F30000002-ds.pem", "dsp-xml-sign-90B3D51F30000002-ds.key.pem"),
    ];
}
