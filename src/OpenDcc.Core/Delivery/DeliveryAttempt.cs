using NodaTime;

namespace OpenDcc.Core.Delivery;

/// <summary>
/// The outcome of an attempt to deliver queued message <paramref name="MessageId"/>, recorded in the transaction that
/// logs the attempt (<see cref="Security.MessageLogRecord.SettlesDelivery"/>) at the record's time: so the attempt is
/// logged and the queue knows its outcome, or neither, in the log's group commit rather than a commit of their own.
/// </summary>
/// <param name="Error">Null when it was delivered (<see cref="IDeliveryStore.MarkDeliveredAsync"/>); otherwise why not (<see cref="IDeliveryStore.RecordFailureAsync"/>).</param>
/// <param name="NextAttemptAt">After a failure, when it is tried next; null: it goes to the failed queue.</param>
public sealed record DeliveryAttempt(long MessageId, string? Error, Instant? NextAttemptAt);
