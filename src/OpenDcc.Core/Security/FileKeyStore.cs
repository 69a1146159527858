using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace OpenDcc.Core.Security;

/// <summary>
/// The file-based key store (the default; an HSM can take its place later): PEM files in one directory,
/// private keys PKCS#8 and readable by the owner only. Holds the installation's local CA and the DSP
/// XmlSign identity OpenDcc signs DUIS responses with.
/// </summary>
public sealed class FileKeyStore(string directory)
{
    private const string AcbKeyAgreementName = "acb-key-agreement";

    public string Directory { get; } = directory;

    /// <summary>A key pair this store keeps, with what its errors call it and how they say to replace it.</summary>
    private sealed record Pair(string Name, string What, string Missing, string Replace);

    private static readonly Pair Dsp = new("dsp-xmlsign", "the DSP XmlSign identity", "no DSP XmlSign identity: run 'opendcc keys init' or 'opendcc keys import-dsp'",
        "'opendcc keys import-dsp --force' or 'opendcc keys init --force'");

    private static readonly Pair Ca = new("local-ca", "the local CA", "no local CA: run 'opendcc keys init'",
        "'opendcc keys init --force' (which makes a new DSP XmlSign identity too)");

    /// <summary>Whether the DSP XmlSign identity's certificate and key are both here.</summary>
    /// <exception cref="InvalidOperationException">one of the two is here without the other.</exception>
    public bool HasDspIdentity => Reading(() => Has(Dsp));

    /// <summary>Whether the local CA's certificate and key are both here.</summary>
    /// <exception cref="InvalidOperationException">one of the two is here without the other.</exception>
    public bool HasLocalCa => Reading(() => Has(Ca));

    /// <summary>
    /// Whether <paramref name="pair"/>'s certificate and key are both here. One without the other is neither: a new pair
    /// in its place would lose the key that stayed (the only copy of the one that signed the hub's responses, or issued
    /// the users' certificates) or the certificate users hold for it, so it is refused, naming the file missing.
    /// </summary>
    private bool Has(Pair pair)
    {
        var (certificatePath, keyPath) = Current(pair.Name);
        var (certificate, key) = (File.Exists(certificatePath), File.Exists(keyPath));
        return certificate == key ? certificate
            : throw new InvalidOperationException(
                $"{(certificate ? certificatePath : keyPath)} is there without {(certificate ? keyPath : certificatePath)}: {pair.What} is incomplete; " +
                $"put the missing file back (nothing here replaces it), or replace the pair with {pair.Replace}");
    }

    /// <summary>How long a read waits for a change in progress (a few writes, each flushed to disk) before it is refused.</summary>
    private static readonly TimeSpan ChangeWait = TimeSpan.FromSeconds(30);

    /// <summary>How long a change waits for reads in progress (each a few small files) before it is refused.</summary>
    private static readonly TimeSpan ReadsWait = TimeSpan.FromSeconds(2);

    /// <summary>Called each time a read or a change finds <c>keys.lock</c> held by another and waits (the tests see a read wait).</summary>
    internal Action? Waiting { get; init; }

    /// <summary>Called each time a read has found which files hold a pair, before it reads them (the tests change the pair there).</summary>
    internal Action? ReadingPair { get; init; }

    /// <summary>How many changes through this store hold <c>keys.lock</c> now (<see cref="LockForChange"/>): its own reads do not wait for them.</summary>
    private int changing;

    private string LockPath => Path.Combine(Directory, "keys.lock");

    /// <summary>
    /// Makes this process the only one changing these keys until disposed: <c>keys.lock</c> in the directory, held
    /// exclusively, once reads in progress in other processes (which hold it shared) are done. Making a key pair is a
    /// look at what is there and several writes, and two at once left one's certificate beside the other's key. This
    /// store's own reads meanwhile go ahead: they are the change's.
    /// </summary>
    /// <exception cref="InvalidOperationException">another process holds it.</exception>
    public IDisposable LockForChange()
    {
        System.IO.Directory.CreateDirectory(Directory);
        var file = Hold(() => new FileStream(LockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None), ReadsWait,
            e => new InvalidOperationException($"another opendcc process is changing the keys in {Directory} (it holds {LockPath}): change them one at a time", e));
        Interlocked.Increment(ref changing);
        return new Change(this, file);
    }

    /// <summary><c>keys.lock</c> held for a change through <paramref name="store"/>, until disposed.</summary>
    private sealed class Change(FileKeyStore store, FileStream file) : IDisposable
    {
        private int disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref disposed, 1) == 0)
            {
                Interlocked.Decrement(ref store.changing);
                file.Dispose();
            }
        }
    }

    /// <summary>
    /// What <paramref name="read"/> makes of the keys, read with <c>keys.lock</c> held shared, so never while another
    /// process changes them (<see cref="LockForChange"/>): a pair read then could be the new certificate with the old
    /// key. Through a store that holds the lock for a change, at once. Where there is no <c>keys.lock</c> (no change was
    /// ever made there under it) the keys are read without it, and the read is kept only if there is still none once it is
    /// done (<see cref="ReadBeforeAnyChange"/>). Where this user may not open it, the keys are read as they are, as they
    /// were before readers took it.
    /// </summary>
    /// <exception cref="InvalidOperationException">another process held it for a change longer than <see cref="ChangeWait"/>.</exception>
    private T Reading<T>(Func<T> read)
    {
        if (Volatile.Read(ref changing) > 0)
        {
            return read();
        }
        while (true)
        {
            FileStream file;
            try
            {
                file = Hold(() => new FileStream(LockPath, FileMode.Open, FileAccess.Read, FileShare.Read), ChangeWait,
                    e => new InvalidOperationException($"another opendcc process has been changing the keys in {Directory} for over {ChangeWait.TotalSeconds:0} s (it holds {LockPath}): they were not read; try again when it is done", e));
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
            {
                if (ReadBeforeAnyChange(read, out var before))
                {
                    return before;
                }
                // A change began meanwhile: read again, waiting for it under keys.lock.
                continue;
            }
            catch (UnauthorizedAccessException)
            {
                return read();
            }
            using (file)
            {
                return read();
            }
        }
    }

    /// <summary>
    /// <paramref name="read"/> made where there was no <c>keys.lock</c>, true and its result when there is still none once
    /// it is done. The first change made here creates <c>keys.lock</c>, and a change made while the read ran could give it
    /// the old key with the new certificate, or a file moved away between its look and its read. Every change creates
    /// <c>keys.lock</c> before it writes anything (<see cref="LockForChange"/>) and nothing removes it, so a read done
    /// before it appeared saw no change; a read after which it is there is dropped (its result disposed, its error
    /// forgotten), to be made again under it. The read itself creates nothing, so a keys directory its user may not write
    /// still reads; making <c>keys.lock</c> here instead would leave such a reader torn, and give the lock to its user.
    /// </summary>
    private bool ReadBeforeAnyChange<T>(Func<T> read, [System.Diagnostics.CodeAnalysis.MaybeNullWhen(false)] out T result)
    {
        try
        {
            result = read();
        }
        catch (Exception) when (File.Exists(LockPath))
        {
            result = default;
            return false;
        }
        if (!File.Exists(LockPath))
        {
            return true;
        }
        switch (result)
        {
            case IDisposable one:
                one.Dispose();
                break;
            case IEnumerable<IDisposable> many:
                foreach (var each in many)
                {
                    each.Dispose();
                }
                break;
        }
        result = default;
        return false;
    }

    /// <summary>
    /// <c>keys.lock</c> opened with <paramref name="open"/>, waiting up to <paramref name="wait"/> while another holds it
    /// (a lock held elsewhere is a sharing violation, an <see cref="IOException"/>); then <paramref name="refused"/>.
    /// </summary>
    private FileStream Hold(Func<FileStream> open, TimeSpan wait, Func<IOException, Exception> refused)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            try
            {
                return open();
            }
            catch (IOException e) when (e is not FileNotFoundException and not DirectoryNotFoundException)
            {
                if (waited.Elapsed >= wait)
                {
                    throw refused(e);
                }
                Waiting?.Invoke();
                Thread.Sleep(TimeSpan.FromMilliseconds(20));
            }
        }
    }

    /// <summary>The DSP XmlSign certificate with its private key.</summary>
    /// <exception cref="InvalidOperationException">none was initialised or imported, or its certificate or key is missing.</exception>
    public X509Certificate2 LoadDspIdentity() => Reading(() => Load(Dsp));

    /// <summary>
    /// The DSP XmlSign certificate without its key, for checking what it signed (a reader who may not read the key);
    /// null when there is none.
    /// </summary>
    public X509Certificate2? LoadDspCertificate() => Reading(() =>
    {
        var path = Current(Dsp.Name).Certificate;
        return File.Exists(path) ? X509Certificate2.CreateFromPem(File.ReadAllText(path)) : null;
    });

    /// <summary>
    /// The DCC's EUI-64 here: that of the DSP XmlSign identity, which may be another than DCC Boxed's
    /// (<c>opendcc keys init --dsp-id</c>, <c>keys import-dsp</c>); <paramref name="fresh"/> when there is none yet, the
    /// one a hub gives the identity it makes.
    /// </summary>
    public Identifiers.Eui64 DspIdOr(Identifiers.Eui64 fresh) => Reading(() =>
    {
        if (!Has(Dsp))
        {
            return fresh;
        }
        using var identity = Load(Dsp);
        return OrganisationCertificate.FromX509(identity).EntityId;
    });

    public CertificateAuthority LoadLocalCa() => new(Reading(() => Load(Ca)));

    /// <summary>Where the certificates of the CAs added with <see cref="AddTrustedIssuer"/> are kept, one file each.</summary>
    private string TrustedIssuersDirectory => Path.Combine(Directory, "trusted-issuers");

    /// <summary>
    /// Keeps a CA's certificate (no key) among the trusted issuers (<see cref="TrustedIssuers"/>), by its SHA-256
    /// thumbprint; false when it was there already.
    /// </summary>
    public bool AddTrustedIssuer(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        var path = Path.Combine(TrustedIssuersDirectory, Convert.ToHexString(certificate.GetCertHash(HashAlgorithmName.SHA256)) + ".crt.pem");
        // The local CA is trusted already, as itself.
        if (File.Exists(path) || Reading(() => IsLocalCa(certificate)))
        {
            return false;
        }
        System.IO.Directory.CreateDirectory(TrustedIssuersDirectory);
        WriteDurably(path, certificate.ExportCertificatePem(), ownerOnly: false);
        return true;
    }

    private bool IsLocalCa(X509Certificate2 certificate)
    {
        var path = Current(Ca.Name).Certificate;
        if (!File.Exists(path))
        {
            return false;
        }
        using var local = X509Certificate2.CreateFromPem(File.ReadAllText(path));
        return local.RawData.AsSpan().SequenceEqual(certificate.RawData);
    }

    /// <summary>The trusted issuers' certificates: the local CA's, when there is one, and those added, in file order.</summary>
    public IReadOnlyList<X509Certificate2> LoadTrustedIssuers() => Reading(() =>
    {
        var issuers = new List<X509Certificate2>();
        var localCa = Current(Ca.Name).Certificate;
        if (File.Exists(localCa))
        {
            issuers.Add(X509Certificate2.CreateFromPem(File.ReadAllText(localCa)));
        }
        if (System.IO.Directory.Exists(TrustedIssuersDirectory))
        {
            foreach (var file in System.IO.Directory.GetFiles(TrustedIssuersDirectory, "*.crt.pem").Order(StringComparer.Ordinal))
            {
                issuers.Add(X509Certificate2.CreateFromPem(File.ReadAllText(file)));
            }
        }
        return issuers;
    });

    /// <summary>Where the newest message log checkpoint the hub made is recorded (<see cref="RecordCheckpoint"/>).</summary>
    public string CheckpointRecordPath => Path.Combine(Directory, "message-log-checkpoint");

    /// <summary>
    /// Records <paramref name="checkpoint"/>, just kept in the store, as the newest the hub made: its sequence, hash and
    /// time. Whoever can write the store can delete its newest checkpoints, which the store alone cannot show (a hub killed
    /// leaves entries after its last too); this directory is the one they cannot write, so <c>log verify</c> finds the
    /// checkpoint recorded here missing from the store. Written as the keys are, crash-safely, without <c>keys.lock</c>:
    /// one file replaced by a rename is read whole, the old record or the new, and the lock orders the changes of a pair.
    /// </summary>
    public void RecordCheckpoint(MessageLogCheckpoint checkpoint)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        System.IO.Directory.CreateDirectory(Directory);
        WriteDurably(CheckpointRecordPath, $"{checkpoint.Sequence} {Convert.ToHexString(checkpoint.Hash)} {NodaTime.Text.InstantPattern.ExtendedIso.Format(checkpoint.At)}\n", ownerOnly: false);
    }

    /// <summary>The newest message log checkpoint the hub recorded here (<see cref="RecordCheckpoint"/>), or null if none was.</summary>
    /// <exception cref="UnreadableKeyFileException">the file holds no record.</exception>
    public RecordedCheckpoint? ReadRecordedCheckpoint()
    {
        var path = CheckpointRecordPath;
        if (!File.Exists(path))
        {
            return null;
        }
        var fields = System.Text.Encoding.UTF8.GetString(ReadFile(path)).Trim().Split(' ');
        var hash = new byte[32];
        return fields.Length == 3 && long.TryParse(fields[0], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var sequence) && sequence > 0
            && Convert.FromHexString(fields[1], hash, out _, out var written) == System.Buffers.OperationStatus.Done && written == hash.Length
            && NodaTime.Text.InstantPattern.ExtendedIso.Parse(fields[2]) is { Success: true } at
            ? new RecordedCheckpoint(sequence, hash, at.Value)
            : throw new UnreadableKeyFileException(path, $"{path} holds no message log checkpoint record (its sequence, hash and time)", null);
    }

    /// <summary>Saves a DSP identity after checking it is an ECDSA P-256 certificate with OU=89 whose key matches.</summary>
    /// <exception cref="InvalidOrganisationCertificateException">it is not a DSP XmlSign certificate.</exception>
    public OrganisationCertificate SaveDspIdentity(X509Certificate2 certificateWithKey)
    {
        ArgumentNullException.ThrowIfNull(certificateWithKey);
        var parsed = OrganisationCertificate.FromX509(certificateWithKey);
        if (parsed.Role != RemotePartyRole.DspXmlSign)
        {
            throw new InvalidOrganisationCertificateException(certificateWithKey.Subject, $"its role is {parsed.Role} (OU={(int)parsed.Role:X2}), not DspXmlSign (OU=89)");
        }
        Save(Dsp.Name, certificateWithKey);
        return parsed;
    }

    /// <summary>
    /// The Access Control Broker's key-agreement key (ECDH P-256), from which the MAC key shared with each device
    /// is derived; created on first use and kept, so devices that hold its public key keep accepting commands.
    /// </summary>
    public ECDiffieHellman LoadOrCreateAcbKeyAgreementKey()
    {
        var path = KeyPath(AcbKeyAgreementName);
        var key = ECDiffieHellman.Create();
        if (Kept(path) is { } pem)
        {
            // Never a new key in place of one that does not read: the devices hold its public key.
            var fault = $"{path} holds no EC P-256 private key (PKCS#8 or SEC1 PEM), the ACB's key agreement key";
            try
            {
                key.ImportFromPem(pem);
            }
            catch (Exception e) when (e is ArgumentException or CryptographicException)
            {
                key.Dispose();
                throw new UnreadableKeyFileException(path, fault, e);
            }
            if (key.ExportParameters(false).Curve.Oid.Value != ECCurve.NamedCurves.nistP256.Oid.Value)
            {
                key.Dispose();
                throw new UnreadableKeyFileException(path, $"{fault} (its key is on another curve)", null);
            }
            return key;
        }
        key.GenerateKey(ECCurve.NamedCurves.nistP256);
        WriteOrDefer(path, key.ExportPkcs8PrivateKeyPem());
        return key;
    }

    /// <summary>
    /// A named 32-byte secret (for example the key early-smart answers are translated under), created on first use
    /// and kept, readable by the owner only.
    /// </summary>
    public byte[] LoadOrCreateSecret(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var path = Path.Combine(Directory, name + ".secret");
        if (Kept(path) is { } text)
        {
            // Never a new secret in place of one that does not read: what was translated under it is read with it.
            var kept = new byte[32];
            return Convert.TryFromBase64String(text.Trim(), kept, out var length) && length == kept.Length ? kept
                : throw new UnreadableKeyFileException(path, $"{path} holds no 32-byte secret in base64", null);
        }
        var secret = RandomNumberGenerator.GetBytes(32);
        WriteOrDefer(path, Convert.ToBase64String(secret));
        return secret;
    }

    private readonly Lock deferring = new();

    /// <summary>The keys and secrets made on first use since <see cref="DeferWrites"/>, by path; null when they are written at once.</summary>
    private Dictionary<string, string>? deferred;

    /// <summary>
    /// From now until <see cref="WriteDeferred"/>, a key or secret made on first use (<see cref="LoadOrCreateAcbKeyAgreementKey"/>,
    /// <see cref="LoadOrCreateSecret"/>) is kept in memory, and given again when asked for again, but not written: for a
    /// start-up that may yet be refused (an adapter that does not load), which then leaves the directory as it was.
    /// </summary>
    public void DeferWrites()
    {
        lock (deferring)
        {
            deferred ??= new Dictionary<string, string>(StringComparer.Ordinal);
        }
    }

    /// <summary>Writes the keys and secrets made since <see cref="DeferWrites"/>; from now on they are written as they are made.</summary>
    public void WriteDeferred()
    {
        lock (deferring)
        {
            foreach (var (path, text) in deferred ?? [])
            {
                WritePrivate(path, text);
            }
            deferred = null;
        }
    }

    /// <summary>What the key or secret file at <paramref name="path"/> holds, or one made but not written yet; null when neither.</summary>
    private string? Kept(string path)
    {
        lock (deferring)
        {
            if (deferred is not null && deferred.TryGetValue(path, out var made))
            {
                return made;
            }
        }
        return File.Exists(path) ? File.ReadAllText(path) : null;
    }

    private void WriteOrDefer(string path, string text)
    {
        lock (deferring)
        {
            if (deferred is not null)
            {
                deferred[path] = text;
                return;
            }
        }
        WritePrivate(path, text);
    }

    /// <summary>Creates a fresh local CA and a DSP XmlSign identity it issues, replacing any there were.</summary>
    public OrganisationCertificate Initialise(Identifiers.Eui64 dspId, NodaTime.IClock clock)
    {
        using var ca = CreateLocalCa(clock);
        return IssueDspIdentity(ca, dspId, clock);
    }

    /// <summary>A fresh local CA, saved (replacing any); the caller disposes it.</summary>
    public CertificateAuthority CreateLocalCa(NodaTime.IClock clock)
    {
        var ca = CertificateAuthority.Create("OpenDcc Local CA", clock, NodaTime.Duration.FromDays(365 * 20));
        SaveLocalCa(ca);
        return ca;
    }

    /// <summary>A fresh DSP XmlSign identity issued by <paramref name="ca"/>, saved (replacing any).</summary>
    public OrganisationCertificate IssueDspIdentity(CertificateAuthority ca, Identifiers.Eui64 dspId, NodaTime.IClock clock)
    {
        ArgumentNullException.ThrowIfNull(ca);
        using var identity = ca.Issue(dspId, RemotePartyRole.DspXmlSign, null, clock, NodaTime.Duration.FromDays(365 * 10));
        return SaveDspIdentity(identity);
    }

    public void SaveLocalCa(CertificateAuthority authority)
    {
        ArgumentNullException.ThrowIfNull(authority);
        Save(Ca.Name, authority.Certificate);
    }

    /// <summary>Pairs a PEM certificate with a private key given as PEM (PKCS#8 or SEC1) or raw PKCS#8 DER.</summary>
    /// <exception cref="UnreadableKeyFileException">a file does not hold what it should.</exception>
    /// <exception cref="CryptographicException">the key does not match the certificate.</exception>
    public static X509Certificate2 Combine(string certificatePath, string keyPath)
    {
        X509Certificate2 certificate;
        try
        {
            certificate = X509Certificate2.CreateFromPem(System.Text.Encoding.UTF8.GetString(ReadFile(certificatePath)));
        }
        catch (CryptographicException e)
        {
            throw new UnreadableKeyFileException(certificatePath, $"{certificatePath} holds no PEM certificate ({e.Message})", e);
        }
        using (certificate)
        using (var key = ECDsa.Create())
        {
            var keyBytes = ReadFile(keyPath);
            if (keyBytes.AsSpan().IndexOf("-----BEGIN ENCRYPTED PRIVATE KEY-----"u8) >= 0)
            {
                throw new UnreadableKeyFileException(keyPath, $"{keyPath} holds an encrypted private key; give it unencrypted (openssl pkcs8 -topk8 -nocrypt -in {Path.GetFileName(keyPath)} -out key.pem), kept readable by its owner only", null);
            }
            try
            {
                if (keyBytes.AsSpan().IndexOf("-----BEGIN"u8) >= 0)
                {
                    key.ImportFromPem(System.Text.Encoding.ASCII.GetString(keyBytes));
                }
                else
                {
                    key.ImportPkcs8PrivateKey(keyBytes, out _);
                }
            }
            catch (Exception e) when (e is CryptographicException or ArgumentException)
            {
                throw new UnreadableKeyFileException(keyPath, $"{keyPath} holds no EC private key (PKCS#8 or SEC1 PEM, or PKCS#8 DER)", e);
            }
            try
            {
                return certificate.CopyWithPrivateKey(key);
            }
            catch (ArgumentException e)
            {
                throw new CryptographicException($"the key in '{keyPath}' does not match the certificate in '{certificatePath}'", e);
            }
        }
    }

    /// <summary>
    /// The most of a key or certificate file that is read: a PEM certificate or key is a few KB, a CA bundle some hundred;
    /// a file longer is neither (a disk image, <c>/dev/zero</c>), and read whole it would fill the memory.
    /// </summary>
    public const int MaxFileBytes = 1024 * 1024;

    /// <summary>A key or certificate file's bytes.</summary>
    /// <exception cref="UnreadableKeyFileException">it holds more than <see cref="MaxFileBytes"/>.</exception>
    public static byte[] ReadFile(string path) =>
        BoundedFile.ReadAtMost(path, MaxFileBytes)
            ?? throw new UnreadableKeyFileException(path, $"{path} holds more than {MaxFileBytes / 1024 / 1024} MiB, which no key or certificate file does", null);

    private X509Certificate2 Load(Pair pair)
    {
        if (!Has(pair))
        {
            throw new InvalidOperationException(pair.Missing);
        }
        var (certificatePath, keyPath) = Current(pair.Name);
        ReadingPair?.Invoke();
        try
        {
            return Combine(certificatePath, keyPath);
        }
        catch (CryptographicException e) when (e is not UnreadableKeyFileException)
        {
            // What a replacement cut short by a crash left before the pair was written as one (its certificate in a
            // .tmp beside the old one, its key in place): never a mismatched pair, and no guess at which file is right.
            var leftOver = System.IO.Directory.Exists(Directory)
                ? System.IO.Directory.GetFiles(Directory, pair.Name + ".crt.pem*.tmp").Order(StringComparer.Ordinal).ToList()
                : [];
            throw new InvalidOperationException(
                $"the key in {keyPath} does not match the certificate in {certificatePath}: the pair is half replaced (a write cut short?); " +
                (leftOver.Count > 0 ? $"if {string.Join(" or ", leftOver)} holds this key's certificate, move it to {certificatePath}; otherwise " : "") +
                $"put back the pair's missing half, or replace the pair with {pair.Replace}", e);
        }
    }

    /// <summary>Whether <paramref name="name"/>.crt.pem or <paramref name="name"/>.key.pem is in the directory.</summary>
    public bool Holds(string name)
    {
        var (certificate, key) = Current(name);
        return File.Exists(certificate) || File.Exists(key);
    }

    /// <summary>
    /// Writes <paramref name="certificate"/> to <paramref name="name"/>.crt.pem and its private key to
    /// <paramref name="name"/>.key.pem, readable by the owner only, replacing the pair as one; returns both paths.
    /// </summary>
    public (string Certificate, string Key) Save(string name, X509Certificate2 certificate)
    {
        foreach (var step in Replacement(name, certificate))
        {
            step();
        }
        return (CertPath(name), KeyPath(name));
    }

    /// <summary>
    /// The steps that replace <paramref name="name"/>'s pair, in order, each durable when it returns, so that a crash
    /// after any of them leaves a pair that loads and matches, the old or the new (the tests cut it after each). Two
    /// files cannot be renamed as one, so the new pair is first written whole beside the old one, key then certificate,
    /// as <c>.new</c> files: the certificate's <c>.new</c> there means the new pair is complete, and it is the pair
    /// (<see cref="Current"/>) until both are moved into place; a key's <c>.new</c> alone is a replacement cut short,
    /// dropped (the old pair stands).
    /// </summary>
    internal IReadOnlyList<Action> Replacement(string name, X509Certificate2 certificate)
    {
        string keyPem;
        using (var key = certificate.GetECDsaPrivateKey() ?? throw new ArgumentException("the certificate has no ECDSA private key", nameof(certificate)))
        {
            keyPem = key.ExportPkcs8PrivateKeyPem();
        }
        var certificatePem = certificate.ExportCertificatePem();
        return
        [
            () =>
            {
                System.IO.Directory.CreateDirectory(Directory);
                // A replacement a crash cut short is finished (or dropped) first: its certificate beside this one's key is a mismatch.
                CompleteReplacement(name);
            },
            () => WriteDurably(Pending(KeyPath(name)), keyPem, ownerOnly: true),
            () => WriteDurably(Pending(CertPath(name)), certificatePem, ownerOnly: false),
            () => MoveDurably(Pending(KeyPath(name)), KeyPath(name)),
            () => MoveDurably(Pending(CertPath(name)), CertPath(name)),
        ];
    }

    /// <summary>Finishes a replacement of <paramref name="name"/>'s pair that was cut short, or drops it when its new pair was never whole.</summary>
    private void CompleteReplacement(string name)
    {
        if (File.Exists(Pending(CertPath(name))))
        {
            if (File.Exists(Pending(KeyPath(name))))
            {
                MoveDurably(Pending(KeyPath(name)), KeyPath(name));
            }
            MoveDurably(Pending(CertPath(name)), CertPath(name));
        }
        else if (File.Exists(Pending(KeyPath(name))))
        {
            File.Delete(Pending(KeyPath(name)));
        }
    }

    /// <summary>
    /// The files that hold <paramref name="name"/>'s pair now: its <c>.new</c> certificate and the key beside it (the
    /// <c>.new</c> one until it is moved) once a replacement wrote both (<see cref="Replacement"/>), else the pair in place.
    /// Read only: a reader does not finish another process's replacement, which holds <see cref="LockForChange"/>.
    /// </summary>
    private (string Certificate, string Key) Current(string name) =>
        File.Exists(Pending(CertPath(name)))
            ? (Pending(CertPath(name)), File.Exists(Pending(KeyPath(name))) ? Pending(KeyPath(name)) : KeyPath(name))
            : (CertPath(name), KeyPath(name));

    private static string Pending(string path) => path + ".new";

    /// <summary>Writes a private key readable by the owner only, replacing the file in one step.</summary>
    private void WritePrivate(string path, string pem)
    {
        System.IO.Directory.CreateDirectory(Directory);
        WriteDurably(path, pem, ownerOnly: true);
    }

    /// <summary>
    /// Replaces <paramref name="path"/> with <paramref name="text"/> in one step, on disk when it returns: written to a
    /// temporary file of its own (two writers, or one a crash left, never share it), flushed, renamed over the path, and
    /// the directory flushed.
    /// </summary>
    private static void WriteDurably(string path, string text, bool ownerOnly)
    {
        var temporary = $"{path}.{Guid.NewGuid():N}.tmp";
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (ownerOnly && !OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        try
        {
            using (var stream = new FileStream(temporary, options))
            {
                stream.Write(System.Text.Encoding.UTF8.GetBytes(text));
                stream.Flush(flushToDisk: true);
            }
            MoveDurably(temporary, path);
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    private static void MoveDurably(string from, string to)
    {
        File.Move(from, to, overwrite: true);
        DirectoryEntries.Flush(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(to))!);
    }

    private string CertPath(string name) => Path.Combine(Directory, name + ".crt.pem");

    private string KeyPath(string name) => Path.Combine(Directory, name + ".key.pem");
}

/// <summary>The newest message log checkpoint the hub made, as recorded in the keys directory: the entry's sequence and hash, and when it was signed.</summary>
public sealed record RecordedCheckpoint(long Sequence, byte[] Hash, NodaTime.Instant At);

/// <summary>A key or certificate file that does not hold what it should; <see cref="Path"/> names it.</summary>
public sealed class UnreadableKeyFileException(string path, string message, Exception? inner) : CryptographicException(message, inner)
{
    public string Path { get; } = path;
}
