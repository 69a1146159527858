using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using NodaTime;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Security;

namespace OpenDcc.Cli.Tests;

/// <summary><c>users</c>, <c>certs</c> and <c>keys</c>: provisioning a new installation from the command line.</summary>
public sealed class PartiesCommandTests : IDisposable
{
    private const string Supplier = "90-B3-D5-1F-30-01-00-00";
    private const string NetworkOperator = "90-B3-D5-1F-30-02-00-00";
    private readonly CliRun cli = new();

    [Fact]
    public async Task An_added_user_is_listed_with_roles_status_and_response_url()
    {
        var (code, output, _) = await cli.RunWithDataAsync("users", "add", "--id", Supplier, "--role", "IS", "--role", "GS", "--name", "Test Supplier", "--response-url", "https://supplier.example/duis");
        Assert.Equal(0, code);
        Assert.Contains("added DCC user 90-B3-D5-1F-30-01-00-00 'Test Supplier' (IS, GS)", output, StringComparison.Ordinal);

        var (listCode, list, _) = await cli.RunWithDataAsync("users", "list");
        Assert.Equal(0, listCode);
        var row = Assert.Single(list.Split('\n'), l => l.Contains(Supplier, StringComparison.Ordinal));
        Assert.Matches(@"Test Supplier\s+IS, GS\s+Active\s+none\s+https://supplier.example/duis", row);
        Assert.Contains("1 DCC user", list, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Users_list_gives_the_request_id_counter_last_accepted_from_each_user()
    {
        Assert.Equal(0, (await cli.RunWithDataAsync("users", "add", "--id", Supplier, "--role", "IS", "--name", "Test Supplier")).ExitCode);
        Assert.Matches(@"\s0\s+none\s*$", Assert.Single((await cli.RunWithDataAsync("users", "list")).Output.Split('\n'), l => l.Contains(Supplier, StringComparison.Ordinal)));
        await using (var store = await OpenDcc.Storage.OpenDccStore.OpenSqliteAsync(cli.DataDirectory, cli.Clock))
        {
            await store.MessageLog.AppendAsync([new MessageLogRecord(cli.Clock.GetCurrentInstant(), MessageDirection.Inbound, Eui64.Parse(Supplier), "request", "I99", new byte[] { 1 }) { AcceptedCounter = 18_446_744_073_709_551_000 }]);
        }

        var row = Assert.Single((await cli.RunWithDataAsync("users", "list")).Output.Split('\n'), l => l.Contains(Supplier, StringComparison.Ordinal));

        Assert.Matches(@"\s0\s+18446744073709551000\s*$", row);
    }

    [Fact]
    public async Task The_dsps_own_eui64_is_refused_as_a_dcc_user_before_and_after_keys_init()
    {
        var (code, _, error) = await cli.RunWithDataAsync("users", "add", "--id", "90-B3-D5-1F-30-00-00-02", "--role", "IS", "--name", "Not a user");
        Assert.Equal(1, code);
        Assert.Equal("opendcc: --id: 90-B3-D5-1F-30-00-00-02 is the DSP's own EUI-64 (OpenDcc itself), not a DCC user's: the gateway refuses requests from it (E42)", error.Trim());

        Assert.Equal(0, (await cli.RunWithDataAsync("keys", "init", "--dsp-id", "90-B3-D5-1F-30-00-00-09")).ExitCode);
        Assert.StartsWith("opendcc: --id: 90-B3-D5-1F-30-00-00-09 is the DSP's own EUI-64", (await cli.RunWithDataAsync("users", "add", "--id", "90-B3-D5-1F-30-00-00-09", "--role", "IS", "--name", "Not a user")).Error, StringComparison.Ordinal);
        Assert.Equal(0, (await cli.RunWithDataAsync("users", "add", "--id", "90-B3-D5-1F-30-00-00-02", "--role", "IS", "--name", "A user now")).ExitCode);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Keys_init_refuses_a_dsp_id_that_is_no_eui64_before_looking_at_keys_already_there(bool force)
    {
        Assert.Equal(0, (await cli.RunWithDataAsync("keys", "init")).ExitCode);
        var keys = Path.Combine(cli.DataDirectory, "keys");
        var before = Directory.GetFiles(keys).ToDictionary(f => f, File.ReadAllText);

        var (code, output, error) = await cli.RunWithDataAsync(force ? ["keys", "init", "--dsp-id", "zz", "--force"] : ["keys", "init", "--dsp-id", "zz"]);

        Assert.Equal(1, code);
        Assert.Equal("", output);
        Assert.StartsWith("opendcc: --dsp-id: ", error, StringComparison.Ordinal);
        Assert.Contains("zz", error, StringComparison.Ordinal);
        Assert.Single(error.Trim().Split('\n'));
        Assert.Equal(before, Directory.GetFiles(keys).ToDictionary(f => f, File.ReadAllText));
    }

    [Fact]
    public async Task Distributors_are_refused_for_a_user_that_is_no_electricity_distributor()
    {
        var (code, _, error) = await cli.RunWithDataAsync("users", "add", "--id", Supplier, "--role", "IS", "--name", "Supplier", "--distributor", "13");
        Assert.Equal(1, code);
        Assert.StartsWith("opendcc: --distributor: only an electricity distributor (ED) acts for distributors; this user is IS", error, StringComparison.Ordinal);

        Assert.Equal(0, (await cli.RunWithDataAsync("users", "add", "--id", Supplier, "--role", "IS", "--name", "Supplier")).ExitCode);
        (code, _, error) = await cli.RunWithDataAsync("users", "distributors", "--id", Supplier, "--distributor", "13");
        Assert.Equal(1, code);
        Assert.StartsWith("opendcc: --distributor: only an electricity distributor (ED) acts for distributors", error, StringComparison.Ordinal);
        Assert.Equal(0, (await cli.RunWithDataAsync("users", "distributors", "--id", Supplier)).ExitCode);
    }

    [Fact]
    public async Task A_network_operators_distributors_are_set_on_adding_and_replaced_and_listed()
    {
        var (code, output, _) = await cli.RunWithDataAsync("users", "add", "--id", NetworkOperator, "--role", "ED", "--name", "Test DNO", "--distributor", "13", "--distributor", "18");
        Assert.Equal(0, code);
        Assert.Contains("acting for distributors 13 SP Energy Networks, 18 SP Energy Networks", output, StringComparison.Ordinal);

        var (setCode, set, _) = await cli.RunWithDataAsync("users", "distributors", "--id", NetworkOperator, "--distributor", "10");
        Assert.Equal(0, setCode);
        Assert.Contains("acts for distributors 10 UK Power Networks", set, StringComparison.Ordinal);
        var row = Assert.Single((await cli.RunWithDataAsync("users", "list")).Output.Split('\n'), l => l.Contains(NetworkOperator, StringComparison.Ordinal));
        Assert.Matches(@"\s10\s+0\s+none\s*$", row);
    }

    [Fact]
    public async Task A_user_without_a_name_is_refused_naming_the_option()
    {
        var (code, _, error) = await cli.RunWithDataAsync("users", "add", "--id", "90-B3-D5-1F-30-01-00-00", "--role", "IS", "--name", "  ");
        Assert.Equal(1, code);
        Assert.Equal("opendcc: --name: a DCC user needs a name", error.Trim());
    }

    [Theory]
    [InlineData("Supplier\nLtd", "holds a control character")]
    [InlineData("\u001b[31mRed Supplier", "holds a control character")]
    public async Task A_name_that_would_break_the_tables_is_refused_naming_the_option(string name, string fault)
    {
        var (code, _, error) = await cli.RunWithDataAsync("users", "add", "--id", Supplier, "--role", "IS", "--name", name);
        Assert.Equal(1, code);
        Assert.StartsWith("opendcc: --name: a DCC user's name ", error, StringComparison.Ordinal);
        Assert.Contains(fault, error, StringComparison.Ordinal);
        Assert.Single(error.TrimEnd().Split('\n'));
        Assert.DoesNotContain(Supplier, (await cli.RunWithDataAsync("users", "list")).Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_response_url_with_credentials_in_it_is_refused()
    {
        var (code, _, error) = await cli.RunWithDataAsync("users", "add", "--id", Supplier, "--role", "IS", "--name", "Supplier", "--response-url", "https://duis:hunter2@supplier.example/duis");
        Assert.Equal(1, code);
        Assert.StartsWith("opendcc: --response-url: a response URL carries no credentials", error, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_distributor_is_refused_naming_the_option_and_the_value()
    {
        await cli.RunWithDataAsync("users", "add", "--id", NetworkOperator, "--role", "ED", "--name", "Test DNO");

        var (code, _, error) = await cli.RunWithDataAsync("users", "distributors", "--id", NetworkOperator, "--distributor", "13", "--distributor", "99");

        Assert.Equal(1, code);
        Assert.StartsWith("opendcc: --distributor: '99' is not a known distributor ID (10 to 23 for the DNOs, 24 to 36 for the IDNOs)", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_api_key_is_shown_once_stored_as_a_hash_listed_and_revoked()
    {
        await cli.RunWithDataAsync("users", "add", "--id", NetworkOperator, "--role", "ED", "--name", "Test DNO");

        var (code, output, _) = await cli.RunWithDataAsync("users", "api-key", "--id", NetworkOperator);

        Assert.Equal(0, code);
        var token = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)[^1];
        Assert.True(OpenDcc.Core.Parties.ApiKey.IsWellFormed(token), token);
        var keyId = token[5..17];
        Assert.Contains($"issued API key {keyId}", output, StringComparison.Ordinal);
        await using (var store = await OpenDcc.Storage.OpenDccStore.OpenSqliteAsync(cli.DataDirectory, cli.Clock))
        {
            var key = await store.ApiKeys.FindByTokenHashAsync(OpenDcc.Core.Parties.ApiKey.HashOf(token));
            Assert.Equal(keyId, key!.Id);
            Assert.Equal(cli.Clock.GetCurrentInstant(), key.CreatedAt);
        }
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        foreach (var file in Directory.GetFiles(cli.DataDirectory, "opendcc.db*"))
        {
            Assert.DoesNotContain(token[18..], await File.ReadAllTextAsync(file), StringComparison.Ordinal);
        }

        var (revokeCode, revoked, _) = await cli.RunWithDataAsync("users", "api-key", "--id", NetworkOperator, "--revoke", keyId);
        Assert.Equal(0, revokeCode);
        Assert.Contains($"revoked API key {keyId}", revoked, StringComparison.Ordinal);
        var (_, list, _) = await cli.RunWithDataAsync("users", "api-key", "--id", NetworkOperator, "--list");
        Assert.Matches($@"{keyId}\s+2026-11-28T09:00:00Z\s+2026-11-28T09:00:00Z", list);
        var (unknownCode, _, error) = await cli.RunWithDataAsync("users", "api-key", "--id", NetworkOperator, "--revoke", "000000000000");
        Assert.Equal(1, unknownCode);
        Assert.Contains("has no API key 000000000000 (give the key ID that --list shows, 12 hex digits, or the whole token)", error, StringComparison.Ordinal);

        // The whole token names its key: what an operator holds when a token has leaked.
        var (_, second, _) = await cli.RunWithDataAsync("users", "api-key", "--id", NetworkOperator);
        var secondToken = second.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)[^1];
        var (byToken, byTokenOutput, _) = await cli.RunWithDataAsync("users", "api-key", "--id", NetworkOperator, "--revoke", secondToken);
        Assert.Equal(0, byToken);
        Assert.Contains($"revoked API key {secondToken[5..17]}", byTokenOutput, StringComparison.Ordinal);
        // A token of the same shape that is no key's (mistyped) revokes nothing.
        var (_, thirdOutput, _) = await cli.RunWithDataAsync("users", "api-key", "--id", NetworkOperator);
        var thirdToken = thirdOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)[^1];
        var mistyped = thirdToken[..^1] + (thirdToken[^1] == 'A' ? 'B' : 'A');
        var (wrong, _, wrongError) = await cli.RunWithDataAsync("users", "api-key", "--id", NetworkOperator, "--revoke", mistyped);
        Assert.Equal(1, wrong);
        Assert.Contains($"--revoke: the token given is no API key of DCC user {NetworkOperator}", wrongError, StringComparison.Ordinal);
        await using (var store = await OpenDcc.Storage.OpenDccStore.OpenSqliteAsync(cli.DataDirectory, cli.Clock))
        {
            Assert.False((await store.ApiKeys.FindByTokenHashAsync(OpenDcc.Core.Parties.ApiKey.HashOf(thirdToken)))!.IsRevoked);
        }
    }

    [Fact]
    public async Task An_api_key_for_an_unknown_user_is_refused()
    {
        await cli.StartStoreAsync();
        var (code, _, error) = await cli.RunWithDataAsync("users", "api-key", "--id", NetworkOperator);

        Assert.Equal(1, code);
        Assert.Contains($"no DCC user has ID {NetworkOperator}", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--id", "90-B3", "--role", "IS", "--id: ")]
    [InlineData("--id", Supplier, "--role", "XY", "--role: ")]
    public async Task A_bad_field_is_refused_naming_the_option(string idOption, string id, string roleOption, string role, string named)
    {
        await cli.StartStoreAsync();
        var (code, _, error) = await cli.RunWithDataAsync("users", "add", idOption, id, roleOption, role, "--name", "X");
        Assert.Equal(1, code);
        Assert.StartsWith("opendcc: " + named, error, StringComparison.Ordinal);
        Assert.Contains("0 DCC users", (await cli.RunWithDataAsync("users", "list")).Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Adding_an_existing_user_is_refused_and_keeps_the_first()
    {
        await cli.RunWithDataAsync("users", "add", "--id", Supplier, "--role", "IS", "--name", "First");
        var (code, _, error) = await cli.RunWithDataAsync("users", "add", "--id", Supplier, "--role", "GS", "--name", "Second");
        Assert.Equal(1, code);
        Assert.Contains("already exists", error, StringComparison.Ordinal);
        Assert.Contains("First", (await cli.RunWithDataAsync("users", "list")).Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Keys_init_creates_a_local_ca_and_dsp_identity_once()
    {
        var (code, output, _) = await cli.RunWithDataAsync("keys", "init");
        Assert.Equal(0, code);
        Assert.Contains("DSP XmlSign identity 90-B3-D5-1F-30-00-00-02", output, StringComparison.Ordinal);
        var keys = new FileKeyStore(Path.Combine(cli.DataDirectory, "keys"));
        using var dsp = keys.LoadDspIdentity();
        Assert.Equal(RemotePartyRole.DspXmlSign, OrganisationCertificate.FromX509(dsp).Role);
        Assert.True(dsp.HasPrivateKey);

        var (again, _, error) = await cli.RunWithDataAsync("keys", "init");
        Assert.Equal(1, again);
        Assert.Contains("--force", error, StringComparison.Ordinal);
        using var unchanged = keys.LoadDspIdentity();
        Assert.Equal(dsp.Thumbprint, unchanged.Thumbprint);
    }

    [Theory]
    [InlineData("dsp-xmlsign.crt.pem", "dsp-xmlsign.key.pem")]
    [InlineData("dsp-xmlsign.key.pem", "dsp-xmlsign.crt.pem")]
    [InlineData("local-ca.crt.pem", "local-ca.key.pem")]
    [InlineData("local-ca.key.pem", "local-ca.crt.pem")]
    public async Task Keys_init_refuses_a_key_or_certificate_left_without_its_partner_and_replaces_nothing_without_force(string missing, string left)
    {
        Assert.Equal(0, (await cli.RunWithDataAsync("keys", "init")).ExitCode);
        var keys = Path.Combine(cli.DataDirectory, "keys");
        File.Delete(Path.Combine(keys, missing));
        var before = Directory.GetFiles(keys).ToDictionary(f => f, File.ReadAllText);

        var (code, output, error) = await cli.RunWithDataAsync("keys", "init");

        Assert.Equal(1, code);
        Assert.Equal("", output);
        Assert.StartsWith($"opendcc: {Path.Combine(keys, left)} is there without {Path.Combine(keys, missing)}: ", error, StringComparison.Ordinal);
        Assert.Equal(before, Directory.GetFiles(keys).ToDictionary(f => f, File.ReadAllText));
        // --force replaces the pair, as it says.
        Assert.Equal(0, (await cli.RunWithDataAsync("keys", "init", "--force")).ExitCode);
        using var dsp = new FileKeyStore(keys).LoadDspIdentity();
        Assert.True(dsp.HasPrivateKey);
    }

    [Fact]
    public async Task Keys_init_and_import_dsp_are_refused_while_another_process_changes_the_keys_and_write_nothing()
    {
        // Four keys init at once left one's local CA certificate beside another's key, and a DSP identity the CA there never issued.
        var keys = Path.Combine(cli.DataDirectory, "keys");
        using var dsp = Issue("90-B3-D5-1F-30-00-00-02", RemotePartyRole.DspXmlSign);
        var cert = WritePem("dsp.crt.pem", dsp);
        var key = Path.Combine(cli.DataDirectory, "dsp.key.pem");
        using (var k = dsp.GetECDsaPrivateKey()!)
        {
            await File.WriteAllTextAsync(key, k.ExportPkcs8PrivateKeyPem());
        }

        using (new FileKeyStore(keys).LockForChange())
        {
            foreach (var args in new[] { new[] { "keys", "init" }, ["keys", "import-dsp", "--key", key, "--cert", cert] })
            {
                var (code, output, error) = await cli.RunWithDataAsync(args);

                Assert.Equal(1, code);
                Assert.Equal("", output);
                Assert.StartsWith($"opendcc: another opendcc process is changing the keys in {keys}", error, StringComparison.Ordinal);
                Assert.Equal(["keys.lock"], Directory.GetFiles(keys).Select(Path.GetFileName));
            }
        }

        Assert.Equal(0, (await cli.RunWithDataAsync("keys", "init")).ExitCode);
    }

    [Fact]
    public async Task Keys_import_dsp_refuses_a_dsp_key_left_without_its_certificate_unless_forced()
    {
        Assert.Equal(0, (await cli.RunWithDataAsync("keys", "init")).ExitCode);
        var keys = Path.Combine(cli.DataDirectory, "keys");
        var lone = File.ReadAllText(Path.Combine(keys, "dsp-xmlsign.key.pem"));
        File.Delete(Path.Combine(keys, "dsp-xmlsign.crt.pem"));
        using var dsp = Issue("90-B3-D5-1F-30-00-00-02", RemotePartyRole.DspXmlSign);
        var cert = WritePem("dsp.crt.pem", dsp);
        var key = Path.Combine(cli.DataDirectory, "dsp.key.pem");
        using (var k = dsp.GetECDsaPrivateKey()!)
        {
            await File.WriteAllTextAsync(key, k.ExportPkcs8PrivateKeyPem());
        }

        var (code, _, error) = await cli.RunWithDataAsync("keys", "import-dsp", "--key", key, "--cert", cert);

        Assert.Equal(1, code);
        Assert.Contains("dsp-xmlsign.crt.pem: the DSP XmlSign identity is incomplete", error, StringComparison.Ordinal);
        Assert.Equal(lone, File.ReadAllText(Path.Combine(keys, "dsp-xmlsign.key.pem")));
        Assert.Equal(0, (await cli.RunWithDataAsync("keys", "import-dsp", "--key", key, "--cert", cert, "--force")).ExitCode);
        using var imported = new FileKeyStore(keys).LoadDspIdentity();
        Assert.Equal(dsp.Thumbprint, imported.Thumbprint);
    }

    [Fact]
    public async Task Keys_init_after_an_imported_dsp_identity_creates_only_the_local_ca_so_certs_can_be_issued()
    {
        using var dsp = Issue("90-B3-D5-1F-30-00-00-02", RemotePartyRole.DspXmlSign);
        var cert = WritePem("dsp.crt.pem", dsp);
        var key = Path.Combine(cli.DataDirectory, "dsp.key.pem");
        using (var k = dsp.GetECDsaPrivateKey()!)
        {
            await File.WriteAllTextAsync(key, k.ExportPkcs8PrivateKeyPem());
        }
        Assert.Equal(0, (await cli.RunWithDataAsync("keys", "import-dsp", "--key", key, "--cert", cert)).ExitCode);

        var (code, output, _) = await cli.RunWithDataAsync("keys", "init");

        Assert.Equal(0, code);
        Assert.Contains("kept the DSP XmlSign identity 90-B3-D5-1F-30-00-00-02 already there", output, StringComparison.Ordinal);
        using (var kept = new FileKeyStore(Path.Combine(cli.DataDirectory, "keys")).LoadDspIdentity())
        {
            Assert.Equal(dsp.Thumbprint, kept.Thumbprint);
        }
        await cli.RunWithDataAsync("users", "add", "--id", Supplier, "--role", "IS", "--name", "Supplier");
        Assert.Equal(0, (await cli.RunWithDataAsync("certs", "issue", "--id", Supplier, "--out", Path.Combine(cli.DataDirectory, "issued"))).ExitCode);
        // Both there now: init refuses without --force.
        Assert.Equal(1, (await cli.RunWithDataAsync("keys", "init")).ExitCode);
    }

    [Fact]
    public async Task Certs_import_binds_each_certificate_to_its_user_by_eui64()
    {
        await cli.RunWithDataAsync("users", "add", "--id", Supplier, "--role", "IS", "--name", "Supplier");
        await cli.RunWithDataAsync("users", "add", "--id", NetworkOperator, "--role", "ED", "--name", "DNO");
        var bundle = WritePem("bundle.pem", Issue(Supplier, RemotePartyRole.XmlSign), Issue(NetworkOperator, RemotePartyRole.XmlSign));

        var (code, output, _) = await cli.RunWithDataAsync("certs", "import", "--any-issuer", bundle);
        Assert.Equal(0, code);
        Assert.Contains($"bound: XmlSign (OU=87) serial", output, StringComparison.Ordinal);
        Assert.Contains($"to {Supplier}", output, StringComparison.Ordinal);
        Assert.Contains($"to {NetworkOperator}", output, StringComparison.Ordinal);
        var list = (await cli.RunWithDataAsync("users", "list")).Output;
        Assert.Equal(2, list.Split('\n').Count(l => l.Contains("XmlSign (87)", StringComparison.Ordinal)));

        var (again, repeat, _) = await cli.RunWithDataAsync("certs", "import", "--any-issuer", bundle);
        Assert.Equal(0, again);
        Assert.Contains("already bound", repeat, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Certs_import_binds_only_certificates_a_trusted_ca_signed_naming_the_issuer_it_does_not_trust()
    {
        await cli.RunWithDataAsync("users", "add", "--id", Supplier, "--role", "IS", "--name", "Supplier");
        using var ca = CertificateAuthority.Create("Organisation CA", cli.Clock, Duration.FromDays(3650));
        using var issued = ca.Issue(Eui64.Parse(Supplier), RemotePartyRole.XmlSign, null, cli.Clock, Duration.FromDays(365));
        var certificate = WritePem("supplier.pem", issued);

        var (refused, _, why) = await cli.RunWithDataAsync("certs", "import", certificate);
        Assert.Equal(1, refused);
        Assert.Equal(
            $"opendcc: supplier.pem: certificate {OrganisationCertificate.FromX509(issued).SerialNumber} for {Supplier}: its issuer 'CN=Organisation CA, OU=07' is not a trusted CA (add the CA's certificate with 'opendcc certs trust add'); or bind it unchecked with --any-issuer (nothing imported)",
            why.TrimEnd());
        Assert.Contains("0 certificates", (await cli.RunWithDataAsync("certs", "list")).Output, StringComparison.Ordinal);

        // The CA's certificate alone (no key) is trusted; then its certificates are bound.
        var (trusted, trustOutput, _) = await cli.RunWithDataAsync("certs", "trust", "add", WritePem("oca.pem", ca.Certificate));
        Assert.Equal(0, trusted);
        Assert.StartsWith("trusted: CN=Organisation CA, OU=07, until ", trustOutput, StringComparison.Ordinal);
        Assert.Contains("1 trusted CA", (await cli.RunWithDataAsync("certs", "trust", "list")).Output, StringComparison.Ordinal);
        Assert.Equal(0, (await cli.RunWithDataAsync("certs", "import", certificate)).ExitCode);
    }

    [Fact]
    public async Task Certs_import_refuses_a_certificate_that_names_a_trusted_ca_but_another_key_signed()
    {
        await cli.RunWithDataAsync("users", "add", "--id", Supplier, "--role", "IS", "--name", "Supplier");
        using var ca = CertificateAuthority.Create("Organisation CA", cli.Clock, Duration.FromDays(3650));
        Assert.Equal(0, (await cli.RunWithDataAsync("certs", "trust", "add", WritePem("oca.pem", ca.Certificate))).ExitCode);
        using var impostor = CertificateAuthority.Create("Organisation CA", cli.Clock, Duration.FromDays(3650));
        using var forged = impostor.Issue(Eui64.Parse(Supplier), RemotePartyRole.XmlSign, null, cli.Clock, Duration.FromDays(365));

        var (code, _, error) = await cli.RunWithDataAsync("certs", "import", WritePem("forged.pem", forged));

        Assert.Equal(1, code);
        Assert.Contains("its signature does not verify with the trusted CA 'CN=Organisation CA, OU=07'", error, StringComparison.Ordinal);
        Assert.Contains("0 certificates", (await cli.RunWithDataAsync("certs", "list")).Output, StringComparison.Ordinal);
        // Bound knowingly unchecked, it says so.
        var (bound, output, _) = await cli.RunWithDataAsync("certs", "import", "--any-issuer", WritePem("forged.pem", forged));
        Assert.Equal(0, bound);
        Assert.Contains("its issuer 'CN=Organisation CA, OU=07' was not checked (--any-issuer)", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Certs_import_refuses_a_certificate_of_a_trusted_ca_that_has_expired_since_it_was_trusted()
    {
        await cli.RunWithDataAsync("users", "add", "--id", Supplier, "--role", "IS", "--name", "Supplier");
        using var ca = CertificateAuthority.Create("Organisation CA", cli.Clock, Duration.FromDays(10));
        using var issued = ca.Issue(Eui64.Parse(Supplier), RemotePartyRole.XmlSign, null, cli.Clock, Duration.FromDays(365));
        Assert.Equal(0, (await cli.RunWithDataAsync("certs", "trust", "add", WritePem("oca.pem", ca.Certificate))).ExitCode);

        cli.Clock.Advance(Duration.FromDays(11));
        var (code, _, error) = await cli.RunWithDataAsync("certs", "import", WritePem("supplier.pem", issued));

        Assert.Equal(1, code);
        Assert.Contains("the trusted CA 'CN=Organisation CA, OU=07' is not valid now (expired, not yet valid, or no CA)", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Certs_trust_refuses_a_ca_not_yet_valid_a_data_directory_without_a_store_and_knows_the_local_ca()
    {
        await cli.RunWithDataAsync("users", "add", "--id", Supplier, "--role", "IS", "--name", "Supplier");
        var nextYear = new NodaTime.Testing.FakeClock(cli.Clock.GetCurrentInstant() + Duration.FromDays(100));
        using var future = CertificateAuthority.Create("Future CA", nextYear, Duration.FromDays(3650));
        var (notYet, _, why) = await cli.RunWithDataAsync("certs", "trust", "add", WritePem("future.pem", future.Certificate));
        Assert.Equal(1, notYet);
        Assert.Contains("is not valid before", why, StringComparison.Ordinal);

        var (noStore, _, refused) = await cli.RunAsync("certs", "trust", "list", "--data", Path.Combine(cli.DataDirectory, "mistyped"));
        Assert.Equal(1, noStore);
        Assert.Contains("no OpenDcc store there", refused, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(cli.DataDirectory, "mistyped")));

        await cli.RunWithDataAsync("keys", "init");
        var (local, output, _) = await cli.RunWithDataAsync("certs", "trust", "add", Path.Combine(cli.DataDirectory, "keys", "local-ca.crt.pem"));
        Assert.Equal(0, local);
        Assert.StartsWith("already trusted: CN=OpenDcc Local CA", output, StringComparison.Ordinal);
        Assert.Contains("1 trusted CA", (await cli.RunWithDataAsync("certs", "trust", "list")).Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Certs_trust_add_refuses_a_certificate_that_is_no_ca_and_trusts_nothing()
    {
        await cli.RunWithDataAsync("users", "add", "--id", Supplier, "--role", "IS", "--name", "Supplier");
        using var ca = CertificateAuthority.Create("Organisation CA", cli.Clock, Duration.FromDays(3650));

        var (code, _, error) = await cli.RunWithDataAsync("certs", "trust", "add", WritePem("oca.pem", ca.Certificate), WritePem("user.pem", Issue(Supplier, RemotePartyRole.XmlSign)));

        Assert.Equal(1, code);
        Assert.Contains("user.pem: ", error, StringComparison.Ordinal);
        Assert.Contains("is not a CA certificate (its basic constraints do not make it a CA) (nothing trusted)", error, StringComparison.Ordinal);
        Assert.Contains("no trusted CA", (await cli.RunWithDataAsync("certs", "trust", "list")).Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_replay_counter_run_away_to_its_maximum_is_lowered_by_the_operator_logged_and_only_with_no_hub_serving()
    {
        await cli.RunWithDataAsync("users", "add", "--id", Supplier, "--role", "IS", "--name", "Supplier");
        await using (var store = await OpenDcc.Storage.OpenDccStore.OpenSqliteAsync(cli.DataDirectory, cli.Clock))
        {
            await store.MessageLog.AppendAsync([new MessageLogRecord(cli.Clock.GetCurrentInstant(), MessageDirection.Inbound, Eui64.Parse(Supplier), $"{Supplier}:00-DB-12-34-56-78-90-A0:18446744073709551615", "I99", "<Request/>"u8.ToArray()) { AcceptedCounter = ulong.MaxValue }]);
            // A hub serving: refused, the counter as it was.
            await using (await store.LeaseForHubAsync())
            {
                var (refused, _, why) = await cli.RunWithDataAsync("users", "reset-counter", "--id", Supplier, "--to", "1000");
                Assert.Equal(1, refused);
                Assert.StartsWith("opendcc: a hub serves from this store, and holds the user's counter: stop it, then reset the counter", why, StringComparison.Ordinal);
            }
            Assert.Equal(ulong.MaxValue, (await store.ReplayCounters.ReadAsync(Eui64.Parse(Supplier)))!.Last);
        }

        var (code, output, _) = await cli.RunWithDataAsync("users", "reset-counter", "--id", Supplier, "--to", "1000");

        Assert.Equal(0, code);
        Assert.Contains($"DCC user {Supplier}'s replay counter lowered from 18446744073709551615 to 1000 (logged)", output, StringComparison.Ordinal);
        await using (var store = await OpenDcc.Storage.OpenDccStore.OpenSqliteAsync(cli.DataDirectory, cli.Clock))
        {
            Assert.Equal(1000UL, (await store.ReplayCounters.ReadAsync(Eui64.Parse(Supplier)))!.Last);
            var logged = await store.MessageLog.ReadAsync().ToListAsync();
            Assert.Equal("ReplayCounterReset: the operator lowered the replay counter from 18446744073709551615 to 1000", logged[^1].Record.Outcome);
        }
        // Never raised: counters rise by themselves.
        Assert.Contains("nothing to lower to 5000", (await cli.RunWithDataAsync("users", "reset-counter", "--id", Supplier, "--to", "5000")).Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Certs_import_refuses_a_certificate_whose_eui64_has_no_user_and_imports_nothing()
    {
        await cli.RunWithDataAsync("users", "add", "--id", Supplier, "--role", "IS", "--name", "Supplier");
        var known = WritePem("known.pem", Issue(Supplier, RemotePartyRole.XmlSign));
        var stranger = WritePem("stranger.pem", Issue("00-DB-12-34-56-78-00-04", RemotePartyRole.XmlSign));

        var (code, _, error) = await cli.RunWithDataAsync("certs", "import", "--any-issuer", known, stranger);
        Assert.Equal(1, code);
        Assert.Contains("00-DB-12-34-56-78-00-04, which is not a DCC user", error, StringComparison.Ordinal);
        Assert.Contains("nothing imported", error, StringComparison.Ordinal);
        Assert.Contains("none", Assert.Single((await cli.RunWithDataAsync("users", "list")).Output.Split('\n'), l => l.Contains(Supplier, StringComparison.Ordinal)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Certs_import_refuses_a_certificate_whose_issuer_and_serial_a_bound_one_has_naming_them_and_its_user()
    {
        await cli.RunWithDataAsync("users", "add", "--id", Supplier, "--role", "IS", "--name", "Supplier");
        await cli.RunWithDataAsync("users", "add", "--id", NetworkOperator, "--role", "ED", "--name", "DNO");
        using var ca = CertificateAuthority.Create("Test CA", cli.Clock, Duration.FromDays(3650));
        using var held = ca.Issue(Eui64.Parse(Supplier), RemotePartyRole.XmlSign, null, cli.Clock, Duration.FromDays(365));
        Assert.Equal(0, (await cli.RunWithDataAsync("certs", "import", "--any-issuer", WritePem("held.pem", held))).ExitCode);
        using var clashing = IssueWithSerial(ca, NetworkOperator, held.SerialNumberBytes.Span);
        var other = WritePem("other.pem", Issue(NetworkOperator, RemotePartyRole.XmlSign));

        var (code, output, error) = await cli.RunWithDataAsync("certs", "import", "--any-issuer", other, WritePem("clashing.pem", clashing));

        Assert.Equal(1, code);
        Assert.Equal("", output);
        var serial = OrganisationCertificate.FromX509(held).SerialNumber;
        Assert.Equal(
            $"opendcc: clashing.pem: certificate for {NetworkOperator} has issuer 'CN=Test CA, OU=07' and serial {serial}, which the XmlSign (OU=87) certificate bound to {Supplier} already has: a certificate is known by its issuer and serial (nothing imported)",
            error.TrimEnd());
        var list = (await cli.RunWithDataAsync("certs", "list")).Output;
        Assert.Contains(Supplier, list, StringComparison.Ordinal);
        Assert.DoesNotContain(NetworkOperator, list, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Certs_import_refuses_two_certificates_with_one_issuer_and_serial_and_imports_nothing()
    {
        await cli.RunWithDataAsync("users", "add", "--id", Supplier, "--role", "IS", "--name", "Supplier");
        await cli.RunWithDataAsync("users", "add", "--id", NetworkOperator, "--role", "ED", "--name", "DNO");
        using var ca = CertificateAuthority.Create("Test CA", cli.Clock, Duration.FromDays(3650));
        using var first = ca.Issue(Eui64.Parse(Supplier), RemotePartyRole.XmlSign, null, cli.Clock, Duration.FromDays(365));
        using var second = IssueWithSerial(ca, NetworkOperator, first.SerialNumberBytes.Span);

        var (code, _, error) = await cli.RunWithDataAsync("certs", "import", "--any-issuer", WritePem("first.pem", first), WritePem("second.pem", second));

        Assert.Equal(1, code);
        Assert.StartsWith($"opendcc: second.pem: certificate for {NetworkOperator} has issuer 'CN=Test CA, OU=07' and serial {OrganisationCertificate.FromX509(first).SerialNumber}, which the XmlSign (OU=87) certificate for {Supplier} in first.pem has too", error, StringComparison.Ordinal);
        Assert.Contains("(nothing imported)", error, StringComparison.Ordinal);
        Assert.Contains("0 certificates", (await cli.RunWithDataAsync("certs", "list")).Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Certs_import_refuses_an_expired_certificate_and_imports_nothing()
    {
        await cli.RunWithDataAsync("users", "add", "--id", Supplier, "--role", "IS", "--name", "Supplier");
        var lastYear = new NodaTime.Testing.FakeClock(cli.Clock.GetCurrentInstant() - Duration.FromDays(400));
        using var ca = CertificateAuthority.Create("Test CA", lastYear, Duration.FromDays(3650));
        using var expired = ca.Issue(Eui64.Parse(Supplier), RemotePartyRole.XmlSign, null, lastYear, Duration.FromDays(365));
        var current = WritePem("current.pem", Issue(Supplier, RemotePartyRole.XmlSign));
        var old = WritePem("old.pem", expired);

        var (code, _, error) = await cli.RunWithDataAsync("certs", "import", "--any-issuer", current, old);

        Assert.Equal(1, code);
        Assert.StartsWith("opendcc: old.pem: certificate ", error, StringComparison.Ordinal);
        Assert.Contains(" expired at 2026-10-", error, StringComparison.Ordinal); // 400 days ago, for 365 days
        Assert.Contains("none", Assert.Single((await cli.RunWithDataAsync("users", "list")).Output.Split('\n'), l => l.Contains(Supplier, StringComparison.Ordinal)), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("GS", RemotePartyRole.DspXmlSign, "DspXmlSign (OU=89) is not a role of a DCC user's certificate (87 (XmlSign), 02 (Supplier) or 03 (NetworkOperator))")]
    [InlineData("GS", RemotePartyRole.AccessControlBroker, "AccessControlBroker (OU=04) is not a role of a DCC user's certificate")]
    [InlineData("ED", RemotePartyRole.Supplier, "a Supplier (02) certificate is for a supplier (IS, ES or GS); this user is ED")]
    [InlineData("GS", RemotePartyRole.NetworkOperator, "a Network Operator (03) certificate is for a network operator (ED or GT); this user is GS")]
    public async Task Certs_import_refuses_a_role_certs_issue_would_not_give_the_user_and_imports_nothing(string userRole, RemotePartyRole role, string fault)
    {
        await cli.RunWithDataAsync("users", "add", "--id", Supplier, "--role", userRole, "--name", "User");
        var xmlSign = WritePem("xml-sign.pem", Issue(Supplier, RemotePartyRole.XmlSign));
        var other = WritePem("other.pem", Issue(Supplier, role));

        var (code, _, error) = await cli.RunWithDataAsync("certs", "import", "--any-issuer", xmlSign, other);

        Assert.Equal(1, code);
        Assert.StartsWith($"opendcc: other.pem: certificate ", error, StringComparison.Ordinal);
        Assert.Contains($" for {Supplier}: {fault}", error, StringComparison.Ordinal);
        Assert.EndsWith("(nothing imported)", error.Trim(), StringComparison.Ordinal);
        Assert.Contains("none", Assert.Single((await cli.RunWithDataAsync("users", "list")).Output.Split('\n'), l => l.Contains(Supplier, StringComparison.Ordinal)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Certs_import_refuses_a_certificate_without_the_smki_fields()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var plain = new CertificateRequest("CN=not smki", key, HashAlgorithmName.SHA256).CreateSelfSigned(DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddDays(1));
        var file = WritePem("plain.pem", plain);
        var (code, _, error) = await cli.RunWithDataAsync("certs", "import", file);
        Assert.Equal(1, code);
        Assert.Contains("plain.pem", error, StringComparison.Ordinal);
        Assert.Contains("no OU", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Certs_issue_is_refused_while_another_process_changes_the_keys_in_its_out_directory_and_writes_and_binds_nothing()
    {
        await cli.RunWithDataAsync("keys", "init");
        await cli.RunWithDataAsync("users", "add", "--id", Supplier, "--role", "IS", "--name", "A supplier");
        var outDir = Path.Combine(cli.DataDirectory, "issued");

        using (new FileKeyStore(outDir).LockForChange())
        {
            var (code, output, error) = await cli.RunWithDataAsync("certs", "issue", "--id", Supplier, "--out", outDir);

            Assert.Equal(1, code);
            Assert.Equal("", output);
            Assert.StartsWith($"opendcc: --out: another opendcc process is changing the keys in {outDir}", error, StringComparison.Ordinal);
            Assert.Equal(["keys.lock"], Directory.GetFiles(outDir).Select(Path.GetFileName));
            Assert.Contains("0 certificates", (await cli.RunWithDataAsync("certs", "list")).Output, StringComparison.Ordinal);
        }

        Assert.Equal(0, (await cli.RunWithDataAsync("certs", "issue", "--id", Supplier, "--out", outDir)).ExitCode);
    }

    [Theory]
    [InlineData("ED", "02", "--role: a Supplier (02) certificate is for a supplier (IS, ES or GS); this user is ED")]
    [InlineData("IS", "03", "--role: a Network Operator (03) certificate is for a network operator (ED or GT); this user is IS")]
    [InlineData("IS", "04", "--role: AccessControlBroker (04) is not a role of a DCC user's certificate; give 87 (XmlSign), 02 (Supplier) or 03 (NetworkOperator)")]
    public async Task Certs_issue_refuses_a_role_the_user_cannot_have_and_writes_nothing(string userRole, string certificateRole, string fault)
    {
        await cli.RunWithDataAsync("keys", "init");
        await cli.RunWithDataAsync("users", "add", "--id", Supplier, "--role", userRole, "--name", "A user");
        var outDir = Path.Combine(cli.DataDirectory, "issued");
        var (code, _, error) = await cli.RunWithDataAsync("certs", "issue", "--id", Supplier, "--role", certificateRole, "--out", outDir);
        Assert.Equal(1, code);
        Assert.Equal($"opendcc: {fault}", error.Trim());
        Assert.False(Directory.Exists(outDir));
    }

    [Theory]
    [InlineData("05", "TransitionalChangeOfSupplier (05) is not")]
    [InlineData("TransitionalChangeOfSupplier", "TransitionalChangeOfSupplier (05) is not")]
    [InlineData("08", "LoadController (08) is not")]
    [InlineData("7F", "Other (7F) is not")]
    [InlineData("89", "DspXmlSign (89) is not")]
    [InlineData("00", "Root (00) is not")]
    [InlineData("5", "'5' is not")]
    [InlineData("8", "'8' is not")]
    [InlineData("2", "'2' is not")]
    [InlineData("135", "'135' is not")]
    [InlineData("087", "'087' is not")]
    [InlineData("AA", "'AA' is not")]
    [InlineData("XmlSign, Supplier", "'XmlSign, Supplier' is not")]
    public async Task Certs_issue_takes_only_a_user_certificate_role_as_two_hex_digits_or_its_name(string certificateRole, string fault)
    {
        await cli.RunWithDataAsync("keys", "init");
        await cli.RunWithDataAsync("users", "add", "--id", Supplier, "--role", "IS", "--role", "ED", "--name", "A user");
        var outDir = Path.Combine(cli.DataDirectory, "issued");
        var (code, output, error) = await cli.RunWithDataAsync("certs", "issue", "--id", Supplier, "--role", certificateRole, "--out", outDir);
        Assert.Equal(1, code);
        Assert.Equal("", output);
        var line = Assert.Single(error.Trim().Split('\n'));
        Assert.StartsWith($"opendcc: --role: {fault} a role of a DCC user's certificate; give ", line, StringComparison.Ordinal);
        Assert.EndsWith("87 (XmlSign), 02 (Supplier) or 03 (NetworkOperator)", line, StringComparison.Ordinal);
        Assert.False(Directory.Exists(outDir));
        Assert.Contains("0 certificates", (await cli.RunWithDataAsync("certs", "list")).Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("87", "XmlSign (OU=87)")]
    [InlineData("xmlsign", "XmlSign (OU=87)")]
    [InlineData("02", "Supplier (OU=02)")]
    [InlineData("Supplier", "Supplier (OU=02)")]
    [InlineData("03", "NetworkOperator (OU=03)")]
    [InlineData("networkoperator", "NetworkOperator (OU=03)")]
    public async Task Certs_issue_issues_each_user_certificate_role_by_code_or_name(string certificateRole, string issued)
    {
        await cli.RunWithDataAsync("keys", "init");
        await cli.RunWithDataAsync("users", "add", "--id", Supplier, "--role", "IS", "--role", "ED", "--name", "A user");
        var (code, output, error) = await cli.RunWithDataAsync("certs", "issue", "--id", Supplier, "--role", certificateRole, "--out", Path.Combine(cli.DataDirectory, "issued"));
        Assert.True(code == 0, error);
        Assert.StartsWith($"issued and bound {issued} serial ", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Certs_issue_writes_a_key_pair_from_the_local_ca_and_binds_it()
    {
        await cli.RunWithDataAsync("keys", "init");
        await cli.RunWithDataAsync("users", "add", "--id", Supplier, "--role", "IS", "--name", "Supplier");
        var outDir = Path.Combine(cli.DataDirectory, "issued");
        var (code, output, _) = await cli.RunWithDataAsync("certs", "issue", "--id", Supplier, "--out", outDir);
        Assert.Equal(0, code);
        Assert.Contains("XmlSign (OU=87)", output, StringComparison.Ordinal);
        using var issued = FileKeyStore.Combine(Path.Combine(outDir, "90B3D51F30010000-87.crt.pem"), Path.Combine(outDir, "90B3D51F30010000-87.key.pem"));
        Assert.Equal(Eui64.Parse(Supplier), OrganisationCertificate.FromX509(issued).EntityId);
        var keys = new FileKeyStore(Path.Combine(cli.DataDirectory, "keys"));
        using var ca = keys.LoadLocalCa();
        Assert.Equal(ca.Certificate.Subject, issued.Issuer);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(outDir, "90B3D51F30010000-87.key.pem")));
        }

        // The key of the certificate still bound is not overwritten without --force.
        var (again, _, error) = await cli.RunWithDataAsync("certs", "issue", "--id", Supplier, "--out", outDir);
        Assert.Equal(1, again);
        Assert.Contains("--out: ", error, StringComparison.Ordinal);
        Assert.Contains("pass --force", error, StringComparison.Ordinal);
        using var kept = FileKeyStore.Combine(Path.Combine(outDir, "90B3D51F30010000-87.crt.pem"), Path.Combine(outDir, "90B3D51F30010000-87.key.pem"));
        Assert.Equal(issued.Thumbprint, kept.Thumbprint);
        var (forced, forcedOutput, _) = await cli.RunWithDataAsync("certs", "issue", "--id", Supplier, "--out", outDir, "--force");
        Assert.Equal(0, forced);
        using var replaced = FileKeyStore.Combine(Path.Combine(outDir, "90B3D51F30010000-87.crt.pem"), Path.Combine(outDir, "90B3D51F30010000-87.key.pem"));
        Assert.NotEqual(issued.Thumbprint, replaced.Thumbprint);
        // The first certificate still stands until it is revoked: the output says so, and how.
        var first = OrganisationCertificate.FromX509(issued).SerialNumber;
        Assert.Contains($"{Supplier}'s earlier XmlSign certificate (serial {first}) still stands: 'opendcc certs revoke --serial S' stops one", forcedOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Certs_list_to_a_file_or_pipe_keeps_the_issuer_readable_beside_a_long_role_and_a_revoked_status()
    {
        await cli.RunWithDataAsync("keys", "init");
        await cli.RunWithDataAsync("users", "add", "--id", Supplier, "--role", "IS", "--name", "Supplier");
        Assert.Equal(0, (await cli.RunWithDataAsync("certs", "issue", "--id", Supplier, "--out", Path.Combine(cli.DataDirectory, "keys-out"))).ExitCode);
        using var issued = FileKeyStore.Combine(Path.Combine(cli.DataDirectory, "keys-out", "90B3D51F30010000-87.crt.pem"), Path.Combine(cli.DataDirectory, "keys-out", "90B3D51F30010000-87.key.pem"));
        var serial = OrganisationCertificate.FromX509(issued).SerialNumber;
        Assert.Equal(0, (await cli.RunWithDataAsync("certs", "revoke", "--serial", serial)).ExitCode);
        // The longest role name, as a store may hold it from before certs import refused roles no user has.
        using var transitional = Issue(Supplier, RemotePartyRole.TransitionalChangeOfSupplier);
        await using (var store = await OpenDcc.Storage.OpenDccStore.OpenSqliteAsync(cli.DataDirectory, cli.Clock))
        {
            Assert.True(await store.Parties.AddCertificateAsync(OrganisationCertificate.FromX509(transitional)));
        }

        // Not a terminal: 160 columns, the width of a file or pipe.
        var (code, list, _) = await cli.RunWithDataAsync("certs", "list");

        Assert.Equal(0, code);
        var rows = list.Split('\n').Where(l => l.Contains(Supplier, StringComparison.Ordinal)).ToList();
        Assert.Equal(2, rows.Count);
        // Each row's issuer starts with whole words, not four letters a line; the revoked one's status is whole on its line.
        Assert.Matches($@"{serial}\s+CN=OpenDcc Local.*\s+revoked 2026-11-28T09:00:00Z", Assert.Single(rows, r => r.Contains(serial, StringComparison.Ordinal)));
        Assert.Matches(@"\s+CN=Test CA.*\s+valid", Assert.Single(rows, r => r.Contains("Transitional", StringComparison.Ordinal)));
        // A row takes at most two lines: blank top, header, rule, two rows, blank bottom and the count fit in nine.
        Assert.True(list.TrimEnd().Split('\n').Length <= 9, list);
    }

    [Fact]
    public async Task Certs_list_shows_each_bound_certificate_and_certs_revoke_stops_one_which_stays_listed_revoked()
    {
        await cli.RunWithDataAsync("keys", "init");
        await cli.RunWithDataAsync("users", "add", "--id", Supplier, "--role", "IS", "--name", "Supplier");
        await cli.RunWithDataAsync("users", "add", "--id", NetworkOperator, "--role", "ED", "--name", "DNO");
        Assert.Equal(0, (await cli.RunWithDataAsync("certs", "issue", "--id", Supplier, "--out", Path.Combine(cli.DataDirectory, "s"))).ExitCode);
        Assert.Equal(0, (await cli.RunWithDataAsync("certs", "issue", "--id", NetworkOperator, "--out", Path.Combine(cli.DataDirectory, "n"))).ExitCode);
        using var issued = FileKeyStore.Combine(Path.Combine(cli.DataDirectory, "s", "90B3D51F30010000-87.crt.pem"), Path.Combine(cli.DataDirectory, "s", "90B3D51F30010000-87.key.pem"));
        var serial = OrganisationCertificate.FromX509(issued).SerialNumber;

        var (code, list, _) = await cli.RunWithDataAsync("certs", "list");
        Assert.Equal(0, code);
        Assert.Matches($@"{Supplier}\s+XmlSign \(87\)\s+{serial}\s+.*\s+valid", list);
        Assert.Contains("2 certificates", list, StringComparison.Ordinal);
        Assert.Contains("1 certificate", (await cli.RunWithDataAsync("certs", "list", "--id", NetworkOperator)).Output, StringComparison.Ordinal);

        var (revoked, output, _) = await cli.RunWithDataAsync("certs", "revoke", "--serial", serial);
        Assert.Equal(0, revoked);
        Assert.Contains($"revoked XmlSign (OU=87) serial {serial} of {Supplier} at 2026-11-28T09:00:00Z", output, StringComparison.Ordinal);
        Assert.Matches($@"{Supplier}\s+XmlSign \(87\)\s+{serial}\s+.*\s+revoked 2026-11-28T09:00:00Z", (await cli.RunWithDataAsync("certs", "list")).Output);
        Assert.Matches(@"XmlSign \(87\) revoked", Assert.Single((await cli.RunWithDataAsync("users", "list")).Output.Split('\n'), l => l.Contains(Supplier, StringComparison.Ordinal)));
        Assert.Contains("was revoked already, at 2026-11-28T09:00:00Z", (await cli.RunWithDataAsync("certs", "revoke", "--serial", serial)).Output, StringComparison.Ordinal);
        // Imported again, it stays revoked, and the import says so.
        var (imported, again, _) = await cli.RunWithDataAsync("certs", "import", Path.Combine(cli.DataDirectory, "s", "90B3D51F30010000-87.crt.pem"));
        Assert.Equal(0, imported);
        Assert.Contains($"already bound: XmlSign (OU=87) serial {serial} to {Supplier}, revoked at 2026-11-28T09:00:00Z (it stays revoked", again, StringComparison.Ordinal);

        var (unknown, _, error) = await cli.RunWithDataAsync("certs", "revoke", "--serial", "12345");
        Assert.Equal(1, unknown);
        Assert.Equal("opendcc: --serial: no bound certificate has serial 12345 (decimal, as certs list shows it)", error.Trim());
    }

    [Fact]
    public async Task Certs_revoke_refuses_an_issuer_that_is_no_distinguished_name_naming_the_option_and_revokes_nothing()
    {
        await cli.RunWithDataAsync("keys", "init");
        await cli.RunWithDataAsync("users", "add", "--id", Supplier, "--role", "IS", "--name", "Supplier");
        Assert.Equal(0, (await cli.RunWithDataAsync("certs", "issue", "--id", Supplier, "--out", Path.Combine(cli.DataDirectory, "s"))).ExitCode);
        using var issued = FileKeyStore.Combine(Path.Combine(cli.DataDirectory, "s", "90B3D51F30010000-87.crt.pem"), Path.Combine(cli.DataDirectory, "s", "90B3D51F30010000-87.key.pem"));
        var serial = OrganisationCertificate.FromX509(issued).SerialNumber;

        var (code, _, error) = await cli.RunWithDataAsync("certs", "revoke", "--serial", serial, "--issuer", "not,,a=name==");

        Assert.Equal(1, code);
        Assert.Equal("opendcc: --issuer: 'not,,a=name==' is not a distinguished name (give the issuer as certs list shows it)", error.Trim());
        Assert.Matches(@"\s+valid\s*$", Assert.Single((await cli.RunWithDataAsync("certs", "list")).Output.Split('\n'), l => l.Contains(serial, StringComparison.Ordinal)));
        Assert.Equal(0, (await cli.RunWithDataAsync("certs", "revoke", "--serial", serial, "--issuer", "CN=OpenDcc Local CA,OU=07")).ExitCode);
    }

    [Theory]
    [InlineData("", "files: give the path of a file")]
    [InlineData("a-directory", "is a directory, not a file")]
    [InlineData("missing.pem", "missing.pem: no such file")]
    public async Task Certs_import_names_a_path_that_is_not_a_file(string path, string fault)
    {
        Directory.CreateDirectory(Path.Combine(cli.DataDirectory, "a-directory"));
        var (code, _, error) = await cli.RunWithDataAsync("certs", "import", path.Length == 0 ? "" : Path.Combine(cli.DataDirectory, path));
        Assert.Equal(1, code);
        Assert.StartsWith("opendcc: ", error, StringComparison.Ordinal);
        Assert.Contains(fault, error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("certs", "import")]
    [InlineData("certs", "trust", "add")]
    [InlineData("keys", "import-dsp", "--key")]
    [InlineData("keys", "import-dsp", "--cert")]
    public async Task A_key_or_certificate_file_of_over_a_mebibyte_is_refused_naming_it_unread_beyond_that(params string[] command)
    {
        // /dev/zero, or a disk image given by mistake, was read whole: the first ran the command out of memory (abort, 134).
        Assert.Equal(0, (await cli.RunWithDataAsync("keys", "init")).ExitCode);
        await cli.RunWithDataAsync("users", "add", "--id", Supplier, "--role", "IS", "--name", "Supplier");
        Assert.Equal(0, (await cli.RunWithDataAsync("certs", "issue", "--id", Supplier, "--out", Path.Combine(cli.DataDirectory, "issued"))).ExitCode);
        var (certificate, key) = (Path.Combine(cli.DataDirectory, "issued", "90B3D51F30010000-87.crt.pem"), Path.Combine(cli.DataDirectory, "issued", "90B3D51F30010000-87.key.pem"));
        var huge = Path.Combine(cli.DataDirectory, "huge.pem");
        await File.WriteAllTextAsync(huge, File.ReadAllText(command[^1] == "--key" ? key : certificate) + new string('A', FileKeyStore.MaxFileBytes));
        string[] args = command[^1] switch
        {
            "--key" => [.. command, huge, "--cert", certificate, "--force"],
            "--cert" => [.. command, huge, "--key", key, "--force"],
            _ => [.. command, huge],
        };

        var (code, output, error) = await cli.RunWithDataAsync(args);

        Assert.Equal(1, code);
        Assert.Equal("", output);
        Assert.StartsWith("opendcc: ", error, StringComparison.Ordinal);
        Assert.Contains($"{huge} holds more than 1 MiB, which no key or certificate file does", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Certs_issue_role_02_gives_a_supplier_the_digital_signing_key_whose_signature_its_bound_certificate_vouches_for()
    {
        await cli.RunWithDataAsync("keys", "init");
        await cli.RunWithDataAsync("users", "add", "--id", Supplier, "--role", "IS", "--name", "Supplier");
        var outDir = Path.Combine(cli.DataDirectory, "issued");
        var (code, output, _) = await cli.RunWithDataAsync("certs", "issue", "--id", Supplier, "--role", "02", "--out", outDir);

        Assert.Equal(0, code);
        Assert.Contains("Supplier (OU=02)", output, StringComparison.Ordinal);
        Assert.Contains("Digital Signing", output, StringComparison.Ordinal);
        using var issued = FileKeyStore.Combine(Path.Combine(outDir, "90B3D51F30010000-02.crt.pem"), Path.Combine(outDir, "90B3D51F30010000-02.key.pem"));
        using var key = issued.GetECDsaPrivateKey()!;
        var content = "pre-command"u8.ToArray();
        await using var store = await OpenDcc.Storage.OpenDccStore.OpenSqliteAsync(cli.DataDirectory, cli.Clock);
        var bound = await store.Parties.ListCertificatesAsync(Eui64.Parse(Supplier));
        Assert.Null(CommandSignature.Check(content, CommandSignature.Sign(content, key), Eui64.Parse(Supplier), bound, cli.Clock.GetCurrentInstant()));
    }

    [Fact]
    public async Task Keys_import_dsp_takes_a_pkcs8_key_and_its_certificate_and_refuses_a_non_dsp_certificate_and_files_that_hold_neither()
    {
        using var dsp = Issue("90-B3-D5-1F-30-00-00-02", RemotePartyRole.DspXmlSign);
        var cert = WritePem("dsp.crt.pem", dsp);
        var key = Path.Combine(cli.DataDirectory, "dsp.key");
        using (var k = dsp.GetECDsaPrivateKey()!)
        {
            await File.WriteAllBytesAsync(key, k.ExportPkcs8PrivateKey());
        }
        var (code, output, _) = await cli.RunWithDataAsync("keys", "import-dsp", "--key", key, "--cert", cert);
        Assert.Equal(0, code);
        Assert.Contains("imported DSP XmlSign identity 90-B3-D5-1F-30-00-00-02", output, StringComparison.Ordinal);
        var (again, _, againError) = await cli.RunWithDataAsync("keys", "import-dsp", "--key", key, "--cert", cert);
        Assert.Equal(1, again);
        Assert.Contains("already exists", againError, StringComparison.Ordinal);
        Assert.Equal(0, (await cli.RunWithDataAsync("keys", "import-dsp", "--key", key, "--cert", cert, "--force")).ExitCode);

        using var xmlSign = Issue(Supplier, RemotePartyRole.XmlSign);
        var wrongCert = WritePem("wrong.crt.pem", xmlSign);
        var wrongKey = Path.Combine(cli.DataDirectory, "wrong.key.pem");
        using (var k = xmlSign.GetECDsaPrivateKey()!)
        {
            await File.WriteAllTextAsync(wrongKey, k.ExportPkcs8PrivateKeyPem());
        }
        var (refused, _, error) = await cli.RunWithDataAsync("keys", "import-dsp", "--key", wrongKey, "--cert", wrongCert, "--force");
        Assert.Equal(1, refused);
        Assert.Contains("OU=89", error, StringComparison.Ordinal);

        var (missing, _, missingError) = await cli.RunWithDataAsync("keys", "import-dsp", "--key", Path.Combine(cli.DataDirectory, "nope.pem"), "--cert", cert, "--force");
        Assert.Equal(1, missing);
        Assert.Contains("--key: ", missingError, StringComparison.Ordinal);

        // Files that hold something else: named by their option.
        var text = Path.Combine(cli.DataDirectory, "notes.txt");
        await File.WriteAllTextAsync(text, "not a key");
        var (notCert, _, notCertError) = await cli.RunWithDataAsync("keys", "import-dsp", "--key", key, "--cert", text, "--force");
        Assert.Equal(1, notCert);
        Assert.Contains($"opendcc: --cert: {text} holds no PEM certificate", notCertError, StringComparison.Ordinal);
        var (notKey, _, notKeyError) = await cli.RunWithDataAsync("keys", "import-dsp", "--key", text, "--cert", cert, "--force");
        Assert.Equal(1, notKey);
        Assert.Contains($"opendcc: --key: {text} holds no EC private key", notKeyError, StringComparison.Ordinal);

        var encrypted = Path.Combine(cli.DataDirectory, "dsp.encrypted.pem");
        using (var k = dsp.GetECDsaPrivateKey()!)
        {
            await File.WriteAllTextAsync(encrypted, k.ExportEncryptedPkcs8PrivateKeyPem("secret", new PbeParameters(PbeEncryptionAlgorithm.Aes256Cbc, HashAlgorithmName.SHA256, 100_000)));
        }
        var (locked, _, lockedError) = await cli.RunWithDataAsync("keys", "import-dsp", "--key", encrypted, "--cert", cert, "--force");
        Assert.Equal(1, locked);
        Assert.StartsWith($"opendcc: --key: {encrypted} holds an encrypted private key; give it unencrypted", lockedError, StringComparison.Ordinal);
    }

    private X509Certificate2 Issue(string eui, RemotePartyRole role)
    {
        using var ca = CertificateAuthority.Create("Test CA", cli.Clock, Duration.FromDays(3650));
        return ca.Issue(Eui64.Parse(eui), role, null, cli.Clock, Duration.FromDays(365));
    }

    /// <summary>A certificate from <paramref name="ca"/> with the serial number given: one that clashes with another it issued.</summary>
    private X509Certificate2 IssueWithSerial(CertificateAuthority ca, string eui, ReadOnlySpan<byte> serial)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(OrganisationCertificate.SubjectFor(Eui64.Parse(eui), RemotePartyRole.XmlSign, null), key, HashAlgorithmName.SHA256);
        var now = cli.Clock.GetCurrentInstant().ToDateTimeOffset();
        return request.Create(ca.Certificate, now.AddMinutes(-5), now.AddDays(365), serial);
    }

    private string WritePem(string name, params X509Certificate2[] certificates)
    {
        var path = Path.Combine(cli.DataDirectory, name);
        File.WriteAllText(path, string.Concat(certificates.Select(c => c.ExportCertificatePem() + "\n")));
        return path;
    }

    public void Dispose() => cli.Dispose();
}
