using NodaTime;
using OpenDcc.Core;
using OpenDcc.Core.Delivery;
using OpenDcc.Core.Duis;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Security;

namespace OpenDcc.Storage.Tests;

/// <summary>
/// Puts a message in the delivery queue as the hub does (DeviceResponseSender.DeliverAsync): with the message log entry
/// that hands it over, which names where it goes and carries no bytes (each attempt's entry logs what it sends).
/// </summary>
internal static class Queueing
{
    private const string HandedOver = " queued for delivery to ";

    /// <returns>The queued message's <see cref="OutboundMessage.Id"/>.</returns>
    public static async Task<long> QueueAsync(this OpenDccStore store, Eui64 user, Uri destination, string correlation, byte[] payload, Instant at, CommandKey? answers = null, string? what = null)
    {
        await store.MessageLog.AppendAsync([new MessageLogRecord(at, MessageDirection.Outbound, user, correlation, Excerpt.Of($"{what ?? "message"}{HandedOver}{destination}"), ReadOnlyMemory<byte>.Empty)
        {
            Answers = answers,
            QueuedForDelivery = new QueuedDelivery(destination, payload, what),
        }]);
        // Read by its user and correlation whatever its state: a running dispatcher may have delivered it already.
        await using var connection = await store.OpenConnectionAsync();
        await using var newest = connection.Command("SELECT max(id) FROM outbound_message WHERE user_id = @user AND correlation = @correlation")
            .With("@user", user.ToString()).With("@correlation", correlation);
        return Convert.ToInt64(await newest.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Whether <paramref name="record"/> is the entry <see cref="QueueAsync"/> wrote: a test of delivery looks at the attempts' entries.</summary>
    public static bool IsHandingOver(MessageLogRecord record) => record.Payload.IsEmpty && record.Outcome.Contains(HandedOver, StringComparison.Ordinal);
}
