using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenDcc.Core;
using OpenDcc.Core.Alerts;
using OpenDcc.Core.Catalogue;
using OpenDcc.Core.Duis;

namespace OpenDcc.Hub.Wan;

/// <summary>
/// Answers the device commands a hub that did not stop cleanly (a crash, a power cut, a kill) had acknowledged and
/// never answered: its device queues were in memory and are gone, so each gets E21 (no response from the device: it
/// may or may not have reached it), or for 11.1 the DCC alert naming the device, as a stopping hub answers its queued
/// commands; a store away meanwhile is waited for (<see cref="StoreAway.UntilStoredAsync(ILogger, string, Func{Task}, CancellationToken, Func{bool}?)"/>). <paramref name="leftUnanswered"/> is read before the hub serves (<see cref="HubHost"/>), so no command
/// this hub acknowledges is among them.
/// </summary>
internal sealed class UnansweredCommandRecovery(
    IReadOnlyList<UnansweredCommand> leftUnanswered,
    IDeviceResponseSink responses,
    IFirmwareDistributionSink firmwareDistribution,
    ILogger<UnansweredCommandRecovery> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (leftUnanswered.Count == 0)
        {
            return;
        }
        logger.LogWarning("Device commands acknowledged before the hub last stopped and never answered (it did not stop cleanly, or its store was away when it stopped): {Count}; answering each with {Code}", leftUnanswered.Count, ResponseCode.NoResponseFromDevice.Code);
        foreach (var command in leftUnanswered)
        {
            if (stoppingToken.IsCancellationRequested)
            {
                // The rest stay recorded for the next start.
                return;
            }
            try
            {
                // Tried until the store takes it, as a device's answer is: a store away as the hub starts would otherwise
                // leave it unanswered until the next start, which may be months away.
                await StoreAway.UntilStoredAsync(logger, $"E21 for {command.Request.RequestId} to {command.Request.Device}", () =>
                    UndeliveredCommands.ReportAsync(responses, firmwareDistribution, command.Request, command.User, DeviceAnswerRoute.User, ResponseCode.NoResponseFromDevice.Code,
                        $"acknowledged at {command.AcknowledgedAt} by a hub that stopped without answering it (its device queue was lost): whether it reached the device is not known"), stoppingToken);
            }
            catch (Exception e) when (StoreAway.Is(e) && stoppingToken.IsCancellationRequested)
            {
                // The hub stopped while the store was away: this one and the rest stay recorded for the next start.
                return;
            }
#pragma warning disable CA1031 // One command's failure must not keep the others unanswered; it stays recorded for the next start.
            catch (Exception e)
#pragma warning restore CA1031
            {
                logger.LogError(e, "{RequestId} to {Device}: could not be answered; it stays recorded for the next start", command.Request.RequestId, command.Request.Device);
            }
        }
    }
}
