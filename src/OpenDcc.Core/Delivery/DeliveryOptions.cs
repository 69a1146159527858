using NodaTime;

namespace OpenDcc.Core.Delivery;

/// <summary>
/// How OpenDcc delivers responses and alerts. The defaults follow the DCC's handling of Device Alerts: at least
/// one retry within 300 s, then the failed queue, where undelivered messages are held for 2 days.
/// </summary>
public sealed record DeliveryOptions
{
    public static DeliveryOptions Default { get; } = new();

    /// <summary>
    /// When to retry after a failed attempt, counted from when the message was queued (the first attempt is at
    /// once). Ascending; the default ends at 290 s so that no attempt is made after the 300 s window.
    /// </summary>
    public IReadOnlyList<Duration> RetryAfter { get; init; } =
        [Duration.FromSeconds(10), Duration.FromSeconds(60), Duration.FromSeconds(150), Duration.FromSeconds(290)];

    /// <summary>How long a failed message waits in the failed queue, from the end of its retry window, before it is purged.</summary>
    public Duration FailedRetention { get; init; } = Duration.FromDays(2);

    /// <summary>
    /// Re-delivery from the failed queue: once a message reaches a user again (their connection is restored), the
    /// user's failed messages are sent again, each at most once per this interval, so that a message the user's
    /// endpoint keeps refusing is not resent with every other message that gets through.
    /// </summary>
    public Duration RedeliverAfter { get; init; } = Duration.FromMinutes(5);

    /// <summary>
    /// How many of a user's failed messages go back at a time when the user is reached again: the next ones when a
    /// message reaches the user once more, so a backlog of two days drains in step with delivery, and messages queued
    /// meanwhile, other users' among them, wait behind one batch, not behind the whole backlog.
    /// </summary>
    public int RedeliverBatchSize { get; init; } = 500;

    /// <summary>
    /// How long a delivered message stays in the queue. The message log records every delivery for good; a
    /// short retention keeps the queue table small at GB volumes (about 1,500 messages a second).
    /// </summary>
    public Duration DeliveredRetention { get; init; } = Duration.FromHours(1);

    /// <summary>How long one POST may take before it counts as failed.</summary>
    public Duration RequestTimeout { get; init; } = Duration.FromSeconds(10);

    /// <summary>
    /// After an endpoint times out or cannot be reached, how long nothing more is sent there: the messages due there
    /// meanwhile fail that attempt without a POST and follow their retry schedule. Best no longer than the first
    /// retry, so that a message queued as the endpoint failed is sent again once it may be back.
    /// </summary>
    public Duration UnreachableHoldOff { get; init; } = Duration.FromSeconds(10);

    /// <summary>
    /// How many deliveries one dispatcher has in flight at once. Each waits for its endpoint's answer and then for its
    /// attempt's log entry to be committed (with others', a few milliseconds under load), so this many in flight is what
    /// lets delivery keep pace with a loaded gateway: with 4 a 2-core hub delivered about 700 responses a second while
    /// its gateway answered 2,500 a second and more (the gateway benchmark, <c>--response-urls yes</c>); with 256, as many
    /// as it answers. Endpoints that do not answer are held off (<see cref="UnreachableHoldOff"/>), so they tie up one each.
    /// </summary>
    public int MaxConcurrentDeliveries { get; init; } = 256;

    /// <summary>
    /// How many POSTs one dispatcher has in progress at once to one endpoint: an origin (scheme, host and port), so users
    /// whose response URLs share one count together. Each is on a connection of its own (HTTP/1.1), so this is also how many
    /// connections the endpoint gets (<see cref="ResponseDispatcher.CreateHandler"/>); without it all
    /// <see cref="MaxConcurrentDeliveries"/> could go to one user's system at once, which a DCC user's endpoint would not
    /// expect. 32 is enough for the busiest user at GB volumes: if one has a third of about 1,500 messages a second and a
    /// POST takes up to 50 ms, 500 × 0.05 s = 25 are in progress at once (Little's law), where 16 would hold it to 320 a
    /// second. Users sharing one endpoint share its 32: the gateway benchmark's 128 users on one endpoint fell behind its
    /// gateway (the last delivery 324 and 423 ms after the last I99, against 9 and 64 ms without the cap), so each has its own.
    /// The dispatcher keeps to it itself: a due message whose endpoint has this many in progress is not started but waits,
    /// claimed, behind the others waiting there, and starts as one there finishes, so its <see cref="RequestTimeout"/> runs
    /// from when it is sent, and it takes none of <see cref="MaxConcurrentDeliveries"/> while it waits. One endpoint's
    /// backlog (a slow user's, oldest due) so takes at most this many workers, and meanwhile the dispatcher's claims leave
    /// the waiting messages' users out and bring other users' due messages to the rest. A message waiting behind an endpoint
    /// that then times out is not sent, the endpoint held off (<see cref="UnreachableHoldOff"/>). How long one may wait
    /// bounds <see cref="ClaimLease"/> (<see cref="Validate"/>).
    /// </summary>
    public int MaxConnectionsPerEndpoint { get; init; } = 32;

    /// <summary>How many due messages one claim takes: as many as can be in flight, so that a claim (a write to the store) fills every free worker.</summary>
    public int ClaimBatchSize { get; init; } = 256;

    /// <summary>
    /// How long a claim keeps other nodes off a message. Must outlast the slowest batch (every POST timing out), and
    /// a claimed message's wait for its endpoint (<see cref="MaxConnectionsPerEndpoint"/>) and then its attempt when a whole
    /// batch waits for one endpoint that times out each POST, or a live node's messages would be sent twice.
    /// </summary>
    public Duration ClaimLease { get; init; } = Duration.FromMinutes(2);

    /// <summary>How often the dispatcher looks for due messages when nothing wakes it sooner.</summary>
    public Duration PollInterval { get; init; } = Duration.FromSeconds(1);

    /// <summary>How many attempts a message gets before it is failed: the first and one per retry.</summary>
    public int MaxAttempts => 1 + RetryAfter.Count;

    /// <exception cref="ArgumentException">a setting is out of range; the message names it.</exception>
    public void Validate()
    {
        ArgumentNullException.ThrowIfNull(RetryAfter);
        for (var i = 0; i < RetryAfter.Count; i++)
        {
            if (RetryAfter[i] <= Duration.Zero || (i > 0 && RetryAfter[i] <= RetryAfter[i - 1]))
            {
                throw new ArgumentException($"retry offsets must be positive and ascending (offset {i + 1} is {RetryAfter[i]})", nameof(RetryAfter));
            }
        }
        RequirePositive(FailedRetention, nameof(FailedRetention));
        RequirePositive(RedeliverAfter, nameof(RedeliverAfter));
        RequirePositive(DeliveredRetention, nameof(DeliveredRetention));
        RequirePositive(RequestTimeout, nameof(RequestTimeout));
        RequirePositive(UnreachableHoldOff, nameof(UnreachableHoldOff));
        RequirePositive(PollInterval, nameof(PollInterval));
        if (MaxConcurrentDeliveries < 1)
        {
            throw new ArgumentException($"at least one concurrent delivery is needed (got {MaxConcurrentDeliveries})", nameof(MaxConcurrentDeliveries));
        }
        if (MaxConnectionsPerEndpoint < 1)
        {
            throw new ArgumentException($"at least one connection per endpoint is needed (got {MaxConnectionsPerEndpoint})", nameof(MaxConnectionsPerEndpoint));
        }
        if (RedeliverBatchSize < 1)
        {
            throw new ArgumentException($"a redelivery must take at least one message (got {RedeliverBatchSize})", nameof(RedeliverBatchSize));
        }
        if (ClaimBatchSize < 1)
        {
            throw new ArgumentException($"a claim must take at least one message (got {ClaimBatchSize})", nameof(ClaimBatchSize));
        }
        var slowestBatch = RequestTimeout * ((ClaimBatchSize + MaxConcurrentDeliveries - 1) / MaxConcurrentDeliveries);
        if (ClaimLease <= slowestBatch)
        {
            throw new ArgumentException($"the claim lease ({ClaimLease}) must outlast a batch in which every request times out ({slowestBatch})", nameof(ClaimLease));
        }
        // At most a batch waits for endpoints with MaxConnectionsPerEndpoint in progress: the last of a batch waiting for one
        // endpoint starts once those and the batch's messages ahead of it have ended, MaxConnectionsPerEndpoint at a time,
        // then takes its own RequestTimeout.
        var longestWait = RequestTimeout * ((ClaimBatchSize + MaxConnectionsPerEndpoint - 1) / MaxConnectionsPerEndpoint + 1);
        if (ClaimLease <= longestWait)
        {
            throw new ArgumentException(
                $"the claim lease ({ClaimLease}) must outlast a batch waiting for one endpoint, {MaxConnectionsPerEndpoint} at a time (MaxConnectionsPerEndpoint), every request timing out ({longestWait}): lengthen ClaimLease, or shorten ClaimBatchSize or RequestTimeout",
                nameof(ClaimLease));
        }
    }

    private static void RequirePositive(Duration value, string name)
    {
        if (value <= Duration.Zero)
        {
            throw new ArgumentException($"{name} must be positive (got {value})", name);
        }
    }
}
