using OpenDcc.Core.Identifiers;

namespace OpenDcc.Core.Alerts;

/// <summary>
/// Where the device side reports that an 11.1 Update Firmware image could not be delivered to one of the devices its
/// request lists (unreachable, or no answer, after the retries). DUIS has a DCC Alert for it
/// (<c>FirmwareDistributionFailure</c>, naming the request and the meters), where an asynchronous E20/E21 to the 11.1
/// could not say which of its devices failed.
/// </summary>
public interface IFirmwareDistributionSink
{
    /// <param name="updateFirmwareRequest">The 11.1 request.</param>
    /// <param name="user">Who sent it, and gets the alert at the response URL it has then (none: kept in the failed queue).</param>
    /// <param name="reason">Why, for the log.</param>
    Task NotDeliveredAsync(RequestId updateFirmwareRequest, Eui64 device, Eui64 user, string reason, CancellationToken cancellationToken = default);
}
