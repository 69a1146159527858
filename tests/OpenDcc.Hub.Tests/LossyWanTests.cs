using static OpenDcc.Hub.Tests.TestHub;

namespace OpenDcc.Hub.Tests;

/// <summary>A WAN that loses every command: the device never answers.</summary>
public sealed class LossyWanTests : IAsyncLifetime
{
    private TestHub hub = null!;

    public async Task InitializeAsync() => hub = await TestHub.StartAsync(wanLossPerMille: 1000);

    public async Task DisposeAsync() => await hub.DisposeAsync();

    [Fact]
    public async Task A_device_that_never_answers_gets_its_command_retried_then_E21_to_the_user()
    {
        var (code, _) = await hub.SendAsync("/api/v1/serviceS", Request(Supplier, Meter, hub.NextCounter(), 1, "4.1.1"));
        Assert.Equal("I99", code);

        // Two attempts of 2 s each and a backoff between them.
        Assert.Equal("E21", await hub.CheckSignedResponseAsync(await hub.Receiver.NextAsync(TimeSpan.FromSeconds(30))));
    }
}
