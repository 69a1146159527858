using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Inventory;

namespace OpenDcc.Core.Translation;

/// <summary>
/// The translation SPI a meter manufacturer implements for its device models: a device operation (read from a DUIS
/// service request by <see cref="DuisOperations"/>) into the bytes its devices understand, and what its devices send
/// back into the payload of a DUIS response. OpenDcc picks the adapter by device model from configuration
/// (<see cref="TranslationAdapters"/>); an adapter can ship in its own assembly (<see cref="AdapterLoader"/>).
/// </summary>
/// <remarks>
/// Implementations must be thread-safe: one adapter serves every device of its models at once. Decoding must never
/// throw for bad input: a device's garbage is an <see cref="DeviceMessage.Unreadable"/>, not an exception.
/// </remarks>
public interface ITranslationAdapter
{
    /// <summary>The name configuration refers to (for example <c>gbcs-reference</c>).</summary>
    string Name { get; }

    /// <summary>Whether devices of this type can do the operation through this adapter; if not, the request gets <see cref="DuisOperations.NotTranslated"/>.</summary>
    bool Carries(DeviceOperation operation, DeviceType type);

    /// <summary>The command for the device, protected as the device expects (for GBCS, the ACB's MAC).</summary>
    /// <param name="counter">Rises with every command to this device; the device refuses a counter it has seen.</param>
    byte[] ToDevice(DeviceOperation operation, Eui64 device, ulong counter);

    /// <summary>
    /// A command for local delivery (DUIS command variant 2): made and protected as <see cref="ToDevice"/> makes it,
    /// for the user to take to the device over its HAN, so no answer is awaited for it over the WAN. Null (the
    /// default) when this adapter's devices take no commands delivered locally: the request gets E17.
    /// </summary>
    byte[]? ToLocalDelivery(DeviceOperation operation, Eui64 device, ulong counter) => null;

    /// <summary>What the device answered or reported, checked and decoded.</summary>
    DeviceMessage FromDevice(ReadOnlySpan<byte> message, Eui64 device);

    /// <summary>
    /// The device's answer to a command delivered locally (<see cref="ToLocalDelivery"/>), which its user brought back
    /// (DUIS 8.13): checked as <see cref="FromDevice"/> checks an answer — from the device, intact — and that it answers
    /// <paramref name="command"/>, the very command given for local delivery. The default reads none.
    /// </summary>
    DeviceMessage FromLocalDelivery(ReadOnlySpan<byte> answer, Eui64 device, ReadOnlySpan<byte> command) =>
        new DeviceMessage.Unreadable($"adapter {Name} reads no answers to commands delivered locally");

    /// <summary>
    /// Reads back the payload of an answer this adapter gave (<see cref="DeviceMessage.Answer.DuisPayload"/>) as the
    /// user it goes to would — its integrity checked, no counter touched — for services OpenDcc answers itself from
    /// device reads (smart-grid aggregates). Null when the payload does not check out, or the adapter offers no such
    /// reading (the default): its devices' answers then count as unreadable there.
    /// </summary>
    DeviceOutcome? ReadAnswerPayload(ReadOnlySpan<byte> duisPayload, Eui64 device) => null;

    /// <summary>
    /// The device has gone idle (its comms hub's grain is being collected): drop what is kept for it between
    /// commands, such as a derived key, so that an idle device costs nothing. The next command derives it again.
    /// State that replay protection needs across idle periods must not be dropped here.
    /// </summary>
    void Release(Eui64 device)
    {
    }
}

/// <summary>A message from a device, as its adapter read it.</summary>
public abstract record DeviceMessage
{
    private DeviceMessage()
    {
    }

    /// <param name="DuisPayload">What goes to the user in the DUIS response's GBCSPayload.</param>
    public sealed record Answer(DeviceOutcome Outcome, ReadOnlyMemory<byte> DuisPayload) : DeviceMessage;

    /// <param name="Counter">
    /// The alert's counter as the device's frame authenticates it (a GBCS originator counter, under the frame's MAC),
    /// rising with each alert from the device: OpenDcc takes an alert only above the last one it took from the device,
    /// kept in its store (<see cref="Alerts.IAlertCounterStore"/>), so a replayed frame is refused across restarts and
    /// hubs. Null for a protocol whose frames authenticate no counter: its adapter guards against repeats as it can.
    /// </param>
    public sealed record Alert(DeviceAlert DeviceAlert, ReadOnlyMemory<byte> DuisPayload, ulong? Counter) : DeviceMessage;

    /// <summary>Failed its integrity check, or is not this adapter's format.</summary>
    public sealed record Unreadable(string Reason) : DeviceMessage;
}
