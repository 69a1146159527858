using NodaTime;
using OpenDcc.Core.Identifiers;

namespace OpenDcc.Core.Delivery;

/// <summary>Where an outbound message is in its delivery.</summary>
public enum DeliveryState
{
    /// <summary>Waiting for its next attempt.</summary>
    Pending = 1,

    /// <summary>The user's endpoint accepted it (any 2xx).</summary>
    Delivered = 2,

    /// <summary>
    /// Undeliverable within the retry window: held in the failed queue for re-delivery when the user's
    /// connection is restored, and purged when the retention period ends.
    /// </summary>
    Failed = 3,
}

/// <summary>
/// A signed DUIS response or alert on its way to a DCC user's registered response URL.
/// </summary>
/// <param name="Id">The queue's number for it, unique for the life of the store.</param>
/// <param name="User">The DCC user it goes to.</param>
/// <param name="Destination">
/// Where it is sent: the user's response URL when it was queued, then as it was when last claimed for an attempt
/// (<see cref="IDeliveryStore.ClaimDueAsync"/>); null while it has never had one (<see cref="FailedQueueHold"/>).
/// </param>
/// <param name="Correlation">The DUIS RequestID it answers, or the alert's identity.</param>
/// <param name="Payload">The signed XML, POSTed exactly as it is.</param>
/// <param name="EnqueuedAt">When it was queued; the retry schedule counts from here.</param>
/// <param name="Attempts">How many attempts have finished (successful or not).</param>
/// <param name="NextAttemptAt">When a pending message is next due.</param>
/// <param name="LastError">Why the last failed attempt failed (<c>HTTP 500 Internal Server Error</c>, a timeout …).</param>
/// <param name="LastAttemptAt">When the last attempt finished.</param>
/// <param name="What">
/// What it is, as each attempt's message log entry says before the attempt's outcome: its DUIS response code, and for
/// one the hub made up itself (E20, E21 …) why; a DCC alert's code and cause. Null if not said.
/// </param>
/// <param name="PayloadEntry">
/// The sequence of the message log entry that handed it over (<see cref="Security.MessageLogRecord.QueuedForDelivery"/>,
/// <see cref="Security.MessageLogRecord.HeldInFailedQueue"/>), whose payload is <see cref="Payload"/>: each attempt's entry
/// names it rather than holding the bytes again. Null when the message has its bytes of its own: queued before the queue
/// read them from the log (migration 0041), or given them as that entry was archived.
/// </param>
/// <param name="NoResponseUrl">
/// Claimed (<see cref="IDeliveryStore.ClaimDueAsync"/>) while its user had no response URL (removed since the message
/// was queued, or never registered): it is not sent (not to <see cref="Destination"/>, the URL the user no longer has),
/// only its attempt counted.
/// </param>
public sealed record OutboundMessage(
    long Id,
    Eui64 User,
    Uri? Destination,
    string Correlation,
    byte[] Payload,
    Instant EnqueuedAt,
    int Attempts,
    Instant NextAttemptAt,
    DeliveryState State,
    string? LastError,
    Instant? LastAttemptAt = null,
    string? What = null,
    long? PayloadEntry = null,
    bool NoResponseUrl = false);

/// <summary>
/// A failed message deleted at the end of its retention (<see cref="IDeliveryStore.PurgeExpiredFailedAsync"/>): what its
/// message log entry says of it, the user never having had it.
/// </summary>
public sealed record PurgedMessage(long Id, Eui64 User, string Correlation, string? What, int Attempts, string? LastError, Instant EnqueuedAt);
