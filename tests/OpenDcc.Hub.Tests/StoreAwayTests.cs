using System.Data.Common;
using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using OpenDcc.Core.AccessControl;
using OpenDcc.Core.Duis;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Inventory;
using OpenDcc.Core.Security;
using static OpenDcc.Hub.Tests.TestHub;

namespace OpenDcc.Hub.Tests;

/// <summary>
/// The store away (PostgreSQL restarting, out of reach): a request is answered 503 with Retry-After and a problem
/// document saying so, and a device's answer is kept and handed on once the store is back, not lost until the hub's
/// next start answers the command E21 although the device did answer.
/// </summary>
public sealed class StoreAwayTests : IAsyncLifetime
{
    private readonly Away away = new();
    private TestHub hub = null!;

    public async Task InitializeAsync() => hub = await TestHub.StartAsync(configureServices: WithStoreAway);

    private void WithStoreAway(IServiceCollection services)
    {
        Decorate<IDeviceResponseSink>(services, sink => new AwaySink(sink, away));
        Decorate<IMessageLog>(services, log => new AwayLog(log, away));
        Decorate<ILocalCommandStore>(services, store => new AwayLocalCommands(store, away));
    }

    public async Task DisposeAsync() => await hub.DisposeAsync();

    [Fact]
    public async Task A_device_answer_that_finds_the_store_away_is_handed_on_once_it_is_back_and_the_queue_goes_on()
    {
        Assert.Equal("I99", (await hub.SendAsync("/api/v1/serviceS", Request(Supplier, Meter, hub.NextCounter(), 1, "4.1.1"))).Code);
        away.AnswersRefused = 2;
        Assert.Equal("I99", (await hub.SendAsync("/api/v1/serviceS", Request(Supplier, Meter, hub.NextCounter(), 1, "7.4"))).Code);

        // Each answer the device's own: the second after the store's two refusals (1 s, then 2 s).
        Assert.Equal("I0", await hub.CheckSignedResponseAsync(await hub.Receiver.NextAsync(TimeSpan.FromSeconds(20))));
        Assert.Equal("I0", await hub.CheckSignedResponseAsync(await hub.Receiver.NextAsync(TimeSpan.FromSeconds(20))));
        Assert.Equal(0, away.AnswersRefused);
        Assert.Empty(await hub.Store.UnansweredCommands.ListAsync());
    }

    [Theory]
    [InlineData("PostgreSQL restarting")]
    [InlineData("SQLite's disk full")]
    public async Task A_request_that_finds_the_store_away_is_answered_503_with_retry_after_and_is_served_when_sent_again(string fault)
    {
        if (fault == "SQLite's disk full")
        {
            away.Fault = () => new Microsoft.Data.Sqlite.SqliteException("SQLite Error 13: 'database or disk is full'.", 13, 13);
        }
        away.LogAway = true;
        var signed = hub.Sign(Request(Supplier, Meter, hub.NextCounter(), 1, "4.1.1"), Supplier);
        var detail = await RefusedForNowAsync("/api/v1/serviceS", signed, retryAfterSeconds: 5, "The store is unavailable");
        Assert.Contains("as it was", detail, StringComparison.Ordinal);
        // Reads still work, but the hub says it is not well until no request has been refused for a while.
        using (var health = await hub.Http.GetAsync(new Uri("/health", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
            Assert.Contains("a request was refused", await health.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        // The same signed request, as a user's system retries after Retry-After: its counter was not spent.
        away.LogAway = false;
        Assert.Equal("I99", await SendSignedAsync(signed));
        Assert.Equal("I0", await hub.CheckSignedResponseAsync(await hub.Receiver.NextAsync(TimeSpan.FromSeconds(20))));
        // Once carried out, it is a replay.
        Assert.Equal(GatewayResponseCodes.Default.Replay, await SendSignedAsync(signed));
    }

    [Fact]
    public async Task A_counter_given_back_is_the_last_one_again_only_while_no_later_one_was_accepted()
    {
        var replay = hub.Services.GetRequiredService<IReplayGuard>();
        var originator = new Eui64(0x90B3D51F30AA0001UL);
        RequestId Counter(ulong counter) => new(originator, Meter, counter);

        Assert.True((await replay.AcceptAsync(Counter(5))).Accepted);
        Assert.Equal(5UL, (await replay.AcceptAsync(Counter(7))).LastAccepted);
        await replay.ReleaseAsync(Counter(5), new ReplayVerdict(true, null));
        Assert.False((await replay.AcceptAsync(Counter(6))).Accepted);

        await replay.ReleaseAsync(Counter(7), new ReplayVerdict(true, 5));
        Assert.True((await replay.AcceptAsync(Counter(6))).Accepted);
    }

    [Fact]
    public async Task A_signed_pre_command_takes_its_transforms_counter_once_and_again_only_if_given_back()
    {
        var replay = hub.Services.GetRequiredService<IReplayGuard>();
        var originator = new Eui64(0x90B3D51F30AA0002UL);
        var transform = new CriticalStep("7.2", IsTransform: true);
        var signed = new CriticalStep("7.2", IsTransform: false);

        Assert.True((await replay.AcceptAsync(new RequestId(originator, Meter, 10), transform)).Accepted);
        // Not for another device's, another SRV's, or a request that is no signed pre-command.
        Assert.False((await replay.AcceptAsync(new RequestId(originator, GasMeter, 10), signed)).Accepted);
        Assert.False((await replay.AcceptAsync(new RequestId(originator, Meter, 10), new CriticalStep("7.1", IsTransform: false))).Accepted);
        Assert.False((await replay.AcceptAsync(new RequestId(originator, Meter, 10))).Accepted);
        var follows = await replay.AcceptAsync(new RequestId(originator, Meter, 10), signed);
        Assert.Equal(new ReplayVerdict(true, 10, FollowsTransform: true), follows);
        Assert.False((await replay.AcceptAsync(new RequestId(originator, Meter, 10), signed)).Accepted);

        // Given back (not logged): it may follow its transform again; a later request closes that.
        await replay.ReleaseAsync(new RequestId(originator, Meter, 10), follows, signed);
        Assert.True((await replay.AcceptAsync(new RequestId(originator, Meter, 11))).Accepted);
        Assert.False((await replay.AcceptAsync(new RequestId(originator, Meter, 10), signed)).Accepted);
    }

    [Fact]
    public async Task An_8_13_that_finds_the_log_away_is_not_taken_and_is_served_when_sent_again()
    {
        var (_, answer) = await LocalCommandAnsweredAsync();
        var signed = hub.Sign(Request(Supplier, Dsp, hub.NextCounter(), 8, "8.13", answer), Supplier);

        away.LogAway = true;
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await hub.PostAsync("/api/v1/serviceD", signed)).Status);
        away.LogAway = false;

        Assert.Equal("I0", await SendSignedAsync(signed, "/api/v1/serviceD"));
    }

    [Fact]
    public async Task An_8_13_whose_answer_stays_taken_when_the_store_goes_away_is_served_when_sent_again_as_it_was_but_not_under_another_request_id()
    {
        var (original, answer) = await LocalCommandAnsweredAsync();
        var signed = hub.Sign(Request(Supplier, Dsp, hub.NextCounter(), 8, "8.13", answer), Supplier);

        // The log goes away after the answer was taken, and the store with it before the mark is taken back.
        away.LogAway = true;
        away.UnmarkAway = true;
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await hub.PostAsync("/api/v1/serviceD", signed)).Status);
        away.LogAway = false;
        away.UnmarkAway = false;
        Assert.NotNull((await hub.Store.LocalCommands.FindAsync(original))!.ReturnedAt);

        // The user never had an I0: the same 8.13 gets it. Another 8.13 for the answer may not take it too.
        Assert.Equal("I0", await SendSignedAsync(signed, "/api/v1/serviceD"));
        Assert.Equal("E081303", await SendSignedAsync(hub.Sign(Request(Supplier, Dsp, hub.NextCounter(), 8, "8.13", answer), Supplier), "/api/v1/serviceD"));
    }

    [Fact]
    public async Task An_answer_held_by_an_8_13_never_logged_is_taken_by_another_8_13_once_held_for_a_while_and_waits_meanwhile()
    {
        var clock = new NodaTime.Testing.FakeClock(SystemClock.Instance.GetCurrentInstant());
        await hub.DisposeAsync();
        hub = await TestHub.StartAsync(clock: clock, configureServices: WithStoreAway);
        var (original, answer) = await LocalCommandAnsweredAsync();
        away.LogAway = true;
        away.UnmarkAway = true;
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await hub.PostAsync("/api/v1/serviceD", hub.Sign(Request(Supplier, Dsp, hub.NextCounter(), 8, "8.13", answer), Supplier))).Status);
        away.LogAway = false;
        away.UnmarkAway = false;

        // The user moves on (its counter past the 8.13 never logged, which can no longer be sent again): the answer is
        // held a while, and the command is still waiting for it.
        Assert.Equal("E081303", await SendSignedAsync(hub.Sign(Request(Supplier, Dsp, hub.NextCounter(), 8, "8.13", answer), Supplier), "/api/v1/serviceD"));
        Assert.Contains(await hub.Store.LocalCommands.ListWaitingAsync(clock.GetCurrentInstant() - LocalCommands.KeptFor, 10), c => c.RequestId == original);

        clock.Advance(LocalCommands.UnloggedReturnHeldFor);
        Assert.Equal("I0", await SendSignedAsync(hub.Sign(Request(Supplier, Dsp, hub.NextCounter(), 8, "8.13", answer), Supplier), "/api/v1/serviceD"));
        // Taken by a logged 8.13: final.
        clock.Advance(LocalCommands.UnloggedReturnHeldFor);
        Assert.Equal("E081303", await SendSignedAsync(hub.Sign(Request(Supplier, Dsp, hub.NextCounter(), 8, "8.13", answer), Supplier), "/api/v1/serviceD"));
        Assert.DoesNotContain(await hub.Store.LocalCommands.ListWaitingAsync(clock.GetCurrentInstant() - LocalCommands.KeptFor, 10), c => c.RequestId == original);
    }

    [Fact]
    public async Task A_command_for_local_delivery_whose_request_finds_the_log_away_is_not_kept()
    {
        var request = new RequestId(Supplier, Meter, hub.NextCounter());
        away.LogAway = true;
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await hub.PostAsync("/api/v1/serviceD", hub.Sign(Request(Supplier, Meter, request.Counter, 2, "4.1.1"), Supplier))).Status);
        away.LogAway = false;

        Assert.Null(await hub.Store.LocalCommands.FindAsync(request));
    }

    [Fact]
    public async Task An_inventory_request_that_finds_the_log_away_changes_nothing_and_is_carried_out_when_sent_again()
    {
        var before = await hub.Store.Inventory.FindDeviceAsync(Meter);
        var signed = hub.Sign(Request(Supplier, Dsp, hub.NextCounter(), 8, "8.3", $"<sr:DeviceID>{Meter}</sr:DeviceID>"), Supplier);

        away.LogAway = true;
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await hub.PostAsync("/api/v1/serviceD", signed)).Status);
        away.LogAway = false;
        Assert.Equal(before, await hub.Store.Inventory.FindDeviceAsync(Meter));
        Assert.Empty(await hub.Store.Inventory.StatusHistoryAsync(Meter));

        Assert.Equal("I0", await SendSignedAsync(signed, "/api/v1/serviceD"));
        Assert.Equal(SmiStatus.Decommissioned, (await hub.Store.Inventory.FindDeviceAsync(Meter))!.Status);
        Assert.Equal(SmiStatus.Decommissioned, Assert.Single(await hub.Store.Inventory.StatusHistoryAsync(Meter)).Status);
        // Sent to the meter now: refused, its status read past the gateway's cache.
        Assert.Equal("E5", (await hub.SendAsync("/api/v1/serviceS", Request(Supplier, Meter, hub.NextCounter(), 1, "4.1.1"))).Code);
    }

    [Fact]
    public async Task An_inventory_request_whose_device_another_changes_while_it_is_checked_is_checked_again_and_loses_neither_change()
    {
        // The operator sets the meter's firmware version between the 8.3's check and its log commit.
        var change = InventoryChange.ByOperator(SystemClock.Instance.GetCurrentInstant());
        away.BeforeInventoryWrite = () => hub.Store.Inventory.UpdateDeviceAsync(Meter, d => d with { FirmwareVersion = "0002012F" }, change);

        Assert.Equal("I0", (await hub.SendAsync("/api/v1/serviceD", Request(Supplier, Dsp, hub.NextCounter(), 8, "8.3", $"<sr:DeviceID>{Meter}</sr:DeviceID>"))).Code);

        var meter = await hub.Store.Inventory.FindDeviceAsync(Meter);
        Assert.Equal((SmiStatus.Decommissioned, "0002012F"), (meter!.Status, meter.FirmwareVersion));
        Assert.Null(away.BeforeInventoryWrite);
    }

    [Fact]
    public async Task A_request_whose_log_commit_the_store_did_not_say_was_made_gets_503_and_keeps_its_counter_spent()
    {
        // The store went away as the commit was made, and did not come back in time to say whether it was.
        away.Fault = () => new CommitOutcomeUnknownException(new TimeoutException("the commit's answer was lost"));
        away.LogAway = true;
        var signed = hub.Sign(Request(Supplier, Meter, hub.NextCounter(), 1, "4.1.1"), Supplier);

        var detail = await RefusedForNowAsync("/api/v1/serviceS", signed, retryAfterSeconds: 30, "The store is unavailable");

        Assert.Contains("did not come back in time to say whether it was", detail, StringComparison.Ordinal);
        Assert.Contains("send it again with a new counter", detail, StringComparison.Ordinal);
        // It may be in the log: the same signed request is a replay, and one with a new counter is carried out.
        away.LogAway = false;
        Assert.Equal("E43", await SendSignedAsync(signed));
        Assert.Equal("I99", (await hub.SendAsync("/api/v1/serviceS", Request(Supplier, Meter, hub.NextCounter(), 1, "4.1.1"))).Code);
    }

    [Fact]
    public async Task An_inventory_request_whose_device_others_change_each_time_it_is_checked_gets_503_with_retry_after_and_may_be_sent_again()
    {
        var change = InventoryChange.ByOperator(SystemClock.Instance.GetCurrentInstant());
        var changes = 0;
        Func<Task>? meddle = null;
        meddle = async () =>
        {
            away.BeforeInventoryWrite = meddle;
            await hub.Store.Inventory.UpdateDeviceAsync(Meter, d => d with { FirmwareVersion = (++changes).ToString("X8", System.Globalization.CultureInfo.InvariantCulture) }, change);
        };
        away.BeforeInventoryWrite = meddle;
        var signed = hub.Sign(Request(Supplier, Dsp, hub.NextCounter(), 8, "8.3", $"<sr:DeviceID>{Meter}</sr:DeviceID>"), Supplier);

        var detail = await RefusedForNowAsync("/api/v1/serviceD", signed, retryAfterSeconds: 1, "Devices changed while this request was checked");

        Assert.Contains($"device {Meter} changed while its request was being checked", detail, StringComparison.Ordinal);
        Assert.True(changes > 1, "the request was tried more than once");
        Assert.NotEqual(SmiStatus.Decommissioned, (await hub.Store.Inventory.FindDeviceAsync(Meter))!.Status);

        // Left alone, the same signed request is carried out: its counter was not spent.
        away.BeforeInventoryWrite = null;
        Assert.Equal("I0", await SendSignedAsync(signed, "/api/v1/serviceD"));
        Assert.Equal(SmiStatus.Decommissioned, (await hub.Store.Inventory.FindDeviceAsync(Meter))!.Status);
    }

    [Fact]
    public async Task An_inventory_request_refused_503_after_a_later_one_of_its_user_was_accepted_is_told_to_use_a_new_counter()
    {
        var change = InventoryChange.ByOperator(SystemClock.Instance.GetCurrentInstant());
        var changes = 0;
        Func<Task>? meddle = null;
        var later = hub.Sign(Request(Supplier, Dsp, hub.NextCounter() + 1000, 8, "8.2", $"<sr:DeviceID>{Meter}</sr:DeviceID>"), Supplier);
        Task<string>? laterAnswer = null;
        meddle = async () =>
        {
            away.BeforeInventoryWrite = meddle;
            if (changes == 0)
            {
                // The user's next request, under a higher counter, passes the replay check while this one is still being
                // checked (its log entry waits for this one's commit, so it is not awaited here).
                laterAnswer = SendSignedAsync(later, "/api/v1/serviceD");
                await Task.Delay(500);
            }
            await hub.Store.Inventory.UpdateDeviceAsync(Meter, d => d with { FirmwareVersion = (++changes).ToString("X8", System.Globalization.CultureInfo.InvariantCulture) }, change);
        };
        away.BeforeInventoryWrite = meddle;
        var signed = hub.Sign(Request(Supplier, Dsp, hub.NextCounter(), 8, "8.3", $"<sr:DeviceID>{Meter}</sr:DeviceID>"), Supplier);

        var detail = await RefusedForNowAsync("/api/v1/serviceD", signed, retryAfterSeconds: 1, "Devices changed while this request was checked");
        away.BeforeInventoryWrite = null;

        Assert.Equal("I0", await laterAnswer!);
        // Counters only rise: sent again as it was, it is a replay, and the 503 said so.
        Assert.Equal("E43", await SendSignedAsync(signed, "/api/v1/serviceD"));
        Assert.Contains("send it with a new one", detail, StringComparison.Ordinal);
        Assert.NotEqual(SmiStatus.Decommissioned, (await hub.Store.Inventory.FindDeviceAsync(Meter))!.Status);
    }

    [Fact]
    public async Task An_mpan_another_meter_takes_while_an_8_4_giving_it_to_a_meter_is_checked_is_refused_on_the_check_again()
    {
        var mpan = Mpan.Create(14, 7);
        var change = InventoryChange.ByOperator(SystemClock.Instance.GetCurrentInstant());
        away.BeforeInventoryWrite = () => hub.Store.Inventory.UpdateDeviceAsync(OfflineMeter, d => d with { Mpan = mpan }, change);

        var (code, _) = await hub.SendAsync("/api/v1/serviceD", Request(Supplier, Dsp, hub.NextCounter(), 8, "8.4",
            $"<sr:DeviceID>{Meter}</sr:DeviceID><sr:UpdateMPxN><sr:ImportMPxN>{mpan}</sr:ImportMPxN></sr:UpdateMPxN>"));

        Assert.Equal(GatewayResponseCodes.Default.InvalidRequest, code);
        Assert.NotEqual(mpan, (await hub.Store.Inventory.FindDeviceAsync(Meter))!.Mpan);
        Assert.Equal(mpan, (await hub.Store.Inventory.FindDeviceAsync(OfflineMeter))!.Mpan);
    }

    [Fact]
    public async Task A_meter_put_back_in_service_at_an_mpan_another_meter_in_service_serves_is_refused_E41_not_retried()
    {
        // An installation whose matrix lets 8.4 change a decommissioned device's status.
        await hub.DisposeAsync();
        hub = await TestHub.StartAsync(configureServices: WithStoreAway, statusMatrix: SmiStatusMatrix.Parse(["*\tInstalledNotCommissioned,Commissioned,Recovered", "8.4\tPending,InstalledNotCommissioned,Commissioned,Decommissioned"]));
        var mpan = Mpan.Create(14, 9);
        var change = InventoryChange.ByOperator(SystemClock.Instance.GetCurrentInstant());
        await hub.Store.Inventory.UpdateDeviceAsync(OfflineMeter, d => d with { Mpan = mpan, Status = SmiStatus.Decommissioned }, change);
        await hub.Store.Inventory.UpdateDeviceAsync(Meter, d => d with { Mpan = mpan }, change);

        var (code, _) = await hub.SendAsync("/api/v1/serviceD", Request(Supplier, Dsp, hub.NextCounter(), 8, "8.4",
            $"<sr:DeviceID>{OfflineMeter}</sr:DeviceID><sr:UpdateDeviceStatusExceptCH>Pending</sr:UpdateDeviceStatusExceptCH>"));

        Assert.Equal(GatewayResponseCodes.Default.InvalidRequest, code);
        Assert.Equal(SmiStatus.Decommissioned, (await hub.Store.Inventory.FindDeviceAsync(OfflineMeter))!.Status);
    }

    [Fact]
    public async Task A_transform_given_back_after_its_signed_pre_command_was_taken_under_its_request_id_leaves_that_a_replay()
    {
        var replay = hub.Services.GetRequiredService<IReplayGuard>();
        var originator = new Eui64(0x90B3D51F30AA0003UL);
        var transform = await replay.AcceptAsync(new RequestId(originator, Meter, 10), new CriticalStep("7.2", IsTransform: true));
        Assert.True((await replay.AcceptAsync(new RequestId(originator, Meter, 10), new CriticalStep("7.2", IsTransform: false))).FollowsTransform);

        // The Transform is not logged (given back); its signed pre-command was.
        await replay.ReleaseAsync(new RequestId(originator, Meter, 10), transform, new CriticalStep("7.2", IsTransform: true));

        Assert.False((await replay.AcceptAsync(new RequestId(originator, Meter, 10), new CriticalStep("7.2", IsTransform: false))).Accepted);
    }

    /// <summary>A CV 2 4.1.1 given, delivered to the meter; the body of an 8.13 returning the meter's answer.</summary>
    private async Task<(RequestId Original, string ReturnBody)> LocalCommandAnsweredAsync()
    {
        var original = new RequestId(Supplier, Meter, hub.NextCounter());
        var (code, response) = await hub.SendAsync("/api/v1/serviceD", Request(Supplier, Meter, original.Counter, 2, "4.1.1"));
        Assert.Equal("I0", code);
        var command = Convert.FromBase64String(response.Descendants(DuisNamespaces.Sr + "LocalCommand").Single().Element(DuisNamespaces.Sr + "GBCSPayload")!.Value);
        var answer = await hub.Wan.ExchangeAsync(Meter, command, CancellationToken.None);
        return (original, LocalCommandResponseBody(original, answer));
    }

    /// <summary>Posts a signed request that is to be refused for now: 503 with Retry-After and a problem document with that title; returns its detail.</summary>
    private async Task<string> RefusedForNowAsync(string path, byte[] signed, int retryAfterSeconds, string title)
    {
        using var content = new ByteArrayContent(signed);
        content.Headers.ContentType = new("application/xml");
        using var response = await hub.Http.PostAsync(new Uri(path, UriKind.Relative), content);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(retryAfterSeconds), response.Headers.RetryAfter?.Delta);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(title, problem.RootElement.GetProperty("title").GetString());
        return problem.RootElement.GetProperty("detail").GetString()!;
    }

    private async Task<string> SendSignedAsync(byte[] signed, string path = "/api/v1/serviceS")
    {
        var (status, _, body) = await hub.PostAsync(path, signed);
        Assert.Equal(HttpStatusCode.OK, status);
        return await hub.CheckSignedResponseAsync(body);
    }

    private sealed class Away
    {
        private readonly Lock gate = new();
        private int answersRefused;

        public volatile bool LogAway;

        /// <summary>Done once, just before the next log commit carrying an inventory change: another's change meanwhile.</summary>
        public Func<Task>? BeforeInventoryWrite;

        /// <summary>The store away when an 8.13's mark on its answer is to be taken back.</summary>
        public volatile bool UnmarkAway;

        /// <summary>What the store throws while away: PostgreSQL restarting unless told otherwise.</summary>
        public Func<Exception> Fault { get; set; } = () => new StoreAwayException();

        public int AnswersRefused
        {
            get { lock (gate) { return answersRefused; } }
            set { lock (gate) { answersRefused = value; } }
        }

        public bool RefuseAnswer()
        {
            lock (gate)
            {
                return answersRefused > 0 && answersRefused-- > 0;
            }
        }
    }

    private sealed class AwaySink(IDeviceResponseSink sink, Away away) : IDeviceResponseSink
    {
        public Task SendAsync(DeviceRequestReference request, string code, ResponsePayload payload, Eui64 user, DeviceAnswerRoute route, string? reason = null, CancellationToken cancellationToken = default) =>
            away.RefuseAnswer() ? throw away.Fault() : sink.SendAsync(request, code, payload, user, route, reason, cancellationToken);
    }

    private sealed class AwayLog(IMessageLog inner, Away away) : MessageLogDecorator(inner)
    {
        public override async Task<IReadOnlyList<MessageLogEntry>> AppendAsync(IReadOnlyList<MessageLogRecord> records, CancellationToken cancellationToken = default)
        {
            if (away.LogAway)
            {
                throw away.Fault();
            }
            if (records.Any(r => r.ChangesInventory is not null) && Interlocked.Exchange(ref away.BeforeInventoryWrite, null) is { } meanwhile)
            {
                await meanwhile();
            }
            return await Inner.AppendAsync(records, cancellationToken);
        }
    }

    private sealed class AwayLocalCommands(ILocalCommandStore store, Away away) : ILocalCommandStore
    {
        public Task UnmarkReturnedAsync(RequestId requestId, RequestId returnedBy, CancellationToken cancellationToken = default) =>
            away.UnmarkAway ? throw away.Fault() : store.UnmarkReturnedAsync(requestId, returnedBy, cancellationToken);

        public Task RecordAsync(LocalCommand command, CancellationToken cancellationToken = default) => store.RecordAsync(command, cancellationToken);

        public Task<LocalCommand?> FindAsync(RequestId requestId, CancellationToken cancellationToken = default) => store.FindAsync(requestId, cancellationToken);

        public Task<bool> MarkReturnedAsync(RequestId requestId, RequestId returnedBy, Instant at, CancellationToken cancellationToken = default) => store.MarkReturnedAsync(requestId, returnedBy, at, cancellationToken);

        public Task<IReadOnlyList<LocalCommand>> ListWaitingAsync(Instant issuedSince, int max, CancellationToken cancellationToken = default) => store.ListWaitingAsync(issuedSince, max, cancellationToken);

        public Task<long> CountWaitingAsync(Instant issuedSince, CancellationToken cancellationToken = default) => store.CountWaitingAsync(issuedSince, cancellationToken);

        public Task ForgetAsync(RequestId requestId, CancellationToken cancellationToken = default) => store.ForgetAsync(requestId, cancellationToken);

        public Task<int> ForgetIssuedBeforeAsync(Instant issuedBefore, CancellationToken cancellationToken = default) => store.ForgetIssuedBeforeAsync(issuedBefore, cancellationToken);
    }

    /// <summary>What Npgsql throws while PostgreSQL restarts (57P03, or a refused connection): a transient fault.</summary>
    private sealed class StoreAwayException() : DbException("Failed to connect to 127.0.0.1:5432")
    {
        public override bool IsTransient => true;
    }
}
