using Npgsql;

namespace OpenDcc.Storage;

/// <summary>
/// What makes a hub the only one on its store (<see cref="OpenDccStore.LeaseForHubAsync"/>): a hub's Orleans silo holds
/// each DCC user's last accepted RequestID counter, so two hubs on one store, which are not one Orleans cluster, would
/// each hold their own, and a request accepted by one could be replayed to the other.
/// </summary>
internal static class HubLease
{
    public const string LockFileName = "hub.lock";

    /// <summary>The PostgreSQL session advisory lock a hub holds (the migrator's transaction lock is 4242001).</summary>
    private const long AdvisoryLock = 4242002;

    /// <summary>SQLite: <see cref="LockFileName"/> in the data directory, open exclusively (on Linux an advisory flock, which the operating system lets go when the process ends, however it ends).</summary>
    public static IAsyncDisposable OnDataDirectory(string dataDirectory)
    {
        try
        {
            return new FileStream(Path.Combine(dataDirectory, LockFileName), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e) when (e is not DirectoryNotFoundException and not FileNotFoundException)
        {
            throw new InvalidOperationException($"data directory {Path.GetFullPath(dataDirectory)} is in use by another hub (it holds {LockFileName}); one hub per data directory", e);
        }
    }

    /// <summary>
    /// PostgreSQL: a session advisory lock, on an unpooled connection of its own kept open while the hub runs; closing
    /// it ends the session, and the server lets go of the lock, as it does when the hub's process dies.
    /// </summary>
    public static async Task<IAsyncDisposable> OnDatabaseAsync(string connectionString, string location, CancellationToken cancellationToken)
    {
        var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ToString());
        try
        {
            await connection.OpenAsync(cancellationToken);
            await using var take = connection.Command("SELECT pg_try_advisory_lock(@k)").With("@k", AdvisoryLock);
            if (await take.ExecuteScalarAsync(cancellationToken) is not true)
            {
                throw new InvalidOperationException($"database {location} is in use by another hub; one hub per database until hubs can join one Orleans cluster");
            }
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }
}
