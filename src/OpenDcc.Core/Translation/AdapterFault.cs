using OpenDcc.Core.Catalogue;
using OpenDcc.Core.Duis;

namespace OpenDcc.Core.Translation;

/// <summary>What a user is told when a translation adapter (a manufacturer's) throws while making a command.</summary>
public static class AdapterFault
{
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
