using NodaTime;
using OpenDcc.Core;
using OpenDcc.Core.Delivery;
using OpenDcc.Core.Duis;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Security;

namespace OpenDcc.Storage.Tests;

/// <summary>
/// Puts a message in the delivery queue as the hub does (DeviceResponseSender.DeliverAsync): with the message log entry
/// that hands it over, which names where it goes and carries the message, the queue reading its bytes from the entry
/// (each attempt's entry names that entry rather than holding the bytes again).
/// </summary>
internal static class Queueing
{
    private const string HandedOver = " queued for delivery to ";

    /// <returns>The queued message's <see cref="OutboundMessage.Id"/>.</returns>
    public static async Task<long> QueueAsync(this OpenDccStore store, Eui64 user, Uri destination, string correlation, byte[] payload, Instant at, CommandKey? answers = null, string? what = null)
    {
        await store.MessageLog.AppendAsync([new MessageLogRecord(at, MessageDirection.Outbound, user, correlation, Excerpt.Of($"{what ?? "message"}{HandedOver}{destination}"), payload)
        {
            Answers = answers,
            QueuedForDelivery = new QueuedDelivery(destination, what),
        }]);
        // Read by its user and correlation whatever its state: a running dispatcher may have delivered it already.
        await using var connection = await store.OpenConnectionAsync();
        await using var newest = connection.Command("SELECT max(id) FROM outbound_message WHERE user_id = @user AND correlation = @correlation")
            .With("@user", user.ToString()).With("@correlation", correlation);
        return Convert.ToInt64(await newest.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// Settles an attempt at message <paramref name="id"/> as delivered, as the dispatcher does
    /// (ResponseDispatcher.DeliverAsync): with the attempt's log entry, which names the entry holding the bytes sent, or
    /// holds them when the message has its own.
    /// </summary>
    public static Task SettleDeliveredAsync(this OpenDccStore store, long id, Instant at) =>
        store.SettleAsync(id, at, error: null, nextAttemptAt: null);

    /// <summary>
    /// Settles an attempt at message <paramref name="id"/> as failed, as the dispatcher does: with the attempt's log entry,
    /// the message due again at <paramref name="nextAttemptAt"/> or, when that is null, moved to the failed queue.
    /// </summary>
    public static Task SettleFailedAsync(this OpenDccStore store, long id, string error, Instant at, Instant? nextAttemptAt) =>
        store.SettleAsync(id, at, error ?? throw new ArgumentNullException(nameof(error)), nextAttemptAt);

    private static async Task SettleAsync(this OpenDccStore store, long id, Instant at, string? error, Instant? nextAttemptAt)
    {
        // The entry names the message's user and correlation, as the dispatcher's does: a test settles a message it queued.
        var message = await store.Delivery.FindAsync(id) ?? throw new InvalidOperationException($"message {id} is not in the queue to settle");
        var (outcome, bytes) = (error, message.PayloadEntry) switch
        {
            (null, { } entry) => ($"Delivered; the bytes of entry {entry}", ReadOnlyMemory<byte>.Empty),
            (null, null) => ("Delivered", message.Payload),
            _ => ("Failed", ReadOnlyMemory<byte>.Empty),
        };
        await store.MessageLog.AppendAsync([new MessageLogRecord(at, MessageDirection.Outbound, message.User, message.Correlation, outcome, bytes)
        {
            SettlesDelivery = new DeliveryAttempt(id, error, nextAttemptAt),
        }]);
    }

    /// <summary>Whether <paramref name="record"/> is the entry <see cref="QueueAsync"/> wrote: a test of delivery looks at the attempts' entries.</summary>
    public static bool IsHandingOver(MessageLogRecord record) => record.Outcome.Contains(HandedOver, StringComparison.Ordinal);
}
