using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
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
/// Delivery against receivers that misbehave: error statuses, redirects (never followed), endless bodies, silence,
/// dribbling, resets, closed ports, names that do not resolve; and a user's URL or status changing while messages
/// wait. The clock is faked; only request timeouts are real, and short. The dispatcher's tests' other part (their store,
/// clock and helpers).
/// </summary>
public abstract partial class ResponseDispatcherTests
{
    private static readonly byte[] Signed = Encoding.UTF8.GetBytes("<sr:Response xmlns:sr=\"http://www.dccinterface.co.uk/ServiceUserGateway\"/>");

    [Theory]
    [InlineData(404)]
    [InlineData(500)]
    [InlineData(503)]
    public async Task An_error_status_is_a_failed_attempt_retried_on_schedule_and_logged(int status)
    {
        await using var receiver = await ResponseReceiver.StartAsync();
        receiver.Answer(status);
        using var dispatcher = Dispatcher();
        var id = await QueueAsync(dispatcher, Supplier, receiver.Url, "r1", Signed);

        Assert.Equal(new DeliveryRound(0, 1, 0, 0), await RunAtAsync(dispatcher, 0));
        var message = (await store.Delivery.FindAsync(id))!;
        Assert.Equal((DeliveryState.Pending, 1, At(10)), (message.State, message.Attempts, message.NextAttemptAt));
        Assert.StartsWith($"HTTP {status}", message.LastError, StringComparison.Ordinal);
        Assert.Equal(new DeliveryRound(1, 0, 0, 0), await RunAtAsync(dispatcher, 10));
        Assert.Equal([$"HTTP {status}", "Delivered"], (await LoggedAsync()).Select(r => r.Outcome));
    }

    [Theory]
    [InlineData(301)]
    [InlineData(302)]
    [InlineData(307)]
    [InlineData(308)]
    public async Task A_redirect_is_not_followed_and_counts_as_a_failed_attempt(int status)
    {
        await using var elsewhere = await ResponseReceiver.StartAsync();
        using var redirector = RawReceiver.Start(async (stream, _) =>
            await WriteAsync(stream, $"HTTP/1.1 {status} Moved\r\nLocation: {elsewhere.Url}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"));
        using var dispatcher = Dispatcher();
        var id = await QueueAsync(dispatcher, Supplier, redirector.Url, "r1", Signed);

        Assert.Equal(new DeliveryRound(0, 1, 0, 0), await RunAtAsync(dispatcher, 0));
        Assert.Empty(elsewhere.Received);
        Assert.Equal($"HTTP {status}", Assert.Single(await LoggedAsync()).Outcome);
        Assert.Equal(DeliveryState.Pending, (await store.Delivery.FindAsync(id))!.State);
    }

    [Fact]
    public async Task A_200_with_an_endless_body_is_delivered_without_reading_the_body()
    {
        using var receiver = RawReceiver.Start(async (stream, ct) =>
        {
            await WriteAsync(stream, "HTTP/1.1 200 OK\r\nContent-Length: 10000000000\r\n\r\n");
            var chunk = new byte[64 * 1024];
            while (!ct.IsCancellationRequested)
            {
                await stream.WriteAsync(chunk, ct);
            }
        });
        using var dispatcher = Dispatcher(DeliveryOptions.Default with { RequestTimeout = Duration.FromSeconds(5) });
        var id = await QueueAsync(dispatcher, Supplier, receiver.Url, "r1", Signed);

        var watch = Stopwatch.StartNew();
        Assert.Equal(new DeliveryRound(1, 0, 0, 0), await RunAtAsync(dispatcher, 0));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(4), $"took {watch.Elapsed}");
        Assert.Equal(DeliveryState.Delivered, (await store.Delivery.FindAsync(id))!.State);
    }

    [Fact]
    public async Task A_receiver_that_never_answers_or_dribbles_its_headers_times_out()
    {
        using var silent = RawReceiver.Start((_, ct) => Task.Delay(Timeout.Infinite, ct));
        using var dribbling = RawReceiver.Start(async (stream, ct) =>
        {
            foreach (var b in Encoding.ASCII.GetBytes("HTTP/1.1 204 No Content\r\n\r\n"))
            {
                await stream.WriteAsync(new[] { b }, ct);
                await Task.Delay(200, ct);
            }
        });
        using var dispatcher = Dispatcher(DeliveryOptions.Default with { RequestTimeout = Duration.FromMilliseconds(500) });
        var a = await QueueAsync(dispatcher, Supplier, silent.Url, "r1", Signed);
        var b = await QueueAsync(dispatcher, NetworkOperator, dribbling.Url, "r2", Signed);

        Assert.Equal(new DeliveryRound(0, 2, 0, 0), await RunAtAsync(dispatcher, 0));
        Assert.All(await Task.WhenAll(store.Delivery.FindAsync(a), store.Delivery.FindAsync(b)), m => Assert.Equal("no answer within 0.5 s", m!.LastError));
        Assert.Equal(["Timeout", "Timeout"], (await LoggedAsync()).Select(r => r.Outcome));
    }

    [Fact]
    public async Task A_reset_a_closed_port_and_a_name_that_does_not_resolve_are_failed_attempts_retried()
    {
        using var resetting = RawReceiver.Start((_, _) => Task.CompletedTask, reset: true);
        var closed = new Uri($"http://127.0.0.1:{ResponseReceiver.FreePort()}/duis");
        var nowhere = new Uri("http://no-such-host.invalid/duis");
        using var dispatcher = Dispatcher(DeliveryOptions.Default with { RequestTimeout = Duration.FromSeconds(2) });
        var ids = new[]
        {
            await QueueAsync(dispatcher, Supplier, resetting.Url, "r1", Signed),
            await QueueAsync(dispatcher, Supplier, closed, "r2", Signed),
            await QueueAsync(dispatcher, Supplier, nowhere, "r3", Signed),
        };

        Assert.Equal(new DeliveryRound(0, 3, 0, 0), await RunAtAsync(dispatcher, 0));
        var messages = await Task.WhenAll(ids.Select(id => store.Delivery.FindAsync(id)));
        Assert.All(messages, m => Assert.Equal((DeliveryState.Pending, 1, At(10)), (m!.State, m.Attempts, m.NextAttemptAt)));
        Assert.Equal(3, (await LoggedAsync()).Count);

        // Through the whole window: each ends in the failed queue after its 5 attempts, every one logged.
        foreach (var s in new[] { 10, 60, 150, 290 })
        {
            await RunAtAsync(dispatcher, s);
        }
        messages = await Task.WhenAll(ids.Select(id => store.Delivery.FindAsync(id)));
        Assert.All(messages, m => Assert.Equal((DeliveryState.Failed, 5), (m!.State, m.Attempts)));
        Assert.Equal(15, (await LoggedAsync()).Count);
    }

    [Theory]
    [InlineData("socket")]
    [InlineData("io")]
    public async Task A_network_failure_the_http_client_lets_out_unwrapped_is_a_failed_attempt_retried(string failure)
    {
        // SocketsHttpHandler has let out a bare SocketException when a connection was reset while being made (CI, on a
        // reset receiver); it must be a failed attempt like any other, not end the round with the message claimed.
        Exception thrown = failure == "socket" ? new SocketException((int)SocketError.NotConnected) : new IOException("connection reset");
        using var failing = new HttpClient(new ThrowingHandler(thrown));
        using var dispatcher = new ResponseDispatcher(store.Delivery, failing, clock, DeliveryOptions.Default, store.MessageLog);
        var id = await QueueAsync(dispatcher, Supplier, new Uri("http://127.0.0.1:9/duis"), "r1", Signed);

        Assert.Equal(new DeliveryRound(0, 1, 0, 0), await RunAtAsync(dispatcher, 0));
        var message = (await store.Delivery.FindAsync(id))!;
        Assert.Equal((DeliveryState.Pending, 1, At(10), thrown.Message), (message.State, message.Attempts, message.NextAttemptAt, message.LastError));
        Assert.Equal("Unreachable", Assert.Single(await LoggedAsync()).Outcome);
    }

    private sealed class ThrowingHandler(Exception thrown) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) => Task.FromException<HttpResponseMessage>(thrown);
    }

    [Fact]
    public async Task A_receiver_that_hangs_does_not_hold_up_another_users_message_queued_meanwhile()
    {
        using var hanging = RawReceiver.Start((_, ct) => Task.Delay(Timeout.Infinite, ct));
        await using var alive = await ResponseReceiver.StartAsync();
        using var dispatcher = Dispatcher(DeliveryOptions.Default with { RequestTimeout = Duration.FromSeconds(3), PollInterval = Duration.FromMilliseconds(50) });
        using var stop = new CancellationTokenSource();
        var running = dispatcher.RunAsync(stop.Token);
        await QueueAsync(dispatcher, Supplier, hanging.Url, "r1", Signed);
        await hanging.FirstConnection.WaitAsync(TimeSpan.FromSeconds(5));

        // The other user's message is queued while the POST to the hanging receiver is in flight.
        var watch = Stopwatch.StartNew();
        await QueueAsync(dispatcher, NetworkOperator, alive.Url, "alert 1", Signed);
        await alive.FirstRequest.WaitAsync(TimeSpan.FromSeconds(10));
        var waited = watch.Elapsed;
        await stop.CancelAsync();
        await running.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(waited < TimeSpan.FromSeconds(2), $"another user's message waited {waited.TotalSeconds:0.0} s behind a hanging receiver");
    }

    [Fact]
    public async Task A_user_suspended_while_a_message_waits_still_gets_it()
    {
        await using var receiver = await ResponseReceiver.StartAsync();
        receiver.Answer(500);
        await store.Parties.AddUserAsync(new DccUser(Supplier, "Supplier", DccUserRole.ImportSupplier, DccUserStatus.Active, receiver.Url));
        using var dispatcher = Dispatcher();
        await QueueAsync(dispatcher, Supplier, receiver.Url, "r1", Signed);
        await RunAtAsync(dispatcher, 0);

        await store.Parties.SetUserStatusAsync(Supplier, DccUserStatus.Suspended);
        Assert.Equal(new DeliveryRound(1, 0, 0, 0), await RunAtAsync(dispatcher, 10));
    }

    [Fact]
    public async Task A_stopped_hubs_claims_are_released_at_the_next_start_and_each_message_is_sent_once_more_only()
    {
        await using var receiver = await ResponseReceiver.StartAsync();
        using (var before = Dispatcher())
        {
            await QueueAsync(before, Supplier, receiver.Url, "r1", Signed);
            await QueueAsync(before, Supplier, receiver.Url, "r2", Signed);
        }
        // A hub dies holding a claim on one (its POST in flight, say), the other never claimed.
        Assert.Single(await store.Delivery.ClaimDueAsync(At(0), 1, Duration.FromMinutes(2)));
        Assert.Equal(1, await store.Delivery.ReleaseClaimsAsync());

        using var after = Dispatcher();
        Assert.Equal(new DeliveryRound(2, 0, 0, 0), await RunAtAsync(after, 1));
        Assert.Equal(new DeliveryRound(0, 0, 0, 0), await RunAtAsync(after, 600));
        Assert.Equal(2, receiver.Received.Count);
    }

    [Fact]
    public async Task A_failed_message_can_be_redelivered_by_hand_until_its_two_days_are_over_then_it_is_purged_and_logged()
    {
        var down = new Uri($"http://127.0.0.1:{ResponseReceiver.FreePort()}/duis");
        await store.Parties.AddUserAsync(new DccUser(Supplier, "Supplier", DccUserRole.ImportSupplier, DccUserStatus.Active, down));
        using var dispatcher = Dispatcher();
        var early = await QueueAsync(dispatcher, Supplier, down, "r1", Signed);
        var late = await QueueAsync(dispatcher, Supplier, down, "r2", Signed);
        foreach (var s in new[] { 0, 10, 60, 150, 290 })
        {
            await RunAtAsync(dispatcher, s);
        }
        Assert.Equal(2, await store.Delivery.CountAsync(DeliveryState.Failed));

        // The endpoint is back; one message goes back by hand (what `opendcc delivery redeliver` does) just before expiry.
        await using var receiver = await ResponseReceiver.StartAsync();
        await store.Parties.SetResponseUrlAsync(Supplier, receiver.Url);
        clock.Reset(At(290) + Duration.FromDays(2) - Duration.FromSeconds(1));
        Assert.Equal(1, await store.Delivery.RequeueFailedAsync(Supplier, clock.GetCurrentInstant(), max: 1));
        var round = await dispatcher.RunOnceAsync();
        // The one requeued reaches the user, which brings the other back in the same round.
        Assert.Equal(2, round.Delivered);
        Assert.Equal(DeliveryState.Delivered, (await store.Delivery.FindAsync(early))!.State);
        Assert.Equal(DeliveryState.Delivered, (await store.Delivery.FindAsync(late))!.State);
    }

    [Fact]
    public async Task A_failed_message_past_its_two_days_is_purged_logged_and_not_redeliverable()
    {
        var down = new Uri($"http://127.0.0.1:{ResponseReceiver.FreePort()}/duis");
        using var dispatcher = Dispatcher();
        var id = await QueueAsync(dispatcher, Supplier, down, "r1", Signed, what: "I0");
        foreach (var s in new[] { 0, 10, 60, 150, 290 })
        {
            await RunAtAsync(dispatcher, s);
        }
        clock.Reset(At(290) + Duration.FromDays(2));
        Assert.Equal(0, (await dispatcher.RunOnceAsync()).Purged);
        Assert.NotNull(await store.Delivery.FindAsync(id));
        clock.Reset(At(290) + Duration.FromDays(2) + Duration.FromSeconds(1));
        Assert.Equal(1, (await dispatcher.RunOnceAsync()).Purged);
        Assert.Null(await store.Delivery.FindAsync(id));
        Assert.Equal(0, await store.Delivery.RequeueFailedAsync(Supplier, clock.GetCurrentInstant()));
        Assert.StartsWith("I0; Purged: never delivered, 5 attempts", (await LoggedAsync())[^1].Outcome, StringComparison.Ordinal);
    }

    private static async Task WriteAsync(Stream stream, string text)
    {
        await stream.WriteAsync(Encoding.ASCII.GetBytes(text));
        await stream.FlushAsync();
    }

    /// <summary>A TCP server on loopback that reads the request headers and then does as told with the connection.</summary>
    private sealed class RawReceiver : IDisposable
    {
        private readonly TcpListener listener = new(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource stop = new();
        private readonly TaskCompletionSource first = new(TaskCreationOptions.RunContinuationsAsynchronously);

        private RawReceiver(Func<Stream, CancellationToken, Task> handle, bool reset)
        {
            listener.Start();
            _ = AcceptAsync(handle, reset);
        }

        public Uri Url => new($"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}/duis");

        public Task FirstConnection => first.Task;

        public static RawReceiver Start(Func<Stream, CancellationToken, Task> handle, bool reset = false) => new(handle, reset);

        public void Dispose()
        {
            stop.Cancel();
            listener.Stop();
            stop.Dispose();
        }

        private async Task AcceptAsync(Func<Stream, CancellationToken, Task> handle, bool reset)
        {
            var token = stop.Token;
            while (!token.IsCancellationRequested)
            {
                Socket socket;
                try
                {
                    socket = await listener.AcceptSocketAsync(token);
                }
                catch (Exception)
                {
                    return;
                }
                first.TrySetResult();
                _ = Task.Run(async () =>
                {
                    using (socket)
                    {
                        try
                        {
                            if (reset)
                            {
                                socket.LingerState = new LingerOption(true, 0);
                                socket.Close();
                                return;
                            }
                            await using var stream = new NetworkStream(socket);
                            await ReadHeadersAsync(stream, token);
                            await handle(stream, token);
                        }
                        catch (Exception)
                        {
                            // The client went, or the test ended.
                        }
                    }
                }, token);
            }
        }

        private static async Task ReadHeadersAsync(Stream stream, CancellationToken token)
        {
            var seen = new List<byte>();
            var one = new byte[1];
            while (await stream.ReadAsync(one, token) == 1)
            {
                seen.Add(one[0]);
                if (seen.Count >= 4 && seen[^4] == '\r' && seen[^3] == '\n' && seen[^2] == '\r' && seen[^1] == '\n')
                {
                    return;
                }
            }
        }
    }
}
