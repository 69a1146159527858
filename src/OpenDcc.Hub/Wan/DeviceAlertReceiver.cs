using Microsoft.Extensions.Logging;
using NodaTime;
using OpenDcc.Core;
using OpenDcc.Core.Alerts;
using OpenDcc.Core.Duis;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Inventory;
using OpenDcc.Core.Parties;
using OpenDcc.Core.Registration;
using OpenDcc.Core.Security;
using OpenDcc.Core.Translation;

namespace OpenDcc.Hub.Wan;

/// <summary>
/// Device alerts from the WAN to users: read by the device model's adapter, routed by the meter point's
/// registration (the supplier; for the supply restored first the network operator), each copy signed by the DSP and
/// handed to delivery as device responses are (<see cref="DeviceResponseSender.DeliverAsync"/>). An alert that cannot
/// be read or routed is logged, as is one whose counter is not above the last taken from the device, kept in the store
/// (<see cref="IAlertCounterStore"/>): a frame captured on the SM WAN and sent again, even after a restart. Alerts are throttled per device and alert code (<see cref="AlertThrottle"/>): one over
/// the limit is logged as throttled and counted, and the next one delivered reports the count. A comms hub's loss of power, which the WAN provider reports, becomes a DCC Alert
/// (<see cref="DccAlertSender.PowerLostAsync"/>). While the store is away, an alert waits and is handed on once it is back
/// (<see cref="StoreAway.UntilStoredAsync(Microsoft.Extensions.Logging.ILogger, string, Func{Task}, CancellationToken, Func{bool}?)"/>): its counter is taken, so the device sending it again would be refused as a replay.
/// </summary>
internal sealed class DeviceAlertReceiver(
    IInventoryStore inventory,
    TranslationAdapters adapters,
    IRegistrationDataSource registrations,
    DuisMessageSecurity security,
    DeviceResponseSender sender,
    DccAlertSender dccAlerts,
    MessageLogWriter log,
    AlertCounter counter,
    IAlertCounterStore alertCounters,
    AlertThrottle throttle,
    IClock clock,
    ILogger<DeviceAlertReceiver> logger) : IDeviceAlertSink
{
    public Task PowerLostAsync(Eui64 commsHub, Instant since, CancellationToken cancellationToken = default) =>
        dccAlerts.PowerLostAsync(commsHub, since, cancellationToken);

    public async Task ReceiveAsync(Eui64 device, byte[] message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        var now = clock.GetCurrentInstant();
        var known = await StoreAway.UntilStoredAsync(logger, $"an alert from {device}", () => inventory.FindDeviceAsync(device, cancellationToken), cancellationToken);
        var read = known is null ? new DeviceMessage.Unreadable("the device is not in the inventory") : AdapterFault.Read(adapters.For(known), a => a.FromDevice(message, device));
        var refused = read switch
        {
            DeviceMessage.Alert => null,
            DeviceMessage.Unreadable unreadable => unreadable.Reason,
            _ => "not an alert",
        };
        if (read is DeviceMessage.Alert { Counter: { } taken } && !await StoreAway.UntilStoredAsync(logger, $"an alert from {device}", () => alertCounters.TryTakeAsync(device, taken, cancellationToken), cancellationToken))
        {
            refused = $"replayed frame: counter {taken} from {device} is not above the last alert taken from it";
        }
        if (refused is not null || read is not DeviceMessage.Alert alert)
        {
            await LogAsync(now, null, $"{device}", $"AlertRefused: {refused}", message, cancellationToken);
            logger.LogWarning("alert from {Device} refused: {Reason}", device, refused);
            return;
        }
        var code = alert.DeviceAlert.AlertCode.ToString("X4", System.Globalization.CultureInfo.InvariantCulture);
        ThrottledAlerts? throttled;
        switch (throttle.Decide(device, code))
        {
            case AlertThrottleDecision.Deliver deliver:
                throttled = deliver.Throttled;
                break;
            case AlertThrottleDecision.Suppress { Throttled: var run }:
                await LogAsync(now, null, $"{device}", $"AlertThrottled: {code} ({alert.DeviceAlert.Kind}), {run.Count} not delivered in throttled sequence {run.SequenceId}", message, cancellationToken);
                return;
            default:
                throw new InvalidOperationException("an alert throttle decision that is neither deliver nor suppress");
        }
        if (await StoreAway.UntilStoredAsync(logger, $"an alert from {device}", () => registrations.FindByDeviceAsync(device, cancellationToken), cancellationToken) is not { } registration)
        {
            await LogAsync(now, null, $"{device}", $"AlertUnroutable: no registration for {device}", message, cancellationToken);
            return;
        }
        foreach (var recipient in AlertRouting.Recipients(alert.DeviceAlert, registration))
        {
            var duis = new DuisDeviceAlert(device, recipient, counter.Next(now), alert.DeviceAlert.AlertCode, alert.DuisPayload, now) { Throttled = throttled };
            var signed = security.Sign(duis);
            // Each copy on its own: one the store took is not queued again when the next finds it away.
            await StoreAway.UntilStoredAsync(logger, $"alert {duis.ResponseId} ({alert.DeviceAlert.Kind}) from {device} to {recipient}",
                () => sender.DeliverAsync(signed, recipient, duis.ResponseId.ToString(), $"{alert.DeviceAlert.Kind} alert", cancellationToken: cancellationToken), cancellationToken);
        }
    }

    private Task LogAsync(Instant at, Eui64? user, string correlation, string outcome, byte[] payload, CancellationToken cancellationToken) =>
        StoreAway.UntilStoredAsync(logger, $"the log of an alert from {correlation}",
            () => log.AppendAsync([new MessageLogRecord(at, MessageDirection.Inbound, user, correlation, outcome, payload)], cancellationToken), cancellationToken);
}
