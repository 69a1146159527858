using NodaTime;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Inventory;
using OpenDcc.Core.Translation;

namespace OpenDcc.Simulator.Devices;

/// <summary>
/// A site's gas proxy function (GPF), on its comms hub: it holds a copy of the battery-powered gas meter's data, so
/// that reads of it need not wait for the gas meter to wake. The DCC Boxed reference test requests send the gas
/// meter's register (4.1.1, GCS13a), balance (4.18, GCS60a) and daily consumption log (4.17, GCS61) reads to the GPF.
/// The simulator keeps the copy current: the GPF answers a read as the site's gas meter would at that instant. Nothing
/// else is a GPF's to do here.
/// </summary>
/// <remarks>Stateless: a view of the site's gas meter, made when asked (a fleet of 100,000 sites keeps no object per GPF).</remarks>
public sealed class SimulatedGasProxy : ISimulatedDevice
{
    internal SimulatedGasProxy(SimulatedSite site) => Site = site;

    public Eui64 Id => Site.GasProxyId;

    /// <summary>The premises the GPF is at: it is on the comms hub, so it has no power while the site's power is off.</summary>
    public SimulatedSite Site { get; }

    public DeviceType Type => DeviceType.GPF;

    /// <summary>Whether the GPF answers <paramref name="operation"/> from its copy of the gas meter's data.</summary>
    private static bool Reads(DeviceOperation operation) =>
        operation is DeviceOperation.ReadImportRegisters or DeviceOperation.ReadMeterBalance or DeviceOperation.ReadProfile;

    public DeviceOutcome Execute(DeviceOperation operation, Instant now)
    {
        ArgumentNullException.ThrowIfNull(operation);
        return Reads(operation)
            ? Site.GasMeter.Execute(operation, now)
            : new DeviceOutcome.Refused(RefusalReason.NotSupported, $"a GPF cannot do {operation.GetType().Name}: it answers reads of the gas meter's register, balance and consumption log");
    }
}
