using NodaTime;

namespace OpenDcc.Core.Delivery;

/// <summary>
/// When a message is tried again, and how long the queue keeps what it could not deliver. Pure: a function of
/// the options and the instants it is given.
/// </summary>
public sealed class RetryPolicy
{
    private readonly DeliveryOptions options;

    public RetryPolicy(DeliveryOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        this.options = options;
    }

    /// <summary>
    /// The next attempt after a failed one: the first scheduled retry still ahead of <paramref name="failedAt"/>,
    /// or null when the message has had all its attempts or its window has passed, and so goes to the failed queue.
    /// A retry whose time went by while the attempt before it ran (a timeout, a backlog) is skipped, not bunched up,
    /// so no attempt falls after the last scheduled one.
    /// </summary>
    /// <param name="enqueuedAt">When the message was queued.</param>
    /// <param name="attemptsMade">How many attempts have finished, the failed one included.</param>
    /// <param name="failedAt">When the failed attempt finished.</param>
    public Instant? NextAttemptAfterFailure(Instant enqueuedAt, int attemptsMade, Instant failedAt)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(attemptsMade);
        if (attemptsMade >= options.MaxAttempts)
        {
            return null;
        }
        foreach (var offset in options.RetryAfter)
        {
            var at = enqueuedAt + offset;
            if (at > failedAt)
            {
                return at;
            }
        }
        return null;
    }

    /// <summary>
    /// Failed messages queued before this are purged at <paramref name="now"/>: each is held for
    /// <see cref="DeliveryOptions.FailedRetention"/> from the end of its retry window (its last scheduled retry, by which
    /// it has failed), however often it is sent again since, so that one its user's endpoint keeps refusing does not stay
    /// for ever.
    /// </summary>
    public Instant FailedExpiryCutoff(Instant now) => now - options.FailedRetention - RetryWindow;

    /// <summary>When a message queued at <paramref name="enqueuedAt"/> is purged should it fail (see <see cref="FailedExpiryCutoff"/>).</summary>
    public Instant FailedExpiry(Instant enqueuedAt) => enqueuedAt + RetryWindow + options.FailedRetention;

    /// <summary>From queueing to the last scheduled retry: none without retries.</summary>
    private Duration RetryWindow => options.RetryAfter.Count == 0 ? Duration.Zero : options.RetryAfter[^1];

    /// <summary>Delivered messages delivered before this are purged at <paramref name="now"/>.</summary>
    public Instant DeliveredExpiryCutoff(Instant now) => now - options.DeliveredRetention;
}
