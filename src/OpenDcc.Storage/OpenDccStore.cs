using System.Data.Common;
using Microsoft.Data.Sqlite;
using NodaTime;
using Npgsql;
using OpenDcc.Core;
using OpenDcc.Core.Alerts;
using OpenDcc.Core.Delivery;
using OpenDcc.Core.Duis;
using OpenDcc.Core.Inventory;
using OpenDcc.Core.Parties;
using OpenDcc.Core.Security;
using OpenDcc.Core.Translation;
using OpenDcc.Core.Wan;
using OpenDcc.Storage.Migrations;
using OpenDcc.Storage.Postgres;
using OpenDcc.Storage.Sqlite;

namespace OpenDcc.Storage;

/// <summary>
/// OpenDcc's transactional store: SQLite (WAL) in the data directory by default, PostgreSQL in production,
/// the same interfaces over both. Opening a store applies any schema migrations it lacks, unless a hub serves from it
/// (an older version's, which would then run under a newer schema).
/// </summary>
public sealed class OpenDccStore : IAsyncDisposable
{
    public const string SqliteFileName = "opendcc.db";

    /// <summary>
    /// A full disk (SQLite's SQLITE_FULL, PostgreSQL's disk_full) or SQLite's failing to write its files (SQLITE_IOERR):
    /// the store cannot take a write for now, so what needed one is answered 503 and tried again, as with the store out
    /// of reach; nothing of it was committed. SQLite does not call these transient.
    /// </summary>
    static OpenDccStore() => StoreAway.Recognise(fault =>
        fault is SqliteException { SqliteErrorCode: SQLitePCL.raw.SQLITE_FULL or SQLitePCL.raw.SQLITE_IOERR }
        || fault is PostgresException { SqlState: PostgresErrorCodes.DiskFull });

    private readonly Func<CancellationToken, Task<DbConnection>> open;
    private readonly Func<ValueTask> release;
    private readonly Func<CancellationToken, Task<IHubLease>> lease;

    private OpenDccStore(string engine, string location, Func<CancellationToken, Task<DbConnection>> open, Func<ValueTask> release, Func<CancellationToken, Task<IHubLease>> lease, IPartyStore parties, IInventoryStore inventory, SqlMessageLog messageLog)
    {
        Engine = engine;
        Location = location;
        this.open = open;
        this.release = release;
        this.lease = lease;
        Delivery = new SqlDeliveryStore(open, skipLocked: engine == "postgres");
        ApiKeys = new SqlApiKeyStore(open);
        ApprovedModels = new SqlApprovedModelStore(open);
        Parties = parties;
        Inventory = inventory;
        MessageLog = messageLog;
        MessageLogCheckpoints = messageLog;
        ReplayCounters = new SqlReplayCounterStore(open);
        UnansweredCommands = new SqlUnansweredCommandStore(open);
        LocalCommands = new SqlLocalCommandStore(open);
        CriticalCounters = new SqlCriticalCounterStore(open);
        AcbCounters = new SqlAcbCounterStore(open);
        AlertCounters = new SqlAlertCounterStore(open);
        WanCoverage = new SqlWanCoverageStore(open, rowsPerInsert: engine == "postgres" ? 500 : 1);
    }

    /// <summary><c>sqlite</c> or <c>postgres</c>.</summary>
    public string Engine { get; }

    /// <summary>The database file, or the PostgreSQL host and database.</summary>
    public string Location { get; }

    /// <summary>The outbound queue of responses and alerts to DCC users.</summary>
    public IDeliveryStore Delivery { get; }

    public IPartyStore Parties { get; }

    /// <summary>The DCC users' REST API keys (hashes only).</summary>
    public IApiKeyStore ApiKeys { get; }

    public IInventoryStore Inventory { get; }

    /// <summary>The device models that may join the inventory.</summary>
    public IApprovedModelStore ApprovedModels { get; }

    public IMessageLog MessageLog { get; }

    /// <summary>The DSP's signatures over the message log's head as it grew.</summary>
    public IMessageLogCheckpoints MessageLogCheckpoints { get; }

    public IReplayCounterStore ReplayCounters { get; }

    /// <summary>The device commands acknowledged (I99) and not yet answered.</summary>
    public IUnansweredCommandStore UnansweredCommands { get; }

    /// <summary>The commands given to users for local delivery, until and after their answers come back (8.13).</summary>
    public ILocalCommandStore LocalCommands { get; }

    /// <summary>The last critical command counter of each user and device, which a critical command must exceed.</summary>
    public ICriticalCounterStore CriticalCounters { get; }

    /// <summary>The bound every ACB counter put on a device command lies below, which a hub started again goes on above.</summary>
    public IAcbCounterStore AcbCounters { get; }

    /// <summary>The counter of the last alert taken from each device, which a device's next alert must exceed.</summary>
    public IAlertCounterStore AlertCounters { get; }

    /// <summary>The SM WAN coverage data, as the operator last imported it.</summary>
    public IWanCoverageStore WanCoverage { get; }

    /// <summary>
    /// Makes the caller the only hub on this store until it disposes the lease: SQLite's <c>hub.lock</c> in the data
    /// directory, held exclusively; PostgreSQL's session advisory lock. The other commands need none.
    /// </summary>
    /// <exception cref="InvalidOperationException">another hub holds it.</exception>
    public Task<IHubLease> LeaseForHubAsync(CancellationToken cancellationToken = default) => lease(cancellationToken);

    /// <summary>A raw connection, for administration and tests; callers dispose it.</summary>
    public Task<DbConnection> OpenConnectionAsync(CancellationToken cancellationToken = default) => open(cancellationToken);

    /// <summary>
    /// Whether a hub serves from the SQLite store in <paramref name="dataDirectory"/> now (it holds the lease), checked
    /// without opening the store: a second <c>serve</c> is told so before anything else that a running hub explains.
    /// </summary>
    /// <exception cref="InvalidOperationException">a hub holds it, named as <see cref="LeaseForHubAsync"/> names it.</exception>
    public static async Task RefuseIfHubServesAsync(string dataDirectory)
    {
        if (File.Exists(Path.Combine(dataDirectory, HubLease.LockFileName)))
        {
            await HubLease.OnDataDirectory(dataDirectory).DisposeAsync();
        }
    }

    /// <summary>
    /// Whether a hub serves from the PostgreSQL database <paramref name="connectionString"/> names now (it holds the
    /// lease), checked without migrating it: a second <c>serve</c> is told so before anything else that a running hub
    /// explains (its Orleans ports, when both run on one machine).
    /// </summary>
    /// <exception cref="InvalidOperationException">a hub holds it, named as <see cref="LeaseForHubAsync"/> names it.</exception>
    public static async Task RefuseIfHubServesOnPostgresAsync(string connectionString, CancellationToken cancellationToken = default) =>
        await (await HubLease.OnDatabaseAsync(connectionString, PostgresLocation(connectionString), cancellationToken)).DisposeAsync();

    public static async Task<OpenDccStore> OpenSqliteAsync(string dataDirectory, IClock clock, CancellationToken cancellationToken = default)
    {
        Directory.CreateDirectory(dataDirectory);
        var path = Path.GetFullPath(Path.Combine(dataDirectory, SqliteFileName));
        var connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            ForeignKeys = true,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
        async Task<DbConnection> Open(CancellationToken ct)
        {
            var connection = new SqliteConnection(connectionString);
            await connection.OpenAsync(ct);
            // Let SQLite's own busy handler wait for the write lock (it polls in 1-100 ms steps); otherwise the
            // provider retries a busy statement only after sleeping 150 ms. A direct call: a PRAGMA statement on
            // every open from the pool would be parsed and run each time.
            _ = SQLitePCL.raw.sqlite3_busy_timeout(connection.Handle, 30_000);
            return connection;
        }
        // The file is made (empty) as it is first opened, and has a header once WAL is set: both under the migrator's
        // lock, so an empty file found under it was not being made by another process, but cut short (a failed copy or
        // restore, a full disk). It is refused rather than made a new, empty store in place of the one it was.
        await using (await SqliteMigratorLockAsync(dataDirectory, cancellationToken))
        {
            if (new FileInfo(path) is { Exists: true, Length: 0 })
            {
                throw new IOException($"{SqliteFileName} is empty (0 bytes): not an OpenDcc store (restore it from a backup, or remove it to start a new one)");
            }
            await using var connection = await Open(cancellationToken);
            await using var wal = connection.Command("PRAGMA journal_mode = WAL");
            // Persistent in the file: readers never block the writer, and a crash cannot tear a commit.
            await wal.ExecuteNonQueryAsync(cancellationToken);
        }
        Task<IHubLease> Lease(CancellationToken ct) => Task.FromResult(HubLease.OnDataDirectory(dataDirectory));
        await new SchemaMigrator("Sqlite", Open, clock, ct => SqliteMigratorLockAsync(dataDirectory, ct), async ct => await Lease(ct)).MigrateAsync(cancellationToken);
        return new OpenDccStore(
            "sqlite",
            path,
            Open,
            () =>
            {
                // Closes the pooled connections so the database file can be moved or deleted.
                using var pooled = new SqliteConnection(connectionString);
                SqliteConnection.ClearPool(pooled);
                return ValueTask.CompletedTask;
            },
            Lease,
            new SqlPartyStore(Open),
            new SqlInventoryStore(Open, rowsPerInsert: 1, lockRows: false),
            new SqliteMessageLog(Open));
    }

    public static async Task<OpenDccStore> OpenPostgresAsync(string connectionString, IClock clock, CancellationToken cancellationToken = default)
    {
        var dataSource = NpgsqlDataSource.Create(WithAutoPrepare(connectionString));
        async Task<DbConnection> Open(CancellationToken ct) => await dataSource.OpenConnectionAsync(ct);
        var location = PostgresLocation(connectionString);
        Task<IHubLease> Lease(CancellationToken ct) => HubLease.OnDatabaseAsync(connectionString, location, ct);
        try
        {
            await new SchemaMigrator("Postgres", Open, clock, ct => PostgresMigratorLockAsync(connectionString, ct), async ct => await Lease(ct)).MigrateAsync(cancellationToken);
        }
        catch
        {
            await dataSource.DisposeAsync();
            throw;
        }
        return new OpenDccStore(
            "postgres",
            location,
            Open,
            dataSource.DisposeAsync,
            Lease,
            new SqlPartyStore(Open),
            new SqlInventoryStore(Open, rowsPerInsert: 500, lockRows: true),
            new PostgresMessageLog(Open));
    }

    /// <summary>
    /// The statements the store runs over and over (the message log's group commit, the gateway's reads) are prepared on
    /// the server once a connection has run them a few times (Npgsql's automatic preparation, up to
    /// <see cref="AutoPreparedStatements"/> a connection), rather than parsed and planned again at every run; unless the
    /// connection string says otherwise (<c>Max Auto Prepare=0</c> behind a pooler that keeps no prepared statements).
    /// The gateway bench on PostgreSQL (2 cores, the server on the same machine): 1,378 requests/s unprepared, 2,168 prepared.
    /// </summary>
    private static string WithAutoPrepare(string connectionString)
    {
        var given = new DbConnectionStringBuilder { ConnectionString = connectionString };
        return given.Keys.Cast<string>().Any(k => k.Replace(" ", "", StringComparison.Ordinal).Equals("MaxAutoPrepare", StringComparison.OrdinalIgnoreCase))
            ? connectionString
            : new NpgsqlConnectionStringBuilder(connectionString) { MaxAutoPrepare = AutoPreparedStatements }.ConnectionString;
    }

    private const int AutoPreparedStatements = 64;

    /// <summary>The file a SQLite store's migrator holds while it runs (<see cref="SqliteMigratorLockAsync"/>).</summary>
    private const string MigratorLockFileName = "migrate.lock";

    /// <summary>
    /// SQLite: makes this process the only migrator of the data directory's store until disposed: <see cref="MigratorLockFileName"/>
    /// held exclusively, waiting (up to a minute) for another process's migrator to finish.
    /// </summary>
    private static async Task<IAsyncDisposable> SqliteMigratorLockAsync(string dataDirectory, CancellationToken cancellationToken)
    {
        var path = Path.Combine(dataDirectory, MigratorLockFileName);
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (waited.Elapsed < TimeSpan.FromMinutes(1))
            {
                await Task.Delay(50, cancellationToken);
            }
        }
    }

    /// <summary>
    /// PostgreSQL: makes this the only migrator of the database until disposed: a session advisory lock (4242001; the
    /// hub lease is 4242002) on a connection of its own, waited for, let go when that session ends.
    /// </summary>
    private static async Task<IAsyncDisposable> PostgresMigratorLockAsync(string connectionString, CancellationToken cancellationToken)
    {
        var session = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ToString());
        try
        {
            await session.OpenAsync(cancellationToken);
            await using var take = session.Command("SELECT pg_advisory_lock(4242001)");
            take.CommandTimeout = 0;
            await take.ExecuteNonQueryAsync(cancellationToken);
            return session;
        }
        catch
        {
            await session.DisposeAsync();
            throw;
        }
    }

    /// <summary>The PostgreSQL host, port and database, as messages name the store.</summary>
    private static string PostgresLocation(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        return $"{builder.Host}:{builder.Port}/{builder.Database}";
    }

    public async ValueTask DisposeAsync()
    {
        await release();
    }
}
