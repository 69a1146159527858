using System.Security.Cryptography.X509Certificates;
using System.Xml.Linq;
using Npgsql;
using OpenDcc.Core.Catalogue;
using OpenDcc.Core.Duis;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Security;
using OpenDcc.Hub;
using OpenDcc.Simulator.Devices;

namespace OpenDcc.Cli.Tests;

/// <summary>The same commands against PostgreSQL, the production store (started by ./test.sh).</summary>
public sealed class PostgresCommandTests : IAsyncLifetime, IDisposable
{
    private readonly CliRun cli = new();
    private readonly string database = "opendcc_cli_" + Guid.NewGuid().ToString("N");
    private string admin = null!;
    private string connectionString = null!;

    public async Task InitializeAsync()
    {
        admin = Environment.GetEnvironmentVariable("OPENDCC_TEST_POSTGRES")
            ?? throw new InvalidOperationException("OPENDCC_TEST_POSTGRES is not set: run the tests with ./test.sh, which starts PostgreSQL");
        await using var connection = new NpgsqlConnection(admin);
        await connection.OpenAsync();
        await using var create = new NpgsqlCommand($"CREATE DATABASE {database}", connection);
        await create.ExecuteNonQueryAsync();
        connectionString = new NpgsqlConnectionStringBuilder(admin) { Database = database }.ToString();
    }

    [Fact]
    public async Task Users_are_added_and_listed_and_the_log_verified_on_postgres()
    {
        var (code, _, _) = await cli.RunAsync("users", "add", "--postgres", connectionString, "--id", "90-B3-D5-1F-30-02-00-00", "--role", "ED", "--name", "Network Operator");
        Assert.Equal(0, code);
        var (_, list, _) = await cli.RunAsync("users", "list", "--postgres", connectionString);
        Assert.Contains("Network Operator", list, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(cli.DataDirectory, "opendcc.db")));
        var (verify, output, _) = await cli.RunAsync("log", "verify", "--postgres", connectionString);
        Assert.Equal(0, verify);
        Assert.Contains("intact: 0 entries", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Devices_are_imported_and_listed_on_postgres()
    {
        var csv = Path.Combine(cli.DataDirectory, "devices.csv");
        await File.WriteAllLinesAsync(csv, ["device_id,device_type,smi_status", "00-DB-12-34-56-78-90-A0,ESME,Commissioned", "00-DB-12-34-56-78-90-B0,GSME,Pending"]);
        var (code, output, _) = await cli.RunAsync("inventory", "import", csv, "--postgres", connectionString);
        Assert.Equal(0, code);
        Assert.Contains("imported 2 devices", output, StringComparison.Ordinal);
        var (again, _, error) = await cli.RunAsync("inventory", "import", csv, "--postgres", connectionString);
        Assert.Equal(1, again);
        Assert.Contains("line 3: device_id: device 00-DB-12-34-56-78-90-B0 is already in the inventory", error, StringComparison.Ordinal);
        var (_, list, _) = await cli.RunAsync("inventory", "list", "--postgres", connectionString);
        Assert.Matches(@"00-DB-12-34-56-78-90-B0\s+GSME\s+Pending", list);
        Assert.Contains("2 devices", list, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Import_imports_nothing_on_postgres_when_a_row_after_more_than_a_chunk_of_valid_rows_is_invalid()
    {
        var csv = LargeImportFile.Write(Path.Combine(cli.DataDirectory, "devices.csv"), 12_000, (11_000, $"{LargeImportFile.Id(11_000)},KETTLE"));

        var (code, _, error) = await cli.RunAsync("inventory", "import", csv, "--postgres", connectionString);

        Assert.Equal(1, code);
        Assert.Equal(
            ["line 11000: device_type: unknown device type 'KETTLE'; expected one of ESME, GSME, CHF, GPF, PPMID, HCALCS, IHD", "opendcc: devices.csv: 1 invalid row; nothing imported"],
            error.Trim().Split('\n'));
        Assert.Contains("0 devices", (await cli.RunAsync("inventory", "list", "--postgres", connectionString)).Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Skip_invalid_imports_the_valid_rows_of_every_chunk_on_postgres()
    {
        var csv = LargeImportFile.Write(Path.Combine(cli.DataDirectory, "devices.csv"), 12_001, (3, $"{LargeImportFile.Id(3)},KETTLE"), (11_000, $"{LargeImportFile.Id(11_000)},TOASTER"));

        var (code, output, _) = await cli.RunAsync("inventory", "import", csv, "--mode", "skip-invalid", "--postgres", connectionString);

        Assert.Equal(0, code);
        Assert.Contains("imported 11,998 devices from devices.csv; skipped 2 invalid rows", output, StringComparison.Ordinal);
        Assert.Contains("11,998 devices", (await cli.RunAsync("inventory", "list", "--postgres", connectionString)).Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Import_names_a_device_id_repeated_more_than_a_chunk_later_on_postgres()
    {
        var csv = LargeImportFile.Write(Path.Combine(cli.DataDirectory, "devices.csv"), 7_000, (7_000, $"{LargeImportFile.Id(2)},ESME"));

        var (code, _, error) = await cli.RunAsync("inventory", "import", csv, "--postgres", connectionString);

        Assert.Equal(1, code);
        Assert.Contains($"line 7000: device_id: device {LargeImportFile.Id(2)} repeats line 2", error, StringComparison.Ordinal);
        Assert.Contains("0 devices", (await cli.RunAsync("inventory", "list", "--postgres", connectionString)).Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_hub_serves_a_signed_request_on_postgres_and_a_second_hub_on_the_same_database_is_refused()
    {
        var supplier = Eui64.Parse("90-B3-D5-1F-30-01-00-00");
        await using var receiver = await ResponseReceiver.StartAsync();
        var keys = Path.Combine(cli.DataDirectory, "supplier-keys");
        foreach (var command in new[]
        {
            new[] { "keys", "init", "--data", cli.DataDirectory },
            ["users", "add", "--postgres", connectionString, "--id", supplier.ToString(), "--role", "IS", "--name", "Supplier", "--response-url", receiver.Url.ToString()],
            ["certs", "issue", "--postgres", connectionString, "--data", cli.DataDirectory, "--id", supplier.ToString(), "--out", keys],
        })
        {
            var (code, _, failure) = await cli.RunAsync(command);
            Assert.True(code == 0, failure);
        }
        var port = OpenDcc.Hub.LoopbackPorts.Free();
        string[] Serve(string data, int http) =>
            ["serve", "--postgres", connectionString, "--data", data, "--sites", "1", "--urls", $"http://127.0.0.1:{http}",
             "--silo-port", $"{OpenDcc.Hub.LoopbackPorts.Free()}", "--gateway-port", $"{OpenDcc.Hub.LoopbackPorts.Free()}"];
        var firstArgs = Serve(cli.DataDirectory, port);
        using var serving = await CliRun.ServeAsync(firstArgs, cli.Clock);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        Assert.Contains("\"postgres ", await http.GetStringAsync(new Uri("/health", UriKind.Relative)), StringComparison.Ordinal);

        // A signed register read of the simulated site's meter: I99 at once, the meter's I0 at the supplier's response URL.
        var meter = new SimulatedFleet(1, 1)[0].ElectricityMeter.Id;
        var stem = Path.Combine(keys, $"{supplier.ToCompactString()}-87");
        using var certificate = X509Certificate2.CreateFromPemFile(stem + ".crt.pem", stem + ".key.pem");
        using var content = new ByteArrayContent(DuisSignature.Sign(DuisRequestWriter.Write(new RequestId(supplier, meter, 1), 1, ServiceCatalogue.Duis["4.1.1"], []), certificate));
        content.Headers.ContentType = new("application/xml");
        using var response = await http.PostAsync(new Uri("/api/v1/serviceS", UriKind.Relative), content);
        Assert.Equal("I99", XDocument.Parse(await response.Content.ReadAsStringAsync()).Descendants(DuisNamespaces.Sr + "ResponseCode").Single().Value);
        var answer = XDocument.Parse(await receiver.NextAsync(TimeSpan.FromSeconds(20)));
        Assert.Equal("I0", answer.Descendants(DuisNamespaces.Sr + "ResponseCode").Single().Value);

        // Another data directory, the same database: were it not refused, it would serve until this stops it and exit 0.
        // With the first hub's own Orleans ports too (as two plain 'serve's on one machine have), the hub in the way is
        // named, not its ports.
        var second = Serve(Path.Combine(cli.DataDirectory, "second"), OpenDcc.Hub.LoopbackPorts.Free());
        foreach (var secondArgs in new[] { second, [.. second[..^4], .. firstArgs[^4..]] })
        {
            using var refusal = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            using var refused = new StringWriter();
            Assert.Equal(1, await OpenDccCli.RunAsync(secondArgs, TextWriter.Null, refused, cli.Clock, refusal.Token));
            Assert.Contains($"/{database} is in use by another hub; one hub per database", refused.ToString(), StringComparison.Ordinal);
        }

        Assert.Equal(0, await serving.StopAsync());
        // The request, its I99, and the I0's delivery, chained in the database, the head signed as the hub stopped
        // (checked against the DSP certificate in the hub's data directory).
        var (verified, log, _) = await cli.RunAsync("log", "verify", "--postgres", connectionString, "--data", cli.DataDirectory);
        Assert.Equal(0, verified);
        Assert.Matches(@"intact: \d+ entries", log);
        Assert.DoesNotContain("intact: 0 entries", log, StringComparison.Ordinal);
        Assert.Contains("0 entries after it covered by the chain alone", log, StringComparison.Ordinal);
        var (notChecked, _, why) = await cli.RunAsync("log", "verify", "--postgres", connectionString, "--data", Path.Combine(cli.DataDirectory, "elsewhere"));
        Assert.Equal(1, notChecked);
        Assert.Contains("cannot be checked:", why, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_hub_whose_store_another_hub_took_while_its_lock_session_was_gone_stops_and_says_so()
    {
        var port = OpenDcc.Hub.LoopbackPorts.Free();
        using var output = new StringWriter();
        using var error = new StringWriter();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var serving = OpenDccCli.RunAsync(
            ["serve", "--postgres", connectionString, "--data", cli.DataDirectory, "--sites", "1", "--urls", $"http://127.0.0.1:{port}",
             "--silo-port", $"{OpenDcc.Hub.LoopbackPorts.Free()}", "--gateway-port", $"{OpenDcc.Hub.LoopbackPorts.Free()}"],
            TextWriter.Synchronized(output), TextWriter.Synchronized(error), cli.Clock, stop.Token);
        await CliRun.WaitUntilListeningAsync(serving, output, error);

        // Another session waits for the hub's lock; the hub's lock session ends (as when PostgreSQL restarts), and the
        // waiting session gets the lock before the hub can take it again.
        const string HubLock = "locktype = 'advisory' AND objid = 4242002 AND database = (SELECT oid FROM pg_database WHERE datname = current_database())";
        await using var other = new NpgsqlConnection(connectionString);
        await other.OpenAsync();
        await using var take = new NpgsqlCommand("SELECT pg_advisory_lock(4242002)", other);
        var taken = take.ExecuteNonQueryAsync();
        await using var admin = new NpgsqlConnection(connectionString);
        await admin.OpenAsync();
        await using (var waiting = new NpgsqlCommand($"SELECT count(*) FROM pg_locks WHERE {HubLock} AND NOT granted", admin))
        {
            while ((long)(await waiting.ExecuteScalarAsync())! == 0)
            {
                await Task.Delay(50);
            }
        }
        await using (var terminate = new NpgsqlCommand($"SELECT pg_terminate_backend(pid, 5000) FROM pg_locks WHERE {HubLock} AND granted", admin))
        {
            await terminate.ExecuteNonQueryAsync();
        }
        await taken;

        Assert.Equal(1, await serving);
        Assert.False(stop.IsCancellationRequested, "serve ran until the test's own deadline");
        Assert.Contains("opendcc: the hub stopped: it no longer holds its store (database ", error.ToString(), StringComparison.Ordinal);
    }

    public async Task DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection(admin);
        await connection.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {database} WITH (FORCE)", connection);
        await drop.ExecuteNonQueryAsync();
    }

    public void Dispose() => cli.Dispose();
}
