using System.CommandLine;
using System.Security.Cryptography.X509Certificates;
using OpenDcc.Hub;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Security;

namespace OpenDcc.Cli;

/// <summary><c>opendcc keys init|import-dsp</c>: OpenDcc's own keys (local CA, DSP XmlSign identity).</summary>
internal static class KeysCommand
{
    public static Command Create(CliContext context)
    {
        var keys = context.WithStoreOptions(new Command("keys", "OpenDcc's own keys: the local CA and the DSP XmlSign identity"));

        var dspId = new Option<string>("--dsp-id") { Description = $"The DSP's EUI-64 (default {Eui64Defaults.Dsp}, as in DCC Boxed)", DefaultValueFactory = _ => Eui64Defaults.Dsp.ToString() };
        var force = new Option<bool>("--force") { Description = "Replace keys that already exist" };
        var init = new Command("init", "Create a local CA and DSP XmlSign identity for a new installation; of an installation that has one of them (a DSP identity imported first), only the other") { dspId, force };
        init.SetAction(async parsed =>
        {
            // The options first: a fault in them is said whatever the directory holds.
            var dsp = UsersCommand.ParseField("--dsp-id", () => Eui64.Parse(parsed.GetRequiredValue(dspId)));
            var store = context.KeyStore(parsed);
            var replace = parsed.GetValue(force);
            using var changing = store.LockForChange();
            if (!replace && store.HasLocalCa && store.HasDspIdentity)
            {
                await context.Error.WriteLineAsync($"opendcc: keys already exist in {store.Directory}; pass --force to replace them");
                return 1;
            }
            if (replace || (!store.HasLocalCa && !store.HasDspIdentity))
            {
                var saved = store.Initialise(dsp, context.Clock);
                await context.Output.WriteLineAsync($"created local CA '{saved.IssuerName}' and DSP XmlSign identity {saved.EntityId} (serial {saved.SerialNumber}) in {store.Directory}");
            }
            else if (store.HasDspIdentity)
            {
                // An imported DSP identity (DCC Boxed's) stays: only the CA that issues users' certificates is new.
                using var ca = store.CreateLocalCa(context.Clock);
                using var kept = store.LoadDspIdentity();
                await context.Output.WriteLineAsync($"created local CA '{ca.Certificate.Subject}' in {store.Directory}; kept the DSP XmlSign identity {OrganisationCertificate.FromX509(kept).EntityId} already there");
            }
            else
            {
                using var ca = store.LoadLocalCa();
                var saved = store.IssueDspIdentity(ca, dsp, context.Clock);
                await context.Output.WriteLineAsync($"created DSP XmlSign identity {saved.EntityId} (serial {saved.SerialNumber}) from the local CA already in {store.Directory}");
            }
            return 0;
        });

        var key = new Option<FileInfo>("--key") { Description = "The DSP XmlSign private key (PKCS#8 PEM or DER)", Required = true };
        var cert = new Option<FileInfo>("--cert") { Description = "The DSP XmlSign certificate (PEM, OU=89)", Required = true };
        var replace = new Option<bool>("--force") { Description = "Replace a DSP XmlSign identity that already exists" };
        var import = new Command("import-dsp", "Use an existing DSP XmlSign key and certificate (e.g. DCC Boxed's)") { key, cert, replace };
        import.SetAction(async parsed =>
        {
            var keyFile = CliContext.ExistingFile(parsed.GetValue(key), "--key");
            var certFile = CliContext.ExistingFile(parsed.GetValue(cert), "--cert");
            var store = context.KeyStore(parsed);
            using var changing = store.LockForChange();
            if (!parsed.GetValue(replace) && store.HasDspIdentity)
            {
                await context.Error.WriteLineAsync($"opendcc: a DSP XmlSign identity already exists in {store.Directory}; pass --force to replace it (users who hold its certificate would no longer verify the hub's responses)");
                return 1;
            }
            X509Certificate2 identity;
            try
            {
                identity = FileKeyStore.Combine(certFile.FullName, keyFile.FullName);
            }
            catch (UnreadableKeyFileException e)
            {
                await context.Error.WriteLineAsync($"opendcc: {(e.Path == certFile.FullName ? "--cert" : "--key")}: {e.Message}");
                return 1;
            }
            using (identity)
            {
                var saved = store.SaveDspIdentity(identity);
                await context.Output.WriteLineAsync($"imported DSP XmlSign identity {saved.EntityId} (serial {saved.SerialNumber}, valid to {saved.NotAfter})");
            }
            return 0;
        });

        keys.Subcommands.Add(init);
        keys.Subcommands.Add(import);
        return keys;
    }
}
