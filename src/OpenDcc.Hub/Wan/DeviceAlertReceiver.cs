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
/// (<see cref="DccAlertSender.PowerLostAsync"/>), kept as pending until it is raised as device alerts are. While the store is away, an alert waits and is handed on once it is back
/// (<see cref="StoreAway.UntilStoredAsync(Microsoft.Extensions.Logging.ILogger, string, Func{Task}, CancellationToken, Func{bool}?)"/>): its counter is taken, so the device sending it again would be refused as a replay.
/// An alert is taken with its frame kept as pending, in one transaction, and is no longer pending once handed on: one a
/// hub took and did not hand on before it stopped (a crash, a kill, a fault on the way) is handed on when a hub next
/// starts (<see cref="PendingAlertRecovery"/>, <see cref="ResumeAsync"/>), so at least once.
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
    public async Task PowerLostAsync(Eui64 commsHub, Instant since, CancellationToken cancellationToken = default)
    {
        // Kept as pending before anything else, as a device's alert is: the WAN provider does not report the loss again,
        // so a hub stopping before each copy of the DCC alert is queued or logged would lose it; the next start raises it.
        var pending = PendingAlert.PowerLost(commsHub, since, Guid.NewGuid(), clock.GetCurrentInstant());
        await StoreAway.UntilStoredAsync(logger, $"the power outage at {commsHub}", () => alertCounters.TryTakeAsync(pending, cancellationToken), cancellationToken);
        await dccAlerts.PowerLostAsync(commsHub, since, pending.ReceivedAt, cancellationToken);
        await StoreAway.UntilStoredAsync(logger, $"the power outage at {commsHub}", () => alertCounters.CompleteAsync(pending.Take, cancellationToken), cancellationToken);
    }

    public async Task ReceiveAsync(Eui64 device, byte[] message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        var now = clock.GetCurrentInstant();
        var read = await ReadAsync(device, message, cancellationToken);
        if (read is not DeviceMessage.Alert alert)
        {
            await RefuseAsync(now, device, read is DeviceMessage.Unreadable unreadable ? unreadable.Reason : "not an alert", message, cancellationToken);
            return;
        }
        // Taken (its counter raised, if its format has one: an early-smart line has none, and its adapter keeps the guard
        // against replays) with the frame kept as pending, in one transaction: should the hub stop before every copy is
        // handed on, the next start hands it on (PendingAlertRecovery) rather than it being lost.
        var pending = new PendingAlert(device, alert.Counter, Guid.NewGuid(), now, message);
        if (!await StoreAway.UntilStoredAsync(logger, $"an alert from {device}", () => alertCounters.TryTakeAsync(pending, cancellationToken), cancellationToken))
        {
            await RefuseAsync(now, device, $"replayed frame: counter {alert.Counter} from {device} is not above the last alert taken from it", message, cancellationToken);
            return;
        }
        // A fault handing it on leaves it pending, for the next start.
        await HandOnAsync(device, alert, message, now, cancellationToken);
        await StoreAway.UntilStoredAsync(logger, $"an alert from {device}", () => alertCounters.CompleteAsync(pending.Take, cancellationToken), cancellationToken);
    }

    /// <summary>
    /// Hands on an alert a hub took (its counter, if any, spent) and did not hand on before it stopped, its frame read again by its
    /// device's adapter; then it is no longer pending. One the adapter no longer reads (the device gone from the
    /// inventory since) is logged as refused. A comms hub's loss of power is raised as its DCC alert, as it would have
    /// been when the WAN provider reported it; a meter's commissioning likewise, as when the meter confirmed it
    /// (<see cref="DeviceConfirmations"/>).
    /// </summary>
    public async Task ResumeAsync(PendingAlert pending, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(pending);
        if (pending.Source is PendingAlertSource.PowerLost)
        {
            await dccAlerts.PowerLostAsync(pending.Device, pending.PowerLostSince(), pending.ReceivedAt, cancellationToken);
        }
        else if (pending.Source is PendingAlertSource.MeterCommissioned)
        {
            await dccAlerts.MeterCommissionedAsync(pending.Device, pending.CommissionedFrom(), pending.ReceivedAt, cancellationToken);
        }
        else if (await ReadAsync(pending.Device, pending.Frame, cancellationToken) is DeviceMessage.Alert alert)
        {
            await HandOnAsync(pending.Device, alert, pending.Frame, pending.ReceivedAt, cancellationToken);
        }
        else
        {
            await RefuseAsync(pending.ReceivedAt, pending.Device, $"taken before the hub last stopped, and no longer read as an alert from {pending.Device}", pending.Frame, cancellationToken);
        }
        await StoreAway.UntilStoredAsync(logger, $"an alert from {pending.Device}", () => alertCounters.CompleteAsync(pending.Take, cancellationToken), cancellationToken);
    }

    private async Task<DeviceMessage> ReadAsync(Eui64 device, byte[] message, CancellationToken cancellationToken)
    {
        var known = await StoreAway.UntilStoredAsync(logger, $"an alert from {device}", () => inventory.FindDeviceAsync(device, cancellationToken), cancellationToken);
        return known is null ? new DeviceMessage.Unreadable("the device is not in the inventory") : AdapterFault.Read(adapters.For(known), a => a.FromDevice(message, device));
    }

    private async Task RefuseAsync(Instant at, Eui64 device, string reason, byte[] message, CancellationToken cancellationToken)
    {
        await LogAsync(at, null, $"{device}", $"AlertRefused: {reason}", message, cancellationToken);
        logger.LogWarning("alert from {Device} refused: {Reason}", device, reason);
    }

    /// <summary>An alert read and taken: throttled, or routed by the meter point's registration and a signed copy handed to delivery for each of its users.</summary>
    private async Task HandOnAsync(Eui64 device, DeviceMessage.Alert alert, byte[] message, Instant now, CancellationToken cancellationToken)
    {
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
