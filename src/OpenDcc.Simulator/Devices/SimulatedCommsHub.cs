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
/// A meter joins (8.7.x) only a device in its hub's log (<see cref="RefusalReason.NotInDeviceLog"/> otherwise), and one
/// that 8.11 added only within the join time period it gave; once joined, the device is on the HAN and stays.
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

    /// <summary>The premises the comms hub is at; it has no power while the site's power is off.</summary>
    public SimulatedSite Site => site;

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

    /// <summary>
    /// Whether a device in the log may be joined to the hub's meters at <paramref name="now"/>: one of the site's own, one
    /// already joined, or one 8.11 added whose join time period has not ended.
    /// </summary>
    public bool Holds(Eui64 device, Instant now) => Admit(device, now, join: false) is null;

    /// <summary>
    /// A meter joins <paramref name="device"/> (8.7.x): null when the log lets it, and the device is then on the HAN, its
    /// join time period no longer counting; otherwise why not.
    /// </summary>
    internal string? Join(Eui64 device, Instant now) => Admit(device, now, join: true);

    private string? Admit(Eui64 device, Instant now, bool join)
    {
        if (fleet.DeviceLogs.GetValueOrDefault(site.Number) is not { } changes)
        {
            return IsOwnDevice(device) ? null : NotInLog(device);
        }
        lock (changes.Gate)
        {
            if (!changes.Added.TryGetValue(device, out var added))
            {
                return !changes.Removed.Contains(device) && IsOwnDevice(device) ? null : NotInLog(device);
            }
            if (added.JoinBy is { } joinBy && now > joinBy)
            {
                return $"device {device} did not join the HAN of comms hub {Id} within its join time period, which ended at {joinBy}";
            }
            if (join)
            {
                changes.Added[device] = added with { JoinBy = null };
            }
            return null;
        }
    }

    private string NotInLog(Eui64 device) => $"device {device} is not in the device log of comms hub {Id}";

    public DeviceOutcome Execute(DeviceOperation operation, Instant now)
    {
        ArgumentNullException.ThrowIfNull(operation);
        if (operation is DeviceOperation.ReadDeviceLog)
        {
            return new DeviceOutcome.DeviceLog([.. DeviceLog.Select(e => e.Device)]);
        }
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
                    return wasAdded || wasOwn ? new DeviceOutcome.Done() : new DeviceOutcome.Refused(RefusalReason.NotInDeviceLog, NotInLog(device));
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

/// <summary>One entry of a comms hub's device log: the device, its install code (hex) and, for one added by 8.11 that has not joined yet, until when it may join.</summary>
public sealed record DeviceLogEntry(Eui64 Device, string InstallCode, Instant? JoinBy);
