using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using NodaTime;
using OpenDcc.Core;
using OpenDcc.Core.Security;

namespace OpenDcc.Hub;

/// <summary>
/// Signs the message log's head with the DSP XmlSign key (<see cref="MessageLogCheckpoint"/>) every interval in which it
/// moved, and once more as the hub stops, so that entries rewritten in the store behind the hub's back, their chain
/// recomputed, no longer match a checkpoint (<c>opendcc log verify</c>). Each checkpoint names the one before it (the
/// last this hub made; at its first, the newest the store holds or the keys directory records), so that log verify finds
/// one deleted meanwhile. Each is recorded in the keys directory once kept (<see cref="FileKeyStore.RecordCheckpoint"/>),
/// so that log verify finds the newest deleted too. A store away is logged and the head signed at the next tick.
/// </summary>
internal sealed partial class MessageLogCheckpointService(
    IMessageLog log, IMessageLogCheckpoints checkpoints, FileKeyStore keys, IClock clock, Duration interval, ILogger<MessageLogCheckpointService> logger) : BackgroundService
{
    private readonly XmlSignatureKey key = XmlSignatureKey.ForSigning(keys.LoadDspIdentity());

    /// <summary>
    /// The sequence last signed by this hub, which its next checkpoint names; null until the first, which names the one
    /// the hub before it made (<see cref="FirstToFollowAsync"/>; 0: none). A hub started again does not sign that one's head again.
    /// </summary>
    private long? signed;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(interval.ToTimeSpan());
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await CheckpointAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        // The loop has ended: the last entries the hub logged are signed before it goes.
        await CheckpointAsync(cancellationToken);
    }

    private async Task CheckpointAsync(CancellationToken cancellationToken)
    {
        try
        {
            signed ??= await FirstToFollowAsync(cancellationToken);
            if (await log.ReadHeadAsync(cancellationToken) is not { } head || head.Sequence == signed)
            {
                return;
            }
            var checkpoint = MessageLogCheckpoint.Sign(head.Sequence, head.Hash, clock.GetCurrentInstant(), signed.Value, key);
            await checkpoints.AddCheckpointAsync(checkpoint, cancellationToken);
            signed = head.Sequence;
            Record(checkpoint);
        }
        catch (Exception e) when (StoreAway.Is(e))
        {
            LogStoreAway(e.Message);
        }
    }

    /// <summary>
    /// The checkpoint a hub's first follows: the newer of the store's newest and the one the keys directory records (the
    /// last the hub before made). One recorded that the store does not hold was deleted from the end of the log (or the
    /// store restored from an older backup): that is logged, and followed, so that log verify, which finds it missing
    /// from the store, goes on finding it once the record moves on. Not refused: whoever can delete rows would stop the hub.
    /// </summary>
    private async Task<long> FirstToFollowAsync(CancellationToken cancellationToken)
    {
        var newest = await checkpoints.ReadNewestCheckpointAsync(cancellationToken);
        RecordedCheckpoint? recorded;
        try
        {
            recorded = keys.ReadRecordedCheckpoint();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or UnreadableKeyFileException)
        {
            // log verify refuses it, naming it; the hub signs on, and its next record replaces it.
            LogRecordUnreadable(keys.CheckpointRecordPath, e.Message);
            recorded = null;
        }
        if (recorded is null)
        {
            return newest?.Sequence ?? 0;
        }
        var held = await checkpoints.ReadCheckpointsAsync(recorded.Sequence, recorded.Sequence, cancellationToken).FirstOrDefaultAsync(cancellationToken);
        if (held is null || !held.Hash.AsSpan().SequenceEqual(recorded.Hash))
        {
            LogRecordedCheckpointMissing(keys.CheckpointRecordPath, recorded.Sequence, recorded.At, newest is null ? "the store holds none" : $"the store's newest is at entry {newest.Sequence}");
        }
        return Math.Max(newest?.Sequence ?? 0, recorded.Sequence);
    }

    /// <summary>Records the checkpoint just made in the keys directory; one not recorded is logged, and the hub signs on.</summary>
    private void Record(MessageLogCheckpoint checkpoint)
    {
        try
        {
            keys.RecordCheckpoint(checkpoint);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            LogNotRecorded(checkpoint.Sequence, keys.CheckpointRecordPath, e.Message);
        }
    }

    public override void Dispose()
    {
        key.Dispose();
        key.Certificate.Dispose();
        base.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The keys directory records a message log checkpoint at entry {Sequence}, signed {At} ({Path}), which the store does not hold ({Newest}): checkpoints deleted from the end of the log, or the store restored from an older backup; the hub's checkpoints follow it, so 'opendcc log verify' fails on this store")]
    private partial void LogRecordedCheckpointMissing(string path, long sequence, Instant at, string newest);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The newest message log checkpoint recorded in {Path} was not read ({Reason}): the hub follows the store's newest")]
    private partial void LogRecordUnreadable(string path, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The message log checkpoint at entry {Sequence} was not recorded in {Path} ({Reason}); recorded at the next")]
    private partial void LogNotRecorded(long sequence, string path, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The message log's head was not signed, the store being away ({Reason}); tried again at the next checkpoint")]
    private partial void LogStoreAway(string reason);
}
