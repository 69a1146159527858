using Microsoft.Data.Sqlite;
using OpenDcc.Core;

namespace OpenDcc.Storage.Tests;

/// <summary>A full disk is the store's being away for now (503 and Retry-After, tried again), not a fault of the hub.</summary>
public sealed class StoreAwayRecognitionTests : IAsyncDisposable
{
    private readonly SqliteEngine engine = new();

    [Fact]
    public async Task SQLites_full_disk_is_the_store_away()
    {
        await using var store = await engine.OpenAsync();
        // A database capped at its size now meets SQLITE_FULL as a full disk does: the same error, code and message.
        await using var connection = new SqliteConnection($"Data Source={store.Location}");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA max_page_count = 1"; // raised to the pages the database has
        await command.ExecuteScalarAsync();
        command.CommandText = "INSERT INTO message_log (sequence, at, direction, outcome, payload, previous_hash, hash) VALUES (1, 0, 1, 'I0', zeroblob(100000), zeroblob(32), zeroblob(32))";
        var full = await Assert.ThrowsAsync<SqliteException>(() => command.ExecuteNonQueryAsync());

        Assert.Equal(SQLitePCL.raw.SQLITE_FULL, full.SqliteErrorCode);
        Assert.True(StoreAway.Is(full));
        Assert.True(StoreAway.Is(new InvalidOperationException("appending failed", full)));
        Assert.False(StoreAway.Is(new SqliteException("SQLite Error 19: 'UNIQUE constraint failed'.", SQLitePCL.raw.SQLITE_CONSTRAINT)));
    }

    public ValueTask DisposeAsync() => engine.DisposeAsync();
}
