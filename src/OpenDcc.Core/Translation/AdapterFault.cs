using OpenDcc.Core.Catalogue;
using OpenDcc.Core.Duis;

namespace OpenDcc.Core.Translation;

/// <summary>What comes of a translation adapter (a manufacturer's) that throws where the SPI has it answer.</summary>
public static class AdapterFault
{
    /// <summary>
    /// A device's message as <paramref name="adapter"/> reads it (<paramref name="read"/>); one that throws on it (the SPI
    /// says reading never does) has not read it, and it is unreadable, naming the adapter and its fault: the message is
    /// refused and logged as one that does not read, not an exception out of the hub.
    /// </summary>
    public static DeviceMessage Read(ITranslationAdapter adapter, Func<ITranslationAdapter, DeviceMessage> read)
    {
        ArgumentNullException.ThrowIfNull(adapter);
        ArgumentNullException.ThrowIfNull(read);
        try
        {
            return read(adapter);
        }
#pragma warning disable CA1031 // Whatever a manufacturer's adapter throws, the message is refused as unreadable and logged.
        catch (Exception e)
#pragma warning restore CA1031
        {
            return new DeviceMessage.Unreadable($"adapter {adapter.Name} could not read it: {e.Message}");
        }
    }

    /// <summary>
    /// The response code: the request's own fault (<see cref="GatewayResponseCodes.InvalidRequest"/>) when the adapter
    /// says a value is wrong (ArgumentException, FormatException); otherwise the command cannot go to the device (E20).
    /// </summary>
    public static string CodeFor(Exception fault, GatewayResponseCodes codes)
    {
        ArgumentNullException.ThrowIfNull(codes);
        return fault is ArgumentException or FormatException ? codes.InvalidRequest : ResponseCode.UnableToCommunicate.Code;
    }
}
