using NodaTime;
using OpenDcc.Core.Delivery;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Security;

namespace OpenDcc.Core.Duis;

/// <summary>Where the device side hands the outcome of a device request: the answer, or why there is none.</summary>
public interface IDeviceResponseSink
{
    /// <param name="responseUrl">The user's registered response URL; null when the user has none.</param>
    Task SendAsync(DeviceRequestReference request, string code, ResponsePayload payload, Eui64 user, Uri? responseUrl, CancellationToken cancellationToken = default);
}

/// <summary>
/// Sends the asynchronous DUIS response to a device request (ARCHITECTURE §4 step 4): built from what the device
/// answered (or why it could not), signed by the DSP, delivered to the user's response URL with retries and a failed
/// queue, or logged as undeliverable when the user has none. Device alerts go out the same way (<see cref="DeliverAsync"/>).
/// </summary>
public sealed class DeviceResponseSender(DuisMessageSecurity security, ResponseDispatcher dispatcher, MessageLogWriter log, IClock clock) : IDeviceResponseSink
{
    /// <param name="responseUrl">The user's registered response URL; null logs the signed response as undeliverable.</param>
    public async Task SendAsync(DeviceRequestReference request, string code, ResponsePayload payload, Eui64 user, Uri? responseUrl, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var response = new DuisResponse(request.RequestId, code, clock.GetCurrentInstant(), request.ServiceReference, request.ServiceReferenceVariant, payload, request.SchemaVersion);
        await DeliverAsync(security.Sign(response), user, responseUrl, request.RequestId.ToString(), code, cancellationToken);
    }

    /// <summary>
    /// Hands a signed message for a user to delivery (retries, failed queue), or, when the user has no response URL,
    /// logs it as undeliverable; <paramref name="what"/> names it in that log entry.
    /// </summary>
    public async Task DeliverAsync(byte[] signed, Eui64 user, Uri? responseUrl, string correlation, string what, CancellationToken cancellationToken = default)
    {
        if (responseUrl is null)
        {
            await log.AppendAsync([new MessageLogRecord(clock.GetCurrentInstant(), MessageDirection.Outbound, user, correlation, $"{what} undeliverable: the user has no response URL", signed)], cancellationToken);
            return;
        }
        await dispatcher.EnqueueAsync(user, responseUrl, correlation, signed, cancellationToken);
    }
}

/// <summary>What a device response must echo of its request.</summary>
public sealed record DeviceRequestReference(RequestId RequestId, string ServiceReference, string ServiceReferenceVariant, string SchemaVersion);
