using OpenDcc.Core.Identifiers;

namespace OpenDcc.Core.Alerts;

/// <summary>Where the WAN hands what devices send unasked (alerts), as the bytes came.</summary>
public interface IDeviceAlertSink
{
    Task ReceiveAsync(Eui64 device, byte[] message, CancellationToken cancellationToken = default);
}
