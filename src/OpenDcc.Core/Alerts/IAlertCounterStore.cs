using System.Text;
using NodaTime;
using NodaTime.Text;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Inventory;

namespace OpenDcc.Core.Alerts;

/// <summary>
/// The counter of the last alert taken from each device (<see cref="Translation.DeviceMessage.Alert.Counter"/>), kept in
/// the store so that a device's alert captured on the SM WAN and sent again is refused as a replay after the hub has
/// started again, or by another hub over the same store, as it is by the hub that took it; and each alert taken but not
/// yet handed on to its users (<see cref="PendingAlert"/>), so that a hub stopping between the two (a crash, a kill)
/// does not lose it: the next start hands it on. Likewise a comms hub's loss of power the WAN provider reported, which
/// it does not report again, until its DCC Alert is raised (<see cref="PendingAlertSource.PowerLost"/>); and a meter's
/// commissioning, kept with the status change that stores it (<see cref="IInventoryStore.UpdateDeviceAsync(Eui64, Func{Device, Device?}, InventoryChange, Func{Device, Device, PendingAlert?}, CancellationToken)"/>),
/// until its DCC Alert is raised (<see cref="PendingAlertSource.MeterCommissioned"/>).
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

/// <summary>
/// An alert taken (a device's, its counter, if its format has one, spent; the WAN provider's report of a comms hub's
/// loss of power, or a meter's commissioning, each of which the DCC raises as a DCC Alert) and not yet handed on to its users.
/// </summary>
/// <param name="Device">The device that sent the alert; for <see cref="PendingAlertSource.PowerLost"/>, the comms hub that lost power; for <see cref="PendingAlertSource.MeterCommissioned"/>, the meter.</param>
/// <param name="Take">This taking's own ID, which a retry of the same take carries.</param>
/// <param name="Counter">The alert's counter (<see cref="Translation.DeviceMessage.Alert.Counter"/>); null for a format without one, and for an alert the DCC raises.</param>
/// <param name="Frame">The frame as the device sent it, read again by its adapter when it is handed on after a restart; for <see cref="PendingAlertSource.PowerLost"/>, the report (<see cref="PowerLost"/>); for <see cref="PendingAlertSource.MeterCommissioned"/>, the status the meter left (<see cref="MeterCommissioned"/>).</param>
public sealed record PendingAlert(Eui64 Device, ulong? Counter, Guid Take, Instant ReceivedAt, byte[] Frame)
{
    private static readonly InstantPattern ReportPattern = InstantPattern.ExtendedIso;

    /// <summary>What the alert was taken from; a device's frame unless said.</summary>
    public PendingAlertSource Source { get; init; } = PendingAlertSource.Device;

    /// <summary>
    /// The WAN provider's report, received at <paramref name="receivedAt"/>, that <paramref name="commsHub"/> lost mains
    /// power at <paramref name="since"/>: its frame is <paramref name="since"/> in ISO form, read by <see cref="PowerLostSince"/>.
    /// </summary>
    public static PendingAlert PowerLost(Eui64 commsHub, Instant since, Guid take, Instant receivedAt) =>
        new(commsHub, null, take, receivedAt, Encoding.UTF8.GetBytes(ReportPattern.Format(since))) { Source = PendingAlertSource.PowerLost };

    /// <summary>When the comms hub lost mains power, as the WAN provider reported it (<see cref="PowerLost"/>).</summary>
    /// <exception cref="InvalidOperationException">the alert is not a report of a loss of power.</exception>
    /// <exception cref="FormatException">its frame is not an instant in ISO form.</exception>
    public Instant PowerLostSince() =>
        Source is PendingAlertSource.PowerLost
            ? ReportPattern.Parse(Encoding.UTF8.GetString(Frame)).GetValueOrThrow()
            : throw new InvalidOperationException($"alert {Take} from {Device} is not a report of a loss of power");

    /// <summary>
    /// <paramref name="meter"/>'s confirmation, at <paramref name="at"/>, that it is commissioned, its SMI status
    /// <paramref name="from"/> → Commissioned: its frame is <paramref name="from"/> by name, read by <see cref="CommissionedFrom"/>.
    /// </summary>
    public static PendingAlert MeterCommissioned(Eui64 meter, SmiStatus from, Guid take, Instant at) =>
        new(meter, null, take, at, Encoding.UTF8.GetBytes(from.ToString())) { Source = PendingAlertSource.MeterCommissioned };

    /// <summary>The SMI status the meter left when it was commissioned (<see cref="MeterCommissioned"/>).</summary>
    /// <exception cref="InvalidOperationException">the alert is not a meter's commissioning.</exception>
    /// <exception cref="FormatException">its frame is not an SMI status by name.</exception>
    public SmiStatus CommissionedFrom()
    {
        if (Source is not PendingAlertSource.MeterCommissioned)
        {
            throw new InvalidOperationException($"alert {Take} from {Device} is not a meter's commissioning");
        }
        var name = Encoding.UTF8.GetString(Frame);
        // By name only: Enum.TryParse takes a number too.
        return Enum.GetNames<SmiStatus>().Contains(name, StringComparer.Ordinal) ? Enum.Parse<SmiStatus>(name) : throw new FormatException($"alert {Take}: '{name}' is not an SMI status");
    }
}

/// <summary>What a <see cref="PendingAlert"/> was taken from, and so how it is handed on again after a restart.</summary>
public enum PendingAlertSource
{
    /// <summary>A device's alert frame, read again by its adapter.</summary>
    Device,

    /// <summary>The WAN provider's report of a comms hub's loss of mains power, raised as the DCC Alert AD1.</summary>
    PowerLost,

    /// <summary>A meter's confirmed commissioning (8.1.1), raised as the DCC Alert N12.</summary>
    MeterCommissioned,
}
