using NodaTime;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Inventory;
using OpenDcc.Core.Translation;

namespace OpenDcc.Simulator.Devices;

/// <summary>
/// A device that answers the wire-format-free <see cref="DeviceOperation"/> vocabulary. Answers are a pure function
/// of the fleet seed, the device, the operations it has been sent and the instant each was sent at: there is no
/// wall clock and no unseeded randomness anywhere in the simulator.
/// </summary>
public interface ISimulatedDevice
{
    Eui64 Id { get; }

    DeviceType Type { get; }

    DeviceOutcome Execute(DeviceOperation operation, Instant now);
}
