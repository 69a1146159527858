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
/// Nothing is kept per hub until its log changes: a fleet of 100,000 sites holds no lists for untouched hubs.
/// </remarks>
public sealed class SimulatedCommsHub : ISimulatedDevice
{
    private readonly SimulatedSite site;
    private readonly ulong fleetSeed;
    private readonly Lock gate = new();
    private Dictionary<Eui64, DeviceLogEntry>? added;
    private HashSet<Eui64>? removed;

    internal SimulatedCommsHub(SimulatedSite site, ulong fleetSeed)
    {
        this.site = site;
        this.fleetSeed = fleetSeed;
    }

    public Eui64 Id => site.CommsHubId;

    public DeviceType Type => DeviceType.CHF;

    /// <summary>The device log, in device ID order.</summary>
    public IReadOnlyList<DeviceLogEntry> DeviceLog
    {
        get
        {
            lock (gate)
            {
                var own = site.Devices.Where(d => d.Type != DeviceType.CHF && removed?.Contains(d.Id) != true && added?.ContainsKey(d.Id) != true)
                    .Select(d => new DeviceLogEntry(d.Id, InstallCodeOf(d.Id), null));
                return [.. own.Concat(added?.Values ?? Enumerable.Empty<DeviceLogEntry>()).OrderBy(e => e.Device)];
            }
        }
    }

    /// <summary>Whether a device is in the log, so may be on the HAN and be joined to its meters.</summary>
    public bool Holds(Eui64 device)
    {
        lock (gate)
        {
            return added?.ContainsKey(device) == true || (removed?.Contains(device) != true && IsSiteDevice(device));
        }
    }

    public DeviceOutcome Execute(DeviceOperation operation, Instant now)
    {
        ArgumentNullException.ThrowIfNull(operation);
        lock (gate)
        {
            switch (operation)
            {
                case DeviceOperation.AddToDeviceLog add:
                    // Adding a device already in the log replaces its install code, as a hub takes the newest.
                    (added ??= [])[add.Device] = new DeviceLogEntry(add.Device, add.InstallCode, now + add.JoinTimePeriod);
                    removed?.Remove(add.Device);
                    return new DeviceOutcome.Done();
                case DeviceOperation.RemoveFromDeviceLog remove:
                    var wasAdded = added?.Remove(remove.Device) == true;
                    if (IsSiteDevice(remove.Device) && (removed ??= []).Add(remove.Device))
                    {
                        return new DeviceOutcome.Done();
                    }
                    return wasAdded ? new DeviceOutcome.Done() : new DeviceOutcome.Refused(RefusalReason.NotInDeviceLog, $"device {remove.Device} is not in the device log of comms hub {Id}");
                default:
                    return new DeviceOutcome.Refused(RefusalReason.NotSupported, $"a CHF cannot do {operation.GetType().Name}");
            }
        }
    }

    private bool IsSiteDevice(Eui64 device) => device != Id && site.Devices.Any(d => d.Id == device);

    /// <summary>The install code of a device installed with the site: 16 bytes from the seed, as hex.</summary>
    private string InstallCodeOf(Eui64 device) =>
        string.Concat(SeedMix.Mix(fleetSeed, device.Value, 0x1C).ToString("X16", CultureInfo.InvariantCulture), SeedMix.Mix(fleetSeed, device.Value, 0x1D).ToString("X16", CultureInfo.InvariantCulture));
}

/// <summary>One entry of a comms hub's device log: the device, its install code (hex) and, for one added by 8.11, until when it may join.</summary>
public sealed record DeviceLogEntry(Eui64 Device, string InstallCode, Instant? JoinBy);
