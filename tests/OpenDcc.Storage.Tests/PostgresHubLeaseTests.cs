using System.Collections.Concurrent;
using System.Data.Common;

namespace OpenDcc.Storage.Tests;

/// <summary>
/// PostgreSQL lets go of a hub's advisory lock when the lock's session ends under the hub (a restart of the server, a
/// terminated backend). The lease notices, takes the lock again, and is lost if another hub took it first.
/// </summary>
public sealed class PostgresHubLeaseTests() : StoreTests(new PostgresEngine())
{
    private const string HubLock = "locktype = 'advisory' AND objid = 4242002 AND database = (SELECT oid FROM pg_database WHERE datname = current_database())";

    [Fact]
    public async Task A_lease_whose_session_ends_takes_the_lock_again_on_a_new_session()
    {
        await using var lease = await Store.LeaseForHubAsync();
        var notices = new ConcurrentQueue<string>();
        lease.Notices = notices.Enqueue;
        var first = await HolderAsync();
        Assert.NotNull(first);

        await ScalarAsync($"SELECT pg_terminate_backend(pid, 5000) FROM pg_locks WHERE {HubLock} AND granted");

        var again = await WaitForAsync(async () => await HolderAsync() is { } holder && holder != first ? holder : null);
        Assert.NotEqual(first, again);
        // The new session holds the lock a moment before the lease, having read that session's identity, says so.
        await WaitForAsync(() => Task.FromResult<int?>(notices.Count >= 2 ? notices.Count : null));
        Assert.False(lease.Lost.IsCompleted);
        Assert.Collection(
            notices,
            ended => Assert.Contains("has ended", ended, StringComparison.Ordinal),
            held => Assert.Contains("holds its lock", held, StringComparison.Ordinal));
        // A second hub is refused again.
        await using var second = await Engine.OpenAsync();
        await Assert.ThrowsAsync<InvalidOperationException>(() => second.LeaseForHubAsync());
    }

    [Fact]
    public async Task A_lease_whose_lock_another_hub_took_while_its_session_was_gone_is_lost()
    {
        await using var lease = await Store.LeaseForHubAsync();

        // Another session waits for the lock (as a second hub starting in the gap would); the hub's session ends, and
        // the waiting session gets the lock before the lease can take it again.
        await using var other = await Store.OpenConnectionAsync();
        await using var take = other.CreateCommand();
        take.CommandText = "SELECT pg_advisory_lock(4242002)";
        var taken = take.ExecuteScalarAsync();
        while ((long)(await ScalarAsync($"SELECT count(*) FROM pg_locks WHERE {HubLock} AND NOT granted"))! == 0)
        {
            await Task.Delay(50);
        }
        await ScalarAsync($"SELECT pg_terminate_backend(pid, 5000) FROM pg_locks WHERE {HubLock} AND granted");
        await taken;

        var why = await lease.Lost.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Contains("is in use by another hub", why, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_lease_whose_session_stalls_while_still_holding_the_lock_waits_for_it_to_end_and_is_not_lost()
    {
        await using var lease = await Store.LeaseForHubAsync();
        var notices = new ConcurrentQueue<string>();
        lease.Notices = notices.Enqueue;
        var first = (await HolderAsync())!.Value;

        // The session's server process stops (as a stalled server's would): it answers nothing, and holds the lock
        // after the lease gives up on it, until it runs again, finds its client gone and ends.
        await SignalAsync(first, "STOP");
        try
        {
            var waited = System.Diagnostics.Stopwatch.StartNew();
            while (!notices.Any(n => n.Contains("still holds its lock", StringComparison.Ordinal)))
            {
                if (lease.Lost.IsCompleted)
                {
                    Assert.Fail($"the lease was lost: {await lease.Lost}");
                }
                Assert.True(waited.Elapsed < TimeSpan.FromSeconds(30), "the lease did not notice its stalled session within 30 s");
                await Task.Delay(100);
            }
        }
        finally
        {
            await SignalAsync(first, "CONT");
        }

        var again = await WaitForAsync(async () => await HolderAsync() is { } holder && holder != first ? holder : null);
        Assert.NotEqual(first, again);
        // The new session holds the lock a moment before the lease, having read that session's identity, says so.
        static bool HeldAgain(string n) => n.Contains("holds its lock on database", StringComparison.Ordinal) && n.Contains("again", StringComparison.Ordinal);
        await WaitForAsync(() => Task.FromResult<int?>(notices.Any(HeldAgain) ? 1 : null));
        Assert.False(lease.Lost.IsCompleted);
    }

    [Fact]
    public async Task A_lease_that_cannot_ask_who_holds_its_lock_keeps_trying_and_takes_it_again_once_its_stalled_session_ends()
    {
        await using var lease = await Store.LeaseForHubAsync();
        var notices = new ConcurrentQueue<string>();
        lease.Notices = notices.Enqueue;
        var first = (await HolderAsync())!.Value;
        // Asking who holds the lock fails (the server refusing connections, a timeout): pg_locks shadowed for new sessions.
        await ScalarAsync("CREATE SCHEMA shadow");
        await ScalarAsync("CREATE FUNCTION shadow.fails() RETURNS TABLE(pid int, locktype text, classid oid, objid oid, objsubid smallint, granted bool, database oid) AS $$ BEGIN RAISE EXCEPTION 'simulated: too many clients'; END $$ LANGUAGE plpgsql");
        await ScalarAsync("CREATE VIEW shadow.pg_locks AS SELECT * FROM shadow.fails()");
        await ScalarAsync("DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET search_path = shadow, pg_catalog, public', current_database()); END $$");
        try
        {
            await SignalAsync(first, "STOP");
            try
            {
                var waited = System.Diagnostics.Stopwatch.StartNew();
                while (!notices.Any(n => n.Contains("stopped answering", StringComparison.Ordinal)))
                {
                    Assert.True(waited.Elapsed < TimeSpan.FromSeconds(30), "the lease did not notice its stalled session within 30 s");
                    await Task.Delay(100);
                }
                // The lock is refused (its stalled session holds it) and who holds it cannot be asked, a few times over.
                await Task.Delay(3000);
            }
            finally
            {
                await SignalAsync(first, "CONT");
            }

            var again = await WaitForAsync(async () => await ScalarAsync($"SELECT pid FROM pg_catalog.pg_locks WHERE {HubLock.Replace("pg_database", "pg_catalog.pg_database", StringComparison.Ordinal)} AND granted") is int holder && holder != first ? holder : null);
            Assert.NotEqual(first, again);
            Assert.False(lease.Lost.IsCompleted);
            await using var second = await Engine.OpenAsync();
            await Assert.ThrowsAsync<InvalidOperationException>(() => second.LeaseForHubAsync());
        }
        finally
        {
            await ScalarAsync("DO $$ BEGIN EXECUTE format('ALTER DATABASE %I RESET search_path', current_database()); END $$");
        }
    }

    /// <summary>Sends a signal to a server process: the test's PostgreSQL runs on this machine, as this user or (as root) as postgres.</summary>
    private static async Task SignalAsync(int process, string signal)
    {
        using var kill = System.Diagnostics.Process.Start("/bin/sh", ["-c", $"kill -{signal} {process}"]);
        await kill.WaitForExitAsync();
        Assert.Equal(0, kill.ExitCode);
    }

    private async Task<int?> HolderAsync() => await ScalarAsync($"SELECT pid FROM pg_locks WHERE {HubLock} AND granted") is int pid ? pid : null;

    private async Task<object?> ScalarAsync(string sql)
    {
        await using DbConnection connection = await Store.OpenConnectionAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return await command.ExecuteScalarAsync();
    }

    private static async Task<int> WaitForAsync(Func<Task<int?>> probe)
    {
        for (var waited = 0; waited < 30_000; waited += 100)
        {
            if (await probe() is { } found)
            {
                return found;
            }
            await Task.Delay(100);
        }
        throw new TimeoutException("the lease did not take its lock again within 30 s");
    }
}
