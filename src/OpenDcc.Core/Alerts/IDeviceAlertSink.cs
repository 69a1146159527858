using NodaTime;
using OpenDcc.Core.Identifiers;

namespace OpenDcc.Core.Alerts;

/// <summary>Where the WAN hands what devices send unasked: their alerts, and what the WAN provider reports of comms hubs.</summary>
public interface IDeviceAlertSink
{
    /// <summary>A device's alert, as the bytes came (its own wire format, for the device's adapter to read).</summary>
    Task ReceiveAsync(Eui64 device, byte[] message, CancellationToken cancellationToken = default);

    /// <summary>
    /// The comms hub lost mains power at <paramref name="since"/>: in SMETS2 the hub tells the WAN provider (CSP), not a
    /// user, and the CSP tells the DCC, which raises the DCC Alert (AD1 <c>PowerOutageEvent</c>) to the network operator
    /// and the supplier. No frame of the device's: the CSP's own network carries it.
    /// </summary>
    Task PowerLostAsync(Eui64 commsHub, Instant since, CancellationToken cancellationToken = default);
}
