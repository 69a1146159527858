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
