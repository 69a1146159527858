using OpenDcc.Core.Identifiers;

namespace OpenDcc.Core.Inventory;

/// <summary>
/// The change an accepted service request (8.3, 8.4, 8.14.x, 12.2) makes to the inventory, made in the transaction that
/// logs the request (<see cref="Security.MessageLogRecord.ChangesInventory"/>): the change is stored exactly when the
/// request and its answer are, and only if every device it names is still as the request's checks found it
/// (<see cref="InventoryChangedException"/> otherwise, and nothing is stored).
/// </summary>
/// <param name="Change">Who made it, when, with which SRV: each SMI status it sets goes into the device's history so.</param>
/// <param name="Devices">The devices it writes, or reads only to rely on (<see cref="DeviceWrite.Becomes"/> as found), in order.</param>
/// <param name="Joins">HAN joins it records, between devices it names in <paramref name="Devices"/>.</param>
public sealed record InventoryWrite(InventoryChange Change, IReadOnlyList<DeviceWrite> Devices, IReadOnlyList<(Eui64 Device, Eui64 Other)> Joins)
{
    public InventoryWrite(InventoryChange change, params DeviceWrite[] devices)
        : this(change, devices, [])
    {
    }

    /// <summary>The IDs of the devices it names.</summary>
    public IEnumerable<Eui64> DeviceIds => Devices.Select(d => d.Id);
}

/// <summary>One device of an <see cref="InventoryWrite"/>.</summary>
/// <param name="Found">The device as the request's checks read it; null when they found it not in the inventory.</param>
/// <param name="Becomes">What it is to be: null to delete it (with its HAN joins; its status history stays; not while another device names it as its comms hub: <see cref="InventoryChangedException"/>); <paramref name="Found"/> to leave it as it is.</param>
/// <param name="Unjoin">Whether every HAN join it has is removed (8.3 Decommission).</param>
public sealed record DeviceWrite(Eui64 Id, Device? Found, Device? Becomes, bool Unjoin = false)
{
    /// <summary>A device the write relies on, as found, and leaves as it is.</summary>
    public static DeviceWrite Unchanged(Device found)
    {
        ArgumentNullException.ThrowIfNull(found);
        return new(found.Id, found, found);
    }
}

/// <summary>
/// A device an <see cref="InventoryWrite"/> names is no longer as its request's checks found it (another request or the
/// operator changed it meanwhile), or a meter it puts at a meter point finds another meter in service there now: nothing
/// of the write, nor of the log entry carrying it, was stored, and the request is to be checked again.
/// </summary>
public sealed class InventoryChangedException(Eui64 id, string? reason = null) : Exception(reason ?? $"device {id} changed while its request was being checked")
{
    public Eui64 Id { get; } = id;

    /// <summary>The write that could not be made: which record of a batch failed it (<see cref="Security.MessageLogWriter"/>).</summary>
    public InventoryWrite? Write { get; init; }
}
