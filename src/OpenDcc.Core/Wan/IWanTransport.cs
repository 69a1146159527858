using OpenDcc.Core.Identifiers;

namespace OpenDcc.Core.Wan;

/// <summary>
/// The SM WAN as OpenDcc sees it: a command's bytes go to a device and its answer's bytes come back. The simulated
/// WAN implements it in-process or over loopback; a real deployment implements it per WAN provider.
/// </summary>
public interface IWanTransport
{
    /// <returns>The device's answer.</returns>
    /// <exception cref="DeviceUnreachableException">the WAN cannot reach the device (DUIS E20).</exception>
    /// <exception cref="DeviceSilentException">the device took the command and will not answer it (DUIS E21, without waiting out the timeout).</exception>
    /// <exception cref="OperationCanceledException">no answer before <paramref name="cancellationToken"/> fired (the caller's timeout: DUIS E21).</exception>
    Task<byte[]> ExchangeAsync(Eui64 device, byte[] command, CancellationToken cancellationToken);

    /// <summary>Where what devices send unasked (alerts) goes from now on.</summary>
    void Attach(Alerts.IDeviceAlertSink sink);
}

/// <summary>The WAN has no route to the device (offline comms hub, unknown device).</summary>
public sealed class DeviceUnreachableException(Eui64 device, string reason) : Exception($"device {device} is unreachable: {reason}")
{
    public Eui64 Device { get; } = device;

    /// <summary>Why, without the device.</summary>
    public string Reason { get; } = reason;
}

/// <summary>
/// The device took the command and will not answer it: it dropped it (a MAC that does not verify, a counter it has
/// seen, a command for another device), as a real device drops one in silence. A simulated WAN says so at once, with
/// why, rather than leave the hub to wait out its timeout; the hub treats it as no answer (E21 after its retries).
/// </summary>
public sealed class DeviceSilentException(Eui64 device, string reason) : Exception($"device {device} will not answer: {reason}")
{
    public Eui64 Device { get; } = device;

    /// <summary>Why, without the device.</summary>
    public string Reason { get; } = reason;
}
