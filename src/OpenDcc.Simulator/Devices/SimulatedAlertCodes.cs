namespace OpenDcc.Simulator.Devices;

/// <summary>
/// The alert codes the simulator puts on the <see cref="OpenDcc.Core.Translation.DeviceAlert"/>s it raises. These are
/// the simulator's own choice, in the GBCS 0x8Fxx range; they are not claimed to be the codes a real meter uses for
/// these events, so nothing should match on them except tests of the simulator. (A power outage is no device alert:
/// the comms hub reports it to the WAN provider and the DCC raises a DCC Alert.)
/// </summary>
public static class SimulatedAlertCodes
{
    /// <summary>Raised by the electricity meter at the instant power returned.</summary>
    public const ushort PowerRestored = 0x8F36;
}
