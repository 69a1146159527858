using System.Collections.Concurrent;
using NodaTime;
using OpenDcc.Core.Identifiers;

namespace OpenDcc.Simulator.Devices;

/// <summary>
/// What the sites of one fleet share, held once for the fleet rather than once per site (a fleet of 100,000 sites keeps
/// its per-site state small): the seed, how devices are named, the changes made to comms hubs' device logs, kept only
/// for the hubs whose log has changed, and when the DCC commissioned each meter it has commissioned.
/// </summary>
internal sealed class FleetContext(ulong seed)
{
    public ulong Seed { get; } = seed;

    public SiteIdentities Identities { get; } = new(seed);

    /// <summary>By site number: what 8.11 added to and removed from the site's comms hub's device log.</summary>
    public ConcurrentDictionary<int, DeviceLogChanges> DeviceLogs { get; } = new();

    /// <summary>By meter: when 8.1.1 commissioned it (set its clock); meters never commissioned have no entry.</summary>
    public ConcurrentDictionary<Eui64, Instant> Commissioned { get; } = new();
}
