namespace OpenDcc.Core.Delivery;

/// <summary>
/// A message for a DCC user with no response URL, kept in the failed queue (DUIS §1.6 holds undeliverable messages there)
/// by the transaction that logs it (<see cref="Security.MessageLogRecord.HeldInFailedQueue"/>): no destination, one
/// attempt made (not sent) at the record's time, <paramref name="Error"/> its last error. From there it goes as any failed
/// message does: sent again (<see cref="IDeliveryStore.RequeueFailedAsync"/>) to the URL the user has by then, or purged.
/// </summary>
/// <param name="What">What it is, as <see cref="OutboundMessage.What"/> says.</param>
public sealed record FailedQueueHold(string Error, string? What);
