using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography.X509Certificates;
using NodaTime;
using OpenDcc.Core.Catalogue;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Parties;
using OpenDcc.Core.Security;

namespace OpenDcc.Cli;

/// <summary><c>opendcc certs import|issue</c>: organisation certificates bound to DCC users.</summary>
internal static class CertsCommand
{
    public static Command Create(CliContext context)
    {
        var certs = context.WithStoreOptions(new Command("certs", "Organisation certificates of DCC users"));

        var files = new Argument<FileInfo[]>("files") { Description = "PEM files, each holding one or more certificates", Arity = ArgumentArity.OneOrMore };
        var import = new Command("import", "Bind certificates to their users by the EUI-64 in each (all or nothing)") { files };
        import.SetAction(async (parsed, ct) =>
        {
            var certificates = new List<(string File, OrganisationCertificate Certificate)>();
            foreach (var file in parsed.GetRequiredValue(files))
            {
                foreach (var certificate in ReadCertificates(CliContext.ExistingFile(file, "files")))
                {
                    certificates.Add((file.Name, certificate));
                }
            }
            await using var store = await context.OpenExistingStoreAsync(parsed, ct);
            // Check every certificate before storing any, so a bad file leaves the store as it was.
            var now = context.Clock.GetCurrentInstant();
            foreach (var (file, certificate) in certificates)
            {
                if (certificate.NotAfter < now)
                {
                    await context.Error.WriteLineAsync(
                        $"opendcc: {file}: certificate {certificate.SerialNumber} for {certificate.EntityId} expired at {certificate.NotAfter}: nothing signed with it can be accepted (nothing imported)");
                    return 1;
                }
                if (await store.Parties.FindUserAsync(certificate.EntityId, ct) is null)
                {
                    await context.Error.WriteLineAsync(
                        $"opendcc: {file}: certificate {certificate.SerialNumber} is for EUI-64 {certificate.EntityId}, which is not a DCC user; add it with 'opendcc users add' first (nothing imported)");
                    return 1;
                }
            }
            foreach (var (file, certificate) in certificates)
            {
                var added = await store.Parties.AddCertificateAsync(certificate, ct);
                await context.Output.WriteLineAsync(
                    $"{(added ? "bound" : "already bound")}: {certificate.Role} (OU={(int)certificate.Role:X2}) serial {certificate.SerialNumber} to {certificate.EntityId} ({file})");
            }
            return 0;
        });

        var id = new Option<string>("--id") { Description = "The user's EUI-64", Required = true };
        var role = new Option<string>("--role") { Description = "Remote-party role: two hex digits (87 XmlSign for DUIS requests; 02 Supplier or 03 NetworkOperator for the Digital Signing certificate that signs critical commands …) or its name", DefaultValueFactory = _ => "87" };
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
            if (files.Holds(name) && !parsed.GetValue(force))
            {
                // Its key may be the only copy of an earlier certificate's that is still bound.
                throw new ArgumentException($"--out: {directory.FullName} already holds {name}.crt.pem or {name}.key.pem; pass --force to replace them");
            }
            using var issued = ca.Issue(eui, remoteRole, user.Name, context.Clock, Duration.FromDays(3650));
            string certificatePath, keyPath;
            try
            {
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
            return 0;
        });

        certs.Subcommands.Add(import);
        certs.Subcommands.Add(issue);
        return certs;
    }

    private static List<OrganisationCertificate> ReadCertificates(FileInfo file)
    {
        var collection = new X509Certificate2Collection();
        try
        {
            collection.ImportFromPemFile(file.FullName);
        }
        catch (System.Security.Cryptography.CryptographicException e)
        {
            throw new FormatException($"{file.Name}: not a readable PEM certificate file ({e.Message})", e);
        }
        if (collection.Count == 0)
        {
            throw new FormatException($"{file.Name}: holds no certificate");
        }
        var result = new List<OrganisationCertificate>();
        foreach (var certificate in collection)
        {
            using (certificate)
            {
                try
                {
                    result.Add(OrganisationCertificate.FromX509(certificate));
                }
                catch (InvalidOrganisationCertificateException e)
                {
                    throw new FormatException($"{file.Name}: {e.Message}", e);
                }
            }
        }
        return result;
    }

    private static RemotePartyRole ParseRole(string text)
    {
        if (text.Length == 2 && byte.TryParse(text, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var code) && Enum.IsDefined((RemotePartyRole)code))
        {
            return (RemotePartyRole)code;
        }
        return Enum.TryParse<RemotePartyRole>(text, ignoreCase: true, out var named) && Enum.IsDefined(named)
            ? named
            : throw new FormatException($"'{text}' is not a remote-party role; use two hex digits such as 87 or a name such as XmlSign");
    }

    /// <summary>
    /// Why a user with <paramref name="roles"/> cannot have a certificate of <paramref name="role"/>; null if it can: a
    /// Supplier (02) certificate is a supplier's, a Network Operator (03) one a network operator's, and the roles of
    /// the DCC's own parties (root, recovery, access control broker, WAN provider, issuing authority, DSP) no user's.
    /// </summary>
    internal static string? RoleMisfit(RemotePartyRole role, DccUserRole roles) => role switch
    {
        RemotePartyRole.Supplier when (roles & (DccUserRole.ImportSupplier | DccUserRole.ExportSupplier | DccUserRole.GasSupplier)) == 0 =>
            $"a Supplier (02) certificate is for a supplier (IS, ES or GS); this user is {roles.Codes()}",
        RemotePartyRole.NetworkOperator when (roles & (DccUserRole.ElectricityDistributor | DccUserRole.GasTransporter)) == 0 =>
            $"a Network Operator (03) certificate is for a network operator (ED or GT); this user is {roles.Codes()}",
        RemotePartyRole.Root or RemotePartyRole.Recovery or RemotePartyRole.AccessControlBroker or RemotePartyRole.WanProvider
            or RemotePartyRole.IssuingAuthority or RemotePartyRole.DspXmlSign =>
            $"{role} ({(int)role:X2}) is a role of the DCC's own parties, not of a DCC user",
        _ => null,
    };
}
