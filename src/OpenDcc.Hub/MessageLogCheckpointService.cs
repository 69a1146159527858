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
/// last this hub made; at its first, the newest the store holds), so that log verify finds one deleted meanwhile. A
/// store away is logged and the head signed at the next tick.
/// </summary>
internal sealed partial class MessageLogCheckpointService(
    IMessageLog log, IMessageLogCheckpoints checkpoints, FileKeyStore keys, IClock clock, Duration interval, ILogger<MessageLogCheckpointService> logger) : BackgroundService
{
    private readonly XmlSignatureKey key = XmlSignatureKey.ForSigning(keys.LoadDspIdentity());

    /// <summary>
    /// The sequence last signed by this hub, which its next checkpoint names; null until the first, which names the newest
    /// checkpoint the store holds (0: none), made by the hub before it. A hub started again does not sign that one's head again.
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
            signed ??= (await checkpoints.ReadNewestCheckpointAsync(cancellationToken))?.Sequence ?? 0;
            if (await log.ReadHeadAsync(cancellationToken) is not { } head || head.Sequence == signed)
            {
                return;
            }
            await checkpoints.AddCheckpointAsync(MessageLogCheckpoint.Sign(head.Sequence, head.Hash, clock.GetCurrentInstant(), signed.Value, key), cancellationToken);
            signed = head.Sequence;
        }
        catch (Exception e) when (StoreAway.Is(e))
        {
            LogStoreAway(e.Message);
        }
    }

    public override void Dispose()
    {
        key.Dispose();
        key.Certificate.Dispose();
        base.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The message log's head was not signed, the store being away ({Reason}); tried again at the next checkpoint")]
    private partial void LogStoreAway(string reason);
}
