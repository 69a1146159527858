using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenDcc.Core;
using OpenDcc.Core.Alerts;
using OpenDcc.Core.Wan;

namespace OpenDcc.Hub.Wan;

/// <summary>
/// Hands on the device alerts a hub took (their counters spent) and had not handed on to their users when it stopped
/// (a crash, a kill, a fault on the way), and raises the DCC alerts of the comms hubs' losses of power it had been told
/// of, and of the meters' commissionings it had stored, and not raised: each is read again and routed as it would have been (<see cref="DeviceAlertReceiver.ResumeAsync"/>); a store away meanwhile is waited for. <paramref name="leftPending"/>
/// is read before the hub serves (<see cref="HubHost"/>), so no alert this hub takes is among them. One handed on before
/// the stop and not yet marked so goes again: alerts reach their users at least once. Over loopback they wait until the
/// hub has connected to the SM WAN, which tells it the devices' keys: read before that, a frame would be refused for
/// want of its device's key.
/// </summary>
internal sealed class PendingAlertRecovery(
    IReadOnlyList<PendingAlert> leftPending,
    DeviceAlertReceiver receiver,
    IWanTransport wan,
    ILogger<PendingAlertRecovery> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (leftPending.Count == 0)
        {
            return;
        }
        logger.LogWarning("Alerts taken before the hub last stopped and not handed on (it did not stop cleanly, or a fault stopped them on the way): {Count}; handing each on now", leftPending.Count);
        while (wan is LoopbackWan { IsConnected: false })
        {
            await Task.Delay(TimeSpan.FromMilliseconds(250), stoppingToken);
        }
        foreach (var alert in leftPending)
        {
            if (stoppingToken.IsCancellationRequested)
            {
                // The rest stay pending for the next start.
                return;
            }
            try
            {
                await receiver.ResumeAsync(alert, stoppingToken);
            }
            catch (Exception e) when (StoreAway.Is(e) && stoppingToken.IsCancellationRequested)
            {
                // The hub stopped while the store was away: this one and the rest stay pending for the next start.
                return;
            }
#pragma warning disable CA1031 // One alert's failure must not keep the others from their users; it stays pending for the next start.
            catch (Exception e)
#pragma warning restore CA1031
            {
                logger.LogError(e, "alert {Take} from {Device} ({Source}, counter {Counter}): could not be handed on; it stays pending for the next start", alert.Take, alert.Device, alert.Source, alert.Counter);
            }
        }
    }
}
