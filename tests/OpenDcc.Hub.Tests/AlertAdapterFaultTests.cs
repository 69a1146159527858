using NodaTime;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Inventory;
using OpenDcc.Core.Translation;
using static OpenDcc.Hub.Tests.TestHub;

namespace OpenDcc.Hub.Tests;

/// <summary>
/// A manufacturer's adapter that throws on a device's alert has not read it: the alert is refused and logged as one
/// that does not read, as an answer brought back by 8.13 is (LocalCommands).
/// </summary>
public sealed class AlertAdapterFaultTests : IAsyncLifetime
{
    private TestHub hub = null!;

    public async Task InitializeAsync()
    {
        hub = await StartAsync(configureServices: services => Decorate<TranslationAdapters>(services, _ => new TranslationAdapters([new ThrowingAdapter()], new Dictionary<string, string>(), ThrowingAdapter.AdapterName)));
        await hub.Store.Inventory.UpdateDeviceAsync(Meter, d => d with { CommsHub = CommsHub, Mpan = hub.World.Wan.Fleet[0].Mpan }, InventoryChange.ByOperator(SystemClock.Instance.GetCurrentInstant()));
    }

    public async Task DisposeAsync() => await hub.DisposeAsync();

    [Fact]
    public async Task An_alert_the_adapter_throws_on_is_logged_refused_naming_the_adapter_and_its_fault()
    {
        var now = SystemClock.Instance.GetCurrentInstant();

        await hub.World.Wan.PowerOutageAsync(Meter, now - Duration.FromSeconds(20), now - Duration.FromSeconds(10));

        var refused = new List<string>();
        await foreach (var entry in hub.Store.MessageLog.ReadAsync())
        {
            if (entry.Record.Outcome.StartsWith("AlertRefused:", StringComparison.Ordinal))
            {
                refused.Add(entry.Record.Outcome);
            }
        }
        Assert.Equal($"AlertRefused: adapter {ThrowingAdapter.AdapterName} could not read it: {ThrowingAdapter.Fault}", Assert.Single(refused));
    }

    /// <summary>An adapter that breaks the SPI's rule that decoding never throws.</summary>
    private sealed class ThrowingAdapter : ITranslationAdapter
    {
        public const string AdapterName = "throwing";
        public const string Fault = "index out of range in the manufacturer's parser";

        public string Name => AdapterName;

        public bool Carries(DeviceOperation operation, DeviceType type) => true;

        public byte[] ToDevice(DeviceOperation operation, Eui64 device, ulong counter) => [];

        public DeviceMessage FromDevice(ReadOnlySpan<byte> message, Eui64 device) => throw new IndexOutOfRangeException(Fault);
    }
}
