using NodaTime;
using OpenDcc.Core.Security;

namespace OpenDcc.Storage.Tests;

/// <summary>The message log's checkpoints as kept, on every engine.</summary>
public abstract class MessageLogCheckpointStoreTests(IStoreEngine engine) : StoreTests(engine)
{
    private static readonly Instant Signed = Instant.FromUtc(2026, 12, 1, 9, 30).PlusTicks(1234567);

    private static MessageLogCheckpoint Checkpoint(long sequence, byte mark, long? previous = null) =>
        new(sequence, Enumerable.Repeat(mark, 32).ToArray(), Signed + Duration.FromMinutes(sequence), [mark, 1, 2, 255], [0x30, mark], previous);

    [Fact]
    public async Task Checkpoints_are_read_back_with_every_field_in_sequence_order_and_by_range()
    {
        foreach (var checkpoint in new[] { Checkpoint(7, 7), Checkpoint(2, 2), Checkpoint(40, 40) })
        {
            await Store.MessageLogCheckpoints.AddCheckpointAsync(checkpoint);
        }

        var all = await Store.MessageLogCheckpoints.ReadCheckpointsAsync().ToListAsync();
        Assert.Equal([2L, 7, 40], all.Select(c => c.Sequence));
        var seventh = all[1];
        Assert.Equal(Enumerable.Repeat((byte)7, 32), seventh.Hash);
        Assert.Equal(Signed + Duration.FromMinutes(7), seventh.At);
        Assert.Equal(new byte[] { 7, 1, 2, 255 }, seventh.Signature);
        Assert.Equal(new byte[] { 0x30, 7 }, seventh.Signer);
        Assert.Equal([7L, 40], (await Store.MessageLogCheckpoints.ReadCheckpointsAsync(3, 40).ToListAsync()).Select(c => c.Sequence));
        Assert.Equal([2L], (await Store.MessageLogCheckpoints.ReadCheckpointsAsync(1, 6).ToListAsync()).Select(c => c.Sequence));
    }

    [Fact]
    public async Task The_checkpoint_each_follows_is_read_back_none_named_as_none_and_the_newest_is_the_highest_sequence()
    {
        Assert.Null(await Store.MessageLogCheckpoints.ReadNewestCheckpointAsync());
        // One signed before checkpoints named the one before (v1), as migration 0034's store wrote it ...
        await using (var connection = await Store.OpenConnectionAsync(CancellationToken.None))
        await using (var keep = connection.CreateCommand())
        {
            keep.CommandText = $"INSERT INTO message_log_checkpoint (sequence, hash, at, signature, signer) VALUES (3, @hash, {Signed.ToUnixTimeTicks()}, @hash, @hash)";
            var hash = keep.CreateParameter();
            (hash.ParameterName, hash.Value) = ("@hash", Enumerable.Repeat((byte)3, 32).ToArray());
            keep.Parameters.Add(hash);
            await keep.ExecuteNonQueryAsync();
        }
        // ... then one following it, and a log's first (0).
        await Store.MessageLogCheckpoints.AddCheckpointAsync(Checkpoint(9, 9, previous: 3));
        await Store.MessageLogCheckpoints.AddCheckpointAsync(Checkpoint(1, 1, previous: 0));

        Assert.Equal([(1L, 0L), (3, null), (9, 3)], (await Store.MessageLogCheckpoints.ReadCheckpointsAsync().ToListAsync()).Select(c => (c.Sequence, c.Previous)));
        var newest = await Store.MessageLogCheckpoints.ReadNewestCheckpointAsync();
        Assert.Equal((9L, 3L, Signed + Duration.FromMinutes(9)), (newest!.Sequence, newest.Previous, newest.At));
        Assert.Equal(Enumerable.Repeat((byte)9, 32), newest.Hash);
        Assert.Equal(new byte[] { 9, 1, 2, 255 }, newest.Signature);
        Assert.Equal(new byte[] { 0x30, 9 }, newest.Signer);
        await ReopenAsync();
        Assert.Equal(9, (await Store.MessageLogCheckpoints.ReadNewestCheckpointAsync())!.Sequence);
    }

    [Fact]
    public async Task A_second_checkpoint_of_a_sequence_is_not_kept_and_the_first_stays()
    {
        await Store.MessageLogCheckpoints.AddCheckpointAsync(Checkpoint(5, 1));
        await Store.MessageLogCheckpoints.AddCheckpointAsync(Checkpoint(5, 2));

        var kept = Assert.Single(await Store.MessageLogCheckpoints.ReadCheckpointsAsync().ToListAsync());
        Assert.Equal(Enumerable.Repeat((byte)1, 32), kept.Hash);
    }

    [Fact]
    public async Task Checkpoints_are_kept_across_a_restart_and_when_their_entries_are_archived()
    {
        var entries = await Store.MessageLog.AppendAsync([.. Enumerable.Range(1, 3).Select(i => new MessageLogRecord(Signed, MessageDirection.Inbound, null, $"r{i}", "I99", new byte[] { (byte)i }))]);
        await Store.MessageLogCheckpoints.AddCheckpointAsync(Checkpoint(2, 2) with { Hash = entries[1].Hash });
        await Store.MessageLog.RemoveThroughAsync(2);
        await ReopenAsync();

        var kept = Assert.Single(await Store.MessageLogCheckpoints.ReadCheckpointsAsync().ToListAsync());
        Assert.Equal(entries[1].Hash, kept.Hash);
    }
}

public sealed class SqliteMessageLogCheckpointStoreTests() : MessageLogCheckpointStoreTests(new SqliteEngine());

public sealed class PostgresMessageLogCheckpointStoreTests() : MessageLogCheckpointStoreTests(new PostgresEngine());
