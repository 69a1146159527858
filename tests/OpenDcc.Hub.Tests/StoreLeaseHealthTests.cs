using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging.Abstractions;
using NodaTime;
using Npgsql;
using OpenDcc.Storage;

namespace OpenDcc.Hub.Tests;

/// <summary>
/// The store's health says when the hub's lease on its PostgreSQL store wavers: while the session holding the lock is
/// gone and the lock is being taken again, or the server has not yet ended the old session (which may last long after
/// a network drop), it is Degraded with why (HTTP 200 still), and Healthy once the lock is held again.
/// </summary>
public sealed class StoreLeaseHealthTests : IAsyncLifetime
{
    private const string HubLock = "locktype = 'advisory' AND objid = 4242002 AND database = (SELECT oid FROM pg_database WHERE datname = current_database())";

    private TestDatabase database = null!;
    private string connectionString = null!;
    private OpenDccStore store = null!;

    public async Task InitializeAsync()
    {
        database = await TestDatabase.CreateAsync();
        connectionString = database.ConnectionString;
        store = await OpenDccStore.OpenPostgresAsync(connectionString, SystemClock.Instance);
    }

    public async Task DisposeAsync()
    {
        await store.DisposeAsync();
        await database.DisposeAsync();
    }

    [Fact]
    public async Task The_store_is_degraded_naming_why_while_the_old_session_still_holds_the_lock_and_healthy_once_it_is_taken_again()
    {
        await using var lease = new HubLeaseHolder(await store.LeaseForHubAsync());
        using var watch = new StoreAwayWatch(SystemClock.Instance, NullLogger<StoreAwayWatch>.Instance);
        var check = new StoreHealthCheck(store, store.Parties, watch, lease);
        Assert.Equal(HealthStatus.Healthy, (await check.CheckHealthAsync(new HealthCheckContext())).Status);
        var first = (int)(await ScalarAsync($"SELECT pid FROM pg_locks WHERE {HubLock} AND granted"))!;

        // The lock's session stops (as a stalled server's, or one across a dropped network): it answers nothing, and
        // holds the lock after the lease gives up on it, until it runs again, finds its client gone and ends.
        await SignalAsync(first, "STOP");
        HealthCheckResult waiting;
        try
        {
            waiting = await WaitForAsync(check, r => r.Description?.Contains("waiting for the server to end it", StringComparison.Ordinal) == true);
        }
        finally
        {
            await SignalAsync(first, "CONT");
        }
        Assert.Equal(HealthStatus.Degraded, waiting.Status);
        Assert.Contains($"{store.Engine} {store.Location}: this hub's old session (server process {first}) still holds its lock", waiting.Description, StringComparison.Ordinal);

        var again = await WaitForAsync(check, r => r.Status != HealthStatus.Degraded);
        Assert.Equal(HealthStatus.Healthy, again.Status);
        Assert.False(lease.Lease.Lost.IsCompleted);
    }

    private static async Task<HealthCheckResult> WaitForAsync(StoreHealthCheck check, Func<HealthCheckResult, bool> until)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var result = await check.CheckHealthAsync(new HealthCheckContext());
            if (until(result))
            {
                return result;
            }
            Assert.True(waited.Elapsed < TimeSpan.FromSeconds(30), $"the store's health did not change within 30 s: {result.Status} ({result.Description})");
            await Task.Delay(100);
        }
    }

    /// <summary>Sends a signal to a server process: the test's PostgreSQL runs on this machine, as this user or (as root) as postgres.</summary>
    private static async Task SignalAsync(int process, string signal)
    {
        using var kill = System.Diagnostics.Process.Start("/bin/sh", ["-c", $"kill -{signal} {process}"]);
        await kill.WaitForExitAsync();
        Assert.Equal(0, kill.ExitCode);
    }

    private async Task<object?> ScalarAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync();
    }
}
