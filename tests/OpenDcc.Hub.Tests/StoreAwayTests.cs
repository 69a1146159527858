using System.Data.Common;
using OpenDcc.Core.Duis;
using OpenDcc.Core.Identifiers;
using static OpenDcc.Hub.Tests.TestHub;

namespace OpenDcc.Hub.Tests;

/// <summary>
/// A device answers while the store is away (PostgreSQL restarting): the answer is kept and handed on once the store is
/// back, not lost until the hub's next start answers the command E21 although the device did answer.
/// </summary>
public sealed class StoreAwayTests : IAsyncLifetime
{
    private readonly AwayStore away = new();
    private TestHub hub = null!;

    public async Task InitializeAsync() => hub = await TestHub.StartAsync(wrapResponses: sink => new AwayFirst(sink, away));

    public async Task DisposeAsync() => await hub.DisposeAsync();

    [Fact]
    public async Task A_device_answer_that_finds_the_store_away_is_handed_on_once_it_is_back_and_the_queue_goes_on()
    {
        away.Refusals = 2;
        Assert.Equal("I99", (await hub.SendAsync("/api/v1/serviceS", Request(Supplier, Meter, hub.NextCounter(), 1, "4.1.1"))).Code);
        Assert.Equal("I99", (await hub.SendAsync("/api/v1/serviceS", Request(Supplier, Meter, hub.NextCounter(), 1, "7.4"))).Code);

        // The first answer after the store's two refusals (1 s, then 2 s), then the next command's: both the device's own.
        Assert.Equal("I0", await hub.CheckSignedResponseAsync(await hub.Receiver.NextAsync(TimeSpan.FromSeconds(20))));
        Assert.Equal("I0", await hub.CheckSignedResponseAsync(await hub.Receiver.NextAsync(TimeSpan.FromSeconds(20))));
        Assert.Equal(0, away.Refusals);
        Assert.Empty(await hub.Store.UnansweredCommands.ListAsync());
    }

    private sealed class AwayStore
    {
        private readonly Lock gate = new();
        private int refusals;

        public int Refusals
        {
            get { lock (gate) { return refusals; } }
            set { lock (gate) { refusals = value; } }
        }

        public bool Refuse()
        {
            lock (gate)
            {
                return refusals > 0 && refusals-- > 0;
            }
        }
    }

    private sealed class AwayFirst(IDeviceResponseSink sink, AwayStore away) : IDeviceResponseSink
    {
        public Task SendAsync(DeviceRequestReference request, string code, ResponsePayload payload, Eui64 user, DeviceAnswerRoute route, CancellationToken cancellationToken = default) =>
            away.Refuse() ? throw new StoreAwayException() : sink.SendAsync(request, code, payload, user, route, cancellationToken);
    }

    /// <summary>What Npgsql throws while PostgreSQL restarts (57P03, or a refused connection): a transient fault.</summary>
    private sealed class StoreAwayException() : DbException("Failed to connect to 127.0.0.1:5432")
    {
        public override bool IsTransient => true;
    }
}
