using System.Net;
using System.Text.Json;

namespace OpenDcc.Cli.Tests;

public sealed class ServeCommandTests : IDisposable
{
    private readonly CliRun cli = new();

    [Fact]
    public async Task Serve_starts_the_hub_on_sqlite_answers_health_and_stops_on_cancel()
    {
        var port = FreePort();
        // Orleans ports of its own, so that the other tests' hubs running at the same time cannot take them.
        using var serving = await CliRun.ServeAsync(
            ["serve", "--data", cli.DataDirectory, "--urls", $"http://127.0.0.1:{port}", "--silo-port", $"{FreePort()}", "--gateway-port", $"{FreePort()}"], cli.Clock);

        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        using var response = await http.GetAsync(new Uri("/health", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var health = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("Healthy", health.RootElement.GetProperty("status").GetString());
        Assert.StartsWith("sqlite ", health.RootElement.GetProperty("checks").GetProperty("store").GetProperty("description").GetString(), StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(cli.DataDirectory, "opendcc.db")));

        Assert.Equal(0, await serving.StopAsync());
        Assert.Contains("listening on", serving.Output, StringComparison.Ordinal);
        Assert.Contains("stopped", serving.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_signs_the_message_log_head_at_the_checkpoint_interval_given_while_it_serves()
    {
        await using (var store = await OpenDcc.Storage.OpenDccStore.OpenSqliteAsync(cli.DataDirectory, cli.Clock))
        {
            for (var i = 1; i <= 3; i++)
            {
                await store.MessageLog.AppendAsync([new OpenDcc.Core.Security.MessageLogRecord(
                    cli.Clock.GetCurrentInstant(), OpenDcc.Core.Security.MessageDirection.Inbound, null, $"request {i}", "I99", "<sr:Request/>"u8.ToArray())]);
            }
        }
        using var serving = await CliRun.ServeAsync([.. Serve(), "--log-checkpoint-interval", "1"], cli.Clock);

        // The default interval (a minute) would sign nothing within this wait; the hub's stop would sign it only then.
        await using var raw = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(cli.DataDirectory, OpenDcc.Storage.OpenDccStore.SqliteFileName)};Mode=ReadOnly");
        await raw.OpenAsync();
        await using var signed = raw.CreateCommand();
        signed.CommandText = "SELECT max(sequence) FROM message_log_checkpoint";
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (await signed.ExecuteScalarAsync() is not 3L)
        {
            Assert.True(waited.Elapsed < TimeSpan.FromSeconds(20), "no checkpoint of entry 3 within 20 s at an interval of 1 s");
            await Task.Delay(100);
        }

        Assert.Equal(0, await serving.StopAsync());
    }

    [Fact]
    public async Task A_hub_told_to_stop_by_sigterm_while_a_request_is_in_flight_lets_it_end_and_stops_cleanly()
    {
        var (hub, client) = await ServeWithARequestInFlightAsync();
        using var _ = hub;
        using var __ = client;

        hub.Terminate();
        // The sender gives up after 3 s; the hub's stop goes on to its end then, rather than the process exiting mid-way.
        await Task.Delay(TimeSpan.FromSeconds(3));
        client.Close();

        var (exitCode, output, error) = await hub.RunToEndAsync();
        Assert.True(exitCode == 0, $"exit {exitCode}: {output}{error}");
        Assert.Contains("OpenDcc hub stopped", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_second_ctrl_c_while_the_hub_waits_for_a_request_in_flight_to_stop_ends_it_at_once_saying_so_exit_code_130()
    {
        var (hub, client) = await ServeWithARequestInFlightAsync();
        using var _ = hub;
        using var __ = client;

        hub.Interrupt();
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.False(hub.HasExited, "the first Ctrl-C stops the hub gracefully, waiting for the request");
        var again = System.Diagnostics.Stopwatch.StartNew();
        hub.Interrupt();

        var (exitCode, output, error) = await hub.RunToEndAsync();
        Assert.True(again.Elapsed < TimeSpan.FromSeconds(10), $"ended {again.Elapsed} after the second Ctrl-C");
        Assert.True(exitCode == 130, $"exit {exitCode}: {output}{error}");
        Assert.Equal("opendcc: stopped at once (Ctrl-C again), not waiting for the command to stop cleanly", error.Trim());
        Assert.DoesNotContain("OpenDcc hub stopped", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--silo-port", "127.0.0.1")]
    [InlineData("--gateway-port", "localhost")]
    [InlineData("--silo-port", "*")]
    public async Task Urls_on_the_hubs_own_orleans_port_are_refused_in_a_line_naming_both_before_anything_is_made(string option, string host)
    {
        var port = FreePort();
        var args = Serve(port);
        args[Array.IndexOf(args, "--urls") + 1] = $"http://{host}:{port}";
        args[Array.IndexOf(args, option) + 1] = $"{port}";

        var (code, output, error) = await cli.RunAsync(args);

        Assert.Equal(1, code);
        Assert.Equal("", output);
        Assert.Equal($"opendcc: --urls http://{host}:{port}: port {port} is this hub's own {option} (its Orleans silo listens at 127.0.0.1:{port}); give each its own port", error.Trim());
        Assert.False(File.Exists(Path.Combine(cli.DataDirectory, "opendcc.db")));
    }

    [Fact]
    public async Task A_second_hub_on_the_same_data_directory_is_refused_while_the_first_serves_and_taken_after_it_stops()
    {
        using var stop = new CancellationTokenSource();
        using var output = new StringWriter();
        using var error = new StringWriter();
        var firstArgs = Serve();
        var first = OpenDccCli.RunAsync(firstArgs, TextWriter.Synchronized(output), TextWriter.Synchronized(error), cli.Clock, stop.Token);
        await CliRun.WaitUntilListeningAsync(first, output, error);

        // Were it not refused, it would serve until this stops it and exit 0. With the first hub's own Orleans ports too
        // (as two plain 'serve's have), the hub in the way is named, not its ports.
        foreach (var secondArgs in new[] { Serve(), [.. Serve()[..^4], .. firstArgs[^4..]] })
        {
            using var refusal = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            using var refused = new StringWriter();
            Assert.Equal(1, await OpenDccCli.RunAsync(secondArgs, TextWriter.Null, refused, cli.Clock, refusal.Token));
            Assert.StartsWith($"opendcc: data directory {cli.DataDirectory} is in use by another hub", refused.ToString(), StringComparison.Ordinal);
        }

        await stop.CancelAsync();
        Assert.Equal(0, await first);
        using var again = new CancellationTokenSource();
        using var againOutput = new StringWriter();
        using var againError = new StringWriter();
        var second = OpenDccCli.RunAsync(Serve(), TextWriter.Synchronized(againOutput), TextWriter.Synchronized(againError), cli.Clock, again.Token);
        await CliRun.WaitUntilListeningAsync(second, againOutput, againError);
        await again.CancelAsync();
        Assert.Equal(0, await second);
    }

    [Fact]
    public async Task An_adapter_that_does_not_load_or_a_model_given_an_unknown_adapter_is_refused_naming_its_option()
    {
        var notAnAssembly = Path.Combine(cli.DataDirectory, "not-an-adapter.dll");
        await File.WriteAllTextAsync(notAnAssembly, "not IL");

        var (code, output, error) = await cli.RunAsync([.. Serve(), "--adapter", notAnAssembly]);
        Assert.Equal(1, code);
        Assert.Equal("", output);
        Assert.StartsWith($"opendcc: --adapter: {notAnAssembly} is not a .NET assembly", error, StringComparison.Ordinal);

        (code, output, error) = await cli.RunAsync([.. Serve(), "--model-adapter", "MODEL-X=no-such-adapter"]);
        Assert.Equal(1, code);
        Assert.Equal("", output);
        Assert.Equal("opendcc: --model-adapter: no adapter is named 'no-such-adapter' (known: gbcs-reference, early-smart-reference)", error.Trim());
    }

    [Fact]
    public async Task A_first_start_refused_for_its_adapters_leaves_the_data_directory_as_it_was()
    {
        var notAnAssembly = Path.Combine(cli.DataDirectory, "not-an-adapter.dll");
        await File.WriteAllTextAsync(notAnAssembly, "not IL");

        foreach (var refused in new[] { new[] { "--adapter", notAnAssembly }, ["--model-adapter", "MODEL-X=no-such-adapter"] })
        {
            var (code, output, _) = await cli.RunAsync([.. Serve(), .. refused]);

            Assert.Equal((1, ""), (code, output));
            // No keys/ with an ACB key or an early-smart secret in it that no hub ever used.
            Assert.Equal([notAnAssembly], Directory.GetFileSystemEntries(cli.DataDirectory));
        }
    }

    [Fact]
    public async Task A_data_directory_whose_keys_cannot_be_made_is_refused_in_a_line_naming_data()
    {
        // 'keys' is a file where the key store's directory goes.
        Directory.CreateDirectory(cli.DataDirectory);
        var keys = Path.Combine(cli.DataDirectory, "keys");
        await File.WriteAllTextAsync(keys, "not a directory");

        var (code, output, error) = await cli.RunAsync(Serve());

        Assert.Equal((1, ""), (code, output));
        Assert.Equal($"opendcc: --data {cli.DataDirectory}: The file '{keys}' already exists.", error.Trim());
    }

    [Fact]
    public async Task An_smi_status_matrix_longer_than_any_is_refused_naming_its_option_and_file()
    {
        // /dev/zero, in effect: more NULs than a matrix has characters, and no line break.
        var zeros = Path.Combine(cli.DataDirectory, "zeros.tsv");
        await File.WriteAllBytesAsync(zeros, new byte[(1024 * 1024) + 1]);

        var (code, output, error) = await cli.RunAsync([.. Serve(), "--smi-status-matrix", zeros]);

        Assert.Equal((1, ""), (code, output));
        Assert.Equal($"opendcc: --smi-status-matrix: {zeros}: holds more than 1 MiB, which no SMI status matrix does (is this the file meant?)", error.Trim());
    }

    [Theory]
    [InlineData("dsp-xmlsign.crt.pem")]
    [InlineData("dsp-xmlsign.key.pem")]
    public async Task Serve_refuses_a_dsp_identity_missing_its_certificate_or_key_and_makes_no_keys_in_its_place(string missing)
    {
        Assert.Equal(0, (await cli.RunWithDataAsync("keys", "init")).ExitCode);
        var keys = Path.Combine(cli.DataDirectory, "keys");
        File.Delete(Path.Combine(keys, missing));
        var before = OwnKeys(keys);

        // Were it not refused, it would serve (with new keys) until this stops it, and exit 0.
        using var refusal = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await OpenDccCli.RunAsync(Serve(), output, error, cli.Clock, refusal.Token);

        Assert.Equal(1, code);
        Assert.DoesNotContain("listening on", output.ToString(), StringComparison.Ordinal);
        Assert.Contains($"without {Path.Combine(keys, missing)}: the DSP XmlSign identity is incomplete", error.ToString(), StringComparison.Ordinal);
        // The local CA that issued the users' certificates, and the DSP key or certificate left, are as they were.
        Assert.Equal(before, OwnKeys(keys));
    }

    [Fact]
    public async Task Serve_with_a_local_ca_and_no_dsp_identity_has_that_ca_issue_one_and_keeps_it()
    {
        Assert.Equal(0, (await cli.RunWithDataAsync("keys", "init")).ExitCode);
        var keys = Path.Combine(cli.DataDirectory, "keys");
        File.Delete(Path.Combine(keys, "dsp-xmlsign.crt.pem"));
        File.Delete(Path.Combine(keys, "dsp-xmlsign.key.pem"));
        var ca = (File.ReadAllText(Path.Combine(keys, "local-ca.crt.pem")), File.ReadAllText(Path.Combine(keys, "local-ca.key.pem")));

        using (var serving = await CliRun.ServeAsync(Serve(), cli.Clock))
        {
            Assert.Equal(0, await serving.StopAsync());
        }

        Assert.Equal(ca, (File.ReadAllText(Path.Combine(keys, "local-ca.crt.pem")), File.ReadAllText(Path.Combine(keys, "local-ca.key.pem"))));
        var store = new OpenDcc.Core.Security.FileKeyStore(keys);
        using var dsp = store.LoadDspIdentity();
        using var authority = store.LoadLocalCa();
        Assert.Null(OpenDcc.Core.Security.TrustedIssuers.WhyNotIssuedBy(dsp, [authority.Certificate], DateTimeOffset.UtcNow));
    }

    [Fact]
    public async Task A_user_suspended_while_the_hub_serves_is_refused_E3_and_served_again_once_active()
    {
        var supplier = OpenDcc.Core.Identifiers.Eui64.Parse("90-B3-D5-1F-30-01-00-00");
        var keys = Path.Combine(cli.DataDirectory, "supplier-keys");
        foreach (var command in new[]
        {
            new[] { "keys", "init" },
            ["users", "add", "--id", supplier.ToString(), "--role", "IS", "--name", "Supplier"],
            ["certs", "issue", "--id", supplier.ToString(), "--out", keys],
        })
        {
            var (code, _, failure) = await cli.RunWithDataAsync(command);
            Assert.True(code == 0, failure);
        }
        var port = FreePort();
        using var serving = await CliRun.ServeAsync(["serve", "--data", cli.DataDirectory, "--sites", "1", "--urls", $"http://127.0.0.1:{port}", "--silo-port", $"{FreePort()}", "--gateway-port", $"{FreePort()}"], cli.Clock);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        var stem = Path.Combine(keys, $"{supplier.ToCompactString()}-87");
        using var certificate = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPemFile(stem + ".crt.pem", stem + ".key.pem");
        var meter = new OpenDcc.Simulator.Devices.SimulatedFleet(1, 1)[0].ElectricityMeter.Id;
        ulong counter = 0;
        async Task<string> ReadRegisterAsync()
        {
            var request = OpenDcc.Core.Duis.DuisRequestWriter.Write(new OpenDcc.Core.Identifiers.RequestId(supplier, meter, ++counter), 1, OpenDcc.Core.Catalogue.ServiceCatalogue.Duis["4.1.1"], []);
            using var content = new ByteArrayContent(OpenDcc.Core.Security.DuisSignature.Sign(request, certificate));
            content.Headers.ContentType = new("application/xml");
            using var response = await http.PostAsync(new Uri("/api/v1/serviceS", UriKind.Relative), content);
            return System.Xml.Linq.XDocument.Parse(await response.Content.ReadAsStringAsync()).Descendants(OpenDcc.Core.Duis.DuisNamespaces.Sr + "ResponseCode").Single().Value;
        }
        // The hub reads a user again once it has kept it for a second (by its clock, this test's): asked again until it
        // answers otherwise, for at most 10 s.
        async Task<string> ReadRegisterUntilAsync(string wanted)
        {
            cli.Clock.Advance(NodaTime.Duration.FromSeconds(2));
            var answer = await ReadRegisterAsync();
            for (var tries = 0; answer != wanted && tries < 100; tries++)
            {
                await Task.Delay(100);
                answer = await ReadRegisterAsync();
            }
            return answer;
        }
        Assert.Equal("I99", await ReadRegisterAsync());

        var (suspended, said, error) = await cli.RunWithDataAsync("users", "status", "--id", supplier.ToString(), "--to", "Suspended");
        Assert.True(suspended == 0, error);
        Assert.StartsWith($"DCC user {supplier} is Suspended (was Active)", said, StringComparison.Ordinal);
        Assert.Equal("E3", await ReadRegisterUntilAsync("E3"));

        Assert.Equal(0, (await cli.RunWithDataAsync("users", "status", "--id", supplier.ToString(), "--to", "Active")).ExitCode);
        Assert.Equal("I99", await ReadRegisterUntilAsync("I99"));
        Assert.Contains("is Active already", (await cli.RunWithDataAsync("users", "status", "--id", supplier.ToString(), "--to", "active")).Output, StringComparison.Ordinal);
        Assert.Equal("opendcc: no DCC user has ID 90-B3-D5-1F-30-01-00-01", (await cli.RunWithDataAsync("users", "status", "--id", "90-B3-D5-1F-30-01-00-01", "--to", "Active")).Error.Trim());
        Assert.Equal(0, await serving.StopAsync());
    }

    /// <summary>The local CA's and the DSP identity's files (the ACB's key-agreement key is the simulator's, made before the hub).</summary>
    private static Dictionary<string, string> OwnKeys(string keys) =>
        Directory.GetFiles(keys).Where(f => Path.GetFileName(f).StartsWith("local-ca.", StringComparison.Ordinal) || Path.GetFileName(f).StartsWith("dsp-xmlsign.", StringComparison.Ordinal))
            .ToDictionary(f => f, File.ReadAllText);

    /// <summary>
    /// A serve process with a request still arriving and never finished: a stop waits for it (Kestrel, up to the host's
    /// shutdown timeout, 30 s) until its sender gives up.
    /// </summary>
    private async Task<(OpenDccProcess Hub, System.Net.Sockets.TcpClient Client)> ServeWithARequestInFlightAsync()
    {
        var port = FreePort();
        var hub = OpenDccProcess.Start("serve", Serve(port)[1..]);
        var client = new System.Net.Sockets.TcpClient();
        try
        {
            await hub.ListeningUrlAsync();
            await client.ConnectAsync(IPAddress.Loopback, port);
            await client.GetStream().WriteAsync("POST /api/v1/serviceS HTTP/1.1\r\nHost: hub\r\nContent-Type: application/xml\r\nContent-Length: 1000\r\n\r\n<"u8.ToArray());
            // Time for Kestrel to read the headers and begin the request (a connection with none begun is closed at once).
            await Task.Delay(TimeSpan.FromMilliseconds(500));
            return (hub, client);
        }
        catch
        {
            client.Dispose();
            hub.Dispose();
            throw;
        }
    }

    private string[] Serve() => Serve(FreePort());

    private string[] Serve(int port) =>
        ["serve", "--data", cli.DataDirectory, "--sites", "1", "--urls", $"http://127.0.0.1:{port}", "--silo-port", $"{FreePort()}", "--gateway-port", $"{FreePort()}"];

    private static int FreePort() => OpenDcc.Hub.LoopbackPorts.Free();

    public void Dispose() => cli.Dispose();
}
