using Npgsql;

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
