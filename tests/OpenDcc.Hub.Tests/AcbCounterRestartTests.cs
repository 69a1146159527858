using NodaTime;
using static OpenDcc.Hub.Tests.TestHub;

namespace OpenDcc.Hub.Tests;

/// <summary>
/// The ACB counter a device takes only above the last it saw, across a hub's restart whose clock has stepped back: the
/// simulator, in a host of its own, outlives the hub and remembers the counters its devices saw.
/// </summary>
public sealed class AcbCounterRestartTests
{
    [Fact]
    public async Task A_hub_started_again_with_its_clock_stepped_back_sends_counters_the_devices_take()
    {
        var clock = new SteppedClock();
        await using var hub = await StartAsync(overLoopback: true, clock: clock);
        var meter = hub.Wan.Fleet[0].ElectricityMeter.Id;
        Assert.Equal("I0", await ReadRegistersAsync(hub, meter));

        // NTP steps the clock back three minutes (the users' certificates, valid from five minutes before they were
        // issued, still are); the hub starts again.
        clock.Offset = Duration.FromMinutes(-3);
        await hub.RestartAsync();

        // A counter from the clock alone would be below the one the meter saw: it would drop the command (E21).
        Assert.Equal("I0", await ReadRegistersAsync(hub, meter));
    }

    private static async Task<string> ReadRegistersAsync(TestHub hub, Core.Identifiers.Eui64 meter)
    {
        Assert.Equal("I99", (await hub.SendAsync("/api/v1/serviceS", Request(Supplier, meter, hub.NextCounter(), 1, "4.1.1"))).Code);
        return await hub.CheckSignedResponseAsync(await hub.Receiver.NextAsync(TimeSpan.FromSeconds(30)));
    }

    /// <summary>The system clock, stepped by <see cref="Offset"/>.</summary>
    private sealed class SteppedClock : IClock
    {
        public Duration Offset { get; set; }

        public Instant GetCurrentInstant() => SystemClock.Instance.GetCurrentInstant() + Offset;
    }
}
