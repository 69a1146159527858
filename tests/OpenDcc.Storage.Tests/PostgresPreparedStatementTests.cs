using System.Data.Common;
using Npgsql;

namespace OpenDcc.Storage.Tests;

/// <summary>
/// A PostgreSQL store has the server prepare the statements it runs over and over (Npgsql's automatic preparation),
/// rather than parse and plan each run, unless its connection string says otherwise.
/// </summary>
public sealed class PostgresPreparedStatementTests() : StoreTests(new PostgresEngine())
{
    [Fact]
    public async Task A_statement_a_connection_runs_over_and_over_is_prepared_on_the_server()
    {
        await using var connection = await Store.OpenConnectionAsync();

        await RunTheHeadReadAsync(connection, times: 10);

        Assert.True(await PreparedOnServerAsync(connection) > 0, "no statement of the connection is prepared on the server");
    }

    [Fact]
    public async Task A_connection_string_that_sets_max_auto_prepare_is_followed()
    {
        await using var connection = await Store.OpenConnectionAsync();
        // As an operator behind a pooler that keeps no prepared statements would give it.
        var unprepared = new NpgsqlConnectionStringBuilder(connection.ConnectionString) { MaxAutoPrepare = 0 }.ToString();
        await using var store = await OpenDccStore.OpenPostgresAsync(unprepared, StoreClock.Default);
        await using var other = await store.OpenConnectionAsync();

        await RunTheHeadReadAsync(other, times: 10);

        Assert.Equal(0, await PreparedOnServerAsync(other));
    }

    private static async Task RunTheHeadReadAsync(DbConnection connection, int times)
    {
        for (var i = 0; i < times; i++)
        {
            await using var read = connection.CreateCommand();
            read.CommandText = "SELECT sequence, hash FROM message_log_head WHERE id = 1";
            await using var reader = await read.ExecuteReaderAsync();
            Assert.True(await reader.ReadAsync());
        }
    }

    private static async Task<long> PreparedOnServerAsync(DbConnection connection)
    {
        await using var count = connection.CreateCommand();
        count.CommandText = "SELECT count(*) FROM pg_prepared_statements";
        return (long)(await count.ExecuteScalarAsync())!;
    }
}
