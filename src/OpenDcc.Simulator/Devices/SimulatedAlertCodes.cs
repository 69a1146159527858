namespace OpenDcc.Simulator.Devices;

/// <summary>
/// The alert codes the simulator puts on the <see cref="OpenDcc.Core.Translation.DeviceAlert"/>s it raises. These are
/// the simulator's own choice, in the GBCS 0x8Fxx range for comms-hub alerts; they are not claimed to be the codes a
/// real comms hub uses for these events, so nothing should match on them except tests of the simulator.
/// </summary>
public static class SimulatedAlertCodes
{
    /// <summary>Raised by the comms hub at the instant the premises lost power.</summary>
    public const ushort PowerOutage = 0x8F35;

    /// <summary>Raised by the comms hub at the instant power returned.</summary>
    public const ushort PowerRestored = 0x8F36;
}
