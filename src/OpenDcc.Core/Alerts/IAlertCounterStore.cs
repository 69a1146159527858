using OpenDcc.Core.Identifiers;

namespace OpenDcc.Core.Alerts;

/// <summary>
/// The counter of the last alert taken from each device (<see cref="Translation.DeviceMessage.Alert.Counter"/>), kept in
/// the store so that a device's alert captured on the SM WAN and sent again is refused as a replay after the hub has
/// started again, or by another hub over the same store, as it is by the hub that took it.
/// </summary>
public interface IAlertCounterStore
{
    /// <summary>
    /// True, and the device's counter raised to <paramref name="counter"/>, when it is above the last one taken from
    /// <paramref name="device"/> (or none was); false otherwise, and nothing changes. One step: of two copies of a frame
    /// racing, on one hub or two, one is taken.
    /// </summary>
    Task<bool> TryTakeAsync(Eui64 device, ulong counter, CancellationToken cancellationToken = default);
}
