using System.Globalization;
using NodaTime;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Inventory;
using OpenDcc.Core.Translation;

namespace OpenDcc.Simulator.Devices;

/// <summary>
/// A site's comms hub function (CHF) and its device log — the whitelist of devices allowed on its HAN, each with the
/// install code it joins with, as DUIS 8.11 Update HAN Device Log carries them. The site's own devices (ESME, GSME,
/// GPF, PPMID) are in the log from installation, with install codes drawn from the seed; 8.11 adds and removes others.
/// A meter joins (8.7.x) only a device in its hub's log (<see cref="RefusalReason.NotInDeviceLog"/> otherwise).
/// </summary>
/// <remarks>
/// Nothing is kept per hub until its log changes: the changes live with the fleet (<see cref="FleetContext"/>), so a
/// fleet of 100,000 sites holds no lists, nor objects, for untouched hubs. This object is a view of them.
/// </remarks>
public sealed class SimulatedCommsHub : ISimulatedDevice
{
    private readonly SimulatedSite site;
    private readonly FleetContext fleet;

    internal SimulatedCommsHub(SimulatedSite site, FleetContext fleet)
    {
        this.site = site;
        this.fleet = fleet;
    }

    public Eui64 Id => site.CommsHubId;

    public DeviceType Type => DeviceType.CHF;

    /// <summary>The device log, in device ID order.</summary>
    public IReadOnlyList<DeviceLogEntry> DeviceLog
    {
        get
        {
            var changes = fleet.DeviceLogs.GetValueOrDefault(site.Number);
            if (changes is null)
            {
                return [.. OwnDevices().Select(id => new DeviceLogEntry(id, InstallCodeOf(id), null))];
            }
            lock (changes.Gate)
            {
                var own = OwnDevices().Where(id => !changes.Removed.Contains(id) && !changes.Added.ContainsKey(id)).Select(id => new DeviceLogEntry(id, InstallCodeOf(id), null));
                return [.. own.Concat(changes.Added.Values).OrderBy(e => e.Device)];
            }
        }
    }

    /// <summary>Whether a device is in the log, so may be on the HAN and be joined to its meters.</summary>
    public bool Holds(Eui64 device)
    {
        if (fleet.DeviceLogs.GetValueOrDefault(site.Number) is not { } changes)
        {
            return IsOwnDevice(device);
        }
        lock (changes.Gate)
        {
            return changes.Added.ContainsKey(device) || (!changes.Removed.Contains(device) && IsOwnDevice(device));
        }
    }

    public DeviceOutcome Execute(DeviceOperation operation, Instant now)
    {
        ArgumentNullException.ThrowIfNull(operation);
        if (operation is not (DeviceOperation.AddToDeviceLog or DeviceOperation.RemoveFromDeviceLog))
        {
            return new DeviceOutcome.Refused(RefusalReason.NotSupported, $"a CHF cannot do {operation.GetType().Name}");
        }
        var changes = fleet.DeviceLogs.GetOrAdd(site.Number, static _ => new DeviceLogChanges());
        lock (changes.Gate)
        {
            switch (operation)
            {
                case DeviceOperation.AddToDeviceLog add:
                    // Adding a device already in the log replaces its install code, as a hub takes the newest.
                    changes.Added[add.Device] = new DeviceLogEntry(add.Device, add.InstallCode, now + add.JoinTimePeriod);
                    changes.Removed.Remove(add.Device);
                    return new DeviceOutcome.Done();
                default:
                    var device = ((DeviceOperation.RemoveFromDeviceLog)operation).Device;
                    var wasAdded = changes.Added.Remove(device);
                    var wasOwn = IsOwnDevice(device) && changes.Removed.Add(device);
                    return wasAdded || wasOwn ? new DeviceOutcome.Done() : new DeviceOutcome.Refused(RefusalReason.NotInDeviceLog, $"device {device} is not in the device log of comms hub {Id}");
            }
        }
    }

    private IEnumerable<Eui64> OwnDevices() => site.Devices.Where(d => d.Type != DeviceType.CHF).Select(d => d.Id);

    private bool IsOwnDevice(Eui64 device) => device != Id && site.Devices.Any(d => d.Id == device);

    /// <summary>
    /// The install code of a device installed with the site: 16 bytes, as hex, from the device's ID, whose top bits
    /// the fleet seed chose (the same seed, the same codes).
    /// </summary>
    private string InstallCodeOf(Eui64 device) =>
        string.Concat(SeedMix.Mix(fleet.Seed, device.Value, 0x1C).ToString("X16", CultureInfo.InvariantCulture), SeedMix.Mix(fleet.Seed, device.Value, 0x1D).ToString("X16", CultureInfo.InvariantCulture));
}

/// <summary>What 8.11 has changed in one comms hub's device log: the devices it added, and the site's own it removed.</summary>
internal sealed class DeviceLogChanges
{
    public Lock Gate { get; } = new();

    public Dictionary<Eui64, DeviceLogEntry> Added { get; } = [];

    public HashSet<Eui64> Removed { get; } = [];
}

/// <summary>One entry of a comms hub's device log: the device, its install code (hex) and, for one added by 8.11, until when it may join.</summary>
public sealed record DeviceLogEntry(Eui64 Device, string InstallCode, Instant? JoinBy);
