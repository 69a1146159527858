using Microsoft.Data.Sqlite;
using NodaTime;
using OpenDcc.Core.Security;

namespace OpenDcc.Storage.Tests;

/// <summary>The SQLite store's page size: 16 KiB for a new database; a database made before keeps its own.</summary>
public sealed class SqlitePageSizeTests : IDisposable
{
    private readonly string directory = Path.Combine(Path.GetTempPath(), "opendcc-test-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task A_new_database_has_16_KiB_pages_in_WAL_mode()
    {
        await using var store = await OpenDccStore.OpenSqliteAsync(directory);

        Assert.Equal(16384L, await PragmaAsync(store, "page_size"));
        Assert.Equal("wal", await PragmaAsync(store, "journal_mode"));
    }

    [Fact]
    public async Task A_database_made_with_4_KiB_pages_keeps_them_and_its_log_when_opened()
    {
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, OpenDccStore.SqliteFileName);
        await using (var old = new SqliteConnection($"Data Source={path}"))
        {
            await old.OpenAsync();
            await using var made = old.CreateCommand();
            made.CommandText = "PRAGMA page_size = 4096; PRAGMA journal_mode = WAL; CREATE TABLE made_before (id INTEGER PRIMARY KEY)";
            await made.ExecuteNonQueryAsync();
        }
        SqliteConnection.ClearAllPools();

        var at = Instant.FromUtc(2026, 11, 30, 9, 0);
        await using (var store = await OpenDccStore.OpenSqliteAsync(directory))
        {
            await store.MessageLog.AppendAsync([new MessageLogRecord(at, MessageDirection.Inbound, null, "c1", "I99", new byte[5000])]);
        }
        SqliteConnection.ClearAllPools();
        await using (var reopened = await OpenDccStore.OpenSqliteAsync(directory))
        {
            Assert.Equal(4096L, await PragmaAsync(reopened, "page_size"));
            Assert.True((await MessageLogChain.VerifyAsync(reopened.MessageLog)).IsIntact);
            var entry = Assert.Single(await reopened.MessageLog.ReadAsync().ToListAsync());
            Assert.Equal(5000, entry.Record.Payload.Length);
        }
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        if (Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static async Task<object?> PragmaAsync(OpenDccStore store, string pragma)
    {
        await using var connection = await store.OpenConnectionAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = $"PRAGMA {pragma}";
        return await command.ExecuteScalarAsync();
    }
}
