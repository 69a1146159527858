using NodaTime;
using OpenDcc.Core.Identifiers;

namespace OpenDcc.Core.Delivery;

/// <summary>
/// The persistent outbound queue of responses and alerts to DCC users. A message enters it only with the message log
/// entry that hands it over (<see cref="Security.MessageLogRecord.QueuedForDelivery"/>, or
/// <see cref="Security.MessageLogRecord.HeldInFailedQueue"/> for a user with no response URL), in the log's transaction,
/// so nothing is queued that is not logged. Its bytes are that entry's payload, kept once, in the entry (each attempt's
/// entry names it: <see cref="OutboundMessage.PayloadEntry"/>); an entry removed
/// from the log (<see cref="Security.IMessageLog.RemoveThroughAsync"/>) gives them to its message first, whatever the
/// message's state, so a message never loses them. Delivery is at least once: a node that
/// claims a message and dies before recording the outcome loses its claim when the lease ends, and another
/// node sends the message again (DUIS users recognise a repeat by its RequestID).
/// </summary>
public interface IDeliveryStore
{
    /// <summary>
    /// Claims up to <paramref name="max"/> pending messages due by <paramref name="now"/>, oldest due first, for
    /// <paramref name="lease"/>: nobody else claims them until the lease ends or their outcome is recorded. Each claimed
    /// message's <see cref="OutboundMessage.Destination"/> becomes its user's response URL as it is now (unchanged when the
    /// user has none or is not a DCC user), so a user that moves its endpoint gets every message not yet delivered there;
    /// one whose user has no response URL (any more, or yet) is <see cref="OutboundMessage.NoResponseUrl"/>.
    /// </summary>
    /// <param name="exceptUsers">
    /// Users none of whose messages are claimed this time, however long due: those the caller still holds claimed messages
    /// of that wait for their endpoint (<see cref="ResponseDispatcher"/>), so that the claim brings other users' due messages
    /// rather than more of a backlog already waiting. Null or empty: every user's.
    /// </param>
    Task<IReadOnlyList<OutboundMessage>> ClaimDueAsync(Instant now, int max, Duration lease, IReadOnlyCollection<Eui64>? exceptUsers = null, CancellationToken cancellationToken = default);

    Task<OutboundMessage?> FindAsync(long id, CancellationToken cancellationToken = default);

    /// <summary>
    /// The messages in <paramref name="state"/>, of one user or of all: the failed queue oldest failure first, those
    /// pending soonest due first (delivered ones in the order queued); with <paramref name="max"/>, at most that many.
    /// </summary>
    Task<IReadOnlyList<OutboundMessage>> ListAsync(DeliveryState state, Eui64? user = null, int? max = null, CancellationToken cancellationToken = default);

    /// <summary>How many messages are in <paramref name="state"/>, of one user or of all.</summary>
    Task<long> CountAsync(DeliveryState state, Eui64? user = null, CancellationToken cancellationToken = default);

    /// <summary>The users with at least one message in the failed queue.</summary>
    Task<IReadOnlyList<Eui64>> UsersWithFailedAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Re-delivery when a user's connection is restored: moves the failed messages of <paramref name="user"/>
    /// (of every user when null) back to pending, due at <paramref name="now"/>; with
    /// <paramref name="lastAttemptBefore"/>, only those last attempted before then; with <paramref name="max"/>, at most
    /// that many, those last attempted longest ago.
    /// </summary>
    /// <returns>How many were requeued.</returns>
    Task<int> RequeueFailedAsync(Eui64? user, Instant now, Instant? lastAttemptBefore = null, int? max = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Ends every claim (<see cref="ClaimDueAsync"/>): for a hub starting on a store it alone holds (the hub lease), whose
    /// claims are all a stopped hub's, so that their messages go now rather than when the leases run out. A message
    /// whose POST the stopped hub had sent but not yet recorded goes again: delivery is at least once, and the user
    /// tells a repeat by its ResponseID.
    /// </summary>
    /// <returns>How many claims were ended.</returns>
    Task<int> ReleaseClaimsAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Deletes up to <paramref name="max"/> failed messages queued before <paramref name="queuedBefore"/> (see
    /// <see cref="RetryPolicy.FailedExpiryCutoff"/>), however recently they were sent again, the longest queued first.
    /// </summary>
    /// <returns>Those deleted, longest queued first.</returns>
    Task<IReadOnlyList<PurgedMessage>> PurgeExpiredFailedAsync(Instant queuedBefore, int max, CancellationToken cancellationToken = default);

    /// <summary>
    /// Deletes delivered messages delivered before <paramref name="olderThan"/>. The message log keeps the record
    /// of each delivery; the queue need not. A store may delete them a chunk at a time, each chunk its own transaction,
    /// so that a large backlog does not hold its writes up: one that fails part way leaves the chunks before deleted.
    /// </summary>
    /// <returns>How many were deleted.</returns>
    Task<int> PurgeDeliveredAsync(Instant olderThan, CancellationToken cancellationToken = default);
}
