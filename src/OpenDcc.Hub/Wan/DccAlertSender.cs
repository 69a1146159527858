using Microsoft.Extensions.Logging;
using NodaTime;
using OpenDcc.Core.Duis;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Inventory;
using OpenDcc.Core.Parties;
using OpenDcc.Core.Registration;
using OpenDcc.Core.Security;

namespace OpenDcc.Hub.Wan;

/// <summary>
/// DCC Alerts for SMI status changes the devices confirm: a meter commissioned (8.1.1, InstalledNotCommissioned →
/// Commissioned) is reported as a <c>DeviceStatusChangeEvent</c> with its <c>MeterIdentity</c> under
/// <see cref="DccAlertCodes.MeterCommissioned"/> to the registered supplier of its meter point (the registration data's,
/// as for device alerts — the party responsible for the meter, whoever sent the request), signed by the DSP and handed
/// to delivery as device alerts are (<see cref="DeviceResponseSender.DeliverAsync"/>). Other status changes send no
/// alert. A commissioned meter with no registration or no MPxN is logged as an alert not sent.
/// </summary>
internal sealed class DccAlertSender(
    IRegistrationDataSource registrations,
    IPartyStore parties,
    DuisMessageSecurity security,
    DeviceResponseSender sender,
    MessageLogWriter log,
    AlertCounter counter,
    IClock clock,
    ILogger<DccAlertSender> logger) : IDeviceStatusChangeSink
{
    public async Task StatusChangedAsync(Device device, SmiStatus from, InventoryChange change, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(device);
        if (device.Status != SmiStatus.Commissioned || device.Type is not (DeviceType.ESME or DeviceType.GSME))
        {
            return;
        }
        var now = clock.GetCurrentInstant();
        if (await registrations.FindByDeviceAsync(device.Id, cancellationToken) is not { } registration)
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
        var supplier = registration.Supplier;
        var alert = new DuisDccAlert(Eui64Defaults.Dsp, supplier, counter.Next(now), DccAlertCodes.MeterCommissioned, new DccAlertEvent.MeterStatusChange(device.Id, mpxn), now);
        var user = await parties.FindUserAsync(supplier, cancellationToken);
        await sender.DeliverAsync(security.Sign(alert), supplier, user?.ResponseUrl, alert.ResponseId.ToString(), $"DCC alert {alert.AlertCode} ({device.Id} {from} → {device.Status})", cancellationToken);
    }

    private async Task NotSentAsync(Instant at, Eui64 device, string why, CancellationToken cancellationToken)
    {
        logger.LogWarning("DCC alert for {Device} not sent: {Reason}", device, why);
        await log.AppendAsync([new MessageLogRecord(at, MessageDirection.Outbound, null, $"{device}", $"DccAlertNotSent: {why}", ReadOnlyMemory<byte>.Empty)], cancellationToken);
    }
}
