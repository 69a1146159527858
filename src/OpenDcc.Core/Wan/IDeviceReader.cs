using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Inventory;
using OpenDcc.Core.Translation;

namespace OpenDcc.Core.Wan;

/// <summary>
/// Reads a device on a DCC user's behalf and hands the answer back to the caller instead of the user's response URL:
/// for services OpenDcc answers itself from fresh device reads (smart-grid aggregates). The command takes the same
/// path as a DUIS request's (the device's comms hub queue, its adapter, the WAN, timeouts and retries).
/// </summary>
public interface IDeviceReader
{
    /// <param name="cancellationToken">Stops waiting; the command may still reach the device, and its late answer is dropped.</param>
    Task<DeviceReading> ReadAsync(Device device, Eui64 user, DeviceOperation operation, CommandPriority priority, CancellationToken cancellationToken = default);
}

/// <summary>What came of one <see cref="IDeviceReader.ReadAsync"/>.</summary>
public abstract record DeviceReading
{
    private DeviceReading()
    {
    }

    public sealed record Answered(DeviceOutcome Outcome) : DeviceReading;

    /// <summary>No usable answer; <paramref name="ResponseCode"/> is the DUIS code a user would have got (E20 unreachable, E21 no answer, E11…).</summary>
    public sealed record Failed(string ResponseCode, string Detail) : DeviceReading;
}
