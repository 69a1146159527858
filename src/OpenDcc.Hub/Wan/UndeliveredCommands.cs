using OpenDcc.Core.Alerts;
using OpenDcc.Core.Catalogue;
using OpenDcc.Core.Duis;
using OpenDcc.Core.Identifiers;

namespace OpenDcc.Hub.Wan;

/// <summary>How a user hears that an accepted command never got an answer from its device.</summary>
internal static class UndeliveredCommands
{
    /// <summary>11.1 Update Firmware, which lists several devices under one RequestID.</summary>
    private const string UpdateFirmware = "11.1";

    /// <summary>
    /// Reports a command that did not reach its device, or was not answered: <paramref name="code"/> (E20, E21; E41 for
    /// one its adapter could not put into the device's format) as the device's asynchronous response; for 11.1, whose
    /// code could not say which device failed, the DCC alert that names it.
    /// </summary>
    /// <param name="reason">Why, for the message log and the hub's log.</param>
    public static Task ReportAsync(IDeviceResponseSink responses, IFirmwareDistributionSink firmwareDistribution, DeviceRequestReference request, Eui64 user, DeviceAnswerRoute route, string code, string reason) =>
        request.ServiceReferenceVariant == UpdateFirmware
            ? firmwareDistribution.NotDeliveredAsync(request.RequestId, request.Device, user, reason)
            : responses.SendAsync(request, code, new ResponsePayload.None(), user, route, reason);
}
