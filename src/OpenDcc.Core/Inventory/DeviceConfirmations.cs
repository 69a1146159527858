using Microsoft.Extensions.Logging;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Translation;

namespace OpenDcc.Core.Inventory;

/// <summary>
/// What a device's answer means for the inventory: a service request that changes the HAN (8.7.2 Join, 8.8.2 Unjoin)
/// changes the inventory only when the device confirms it has done it, not when the request is accepted.
/// </summary>
public sealed class DeviceConfirmations(IInventoryStore inventory, ILogger<DeviceConfirmations> logger)
{
    /// <summary>Records the effect of <paramref name="operation"/> that <paramref name="device"/> confirmed with <paramref name="outcome"/>.</summary>
    /// <returns>Whether the inventory changed.</returns>
    public async Task<bool> ApplyAsync(Eui64 device, DeviceOperation operation, DeviceOutcome outcome, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(operation);
        ArgumentNullException.ThrowIfNull(outcome);
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
}
