using Npgsql;

namespace OpenDcc.Hub.Tests;

/// <summary>
/// A throw-away database on the PostgreSQL server that ./test.sh starts (OPENDCC_TEST_POSTGRES names it), dropped when
/// disposed. Without that variable a test needing one fails saying so: PostgreSQL is the production store, not optional.
/// </summary>
public sealed class TestDatabase : IAsyncDisposable
{
    private readonly string admin;
    private readonly string name = "opendcc_test_" + Guid.NewGuid().ToString("N");

    private TestDatabase(string admin) => this.admin = admin;

    /// <summary>The database's own connection string (the server's, naming this database).</summary>
    public string ConnectionString => new NpgsqlConnectionStringBuilder(admin) { Database = name }.ToString();

    public static async Task<TestDatabase> CreateAsync()
    {
        var database = new TestDatabase(Environment.GetEnvironmentVariable("OPENDCC_TEST_POSTGRES")
            ?? throw new InvalidOperationException("OPENDCC_TEST_POSTGRES is not set: run the tests with ./test.sh, which starts PostgreSQL"));
        await database.ExecuteAsync($"CREATE DATABASE {database.name}");
        return database;
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await ExecuteAsync($"DROP DATABASE IF EXISTS {name} WITH (FORCE)");
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(admin);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
