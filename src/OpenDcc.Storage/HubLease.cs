using Npgsql;

namespace OpenDcc.Storage;

/// <summary>
/// What makes a hub the only one on its store (<see cref="OpenDccStore.LeaseForHubAsync"/>): a hub's Orleans silo holds
/// each DCC user's last accepted RequestID counter, so two hubs on one store, which are not one Orleans cluster, would
/// each hold their own, and a request accepted by one could be replayed to the other. Disposing it lets the store go.
/// </summary>
public interface IHubLease : IAsyncDisposable
{
    /// <summary>
    /// Completes, with why, if this hub stops being the only one on its store: another hub holds the store now, and this
    /// one must stop serving at once.
    /// </summary>
    Task<string> Lost { get; }

    /// <summary>Told, in words, when the lease wavers and holds again (its session ended, and it is being taken again).</summary>
    Action<string>? Notices { get; set; }

    /// <summary>
    /// Why this hub does not hold its lock now, while the lease wavers (being taken again, or waiting for the server to
    /// end the old session, which may last long after a network drop): the last such notice; null while it is held.
    /// </summary>
    string? Wavering { get; }
}

internal static class HubLease
{
    public const string LockFileName = "hub.lock";

    /// <summary>The PostgreSQL session advisory lock a hub holds (the migrator's transaction lock is 4242001).</summary>
    private const long AdvisoryLock = 4242002;

    /// <summary>SQLite: <see cref="LockFileName"/> in the data directory, open exclusively (on Linux an advisory flock, which the operating system lets go when the process ends, however it ends, and never before).</summary>
    public static IHubLease OnDataDirectory(string dataDirectory)
    {
        try
        {
            return new FileLease(new FileStream(Path.Combine(dataDirectory, LockFileName), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
        }
        catch (IOException e) when (e is not DirectoryNotFoundException and not FileNotFoundException)
        {
            throw new InvalidOperationException($"data directory {Path.GetFullPath(dataDirectory)} is in use by another hub (it holds {LockFileName}); one hub per data directory", e);
        }
    }

    /// <summary>
    /// PostgreSQL: a session advisory lock, on an unpooled connection of its own kept open while the hub runs; closing
    /// it ends the session, and the server lets go of the lock, as it does when the hub's process dies. The server also
    /// lets go when the session ends under the hub (PostgreSQL restarted, the backend terminated), so the lease watches
    /// its session (<see cref="DatabaseLease"/>).
    /// </summary>
    public static async Task<IHubLease> OnDatabaseAsync(string connectionString, string location, CancellationToken cancellationToken)
    {
        var (session, holder) = await TakeAsync(connectionString, location, cancellationToken);
        return new DatabaseLease(new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ToString(), location, session, holder);
    }

    /// <summary>
    /// The lock, on a session of its own, with that session as it was when it took it: its server process and when that
    /// process started (a process ID alone may be another session's after the server restarts).
    /// </summary>
    /// <exception cref="InvalidOperationException">another hub holds the lock.</exception>
    private static async Task<(NpgsqlConnection Session, (int Process, DateTime Started) Holder)> TakeAsync(string connectionString, string location, CancellationToken cancellationToken)
    {
        var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ToString());
        try
        {
            await connection.OpenAsync(cancellationToken);
            await using (var take = connection.Command("SELECT pg_try_advisory_lock(@k)").With("@k", AdvisoryLock))
            {
                if (await take.ExecuteScalarAsync(cancellationToken) is not true)
                {
                    throw new InvalidOperationException($"database {location} is in use by another hub; one hub per database until hubs can join one Orleans cluster");
                }
            }
            await using var identity = connection.Command("SELECT pid, backend_start FROM pg_stat_activity WHERE pid = pg_backend_pid()");
            identity.CommandTimeout = DatabaseLease.Patience;
            await using var reader = await identity.ExecuteReaderAsync(cancellationToken);
            return await reader.ReadAsync(cancellationToken)
                ? (connection, (reader.GetInt32(0), reader.GetDateTime(1)))
                : throw new InvalidOperationException("the hub's lock session is not in pg_stat_activity");
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    private sealed class FileLease(FileStream file) : IHubLease
    {
        public Task<string> Lost { get; } = new TaskCompletionSource<string>().Task;

        public Action<string>? Notices { get; set; }

        // The operating system lets go of the file only when the process ends.
        public string? Wavering => null;

        public ValueTask DisposeAsync() => file.DisposeAsync();
    }

    /// <summary>
    /// The advisory lock, watched: every <see cref="Interval"/> its session is asked to answer. A session that has ended
    /// (or does not answer within <see cref="Patience"/>) is given up, so the lease takes the lock again on a new
    /// session, trying every interval until the server is back; while the session given up still holds it (the server
    /// stalled, and has not yet found it closed), the lease waits for the server to end it. If another hub took it meanwhile, the lease is
    /// <see cref="Lost"/>: that hub starts its silo for some seconds before it serves, and this one stops within an
    /// interval of the other's taking it.
    /// </summary>
    private sealed class DatabaseLease : IHubLease
    {
        internal static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);
        internal const int Patience = 5;

        private readonly string connectionString;
        private readonly string location;
        private readonly CancellationTokenSource stopping = new();
        private readonly TaskCompletionSource<string> lost = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly Task watching;
        private NpgsqlConnection session;
        private volatile string? wavering;

        /// <summary>The session holding the lock, as it was when it took it (<see cref="TakeAsync"/>).</summary>
        private (int Process, DateTime Started) holder;

        public DatabaseLease(string connectionString, string location, NpgsqlConnection session, (int, DateTime) holder)
        {
            this.connectionString = connectionString;
            this.location = location;
            this.session = session;
            this.holder = holder;
            watching = Task.Run(WatchAsync);
        }

        public Task<string> Lost => lost.Task;

        public Action<string>? Notices { get; set; }

        public string? Wavering => wavering;

        public async ValueTask DisposeAsync()
        {
            await stopping.CancelAsync();
            await watching;
            await session.DisposeAsync();
            stopping.Dispose();
        }

        private async Task WatchAsync()
        {
            try
            {
                while (true)
                {
                    await Task.Delay(Interval, stopping.Token);
                    if (await AnswersAsync())
                    {
                        continue;
                    }
                    Waver($"the session holding this hub's lock on database {location} has ended or stopped answering (PostgreSQL restarted or stalled, or the session was terminated): taking the lock again");
                    await session.DisposeAsync();
                    var waitingNoticed = false;
                    while (true)
                    {
                        InvalidOperationException refused;
                        try
                        {
                            (session, holder) = await TakeAsync(connectionString, location, stopping.Token);
                            wavering = null;
                            Notices?.Invoke($"this hub holds its lock on database {location} again");
                            break;
                        }
                        catch (InvalidOperationException e)
                        {
                            refused = e;
                        }
                        catch (Exception e) when (e is NpgsqlException or TimeoutException && !stopping.IsCancellationRequested)
                        {
                            await Task.Delay(Interval, stopping.Token);
                            continue;
                        }
                        // A session that stopped answering (the server stalled) may hold the lock still, until the server
                        // finds it closed: this hub's, not another's, so no other hub can take it meanwhile. Who holds it
                        // is asked like the lock is taken: a server not answering now is asked again next interval.
                        (int, DateTime)? holding;
                        try
                        {
                            holding = await HolderAsync();
                        }
                        catch (Exception e) when (e is NpgsqlException or TimeoutException && !stopping.IsCancellationRequested)
                        {
                            await Task.Delay(Interval, stopping.Token);
                            continue;
                        }
                        if (holding is null)
                        {
                            // No one holds it now: the server ended the old session between the refusal and this look.
                            // Taken again at once, not counted as lost to another hub.
                            continue;
                        }
                        if (holding == holder)
                        {
                            if (!waitingNoticed)
                            {
                                Waver($"this hub's old session (server process {holder.Process}) still holds its lock on database {location}: waiting for the server to end it");
                                waitingNoticed = true;
                            }
                            await Task.Delay(Interval, stopping.Token);
                            continue;
                        }
                        lost.TrySetResult($"{refused.Message}: it took the lock while this hub's session was gone");
                        return;
                    }
                }
            }
#pragma warning disable CA1031 // Whatever a stopping hub's watch meets ends it: the lease is being let go.
            catch (Exception) when (stopping.IsCancellationRequested)
#pragma warning restore CA1031
            {
            }
        }

        private void Waver(string why)
        {
            wavering = why;
            Notices?.Invoke(why);
        }

        /// <summary>The session holding the hub lock now (its server process, and when that started); null when none does.</summary>
        private async Task<(int, DateTime)?> HolderAsync()
        {
            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync(stopping.Token);
            // A bigint advisory key is held as classid (its high half), objid (its low half) and objsubid 1.
            await using var query = connection.Command(
                "SELECT l.pid, a.backend_start FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid " +
                $"WHERE l.locktype = 'advisory' AND l.classid = 0 AND l.objid = {AdvisoryLock} AND l.objsubid = 1 AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())");
            query.CommandTimeout = Patience;
            await using var reader = await query.ExecuteReaderAsync(stopping.Token);
            return await reader.ReadAsync(stopping.Token) && !reader.IsDBNull(1) ? (reader.GetInt32(0), reader.GetDateTime(1)) : null;
        }

        private async Task<bool> AnswersAsync()
        {
            try
            {
                await using var ask = session.Command("SELECT 1");
                ask.CommandTimeout = Patience;
                return await ask.ExecuteScalarAsync(stopping.Token) is 1;
            }
            catch (Exception e) when (e is NpgsqlException or InvalidOperationException or TimeoutException && !stopping.IsCancellationRequested)
            {
                return false;
            }
        }
    }
}
