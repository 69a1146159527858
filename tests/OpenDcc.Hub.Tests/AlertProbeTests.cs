using System.Data.Common;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using OpenDcc.Core.Alerts;
using OpenDcc.Core.Delivery;
using OpenDcc.Core.Duis;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Inventory;
using OpenDcc.Core.Parties;
using OpenDcc.Core.Security;
using static OpenDcc.Hub.Tests.TestHub;

namespace OpenDcc.Hub.Tests;

/// <summary>
/// Alerts at the edges of routing: no registration, a device not in the inventory, a supplier with no response URL, the
/// same frame twice, the delivery queue away. Each is routed to exactly its users or logged, never lost silently.
/// </summary>
public sealed class AlertProbeTests : IAsyncLifetime
{
    private readonly AwayQueue away = new();
    private readonly List<(Eui64 Device, byte[] Frame)> frames = [];
    private TestHub hub = null!;

    public async Task InitializeAsync()
    {
        hub = await StartAsync(configureServices: services => Decorate<IMessageLog>(services, log => new AwayMessageLog(log, away)));
        await hub.Store.Inventory.UpdateDeviceAsync(Meter, d => d with { CommsHub = CommsHub, Mpan = hub.World.Wan.Fleet[0].Mpan }, InventoryChange.ByOperator(SystemClock.Instance.GetCurrentInstant()));
        // See the frames the WAN hands the hub.
        hub.World.Wan.Attach(new Capturing(hub.Services.GetRequiredService<IDeviceAlertSink>(), frames));
    }

    public async Task DisposeAsync() => await hub.DisposeAsync();

    [Fact]
    public async Task An_alert_from_a_device_with_no_registration_goes_to_nobody_and_both_the_outage_and_the_restoration_are_logged()
    {
        hub.World.Registrations.FleetRegistration = null;
        var now = SystemClock.Instance.GetCurrentInstant();

        await hub.World.Wan.PowerOutageAsync(Meter, now - Duration.FromMinutes(10), now - Duration.FromMinutes(5));

        var outcomes = await OutcomesAsync();
        Assert.Contains(outcomes, o => o.StartsWith($"DccAlertNotSent: no registration for {Meter}", StringComparison.Ordinal));
        Assert.Contains(outcomes, o => o.StartsWith($"AlertUnroutable: no registration for {Meter}", StringComparison.Ordinal));
        Assert.Empty(await hub.Store.Delivery.ListAsync(DeliveryState.Pending));
        await Assert.ThrowsAsync<TimeoutException>(() => hub.Receiver.NextAsync(TimeSpan.FromMilliseconds(500)));
    }

    [Fact]
    public async Task An_alert_from_a_device_not_in_the_inventory_is_refused_and_logged_without_throwing()
    {
        var sink = hub.Services.GetRequiredService<IDeviceAlertSink>();

        await sink.ReceiveAsync(UnknownMeter, [0xDF, 0x09, 0x00]);
        await sink.PowerLostAsync(UnknownMeter, SystemClock.Instance.GetCurrentInstant());

        var outcomes = await OutcomesAsync();
        Assert.Contains("AlertRefused: the device is not in the inventory", outcomes);
        Assert.Contains(outcomes, o => o.StartsWith($"DccAlertNotSent: comms hub {UnknownMeter} has no electricity meter", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_supplier_with_no_response_url_has_its_copies_kept_in_the_failed_queue_logged_once_each_and_the_network_operator_still_gets_its_own()
    {
        await hub.Services.GetRequiredService<IPartyStore>().SetResponseUrlAsync(Supplier, null);
        var now = SystemClock.Instance.GetCurrentInstant();

        await hub.World.Wan.PowerOutageAsync(Meter, now - Duration.FromMinutes(10), now - Duration.FromMinutes(5));

        var pending = (await QueuedAsync()).Where(m => m.State != DeliveryState.Failed).ToList();
        Assert.All(pending, m => Assert.Equal(NetworkOperator, m.User));
        Assert.Equal(2, pending.Count);
        // As any message no endpoint took: in the failed queue, which 'opendcc delivery failed' lists and a URL set later empties.
        var failed = await hub.Store.Delivery.ListAsync(DeliveryState.Failed, Supplier);
        Assert.Equal(2, failed.Count);
        Assert.All(failed, m =>
        {
            Assert.StartsWith("no response URL registered; ", m.LastError, StringComparison.Ordinal);
            Assert.Null(m.Destination);
            Assert.Equal(1, m.Attempts);
        });
        var undeliverable = (await OutcomesAsync()).Where(o => o.Contains("undeliverable: no response URL registered; held in the failed queue", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, undeliverable.Count);
    }

    [Fact]
    public async Task The_same_alert_frame_twice_is_delivered_once_and_the_replay_is_logged()
    {
        var now = SystemClock.Instance.GetCurrentInstant();
        await hub.World.Wan.PowerOutageAsync(Meter, now - Duration.FromMinutes(10), now - Duration.FromMinutes(5));
        var (device, frame) = Assert.Single(frames);

        await hub.Services.GetRequiredService<IDeviceAlertSink>().ReceiveAsync(device, frame);

        var outcomes = await OutcomesAsync();
        Assert.Contains(outcomes, o => o.StartsWith("AlertRefused: replayed frame", StringComparison.Ordinal));
        Assert.Equal(2, (await QueuedAsync()).Count(m => m.What?.Contains("alert", StringComparison.Ordinal) == true && m.What.StartsWith("PowerRestored", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData("PowerRestored")]
    [InlineData("DCC alert AD1")]
    public async Task An_alert_that_finds_the_delivery_queue_away_is_kept_and_queued_once_the_store_is_back_for_each_of_its_users(string what)
    {
        var now = SystemClock.Instance.GetCurrentInstant();
        // The store refuses the first copy of the alert (PostgreSQL restarting), then is back; the retry waits 1 s.
        away.Refuse(what, 1);

        await hub.World.Wan.PowerOutageAsync(Meter, now - Duration.FromMinutes(10), now - Duration.FromMinutes(5));

        var queued = await QueuedAsync();
        Assert.Equal([Supplier, Supplier, NetworkOperator, NetworkOperator], queued.Select(m => m.User).OrderBy(u => u.Value));
        Assert.Equal(2, queued.Count(m => m.What!.StartsWith(what, StringComparison.Ordinal)));
        Assert.Equal(0, away.Left);
    }

    [Fact]
    public async Task An_alert_taken_and_then_stopped_on_its_way_is_handed_on_to_each_of_its_users_when_the_hub_next_starts()
    {
        var now = SystemClock.Instance.GetCurrentInstant();
        // The restoration's first copy meets a fault that is not the store away (as a hub killed at that moment would
        // stop there): the frame's counter is spent, no copy is queued.
        away.Fail("PowerRestored");
        await Record.ExceptionAsync(() => hub.World.Wan.PowerOutageAsync(Meter, now - Duration.FromMinutes(10), now - Duration.FromMinutes(5)));
        Assert.DoesNotContain(await QueuedAsync(), m => m.What!.StartsWith("PowerRestored", StringComparison.Ordinal));
        var pending = Assert.Single(await hub.Store.AlertCounters.ListPendingAsync());
        Assert.Equal(Meter, pending.Device);

        await hub.RestartAsync();

        Assert.Empty(await PendingOnceRecoveredAsync());
        Assert.Equal([NetworkOperator, Supplier], (await QueuedAsync()).Where(m => m.What!.StartsWith("PowerRestored", StringComparison.Ordinal)).OrderBy(m => m.Id).Select(m => m.User));
        // Handed on, its frame sent again is still a replay.
        var (device, frame) = Assert.Single(frames);
        await hub.Services.GetRequiredService<IDeviceAlertSink>().ReceiveAsync(device, frame);
        Assert.Contains(await OutcomesAsync(), o => o.StartsWith("AlertRefused: replayed frame", StringComparison.Ordinal));
        Assert.Equal(2, (await QueuedAsync()).Count(m => m.What!.StartsWith("PowerRestored", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task An_early_smart_alert_with_no_counter_stopped_on_its_way_is_handed_on_when_the_hub_next_starts()
    {
        var line = System.Text.Encoding.ASCII.GetBytes(OpenDcc.Core.Translation.EarlySmart.EarlySmartCodec.EncodeAlert(
            new OpenDcc.Core.Translation.EarlySmart.EarlySmartHeader(1, EarlySmartMeter), new OpenDcc.Core.Translation.DeviceAlert(OpenDcc.Core.Translation.DeviceAlertKind.LowCredit, 0x8F1C, SystemClock.Instance.GetCurrentInstant())));
        away.Fail("LowCredit");
        await Assert.ThrowsAsync<InvalidOperationException>(() => hub.Services.GetRequiredService<IDeviceAlertSink>().ReceiveAsync(EarlySmartMeter, line));
        Assert.Null(Assert.Single(await hub.Store.AlertCounters.ListPendingAsync()).Counter);

        await hub.RestartAsync();

        Assert.Empty(await PendingOnceRecoveredAsync());
        Assert.Equal([Supplier], (await QueuedAsync()).Where(m => m.What!.StartsWith("LowCredit", StringComparison.Ordinal)).Select(m => m.User));
    }

    [Fact]
    public async Task A_power_outage_reported_and_then_stopped_on_its_way_is_raised_to_each_of_its_users_when_the_hub_next_starts()
    {
        var since = Instant.FromUnixTimeSeconds(SystemClock.Instance.GetCurrentInstant().ToUnixTimeSeconds()) - Duration.FromMinutes(3);
        // The DCC alert's first copy meets a fault that is not the store away (as a hub killed at that moment would stop
        // there): no copy is queued, and the WAN provider does not report the loss of power again.
        away.Fail("DCC alert AD1");
        await Assert.ThrowsAsync<InvalidOperationException>(() => hub.Services.GetRequiredService<IDeviceAlertSink>().PowerLostAsync(CommsHub, since));
        Assert.Empty(await QueuedAsync());

        await hub.RestartAsync();

        var waited = System.Diagnostics.Stopwatch.StartNew();
        while ((await QueuedAsync()).Count < 2 && waited.Elapsed < TimeSpan.FromSeconds(20))
        {
            await Task.Delay(50);
        }
        var queued = (await QueuedAsync()).OrderBy(m => m.Id).ToList();
        Assert.Equal([NetworkOperator, Supplier], queued.Select(m => m.User));
        Assert.All(queued, m => Assert.StartsWith("DCC alert AD1", m.What, StringComparison.Ordinal));
        // The outage as the WAN provider reported it: its comms hub, when the power was lost.
        Assert.All(queued, m => Assert.Contains($"<sr:StartDateTime>{since.ToString("uuuu'-'MM'-'dd'T'HH':'mm':'ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture)}</sr:StartDateTime>", System.Text.Encoding.UTF8.GetString(m.Payload), StringComparison.Ordinal));
        Assert.All(queued, m => Assert.Contains($"<sr:CommsHubDeviceID>{CommsHub}</sr:CommsHubDeviceID>", System.Text.Encoding.UTF8.GetString(m.Payload), StringComparison.Ordinal));
        Assert.Empty(await PendingOnceRecoveredAsync());
    }

    [Fact]
    public async Task A_power_outage_stopped_between_its_copies_reaches_the_supplier_when_the_hub_next_starts()
    {
        var since = SystemClock.Instance.GetCurrentInstant() - Duration.FromMinutes(3);
        // The network operator's copy is queued; the supplier's meets the stop.
        away.Fail("DCC alert AD1", after: 1);
        await Assert.ThrowsAsync<InvalidOperationException>(() => hub.Services.GetRequiredService<IDeviceAlertSink>().PowerLostAsync(CommsHub, since));
        Assert.Equal([NetworkOperator], (await QueuedAsync()).Select(m => m.User));

        await hub.RestartAsync();

        var waited = System.Diagnostics.Stopwatch.StartNew();
        while ((await QueuedAsync()).Count < 3 && waited.Elapsed < TimeSpan.FromSeconds(20))
        {
            await Task.Delay(50);
        }
        // At least once: the network operator's copy, queued before the stop and not yet marked so, goes again.
        Assert.Equal([NetworkOperator, NetworkOperator, Supplier], (await QueuedAsync()).OrderBy(m => m.Id).Select(m => m.User));
        Assert.Empty(await PendingOnceRecoveredAsync());
    }

    [Fact]
    public async Task A_meter_commissioned_and_then_stopped_before_its_dcc_alert_was_queued_is_raised_to_its_supplier_when_the_hub_next_starts()
    {
        await hub.Store.Inventory.UpdateDeviceAsync(Meter, d => d with { Status = SmiStatus.InstalledNotCommissioned }, InventoryChange.ByOperator(SystemClock.Instance.GetCurrentInstant()));
        // The DCC alert meets a fault that is not the store away (as a hub killed at that moment would stop there): the
        // meter's commissioning is stored, and it does not confirm it again.
        away.Fail("DCC alert N12");
        var body = $"<sr:CurrentDateTime>{NodaTime.Text.InstantPattern.ExtendedIso.Format(SystemClock.Instance.GetCurrentInstant())}</sr:CurrentDateTime><sr:TolerancePeriod>60</sr:TolerancePeriod>";
        Assert.Equal("I99", await hub.SendSignedPreCommandAsync(Meter, "8.1.1", hub.SignPreCommand(await hub.TransformAsync(Meter, "8.1.1", body))));
        // Its answer still reaches the supplier.
        Assert.IsType<OpenDcc.Core.Translation.DeviceOutcome.Done>(hub.ReadDeviceAnswer(await hub.Receiver.NextAsync(TimeSpan.FromSeconds(20)), Meter));
        Assert.Equal(SmiStatus.Commissioned, (await hub.Store.Inventory.FindDeviceAsync(Meter))!.Status);
        Assert.DoesNotContain(await QueuedAsync(), m => m.What!.StartsWith("DCC alert", StringComparison.Ordinal));

        await hub.RestartAsync();

        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (!(await QueuedAsync()).Any(m => m.What!.StartsWith("DCC alert", StringComparison.Ordinal)) && waited.Elapsed < TimeSpan.FromSeconds(20))
        {
            await Task.Delay(50);
        }
        var alert = Assert.Single(await QueuedAsync(), m => m.What!.StartsWith("DCC alert", StringComparison.Ordinal));
        Assert.Equal(Supplier, alert.User);
        Assert.StartsWith($"DCC alert {DccAlertCodes.MeterCommissioned} ({Meter} InstalledNotCommissioned → Commissioned)", alert.What, StringComparison.Ordinal);
        var payload = System.Text.Encoding.UTF8.GetString(alert.Payload);
        Assert.Contains($"<sr:DeviceID>{Meter}</sr:DeviceID>", payload, StringComparison.Ordinal);
        Assert.Contains($"<sr:ImportMPxN>{hub.World.Wan.Fleet[0].Mpan}</sr:ImportMPxN>", payload, StringComparison.Ordinal);
        Assert.Empty(await PendingOnceRecoveredAsync());
    }

    [Fact]
    public async Task An_alert_left_pending_over_loopback_is_handed_on_once_the_hub_has_connected_to_the_simulator_again()
    {
        var failing = new AwayQueue();
        await using var loopback = await StartAsync(overLoopback: true, configureServices: services => Decorate<IMessageLog>(services, log => new AwayMessageLog(log, failing)));
        var site = loopback.Wan.Fleet[1];
        failing.Fail("PowerRestored");
        var now = SystemClock.Instance.GetCurrentInstant();
        await loopback.Wan.PowerOutageAsync(site.ElectricityMeter.Id, now - Duration.FromMinutes(10), now - Duration.FromMinutes(5));
        var waited = System.Diagnostics.Stopwatch.StartNew();
        // The comms hub's loss of power is pending too until its DCC alert is queued: wait for the restoration alone.
        while ((await loopback.Store.AlertCounters.ListPendingAsync()) is not [{ Source: PendingAlertSource.Device }] && waited.Elapsed < TimeSpan.FromSeconds(20))
        {
            await Task.Delay(50);
        }
        Assert.Equal(site.ElectricityMeter.Id, Assert.Single(await loopback.Store.AlertCounters.ListPendingAsync()).Device);

        // The hub starts before it connects to the simulator, which tells it the meter's key.
        await loopback.RestartAsync();

        waited.Restart();
        while ((await loopback.Store.AlertCounters.ListPendingAsync()).Count > 0 && waited.Elapsed < TimeSpan.FromSeconds(20))
        {
            await Task.Delay(50);
        }
        Assert.Empty(await loopback.Store.AlertCounters.ListPendingAsync());
        var restored = (await loopback.Store.Delivery.ListAsync(DeliveryState.Pending)).Concat(await loopback.Store.Delivery.ListAsync(DeliveryState.Delivered))
            .Where(m => m.What!.StartsWith("PowerRestored", StringComparison.Ordinal)).ToList();
        Assert.Equal([NetworkOperator, Supplier], restored.OrderBy(m => m.Id).Select(m => m.User));
    }

    [Fact]
    public async Task A_loss_of_power_with_no_restoration_sends_the_outage_alone_to_the_network_operator_then_the_supplier()
    {
        await hub.Services.GetRequiredService<IDeviceAlertSink>().PowerLostAsync(CommsHub, SystemClock.Instance.GetCurrentInstant() - Duration.FromMinutes(1));

        var queued = await QueuedAsync();
        Assert.Equal([NetworkOperator, Supplier], queued.OrderBy(m => m.Id).Select(m => m.User));
        Assert.All(queued, m => Assert.StartsWith("DCC alert AD1", m.What, StringComparison.Ordinal));
        // Raised: no longer pending, so a restart does not raise it again.
        Assert.Empty(await hub.Store.AlertCounters.ListPendingAsync());
    }

    [Fact]
    public async Task A_restoration_with_no_loss_of_power_reported_goes_alone_to_the_network_operator_then_the_supplier()
    {
        // The WAN provider's report of the loss never comes; the meter's restoration does.
        hub.World.Wan.Attach(new NoPowerLoss(hub.Services.GetRequiredService<IDeviceAlertSink>()));
        var now = SystemClock.Instance.GetCurrentInstant();

        await hub.World.Wan.PowerOutageAsync(Meter, now - Duration.FromMinutes(10), now - Duration.FromMinutes(5));

        var queued = await QueuedAsync();
        Assert.Equal([NetworkOperator, Supplier], queued.OrderBy(m => m.Id).Select(m => m.User));
        Assert.All(queued, m => Assert.StartsWith("PowerRestored", m.What, StringComparison.Ordinal));
    }

    /// <summary>
    /// Every message queued, in whatever state: read a state at a time, so one the dispatcher moves on meanwhile (pending
    /// to delivered) may be read twice, and is counted once.
    /// </summary>
    private async Task<List<OutboundMessage>> QueuedAsync()
    {
        var queued = new List<OutboundMessage>();
        foreach (var state in Enum.GetValues<DeliveryState>())
        {
            queued.AddRange(await hub.Store.Delivery.ListAsync(state));
        }
        return [.. queued.DistinctBy(m => m.Id)];
    }

    /// <summary>
    /// The alerts still pending once the restarted hub's recovery has completed them (waited for up to 20 s): an alert is
    /// completed just after its last copy is queued, so a test that has seen the copies may not yet see it completed.
    /// </summary>
    private async Task<IReadOnlyList<PendingAlert>> PendingOnceRecoveredAsync()
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while ((await hub.Store.AlertCounters.ListPendingAsync()).Count > 0 && waited.Elapsed < TimeSpan.FromSeconds(20))
        {
            await Task.Delay(50);
        }
        return await hub.Store.AlertCounters.ListPendingAsync();
    }

    private sealed class NoPowerLoss(IDeviceAlertSink sink) : IDeviceAlertSink
    {
        public Task ReceiveAsync(Eui64 device, byte[] message, CancellationToken cancellationToken = default) => sink.ReceiveAsync(device, message, cancellationToken);

        public Task PowerLostAsync(Eui64 commsHub, Instant since, CancellationToken cancellationToken = default) => Task.CompletedTask;
    }

    private async Task<List<string>> OutcomesAsync()
    {
        var outcomes = new List<string>();
        await foreach (var entry in hub.Store.MessageLog.ReadAsync())
        {
            outcomes.Add(entry.Record.Outcome);
        }
        return outcomes;
    }

    /// <summary>Keeps each frame the WAN hands the hub, to be sent again.</summary>
    internal sealed class Capturing(IDeviceAlertSink sink, List<(Eui64, byte[])> frames) : IDeviceAlertSink
    {
        public Task ReceiveAsync(Eui64 device, byte[] message, CancellationToken cancellationToken = default)
        {
            lock (frames)
            {
                frames.Add((device, message));
            }
            return sink.ReceiveAsync(device, message, cancellationToken);
        }

        public Task PowerLostAsync(Eui64 commsHub, Instant since, CancellationToken cancellationToken = default) => sink.PowerLostAsync(commsHub, since, cancellationToken);
    }

    /// <summary>
    /// Refuses the next few enqueues of messages whose description starts with a given text, as a store away would; or
    /// fails the next one with a fault that is not the store's (<see cref="Fail"/>).
    /// </summary>
    private sealed class AwayQueue
    {
        private readonly Lock gate = new();
        private string prefix = "";
        private int left;
        private string? failing;
        private int failingAfter;

        public int Left
        {
            get { lock (gate) { return left; } }
        }

        public void Refuse(string what, int times)
        {
            lock (gate)
            {
                (prefix, left) = (what, times);
            }
        }

        /// <param name="after">How many such enqueues go through first.</param>
        public void Fail(string what, int after = 0)
        {
            lock (gate)
            {
                (failing, failingAfter) = (what, after);
            }
        }

        public bool Refuses(string? what)
        {
            lock (gate)
            {
                if (failing is not null && what?.StartsWith(failing, StringComparison.Ordinal) == true && failingAfter-- == 0)
                {
                    failing = null;
                    throw new InvalidOperationException("the hub stopped here");
                }
                if (left > 0 && what?.StartsWith(prefix, StringComparison.Ordinal) == true)
                {
                    left--;
                    return true;
                }
                return false;
            }
        }
    }

    private sealed class QueueAwayException() : DbException("Failed to connect to 127.0.0.1:5432")
    {
        public override bool IsTransient => true;
    }

    /// <summary>
    /// The message log, refusing (or failing) the appends that queue a message for delivery as <see cref="AwayQueue"/> says.
    /// A record failed so fails each time it is appended again: the group commit tries a failed batch's records again one
    /// by one, and the hub that stopped there would not have gone on.
    /// </summary>
    private sealed class AwayMessageLog(IMessageLog inner, AwayQueue away) : MessageLogDecorator(inner)
    {
        private readonly System.Runtime.CompilerServices.ConditionalWeakTable<MessageLogRecord, object> stopped = [];

        public override Task<IReadOnlyList<MessageLogEntry>> AppendAsync(IReadOnlyList<MessageLogRecord> records, CancellationToken cancellationToken = default)
        {
            foreach (var record in records)
            {
                if (stopped.TryGetValue(record, out _))
                {
                    throw new InvalidOperationException("the hub stopped here");
                }
                try
                {
                    if (record.QueuedForDelivery is { } queued && away.Refuses(queued.What))
                    {
                        throw new QueueAwayException();
                    }
                }
                catch (InvalidOperationException)
                {
                    stopped.Add(record, record);
                    throw;
                }
            }
            return Inner.AppendAsync(records, cancellationToken);
        }
    }
}
