using NodaTime;
using Npgsql;

namespace OpenDcc.Storage.Tests;

/// <summary>Creates an empty store of one engine for each test, and removes it afterwards.</summary>
public interface IStoreEngine : IAsyncDisposable
{
    /// <summary>Opens (and on first call creates and migrates) this test's store; every call opens the same database.</summary>
    /// <param name="clock">The time migrations are recorded at; by default the Unix epoch, so that nothing reads the machine's clock.</param>
    Task<OpenDccStore> OpenAsync(IClock? clock = null);
}

public sealed class SqliteEngine : IStoreEngine
{
    private readonly string directory = Path.Combine(Path.GetTempPath(), "opendcc-test-" + Guid.NewGuid().ToString("N"));

    public Task<OpenDccStore> OpenAsync(IClock? clock = null) => OpenDccStore.OpenSqliteAsync(directory, clock ?? StoreClock.Default);

    public ValueTask DisposeAsync()
    {
        if (Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }
        return ValueTask.CompletedTask;
    }
}

/// <summary>
/// A fresh database per test on the PostgreSQL server that ./test.sh starts (OPENDCC_TEST_POSTGRES names it).
/// </summary>
public sealed class PostgresEngine : IStoreEngine
{
    private readonly string adminConnectionString = AdminConnectionString();
    private readonly string database = "opendcc_test_" + Guid.NewGuid().ToString("N");
    private bool created;

    public static string AdminConnectionString() =>
        Environment.GetEnvironmentVariable("OPENDCC_TEST_POSTGRES")
        ?? throw new InvalidOperationException("OPENDCC_TEST_POSTGRES is not set: run the tests with ./test.sh, which starts PostgreSQL");

    public async Task<OpenDccStore> OpenAsync(IClock? clock = null)
    {
        if (!created)
        {
            await using var admin = new NpgsqlConnection(adminConnectionString);
            await admin.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE {database}", admin);
            await create.ExecuteNonQueryAsync();
            created = true;
        }
        var builder = new NpgsqlConnectionStringBuilder(adminConnectionString) { Database = database };
        return await OpenDccStore.OpenPostgresAsync(builder.ToString(), clock ?? StoreClock.Default);
    }

    public async ValueTask DisposeAsync()
    {
        if (!created)
        {
            return;
        }
        NpgsqlConnection.ClearAllPools();
        await using var admin = new NpgsqlConnection(adminConnectionString);
        await admin.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {database} WITH (FORCE)", admin);
        await drop.ExecuteNonQueryAsync();
    }
}

internal static class StoreClock
{
    public static readonly IClock Default = new NodaTime.Testing.FakeClock(Instant.FromUnixTimeSeconds(0));
}

/// <summary>
/// Tests over one engine's store: opened before each test, closed and its database dropped after.
/// <see cref="ReopenAsync"/> closes it and opens it again, as a restart would.
/// </summary>
/// <param name="clock">The time migrations are recorded at (<see cref="IStoreEngine.OpenAsync"/>).</param>
public abstract class StoreTests(IStoreEngine engine, IClock? clock = null) : IAsyncLifetime
{
    protected IStoreEngine Engine => engine;

    protected OpenDccStore Store { get; private set; } = null!;

    public async Task InitializeAsync() => Store = await engine.OpenAsync(clock);

    public virtual async Task DisposeAsync()
    {
        await Store.DisposeAsync();
        await engine.DisposeAsync();
    }

    protected async Task ReopenAsync()
    {
        await Store.DisposeAsync();
        Store = await engine.OpenAsync(clock);
    }
}
