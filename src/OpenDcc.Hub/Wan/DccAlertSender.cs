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

namespace OpenDcc.Hub.Wan;

/// <summary>
/// DCC Alerts, each signed by the DSP and handed to delivery as device alerts are
/// (<see cref="DeviceResponseSender.DeliverAsync"/>), to parties the registration data names (the party responsible
/// for the meter point, whoever sent a request):
/// <list type="bullet">
/// <item>a meter commissioned (8.1.1 confirmed, InstalledNotCommissioned → Commissioned): a
/// <c>DeviceStatusChangeEvent</c> with its <c>MeterIdentity</c> under <see cref="DccAlertCodes.MeterCommissioned"/> to the
/// registered supplier; other status changes send no alert;</item>
/// <item>a comms hub's loss of mains, which the WAN provider reports: a <c>PowerOutageEvent</c> under
/// <see cref="DccAlertCodes.PowerOutage"/> to the network operator of the area of the MPAN of the electricity meter on
/// the hub, then to its registered supplier (<see cref="AlertRouting.PowerOutageRecipients"/>);</item>
/// <item>an 11.1 firmware image not delivered to a device (unreachable or no answer after the retries): a
/// <c>FirmwareDistributionFailure</c> under <see cref="DccAlertCodes.FirmwareDistributionFailure"/> naming the request
/// and the device, to the user who sent the 11.1 (a supplier), instead of an asynchronous E20/E21 that could not say
/// which device.</item>
/// </list>
/// What cannot be sent (no registration, no MPxN, no network operator for the area) is logged as a DCC alert not sent.
/// Both are throttled per device and code (<see cref="AlertThrottle"/>): one over the limit is logged as throttled and
/// counted, and the next one sent reports the count.
/// </summary>
internal sealed class DccAlertSender(
    IInventoryStore inventory,
    IRegistrationDataSource registrations,
    DuisMessageSecurity security,
    DeviceResponseSender sender,
    MessageLogWriter log,
    AlertCounter counter,
    AlertThrottle throttle,
    IClock clock,
    ILogger<DccAlertSender> logger) : IDeviceStatusChangeSink, IFirmwareDistributionSink
{
    /// <summary>A meter commissioned raises its DCC alert, kept pending with the change until it is queued or logged.</summary>
    public PendingAlert? AlertFor(Device device, SmiStatus from, InventoryChange change)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(change);
        return IsMeterCommissioned(device) ? PendingAlert.MeterCommissioned(device.Id, from, Guid.NewGuid(), change.At) : null;
    }

    public async Task StatusChangedAsync(Device device, SmiStatus from, InventoryChange change, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(device);
        if (IsMeterCommissioned(device))
        {
            await MeterCommissionedAsync(device, from, clock.GetCurrentInstant(), cancellationToken);
        }
    }

    /// <summary>
    /// <paramref name="meter"/>'s commissioning, confirmed and stored, whose DCC alert a hub had not raised when it stopped
    /// (<see cref="DeviceAlertReceiver.ResumeAsync"/>): raised as it would have been then, with the meter as the inventory
    /// holds it now, and the registration data as they are now.
    /// </summary>
    public async Task MeterCommissionedAsync(Eui64 meter, SmiStatus from, Instant now, CancellationToken cancellationToken = default)
    {
        if (await StoreAway.UntilStoredAsync(logger, $"the status change of {meter}", () => inventory.FindDeviceAsync(meter, cancellationToken), cancellationToken) is not { } device)
        {
            await NotSentAsync(now, meter, $"{meter}, commissioned, is no longer in the inventory", cancellationToken);
            return;
        }
        // Commissioned then, whatever status it may have gone to since.
        await MeterCommissionedAsync(device, from, now, cancellationToken);
    }

    private static bool IsMeterCommissioned(Device device) =>
        device.Status == SmiStatus.Commissioned && device.Type is (DeviceType.ESME or DeviceType.GSME);

    private async Task MeterCommissionedAsync(Device device, SmiStatus from, Instant now, CancellationToken cancellationToken)
    {
        if (await StoreAway.UntilStoredAsync(logger, $"the status change of {device.Id}", () => registrations.FindByDeviceAsync(device.Id, cancellationToken), cancellationToken) is not { } registration)
        {
            await NotSentAsync(now, device.Id, $"no registration for {device.Id}", cancellationToken);
            return;
        }
        var mpxn = device.Mpan?.ToString() ?? device.Mprn?.ToString() ?? registration.Mpan?.ToString() ?? registration.Mprn?.ToString();
        if (string.IsNullOrEmpty(mpxn))
        {
            await NotSentAsync(now, device.Id, $"{device.Id} has no MPAN or MPRN in the inventory or the registration data", cancellationToken);
            return;
        }
        if (await ThrottleAsync(device.Id, DccAlertCodes.MeterCommissioned, now, cancellationToken) is not { } decision)
        {
            return;
        }
        await SendAsync(registration.Supplier, DccAlertCodes.MeterCommissioned, new DccAlertEvent.MeterStatusChange(device.Id, mpxn), decision.Throttled, now, $"{device.Id} {from} → {SmiStatus.Commissioned}", cancellationToken);
    }

    /// <summary>
    /// The WAN provider reported, at <paramref name="now"/>, that <paramref name="commsHub"/> lost mains power at
    /// <paramref name="since"/>: raised when reported, or after a restart (<see cref="DeviceAlertReceiver.ResumeAsync"/>).
    /// </summary>
    public async Task PowerLostAsync(Eui64 commsHub, Instant since, Instant now, CancellationToken cancellationToken = default)
    {
        var meter = (await StoreAway.UntilStoredAsync(logger, $"the power outage at {commsHub}", () => inventory.FindDevicesOnCommsHubAsync(commsHub, cancellationToken), cancellationToken)).Where(d => d.Type == DeviceType.ESME).MinBy(d => d.Id.Value);
        if (meter is null)
        {
            await NotSentAsync(now, commsHub, $"comms hub {commsHub} has no electricity meter in the inventory, so no MPAN", cancellationToken);
            return;
        }
        if (await StoreAway.UntilStoredAsync(logger, $"the power outage at {commsHub}", () => registrations.FindByDeviceAsync(meter.Id, cancellationToken), cancellationToken) is not { } registration)
        {
            await NotSentAsync(now, commsHub, $"no registration for {meter.Id}, the electricity meter on comms hub {commsHub}", cancellationToken);
            return;
        }
        if ((meter.Mpan ?? registration.Mpan) is not { } mpan)
        {
            await NotSentAsync(now, commsHub, $"{meter.Id}, the electricity meter on comms hub {commsHub}, has no MPAN in the inventory or the registration data", cancellationToken);
            return;
        }
        if (registration.NetworkOperator is null)
        {
            await NotSentAsync(now, commsHub, $"no network operator registered for the area of MPAN {mpan} (distributor {mpan.DistributorId}): the power outage goes to the supplier only", cancellationToken);
        }
        if (await ThrottleAsync(commsHub, DccAlertCodes.PowerOutage, now, cancellationToken) is not { } decision)
        {
            return;
        }
        var outage = new DccAlertEvent.PowerOutage(commsHub, since, mpan);
        foreach (var recipient in AlertRouting.PowerOutageRecipients(registration))
        {
            await SendAsync(recipient, DccAlertCodes.PowerOutage, outage, decision.Throttled, now, $"power outage at {commsHub} since {since}", cancellationToken);
        }
    }

    public async Task NotDeliveredAsync(RequestId updateFirmwareRequest, Eui64 device, Eui64 user, string reason, CancellationToken cancellationToken = default)
    {
        var now = clock.GetCurrentInstant();
        logger.LogInformation("{RequestId}: firmware not delivered to {Device}: {Reason}", updateFirmwareRequest, device, reason);
        // The alert, or its throttled entry, is the outcome of the device's acknowledged command.
        var answers = new CommandKey(updateFirmwareRequest, device);
        if (await ThrottleAsync(device, DccAlertCodes.FirmwareDistributionFailure, now, cancellationToken, answers) is not { } decision)
        {
            return;
        }
        var alert = new DuisDccAlert(security.Dsp, user, counter.Next(now), DccAlertCodes.FirmwareDistributionFailure, new DccAlertEvent.FirmwareDistributionFailure(updateFirmwareRequest, [device]), now)
        {
            Throttled = decision.Throttled,
        };
        await sender.DeliverAsync(security.Sign(alert), user, alert.ResponseId.ToString(), $"DCC alert {alert.AlertCode} (firmware of {updateFirmwareRequest} not delivered to {device}: {reason})", answers, cancellationToken);
    }

    /// <param name="answers">The acknowledged command whose outcome the alert is; a throttled alert's log entry answers it.</param>
    /// <returns>The decision to deliver; null when the alert is throttled (logged).</returns>
    private async Task<AlertThrottleDecision.Deliver?> ThrottleAsync(Eui64 device, string code, Instant now, CancellationToken cancellationToken, CommandKey? answers = null)
    {
        switch (throttle.Decide(device, code))
        {
            case AlertThrottleDecision.Deliver deliver:
                return deliver;
            case AlertThrottleDecision.Suppress { Throttled: var run }:
                logger.LogInformation("DCC alert {Code} for {Device} throttled ({Count} in sequence {Sequence})", code, device, run.Count, run.SequenceId);
                await StoreAway.UntilStoredAsync(logger, $"the log of DCC alert {code} for {device} throttled",
                    () => log.AppendAsync([new MessageLogRecord(now, MessageDirection.Outbound, null, $"{device}", $"DccAlertThrottled: {code}, {run.Count} not sent in throttled sequence {run.SequenceId}", ReadOnlyMemory<byte>.Empty) { Answers = answers }], cancellationToken), cancellationToken);
                return null;
            default:
                throw new InvalidOperationException("an alert throttle decision that is neither deliver nor suppress");
        }
    }

    private async Task SendAsync(Eui64 recipient, string code, DccAlertEvent alertEvent, ThrottledAlerts? throttled, Instant now, string what, CancellationToken cancellationToken)
    {
        var alert = new DuisDccAlert(security.Dsp, recipient, counter.Next(now), code, alertEvent, now) { Throttled = throttled };
        var signed = security.Sign(alert);
        // Each copy on its own: one the store took is not queued again when the next finds it away.
        await StoreAway.UntilStoredAsync(logger, $"DCC alert {alert.ResponseId} ({code}) to {recipient}",
            () => sender.DeliverAsync(signed, recipient, alert.ResponseId.ToString(), $"DCC alert {code} ({what})", cancellationToken: cancellationToken), cancellationToken);
    }

    private async Task NotSentAsync(Instant at, Eui64 device, string why, CancellationToken cancellationToken)
    {
        logger.LogWarning("DCC alert for {Device} not sent: {Reason}", device, why);
        await StoreAway.UntilStoredAsync(logger, $"the log of a DCC alert for {device} not sent",
            () => log.AppendAsync([new MessageLogRecord(at, MessageDirection.Outbound, null, $"{device}", $"DccAlertNotSent: {why}", ReadOnlyMemory<byte>.Empty)], cancellationToken), cancellationToken);
    }
}
