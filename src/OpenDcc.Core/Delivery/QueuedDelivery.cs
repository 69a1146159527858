namespace OpenDcc.Core.Delivery;

/// <summary>
/// A message queued for delivery to <paramref name="Destination"/>, due at once, by the transaction that logs its handing
/// over (<see cref="Security.MessageLogRecord.QueuedForDelivery"/>): so the message is queued with its log entry, and with
/// the command it answers no longer unanswered (<see cref="Security.MessageLogRecord.Answers"/>), or none of them is. A
/// commit per message of its own would cost each device response a commit (an fsync on SQLite); in the message log's
/// transaction it shares one with the requests and responses logged with it. The message is that entry's payload, which
/// the queue reads from the entry rather than keeping a copy of its own; each attempt's entry names it
/// (<see cref="OutboundMessage.PayloadEntry"/>) rather than holding the bytes again.
/// </summary>
/// <param name="What">What it is, as <see cref="OutboundMessage.What"/> says.</param>
public sealed record QueuedDelivery(Uri Destination, string? What)
{
    /// <summary>Where the message is sent: an absolute http or https URL.</summary>
    /// <exception cref="ArgumentException">it is not one.</exception>
    public Uri Destination { get; } = RefuseUnlessHttp(Destination);

    private static Uri RefuseUnlessHttp(Uri destination)
    {
        ArgumentNullException.ThrowIfNull(destination, nameof(Destination));
        return destination.IsAbsoluteUri && (destination.Scheme == Uri.UriSchemeHttp || destination.Scheme == Uri.UriSchemeHttps)
            ? destination
            : throw new ArgumentException($"destination '{destination}' must be an absolute http or https URL", nameof(Destination));
    }
}
