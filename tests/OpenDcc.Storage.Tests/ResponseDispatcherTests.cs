using System.Net;
using System.Text;
using NodaTime;
using NodaTime.Testing;
using OpenDcc.Core.Catalogue;
using OpenDcc.Core.Delivery;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Parties;
using OpenDcc.Core.Security;

namespace OpenDcc.Storage.Tests;

/// <summary>
/// Delivery end to end: a dispatcher over a real store POSTing to a real HTTP receiver on loopback, with the
/// clock faked so that the retry schedule and retention can be walked through exactly. Run once per engine.
/// </summary>
public abstract partial class ResponseDispatcherTests(IStoreEngine engine) : IAsyncLifetime
{
    private const string RequestId = "90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A0:1000";
    private static readonly Eui64 Supplier = Eui64.Parse("90-B3-D5-1F-30-01-00-00");
    private static readonly Eui64 NetworkOperator = Eui64.Parse("90-B3-D5-1F-30-02-00-00");
    private static readonly Instant Queued = Instant.FromUtc(2026, 11, 28, 12, 0);

    private static readonly byte[] SignedResponse = Encoding.UTF8.GetBytes(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<sr:Response xmlns:sr=\"http://www.dccinterface.co.uk/ServiceUserGateway\" " +
        "sr:RequestID=\"" + RequestId + "\"><sr:Body>Café ✓</sr:Body></sr:Response>\r\n");

    private readonly FakeClock clock = new(Queued);
    private readonly HttpClient http = new(ResponseDispatcher.CreateHandler(DeliveryOptions.Default)) { Timeout = Timeout.InfiniteTimeSpan };
    private OpenDccStore store = null!;

    public async Task InitializeAsync() => store = await engine.OpenAsync();

    public async Task DisposeAsync()
    {
        http.Dispose();
        await store.DisposeAsync();
        await engine.DisposeAsync();
    }

    [Fact]
    public async Task A_message_is_delivered_on_the_first_attempt_exactly_as_signed_and_as_application_xml()
    {
        await using var receiver = await ResponseReceiver.StartAsync();
        using var dispatcher = Dispatcher();
        var id = await QueueAsync(dispatcher, Supplier, receiver.Url, RequestId, SignedResponse, what: "I0");

        Assert.Equal(new DeliveryRound(1, 0, 0, 0), await dispatcher.RunOnceAsync());

        var request = Assert.Single(receiver.Received);
        Assert.Equal("POST", request.Method);
        Assert.Equal(ResponseReceiver.Path, request.Path);
        Assert.Equal("application/xml", request.ContentType);
        Assert.Equal(SignedResponse, request.Body);
        var message = await store.Delivery.FindAsync(id);
        Assert.Equal(DeliveryState.Delivered, message!.State);
        Assert.Equal(1, message.Attempts);
        var (handedOver, attempt) = Assert.Single(await AttemptsAsync());
        var logged = attempt.Record;
        Assert.Equal(MessageDirection.Outbound, logged.Direction);
        Assert.Equal(Supplier, logged.User);
        Assert.Equal(RequestId, logged.Correlation);
        // What the message is, how its attempt went, and where the bytes it sent are: the entry that handed it over.
        Assert.Equal($"I0; Delivered; the bytes of entry {handedOver.Sequence}", logged.Outcome);
        Assert.Equal(Queued, logged.At);
        Assert.True(logged.Payload.IsEmpty);
        Assert.Equal(request.Body, handedOver.Record.Payload.ToArray());
        Assert.True((await MessageLogChain.VerifyAsync(store.MessageLog)).IsIntact);
    }

    [Fact]
    public async Task A_delivered_message_is_in_the_log_once_in_the_entry_that_handed_it_over_which_its_attempt_names()
    {
        await using var receiver = await ResponseReceiver.StartAsync();
        using var dispatcher = Dispatcher();
        await QueueAsync(dispatcher, Supplier, receiver.Url, RequestId, SignedResponse, what: "I0");

        Assert.Equal(new DeliveryRound(1, 0, 0, 0), await dispatcher.RunOnceAsync());

        var sent = Assert.Single(receiver.Received).Body;
        var holding = await store.MessageLog.ReadAsync().Where(e => e.Record.Payload.Span.SequenceEqual(sent)).ToListAsync();
        var (handedOver, attempt) = Assert.Single(await AttemptsAsync());
        Assert.Equal(handedOver.Sequence, Assert.Single(holding).Sequence);
        Assert.EndsWith($"; the bytes of entry {handedOver.Sequence}", attempt.Record.Outcome, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Each_failed_attempt_is_logged_without_the_bytes_it_sent_naming_the_entry_that_holds_them()
    {
        await using var receiver = await ResponseReceiver.StartAsync();
        receiver.Answer(500, 500);
        using var dispatcher = Dispatcher();
        await QueueAsync(dispatcher, Supplier, receiver.Url, RequestId, SignedResponse, what: "I0");

        Assert.Equal(new DeliveryRound(0, 1, 0, 0), await RunAtAsync(dispatcher, 0));
        Assert.Equal(new DeliveryRound(0, 1, 0, 0), await RunAtAsync(dispatcher, 10));
        Assert.Equal(new DeliveryRound(1, 0, 0, 0), await RunAtAsync(dispatcher, 60));

        var attempts = await AttemptsAsync();
        var handedOver = attempts[0].HandedOver;
        Assert.Equal(
            [$"I0; HTTP 500; the bytes of entry {handedOver.Sequence}", $"I0; HTTP 500; the bytes of entry {handedOver.Sequence}", $"I0; Delivered; the bytes of entry {handedOver.Sequence}"],
            attempts.Select(a => a.Attempt.Record.Outcome));
        Assert.All(attempts, a => Assert.True(a.Attempt.Record.Payload.IsEmpty));
        Assert.Equal(3, receiver.Received.Count);
        Assert.All(receiver.Received, r => Assert.Equal(handedOver.Record.Payload.ToArray(), r.Body));
        Assert.Single(await store.MessageLog.ReadAsync().Where(e => e.Record.Payload.Span.SequenceEqual(SignedResponse)).ToListAsync());
    }

    [Fact]
    public async Task A_message_whose_entry_was_archived_has_its_attempt_logged_with_the_bytes_it_sent()
    {
        await using var receiver = await ResponseReceiver.StartAsync();
        using var dispatcher = Dispatcher();
        var id = await store.QueueAsync(Supplier, receiver.Url, RequestId, SignedResponse, clock.GetCurrentInstant(), what: "I0");
        // The head is never removed: an entry after the handing over lets it go to the archive, the message keeping its bytes.
        var after = await store.MessageLog.AppendAsync([new MessageLogRecord(clock.GetCurrentInstant(), MessageDirection.Inbound, Supplier, "another", "I0", new byte[] { 1 })]);
        await store.MessageLog.RemoveThroughAsync(after[0].Sequence - 1);
        Assert.Null((await store.Delivery.FindAsync(id))!.PayloadEntry);

        Assert.Equal(new DeliveryRound(1, 0, 0, 0), await dispatcher.RunOnceAsync());

        var attempt = Assert.Single(await store.MessageLog.ReadAsync().Where(e => e.Record.Correlation == RequestId).ToListAsync()).Record;
        Assert.Equal("I0; Delivered", attempt.Outcome);
        Assert.Equal(Assert.Single(receiver.Received).Body, attempt.Payload.ToArray());
    }

    [Theory]
    [InlineData(200)]
    [InlineData(202)]
    [InlineData(204)]
    public async Task Any_2xx_answer_counts_as_delivered(int status)
    {
        await using var receiver = await ResponseReceiver.StartAsync();
        receiver.Answer(status);
        using var dispatcher = Dispatcher();
        var id = await QueueAsync(dispatcher, Supplier, receiver.Url, RequestId, SignedResponse);
        await dispatcher.RunOnceAsync();
        Assert.Equal(DeliveryState.Delivered, (await store.Delivery.FindAsync(id))!.State);
    }

    [Fact]
    public async Task A_receiver_answering_500_twice_then_204_gets_the_message_on_the_third_attempt_at_the_scheduled_times()
    {
        await using var receiver = await ResponseReceiver.StartAsync();
        receiver.Answer(500, 500);
        using var dispatcher = Dispatcher();
        var id = await QueueAsync(dispatcher, Supplier, receiver.Url, RequestId, SignedResponse);

        Assert.Equal(new DeliveryRound(0, 1, 0, 0), await RunAtAsync(dispatcher, 0));
        var afterFirst = await store.Delivery.FindAsync(id);
        Assert.Equal(1, afterFirst!.Attempts);
        Assert.Equal(At(10), afterFirst.NextAttemptAt);
        Assert.Equal("HTTP 500 Internal Server Error", afterFirst.LastError);

        Assert.Equal(0, (await RunAtAsync(dispatcher, 9)).Attempts);
        Assert.Equal(new DeliveryRound(0, 1, 0, 0), await RunAtAsync(dispatcher, 10));
        Assert.Equal(0, (await RunAtAsync(dispatcher, 59)).Attempts);
        Assert.Equal(new DeliveryRound(1, 0, 0, 0), await RunAtAsync(dispatcher, 60));

        var message = await store.Delivery.FindAsync(id);
        Assert.Equal(DeliveryState.Delivered, message!.State);
        Assert.Equal(3, message.Attempts);
        Assert.Equal(At(60), message.LastAttemptAt);
        Assert.Equal(3, receiver.Received.Count);
        Assert.All(receiver.Received, r => Assert.Equal(SignedResponse, r.Body));
        var log = await LoggedAsync();
        Assert.Equal(["HTTP 500", "HTTP 500", "Delivered"], log.Select(r => r.Outcome));
        Assert.Equal([At(0), At(10), At(60)], log.Select(r => r.At));
    }

    [Fact]
    public async Task A_retry_goes_to_the_response_url_the_user_has_then()
    {
        await using var old = await ResponseReceiver.StartAsync();
        await using var moved = await ResponseReceiver.StartAsync();
        old.Answer(503);
        await store.Parties.AddUserAsync(new DccUser(Supplier, "Supplier", DccUserRole.ImportSupplier, DccUserStatus.Active, old.Url));
        using var dispatcher = Dispatcher();
        var id = await QueueAsync(dispatcher, Supplier, old.Url, RequestId, SignedResponse);
        Assert.Equal(new DeliveryRound(0, 1, 0, 0), await RunAtAsync(dispatcher, 0));

        // The user moves its endpoint between attempts, as `opendcc users response-url` does.
        await store.Parties.SetResponseUrlAsync(Supplier, moved.Url);
        Assert.Equal(new DeliveryRound(1, 0, 0, 0), await RunAtAsync(dispatcher, 10));

        Assert.Single(old.Received);
        Assert.Equal(SignedResponse, Assert.Single(moved.Received).Body);
        Assert.Equal(moved.Url, (await store.Delivery.FindAsync(id))!.Destination);
    }

    [Fact]
    public async Task Messages_queued_for_a_response_url_since_removed_are_not_sent_there_and_end_in_the_failed_queue_naming_why()
    {
        await using var removed = await ResponseReceiver.StartAsync();
        removed.Answer(503);
        await store.Parties.AddUserAsync(new DccUser(Supplier, "Supplier", DccUserRole.ImportSupplier, DccUserStatus.Active, removed.Url));
        using var dispatcher = Dispatcher();
        var id = await QueueAsync(dispatcher, Supplier, removed.Url, RequestId, SignedResponse, what: "I0");
        Assert.Equal(new DeliveryRound(0, 1, 0, 0), await RunAtAsync(dispatcher, 0));

        // As `opendcc users response-url --id ...` (no --url) does, with the message waiting for its retry.
        await store.Parties.SetResponseUrlAsync(Supplier, null);
        foreach (var seconds in new[] { 10, 60, 150 })
        {
            Assert.Equal(new DeliveryRound(0, 1, 0, 0), await RunAtAsync(dispatcher, seconds));
        }
        Assert.Equal(new DeliveryRound(0, 0, 1, 0), await RunAtAsync(dispatcher, 290));

        Assert.Single(removed.Received);
        var failed = Assert.Single(await store.Delivery.ListAsync(DeliveryState.Failed, Supplier));
        Assert.Equal((id, 5), (failed.Id, failed.Attempts));
        // Its last attempt has no next one: the failed queue says how a message leaves it, not that a next attempt sends it.
        Assert.Equal(
            $"not sent: DCC user {Supplier} has no response URL any more (the message was for {removed.Url}); " +
            $"once one is set ('opendcc users response-url'), it is sent again when a message reaches the user, or by 'opendcc delivery redeliver --user {Supplier}'",
            failed.LastError);
        Assert.Equal(["I0; HTTP 503", .. Enumerable.Repeat("I0; NoResponseUrl", 4)], (await LoggedAsync()).Select(r => r.Outcome));
        Assert.All((await LoggedAsync())[1..], r => Assert.Equal(0, r.Payload.Length));
    }

    [Fact]
    public async Task A_message_put_in_the_failed_queue_for_want_of_a_response_url_is_sent_nowhere_until_one_is_set_then_there()
    {
        await using var registered = await ResponseReceiver.StartAsync();
        await store.Parties.AddUserAsync(new DccUser(Supplier, "Supplier", DccUserRole.ImportSupplier, DccUserStatus.Active));
        using var dispatcher = Dispatcher();
        clock.Reset(At(0));
        // As the hub holds it: logged undeliverable and put in the failed queue in one append.
        await store.MessageLog.AppendAsync([new MessageLogRecord(At(0), MessageDirection.Outbound, Supplier, RequestId, "I0 undeliverable: no response URL registered; held in the failed queue", SignedResponse)
        {
            HeldInFailedQueue = new FailedQueueHold("no response URL registered", "I0"),
        }]);
        var id = Assert.Single(await store.Delivery.ListAsync(DeliveryState.Failed, Supplier)).Id;
        Assert.Equal(new DeliveryRound(0, 0, 0, 0), await RunAtAsync(dispatcher, 10));

        // Sent again by hand (as 'opendcc delivery redeliver --user' does) while the user still has none: not sent, failed again.
        await store.Delivery.RequeueFailedAsync(Supplier, At(600));
        Assert.Equal(new DeliveryRound(0, 0, 1, 0), await RunAtAsync(dispatcher, 600));
        var failed = Assert.Single(await store.Delivery.ListAsync(DeliveryState.Failed, Supplier));
        Assert.Equal((id, 2), (failed.Id, failed.Attempts));
        Assert.StartsWith($"not sent: DCC user {Supplier} has no response URL registered; once one is set", failed.LastError, StringComparison.Ordinal);
        Assert.Equal(["I0 undeliverable: no response URL registered; held in the failed queue", "I0; NoResponseUrl"], (await LoggedAsync()).Select(r => r.Outcome));

        // A URL set, the next message that reaches the user takes it from the failed queue there, as signed.
        await store.Parties.SetResponseUrlAsync(Supplier, registered.Url);
        await QueueAsync(dispatcher, Supplier, registered.Url, "alert", [1], what: "alert");
        Assert.Equal(new DeliveryRound(2, 0, 0, 0, Redelivered: 1), await RunAtAsync(dispatcher, 1200));
        Assert.Equal(SignedResponse, registered.Received[1].Body);
        Assert.Equal((DeliveryState.Delivered, registered.Url), await store.Delivery.FindAsync(id) is { } delivered ? (delivered.State, delivered.Destination) : default);
    }

    [Fact]
    public async Task A_message_whose_users_response_url_was_removed_then_set_again_goes_to_the_new_one_at_its_next_attempt()
    {
        await using var removed = await ResponseReceiver.StartAsync();
        await using var renewed = await ResponseReceiver.StartAsync();
        removed.Answer(503);
        await store.Parties.AddUserAsync(new DccUser(Supplier, "Supplier", DccUserRole.ImportSupplier, DccUserStatus.Active, removed.Url));
        using var dispatcher = Dispatcher();
        var id = await QueueAsync(dispatcher, Supplier, removed.Url, RequestId, SignedResponse);
        Assert.Equal(new DeliveryRound(0, 1, 0, 0), await RunAtAsync(dispatcher, 0));
        await store.Parties.SetResponseUrlAsync(Supplier, null);
        Assert.Equal(new DeliveryRound(0, 1, 0, 0), await RunAtAsync(dispatcher, 10));

        await store.Parties.SetResponseUrlAsync(Supplier, renewed.Url);
        Assert.Equal(new DeliveryRound(1, 0, 0, 0), await RunAtAsync(dispatcher, 60));

        Assert.Single(removed.Received);
        Assert.Equal(SignedResponse, Assert.Single(renewed.Received).Body);
        Assert.Equal((DeliveryState.Delivered, renewed.Url), ((await store.Delivery.FindAsync(id))!.State, (await store.Delivery.FindAsync(id))!.Destination));
    }

    [Fact]
    public async Task A_user_that_moves_off_an_endpoint_that_timed_out_is_not_held_off_by_it()
    {
        await using var dead = await ResponseReceiver.StartAsync();
        dead.Delay = TimeSpan.FromSeconds(30);
        await using var moved = await ResponseReceiver.StartAsync();
        await store.Parties.AddUserAsync(new DccUser(Supplier, "Supplier", DccUserRole.ImportSupplier, DccUserStatus.Active, dead.Url));
        // Short for the dead endpoint, long enough for the live one's first POST on a busy machine (300 ms was not, once).
        using var dispatcher = Dispatcher(DeliveryOptions.Default with { RequestTimeout = Duration.FromSeconds(2) });
        var first = await QueueAsync(dispatcher, Supplier, dead.Url, "request 1", SignedResponse);
        Assert.Equal(new DeliveryRound(0, 1, 0, 0), await RunAtAsync(dispatcher, 0));

        // Within the dead endpoint's hold-off, the user moves; its next message goes straight to the new endpoint.
        await store.Parties.SetResponseUrlAsync(Supplier, moved.Url);
        var second = await QueueAsync(dispatcher, Supplier, dead.Url, "request 2", [7]);
        Assert.Equal(new DeliveryRound(1, 0, 0, 0), await RunAtAsync(dispatcher, 1));

        Assert.Equal([7], Assert.Single(moved.Received).Body);
        Assert.Equal(DeliveryState.Delivered, (await store.Delivery.FindAsync(second))!.State);
        Assert.Equal(DeliveryState.Pending, (await store.Delivery.FindAsync(first))!.State);
        Assert.DoesNotContain(await LoggedAsync(), r => r.Outcome == "NotSent");
    }

    [Fact]
    public async Task Endpoints_that_could_not_be_reached_are_forgotten_once_nothing_has_been_sent_there_for_a_retry_window()
    {
        // Nothing listens on port 1: each POST is refused at once (Unreachable).
        var endpoints = Enumerable.Range(0, 20).Select(i => new Uri($"http://127.0.0.1:1/user-{i}")).ToList();
        using var dispatcher = Dispatcher();
        foreach (var endpoint in endpoints)
        {
            await QueueAsync(dispatcher, Supplier, endpoint, $"request to {endpoint}", SignedResponse);
        }
        Assert.Equal(new DeliveryRound(0, endpoints.Count, 0, 0), await RunAtAsync(dispatcher, 0));
        Assert.Equal(endpoints.Count, dispatcher.HeldOffEndpoints);

        // Each message's last attempt, past its retry window: it fails there again and goes to the failed queue.
        Assert.Equal(new DeliveryRound(0, 0, endpoints.Count, 0), await RunAtAsync(dispatcher, 3600));
        Assert.Equal(endpoints.Count, dispatcher.HeldOffEndpoints);

        // Nothing sent to any of them for a retry window since their hold-offs ended: none is remembered.
        Assert.Equal(0, (await RunAtAsync(dispatcher, 3600 + 10 + 290)).Attempts);
        Assert.Equal(0, dispatcher.HeldOffEndpoints);
    }

    [Fact]
    public async Task Messages_moved_to_the_failed_queue_are_logged_one_line_a_minute_per_user_the_next_line_counting_the_rest()
    {
        var down = new Uri($"http://127.0.0.1:{ResponseReceiver.FreePort()}{ResponseReceiver.Path}");
        var logger = new Microsoft.Extensions.Logging.Testing.FakeLogger<ResponseDispatcher>();
        using var dispatcher = new ResponseDispatcher(store.Delivery, http, clock, DeliveryOptions.Default, store.MessageLog, logger);
        for (var i = 0; i < 3; i++)
        {
            await QueueAsync(dispatcher, Supplier, down, $"request {i}", SignedResponse);
        }
        await FailThroughTheRetryWindowAsync(dispatcher, expectedPerRound: 3);
        // Later, one more fails: at 690 s, more than a minute after the line at 290 s.
        clock.Reset(At(400));
        await QueueAsync(dispatcher, Supplier, down, "request 3", SignedResponse);
        foreach (var seconds in new[] { 400, 410, 460, 550, 690 })
        {
            await RunAtAsync(dispatcher, seconds);
        }

        var warnings = logger.Collector.GetSnapshot().Where(r => r.Level == Microsoft.Extensions.Logging.LogLevel.Warning).Select(r => r.Message).ToList();
        Assert.Equal(2, warnings.Count);
        Assert.Matches(@"\(request [0-2]\) to 90-B3-D5-1F-30-01-00-00 is undeliverable after 5 attempts", warnings[0]);
        Assert.EndsWith("held in the failed queue", warnings[0], StringComparison.Ordinal);
        Assert.Contains("(request 3)", warnings[1], StringComparison.Ordinal);
        Assert.EndsWith("; 2 more to this user went there since the last such line, not logged one by one", warnings[1], StringComparison.Ordinal);
        Assert.Equal(4, await store.Delivery.CountAsync(DeliveryState.Failed, Supplier));
    }

    [Fact]
    public async Task A_message_undeliverable_for_300_s_goes_to_the_failed_queue_is_held_two_days_then_purged()
    {
        var down = new Uri($"http://127.0.0.1:{ResponseReceiver.FreePort()}{ResponseReceiver.Path}");
        using var dispatcher = Dispatcher();
        var id = await QueueAsync(dispatcher, Supplier, down, RequestId, SignedResponse);

        await FailThroughTheRetryWindowAsync(dispatcher);

        var failed = Assert.Single(await store.Delivery.ListAsync(DeliveryState.Failed, Supplier));
        Assert.Equal(id, failed.Id);
        Assert.Equal(5, failed.Attempts);
        Assert.Equal(At(290), failed.LastAttemptAt);
        Assert.NotNull(failed.LastError);
        Assert.Equal(0, (await RunAtAsync(dispatcher, 301)).Attempts);
        Assert.Equal(Enumerable.Repeat("Unreachable", 5), (await LoggedAsync()).Select(r => r.Outcome));

        clock.Reset(At(290) + Duration.FromDays(2));
        Assert.Equal(new DeliveryRound(0, 0, 0, 0), await dispatcher.RunOnceAsync());
        Assert.NotNull(await store.Delivery.FindAsync(id));

        clock.Reset(At(290) + Duration.FromDays(2) + Duration.FromSeconds(1));
        Assert.Equal(new DeliveryRound(0, 0, 0, 1), await dispatcher.RunOnceAsync());
        Assert.Null(await store.Delivery.FindAsync(id));
        Assert.Empty(await store.Delivery.ListAsync(DeliveryState.Failed));
        // The log says what became of it: the user never had it.
        var purged = (await LoggedAsync())[^1];
        Assert.Equal((MessageDirection.Outbound, Supplier, RequestId), (purged.Direction, purged.User, purged.Correlation));
        Assert.StartsWith("Purged: never delivered, 5 attempts, held 48 h in the failed queue; last error: ", purged.Outcome, StringComparison.Ordinal);
        Assert.Equal(0, purged.Payload.Length);
    }

    [Fact]
    public async Task A_user_reached_again_gets_its_failed_messages_a_batch_at_a_time_oldest_first_after_the_message_that_reached_it()
    {
        var port = ResponseReceiver.FreePort();
        var endpoint = new Uri($"http://127.0.0.1:{port}{ResponseReceiver.Path}");
        var logger = new Microsoft.Extensions.Logging.Testing.FakeLogger<ResponseDispatcher>();
        using var dispatcher = new ResponseDispatcher(store.Delivery, http, clock, DeliveryOptions.Default with { RedeliverBatchSize = 2 }, store.MessageLog, logger);
        for (var i = 0; i < 5; i++)
        {
            await QueueAsync(dispatcher, Supplier, endpoint, $"backlog {i}", [(byte)i]);
        }
        await FailThroughTheRetryWindowAsync(dispatcher, expectedPerRound: 5);

        await using var receiver = await ResponseReceiver.StartAsync(port);
        clock.Reset(At(7200));
        await QueueAsync(dispatcher, Supplier, endpoint, "fresh", [9]);

        Assert.Equal(new DeliveryRound(6, 0, 0, 0, 5), await dispatcher.RunOnceAsync());
        Assert.Equal(9, receiver.Received[0].Body.Single());
        Assert.Equal(5, receiver.Received.Skip(1).Select(r => r.Body.Single()).Distinct().Count());
        Assert.Equal(
            ["2 messages", "2 messages", "1 messages"],
            logger.Collector.GetSnapshot().Where(r => r.Message.StartsWith("A message reached", StringComparison.Ordinal)).Select(r => System.Text.RegularExpressions.Regex.Match(r.Message, @"\d+ messages").Value));
        Assert.Equal(0, await store.Delivery.CountAsync(DeliveryState.Failed));
    }

    [Fact]
    public async Task Requeued_failed_messages_are_delivered_once_the_receiver_is_back()
    {
        var port = ResponseReceiver.FreePort();
        var endpoint = new Uri($"http://127.0.0.1:{port}{ResponseReceiver.Path}");
        using var dispatcher = Dispatcher();
        var id = await QueueAsync(dispatcher, Supplier, endpoint, RequestId, SignedResponse);
        var otherUsers = await QueueAsync(dispatcher, NetworkOperator, endpoint, "alert 1", [1, 2, 3]);
        await FailThroughTheRetryWindowAsync(dispatcher, expectedPerRound: 2);

        // Requeued while the user is still down: one attempt, then straight back to the failed queue.
        clock.Reset(At(3600));
        Assert.Equal(1, await store.Delivery.RequeueFailedAsync(Supplier, clock.GetCurrentInstant()));
        Assert.Equal(new DeliveryRound(0, 0, 1, 0), await dispatcher.RunOnceAsync());
        Assert.Equal(6, (await store.Delivery.FindAsync(id))!.Attempts);

        await using var receiver = await ResponseReceiver.StartAsync(port);
        clock.Reset(At(7200));
        Assert.Equal(1, await store.Delivery.RequeueFailedAsync(Supplier, clock.GetCurrentInstant()));
        Assert.Equal(new DeliveryRound(1, 0, 0, 0), await dispatcher.RunOnceAsync());

        Assert.Equal(SignedResponse, Assert.Single(receiver.Received).Body);
        var message = await store.Delivery.FindAsync(id);
        Assert.Equal(DeliveryState.Delivered, message!.State);
        Assert.Equal(7, message.Attempts);
        Assert.Equal(DeliveryState.Failed, (await store.Delivery.FindAsync(otherUsers))!.State);
    }

    [Fact]
    public async Task A_message_that_reaches_a_user_again_sends_that_users_failed_messages_in_the_same_round()
    {
        var port = ResponseReceiver.FreePort();
        var endpoint = new Uri($"http://127.0.0.1:{port}{ResponseReceiver.Path}");
        using var dispatcher = Dispatcher();
        var lost = await QueueAsync(dispatcher, Supplier, endpoint, RequestId, SignedResponse);
        var otherUsers = await QueueAsync(dispatcher, NetworkOperator, endpoint, "alert 1", [1, 2, 3]);
        await FailThroughTheRetryWindowAsync(dispatcher, expectedPerRound: 2);

        await using var receiver = await ResponseReceiver.StartAsync(port);
        clock.Reset(At(3600));
        var next = await QueueAsync(dispatcher, Supplier, endpoint, "alert 2", [4, 5, 6]);

        Assert.Equal(new DeliveryRound(2, 0, 0, 0, Redelivered: 1), await dispatcher.RunOnceAsync());

        Assert.Equal([[4, 5, 6], SignedResponse], receiver.Received.Select(r => r.Body));
        Assert.Equal(DeliveryState.Delivered, (await store.Delivery.FindAsync(next))!.State);
        var redelivered = await store.Delivery.FindAsync(lost);
        Assert.Equal(DeliveryState.Delivered, redelivered!.State);
        Assert.Equal(6, redelivered.Attempts);
        // Nothing has reached the network operator yet: its failed message waits for that.
        Assert.Equal(DeliveryState.Failed, (await store.Delivery.FindAsync(otherUsers))!.State);
        Assert.Equal(["Delivered", "Delivered"], (await LoggedAsync()).TakeLast(2).Select(r => r.Outcome));
        Assert.Equal(new DeliveryRound(0, 0, 0, 0), await dispatcher.RunOnceAsync());
    }

    [Fact]
    public async Task A_failed_message_its_user_keeps_refusing_is_sent_again_at_most_once_per_redelivery_interval()
    {
        var port = ResponseReceiver.FreePort();
        var endpoint = new Uri($"http://127.0.0.1:{port}{ResponseReceiver.Path}");
        using var dispatcher = Dispatcher();
        var refused = await QueueAsync(dispatcher, Supplier, endpoint, RequestId, SignedResponse);
        await FailThroughTheRetryWindowAsync(dispatcher);

        await using var receiver = await ResponseReceiver.StartAsync(port);
        // Each round: a new message, answered 204; then, when it is sent again, the failed one, answered 400.
        clock.Reset(At(3600));
        receiver.Answer(204, 400);
        await QueueAsync(dispatcher, Supplier, endpoint, "alert 1", [1]);
        Assert.Equal(new DeliveryRound(1, 0, 1, 0, Redelivered: 1), await dispatcher.RunOnceAsync());

        clock.Reset(At(3600 + 300));
        await QueueAsync(dispatcher, Supplier, endpoint, "alert 2", [2]);
        Assert.Equal(new DeliveryRound(1, 0, 0, 0), await dispatcher.RunOnceAsync());

        clock.Reset(At(3600 + 301));
        receiver.Answer(204, 400);
        await QueueAsync(dispatcher, Supplier, endpoint, "alert 3", [3]);
        Assert.Equal(new DeliveryRound(1, 0, 1, 0, Redelivered: 1), await dispatcher.RunOnceAsync());

        var message = await store.Delivery.FindAsync(refused);
        Assert.Equal(DeliveryState.Failed, message!.State);
        Assert.Equal(7, message.Attempts);
        Assert.Equal("HTTP 400 Bad Request", message.LastError);
        Assert.Equal(2, receiver.Received.Count(r => r.Body.SequenceEqual(SignedResponse)));

        // Sent again or not, it is held two days from the end of its retry window, not from its last attempt.
        clock.Reset(At(290) + Duration.FromDays(2));
        await dispatcher.RunOnceAsync();
        Assert.NotNull(await store.Delivery.FindAsync(refused));
        clock.Reset(At(290) + Duration.FromDays(2) + Duration.FromSeconds(1));
        await dispatcher.RunOnceAsync();
        Assert.Null(await store.Delivery.FindAsync(refused));
    }

    [Fact]
    public async Task A_receiver_whose_status_line_holds_a_nul_gets_a_failed_attempt_recorded_like_any_other()
    {
        // The client refuses the reason phrase, quoting it, NUL and all, in its exception; PostgreSQL's text refuses NUL.
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var answering = Task.Run(async () =>
        {
            using var client = await listener.AcceptTcpClientAsync();
            var stream = client.GetStream();
            var read = new byte[64 * 1024];
            var seen = new StringBuilder();
            while (!seen.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
            {
                seen.Append(Encoding.Latin1.GetString(read, 0, await stream.ReadAsync(read)));
            }
            await stream.WriteAsync(Encoding.Latin1.GetBytes("HTTP/1.1 500 Oops\0after\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"));
        });
        var url = new Uri($"http://127.0.0.1:{((System.Net.IPEndPoint)listener.LocalEndpoint).Port}{ResponseReceiver.Path}");
        using var dispatcher = Dispatcher();
        var id = await QueueAsync(dispatcher, Supplier, url, RequestId, SignedResponse);

        Assert.Equal(new DeliveryRound(0, 1, 0, 0), await dispatcher.RunOnceAsync());
        await answering;

        var message = await store.Delivery.FindAsync(id);
        Assert.Equal(DeliveryState.Pending, message!.State);
        Assert.Equal(1, message.Attempts);
        Assert.Contains("Oops\u2400after", message.LastError, StringComparison.Ordinal);
        Assert.Equal("Unreachable", Assert.Single(await LoggedAsync()).Outcome);
    }

    [Fact]
    public async Task A_receiver_that_does_not_answer_in_time_counts_as_a_failed_attempt()
    {
        await using var receiver = await ResponseReceiver.StartAsync();
        receiver.Delay = TimeSpan.FromSeconds(30);
        using var dispatcher = Dispatcher(DeliveryOptions.Default with { RequestTimeout = Duration.FromMilliseconds(300) });
        var id = await QueueAsync(dispatcher, Supplier, receiver.Url, RequestId, SignedResponse);

        Assert.Equal(new DeliveryRound(0, 1, 0, 0), await dispatcher.RunOnceAsync());

        var message = await store.Delivery.FindAsync(id);
        Assert.Equal(DeliveryState.Pending, message!.State);
        Assert.Equal("no answer within 0.3 s", message.LastError);
        Assert.Equal("Timeout", Assert.Single(await LoggedAsync()).Outcome);
    }

    [Fact]
    public async Task An_endpoint_that_times_out_is_left_alone_for_a_while_so_its_users_other_messages_fail_at_once_and_hold_up_nobody()
    {
        await using var dead = await ResponseReceiver.StartAsync();
        dead.Delay = TimeSpan.FromSeconds(30);
        await using var alive = await ResponseReceiver.StartAsync();
        using var dispatcher = Dispatcher(DeliveryOptions.Default with { RequestTimeout = Duration.FromSeconds(2), MaxConcurrentDeliveries = 4, ClaimBatchSize = 16 });
        var toDead = new List<long>();
        for (var i = 0; i < 5; i++)
        {
            toDead.Add(await QueueAsync(dispatcher, Supplier, dead.Url, $"request {i}", SignedResponse));
        }
        var toAlive = await QueueAsync(dispatcher, NetworkOperator, alive.Url, "alert 1", [9]);

        // The first four go out together, before any has timed out (2 s leaves a loaded machine time to start all four);
        // the fifth is not sent.
        Assert.Equal(new DeliveryRound(1, 5, 0, 0), await dispatcher.RunOnceAsync());

        Assert.Equal(4, dead.Received.Count);
        Assert.Equal([9], Assert.Single(alive.Received).Body);
        var messages = await Task.WhenAll(toDead.Select(id => store.Delivery.FindAsync(id)));
        Assert.All(messages, m => Assert.Equal((DeliveryState.Pending, 1, At(10)), (m!.State, m.Attempts, m.NextAttemptAt)));
        Assert.All(messages[..4], m => Assert.Equal("no answer within 2 s", m!.LastError));
        Assert.StartsWith($"not sent: {dead.Url} did not answer at {At(0)} (no answer within 2 s); nothing is sent there before {At(10)}", messages[4]!.LastError, StringComparison.Ordinal);
        var log = await LoggedAsync();
        Assert.Equal(["Delivered", "NotSent", "Timeout", "Timeout", "Timeout", "Timeout"], log.Select(r => r.Outcome).Order());
        Assert.True(Assert.Single(log, r => r.Outcome == "NotSent").Payload.IsEmpty);

        // Ten seconds on, one message goes to see whether the endpoint is back, and the rest wait for it.
        Assert.Equal(new DeliveryRound(0, 5, 0, 0), await RunAtAsync(dispatcher, 10));
        Assert.Equal(5, dead.Received.Count);
        Assert.Equal(DeliveryState.Delivered, (await store.Delivery.FindAsync(toAlive))!.State);

        // Once it answers again, even with an error, nothing waits: at the next retry all five go out.
        dead.Delay = TimeSpan.Zero;
        dead.Answer(Enumerable.Repeat(500, 10).ToArray());
        Assert.Equal(new DeliveryRound(0, 5, 0, 0), await RunAtAsync(dispatcher, 60));
        var sent = dead.Received.Count;
        Assert.Equal(new DeliveryRound(0, 5, 0, 0), await RunAtAsync(dispatcher, 150));
        Assert.Equal(sent + 5, dead.Received.Count);
    }

    [Fact]
    public async Task Deliveries_run_in_parallel_up_to_the_configured_limit()
    {
        await using var receiver = await ResponseReceiver.StartAsync();
        receiver.Delay = TimeSpan.FromMilliseconds(150);
        using var dispatcher = Dispatcher(DeliveryOptions.Default with { MaxConcurrentDeliveries = 3, ClaimBatchSize = 4 });
        var payloads = Enumerable.Range(0, 12).Select(i => Encoding.UTF8.GetBytes($"<Response n=\"{i}\"/>")).ToList();
        foreach (var payload in payloads)
        {
            await QueueAsync(dispatcher, Supplier, receiver.Url, RequestId, payload);
        }

        Assert.Equal(new DeliveryRound(12, 0, 0, 0), await dispatcher.RunOnceAsync());

        Assert.Equal(3, receiver.MaxInFlight);
        Assert.Equal(payloads.Select(Encoding.UTF8.GetString).Order(), receiver.Received.Select(r => Encoding.UTF8.GetString(r.Body)).Order());
    }

    [Fact]
    public async Task By_default_many_deliveries_are_in_flight_at_once_so_a_round_trip_does_not_bound_how_many_go_out_a_second()
    {
        // A hub answering thousands of requests a second must deliver as many responses: one at a time per worker, each
        // waiting for its endpoint and then for its attempt's log entry to be committed, a handful of workers could not.
        // Ten endpoints (one receiver on ten ports, counting together), ten messages each: one endpoint gets at most
        // MaxConnectionsPerEndpoint at once.
        const int endpoints = 10, messages = 100;
        await using var receiver = await ResponseReceiver.StartOnPortsAsync(endpoints);
        receiver.HoldUntilInFlight = messages;
        using var dispatcher = Dispatcher();
        for (var i = 0; i < messages; i++)
        {
            await QueueAsync(dispatcher, Supplier, receiver.Urls[i % endpoints], RequestId, Encoding.UTF8.GetBytes($"<Response n=\"{i}\"/>"));
        }

        Assert.Equal(new DeliveryRound(messages, 0, 0, 0), await dispatcher.RunOnceAsync());

        Assert.Equal(messages, receiver.MaxInFlight);
        Assert.Equal(messages, receiver.Received.Count);
    }

    [Fact]
    public async Task Many_messages_for_one_endpoint_go_at_most_MaxConnectionsPerEndpoint_at_a_time_and_all_arrive()
    {
        // Each POST is held until the cap's worth are in progress (5 s at most), then answered 50 ms on: without the cap
        // all 40 would be there at once, the dispatcher having 256 workers.
        const int cap = 4, messages = 40;
        // A batch the claim lease covers while it waits for the one endpoint, 4 at a time (DeliveryOptions.Validate).
        var options = DeliveryOptions.Default with { MaxConnectionsPerEndpoint = cap, ClaimBatchSize = 16 };
        using var capped = new HttpClient(ResponseDispatcher.CreateHandler(options)) { Timeout = Timeout.InfiniteTimeSpan };
        await using var receiver = await ResponseReceiver.StartAsync();
        receiver.HoldUntilInFlight = cap;
        receiver.Delay = TimeSpan.FromMilliseconds(50);
        using var dispatcher = new ResponseDispatcher(store.Delivery, capped, clock, options, store.MessageLog);
        var payloads = Enumerable.Range(0, messages).Select(i => $"<Response n=\"{i}\"/>").ToList();
        foreach (var payload in payloads)
        {
            await QueueAsync(dispatcher, Supplier, receiver.Url, RequestId, Encoding.UTF8.GetBytes(payload));
        }

        Assert.Equal(new DeliveryRound(messages, 0, 0, 0), await dispatcher.RunOnceAsync());

        Assert.Equal(cap, receiver.MaxInFlight);
        Assert.Equal(payloads.Order(), receiver.Received.Select(r => Encoding.UTF8.GetString(r.Body)).Order());
    }

    [Fact]
    public async Task Messages_waiting_for_their_endpoints_only_connection_are_not_sent_once_it_times_out_and_do_not_wait_a_timeout_each()
    {
        // One connection, held by an endpoint that answers nothing within the timeout: the other five wait for it unsent,
        // and once it times out the endpoint is held off, so they fail at once as not sent, the round ending with the
        // first's timeout (about 1 s); were each sent in turn, each would wait out a timeout of its own (6 s).
        const int messages = 6;
        var options = DeliveryOptions.Default with { MaxConnectionsPerEndpoint = 1, RequestTimeout = Duration.FromSeconds(1), ClaimBatchSize = 8 };
        using var capped = new HttpClient(ResponseDispatcher.CreateHandler(options)) { Timeout = Timeout.InfiniteTimeSpan };
        await using var receiver = await ResponseReceiver.StartAsync();
        receiver.Delay = TimeSpan.FromSeconds(30);
        using var dispatcher = new ResponseDispatcher(store.Delivery, capped, clock, options, store.MessageLog);
        var ids = new List<long>();
        for (var i = 0; i < messages; i++)
        {
            ids.Add(await QueueAsync(dispatcher, Supplier, receiver.Url, $"request {i}", SignedResponse));
        }

        var round = System.Diagnostics.Stopwatch.StartNew();
        Assert.Equal(new DeliveryRound(0, messages, 0, 0), await dispatcher.RunOnceAsync());

        Assert.InRange(round.Elapsed, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(3));
        Assert.Single(receiver.Received);
        var attempted = await Task.WhenAll(ids.Select(id => store.Delivery.FindAsync(id)));
        Assert.All(attempted, m => Assert.Equal(DeliveryState.Pending, m!.State));
        Assert.Equal("no answer within 1 s", attempted[0]!.LastError);
        Assert.All(attempted[1..], m => Assert.StartsWith($"not sent: {receiver.Url} did not answer", m!.LastError, StringComparison.Ordinal));
        Assert.Equal(["Timeout", .. Enumerable.Repeat("NotSent", messages - 1)], (await LoggedAsync()).Select(r => r.Outcome));
    }

    [Fact]
    public async Task A_slow_endpoints_backlog_takes_at_most_MaxConnectionsPerEndpoint_workers_and_another_users_message_is_delivered_meanwhile()
    {
        // The supplier's endpoint takes its POSTs and answers none until the test lets it; its 20 messages are due first.
        // Four workers, two to an endpoint: the other two deliver the operator's message while the supplier's wait.
        const int backlog = 20;
        var options = DeliveryOptions.Default with
        {
            MaxConcurrentDeliveries = 4,
            MaxConnectionsPerEndpoint = 2,
            ClaimBatchSize = 8,
            RequestTimeout = Duration.FromSeconds(30),
            ClaimLease = Duration.FromMinutes(10),
        };
        var slow = new Uri("http://supplier.example/duis/response");
        var endpoints = new HeldEndpoint(slow);
        using var client = new HttpClient(endpoints) { Timeout = Timeout.InfiniteTimeSpan };
        using var dispatcher = new ResponseDispatcher(store.Delivery, client, clock, options, store.MessageLog);
        var payloads = Enumerable.Range(0, backlog).Select(i => $"<Response n=\"{i}\"/>").ToList();
        var supplier = new List<long>();
        foreach (var payload in payloads)
        {
            supplier.Add(await QueueAsync(dispatcher, Supplier, slow, $"request {payload}", Encoding.UTF8.GetBytes(payload)));
        }
        var alert = await QueueAsync(dispatcher, NetworkOperator, new Uri("http://operator.example/duis/response"), "alert 1", [9]);

        var round = dispatcher.RunOnceAsync();

        await endpoints.OtherReached.WaitAsync(TimeSpan.FromSeconds(20));
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while ((await store.Delivery.FindAsync(alert))!.State != DeliveryState.Delivered && waited.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(20);
        }
        Assert.Equal(DeliveryState.Delivered, (await store.Delivery.FindAsync(alert))!.State);
        Assert.False(round.IsCompleted);
        Assert.Equal(2, endpoints.HeldNow);
        Assert.Equal(0, await store.Delivery.CountAsync(DeliveryState.Delivered, Supplier));

        endpoints.Release();
        Assert.Equal(new DeliveryRound(backlog + 1, 0, 0, 0), await round.WaitAsync(TimeSpan.FromSeconds(30)));

        Assert.Equal(2, endpoints.MostHeldAtOnce);
        Assert.Equal(payloads.Order(), endpoints.HeldBodies.Order());
        var messages = await Task.WhenAll(supplier.Select(id => store.Delivery.FindAsync(id)));
        Assert.All(messages, m => Assert.Equal((DeliveryState.Delivered, 1), (m!.State, m.Attempts)));
        Assert.Equal(Enumerable.Repeat("Delivered", backlog + 1), (await LoggedAsync()).Select(r => r.Outcome));
    }

    /// <summary>
    /// Users' endpoints in a handler: POSTs to <paramref name="held"/>'s origin are taken and held unanswered until
    /// <see cref="Release"/>, counting how many are in progress at once, then answered 204; any other is answered 204 at once.
    /// No limit of its own on connections: what limits the POSTs to one endpoint is the dispatcher.
    /// </summary>
    private sealed class HeldEndpoint(Uri held) : HttpMessageHandler
    {
        private readonly TaskCompletionSource released = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource otherReached = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly System.Collections.Concurrent.ConcurrentQueue<string> heldBodies = new();
        private int heldNow;
        private int mostHeldAtOnce;

        public Task OtherReached => otherReached.Task;

        public int HeldNow => Volatile.Read(ref heldNow);

        public int MostHeldAtOnce => Volatile.Read(ref mostHeldAtOnce);

        public IReadOnlyList<string> HeldBodies => [.. heldBodies];

        public void Release() => released.TrySetResult();

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var body = await request.Content!.ReadAsStringAsync(cancellationToken);
            if (Uri.Compare(request.RequestUri, held, UriComponents.SchemeAndServer, UriFormat.UriEscaped, StringComparison.OrdinalIgnoreCase) != 0)
            {
                otherReached.TrySetResult();
                return new HttpResponseMessage(HttpStatusCode.NoContent);
            }
            var now = Interlocked.Increment(ref heldNow);
            int seen;
            while (now > (seen = Volatile.Read(ref mostHeldAtOnce)) && Interlocked.CompareExchange(ref mostHeldAtOnce, now, seen) != seen)
            {
            }
            heldBodies.Enqueue(body);
            try
            {
                await released.Task.WaitAsync(cancellationToken);
            }
            finally
            {
                Interlocked.Decrement(ref heldNow);
            }
            return new HttpResponseMessage(HttpStatusCode.NoContent);
        }
    }

    [Fact]
    public async Task Enqueueing_wakes_a_running_dispatcher_long_before_its_next_poll()
    {
        await using var receiver = await ResponseReceiver.StartAsync();
        using var dispatcher = Dispatcher(DeliveryOptions.Default with { PollInterval = Duration.FromHours(1) });
        using var stop = new CancellationTokenSource();
        var running = dispatcher.RunAsync(stop.Token);
        // Waits out the running dispatcher's first round, so that only the notification can deliver the message.
        await dispatcher.RunOnceAsync();

        await QueueAsync(dispatcher, Supplier, receiver.Url, RequestId, SignedResponse);

        await receiver.FirstRequest.WaitAsync(TimeSpan.FromSeconds(10));
        await stop.CancelAsync();
        await running.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Single(receiver.Received);
    }

    [Fact]
    public async Task A_running_dispatcher_polls_for_messages_queued_without_a_notification()
    {
        await using var receiver = await ResponseReceiver.StartAsync();
        using var dispatcher = Dispatcher(DeliveryOptions.Default with { PollInterval = Duration.FromMilliseconds(100) });
        using var stop = new CancellationTokenSource();
        var running = dispatcher.RunAsync(stop.Token);
        await dispatcher.RunOnceAsync();

        // Queued by another node, say: this dispatcher is not told.
        await store.QueueAsync(Supplier, receiver.Url, RequestId, SignedResponse, clock.GetCurrentInstant());

        await receiver.FirstRequest.WaitAsync(TimeSpan.FromSeconds(10));
        await stop.CancelAsync();
        await running.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task A_delivery_the_store_could_not_record_at_first_is_recorded_once_it_is_back_and_not_sent_again()
    {
        await using var receiver = await ResponseReceiver.StartAsync();
        var away = new AwayAtFirst(store.MessageLog, refusals: 2);
        using var dispatcher = new ResponseDispatcher(store.Delivery, http, clock, DeliveryOptions.Default, away);
        var id = await QueueAsync(dispatcher, Supplier, receiver.Url, RequestId, SignedResponse);

        Assert.Equal(new DeliveryRound(1, 0, 0, 0), await dispatcher.RunOnceAsync());
        Assert.Equal(0, away.Refusals);
        Assert.Equal(DeliveryState.Delivered, (await store.Delivery.FindAsync(id))!.State);
        // Its claim is over: a message left claimed would go again now.
        clock.Advance(Duration.FromMinutes(10));
        Assert.Equal(new DeliveryRound(0, 0, 0, 0), await dispatcher.RunOnceAsync());
        Assert.Single(receiver.Received);
        // Logged once, with its outcome: the refused appends stored neither.
        Assert.Single(await LoggedAsync(), r => r.Outcome == "Delivered");
    }

    /// <summary>A message log whose first appends recording a delivery's outcome fail as a restarting PostgreSQL does.</summary>
    private sealed class AwayAtFirst(IMessageLogAppender log, int refusals) : IMessageLogAppender
    {
        public int Refusals => refusals;

        public Task<IReadOnlyList<MessageLogEntry>> AppendAsync(IReadOnlyList<MessageLogRecord> records, CancellationToken cancellationToken = default) =>
            records.Any(r => r.SettlesDelivery is not null) && Volatile.Read(ref refusals) > 0 && Interlocked.Decrement(ref refusals) >= 0
                ? throw new StoreAwayException()
                : log.AppendAsync(records, cancellationToken);
    }

    private sealed class StoreAwayException() : System.Data.Common.DbException("Failed to connect to 127.0.0.1:5432")
    {
        public override bool IsTransient => true;
    }

    private ResponseDispatcher Dispatcher(DeliveryOptions? options = null) =>
        new(store.Delivery, http, clock, options ?? DeliveryOptions.Default, store.MessageLog);

    private static Instant At(int seconds) => Queued + Duration.FromSeconds(seconds);

    private Task<DeliveryRound> RunAtAsync(ResponseDispatcher dispatcher, int seconds)
    {
        clock.Reset(At(seconds));
        return dispatcher.RunOnceAsync();
    }

    // Walks an unreachable user's messages through the whole default schedule: attempts at 0, 10, 60, 150 and
    // 290 s and none in between, the last moving them to the failed queue.
    private async Task FailThroughTheRetryWindowAsync(ResponseDispatcher dispatcher, int expectedPerRound = 1)
    {
        foreach (var seconds in new[] { 0, 10, 60, 150 })
        {
            Assert.Equal(new DeliveryRound(0, expectedPerRound, 0, 0), await RunAtAsync(dispatcher, seconds));
            Assert.Equal(0, (await RunAtAsync(dispatcher, seconds + 5)).Attempts);
        }
        Assert.Equal(new DeliveryRound(0, 0, expectedPerRound, 0), await RunAtAsync(dispatcher, 290));
        Assert.Equal(0, (await RunAtAsync(dispatcher, 299)).Attempts);
    }

    /// <summary>Queues a message as the hub does, at the clock's time, and tells the dispatcher, as the hub's sender does.</summary>
    private async Task<long> QueueAsync(ResponseDispatcher dispatcher, Eui64 user, Uri destination, string correlation, byte[] payload, string? what = null)
    {
        var id = await store.QueueAsync(user, destination, correlation, payload, clock.GetCurrentInstant(), what: what);
        dispatcher.NotifyEnqueued();
        return id;
    }

    /// <summary>
    /// The message log's entries but those that handed the messages over (<see cref="Queueing"/>): the attempts' entries,
    /// each outcome as logged but for its end naming the entry that holds the bytes sent (<see cref="SentBytesOf"/>), taken
    /// off once checked to name an entry to the same user under the same correlation that holds bytes and is no attempt's
    /// (the message's handing over, to delivery or to the failed queue).
    /// A test of what an attempt's entry names and holds reads the log itself.
    /// </summary>
    private async Task<List<MessageLogRecord>> LoggedAsync()
    {
        var entries = await store.MessageLog.ReadAsync().ToListAsync();
        var records = new List<MessageLogRecord>();
        foreach (var entry in entries)
        {
            var record = entry.Record;
            if (Queueing.IsHandingOver(record))
            {
                continue;
            }
            var named = entries.Select(e => (e.Sequence, Ends: SentBytesOf(e.Sequence))).FirstOrDefault(n => record.Outcome.EndsWith(n.Ends, StringComparison.Ordinal));
            if (named.Ends is { } ends)
            {
                var handedOver = entries.Single(e => e.Sequence == named.Sequence).Record;
                Assert.True(handedOver.User == record.User && handedOver.Correlation == record.Correlation && !handedOver.Payload.IsEmpty && handedOver.SettlesDelivery is null
                    && !handedOver.Outcome.Contains(SentBytesOf(0)[..^1], StringComparison.Ordinal),
                    $"entry {entry.Sequence} ({record.Outcome}) names entry {named.Sequence} ({handedOver.Outcome}), not the handing over of its message");
                record = record with { Outcome = record.Outcome[..^ends.Length] };
            }
            records.Add(record);
        }
        return records;
    }

    /// <summary>
    /// Each attempt's entry, in order, with the entry its outcome names as holding the bytes it sent (<see cref="SentBytesOf"/>):
    /// for a test of what an attempt's entry names and holds.
    /// </summary>
    private async Task<List<(MessageLogEntry HandedOver, MessageLogEntry Attempt)>> AttemptsAsync()
    {
        var entries = await store.MessageLog.ReadAsync().ToListAsync();
        return [.. entries.Where(e => !Queueing.IsHandingOver(e.Record)).Select(a => (Assert.Single(entries, e => a.Record.Outcome.EndsWith(SentBytesOf(e.Sequence), StringComparison.Ordinal)), a))];
    }

    /// <summary>How an attempt's outcome ends when what it sent is the payload of entry <paramref name="sequence"/>.</summary>
    private static string SentBytesOf(long sequence) => $"; the bytes of entry {sequence}";
}

public sealed class SqliteResponseDispatcherTests() : ResponseDispatcherTests(new SqliteEngine());

public sealed class PostgresResponseDispatcherTests() : ResponseDispatcherTests(new PostgresEngine());
