using System.Text;
using System.Xml.Linq;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using OpenDcc.Core.Alerts;
using OpenDcc.Core.Catalogue;
using OpenDcc.Core.Duis;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Inventory;
using OpenDcc.Core.Security;
using OpenDcc.Core.Translation;
using static OpenDcc.Hub.Tests.TestHub;

namespace OpenDcc.Hub.Tests;

/// <summary>
/// The paths that matter most in production, end to end through a whole hub on each store engine: a signed request
/// answered at the user's response URL and logged, a replay refused across a restart, a device alert to its users and
/// refused when replayed after a restart, a pre-notification, and a critical command across a restart. The rest of
/// the hub's tests run on SQLite only; the stores' own contract tests run on both (OpenDcc.Storage.Tests).
/// </summary>
public abstract class StoreEngineEndToEndTests(bool postgres) : IAsyncLifetime
{
    private const string SendCommand = "/api/v1/serviceS";
    private static readonly XNamespace Sr = DuisNamespaces.Sr;
    private TestHub hub = null!;

    public async Task InitializeAsync()
    {
        hub = await StartAsync(postgres: postgres);
        Assert.Equal(postgres ? "postgres" : "sqlite", hub.Store.Engine);
    }

    public async Task DisposeAsync() => await hub.DisposeAsync();

    [Fact]
    public async Task An_accepted_request_is_logged_with_its_counter_durable_before_it_reaches_its_device()
    {
        var counter = hub.NextCounter();
        Assert.Equal("I99", (await hub.SendAsync(SendCommand, Request(Supplier, Meter, counter, 1, "4.1.1"))).Code);
        // Durable by the time the user has the I99, not only once the hub stops.
        Assert.Equal(counter, (await hub.Store.ReplayCounters.ReadAsync(Supplier))?.Last);

        var asynchronous = await hub.Receiver.NextAsync(TimeSpan.FromSeconds(20));
        Assert.Equal("I0", await hub.CheckSignedResponseAsync(asynchronous));
        Assert.IsType<DeviceOutcome.Registers>(hub.ReadDeviceAnswer(asynchronous, Meter));
        // The delivery of the device's answer is logged once its POST is done, just after the receiver has it.
        var correlation = new RequestId(Supplier, Meter, counter).ToString();
        List<MessageLogEntry> entries;
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while ((entries = (await hub.Store.MessageLog.ReadAsync().ToListAsync()).Where(e => e.Record.Correlation == correlation).ToList()).Count < 4 && waited.Elapsed < TimeSpan.FromSeconds(20))
        {
            await Task.Delay(50);
        }
        // The request and its I99 come first: the device's answer cannot be logged before the request that asked for it.
        // It is logged as it is queued for delivery (with the message, which the queue reads from that entry), then as
        // it is delivered (naming that entry as holding the bytes the attempt sent, rather than holding them again).
        Assert.Equal(
            [(MessageDirection.Inbound, "I99"), (MessageDirection.Outbound, "I99"), (MessageDirection.Outbound, $"I0 queued for delivery to {hub.Receiver.Url}"),
                (MessageDirection.Outbound, $"I0; Delivered; the bytes of entry {entries[2].Sequence}")],
            entries.Select(e => (e.Record.Direction, e.Record.Outcome)));
        Assert.Contains(">I0<", Encoding.UTF8.GetString(entries[2].Record.Payload.Span), StringComparison.Ordinal);
        Assert.True(entries[3].Record.Payload.IsEmpty);
    }

    [Fact]
    public async Task A_replayed_or_older_counter_is_refused_even_after_a_restart()
    {
        var counter = hub.NextCounter() + 100;
        var request = Request(Supplier, Meter, counter, 1, "4.1.1");
        Assert.Equal("I99", (await hub.SendAsync(SendCommand, request)).Code);
        Assert.Equal("E43", (await hub.SendAsync(SendCommand, request)).Code);
        Assert.Equal("E43", (await hub.SendAsync(SendCommand, Request(Supplier, Meter, counter - 1, 1, "4.1.1"))).Code);

        await hub.RestartAsync();
        Assert.Equal("E43", (await hub.SendAsync(SendCommand, request)).Code);
        Assert.Equal("I99", (await hub.SendAsync(SendCommand, Request(Supplier, Meter, counter + 1, 1, "4.1.1"))).Code);
    }

    [Fact]
    public async Task A_power_outage_reaches_the_network_operator_and_the_supplier_and_its_alert_frame_sent_again_after_a_restart_is_refused_as_a_replay()
    {
        await hub.Store.Inventory.UpdateDeviceAsync(Meter, d => d with { CommsHub = CommsHub, Mpan = hub.World.Wan.Fleet[0].Mpan }, InventoryChange.ByOperator(SystemClock.Instance.GetCurrentInstant()));
        List<(Eui64 Device, byte[] Frame)> frames = [];
        hub.World.Wan.Attach(new AlertProbeTests.Capturing(hub.Services.GetRequiredService<IDeviceAlertSink>(), frames));
        var now = SystemClock.Instance.GetCurrentInstant();
        await hub.World.Wan.PowerOutageAsync(Meter, now - Duration.FromMinutes(10), now - Duration.FromMinutes(5));

        // The DCC's AD1 and the meter's restoration (8F36), each raised to the network operator, then to the supplier
        // (their counters say so; delivered in parallel, they may arrive in either order).
        var received = new List<(RequestId Id, string Code)>();
        for (var i = 0; i < 4; i++)
        {
            var message = await hub.Receiver.NextAsync(TimeSpan.FromSeconds(20));
            Assert.Equal("I0", await hub.CheckSignedResponseAsync(message));
            var document = XDocument.Parse(message);
            received.Add((RequestId.Parse(document.Descendants(Sr + "ResponseID").Single().Value),
                document.Descendants(Sr + "DCCAlertCode").SingleOrDefault()?.Value ?? document.Descendants(Sr + "AlertCode").Single().Value));
        }
        foreach (var code in new[] { DccAlertCodes.PowerOutage, "8F36" })
        {
            Assert.Equal([NetworkOperator, Supplier], received.Where(r => r.Code == code).OrderBy(r => r.Id.Counter).Select(r => r.Id.Target));
        }
        var (device, frame) = Assert.Single(frames);

        // The hub starts again (its adapters anew, nothing of the last alert in memory); the frame, captured on the SM
        // WAN, comes again.
        await hub.RestartAsync();
        await hub.Services.GetRequiredService<IDeviceAlertSink>().ReceiveAsync(device, frame);

        Assert.Contains(await hub.Store.MessageLog.ReadAsync().ToListAsync(), e => e.Record.Outcome.StartsWith("AlertRefused: replayed frame: counter", StringComparison.Ordinal));
        await Assert.ThrowsAsync<TimeoutException>(() => hub.Receiver.NextAsync(TimeSpan.FromSeconds(1)));
    }

    [Fact]
    public async Task A_pre_notified_gas_meter_joins_pending_with_its_details_paired_with_its_gpf_and_its_history_names_the_srv_and_user()
    {
        var newGasMeter = Eui64.Parse("00-DB-12-34-56-78-91-10");
        var gpf = Eui64.Parse("00-DB-12-34-56-78-91-11");
        await hub.Store.Inventory.AddDevicesAsync([new Device(gpf, DeviceType.GPF, SmiStatus.Commissioned) { CommsHub = CommsHub }], InventoryChange.ByOperator(SystemClock.Instance.GetCurrentInstant()));

        var (code, _) = await hub.SendAsync("/api/v1/serviceD", Request(Supplier, Dsp, hub.NextCounter(), 8, "12.2",
            $"<sr:DeviceID>{newGasMeter}</sr:DeviceID><sr:DeviceManufacturer>ab01</sr:DeviceManufacturer><sr:DeviceModel>020B</sr:DeviceModel><sr:DeviceType>GSME</sr:DeviceType>" +
            $"<sr:SMETSCHTSVersion>SMETS V4.2</sr:SMETSCHTSVersion><sr:FirmwareVersion>0002012F</sr:FirmwareVersion><sr:AssociatedGPFDeviceID>{gpf}</sr:AssociatedGPFDeviceID>"));

        Assert.Equal("I0", code);
        Assert.Equal(
            new Device(newGasMeter, DeviceType.GSME, SmiStatus.Pending) { Manufacturer = "AB01", Model = "020B", SmetsChtsVersion = "SMETS V4.2", FirmwareVersion = "0002012F" },
            await hub.Store.Inventory.FindDeviceAsync(newGasMeter));
        Assert.Equal([gpf], await hub.Store.Inventory.FindJoinedAsync(newGasMeter));
        var history = Assert.Single(await hub.Store.Inventory.StatusHistoryAsync(newGasMeter));
        Assert.Equal((SmiStatus.Pending, "12.2", (Eui64?)Supplier), (history.Status, history.ServiceReferenceVariant, history.User));
    }

    [Fact]
    public async Task A_signed_pre_command_under_its_transforms_request_id_is_taken_after_a_restart_and_still_only_once()
    {
        var counter = hub.NextCounter();
        var signed = hub.SignPreCommand(await hub.TransformAsync(Meter, "7.2", counter: counter));
        var xml = Encoding.UTF8.GetString(DuisRequestWriter.WriteSignedPreCommand(new RequestId(Supplier, Meter, counter), ServiceCatalogue.Duis["7.2"], signed));
        // The Transform stays open across the restart (the user's grain starts again from the store) ...
        await hub.RestartAsync();

        Assert.Equal("I99", (await hub.SendAsync(SendCommand, xml)).Code);
        Assert.Equal("I0", await hub.CheckSignedResponseAsync(await hub.Receiver.NextAsync(TimeSpan.FromSeconds(20))));
        var supply = hub.Wan.Fleet[0].ElectricityMeter.Execute(new DeviceOperation.ReadSupplyStatus(), SystemClock.Instance.GetCurrentInstant());
        Assert.Equal(SupplyState.Disabled, Assert.IsType<DeviceOutcome.SupplyStatus>(supply).State);

        // ... and its Signed Pre-Command closed it, durably too.
        await hub.RestartAsync();
        Assert.Equal("E43", (await hub.SendAsync(SendCommand, xml)).Code);
    }
}

public sealed class SqliteEndToEndTests() : StoreEngineEndToEndTests(postgres: false);

/// <summary>On a fresh PostgreSQL database per test, as <c>serve --postgres</c> runs the hub (started by ./test.sh).</summary>
public sealed class PostgresEndToEndTests() : StoreEngineEndToEndTests(postgres: true);
