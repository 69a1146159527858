using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using NodaTime;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Security;

namespace OpenDcc.Core.Delivery;

/// <summary>What one round of delivery did.</summary>
/// <param name="Delivered">Messages accepted by their user's endpoint.</param>
/// <param name="Retrying">Failed attempts with a retry scheduled.</param>
/// <param name="Failed">Failed attempts that moved their message to the failed queue.</param>
/// <param name="Purged">Delivered and failed messages removed at the end of their retention.</param>
/// <param name="Redelivered">Messages taken from the failed queue to be sent again, their user being reachable again (their attempts are counted above).</param>
public sealed record DeliveryRound(int Delivered, int Retrying, int Failed, int Purged, int Redelivered = 0)
{
    public int Attempts => Delivered + Retrying + Failed;
}

/// <summary>
/// Delivers queued responses and alerts: POSTs each due message to its user's response URL as
/// <c>application/xml</c>, exactly as signed, counts any 2xx as delivered (DCC Boxed clients answer 204), and
/// otherwise retries on the <see cref="RetryPolicy"/> schedule until the message goes to the failed queue. A message
/// that reaches its user shows the user's connection restored: the user's failed messages are sent again in the same
/// round (each at most once per <see cref="DeliveryOptions.RedeliverAfter"/>). An endpoint that times out or cannot be
/// reached is left alone for <see cref="DeliveryOptions.UnreachableHoldOff"/>: the other messages due there meanwhile
/// (whichever user they are for) count a failed attempt (<c>NotSent</c>) at once instead of each waiting out a timeout,
/// so one dead endpoint does not hold up every user's deliveries, and a user that moves to a new endpoint is not held
/// off by its old one. At most <see cref="DeliveryOptions.MaxConnectionsPerEndpoint"/> deliveries to one endpoint are in
/// progress at once, the endpoint's other due messages waiting, claimed, for one of them to finish, so that one slow
/// endpoint's backlog does not take the workers other users' messages need. Every attempt is written to the message log
/// as an outbound entry.
/// </summary>
/// <remarks>
/// Hosting-agnostic: a host runs <see cref="RunAsync"/> for its lifetime (a BackgroundService in the hub) and
/// calls <see cref="NotifyEnqueued"/> once a message is queued (with its message log entry) so that new messages go
/// out at once rather than at the next poll. Several nodes may run dispatchers over one PostgreSQL store: the
/// store's claims keep them off each other's messages.
/// </remarks>
public sealed partial class ResponseDispatcher : IDisposable
{
    public const string XmlContentType = "application/xml";

    private readonly IDeliveryStore store;
    private readonly HttpClient http;
    private readonly IClock clock;
    private readonly DeliveryOptions options;
    private readonly RetryPolicy policy;
    private readonly IMessageLogAppender messageLog;
    private readonly ILogger logger;

    // Capacity one and drop-on-full: any number of notifications while a round runs make exactly one more round.
    private readonly Channel<bool> wake = Channel.CreateBounded<bool>(
        new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });

    private readonly SemaphoreSlim oneRoundAtATime = new(1, 1);

    /// <summary>How often a store away is said while rounds keep failing on it (<see cref="RunAsync"/>).</summary>
    private static readonly Duration StoreAwayLogInterval = Duration.FromSeconds(10);

    // RunAsync's own: since when rounds have failed with the store away, and the lines saying so (afresh each time it goes).
    private Instant? storeAwaySince;
    private LineThrottle storeAwayLines = new(StoreAwayLogInterval);

    /// <summary>Endpoints that timed out or could not be reached: until when nothing is sent there, and why.</summary>
    private readonly ConcurrentDictionary<Uri, (Instant Until, string Why)> unreachable = new();

    /// <summary>How many endpoints are remembered as having timed out or been unreachable (<see cref="DeliveryOptions.UnreachableHoldOff"/>).</summary>
    public int HeldOffEndpoints => unreachable.Count;

    /// <summary>Per user, the lines saying a message moved to the failed queue.</summary>
    private readonly ConcurrentDictionary<Eui64, LineThrottle> failedLines = new();

    /// <summary>
    /// At most one warning a minute per user of messages moved to the failed queue: a user's endpoint that stays down
    /// would otherwise put one line in the hub's log for each of its messages (20 a second, 0.7 GB a day, for one
    /// busy user). The next line logged says how many went meanwhile; <c>opendcc delivery failed</c> lists them all.
    /// </summary>
    private static readonly Duration FailedLogInterval = Duration.FromMinutes(1);

    /// <param name="http">
    /// Used as it is; its handler should be <see cref="CreateHandler"/>'s for the same options (configure TLS and client
    /// certificates on that), and its own timeout should be longer than <see cref="DeliveryOptions.RequestTimeout"/>.
    /// </param>
    /// <param name="messageLog">
    /// Where each attempt is logged, its outcome recorded on the queue in the same transaction (<see cref="DeliveryAttempt"/>):
    /// the hub's group commit (<see cref="MessageLogWriter"/>), so that attempts share commits with everything logged with them.
    /// </param>
    public ResponseDispatcher(
        IDeliveryStore store,
        HttpClient http,
        IClock clock,
        DeliveryOptions options,
        IMessageLogAppender messageLog,
        ILogger<ResponseDispatcher>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(messageLog);
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(clock);
        this.policy = new RetryPolicy(options);
        this.store = store;
        this.http = http;
        this.clock = clock;
        this.options = options;
        this.messageLog = messageLog;
        this.logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>
    /// The handler for the dispatcher's <see cref="HttpClient"/>: it follows no redirects (a followed 302 turns the POST
    /// into a GET whose 200 would count as delivered) and opens at most <see cref="DeliveryOptions.MaxConnectionsPerEndpoint"/>
    /// connections to an endpoint. The dispatcher itself has no more POSTs than that in progress to one endpoint, so none
    /// waits for a connection; the handler's limit holds the endpoint to it whatever else is sent with the client.
    /// </summary>
    /// <exception cref="ArgumentException">a setting of <paramref name="options"/> is out of range; the message names it.</exception>
    public static SocketsHttpHandler CreateHandler(DeliveryOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        return new SocketsHttpHandler { AllowAutoRedirect = false, MaxConnectionsPerServer = options.MaxConnectionsPerEndpoint };
    }

    /// <summary>How a message in the failed queue for want of a response URL leaves it, as its last error says.</summary>
    internal static string LeavesFailedQueueOnceUrlSet(Eui64 user) =>
        $"once one is set ('opendcc users response-url'), it is sent again when a message reaches the user, or by 'opendcc delivery redeliver --user {user}'";

    /// <summary>Tells the running dispatcher that something was queued, so that it runs a round now.</summary>
    public void NotifyEnqueued() => wake.Writer.TryWrite(true);

    /// <summary>Runs rounds until cancelled: at once when notified, otherwise every <see cref="DeliveryOptions.PollInterval"/>.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await RunOnceAsync(cancellationToken);
                if (storeAwaySince is { } since)
                {
                    LogStoreBack((long)(clock.GetCurrentInstant() - since).TotalSeconds);
                    (storeAwaySince, storeAwayLines) = (null, new LineThrottle(StoreAwayLogInterval));
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (StoreAway.Is(e))
            {
                // The database restarting, out of reach or its disk full: said in a line when it goes, then at most every
                // StoreAwayLogInterval (rounds are tried every poll), and once more when it is back.
                var now = clock.GetCurrentInstant();
                if (storeAwayLines.Occurred(now, out _))
                {
                    LogStoreAway(e.Message);
                }
                storeAwaySince ??= now;
            }
            catch (Exception e)
            {
                // The loop outlives any one failure: log it and poll again.
                LogRoundFailed(e);
            }
            using var poll = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            poll.CancelAfter(options.PollInterval.ToTimeSpan());
            try
            {
                await wake.Reader.ReadAsync(poll.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // The poll interval passed without a notification.
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>
    /// Purges what has outlived its retention, then attempts every message due now, a few at a time, and returns
    /// when none is left due. Deterministic under a fake clock; what <see cref="RunAsync"/> does each time it wakes.
    /// </summary>
    public async Task<DeliveryRound> RunOnceAsync(CancellationToken cancellationToken = default)
    {
        await oneRoundAtATime.WaitAsync(cancellationToken);
        try
        {
            var now = clock.GetCurrentInstant();
            ForgetQuietEndpoints(now);
            var purged = await PurgeExpiredFailedAsync(now, cancellationToken)
                + await store.PurgeDeliveredAsync(policy.DeliveredExpiryCutoff(now), cancellationToken);
            int delivered = 0, retrying = 0, failed = 0, redelivered = 0;
            var parallel = new ParallelOptions { MaxDegreeOfParallelism = options.MaxConcurrentDeliveries, CancellationToken = cancellationToken };
            var reached = new ConcurrentDictionary<Eui64, bool>();
            var inFlight = new InFlight();
            while (true)
            {
                await Parallel.ForEachAsync(ClaimDueAsync(inFlight, cancellationToken), parallel, async (message, ct) =>
                {
                    DeliveryState state;
                    try
                    {
                        state = await DeliverAsync(message, cancellationToken);
                    }
                    finally
                    {
                        inFlight.Finished(Origin.Of(message));
                    }
                    _ = state switch
                    {
                        DeliveryState.Delivered => Interlocked.Increment(ref delivered),
                        DeliveryState.Pending => Interlocked.Increment(ref retrying),
                        _ => Interlocked.Increment(ref failed),
                    };
                    if (state == DeliveryState.Delivered)
                    {
                        reached.TryAdd(message.User, true);
                    }
                });
                // The loop ends: a message requeued here is attempted in the next pass, which leaves its last attempt too
                // recent for it to be requeued again.
                var requeued = 0;
                foreach (var user in reached.Keys)
                {
                    requeued += await RedeliverFailedAsync(user, cancellationToken);
                }
                reached.Clear();
                if (requeued == 0)
                {
                    return new DeliveryRound(delivered, retrying, failed, purged, redelivered);
                }
                redelivered += requeued;
            }
        }
        finally
        {
            oneRoundAtATime.Release();
        }
    }

    public void Dispose() => oneRoundAtATime.Dispose();

    /// <summary>
    /// Failed messages at the end of their retention leave the queue a batch at a time, each with a message log entry
    /// saying it was never delivered (what it was, how many attempts, the last error), so that the log tells what became
    /// of every response; one line of the hub's log per user and batch. Deleted, then logged, the logging tried again
    /// while the store is away, as a delivery attempt's is: only a hub that stops while the store is away in between
    /// leaves a batch unlogged.
    /// </summary>
    private async Task<int> PurgeExpiredFailedAsync(Instant now, CancellationToken cancellationToken)
    {
        var total = 0;
        while (true)
        {
            var purged = await store.PurgeExpiredFailedAsync(policy.FailedExpiryCutoff(now), PurgeBatchSize, cancellationToken);
            if (purged.Count == 0)
            {
                return total;
            }
            total += purged.Count;
            var records = purged.Select(m => new MessageLogRecord(now, MessageDirection.Outbound, m.User, m.Correlation, Excerpt.Of(
                $"{(m.What is { } what ? $"{what}; " : "")}Purged: never delivered, {m.Attempts} attempts, held {options.FailedRetention.TotalHours:N0} h in the failed queue; last error: {m.LastError}"),
                ReadOnlyMemory<byte>.Empty)).ToList();
            await RecordingAsync(() => messageLog.AppendAsync(records), cancellationToken);
            foreach (var user in purged.GroupBy(m => m.User))
            {
                LogPurged(user.Key, user.Count(), user.Min(m => m.EnqueuedAt));
            }
            if (purged.Count < PurgeBatchSize)
            {
                return total;
            }
        }
    }

    /// <summary>Failed messages purged per statement: a backlog at its end does not hold the store's write lock for all of it at once.</summary>
    private const int PurgeBatchSize = 1_000;

    /// <summary>
    /// A message reached <paramref name="user"/>: their failed messages not attempted lately go back to pending, due
    /// now, a batch at a time (<see cref="DeliveryOptions.RedeliverBatchSize"/>; the next when one of them reaches the user).
    /// </summary>
    private async Task<int> RedeliverFailedAsync(Eui64 user, CancellationToken cancellationToken)
    {
        var now = clock.GetCurrentInstant();
        var requeued = await store.RequeueFailedAsync(user, now, lastAttemptBefore: now - options.RedeliverAfter, max: options.RedeliverBatchSize, cancellationToken: cancellationToken);
        if (requeued > 0)
        {
            LogRedelivering(user, requeued);
        }
        return requeued;
    }

    // Claims the next batch only when the workers have taken the last one, so that one slow endpoint holds up
    // one worker, not a whole batch. While a delivery is still in flight (a slow or silent endpoint, up to
    // RequestTimeout), it claims again whenever another finishes (while none is parked, below), a message is queued (NotifyEnqueued) or the poll
    // interval passes, so that messages queued meanwhile, other users' among them, go out on the free workers rather
    // than wait for the slow one to end the round.
    //
    // At most MaxConnectionsPerEndpoint deliveries to one endpoint are in flight: a claimed message whose endpoint has
    // that many is parked, still claimed, behind the others parked for that endpoint, and handed to a worker as one there
    // finishes, before anything claimed later. So one endpoint's backlog takes that many workers, not all of them, and
    // no POST waits inside the HTTP client for a connection. While messages are parked, claims leave their users out and
    // take up only the room parked messages leave in a batch, so that they bring other users' due messages and at most
    // ClaimBatchSize are parked at once (each attempted within its lease: DeliveryOptions.Validate); and, as such a claim
    // passes over the parked users' due backlog, one is made when a message is queued or the poll interval has passed
    // since the last, not each time a delivery finishes. Parked messages whose round is cancelled (the hub stopping) or
    // fails are left claimed: they go again when their lease ends, or at the next start (ReleaseClaimsAsync), as any
    // claimed message not yet attempted does.
    private async IAsyncEnumerable<OutboundMessage> ClaimDueAsync(InFlight inFlight, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var parked = new Parked();
        var sinceClaim = Stopwatch.StartNew();
        var claim = true;
        while (true)
        {
            inFlight.ClearSignal();
            while (parked.TakeReady(inFlight, options.MaxConnectionsPerEndpoint) is { } ready)
            {
                inFlight.Started(Origin.Of(ready));
                yield return ready;
            }
            var room = options.ClaimBatchSize - parked.Count;
            if (room > 0 && (claim || parked.Count == 0))
            {
                var batch = await store.ClaimDueAsync(clock.GetCurrentInstant(), room, options.ClaimLease, parked.Users, cancellationToken);
                sinceClaim.Restart();
                foreach (var message in batch)
                {
                    if (Origin.Of(message) is { } origin && (parked.Holds(origin) || !inFlight.HasRoom(origin, options.MaxConnectionsPerEndpoint)))
                    {
                        parked.Add(origin, message);
                        continue;
                    }
                    inFlight.Started(Origin.Of(message));
                    yield return message;
                }
                if (batch.Count == room)
                {
                    claim = true;
                    continue;
                }
            }
            if (inFlight.Count == 0 && parked.Count == 0)
            {
                yield break;
            }
            using var waiting = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            waiting.CancelAfter(options.PollInterval.ToTimeSpan());
            await Task.WhenAny(inFlight.WaitAsync(waiting.Token), wake.Reader.WaitToReadAsync(waiting.Token).AsTask());
            await waiting.CancelAsync();
            cancellationToken.ThrowIfCancellationRequested();
            // A notification is taken by this claim: what it was for is due now.
            claim = wake.Reader.TryRead(out _) || sinceClaim.Elapsed >= options.PollInterval.ToTimeSpan();
        }
    }

    /// <summary>
    /// An endpoint as the connections to it are counted: an origin (scheme, host and port), so users whose response URLs
    /// share one count together (<see cref="DeliveryOptions.MaxConnectionsPerEndpoint"/>).
    /// </summary>
    private readonly record struct Origin(string Scheme, string Host, int Port)
    {
        /// <summary>Where an attempt at <paramref name="message"/> POSTs to, as <see cref="DeliverAsync"/> decides; null when it is sent nowhere.</summary>
        public static Origin? Of(OutboundMessage message) =>
            message.NoResponseUrl || message.Destination is not { } url ? null : new Origin(url.Scheme, url.IdnHost, url.Port);
    }

    /// <summary>A round's deliveries in flight, in all and per endpoint, and a signal each time one finishes.</summary>
    private sealed class InFlight
    {
        private readonly Channel<bool> finished = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
        private readonly Dictionary<Origin, int> perOrigin = [];
        private int count;

        public int Count => Volatile.Read(ref count);

        /// <summary>Whether one more delivery may start to <paramref name="origin"/>: fewer than <paramref name="most"/> are in flight there.</summary>
        public bool HasRoom(Origin origin, int most)
        {
            lock (perOrigin)
            {
                return perOrigin.GetValueOrDefault(origin) < most;
            }
        }

        public void Started(Origin? origin)
        {
            if (origin is { } o)
            {
                lock (perOrigin)
                {
                    perOrigin[o] = perOrigin.GetValueOrDefault(o) + 1;
                }
            }
            Interlocked.Increment(ref count);
        }

        public void Finished(Origin? origin)
        {
            if (origin is { } o)
            {
                lock (perOrigin)
                {
                    if (--perOrigin[o] == 0)
                    {
                        perOrigin.Remove(o);
                    }
                }
            }
            Interlocked.Decrement(ref count);
            finished.Writer.TryWrite(true);
        }

        public void ClearSignal() => finished.Reader.TryRead(out _);

        public Task WaitAsync(CancellationToken cancellationToken) => finished.Reader.WaitToReadAsync(cancellationToken).AsTask();
    }

    /// <summary>
    /// Claimed messages waiting for a delivery to their endpoint to finish (<see cref="DeliveryOptions.MaxConnectionsPerEndpoint"/>),
    /// per endpoint in the order claimed, and their users. The claim loop's own: used by it alone.
    /// </summary>
    private sealed class Parked
    {
        private readonly Dictionary<Origin, Queue<OutboundMessage>> waiting = [];
        private readonly Dictionary<Eui64, int> users = [];

        public int Count { get; private set; }

        /// <summary>The users of the messages parked: claims leave them out.</summary>
        public IReadOnlyCollection<Eui64> Users => users.Keys;

        /// <summary>Whether messages to <paramref name="origin"/> are parked: one claimed since goes behind them.</summary>
        public bool Holds(Origin origin) => waiting.ContainsKey(origin);

        public void Add(Origin origin, OutboundMessage message)
        {
            if (!waiting.TryGetValue(origin, out var queue))
            {
                waiting[origin] = queue = new Queue<OutboundMessage>();
            }
            queue.Enqueue(message);
            users[message.User] = users.GetValueOrDefault(message.User) + 1;
            Count++;
        }

        /// <summary>The next message of an endpoint with room for it, the one due longest among such endpoints; null when none has room.</summary>
        public OutboundMessage? TakeReady(InFlight inFlight, int most)
        {
            Queue<OutboundMessage>? next = null;
            Origin? from = null;
            foreach (var (origin, queue) in waiting)
            {
                var head = queue.Peek();
                if ((next is null || (head.NextAttemptAt, head.Id).CompareTo((next.Peek().NextAttemptAt, next.Peek().Id)) < 0) && inFlight.HasRoom(origin, most))
                {
                    (next, from) = (queue, origin);
                }
            }
            if (next is null)
            {
                return null;
            }
            var message = next.Dequeue();
            if (next.Count == 0)
            {
                waiting.Remove(from!.Value);
            }
            if (--users[message.User] == 0)
            {
                users.Remove(message.User);
            }
            Count--;
            return message;
        }
    }

    /// <summary>
    /// One attempt, run to its end (at most <see cref="DeliveryOptions.RequestTimeout"/>) and recorded even when the hub
    /// is stopping: a clean stop waits for it, so the user is not sent again at the next start a message it already has
    /// (a starting hub releases the claims it finds, <see cref="IDeliveryStore.ReleaseClaimsAsync"/>).
    /// </summary>
    private async Task<DeliveryState> DeliverAsync(OutboundMessage message, CancellationToken stopping)
    {
        // A user whose response URL was removed is sent nothing, least of all at the URL it gave up; the message fails
        // its attempts on the retry schedule, to the failed queue, unless the user has a response URL again by the next.
        // One that never had a URL (queued while its user had none, and sent again from the failed queue) is not sent either.
        var destination = message.NoResponseUrl ? null : message.Destination;
        var noUrl = destination is null
            ? $"not sent: DCC user {message.User} has no response URL {(message.Destination is { } was ? $"any more (the message was for {was})" : "registered")}; "
            : null;
        var heldOff = destination is null ? noUrl + "it is sent at its next attempt if one is set ('opendcc users response-url')" : HeldOff(destination);
        var attempt = destination is { } url && heldOff is null ? await PostAsync(message, url) : new Attempt(false, noUrl is not null ? NoResponseUrl : NotSent, heldOff);
        var at = clock.GetCurrentInstant();
        if (destination is null)
        {
            // Nothing was sent anywhere: no endpoint to remember or forget.
        }
        else if (attempt.Outcome is Timeout or Unreachable)
        {
            unreachable[destination] = (at + options.UnreachableHoldOff, $"{destination} did not answer at {at} ({attempt.Error})");
        }
        else if (heldOff is null)
        {
            // It answered, whatever it said: its messages need not wait.
            unreachable.TryRemove(destination, out _);
        }
        var logged = message.What is { } what ? Excerpt.Of($"{what}; {attempt.Outcome}") : attempt.Outcome;
        var bytes = ReadOnlyMemory<byte>.Empty;
        if (heldOff is null && message.PayloadEntry is { } entry)
        {
            // The bytes sent are the payload of the entry that handed the message over: named, not logged again, so the
            // log keeps a delivered message once however many attempts it took. After the excerpt, so never cut off.
            logged += SentPayloadOf(entry);
        }
        else if (heldOff is null)
        {
            // Its bytes are its own (queued before migration 0041, or that entry archived): the log held has no entry to name.
            bytes = message.Payload;
        }
        // The attempt is logged and its outcome recorded on the queue in one transaction: a crash before it sends the
        // message again, and logs that. A sent message is left out of the log only if the hub stops (or dies) while the
        // store is away after the POST; the next start sends it again and logs that. A message not sent is logged without its bytes.
        var attempts = message.Attempts + 1;
        var next = attempt.Succeeded ? null : policy.NextAttemptAfterFailure(message.EnqueuedAt, attempts, at);
        // Null when it was delivered: every failed attempt says why.
        var error = attempt.Error;
        if (!attempt.Succeeded && next is null && noUrl is not null)
        {
            // Its last attempt: there is no next one for a URL set now to reach, so the failed queue's line says how it leaves it.
            error = noUrl + LeavesFailedQueueOnceUrlSet(message.User);
        }
        await RecordingAsync(() => messageLog.AppendAsync([new MessageLogRecord(at, MessageDirection.Outbound, message.User, message.Correlation, logged, bytes) { SettlesDelivery = new DeliveryAttempt(message.Id, error, next) }]), stopping);
        if (attempt.Succeeded)
        {
            return DeliveryState.Delivered;
        }
        if (next is null)
        {
            ReportMovedToFailed(message, attempts, error!, at);
            return DeliveryState.Failed;
        }
        LogAttemptFailed(message.Id, message.User, message.Correlation, attempts, attempt.Error!);
        return DeliveryState.Pending;
    }

    private void ReportMovedToFailed(OutboundMessage message, int attempts, string error, Instant at)
    {
        if (failedLines.GetOrAdd(message.User, static _ => new LineThrottle(FailedLogInterval)).Occurred(at, out var unlogged))
        {
            var meanwhile = unlogged == 0 ? "" : $"; {unlogged} more to this user went there since the last such line, not logged one by one";
            LogMovedToFailed(message.Id, message.User, message.Correlation, attempts, error, meanwhile);
        }
    }

    /// <summary>
    /// Records an attempt's outcome, trying again while the store is away (<see cref="StoreAway.RetryAsync"/>) until it
    /// is back or the hub stops: a POST that succeeded but was not recorded would be sent again when its claim ends, or
    /// the next time a hub starts, a repeat the user must tell by its ResponseID.
    /// </summary>
    private static Task RecordingAsync(Func<Task> record, CancellationToken stopping) =>
        StoreAway.RetryAsync(record, (_, _) => !stopping.IsCancellationRequested, stopping);

    /// <summary>
    /// Forgets endpoints that failed whose hold-off ended a retry window ago (<see cref="DeliveryOptions.RetryAfter"/>'s
    /// last) with nothing sent there since: no message queued as one failed has an attempt left there, so remembering it
    /// spares nobody. Only an answer from the endpoint forgot it otherwise, so every endpoint that failed and was sent
    /// nothing more (a user moved off it, a URL mistyped and corrected) was kept for as long as the hub ran.
    /// </summary>
    private void ForgetQuietEndpoints(Instant now)
    {
        // A message queued before the endpoint failed has no attempt left a retry window after that, let alone after the hold-off's end.
        var quiet = options.RetryAfter.Count > 0 ? options.RetryAfter[^1] : Duration.Zero;
        foreach (var (endpoint, held) in unreachable)
        {
            if (held.Until <= now && now - held.Until >= quiet)
            {
                // Only that entry: one failed again meanwhile stays.
                unreachable.TryRemove(new KeyValuePair<Uri, (Instant, string)>(endpoint, held));
            }
        }
    }

    /// <summary>
    /// Why a message to <paramref name="endpoint"/> is not sent now: it did not answer lately; null to send it.
    /// Once the hold-off is over, one message goes to find out whether the endpoint is back, and the rest wait for its
    /// answer (or its timeout), so that a dead endpoint ties up one delivery at a time, not all of them.
    /// </summary>
    private string? HeldOff(Uri endpoint)
    {
        while (unreachable.TryGetValue(endpoint, out var held))
        {
            var now = clock.GetCurrentInstant();
            if (now < held.Until)
            {
                return $"not sent: {held.Why}; nothing is sent there before {held.Until}";
            }
            if (unreachable.TryUpdate(endpoint, (now + options.RequestTimeout, held.Why), held))
            {
                return null;
            }
        }
        return null;
    }

    private async Task<Attempt> PostAsync(OutboundMessage message, Uri destination)
    {
        using var timeout = new CancellationTokenSource(options.RequestTimeout.ToTimeSpan());
        using var content = new ByteArrayContent(message.Payload);
        content.Headers.ContentType = new MediaTypeHeaderValue(XmlContentType);
        using var request = new HttpRequestMessage(HttpMethod.Post, destination) { Content = content };
        try
        {
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            if (response.IsSuccessStatusCode)
            {
                return new Attempt(true, "Delivered", null);
            }
            var status = (int)response.StatusCode;
            return new Attempt(false, $"HTTP {status}", $"HTTP {status} {response.ReasonPhrase}".TrimEnd());
        }
        catch (OperationCanceledException)
        {
            return new Attempt(false, Timeout, $"no answer within {options.RequestTimeout.ToTimeSpan().TotalSeconds:0.###} s");
        }
        catch (HttpRequestException e)
        {
            return new Attempt(false, Unreachable, e.Message);
        }
        catch (Exception e) when (e is SocketException or IOException)
        {
            // The client does not wrap every network failure: a connection reset while it was being made has come out
            // as a bare SocketException ("Transport endpoint is not connected", from the socket's RemoteEndPoint).
            return new Attempt(false, Unreachable, e.Message);
        }
    }

    /// <summary>
    /// How an attempt's log entry ends when what it sent is the payload of message log entry <paramref name="entry"/>
    /// (<see cref="OutboundMessage.PayloadEntry"/>): <c>I0; Delivered; the bytes of entry 12345</c>.
    /// </summary>
    private static string SentPayloadOf(long entry) => $"; the bytes of entry {entry}";

    private const string Timeout = "Timeout";
    private const string Unreachable = "Unreachable";

    /// <summary>The outcome of an attempt made without a POST: the user's endpoint is held off (<see cref="DeliveryOptions.UnreachableHoldOff"/>).</summary>
    private const string NotSent = "NotSent";

    /// <summary>The outcome of an attempt made without a POST: the user has no response URL (<see cref="OutboundMessage.NoResponseUrl"/>).</summary>
    private const string NoResponseUrl = "NoResponseUrl";

    private readonly record struct Attempt(bool Succeeded, string Outcome, string? Error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Delivery of message {Id} ({Correlation}) to {User} failed on attempt {Attempts}: {Error}; retrying")]
    private partial void LogAttemptFailed(long id, Eui64 user, string correlation, int attempts, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Message {Id} ({Correlation}) to {User} is undeliverable after {Attempts} attempts ({Error}); held in the failed queue{Meanwhile}")]
    private partial void LogMovedToFailed(long id, Eui64 user, string correlation, int attempts, string error, string meanwhile);

    [LoggerMessage(Level = LogLevel.Information, Message = "A message reached {User} again: {Count} messages from the failed queue are sent again (a batch at a time)")]
    private partial void LogRedelivering(Eui64 user, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Count} messages to {User} were never delivered and are purged from the failed queue at the end of their retention (the oldest queued at {OldestQueuedAt}); the message log says which")]
    private partial void LogPurged(Eui64 user, int count, Instant oldestQueuedAt);

    [LoggerMessage(Level = LogLevel.Error, Message = "A delivery round failed; trying again at the next poll")]
    private partial void LogRoundFailed(Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "No delivery round while the store is away ({Reason}); trying again every poll")]
    private partial void LogStoreAway(string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The store is back after {Seconds} s: delivery rounds run again")]
    private partial void LogStoreBack(long seconds);
}
