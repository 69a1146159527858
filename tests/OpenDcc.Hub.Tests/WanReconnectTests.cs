using System.Net.ServerSentEvents;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using NodaTime;
using OpenDcc.Core.Alerts;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Inventory;
using OpenDcc.Core.Translation;
using OpenDcc.Core.Translation.Gbcs;
using OpenDcc.Core.Wan;
using OpenDcc.Storage;

namespace OpenDcc.Hub.Tests;

/// <summary>
/// The hub keeps listening to a WAN: it connects again after the alert stream closed whatever stopped an attempt, each
/// new reason logged (the store away while the WAN's devices are learnt is one such), and an alert whose handling
/// fails, even cancelled by something else than the hub stopping, is logged and the next handled; a device it lists
/// with another key-agreement key when it connects again is commanded, and read, under a MAC key derived from it.
/// </summary>
public sealed class WanReconnectTests : IAsyncLifetime
{
    private static readonly Eui64 Acb = Eui64.Parse("90-B3-D5-1F-30-00-00-02");
    private static readonly Eui64 Meter = Eui64.Parse("00-DB-12-34-56-78-90-E5");
    private readonly string directory = Path.Combine(Path.GetTempPath(), "opendcc-reconnect-" + Guid.NewGuid().ToString("N"));
    private readonly ECDiffieHellman acbKey = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
    private readonly FakeLogger logger = new();
    private TaskCompletionSource streamEnds = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource alertsSent = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private OpenDccStore store = null!;
    private WebApplication fakeWan = null!;
    // The meter's key-agreement key as the WAN lists it (its SubjectPublicKeyInfo), if it lists one.
    private volatile byte[]? meterKey;
    // When set, what the WAN lists instead (the installed devices' JSON array).
    private volatile string? installed;

    public async Task InitializeAsync()
    {
        store = await OpenDccStore.OpenSqliteAsync(directory, SystemClock.Instance);
        fakeWan = await FakeWan.StartAsync(
            () => installed is { } devices ? $$"""{"seed":1,"sites":0,"devices":0,"installed":{{devices}}}"""
                : meterKey is { } key
                ? $$"""{"seed":1,"sites":0,"devices":1,"installed":[{"id":"{{Meter}}","type":"ESME","status":"Commissioned","keyAgreementKey":"{{Convert.ToBase64String(key)}}"}]}"""
                : $$"""{"seed":1,"sites":0,"devices":1,"installed":[{"id":"{{Meter}}","type":"ESME","status":"Commissioned"}]}""",
            app => app.MapGet(LoopbackWanProtocol.AlertsPath, () => TypedResults.ServerSentEvents(AlertStreamAsync())));
    }

    public async Task DisposeAsync()
    {
        streamEnds.TrySetResult();
        alertsSent.TrySetResult();
        await fakeWan.DisposeAsync();
        await store.DisposeAsync();
        acbKey.Dispose();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(directory, recursive: true);
    }

    [Fact]
    public async Task The_store_away_while_connecting_again_is_logged_and_the_next_attempt_connects()
    {
        var inventory = StoreAwayOnce.Around(store.Inventory);
        await using var wan = new LoopbackWan(new Uri(fakeWan.Urls.First()), Acb, acbKey.PublicKey, logger) { ReconnectDelay = TimeSpan.FromMilliseconds(50) };
        await wan.ConnectAsync(inventory);
        Assert.True(wan.IsConnected);

        ((StoreAwayOnce)inventory).Away = true;
        Interlocked.Exchange(ref streamEnds, new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!(wan.IsConnected && ((StoreAwayOnce)inventory).Refused) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }
        Assert.True(((StoreAwayOnce)inventory).Refused);
        Assert.True(wan.IsConnected);
        Assert.Contains(logger.Collector.GetSnapshot(), r => r.Level == LogLevel.Warning && r.Message.Contains(StoreAwayOnce.Fault, StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_alert_whose_handling_is_cancelled_by_something_else_than_the_hub_stopping_is_logged_and_the_next_is_handled()
    {
        var sink = new CancelledOnce();
        await using var wan = new LoopbackWan(new Uri(fakeWan.Urls.First()), Acb, acbKey.PublicKey, logger);
        wan.Attach(sink);
        await wan.ConnectAsync(store.Inventory);

        alertsSent.TrySetResult();

        Assert.Equal(new byte[] { 2 }, await sink.Handled.Task.WaitAsync(TimeSpan.FromSeconds(20)));
        Assert.Contains(logger.Collector.GetSnapshot(), r => r.Level == LogLevel.Error && r.Exception is OperationCanceledException);
    }

    [Fact]
    public async Task A_device_listed_with_another_key_when_the_wan_connects_again_is_commanded_and_read_under_the_new_key()
    {
        using var before = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        using var after = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        meterKey = before.PublicKey.ExportSubjectPublicKeyInfo();
        await using var wan = new LoopbackWan(new Uri(fakeWan.Urls.First()), Acb, acbKey.PublicKey, logger) { ReconnectDelay = TimeSpan.FromMilliseconds(50) };
        await wan.ConnectAsync(store.Inventory);
        using var adapter = new GbcsReferenceAdapter(Acb, acbKey, wan);
        using (var atMeter = GbcsMacKey.Derive(before, acbKey.PublicKey, Acb, Meter))
        {
            Assert.True(GbcsCodec.DecodeCommand(adapter.ToDevice(new DeviceOperation.ReadSupplyStatus(), Meter, 1), atMeter).Succeeded);
        }

        // The WAN restarted with other keys: the meter's is another when the hub connects again.
        meterKey = after.PublicKey.ExportSubjectPublicKeyInfo();
        Interlocked.Exchange(ref streamEnds, new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!ListsKeyOf(wan, after) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }
        Assert.True(ListsKeyOf(wan, after));

        using var atMeterNow = GbcsMacKey.Derive(after, acbKey.PublicKey, Acb, Meter);
        var command = GbcsCodec.DecodeCommand(adapter.ToDevice(new DeviceOperation.ReadSupplyStatus(), Meter, 2), atMeterNow);
        Assert.True(command.Succeeded, command.Reason);
        var answer = adapter.FromDevice(GbcsCodec.EncodeResponse(new GbcsHeader(2, Meter, Acb), new DeviceOutcome.Done(), atMeterNow), Meter);
        Assert.IsType<DeviceMessage.Answer>(answer);
    }

    [Fact]
    public async Task Devices_the_wan_no_longer_lists_when_it_connects_again_have_no_key_kept_for_them()
    {
        var first = Enumerable.Range(1, 50).Select(i => new Eui64(0x00DB_1234_5600_0000UL + (ulong)i)).ToList();
        var second = new Eui64(0x00DB_1234_5700_0000UL);
        installed = Listing(first);
        await using var wan = new LoopbackWan(new Uri(fakeWan.Urls.First()), Acb, acbKey.PublicKey, logger) { ReconnectDelay = TimeSpan.FromMilliseconds(50) };
        await wan.ConnectAsync(store.Inventory);
        Assert.All(first, device => Assert.NotEqual(0, wan.KeyVersion(device)));

        // The WAN started again with another fleet: one device, none of the first.
        installed = Listing([second]);
        Interlocked.Exchange(ref streamEnds, new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        var deadline = DateTime.UtcNow.AddSeconds(20);
        // The second listing is learnt before the first's keys go: waited for until both are seen, or the deadline.
        while ((wan.KeyVersion(second) == 0 || wan.KeyVersion(first[^1]) != 0) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        Assert.NotEqual(0, wan.KeyVersion(second));
        Assert.All(first, device => Assert.Null(wan.FindKeyAgreementKey(device)));
    }

    private static string Listing(IEnumerable<Eui64> devices) =>
        "[" + string.Join(",", devices.Select(id =>
        {
            using var key = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
            return $$"""{"id":"{{id}}","type":"ESME","status":"Commissioned","keyAgreementKey":"{{Convert.ToBase64String(key.PublicKey.ExportSubjectPublicKeyInfo())}}"}""";
        })) + "]";

    private static bool ListsKeyOf(LoopbackWan wan, ECDiffieHellman device)
    {
        using var listed = wan.FindKeyAgreementKey(Meter);
        return listed is not null && listed.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(device.PublicKey.ExportSubjectPublicKeyInfo());
    }

    /// <summary>A ready event, then the two alerts once the test says, then nothing until the test ends the stream.</summary>
    private async IAsyncEnumerable<SseItem<string>> AlertStreamAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var ends = Volatile.Read(ref streamEnds).Task;
        yield return new SseItem<string>("""{"sites":0}""", LoopbackWanProtocol.ReadyEvent);
        if (await Task.WhenAny(alertsSent.Task, ends).WaitAsync(cancellationToken) == alertsSent.Task)
        {
            foreach (var message in new byte[] { 1, 2 })
            {
                yield return new SseItem<string>($$"""{"device":"00-DB-12-34-56-78-90-E5","message":"{{Convert.ToBase64String([message])}}"}""", LoopbackWanProtocol.AlertEvent);
            }
        }
        await ends.WaitAsync(cancellationToken);
    }

    /// <summary>A sink whose handling of the first alert is cancelled (a timeout of its own, not the hub stopping); it records the alerts it handles after.</summary>
    private sealed class CancelledOnce : IDeviceAlertSink
    {
        private int received;

        public TaskCompletionSource<byte[]> Handled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task ReceiveAsync(Eui64 device, byte[] message, CancellationToken cancellationToken = default)
        {
            if (Interlocked.Increment(ref received) == 1)
            {
                throw new OperationCanceledException("the sink's own timeout");
            }
            Handled.TrySetResult(message);
            return Task.CompletedTask;
        }

        public Task PowerLostAsync(Eui64 commsHub, Instant since, CancellationToken cancellationToken = default) => Task.CompletedTask;
    }

    /// <summary>The inventory, whose store is away once, when told, for the devices a WAN lists.</summary>
    public class StoreAwayOnce : DispatchProxy
    {
        public const string Fault = "the store is away (test)";

        private IInventoryStore inner = null!;

        public bool Away { get; set; }

        public bool Refused { get; private set; }

        public static IInventoryStore Around(IInventoryStore inner)
        {
            var proxy = Create<IInventoryStore, StoreAwayOnce>();
            ((StoreAwayOnce)(object)proxy).inner = inner;
            return proxy;
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            ArgumentNullException.ThrowIfNull(targetMethod);
            if (targetMethod.Name == nameof(IInventoryStore.FindDevicesAsync) && Away)
            {
                (Away, Refused) = (false, true);
                return Task.FromException<IReadOnlyList<Device>>(new InvalidOperationException(Fault));
            }
            return targetMethod.Invoke(inner, args);
        }
    }
}
