using Microsoft.Extensions.Logging;
using OpenDcc.Core.Alerts;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Translation;

namespace OpenDcc.Core.Inventory;

/// <summary>
/// What a device's answer means for the inventory: a service request that changes the HAN or the device's life
/// changes the inventory only when the device confirms it has done it, not when the request is accepted — 8.7.1/8.7.2
/// Join and 8.8.1/8.8.2 Unjoin record or drop the HAN join; 8.1.1 Commission Device takes an InstalledNotCommissioned
/// device to Commissioned; 8.11 Update HAN Device Log takes a Pending device the comms hub added to its device log to
/// Whitelisted (and one it removed from Whitelisted back to Pending). Each status goes into the device's history with
/// the SRV and the user of <see cref="InventoryChange"/>, and each status change is told to <see cref="IDeviceStatusChangeSink"/>
/// (which sends the DCC alert). The alert a change raises (<see cref="IDeviceStatusChangeSink.AlertFor"/>) is kept as
/// pending in the transaction that stores the change, and completed once the sink has raised it: a hub stopping in
/// between (a crash, a kill, a fault on the way) raises it at its next start, the device never confirming again.
/// </summary>
public sealed class DeviceConfirmations(IInventoryStore inventory, IAlertCounterStore alerts, IDeviceStatusChangeSink statusChanges, ILogger<DeviceConfirmations> logger)
{
    /// <summary>Records the effect of <paramref name="operation"/> that <paramref name="device"/> confirmed with <paramref name="outcome"/>.</summary>
    /// <param name="change">The service request (SRV, user) and the time the device answered.</param>
    /// <returns>Whether the inventory changed.</returns>
    public async Task<bool> ApplyAsync(Eui64 device, DeviceOperation operation, DeviceOutcome outcome, InventoryChange change, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(operation);
        ArgumentNullException.ThrowIfNull(outcome);
        ArgumentNullException.ThrowIfNull(change);
        if (outcome is not DeviceOutcome.Done)
        {
            return false;
        }
        try
        {
            return operation switch
            {
                DeviceOperation.JoinDevice join => await inventory.JoinAsync(device, join.Other, cancellationToken),
                DeviceOperation.UnjoinDevice unjoin => await inventory.UnjoinAsync(device, unjoin.Other, cancellationToken),
                DeviceOperation.CommissionDevice => await ChangeStatusAsync(device, SmiStatus.InstalledNotCommissioned, SmiStatus.Commissioned, change, cancellationToken),
                DeviceOperation.AddToDeviceLog add => await ChangeStatusAsync(add.Device, SmiStatus.Pending, SmiStatus.Whitelisted, change, cancellationToken),
                DeviceOperation.RemoveFromDeviceLog remove => await ChangeStatusAsync(remove.Device, SmiStatus.Whitelisted, SmiStatus.Pending, change, cancellationToken),
                _ => false,
            };
        }
        catch (UnknownDeviceException e)
        {
            // Checked before the command was sent; a device deleted meanwhile leaves nothing to record.
            logger.LogWarning("{Device} confirmed {Operation}, but {Missing} is no longer in the inventory", device, operation.GetType().Name, e.Id);
            return false;
        }
    }

    /// <summary>
    /// <paramref name="from"/> → <paramref name="to"/>; a device in another status keeps it (a commissioned meter whose
    /// clock 8.1.1 synchronised again, a device already installed that 8.11 adds to a new hub's log).
    /// </summary>
    private async Task<bool> ChangeStatusAsync(Eui64 id, SmiStatus from, SmiStatus to, InventoryChange change, CancellationToken cancellationToken)
    {
        var changed = false;
        PendingAlert? raised = null;
        var stored = await inventory.UpdateDeviceAsync(id, d =>
        {
            (changed, raised) = (d.Status == from, null);
            return changed ? d with { Status = to } : null;
        }, change, (_, after) => raised = statusChanges.AlertFor(after, from, change), cancellationToken);
        if (stored is null)
        {
            logger.LogWarning("{Device}'s status change to {Status} ({Srv}) was confirmed, but it is no longer in the inventory", id, to, change.ServiceReferenceVariant);
        }
        if (!changed || stored is null)
        {
            return false;
        }
        try
        {
            await statusChanges.StatusChangedAsync(stored, from, change, cancellationToken);
        }
#pragma warning disable CA1031 // The change is stored and the device's answer must still reach its user; what failed is logged.
        catch (Exception e) when (e is not OperationCanceledException)
#pragma warning restore CA1031
        {
            logger.LogError(e, "{Device} went {From} → {Status} ({Srv}), but the status change could not be reported{Pending}", id, from, to, change.ServiceReferenceVariant,
                raised is null ? "" : $"; its alert {raised.Take} stays pending for the hub's next start");
            return true;
        }
        if (raised is not null)
        {
            await StoreAway.UntilStoredAsync(logger, $"the alert of {id}'s status change", () => alerts.CompleteAsync(raised.Take, cancellationToken), cancellationToken);
        }
        return true;
    }
}

/// <summary>Where a device's SMI status change, confirmed by the device, is told once it is stored.</summary>
public interface IDeviceStatusChangeSink
{
    /// <summary>
    /// The alert <see cref="StatusChangedAsync"/> raises for <paramref name="device"/>'s change from <paramref name="from"/>,
    /// if any, kept as pending with the change until it has been raised; a hub that stopped before raises it at its next
    /// start. Only computes: it may be asked again, the device read again.
    /// </summary>
    /// <param name="device">The device as it will be stored, in its new status.</param>
    PendingAlert? AlertFor(Device device, SmiStatus from, InventoryChange change);

    /// <param name="device">The device as stored, in its new status.</param>
    /// <param name="from">Its status before.</param>
    Task StatusChangedAsync(Device device, SmiStatus from, InventoryChange change, CancellationToken cancellationToken = default);
}
