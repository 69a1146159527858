using System.Data.Common;
using Npgsql;

namespace OpenDcc.Bench;

/// <summary>A throw-away database on the PostgreSQL server <c>--postgres</c> names (its admin connection), dropped when disposed.</summary>
internal sealed class BenchDatabase : IAsyncDisposable
{
    private readonly string admin;
    private readonly string name;

    private BenchDatabase(string admin, string name)
    {
        this.admin = admin;
        this.name = name;
        ConnectionString = new NpgsqlConnectionStringBuilder(admin) { Database = name }.ToString();
    }

    public string ConnectionString { get; }

    public static async Task<BenchDatabase> CreateAsync(string admin)
    {
        var database = new BenchDatabase(admin, "opendcc_bench_" + Guid.NewGuid().ToString("N"));
        await using var connection = new NpgsqlConnection(admin);
        await connection.OpenAsync();
        await using var create = new NpgsqlCommand($"CREATE DATABASE {database.name}", connection);
        await create.ExecuteNonQueryAsync();
        return database;
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection(admin);
        await connection.OpenAsync();
        await using DbCommand drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {name} WITH (FORCE)", connection);
        await drop.ExecuteNonQueryAsync();
    }
}
