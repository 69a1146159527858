using Microsoft.Extensions.DependencyInjection;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Inventory;
using OpenDcc.Core.Translation;
using OpenDcc.Core.Translation.Gbcs;
using OpenDcc.Core.Wan;
using static OpenDcc.Hub.Tests.TestHub;

namespace OpenDcc.Hub.Tests;

/// <summary>
/// A manufacturer's adapter that throws where it makes a pre-command, reads a signed one or reads back its own answer:
/// the user gets a DUIS refusal or a failed reading naming the adapter and its fault, never an HTTP 500.
/// </summary>
public sealed class CriticalAdapterFaultTests : IAsyncLifetime
{
    private const string Fault = "index out of range in the manufacturer's parser";
    private TestHub hub = null!;
    private FaultyAdapter adapter = null!;

    public async Task InitializeAsync() => hub = await StartAsync(configureServices: services =>
        Decorate<TranslationAdapters>(services, real =>
        {
            adapter = new FaultyAdapter(real.Named(GbcsReferenceAdapter.AdapterName));
            return new TranslationAdapters([adapter], new Dictionary<string, string>(), GbcsReferenceAdapter.AdapterName);
        }));

    public async Task DisposeAsync() => await hub.DisposeAsync();

    [Fact]
    public async Task A_transform_the_adapter_throws_on_is_refused_naming_the_adapter_and_its_fault()
    {
        adapter.Failing = true;
        var id = new RequestId(Supplier, Meter, hub.NextCounter());

        var (code, _) = await hub.SendAsync("/api/v1/serviceT", Request(id.Originator, id.Target, id.Counter, 4, "7.2"));

        Assert.Equal("E20", code);
        var logged = await hub.Store.MessageLog.ReadCorrelatedAsync(id.ToString(), 1, long.MaxValue).Select(e => e.Record.Outcome).FirstAsync();
        Assert.Contains($"adapter {GbcsReferenceAdapter.AdapterName} could not make the pre-command: {Fault}", logged, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_signed_pre_command_the_adapter_throws_on_is_refused_E44_naming_the_fault()
    {
        var signed = hub.SignPreCommand(await hub.TransformAsync(Meter, "7.2"));
        adapter.Failing = true;

        Assert.Equal("E44", await hub.SendSignedPreCommandAsync(Meter, "7.2", signed));
        var outcomes = await hub.Store.MessageLog.ReadAsync().Select(e => e.Record.Outcome).ToListAsync();
        Assert.Contains(outcomes, o => o.StartsWith("E44 ", StringComparison.Ordinal) && o.Contains($"the adapter could not read it: {Fault}", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_reading_whose_answer_the_adapter_throws_on_fails_naming_the_adapter_and_its_fault()
    {
        var meter = (await hub.Store.Inventory.FindDeviceAsync(Meter))!;
        adapter.Failing = true;

        var reading = await hub.Services.GetRequiredService<IDeviceReader>().ReadAsync(meter, Supplier, new DeviceOperation.ReadNetworkData(), CommandPriority.Normal);

        var failed = Assert.IsType<DeviceReading.Failed>(reading);
        Assert.Equal($"adapter {GbcsReferenceAdapter.AdapterName} could not read back the device's answer: {Fault}", failed.Detail);
    }

    /// <summary>The hub's own GBCS adapter, but for throwing, once told to, where the SPI says reading never does.</summary>
    private sealed class FaultyAdapter(ITranslationAdapter inner) : ITranslationAdapter, ICriticalCommandTranslation
    {
        private readonly ICriticalCommandTranslation critical = (ICriticalCommandTranslation)inner;

        public volatile bool Failing;

        public string Name => inner.Name;

        public bool Carries(DeviceOperation operation, DeviceType type) => inner.Carries(operation, type);

        public byte[] ToDevice(DeviceOperation operation, Eui64 device, ulong counter) => inner.ToDevice(operation, device, counter);

        public DeviceMessage FromDevice(ReadOnlySpan<byte> message, Eui64 device) => inner.FromDevice(message, device);

        public DeviceOutcome? ReadAnswerPayload(ReadOnlySpan<byte> duisPayload, Eui64 device) =>
            Failing ? throw new IndexOutOfRangeException(Fault) : inner.ReadAnswerPayload(duisPayload, device);

        public void Release(Eui64 device) => inner.Release(device);

        public byte[] ToPreCommand(DeviceOperation operation, Eui64 device, Eui64 remoteParty, ulong counter) =>
            Failing ? throw new InvalidOperationException(Fault) : critical.ToPreCommand(operation, device, remoteParty, counter);

        public SignedPreCommand? ReadSignedPreCommand(ReadOnlySpan<byte> bytes, out string? failure) =>
            Failing ? throw new IndexOutOfRangeException(Fault) : critical.ReadSignedPreCommand(bytes, out failure);

        public byte[] ToDevice(ReadOnlySpan<byte> signedPreCommand, Eui64 device) => critical.ToDevice(signedPreCommand, device);
    }
}
