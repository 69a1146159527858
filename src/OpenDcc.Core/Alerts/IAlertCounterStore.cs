using NodaTime;
using OpenDcc.Core.Identifiers;

namespace OpenDcc.Core.Alerts;

/// <summary>
/// The counter of the last alert taken from each device (<see cref="Translation.DeviceMessage.Alert.Counter"/>), kept in
/// the store so that a device's alert captured on the SM WAN and sent again is refused as a replay after the hub has
/// started again, or by another hub over the same store, as it is by the hub that took it; and each alert taken but not
/// yet handed on to its users (<see cref="PendingAlert"/>), so that a hub stopping between the two (a crash, a kill)
/// does not lose it: the next start hands it on.
/// </summary>
public interface IAlertCounterStore
{
    /// <summary>
    /// True when <paramref name="alert"/>'s counter is above the last one taken from its device (or none was): the
    /// device's counter is raised to it and the alert kept as pending, in one transaction. False otherwise, and nothing
    /// changes; but true again for the same <see cref="PendingAlert.Take"/> still pending, so a take tried again after
    /// its commit's answer was lost is not refused as a replay of itself. Of two copies of a frame racing, on one hub
    /// or two, one is taken. An alert with no counter (<see cref="PendingAlert.Counter"/> null) is kept as pending, and true.
    /// </summary>
    Task<bool> TryTakeAsync(PendingAlert alert, CancellationToken cancellationToken = default);

    /// <summary>The alert taken as <paramref name="take"/> is handed on: no longer pending.</summary>
    Task CompleteAsync(Guid take, CancellationToken cancellationToken = default);

    /// <summary>Every alert taken and not yet handed on, oldest first.</summary>
    Task<IReadOnlyList<PendingAlert>> ListPendingAsync(CancellationToken cancellationToken = default);
}

/// <summary>An alert taken from a device (its counter, if its format has one, spent) and not yet handed on to its users.</summary>
/// <param name="Take">This taking's own ID, which a retry of the same take carries.</param>
/// <param name="Counter">The alert's counter (<see cref="Translation.DeviceMessage.Alert.Counter"/>); null for a format without one.</param>
/// <param name="Frame">The frame as the device sent it, read again by its adapter when it is handed on after a restart.</param>
public sealed record PendingAlert(Eui64 Device, ulong? Counter, Guid Take, Instant ReceivedAt, byte[] Frame);
