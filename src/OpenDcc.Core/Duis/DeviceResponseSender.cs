using NodaTime;
using OpenDcc.Core.Delivery;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Parties;
using OpenDcc.Core.Security;
using OpenDcc.Core.Wan;

namespace OpenDcc.Core.Duis;

/// <summary>Where the device side hands the outcome of a device request: the answer, or why there is none.</summary>
public interface IDeviceResponseSink
{
    /// <param name="user">Who sent the request; a DUIS response goes to the response URL the user has when it is sent.</param>
    /// <param name="route">Whether the request was a user's or one of OpenDcc's own reads.</param>
    /// <param name="reason">
    /// Why, when the code is the hub's own rather than the device's answer (E20, E21, E41): kept in the message log beside
    /// the response, which has no field to carry it to the user.
    /// </param>
    Task SendAsync(DeviceRequestReference request, string code, ResponsePayload payload, Eui64 user, DeviceAnswerRoute route, string? reason = null, CancellationToken cancellationToken = default);
}

/// <summary>Where the answer to a device command goes.</summary>
public enum DeviceAnswerRoute
{
    /// <summary>To the user who sent the request: a signed DUIS response, to the response URL the user has when the answer comes.</summary>
    User,

    /// <summary>Back to OpenDcc's own reader, waiting in <see cref="DeviceReadReturns"/>: neither signed nor delivered.</summary>
    OpenDccRead,
}

/// <summary>
/// Sends the asynchronous DUIS response to a device request (ARCHITECTURE §4 step 4): built from what the device
/// answered (or why it could not), signed by the DSP, delivered to the user's response URL with retries and a failed
/// queue, into that queue at once when the user has none. Device alerts go out the same way (<see cref="DeliverAsync"/>).
/// Answers to OpenDcc's own reads (<see cref="DeviceAnswerRoute.OpenDccRead"/>) go back to their reader instead.
/// </summary>
/// <remarks>
/// The response URL is the user's as it is when the message is handed to delivery, not as it was when the request came:
/// a device may answer minutes later (WAN retries), and a user that moved its endpoint meanwhile gets the answer at the
/// new one; messages already queued go there from their next attempt (<see cref="IDeliveryStore.ClaimDueAsync"/>).
/// </remarks>
public sealed class DeviceResponseSender(DuisMessageSecurity security, ResponseDispatcher dispatcher, MessageLogWriter log, DeviceReadReturns reads, IPartyStore parties, IClock clock) : IDeviceResponseSink
{
    public async Task SendAsync(DeviceRequestReference request, string code, ResponsePayload payload, Eui64 user, DeviceAnswerRoute route, string? reason = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (route == DeviceAnswerRoute.OpenDccRead)
        {
            // Not a DUIS request: nothing to sign or deliver; a late answer nobody waits for is dropped.
            reads.Return(request.RequestId, code, payload);
            return;
        }
        var response = new DuisResponse(request.RequestId, code, clock.GetCurrentInstant(), request.ServiceReference, request.ServiceReferenceVariant, payload, request.SchemaVersion);
        await DeliverAsync(security.Sign(response), user, request.RequestId.ToString(), reason is null ? code : $"{code} {reason}", new CommandKey(request.RequestId, request.Device), cancellationToken);
    }

    /// <summary>
    /// Hands a signed message for a user to delivery (retries, failed queue) at the user's response URL as it is now.
    /// A DCC user with no response URL registered gets it in the failed queue at once, as any message undeliverable
    /// (<see cref="NoResponseUrl"/>), sent again from there once a URL is set; one not known as a DCC user has no queue,
    /// and the message is logged as undeliverable only. <paramref name="what"/> names it in the log entry.
    /// </summary>
    /// <param name="answers">The acknowledged command whose outcome this is: no longer unanswered once it is handed on (<see cref="UnansweredCommand"/>).</param>
    public async Task DeliverAsync(byte[] signed, Eui64 user, string correlation, string what, CommandKey? answers = null, CancellationToken cancellationToken = default)
    {
        var known = await parties.FindUserAsync(user, cancellationToken);
        if (known?.ResponseUrl is { } responseUrl)
        {
            // Logged and queued in one transaction, which the log's group commit shares with the entries logged with it.
            // This entry says when and where the message was handed over, and holds it: the queue reads the bytes from
            // it rather than keeping a copy, and each attempt's entry names it rather than holding them again.
            await log.AppendAsync([new MessageLogRecord(clock.GetCurrentInstant(), MessageDirection.Outbound, user, correlation, Excerpt.Of($"{what} queued for delivery to {responseUrl}"), signed) { Answers = answers, QueuedForDelivery = new QueuedDelivery(responseUrl, what) }], cancellationToken);
            dispatcher.NotifyEnqueued();
            return;
        }
        var why = known is null ? $"{user} is not a DCC user" : $"{NoResponseUrl}; held in the failed queue";
        // Logged and held in the failed queue in one transaction: never one without the other.
        var held = known is null
            ? null
            : new FailedQueueHold($"{NoResponseUrl}; {ResponseDispatcher.LeavesFailedQueueOnceUrlSet(user)}", what);
        await log.AppendAsync([new MessageLogRecord(clock.GetCurrentInstant(), MessageDirection.Outbound, user, correlation, $"{what} undeliverable: {why}", signed) { Answers = answers, HeldInFailedQueue = held }], cancellationToken);
    }

    /// <summary>Why a message for a DCC user with none is in the failed queue: the start of its last error, and of its message log entry's outcome.</summary>
    public const string NoResponseUrl = "no response URL registered";
}

/// <summary>What a device response must echo of its request, and the device the command went to (for 11.1, one of several).</summary>
public sealed record DeviceRequestReference(RequestId RequestId, string ServiceReference, string ServiceReferenceVariant, string SchemaVersion, Eui64 Device);
