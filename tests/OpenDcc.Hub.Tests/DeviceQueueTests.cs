using System.Xml.Linq;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using OpenDcc.Core.Alerts;
using OpenDcc.Core.Delivery;
using OpenDcc.Core.Duis;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Parties;
using OpenDcc.Core.Security;
using OpenDcc.Core.Wan;
using static OpenDcc.Hub.Tests.TestHub;

namespace OpenDcc.Hub.Tests;

/// <summary>A device's queue in its comms hub's grain, over a WAN that holds the first command until the others wait behind it.</summary>
public sealed class DeviceQueueTests : IAsyncLifetime
{
    private const string SendCommand = "/api/v1/serviceS";
    private static readonly XNamespace Sr = DuisNamespaces.Sr;
    private readonly HeldWan held = new();
    private TestHub hub = null!;

    // The answer to one request the hub's response sink refuses, once (RefusingSink).
    private Refusal? refusal;

    public async Task InitializeAsync() => hub = await TestHub.StartAsync(wanLatency: Duration.FromMilliseconds(500), wrapWan: held.Wrap,
        configureServices: services => Decorate<IDeviceResponseSink>(services, sink => new RefusingSink(sink, this)));

    public async Task DisposeAsync() => await hub.DisposeAsync();

    [Fact]
    public async Task Waiting_commands_go_by_lane_prepayment_before_normal_before_bulk_one_at_a_time()
    {
        var profile = $"<sr:ReadLogPeriod><sr:StartDateTime>2026-11-01T00:00:00Z</sr:StartDateTime><sr:EndDateTime>2026-11-02T00:00:00Z</sr:EndDateTime></sr:ReadLogPeriod>";
        // The first goes out at once and is held on the WAN; the other three arrive meanwhile, wait behind it and
        // leave by lane, not by arrival.
        var first = await SendAsync("4.1.1");
        await held.FirstOnTheWan.WaitAsync(TimeSpan.FromSeconds(20));
        var bulk = await SendAsync("4.8.1", profile);
        var normal = await SendAsync("7.4");
        var prepayment = await SendAsync("4.18");
        held.Release();

        var order = new List<ulong>();
        for (var i = 0; i < 4; i++)
        {
            var answer = XDocument.Parse(await hub.Receiver.NextAsync(TimeSpan.FromSeconds(20)));
            Assert.Equal("I0", answer.Descendants(Sr + "ResponseCode").Single().Value);
            order.Add(RequestId.Parse(answer.Descendants(Sr + "ResponseID").Single().Value).Counter);
        }

        Assert.Equal([first, prepayment, normal, bulk], order);
    }

    [Fact]
    public async Task A_device_answer_goes_to_the_response_url_the_user_has_when_the_device_answers()
    {
        await using var moved = await ResponseReceiver.StartAsync();
        var counter = await SendAsync("4.1.1");
        await held.FirstOnTheWan.WaitAsync(TimeSpan.FromSeconds(20));
        // While the command is on the WAN the user moves its endpoint (as `opendcc users response-url` would, through the hub's store).
        await hub.Services.GetRequiredService<IPartyStore>().SetResponseUrlAsync(Supplier, moved.Url);
        held.Release();

        var answer = XDocument.Parse(await moved.NextAsync(TimeSpan.FromSeconds(20)));

        Assert.Equal("I0", answer.Descendants(Sr + "ResponseCode").Single().Value);
        Assert.Equal(counter, RequestId.Parse(answer.Descendants(Sr + "ResponseID").Single().Value).Counter);
        Assert.Empty(hub.Receiver.Received);
    }

    [Fact]
    public async Task Commands_unanswered_when_the_hub_stops_are_answered_E21_when_sent_and_E20_when_waiting()
    {
        var sent = await SendAsync("4.1.1");
        await held.FirstOnTheWan.WaitAsync(TimeSpan.FromSeconds(20));
        var normal = await SendAsync("7.4");
        var prepayment = await SendAsync("4.18");

        await hub.RestartAsync();

        var codes = new Dictionary<ulong, string>();
        for (var i = 0; i < 3; i++)
        {
            var answer = XDocument.Parse(await hub.Receiver.NextAsync(TimeSpan.FromSeconds(30)));
            codes[RequestId.Parse(answer.Descendants(Sr + "ResponseID").Single().Value).Counter] = answer.Descendants(Sr + "ResponseCode").Single().Value;
        }
        Assert.Equal(new Dictionary<ulong, string> { [sent] = "E21", [normal] = "E20", [prepayment] = "E20" }, codes);
        Assert.Empty(await hub.Store.UnansweredCommands.ListAsync());

        // The device's answer to the command on the WAN comes now, to a hub that has stopped waiting: no second response.
        held.Release();
        await Assert.ThrowsAsync<TimeoutException>(() => hub.Receiver.NextAsync(TimeSpan.FromSeconds(3)));
        // The restarted hub takes the device's commands again.
        var after = await SendAsync("4.1.1");
        var next = XDocument.Parse(await hub.Receiver.NextAsync(TimeSpan.FromSeconds(20)));
        Assert.Equal(after, RequestId.Parse(next.Descendants(Sr + "ResponseID").Single().Value).Counter);
        Assert.Equal("I0", next.Descendants(Sr + "ResponseCode").Single().Value);
    }

    [Fact]
    public async Task An_answer_that_fails_as_the_hub_stops_does_not_keep_the_others_and_the_next_start_answers_it_E21()
    {
        var sent = await SendAsync("4.1.1");
        await held.FirstOnTheWan.WaitAsync(TimeSpan.FromSeconds(20));
        var normal = await SendAsync("7.4");
        var prepayment = await SendAsync("4.18");
        // The first answered as the grain goes: not a store away, so not tried again.
        refusal = new Refusal(sent, new InvalidOperationException("the response sink failed"));

        await hub.RestartAsync();

        var codes = await AnswersAsync(3);
        Assert.Null(refusal);
        // The two waiting answered as the hub stopped; the refused one stayed recorded, and the new start answered it.
        Assert.Equal(new Dictionary<ulong, string> { [sent] = "E21", [normal] = "E20", [prepayment] = "E20" }, codes);
        Assert.StartsWith("E21 acknowledged at ", await LoggedAnswerAsync(sent), StringComparison.Ordinal);
        Assert.StartsWith("E20 not sent: its comms hub's queue closed", await LoggedAnswerAsync(normal), StringComparison.Ordinal);
        Assert.Empty(await hub.Store.UnansweredCommands.ListAsync());
    }

    [Fact]
    public async Task An_answer_that_finds_the_store_away_as_the_hub_stops_is_handed_on_once_it_is_back_with_the_others()
    {
        var sent = await SendAsync("4.1.1");
        await held.FirstOnTheWan.WaitAsync(TimeSpan.FromSeconds(20));
        var waiting = await SendAsync("7.4");
        refusal = new Refusal(sent, new StoreAwayException());

        await hub.RestartAsync();

        Assert.Equal(new Dictionary<ulong, string> { [sent] = "E21", [waiting] = "E20" }, await AnswersAsync(2));
        Assert.Null(refusal);
        // Handed on by the stopping hub a second later, not left for the next start.
        Assert.StartsWith("E21 its comms hub's queue closed before the device's answer", await LoggedAnswerAsync(sent), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_acknowledged_command_is_recorded_unanswered_until_its_answer_is_handed_to_delivery()
    {
        var counter = await SendAsync("4.1.1");
        await held.FirstOnTheWan.WaitAsync(TimeSpan.FromSeconds(20));

        var unanswered = Assert.Single(await hub.Store.UnansweredCommands.ListAsync());
        Assert.Equal(new CommandKey(new RequestId(Supplier, Meter, counter), Meter), unanswered.Key);
        Assert.Equal(("4.1", "4.1.1", Supplier), (unanswered.Request.ServiceReference, unanswered.Request.ServiceReferenceVariant, unanswered.User));

        held.Release();
        Assert.Equal("I0", XDocument.Parse(await hub.Receiver.NextAsync(TimeSpan.FromSeconds(20))).Descendants(Sr + "ResponseCode").Single().Value);
        Assert.Empty(await hub.Store.UnansweredCommands.ListAsync());
    }

    [Fact]
    public async Task Commands_a_hub_acknowledged_and_lost_in_a_crash_are_answered_when_the_hub_starts_again_E21_or_for_firmware_the_dcc_alert()
    {
        // What a hub that crashed leaves behind: its requests logged with the commands their I99s acknowledged, its
        // device queues (memory) gone. The running hub's grains know nothing of them, so its clean stop answers none.
        var read = new RequestId(Supplier, Meter, hub.NextCounter());
        var firmware = new RequestId(Supplier, Dsp, hub.NextCounter());
        await hub.Store.MessageLog.AppendAsync(
        [
            Acknowledged(read, new DeviceRequestReference(read, "4.1", "4.1.1", "5.1", Meter)),
            Acknowledged(firmware, new DeviceRequestReference(firmware, "11.1", "11.1", "5.1", GasMeter)),
        ]);

        await hub.RestartAsync();

        var received = new[] { await hub.Receiver.NextAsync(TimeSpan.FromSeconds(20)), await hub.Receiver.NextAsync(TimeSpan.FromSeconds(20)) };
        foreach (var message in received)
        {
            await hub.CheckSignedResponseAsync(message);
        }
        var documents = received.Select(XDocument.Parse).ToLookup(d => d.Descendants(Sr + "DCCAlertMessage").Any());
        var response = Assert.Single(documents[false]);
        Assert.Equal((read.ToResponseId().ToString(), "E21", "4.1.1"), (response.Descendants(Sr + "ResponseID").Single().Value, response.Descendants(Sr + "ResponseCode").Single().Value, response.Descendants(Sr + "ServiceReferenceVariant").Single().Value));
        var failure = Assert.Single(documents[true]).Descendants(Sr + "FirmwareDistributionFailure").Single();
        Assert.Equal([("UpdateFirmwareRequestID", $"{firmware}"), ("MeterIDs", GasMeter.ToString())], failure.Elements().Select(e => (e.Name.LocalName, e.Value)));
        Assert.Empty(await hub.Store.UnansweredCommands.ListAsync());

        // Answered once: the next start has nothing left to answer.
        await hub.RestartAsync();
        await Assert.ThrowsAsync<TimeoutException>(() => hub.Receiver.NextAsync(TimeSpan.FromSeconds(2)));
    }

    [Fact]
    public async Task A_command_a_crashed_hub_left_unanswered_is_answered_E21_once_a_store_away_as_the_hub_starts_is_back_not_at_the_next_start()
    {
        var read = new RequestId(Supplier, Meter, hub.NextCounter());
        await hub.Store.MessageLog.AppendAsync([Acknowledged(read, new DeviceRequestReference(read, "4.1", "4.1.1", "5.1", Meter))]);
        refusal = new Refusal(read.Counter, new StoreAwayException());

        await hub.RestartAsync();

        var response = XDocument.Parse(await hub.Receiver.NextAsync(TimeSpan.FromSeconds(20)));
        Assert.Equal((read.ToResponseId().ToString(), "E21"), (response.Descendants(Sr + "ResponseID").Single().Value, response.Descendants(Sr + "ResponseCode").Single().Value));
        Assert.Null(refusal);
        Assert.Empty(await hub.Store.UnansweredCommands.ListAsync());
    }

    [Fact]
    public async Task A_message_a_crashed_hub_had_claimed_for_delivery_goes_as_soon_as_the_hub_starts_again_not_when_its_lease_ends()
    {
        // What a hub killed mid-delivery leaves: a queued answer claimed for DeliveryOptions.ClaimLease (2 minutes). Made
        // while no hub runs, so that no running dispatcher claims it first.
        long queued = 0;
        await hub.RestartAsync(whileStopped: async store =>
        {
            var now = SystemClock.Instance.GetCurrentInstant();
            await store.MessageLog.AppendAsync([new MessageLogRecord(now, MessageDirection.Outbound, Supplier, "claimed by a hub that died", $"I0 queued for delivery to {hub.Receiver.Url}", "<Response/>"u8.ToArray())
            {
                QueuedForDelivery = new QueuedDelivery(hub.Receiver.Url, "I0"),
            }]);
            queued = Assert.Single(await store.Delivery.ClaimDueAsync(now, 16, DeliveryOptions.Default.ClaimLease)).Id;
        });

        Assert.Equal("<Response/>", await hub.Receiver.NextAsync(TimeSpan.FromSeconds(20)));
        // Recorded just after the receiver answers.
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while ((await hub.Store.Delivery.FindAsync(queued))!.State != DeliveryState.Delivered && waited.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(50);
        }
        Assert.Equal(DeliveryState.Delivered, (await hub.Store.Delivery.FindAsync(queued))!.State);
    }

    private static MessageLogRecord Acknowledged(RequestId request, DeviceRequestReference command) =>
        new(Instant.FromUtc(2026, 11, 30, 9, 0), MessageDirection.Inbound, Supplier, $"{request}", "I99", "<Request/>"u8.ToArray())
        {
            AcceptedCounter = request.Counter,
            Acknowledges = [new UnansweredCommand(command, Supplier, Instant.FromUtc(2026, 11, 30, 9, 0))],
        };

    private async Task<Dictionary<ulong, string>> AnswersAsync(int count)
    {
        var codes = new Dictionary<ulong, string>();
        for (var i = 0; i < count; i++)
        {
            var answer = XDocument.Parse(await hub.Receiver.NextAsync(TimeSpan.FromSeconds(30)));
            codes[RequestId.Parse(answer.Descendants(Sr + "ResponseID").Single().Value).Counter] = answer.Descendants(Sr + "ResponseCode").Single().Value;
        }
        return codes;
    }

    /// <summary>The message log's outcome of the asynchronous response to the supplier's command to the meter (after its I99).</summary>
    /// <summary>
    /// The outcome of the request's answer as the message log has it. A delivery is logged as it is made, just after the
    /// POST the receiver saw (by the new hub's dispatcher when the old one had stopped first): waited for, up to 10 s.
    /// </summary>
    private async Task<string> LoggedAnswerAsync(ulong counter)
    {
        for (var waited = 0; ; waited++)
        {
            var outcome = await hub.Store.MessageLog.ReadCorrelatedAsync(new RequestId(Supplier, Meter, counter).ToString(), 1, long.MaxValue)
                .Where(e => e.Record.Direction == MessageDirection.Outbound).Select(e => e.Record.Outcome).LastAsync();
            if (outcome != "I99" || waited == 100)
            {
                return outcome;
            }
            await Task.Delay(100);
        }
    }

    private async Task<ulong> SendAsync(string srv, string body = "")
    {
        var counter = hub.NextCounter();
        Assert.Equal("I99", (await hub.SendAsync(SendCommand, Request(Supplier, Meter, counter, 1, srv, body))).Code);
        return counter;
    }

    private sealed record Refusal(ulong Counter, Exception Fault);

    /// <summary>In front of the hub's response sink: throws the test's <see cref="Refusal"/> for its request's answer, once.</summary>
    private sealed class RefusingSink(IDeviceResponseSink sink, DeviceQueueTests test) : IDeviceResponseSink
    {
        public Task SendAsync(DeviceRequestReference request, string code, ResponsePayload payload, Eui64 user, DeviceAnswerRoute route, string? reason = null, CancellationToken cancellationToken = default) =>
            Volatile.Read(ref test.refusal) is { } refusal && refusal.Counter == request.RequestId.Counter && Interlocked.CompareExchange(ref test.refusal, null, refusal) == refusal
                ? throw refusal.Fault
                : sink.SendAsync(request, code, payload, user, route, reason, cancellationToken);
    }

    /// <summary>What Npgsql throws while PostgreSQL restarts: a transient fault.</summary>
    private sealed class StoreAwayException() : System.Data.Common.DbException("Failed to connect to 127.0.0.1:5432")
    {
        public override bool IsTransient => true;
    }

    /// <summary>In front of the simulated WAN: holds the first exchange until released; the rest pass straight through.</summary>
    private sealed class HeldWan
    {
        private readonly TaskCompletionSource onTheWan = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource released = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int exchanges;

        public Task FirstOnTheWan => onTheWan.Task;

        public void Release() => released.TrySetResult();

        public IWanTransport Wrap(IWanTransport wan) => new Transport(this, wan);

        private sealed class Transport(HeldWan held, IWanTransport inner) : IWanTransport
        {
            public async Task<byte[]> ExchangeAsync(Eui64 device, byte[] command, CancellationToken cancellationToken)
            {
                if (Interlocked.Increment(ref held.exchanges) == 1)
                {
                    held.onTheWan.TrySetResult();
                    await held.released.Task.WaitAsync(cancellationToken);
                }
                return await inner.ExchangeAsync(device, command, cancellationToken);
            }

            public void Attach(IDeviceAlertSink sink) => inner.Attach(sink);
        }
    }
}

/// <summary>A hub whose clock does not move between commands (a test's clock, or two commands in one microsecond).</summary>
public sealed class StoppedClockDeviceQueueTests : IAsyncLifetime
{
    private TestHub hub = null!;

    public async Task InitializeAsync() => hub = await StartAsync(clock: new NodaTime.Testing.FakeClock(SystemClock.Instance.GetCurrentInstant()));

    public async Task DisposeAsync() => await hub.DisposeAsync();

    [Fact]
    public async Task A_device_gets_a_new_counter_on_each_command_even_after_its_idle_queue_went_and_the_clock_stood_still()
    {
        foreach (var srv in new[] { "4.1.1", "7.4", "4.1.1" })
        {
            Assert.Equal("I99", (await hub.SendAsync("/api/v1/serviceS", Request(Supplier, Meter, hub.NextCounter(), 1, srv))).Code);
            // Answered before the next is sent: the device's queue is idle, and goes, between them.
            Assert.Equal("I0", await hub.CheckSignedResponseAsync(await hub.Receiver.NextAsync(TimeSpan.FromSeconds(20))));
        }
    }
}
