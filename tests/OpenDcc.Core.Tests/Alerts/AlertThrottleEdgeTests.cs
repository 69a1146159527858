using NodaTime;
using NodaTime.Testing;
using OpenDcc.Core.Alerts;
using OpenDcc.Core.Identifiers;

namespace OpenDcc.Core.Tests.Alerts;

/// <summary>The throttle at its edges: exact window and carry boundaries, a flood beside quiet devices, the clock jumping.</summary>
public class AlertThrottleEdgeTests
{
    private static readonly Eui64 Meter = Eui64.Parse("00-DB-12-34-56-78-90-A0");
    private static readonly Instant Start = Instant.FromUtc(2026, 11, 29, 9, 0);
    private static readonly Duration Window = Duration.FromMinutes(10);

    [Fact]
    public void An_alert_exactly_one_window_after_the_oldest_delivery_is_delivered_and_one_tick_earlier_is_suppressed()
    {
        var clock = new FakeClock(Start);
        var throttle = new AlertThrottle(new AlertThrottleOptions(2, Window, Duration.FromHours(1)), clock);
        Assert.Equal(new AlertThrottleDecision.Deliver(null), throttle.Decide(Meter, "AD1"));
        clock.AdvanceSeconds(1);
        Assert.Equal(new AlertThrottleDecision.Deliver(null), throttle.Decide(Meter, "AD1"));

        clock.Reset(Start + Window - Duration.FromTicks(1));
        var held = Assert.IsType<AlertThrottleDecision.Suppress>(throttle.Decide(Meter, "AD1")).Throttled;
        clock.Reset(Start + Window);

        Assert.Equal(new AlertThrottleDecision.Deliver(held), throttle.Decide(Meter, "AD1"));
        // The second delivery (at +1 s) is still in the window: the next at +window is suppressed again.
        Assert.IsType<AlertThrottleDecision.Suppress>(throttle.Decide(Meter, "AD1"));
    }

    [Fact]
    public void A_count_waiting_is_kept_until_exactly_the_carry_period_after_the_window_and_reported_if_an_alert_comes_before()
    {
        var carry = Duration.FromHours(1);
        var clock = new FakeClock(Start);
        var throttle = new AlertThrottle(new AlertThrottleOptions(1, Window, carry), clock);
        throttle.Decide(Meter, "AD1");
        var held = Assert.IsType<AlertThrottleDecision.Suppress>(throttle.Decide(Meter, "AD1")).Throttled;

        clock.Reset(Start + Window + carry - Duration.FromTicks(1));
        throttle.RemoveExpired();
        Assert.Equal(1, throttle.Tracked);
        Assert.Equal(new AlertThrottleDecision.Deliver(held), throttle.Decide(Meter, "AD1"));
    }

    [Fact]
    public void A_flood_from_one_device_leaves_a_thousand_other_sites_alerts_undelayed()
    {
        var clock = new FakeClock(Start);
        var throttle = new AlertThrottle(new AlertThrottleOptions(2, Window, Duration.FromHours(1)), clock);
        for (var i = 0; i < 500; i++)
        {
            throttle.Decide(Meter, "AD1");
        }
        var others = Enumerable.Range(1, 1000).Select(i => throttle.Decide(new Eui64((ulong)i), "AD1")).ToList();

        Assert.All(others, d => Assert.Equal(new AlertThrottleDecision.Deliver(null), d));
        // 2 delivered, 498 held back so far: the next is the 499th held back.
        Assert.Equal(499u, Assert.IsType<AlertThrottleDecision.Suppress>(throttle.Decide(Meter, "AD1")).Throttled.Count);
    }

    [Fact]
    public void After_a_large_forward_jump_the_device_is_delivered_again()
    {
        var clock = new FakeClock(Start);
        var throttle = new AlertThrottle(new AlertThrottleOptions(1, Window, Duration.FromHours(1)), clock);
        throttle.Decide(Meter, "AD1");
        var held = Assert.IsType<AlertThrottleDecision.Suppress>(throttle.Decide(Meter, "AD1")).Throttled;

        clock.Advance(Window);
        Assert.Equal(new AlertThrottleDecision.Deliver(held), throttle.Decide(Meter, "AD1"));
        clock.Advance(Duration.FromDays(400));
        Assert.Equal(new AlertThrottleDecision.Deliver(null), throttle.Decide(Meter, "AD1"));
    }

    [Fact]
    public void The_clock_stepping_back_an_hour_holds_a_device_back_for_at_most_one_window_not_until_the_clock_catches_up()
    {
        var clock = new FakeClock(Start);
        var throttle = new AlertThrottle(new AlertThrottleOptions(2, Window, Duration.FromDays(1)), clock);
        throttle.Decide(Meter, "AD1");
        throttle.Decide(Meter, "AD1");

        // The wall clock is corrected an hour back (an NTP step).
        clock.Reset(Start - Duration.FromHours(1));
        // The limit still holds right after the step...
        var held = Assert.IsType<AlertThrottleDecision.Suppress>(throttle.Decide(Meter, "AD1")).Throttled;
        // ...but a window later the device's alerts flow again, rather than an hour and ten minutes later.
        clock.Advance(Window);

        Assert.Equal(new AlertThrottleDecision.Deliver(held), throttle.Decide(Meter, "AD1"));
    }

    [Fact]
    public void The_clock_stepping_back_a_day_does_not_stop_the_sweep_of_idle_devices_until_it_catches_up()
    {
        var clock = new FakeClock(Start);
        var throttle = new AlertThrottle(new AlertThrottleOptions(3, Window, Duration.FromHours(1)), clock);
        throttle.Decide(Meter, "8F36");
        clock.Reset(Start - Duration.FromDays(1));
        foreach (var device in Enumerable.Range(1, 100).Select(i => new Eui64((ulong)i)))
        {
            throttle.Decide(device, "8F36");
        }

        clock.Advance(Window + Duration.FromMinutes(1));
        throttle.Decide(Meter, "8F36");

        // The hundred devices' windows have passed on the clock as it now runs.
        Assert.True(throttle.Tracked <= 2, $"{throttle.Tracked} tracked");
    }
}
