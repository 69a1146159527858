using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography.X509Certificates;
using NodaTime;
using NodaTime.Text;
using OpenDcc.Core.Catalogue;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Parties;
using OpenDcc.Core.Security;
using Spectre.Console;

namespace OpenDcc.Cli;

/// <summary><c>opendcc certs import|issue|list|revoke</c>: organisation certificates bound to DCC users.</summary>
internal static class CertsCommand
{
    public static Command Create(CliContext context)
    {
        var certs = context.WithStoreOptions(new Command("certs", "Organisation certificates of DCC users"));

        var files = new Argument<FileInfo[]>("files") { Description = "PEM files, each holding one or more certificates", Arity = ArgumentArity.OneOrMore };
        var anyIssuer = new Option<bool>("--any-issuer") { Description = "Bind certificates whatever CA issued them, unchecked: for test identities whose CA certificate is not published (DCC Boxed's ZAZ1)" };
        var import = new Command("import", "Bind certificates to their users by the EUI-64 in each (all or nothing); each must be issued by a trusted CA (certs trust add) or the local CA") { files, anyIssuer };
        import.SetAction(async (parsed, ct) =>
        {
            var certificates = new List<(string File, OrganisationCertificate Certificate)>();
            var unverified = parsed.GetValue(anyIssuer);
            IReadOnlyList<X509Certificate2> issuers = unverified ? [] : context.KeyStore(parsed).LoadTrustedIssuers();
            try
            {
                foreach (var file in parsed.GetRequiredValue(files))
                {
                    foreach (var (certificate, whyNotTrusted) in ReadCertificates(CliContext.ExistingFile(file, "files"), unverified ? null : issuers, context.Clock.GetCurrentInstant().ToDateTimeOffset()))
                    {
                        if (whyNotTrusted is not null)
                        {
                            await context.Error.WriteLineAsync($"opendcc: {file.Name}: certificate {certificate.SerialNumber} for {certificate.EntityId}: {whyNotTrusted}; or bind it unchecked with --any-issuer (nothing imported)");
                            return 1;
                        }
                        certificates.Add((file.Name, certificate));
                    }
                }
            }
            finally
            {
                foreach (var issuer in issuers)
                {
                    issuer.Dispose();
                }
            }
            await using var store = await context.OpenExistingStoreAsync(parsed, ct);
            // Check every certificate before storing any, so a bad file leaves the store as it was.
            var now = context.Clock.GetCurrentInstant();
            var given = new Dictionary<(string Issuer, string Serial), (string File, OrganisationCertificate Certificate)>();
            foreach (var (file, certificate) in certificates)
            {
                // An issuer gives each serial once and a signature names its certificate by the two: of two certificates
                // with the same, the store binds one (the same certificate given twice is bound once, as before).
                if (given.TryGetValue((certificate.IssuerName, certificate.SerialNumber), out var first) && first.Certificate.Thumbprint != certificate.Thumbprint)
                {
                    await context.Error.WriteLineAsync(
                        $"opendcc: {file}: certificate for {certificate.EntityId} has issuer '{certificate.IssuerName}' and serial {certificate.SerialNumber}, which the {first.Certificate.Role} (OU={(int)first.Certificate.Role:X2}) certificate for {first.Certificate.EntityId} in {first.File} has too: a certificate is known by its issuer and serial (nothing imported)");
                    return 1;
                }
                given.TryAdd((certificate.IssuerName, certificate.SerialNumber), (file, certificate));
                if (await store.Parties.FindCertificateAsync(certificate.IssuerName, certificate.SerialNumber, ct) is { } holder && holder.Thumbprint != certificate.Thumbprint)
                {
                    await context.Error.WriteLineAsync($"opendcc: {file}: {new DuplicateCertificateSerialException(certificate, holder).Message} (nothing imported)");
                    return 1;
                }
                if (certificate.NotAfter < now)
                {
                    await context.Error.WriteLineAsync(
                        $"opendcc: {file}: certificate {certificate.SerialNumber} for {certificate.EntityId} expired at {certificate.NotAfter}: nothing signed with it can be accepted (nothing imported)");
                    return 1;
                }
                if (await store.Parties.FindUserAsync(certificate.EntityId, ct) is not { } user)
                {
                    await context.Error.WriteLineAsync(
                        $"opendcc: {file}: certificate {certificate.SerialNumber} is for EUI-64 {certificate.EntityId}, which is not a DCC user; add it with 'opendcc users add' first (nothing imported)");
                    return 1;
                }
                // The roles certs issue gives, by the same rules: no user is the DCC's own party, and a Digital Signing
                // certificate's role is the user's.
                if ((UserRoles.Contains(certificate.Role) ? RoleMisfit(certificate.Role, user.Roles) : $"{certificate.Role} (OU={(int)certificate.Role:X2}) is not a role of a DCC user's certificate ({UserRoleList})") is { } misfit)
                {
                    await context.Error.WriteLineAsync($"opendcc: {file}: certificate {certificate.SerialNumber} for {certificate.EntityId}: {misfit} (nothing imported)");
                    return 1;
                }
            }
            foreach (var (file, certificate) in certificates)
            {
                var added = await store.Parties.AddCertificateAsync(certificate, ct);
                // Bound before and revoked since: importing it again does not take the revocation back.
                var revoked = added ? null : (await store.Parties.FindCertificateAsync(certificate.IssuerName, certificate.SerialNumber, ct))?.RevokedAt;
                await context.Output.WriteLineAsync(
                    $"{(added ? "bound" : "already bound")}: {certificate.Role} (OU={(int)certificate.Role:X2}) serial {certificate.SerialNumber} to {certificate.EntityId}" +
                    (revoked is { } at ? $", revoked at {at} (it stays revoked: nothing it signs is accepted)" : "") + $" ({file})" +
                    (unverified && added ? $"; its issuer '{certificate.IssuerName}' was not checked (--any-issuer)" : ""));
            }
            return 0;
        });

        var id = new Option<string>("--id") { Description = "The user's EUI-64", Required = true };
        var role = new Option<string>("--role") { Description = "Remote-party role: two hex digits (87 XmlSign for DUIS requests; 02 Supplier or 03 NetworkOperator for the Digital Signing certificate that signs critical commands; no other) or its name", DefaultValueFactory = _ => "87" };
        var output = new Option<DirectoryInfo>("--out") { Description = "Where to write CERT and KEY PEM files (the key readable by its owner only)", Required = true };
        var force = new Option<bool>("--force") { Description = "Replace the files of an earlier certificate of the same user and role in --out" };
        var issue = new Command("issue", "Issue a certificate from the local CA for a DCC user, write it with its key, and bind it") { id, role, output, force };
        issue.SetAction(async (parsed, ct) =>
        {
            var eui = UsersCommand.ParseField("--id", () => Eui64.Parse(parsed.GetRequiredValue(id)));
            var remoteRole = UsersCommand.ParseField("--role", () => ParseRole(parsed.GetRequiredValue(role)));
            await using var store = await context.OpenExistingStoreAsync(parsed, ct);
            var user = await store.Parties.FindUserAsync(eui, ct) ?? throw new UnknownDccUserException(eui);
            if (RoleMisfit(remoteRole, user.Roles) is { } misfit)
            {
                throw new ArgumentException($"--role: {misfit}");
            }
            using var ca = context.KeyStore(parsed).LoadLocalCa();
            var directory = parsed.GetRequiredValue(output);
            if (File.Exists(directory.FullName))
            {
                throw new ArgumentException($"--out: {directory.FullName} is a file, not a directory");
            }
            var files = new FileKeyStore(directory.FullName);
            var name = $"{eui.ToCompactString()}-{(int)remoteRole:X2}";
            using var issued = ca.Issue(eui, remoteRole, user.Name, context.Clock, Duration.FromDays(3650));
            string certificatePath, keyPath;
            try
            {
                // The look at what --out holds and the writes, under its keys.lock as every change of a key directory:
                // two issues into one directory at once could leave one's certificate beside the other's key.
                using var changing = LockForChange(files);
                if (files.Holds(name) && !parsed.GetValue(force))
                {
                    // Its key may be the only copy of an earlier certificate's that is still bound.
                    throw new ArgumentException($"--out: {directory.FullName} already holds {name}.crt.pem or {name}.key.pem; pass --force to replace them");
                }
                (certificatePath, keyPath) = files.Save(name, issued);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new IOException($"--out: {directory.FullName}: {e.Message}", e);
            }
            var certificate = OrganisationCertificate.FromX509(issued);
            await store.Parties.AddCertificateAsync(certificate, ct);
            var use = remoteRole == RemotePartyRole.XmlSign ? "; it signs DUIS requests"
                : CommandSignature.IsDigitalSigning(certificate) ? "; a Digital Signing certificate: its key signs critical commands (pre-commands from Transform)" : "";
            await context.Output.WriteLineAsync($"issued and bound {remoteRole} (OU={(int)remoteRole:X2}) serial {certificate.SerialNumber} to {eui}: {certificatePath}, {keyPath}{use}");
            // A new certificate does not stop the ones before it (a user may roll over): say which still stand.
            var earlier = (await store.Parties.ListCertificatesAsync(eui, ct))
                .Where(c => c.Role == remoteRole && c.Thumbprint != certificate.Thumbprint && c.IsValidAt(context.Clock.GetCurrentInstant()))
                .Select(c => c.SerialNumber).ToList();
            if (earlier.Count > 0)
            {
                await context.Output.WriteLineAsync($"{eui}'s earlier {remoteRole} {(earlier.Count == 1 ? "certificate" : "certificates")} (serial {string.Join(", ", earlier)}) still {(earlier.Count == 1 ? "stands" : "stand")}: 'opendcc certs revoke --serial S' stops one");
            }
            return 0;
        });

        var listed = new Option<string?>("--id") { Description = "Only this user's certificates (EUI-64)" };
        var list = new Command("list", "List the certificates bound to users: role, serial, issuer, validity, and whether revoked") { listed };
        list.SetAction(async (parsed, ct) =>
        {
            var only = parsed.GetValue(listed) is { } text ? UsersCommand.ParseField("--id", () => Eui64.Parse(text)) : (Eui64?)null;
            await using var store = await context.OpenExistingStoreAsync(parsed, ct);
            if (only is { } user && await store.Parties.FindUserAsync(user, ct) is null)
            {
                throw new UnknownDccUserException(user);
            }
            var now = context.Clock.GetCurrentInstant();
            // The user and serial (given to other commands), the date and the status ("revoked" and when, for grep) stay
            // whole; the role and issuer wrap between words, sharing the room left, so that neither is squeezed to a few
            // letters a line (in 160 columns, a file's or pipe's width, a revoked one's status left the issuer four).
            var table = new Table().Border(TableBorder.Simple).AddColumns(
                new TableColumn("User").NoWrap(), new TableColumn("Role"), new TableColumn("Serial").NoWrap(),
                new TableColumn("Issuer"), new TableColumn("Valid to (UTC)").NoWrap(),
                new TableColumn("Status").NoWrap());
            var count = 0;
            foreach (var certificate in await BoundAsync(store.Parties, only, ct))
            {
                count++;
                table.AddRow(
                    certificate.EntityId.ToString(),
                    $"{certificate.Role} ({(int)certificate.Role:X2})",
                    certificate.SerialNumber,
                    Markup.Escape(certificate.IssuerName),
                    LocalDatePattern.Iso.Format(certificate.NotAfter.InUtc().Date),
                    StatusOf(certificate, now));
            }
            context.Console.Write(table);
            context.Console.WriteLine(CliContext.Count(count, "certificate", "certificates"));
            return 0;
        });

        var serial = new Option<string>("--serial") { Description = "The certificate's serial number, in decimal as certs list shows it", Required = true };
        var issuer = new Option<string?>("--issuer") { Description = "The issuer's name as certs list shows it, when certificates of two issuers share the serial" };
        var revoke = new Command("revoke", "Revoke a bound certificate: from now on nothing signed with it is accepted (a running hub stops taking it within a second); it stays listed, revoked") { serial, issuer };
        revoke.SetAction(async (parsed, ct) =>
        {
            var wanted = parsed.GetRequiredValue(serial).Trim();
            var fromIssuer = parsed.GetValue(issuer)?.Trim();
            string? issuerName = null;
            try
            {
                issuerName = fromIssuer is null ? null : DuisSignature.NormaliseIssuerName(fromIssuer);
            }
            catch (System.Security.Cryptography.CryptographicException)
            {
                throw new FormatException($"--issuer: '{OpenDcc.Core.Excerpt.Of(fromIssuer!)}' is not a distinguished name (give the issuer as certs list shows it)");
            }
            await using var store = await context.OpenExistingStoreAsync(parsed, ct);
            var matching = (await BoundAsync(store.Parties, null, ct))
                .Where(c => c.SerialNumber == wanted && (issuerName is null || DuisSignature.NormaliseIssuerName(c.IssuerName) == issuerName))
                .ToList();
            var certificate = matching switch
            {
                [] => throw new ArgumentException(fromIssuer is null
                    ? $"--serial: no bound certificate has serial {wanted} (decimal, as certs list shows it)"
                    : $"--serial: no bound certificate of issuer '{fromIssuer}' has serial {wanted}"),
                [var one] => one,
                _ => throw new ArgumentException($"--serial: certificates of {matching.Count} issuers have serial {wanted} ({string.Join("; ", matching.Select(c => c.IssuerName))}): name one with --issuer"),
            };
            var now = context.Clock.GetCurrentInstant();
            if (!await store.Parties.RevokeCertificateAsync(certificate.Thumbprint, now, ct))
            {
                // Read again: it may have been revoked since it was listed.
                var stored = await store.Parties.FindCertificateAsync(certificate.IssuerName, certificate.SerialNumber, ct);
                await context.Output.WriteLineAsync($"{certificate.Role} serial {wanted} of {certificate.EntityId} was revoked already, at {stored?.RevokedAt}");
                return 0;
            }
            await context.Output.WriteLineAsync($"revoked {certificate.Role} (OU={(int)certificate.Role:X2}) serial {wanted} of {certificate.EntityId} at {now}: nothing signed with it is accepted from now on");
            return 0;
        });

        certs.Subcommands.Add(import);
        certs.Subcommands.Add(issue);
        certs.Subcommands.Add(list);
        certs.Subcommands.Add(revoke);
        certs.Subcommands.Add(TrustCommand(context));
        return certs;
    }

    /// <summary><c>certs trust add|list</c>: the issuing CAs whose certificates <c>certs import</c> binds.</summary>
    private static Command TrustCommand(CliContext context)
    {
        var files = new Argument<FileInfo[]>("files") { Description = "PEM files holding CA certificates (SMKI's Organisation CA, say)", Arity = ArgumentArity.OneOrMore };
        var add = new Command("add", "Trust CAs: certs import binds the certificates they issue (all or nothing)") { files };
        add.SetAction(async (parsed, ct) =>
        {
            // An installation's trust goes with its store: a mistyped --data is refused, not given keys of its own.
            await (await context.OpenExistingStoreAsync(parsed, ct)).DisposeAsync();
            var authorities = new List<(string File, X509Certificate2 Certificate)>();
            try
            {
                foreach (var file in parsed.GetRequiredValue(files))
                {
                    authorities.AddRange(ReadPem(CliContext.ExistingFile(file, "files")).Select(c => (file.Name, c)));
                }
                var now = context.Clock.GetCurrentInstant().ToDateTimeOffset();
                if (authorities.Select(a => (a.File, Why: TrustedIssuers.WhyNotAnIssuer(a.Certificate, now))).FirstOrDefault(a => a.Why is not null) is { Why: { } why } refused)
                {
                    await context.Error.WriteLineAsync($"opendcc: {refused.File}: {why} (nothing trusted)");
                    return 1;
                }
                var keys = context.KeyStore(parsed);
                foreach (var (file, certificate) in authorities)
                {
                    var added = keys.AddTrustedIssuer(certificate);
                    await context.Output.WriteLineAsync($"{(added ? "trusted" : "already trusted")}: {certificate.Subject}, until {certificate.NotAfter.ToUniversalTime():u} (SHA-256 {Convert.ToHexString(certificate.GetCertHash(System.Security.Cryptography.HashAlgorithmName.SHA256))}) ({file})");
                }
                return 0;
            }
            finally
            {
                foreach (var (_, certificate) in authorities)
                {
                    certificate.Dispose();
                }
            }
        });
        var list = new Command("list", "List the trusted CAs: the local CA and those added");
        list.SetAction(async (parsed, ct) =>
        {
            await (await context.OpenExistingStoreAsync(parsed, ct)).DisposeAsync();
            var issuers = context.KeyStore(parsed).LoadTrustedIssuers();
            foreach (var issuer in issuers)
            {
                await context.Output.WriteLineAsync($"{issuer.Subject}, until {issuer.NotAfter.ToUniversalTime():u} (SHA-256 {Convert.ToHexString(issuer.GetCertHash(System.Security.Cryptography.HashAlgorithmName.SHA256))})");
                issuer.Dispose();
            }
            await context.Output.WriteLineAsync(issuers.Count == 0 ? "no trusted CA: certs import binds nothing without --any-issuer (keys init makes the local CA)" : CliContext.Count(issuers.Count, "trusted CA", "trusted CAs"));
            return 0;
        });
        return new Command("trust", "The CAs whose certificates certs import binds") { add, list };
    }

    /// <summary>The certificates bound to <paramref name="user"/>, or to every user when null, user by user.</summary>
    private static async Task<List<OrganisationCertificate>> BoundAsync(IPartyStore parties, Eui64? user, CancellationToken cancellationToken)
    {
        var users = user is { } one ? [one] : (await parties.ListUsersAsync(cancellationToken)).Select(u => u.Id).ToList();
        var all = new List<OrganisationCertificate>();
        foreach (var id in users)
        {
            all.AddRange(await parties.ListCertificatesAsync(id, cancellationToken));
        }
        return all;
    }

    private static string StatusOf(OrganisationCertificate certificate, Instant now) => certificate switch
    {
        { RevokedAt: { } revoked } => $"revoked {InstantPattern.General.Format(revoked)}",
        _ when now < certificate.NotBefore => $"valid from {InstantPattern.General.Format(certificate.NotBefore)}",
        _ when certificate.NotAfter < now => "expired",
        _ => "valid",
    };

    /// <summary>The certificates in a PEM file, at least one; the caller disposes them.</summary>
    private static X509Certificate2Collection ReadPem(FileInfo file)
    {
        var collection = new X509Certificate2Collection();
        try
        {
            collection.ImportFromPem(System.Text.Encoding.UTF8.GetString(FileKeyStore.ReadFile(file.FullName)));
        }
        catch (System.Security.Cryptography.CryptographicException e)
        {
            throw new FormatException($"{file.Name}: not a readable PEM certificate file ({e.Message})", e);
        }
        return collection.Count > 0 ? collection : throw new FormatException($"{file.Name}: holds no certificate");
    }

    /// <summary>The certificates in a PEM file, each with why its issuer is not trusted (null when it is, or when <paramref name="issuers"/> is null: not checked).</summary>
    private static List<(OrganisationCertificate Certificate, string? WhyNotTrusted)> ReadCertificates(FileInfo file, IReadOnlyList<X509Certificate2>? issuers, DateTimeOffset at)
    {
        var result = new List<(OrganisationCertificate, string?)>();
        foreach (var certificate in ReadPem(file))
        {
            using (certificate)
            {
                try
                {
                    result.Add((OrganisationCertificate.FromX509(certificate), issuers is null ? null : TrustedIssuers.WhyNotIssuedBy(certificate, issuers, at)));
                }
                catch (InvalidOrganisationCertificateException e)
                {
                    throw new FormatException($"{file.Name}: {e.Message}", e);
                }
            }
        }
        return result;
    }

    /// <summary>The roles of a DCC user's certificate: XmlSign, and the Digital Signing roles Supplier and Network Operator.</summary>
    private static readonly RemotePartyRole[] UserRoles = [RemotePartyRole.XmlSign, RemotePartyRole.Supplier, RemotePartyRole.NetworkOperator];

    private const string UserRoleList = "87 (XmlSign), 02 (Supplier) or 03 (NetworkOperator)";

    /// <summary>
    /// A role a DCC user's certificate may have, given as exactly two hex digits or its name; any other role (the DCC's
    /// own parties', or a remote-party role OpenDcc gives no user) is refused, naming the ones allowed.
    /// </summary>
    internal static RemotePartyRole ParseRole(string text)
    {
        // Exactly two hex digits, or a name: not a decimal number, which Enum.TryParse would take ("5", "135").
        var role = text.Length == 2 && Uri.IsHexDigit(text[0]) && Uri.IsHexDigit(text[1])
            ? (RemotePartyRole)byte.Parse(text, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture)
            : Enum.GetValues<RemotePartyRole>().Where(r => string.Equals(r.ToString(), text, StringComparison.OrdinalIgnoreCase)).Cast<RemotePartyRole?>().FirstOrDefault();
        return role switch
        {
            { } known when UserRoles.Contains(known) => known,
            { } known when Enum.IsDefined(known) => throw new FormatException($"{known} ({(int)known:X2}) is not a role of a DCC user's certificate; give {UserRoleList}"),
            _ => throw new FormatException($"'{text}' is not a role of a DCC user's certificate; give two hex digits or the name: {UserRoleList}"),
        };
    }

    /// <summary>
    /// Why a user with <paramref name="roles"/> cannot have a certificate of <paramref name="role"/>; null if it can: a
    /// Supplier (02) certificate is a supplier's, a Network Operator (03) one a network operator's.
    /// </summary>
    internal static string? RoleMisfit(RemotePartyRole role, DccUserRole roles) => role switch
    {
        RemotePartyRole.Supplier when !roles.IsSupplier() =>
            $"a Supplier (02) certificate is for a supplier (IS, ES or GS); this user is {roles.Codes()}",
        RemotePartyRole.NetworkOperator when (roles & (DccUserRole.ElectricityDistributor | DccUserRole.GasTransporter)) == 0 =>
            $"a Network Operator (03) certificate is for a network operator (ED or GT); this user is {roles.Codes()}",
        _ => null,
    };

    /// <summary><c>keys.lock</c> of the --out directory held for a change; another process changing it is said as --out's.</summary>
    private static IDisposable LockForChange(FileKeyStore files)
    {
        try
        {
            return files.LockForChange();
        }
        catch (InvalidOperationException e)
        {
            throw new InvalidOperationException($"--out: {e.Message}", e);
        }
    }
}
