using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using NodaTime;
using NodaTime.Testing;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Security;

namespace OpenDcc.Core.Tests.Security;

public sealed class MessageLogCheckpointTests
{
    private static readonly Instant Now = Instant.FromUtc(2026, 12, 1, 9, 0);
    private static readonly Eui64 DspId = Eui64.Parse("90-B3-D5-1F-30-00-00-02");
    private static readonly FakeClock Clock = new(Now);
    private static readonly byte[] Hash = [.. Enumerable.Range(0, 32).Select(i => (byte)i)];

    private static MessageLogCheckpoint Sign(X509Certificate2 identity)
    {
        using var key = XmlSignatureKey.ForSigning(identity);
        return MessageLogCheckpoint.Sign(42, Hash, Now, 40, key);
    }

    [Fact]
    public void A_checkpoint_verifies_under_the_dsp_certificate_and_fails_with_a_byte_of_its_hash_or_its_sequence_time_or_previous_changed()
    {
        using var ca = CertificateAuthority.Create("OpenDcc Local CA", Clock, Duration.FromDays(3650));
        using var dsp = ca.Issue(DspId, RemotePartyRole.DspXmlSign, null, Clock, Duration.FromDays(365));
        var checkpoint = Sign(dsp);

        Assert.Null(checkpoint.WhyNotTrusted(dsp, []));
        var changedHash = (byte[])Hash.Clone();
        changedHash[31] ^= 1;
        // Changed, each is signed by no one: the certificate stored with it is the DSP's, so it fails as such.
        Assert.Equal("its signature does not verify with the DSP certificate", (checkpoint with { Hash = changedHash }).WhyNotTrusted(dsp, []));
        Assert.Equal("its signature does not verify with the DSP certificate", (checkpoint with { Sequence = 43 }).WhyNotTrusted(dsp, []));
        Assert.Equal("its signature does not verify with the DSP certificate", (checkpoint with { At = Now.PlusTicks(1) }).WhyNotTrusted(dsp, []));
        // The checkpoint it follows is signed too: another, none (0), or none named at all (read as one signed before v2).
        Assert.Equal(40, checkpoint.Previous);
        foreach (var previous in new long?[] { 39, 0, null })
        {
            Assert.Equal("its signature does not verify with the DSP certificate", (checkpoint with { Previous = previous }).WhyNotTrusted(dsp, []));
        }
        // Known to the local CA that issued it, the stored certificate is trusted, and a change fails under it too.
        Assert.Null(checkpoint.WhyNotTrusted(null, [ca.Certificate]));
        Assert.StartsWith("its signature does not verify with the certificate stored with it", (checkpoint with { Hash = changedHash }).WhyNotTrusted(null, [ca.Certificate]), StringComparison.Ordinal);
    }

    [Fact]
    public void A_checkpoint_signed_before_checkpoints_named_the_one_before_still_verifies_and_not_as_one_naming_any()
    {
        using var ca = CertificateAuthority.Create("OpenDcc Local CA", Clock, Duration.FromDays(3650));
        using var dsp = ca.Issue(DspId, RemotePartyRole.DspXmlSign, null, Clock, Duration.FromDays(365));
        // v1, byte for byte: the domain text, the sequence, the hash's length and the hash, and the time, big-endian.
        var fields = new byte[8 + 4 + Hash.Length + 8];
        BinaryPrimitives.WriteInt64BigEndian(fields, 42);
        BinaryPrimitives.WriteInt32BigEndian(fields.AsSpan(8), Hash.Length);
        Hash.CopyTo(fields, 12);
        BinaryPrimitives.WriteInt64BigEndian(fields.AsSpan(12 + Hash.Length), Now.ToUnixTimeTicks());
        using var key = dsp.GetECDsaPrivateKey()!;
        var v1 = new MessageLogCheckpoint(42, Hash, Now, key.SignHash(SHA256.HashData([.. "OpenDcc message log checkpoint v1"u8, .. fields]), DSASignatureFormat.IeeeP1363FixedFieldConcatenation), dsp.RawData);

        Assert.Null(v1.Previous);
        Assert.Null(v1.WhyNotTrusted(dsp, []));
        Assert.Equal("its signature does not verify with the DSP certificate", (v1 with { Previous = 0 }).WhyNotTrusted(dsp, []));
        Assert.Equal("its signature does not verify with the DSP certificate", (v1 with { Sequence = 43 }).WhyNotTrusted(dsp, []));
    }

    [Fact]
    public void A_checkpoint_signed_by_another_key_fails_unless_a_trusted_issuer_issued_its_dsp_certificate()
    {
        using var localCa = CertificateAuthority.Create("OpenDcc Local CA", Clock, Duration.FromDays(3650));
        using var dsp = localCa.Issue(DspId, RemotePartyRole.DspXmlSign, null, Clock, Duration.FromDays(365));
        // The DSP identity before the one in the keys directory now, issued by the same local CA.
        using var previous = localCa.Issue(DspId, RemotePartyRole.DspXmlSign, null, Clock, Duration.FromDays(365));
        // A CA and a DSP certificate someone made, with the local CA's very name.
        using var madeCa = CertificateAuthority.Create("OpenDcc Local CA", Clock, Duration.FromDays(3650));
        using var made = madeCa.Issue(DspId, RemotePartyRole.DspXmlSign, null, Clock, Duration.FromDays(365));
        // A DCC user's certificate, issued by the local CA.
        using var user = localCa.Issue(Eui64.Parse("90-B3-D5-1F-30-01-00-00"), RemotePartyRole.Supplier, null, Clock, Duration.FromDays(365));

        Assert.Null(Sign(previous).WhyNotTrusted(dsp, [localCa.Certificate]));
        Assert.Contains("its signature does not verify with the trusted CA", Sign(made).WhyNotTrusted(dsp, [localCa.Certificate]), StringComparison.Ordinal);
        Assert.Contains("is not a trusted CA", Sign(previous).WhyNotTrusted(dsp, []), StringComparison.Ordinal);
        Assert.Contains("no DSP XmlSign certificate", Sign(user).WhyNotTrusted(dsp, [localCa.Certificate]), StringComparison.Ordinal);
    }
}
