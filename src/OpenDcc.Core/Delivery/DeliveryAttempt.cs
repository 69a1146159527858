using NodaTime;

namespace OpenDcc.Core.Delivery;

/// <summary>
/// The outcome of an attempt to deliver queued message <paramref name="MessageId"/>, recorded in the transaction that
/// logs the attempt (<see cref="Security.MessageLogRecord.SettlesDelivery"/>) at the record's time: so the attempt is
/// logged and the queue knows its outcome, or neither, in the log's group commit rather than a commit of their own.
/// </summary>
/// <param name="Error">
/// Null when it was delivered: the message is delivered whatever its state. Otherwise why not: a message still pending
/// is due again at <paramref name="NextAttemptAt"/>; one delivered or failed meanwhile is left as it is.
/// </param>
/// <param name="NextAttemptAt">After a failure, when it is tried next; null: it goes to the failed queue.</param>
public sealed record DeliveryAttempt(long MessageId, string? Error, Instant? NextAttemptAt);
