using System.CommandLine;
using NodaTime;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Security;

namespace OpenDcc.Cli;

/// <summary><c>opendcc keys init|import-dsp</c>: OpenDcc's own keys (local CA, DSP XmlSign identity).</summary>
internal static class KeysCommand
{
    /// <summary>The DSP identity DCC Boxed uses (the ZAZ1 ACB/DSP EUI-64), so DCC tooling addresses OpenDcc unchanged.</summary>
    public const string DefaultDspId = "90-B3-D5-1F-30-00-00-02";

    public static Command Create(CliContext context)
    {
        var keys = context.WithStoreOptions(new Command("keys", "OpenDcc's own keys: the local CA and the DSP XmlSign identity"));

        var dspId = new Option<string>("--dsp-id") { Description = $"The DSP's EUI-64 (default {DefaultDspId}, as in DCC Boxed)", DefaultValueFactory = _ => DefaultDspId };
        var force = new Option<bool>("--force") { Description = "Replace keys that already exist" };
        var init = new Command("init", "Create a fresh local CA and DSP XmlSign identity for a new installation") { dspId, force };
        init.SetAction(async parsed =>
        {
            var store = context.KeyStore(parsed);
            if ((store.HasLocalCa || store.HasDspIdentity) && !parsed.GetValue(force))
            {
                await context.Error.WriteLineAsync($"opendcc: keys already exist in {store.Directory}; pass --force to replace them");
                return 1;
            }
            var dsp = UsersCommand.ParseField("--dsp-id", () => Eui64.Parse(parsed.GetRequiredValue(dspId)));
            using var ca = CertificateAuthority.Create("OpenDcc Local CA", context.Clock, Duration.FromDays(365 * 20));
            using var identity = ca.Issue(dsp, RemotePartyRole.DspXmlSign, null, context.Clock, Duration.FromDays(365 * 10));
            store.SaveLocalCa(ca);
            var saved = store.SaveDspIdentity(identity);
            await context.Output.WriteLineAsync($"created local CA '{ca.Certificate.Subject}' and DSP XmlSign identity {saved.EntityId} (serial {saved.SerialNumber}) in {store.Directory}");
            return 0;
        });

        var key = new Option<FileInfo>("--key") { Description = "The DSP XmlSign private key (PKCS#8 PEM or DER)", Required = true };
        var cert = new Option<FileInfo>("--cert") { Description = "The DSP XmlSign certificate (PEM, OU=89)", Required = true };
        var import = new Command("import-dsp", "Use an existing DSP XmlSign key and certificate (e.g. DCC Boxed's)") { key, cert };
        import.SetAction(async parsed =>
        {
            var keyFile = parsed.GetRequiredValue(key);
            var certFile = parsed.GetRequiredValue(cert);
            foreach (var (option, file) in new[] { ("--key", keyFile), ("--cert", certFile) })
            {
                if (!file.Exists)
                {
                    await context.Error.WriteLineAsync($"opendcc: {option}: {file.FullName}: no such file");
                    return 1;
                }
            }
            using var identity = FileKeyStore.Combine(certFile.FullName, keyFile.FullName);
            var saved = context.KeyStore(parsed).SaveDspIdentity(identity);
            await context.Output.WriteLineAsync($"imported DSP XmlSign identity {saved.EntityId} (serial {saved.SerialNumber}, valid to {saved.NotAfter})");
            return 0;
        });

        keys.Subcommands.Add(init);
        keys.Subcommands.Add(import);
        return keys;
    }
}
