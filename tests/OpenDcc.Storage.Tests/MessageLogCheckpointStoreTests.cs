using NodaTime;
using OpenDcc.Core.Security;

namespace OpenDcc.Storage.Tests;

/// <summary>The message log's checkpoints as kept, on every engine.</summary>
public abstract class MessageLogCheckpointStoreTests(IStoreEngine engine) : StoreTests(engine)
{
    private static readonly Instant Signed = Instant.FromUtc(2026, 12, 1, 9, 30).PlusTicks(1234567);

    private static MessageLogCheckpoint Checkpoint(long sequence, byte mark) =>
        new(sequence, Enumerable.Repeat(mark, 32).ToArray(), Signed + Duration.FromMinutes(sequence), [mark, 1, 2, 255], [0x30, mark]);

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
