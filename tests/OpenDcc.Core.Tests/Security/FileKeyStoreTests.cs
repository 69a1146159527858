using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using NodaTime;
using NodaTime.Testing;
using OpenDcc.Core.Security;
using static OpenDcc.Core.Tests.Security.TestCertificates;

namespace OpenDcc.Core.Tests.Security;

public sealed class FileKeyStoreTests : IDisposable
{
    private readonly string directory = Path.Combine(Path.GetTempPath(), "opendcc-keys-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void Saved_dsp_identity_loads_back_with_its_private_key()
    {
        var store = new FileKeyStore(directory);
        using var dsp = Issue(Dsp, RemotePartyRole.DspXmlSign);
        Assert.False(store.HasDspIdentity);

        var saved = store.SaveDspIdentity(dsp);
        using var loaded = store.LoadDspIdentity();

        Assert.True(store.HasDspIdentity);
        Assert.Equal(Dsp, saved.EntityId);
        Assert.Equal(RemotePartyRole.DspXmlSign, saved.Role);
        Assert.Equal(dsp.Thumbprint, loaded.Thumbprint);
        Assert.True(loaded.HasPrivateKey);
        using var loadedKey = loaded.GetECDsaPrivateKey()!;
        using var originalPublic = dsp.GetECDsaPublicKey()!;
        var data = "signed response"u8.ToArray();
        Assert.True(originalPublic.VerifyData(data, loadedKey.SignData(data, HashAlgorithmName.SHA256), HashAlgorithmName.SHA256));
    }

    [Fact]
    public void Private_key_is_written_as_pkcs8_pem_readable_by_the_owner_only()
    {
        var store = new FileKeyStore(directory);
        using var dsp = Issue(Dsp, RemotePartyRole.DspXmlSign);

        store.SaveDspIdentity(dsp);

        var keyPath = Path.Combine(directory, "dsp-xmlsign.key.pem");
        Assert.StartsWith("-----BEGIN PRIVATE KEY-----", File.ReadAllText(keyPath), StringComparison.Ordinal);
        Assert.StartsWith("-----BEGIN CERTIFICATE-----", File.ReadAllText(Path.Combine(directory, "dsp-xmlsign.crt.pem")), StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(directory, "*.tmp"));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(keyPath));
        }
    }

    [Fact]
    public void Saving_again_replaces_the_identity()
    {
        var store = new FileKeyStore(directory);
        using var first = Issue(Dsp, RemotePartyRole.DspXmlSign);
        using var second = Issue(Dsp, RemotePartyRole.DspXmlSign);

        store.SaveDspIdentity(first);
        store.SaveDspIdentity(second);
        using var loaded = store.LoadDspIdentity();

        Assert.Equal(second.Thumbprint, loaded.Thumbprint);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(directory, "dsp-xmlsign.key.pem")));
        }
    }

    [Fact]
    public void A_replacement_cut_short_after_any_step_leaves_the_old_or_the_new_pair_never_a_mismatch()
    {
        using var first = Issue(Dsp, RemotePartyRole.DspXmlSign);
        using var second = Issue(Dsp, RemotePartyRole.DspXmlSign);
        using var third = Issue(Dsp, RemotePartyRole.DspXmlSign);
        var steps = new FileKeyStore(directory).Replacement("dsp-xmlsign", second).Count;

        for (var cut = 0; cut <= steps; cut++)
        {
            Dispose();
            var store = new FileKeyStore(directory);
            store.SaveDspIdentity(first);

            // The process dies after the first `cut` steps of replacing the pair.
            foreach (var step in store.Replacement("dsp-xmlsign", second).Take(cut))
            {
                step();
            }

            Assert.True(store.HasDspIdentity);
            using (var loaded = store.LoadDspIdentity())
            {
                Assert.Contains(loaded.Thumbprint, new[] { first.Thumbprint, second.Thumbprint });
                AssertKeyMatches(loaded);
            }
            // The next start, or the next replacement, finds a store it can use and leaves it clean.
            store.SaveDspIdentity(third);
            using (var replaced = store.LoadDspIdentity())
            {
                Assert.Equal(third.Thumbprint, replaced.Thumbprint);
                AssertKeyMatches(replaced);
            }
            Assert.Equal(["dsp-xmlsign.crt.pem", "dsp-xmlsign.key.pem"], Directory.GetFiles(directory).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        }
    }

    [Fact]
    public async Task A_pair_read_while_another_process_replaces_it_is_read_once_the_change_is_done_and_whole()
    {
        // keys init --force while a hub starts: the hub read the new certificate with the old key, and was refused.
        using var old = Issue(Dsp, RemotePartyRole.DspXmlSign);
        using var replacement = Issue(Dsp, RemotePartyRole.DspXmlSign);
        var changer = new FileKeyStore(directory);
        changer.SaveDspIdentity(old);
        using var waiting = new ManualResetEventSlim();
        var reader = new FileKeyStore(directory) { Waiting = waiting.Set };

        Task<X509Certificate2> read;
        using (changer.LockForChange())
        {
            read = Task.Factory.StartNew(reader.LoadDspIdentity, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
            Assert.True(waiting.Wait(TimeSpan.FromSeconds(30)), "the read did not wait for the change");
            Assert.False(read.IsCompleted);
            changer.SaveDspIdentity(replacement);
        }

        using var loaded = await read.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(replacement.Thumbprint, loaded.Thumbprint);
        AssertKeyMatches(loaded);
    }

    [Fact]
    public void A_pair_read_while_the_first_change_makes_keys_lock_and_replaces_it_is_read_once_the_change_is_done_and_whole()
    {
        // keys init --force where no change had made keys.lock yet, while a hub starts: the hub found no keys.lock, read
        // without it, and took the old certificate with the new key.
        using var old = Issue(Dsp, RemotePartyRole.DspXmlSign);
        using var replacement = Issue(Dsp, RemotePartyRole.DspXmlSign);
        var changer = new FileKeyStore(directory);
        changer.SaveDspIdentity(old);
        Assert.False(File.Exists(Path.Combine(directory, "keys.lock")));
        var steps = changer.Replacement("dsp-xmlsign", replacement);
        IDisposable? change = null;
        var done = false;
        var reader = new FileKeyStore(directory)
        {
            // The read has found the pair's files: the other process makes keys.lock, holds it and replaces the pair up to
            // its key moved into place, its certificate still the .new one.
            ReadingPair = () =>
            {
                if (change is null)
                {
                    change = changer.LockForChange();
                    foreach (var step in steps.Take(steps.Count - 1))
                    {
                        step();
                    }
                }
            },
            // A read waiting for it: the change finishes.
            Waiting = () =>
            {
                if (change is not null && !done)
                {
                    steps[^1]();
                    change.Dispose();
                    done = true;
                }
            },
        };

        try
        {
            using var loaded = reader.LoadDspIdentity();
            Assert.True(done, "the read did not wait for the change");
            Assert.Equal(replacement.Thumbprint, loaded.Thumbprint);
            AssertKeyMatches(loaded);
        }
        finally
        {
            change?.Dispose();
        }
    }

    [Fact]
    public void A_keys_directory_without_keys_lock_is_read_without_making_one()
    {
        // A keys directory its reader may not write (log verify by an auditor) reads only if reading writes nothing.
        using var dsp = Issue(Dsp, RemotePartyRole.DspXmlSign);
        new FileKeyStore(directory).SaveDspIdentity(dsp);
        var reader = new FileKeyStore(directory);

        Assert.True(reader.HasDspIdentity);
        using (var loaded = reader.LoadDspIdentity())
        {
            Assert.Equal(dsp.Thumbprint, loaded.Thumbprint);
        }
        Assert.Equal(Dsp, reader.DspIdOr(Supplier));
        Assert.Empty(reader.LoadTrustedIssuers());

        Assert.Equal(["dsp-xmlsign.crt.pem", "dsp-xmlsign.key.pem"], Directory.GetFiles(directory).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void A_change_reads_the_keys_through_its_own_store_without_waiting_for_itself()
    {
        // The hub, starting, looks for its identity and loads its local CA holding the lock.
        var clock = new FakeClock(Now);
        using var ca = CertificateAuthority.Create("Local", clock, Duration.FromDays(100));
        var store = new FileKeyStore(directory) { Waiting = () => throw new InvalidOperationException("the change waited for itself") };
        store.SaveLocalCa(ca);

        using (store.LockForChange())
        {
            Assert.True(store.HasLocalCa);
            Assert.False(store.HasDspIdentity);
            using var loaded = store.LoadLocalCa();
            store.IssueDspIdentity(loaded, Dsp, clock);
            Assert.Equal(Dsp, store.DspIdOr(Supplier));
        }
        Assert.Equal(Dsp, store.DspIdOr(Supplier));
    }

    [Fact]
    public void A_pair_whose_key_was_replaced_without_its_certificate_is_refused_naming_both_files_and_how_to_recover()
    {
        // What a crash between the key's write and the certificate's left before the pair was replaced as one.
        var store = new FileKeyStore(directory);
        using var old = Issue(Dsp, RemotePartyRole.DspXmlSign);
        using var replacement = Issue(Dsp, RemotePartyRole.DspXmlSign);
        store.SaveDspIdentity(old);
        var (certificatePath, keyPath) = (Path.Combine(directory, "dsp-xmlsign.crt.pem"), Path.Combine(directory, "dsp-xmlsign.key.pem"));
        using (var key = replacement.GetECDsaPrivateKey()!)
        {
            File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem());
        }
        File.WriteAllText(certificatePath + ".tmp", replacement.ExportCertificatePem());

        var error = Assert.Throws<InvalidOperationException>(store.LoadDspIdentity);

        Assert.Equal(
            $"the key in {keyPath} does not match the certificate in {certificatePath}: the pair is half replaced (a write cut short?); " +
            $"if {certificatePath}.tmp holds this key's certificate, move it to {certificatePath}; otherwise put back the pair's missing half, " +
            "or replace the pair with 'opendcc keys import-dsp --force' or 'opendcc keys init --force'",
            error.Message);
        File.Move(certificatePath + ".tmp", certificatePath, overwrite: true);
        using var recovered = store.LoadDspIdentity();
        Assert.Equal(replacement.Thumbprint, recovered.Thumbprint);
    }

    [Fact]
    public void A_trusted_issuer_is_added_while_another_write_of_it_holds_a_temporary_file()
    {
        var store = new FileKeyStore(directory);
        using var ca = CertificateAuthority.Create("Organisation CA", new FakeClock(Now), Duration.FromDays(3650));
        var path = Path.Combine(directory, "trusted-issuers", Convert.ToHexString(ca.Certificate.GetCertHash(HashAlgorithmName.SHA256)) + ".crt.pem");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        // Another 'certs trust add' of the same CA, mid-write (or its file left by a crash): it is its own, not this one's.
        using (var other = new FileStream(path + ".tmp", FileMode.Create, FileAccess.Write, FileShare.None))
        {
            Assert.True(store.AddTrustedIssuer(ca.Certificate));
        }

        Assert.Contains(store.LoadTrustedIssuers(), issuer => issuer.Thumbprint == ca.Certificate.Thumbprint);
        Assert.Equal([path, path + ".tmp"], Directory.GetFiles(Path.GetDirectoryName(path)!).Order(StringComparer.Ordinal));
    }

    private static void AssertKeyMatches(X509Certificate2 loaded)
    {
        using var key = loaded.GetECDsaPrivateKey()!;
        using var certificateKey = loaded.GetECDsaPublicKey()!;
        var data = "signed response"u8.ToArray();
        Assert.True(certificateKey.VerifyData(data, key.SignData(data, HashAlgorithmName.SHA256), HashAlgorithmName.SHA256));
    }

    [Fact]
    public void Xml_sign_certificate_is_refused_as_dsp_identity_naming_ou_89()
    {
        var store = new FileKeyStore(directory);
        using var userXmlSign = Issue(Supplier, RemotePartyRole.XmlSign);

        var error = Assert.Throws<InvalidOrganisationCertificateException>(() => store.SaveDspIdentity(userXmlSign));

        Assert.Contains("OU=89", error.Message, StringComparison.Ordinal);
        Assert.Contains("OU=87", error.Message, StringComparison.Ordinal);
        Assert.False(store.HasDspIdentity);
    }

    [Fact]
    public void Dsp_certificate_without_its_private_key_is_refused()
    {
        var store = new FileKeyStore(directory);
        using var dsp = Issue(Dsp, RemotePartyRole.DspXmlSign);
        using var publicOnly = X509CertificateLoader.LoadCertificate(dsp.RawData);

        Assert.Throws<ArgumentException>(() => store.SaveDspIdentity(publicOnly));
        Assert.False(store.HasDspIdentity);
    }

    [Fact]
    public void Loading_before_anything_was_saved_says_to_run_keys_init()
    {
        var store = new FileKeyStore(directory);

        var error = Assert.Throws<InvalidOperationException>(store.LoadDspIdentity);

        Assert.Contains("'opendcc keys init'", error.Message, StringComparison.Ordinal);
        Assert.False(store.HasLocalCa);
        Assert.Throws<InvalidOperationException>(store.LoadLocalCa);
    }

    [Theory]
    [InlineData("garbage")]
    [InlineData("")]
    [InlineData("p384")]
    public void An_acb_key_agreement_key_that_does_not_read_is_refused_naming_its_file_and_kept(string content)
    {
        var store = new FileKeyStore(directory);
        using (store.LoadOrCreateAcbKeyAgreementKey())
        {
        }
        var path = Path.Combine(directory, "acb-key-agreement.key.pem");
        using (var p384 = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP384))
        {
            File.WriteAllText(path, content == "p384" ? p384.ExportPkcs8PrivateKeyPem() : content);
        }
        var kept = File.ReadAllText(path);

        var error = Assert.Throws<UnreadableKeyFileException>(store.LoadOrCreateAcbKeyAgreementKey);

        Assert.Equal(path, error.Path);
        Assert.StartsWith($"{path} holds no EC P-256 private key", error.Message, StringComparison.Ordinal);
        Assert.Equal(kept, File.ReadAllText(path));
    }

    [Theory]
    [InlineData("not base64!")]
    [InlineData("")]
    [InlineData("AAAA")]
    public void A_secret_that_does_not_read_as_32_bytes_is_refused_naming_its_file_and_kept(string content)
    {
        var store = new FileKeyStore(directory);
        Assert.Equal(32, store.LoadOrCreateSecret("early-smart-translation").Length);
        var path = Path.Combine(directory, "early-smart-translation.secret");
        File.WriteAllText(path, content);

        var error = Assert.Throws<UnreadableKeyFileException>(() => store.LoadOrCreateSecret("early-smart-translation"));

        Assert.Equal($"{path} holds no 32-byte secret in base64", error.Message);
        Assert.Equal(content, File.ReadAllText(path));
    }

    [Fact]
    public void Saved_local_ca_loads_back_and_can_issue()
    {
        var store = new FileKeyStore(directory);
        var clock = new FakeClock(Now);
        using var authority = CertificateAuthority.Create("Local", clock, Duration.FromDays(100));

        store.SaveLocalCa(authority);
        using var loaded = store.LoadLocalCa();
        using var issued = loaded.Issue(Supplier, RemotePartyRole.Supplier, null, clock, Duration.FromDays(10));

        Assert.True(store.HasLocalCa);
        Assert.Equal(authority.Certificate.Thumbprint, loaded.Certificate.Thumbprint);
        Assert.Equal(authority.Certificate.Subject, issued.Issuer);
    }

    [Fact]
    public void Combine_accepts_a_pkcs8_pem_key()
    {
        using var certificate = Issue(Supplier, RemotePartyRole.Supplier);
        using var key = certificate.GetECDsaPrivateKey()!;
        var (certPath, keyPath) = WritePair(certificate, key.ExportPkcs8PrivateKeyPem());

        using var combined = FileKeyStore.Combine(certPath, keyPath);

        Assert.True(combined.HasPrivateKey);
        Assert.Equal(certificate.Thumbprint, combined.Thumbprint);
    }

    [Fact]
    public void Combine_accepts_a_sec1_pem_key()
    {
        using var certificate = Issue(Supplier, RemotePartyRole.Supplier);
        using var key = certificate.GetECDsaPrivateKey()!;
        var (certPath, keyPath) = WritePair(certificate, key.ExportECPrivateKeyPem());

        using var combined = FileKeyStore.Combine(certPath, keyPath);

        Assert.True(combined.HasPrivateKey);
    }

    [Fact]
    public void Combine_accepts_a_pkcs8_der_key()
    {
        using var certificate = Issue(Supplier, RemotePartyRole.Supplier);
        using var key = certificate.GetECDsaPrivateKey()!;
        var (certPath, keyPath) = WritePair(certificate, null);
        File.WriteAllBytes(keyPath, key.ExportPkcs8PrivateKey());

        using var combined = FileKeyStore.Combine(certPath, keyPath);

        Assert.True(combined.HasPrivateKey);
        Assert.Equal(certificate.Thumbprint, combined.Thumbprint);
    }

    [Fact]
    public void Combine_refuses_a_key_that_does_not_match_naming_both_files()
    {
        using var certificate = Issue(Supplier, RemotePartyRole.Supplier);
        using var otherKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var (certPath, keyPath) = WritePair(certificate, otherKey.ExportPkcs8PrivateKeyPem());

        var error = Assert.Throws<CryptographicException>(() => FileKeyStore.Combine(certPath, keyPath));

        Assert.Contains(keyPath, error.Message, StringComparison.Ordinal);
        Assert.Contains(certPath, error.Message, StringComparison.Ordinal);
        Assert.Contains("does not match", error.Message, StringComparison.Ordinal);
    }

    private (string CertPath, string KeyPath) WritePair(X509Certificate2 certificate, string? keyPem)
    {
        Directory.CreateDirectory(directory);
        var certPath = Path.Combine(directory, "party.crt.pem");
        var keyPath = Path.Combine(directory, "party.key");
        File.WriteAllText(certPath, certificate.ExportCertificatePem());
        if (keyPem is not null)
        {
            File.WriteAllText(keyPath, keyPem);
        }
        return (certPath, keyPath);
    }
}
