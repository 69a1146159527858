using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using NodaTime;
using NodaTime.Testing;
using OpenDcc.Core.Security;

namespace OpenDcc.Hub.Tests;

public sealed class MessageLogCheckpointTests
{
    private static async Task<MessageLogEntry> LogAsync(TestHub hub, string correlation) =>
        (await hub.Store.MessageLog.AppendAsync([new MessageLogRecord(SystemClock.Instance.GetCurrentInstant(), MessageDirection.Inbound, null, correlation, "I99", new byte[] { 1 })]))[0];

    private static void AssertSignedByTheDsp(TestHub hub, MessageLogCheckpoint checkpoint, MessageLogEntry entry)
    {
        Assert.Equal(entry.Hash, checkpoint.Hash);
        var keys = new FileKeyStore(Path.Combine(hub.DataDirectory, "keys"));
        using var dsp = keys.LoadDspCertificate();
        Assert.Null(checkpoint.WhyNotTrusted(dsp, []));
    }

    [Fact]
    public async Task The_hub_signs_the_message_log_head_each_interval_it_moved_at_the_time_of_its_clock()
    {
        var clock = new FakeClock(Instant.FromUtc(2026, 12, 1, 9, 0));
        await using var hub = await TestHub.StartAsync(clock: clock, messageLogCheckpointInterval: Duration.FromMilliseconds(100));

        var checkpoints = new List<MessageLogCheckpoint>();
        foreach (var name in new[] { "first", "second" })
        {
            var entry = await LogAsync(hub, name);
            MessageLogCheckpoint? signed = null;
            for (var waited = 0; signed is null; waited += 50)
            {
                Assert.True(waited < 10_000, $"entry {entry.Sequence} was not signed within 10 s");
                await Task.Delay(50);
                signed = await hub.Store.MessageLogCheckpoints.ReadCheckpointsAsync(entry.Sequence, entry.Sequence).FirstOrDefaultAsync();
            }
            AssertSignedByTheDsp(hub, signed, entry);
            Assert.Equal(clock.GetCurrentInstant(), signed.At);
            checkpoints.Add(signed);
        }
        // Each names the one before it; the first, in a store that had none, none.
        Assert.Equal([0, checkpoints[0].Sequence], checkpoints.Select(c => c.Previous));
    }

    [Fact]
    public async Task A_checkpoint_the_store_is_away_for_is_made_at_the_next_tick_and_the_hub_serves_on()
    {
        AwayOnce? away = null;
        await using var hub = await TestHub.StartAsync(
            messageLogCheckpointInterval: Duration.FromMilliseconds(100),
            configureServices: services => TestHub.Decorate<IMessageLogCheckpoints>(services, inner => away = new AwayOnce(inner)));
        var entry = await LogAsync(hub, "signed at the second try");

        MessageLogCheckpoint? signed = null;
        for (var waited = 0; signed is null; waited += 50)
        {
            Assert.True(waited < 10_000, $"entry {entry.Sequence} was not signed within 10 s");
            await Task.Delay(50);
            signed = await hub.Store.MessageLogCheckpoints.ReadCheckpointsAsync(entry.Sequence, entry.Sequence).FirstOrDefaultAsync();
        }

        Assert.True(away!.TriedAgain);
        AssertSignedByTheDsp(hub, signed, entry);
        Assert.Equal(entry.Sequence + 1, (await LogAsync(hub, "after")).Sequence);
    }

    [Fact]
    public async Task The_hub_signs_the_message_log_head_as_it_stops()
    {
        // The default interval, a minute: no tick comes before the hub stops.
        await using var hub = await TestHub.StartAsync();
        var entry = await LogAsync(hub, "last before stopping");

        await hub.RestartAsync();

        var newest = await hub.Store.MessageLogCheckpoints.ReadCheckpointsAsync().LastAsync();
        Assert.Equal(entry.Sequence, newest.Sequence);
        AssertSignedByTheDsp(hub, newest, entry);
    }

    [Fact]
    public async Task A_hub_started_again_follows_the_newest_checkpoint_the_store_holds()
    {
        // The default interval, a minute: each checkpoint is made as the hub stops. What each hub logs is kept, across restarts.
        var logs = new FakeLogCollector();
        await using var hub = await TestHub.StartAsync(configureServices: services => services.AddSingleton<ILoggerProvider>(_ => new FakeLoggerProvider(logs)));
        var first = await LogAsync(hub, "before the first stop");
        await hub.RestartAsync();
        var second = await LogAsync(hub, "before the second stop");

        // This hub made no checkpoint before its last: that follows the one the hub before it made.
        await hub.RestartAsync();
        await hub.RestartAsync();

        var kept = await hub.Store.MessageLogCheckpoints.ReadCheckpointsAsync().ToListAsync();
        Assert.Equal([(first.Sequence, 0), (second.Sequence, first.Sequence)], kept.Select(c => (c.Sequence, c.Previous)));
        AssertSignedByTheDsp(hub, kept[^1], second);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task The_hub_records_each_checkpoint_it_makes_in_its_keys_directory_whatever_its_store(bool postgres)
    {
        var clock = new FakeClock(Instant.FromUtc(2026, 12, 1, 9, 0));
        await using var hub = await TestHub.StartAsync(clock: clock, postgres: postgres, messageLogCheckpointInterval: Duration.FromMilliseconds(100));
        var keys = new FileKeyStore(Path.Combine(hub.DataDirectory, "keys"));
        Assert.Null(keys.ReadRecordedCheckpoint());

        foreach (var name in new[] { "first", "second" })
        {
            var entry = await LogAsync(hub, name);
            clock.Advance(Duration.FromMinutes(1));
            RecordedCheckpoint? recorded = null;
            for (var waited = 0; recorded?.Sequence != entry.Sequence; waited += 50)
            {
                Assert.True(waited < 10_000, $"entry {entry.Sequence}'s checkpoint was not recorded within 10 s");
                await Task.Delay(50);
                recorded = keys.ReadRecordedCheckpoint();
            }
            var signed = await hub.Store.MessageLogCheckpoints.ReadCheckpointsAsync(entry.Sequence, entry.Sequence).SingleAsync();
            Assert.Equal((signed.Sequence, signed.At), (recorded.Sequence, recorded.At));
            Assert.Equal(entry.Hash, signed.Hash);
            Assert.Equal(entry.Hash, recorded.Hash);
        }
    }

    [Fact]
    public async Task A_hub_started_after_the_newest_checkpoints_were_deleted_follows_the_one_its_keys_directory_records()
    {
        // The default interval, a minute: each checkpoint is made as the hub stops. What each hub logs is kept, across restarts.
        var logs = new FakeLogCollector();
        await using var hub = await TestHub.StartAsync(configureServices: services => services.AddSingleton<ILoggerProvider>(_ => new FakeLoggerProvider(logs)));
        var first = await LogAsync(hub, "before the first stop");
        await hub.RestartAsync();
        var second = await LogAsync(hub, "before the second stop");
        await hub.RestartAsync();

        // The newest deleted with write access to the database alone.
        await using (var raw = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(hub.DataDirectory, OpenDcc.Storage.OpenDccStore.SqliteFileName)}"))
        {
            await raw.OpenAsync();
            await using var delete = raw.CreateCommand();
            delete.CommandText = $"DELETE FROM message_log_checkpoint WHERE sequence = {second.Sequence}";
            Assert.Equal(1, await delete.ExecuteNonQueryAsync());
        }
        Assert.DoesNotContain(logs.GetSnapshot(), r => r.Level >= LogLevel.Warning && r.Category == typeof(MessageLogCheckpointService).FullName);
        var third = await LogAsync(hub, "after the deletion");
        await hub.RestartAsync();

        // The hub that found the recorded checkpoint missing from the store said so, naming it and the keys directory's record.
        var warning = Assert.Single(logs.GetSnapshot(), r => r.Level == LogLevel.Warning && r.Category == typeof(MessageLogCheckpointService).FullName);
        Assert.Contains($"records a message log checkpoint at entry {second.Sequence}", warning.Message, StringComparison.Ordinal);
        Assert.Contains(new FileKeyStore(Path.Combine(hub.DataDirectory, "keys")).CheckpointRecordPath, warning.Message, StringComparison.Ordinal);
        Assert.Contains($"which the store does not hold (the store's newest is at entry {first.Sequence})", warning.Message, StringComparison.Ordinal);

        // It follows the one recorded, not the newest left: log verify goes on finding it missing once the record moves on.
        var kept = await hub.Store.MessageLogCheckpoints.ReadCheckpointsAsync().ToListAsync();
        Assert.Equal([(first.Sequence, 0), (third.Sequence, second.Sequence)], kept.Select(c => (c.Sequence, c.Previous)));
        Assert.Equal(third.Sequence, new FileKeyStore(Path.Combine(hub.DataDirectory, "keys")).ReadRecordedCheckpoint()?.Sequence);
    }

    /// <summary>The store's checkpoints, away (a timeout) for the first one added and there for the rest.</summary>
    private sealed class AwayOnce(IMessageLogCheckpoints inner) : IMessageLogCheckpoints
    {
        private int adds;

        public bool TriedAgain => Volatile.Read(ref adds) > 1;

        public Task AddCheckpointAsync(MessageLogCheckpoint checkpoint, CancellationToken cancellationToken = default) =>
            Interlocked.Increment(ref adds) == 1 ? throw new TimeoutException("the store is away") : inner.AddCheckpointAsync(checkpoint, cancellationToken);

        public IAsyncEnumerable<MessageLogCheckpoint> ReadCheckpointsAsync(long fromSequence = 1, long toSequence = long.MaxValue, CancellationToken cancellationToken = default) =>
            inner.ReadCheckpointsAsync(fromSequence, toSequence, cancellationToken);

        public Task<MessageLogCheckpoint?> ReadNewestCheckpointAsync(CancellationToken cancellationToken = default) => inner.ReadNewestCheckpointAsync(cancellationToken);
    }
}
