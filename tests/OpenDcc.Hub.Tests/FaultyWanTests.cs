using OpenDcc.Core.Alerts;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Wan;
using static OpenDcc.Hub.Tests.TestHub;

namespace OpenDcc.Hub.Tests;

/// <summary>A WAN transport that fails in a way it does not promise (not unreachable, not a timeout): a fault in the hub's own path to the device.</summary>
public sealed class FaultyWanTests : IAsyncLifetime
{
    private TestHub hub = null!;

    public async Task InitializeAsync() => hub = await TestHub.StartAsync(wrapWan: _ => new FaultyTransport());

    public async Task DisposeAsync() => await hub.DisposeAsync();

    [Fact]
    public async Task A_command_whose_sending_fails_in_the_hub_is_answered_E21_at_once_and_not_left_for_the_next_start()
    {
        Assert.Equal("I99", (await hub.SendAsync("/api/v1/serviceS", Request(Supplier, Meter, hub.NextCounter(), 1, "4.1.1"))).Code);

        // At once: not after the WAN's attempts and their timeouts.
        Assert.Equal("E21", await hub.CheckSignedResponseAsync(await hub.Receiver.NextAsync(TimeSpan.FromSeconds(5))));
        Assert.Empty(await hub.Store.UnansweredCommands.ListAsync());
    }

    private sealed class FaultyTransport : IWanTransport
    {
        public Task<byte[]> ExchangeAsync(Eui64 device, byte[] command, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("the transport's connection pool is broken");

        public void Attach(IDeviceAlertSink sink)
        {
        }
    }
}
