using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using NodaTime;
using NodaTime.Testing;
using OpenDcc.Core.Alerts;
using OpenDcc.Core.Identifiers;

namespace OpenDcc.Core.Tests.Alerts;

public class AlertThrottleTests
{
    private static readonly Eui64 Meter = Eui64.Parse("00-DB-12-34-56-78-90-A0");
    private static readonly Eui64 OtherMeter = Eui64.Parse("00-DB-12-34-56-78-90-A1");
    private static readonly Instant Start = Instant.FromUtc(2026, 11, 29, 9, 0);

    /// <summary>An alert raised at an offset (seconds from the start), by one of two devices, with one of two codes.</summary>
    private sealed record Raised(int Second, bool Other, bool OtherCode)
    {
        public (Eui64 Device, string Code) Key => (Other ? OtherMeter : Meter, OtherCode ? "8F36" : "AD1");
    }

    private static readonly Gen<Raised[]> Floods =
        from count in Gen.Choose(0, 120)
        from gaps in Gen.Choose(0, 200).ArrayOf(count)
        from devices in Gen.Elements(false, false, true).ArrayOf(count)
        from codes in Gen.Elements(false, false, true).ArrayOf(count)
        select gaps.Select((gap, i) => (At: gaps.Take(i + 1).Sum(), i)).Select(g => new Raised(g.At, devices[g.i], codes[g.i])).ToArray();

    private static readonly Gen<AlertThrottleOptions> Limits =
        from perWindow in Gen.Choose(1, 6)
        from windowSeconds in Gen.Choose(1, 900)
        select new AlertThrottleOptions(perWindow, Duration.FromSeconds(windowSeconds), Duration.FromDays(1));

    /// <summary>Runs the alerts through a throttle on a fake clock: each with its decision.</summary>
    private static List<(Raised Alert, AlertThrottleDecision Decision)> Run(AlertThrottleOptions options, IEnumerable<Raised> alerts)
    {
        var clock = new FakeClock(Start);
        var throttle = new AlertThrottle(options, clock);
        var decided = new List<(Raised, AlertThrottleDecision)>();
        foreach (var alert in alerts)
        {
            clock.Reset(Start + Duration.FromSeconds(alert.Second));
            decided.Add((alert, throttle.Decide(alert.Key.Device, alert.Key.Code)));
        }
        return decided;
    }

    [Property(MaxTest = 300)]
    public Property For_any_alert_times_each_device_and_code_has_delivered_plus_suppressed_equal_to_raised_and_every_suppressed_alert_is_reported_once() =>
        Prop.ForAll(Limits.ToArbitrary(), Floods.ToArbitrary(), (options, alerts) =>
            Run(options, alerts).GroupBy(d => d.Alert.Key).All(group =>
            {
                var delivered = group.Count(d => d.Decision is AlertThrottleDecision.Deliver);
                var suppressed = group.Count(d => d.Decision is AlertThrottleDecision.Suppress);
                // What delivered alerts report, plus what still waits after the last (the count of the last suppressed, if it is last).
                var reported = group.Select(d => d.Decision).OfType<AlertThrottleDecision.Deliver>().Sum(d => (long)(d.Throttled?.Count ?? 0));
                var waiting = group.Last().Decision is AlertThrottleDecision.Suppress last ? last.Throttled.Count : 0;
                return delivered + suppressed == group.Count() && reported + waiting == suppressed;
            }));

    [Property(MaxTest = 300)]
    public Property No_span_of_one_window_holds_more_delivered_alerts_of_a_device_and_code_than_the_limit() =>
        Prop.ForAll(Limits.ToArbitrary(), Floods.ToArbitrary(), (options, alerts) =>
            Run(options, alerts).Where(d => d.Decision is AlertThrottleDecision.Deliver).GroupBy(d => d.Alert.Key).All(group =>
            {
                var times = group.Select(d => d.Alert.Second).ToArray();
                // Every span [t, t + window) starting at a delivery (the worst spans start at one).
                return times.All(t => times.Count(u => u >= t && u < t + (long)options.Window.TotalSeconds) <= options.AlertsPerWindow);
            }));

    [Property(MaxTest = 300)]
    public Property An_alert_is_suppressed_only_when_the_window_before_it_already_holds_the_limit() =>
        Prop.ForAll(Limits.ToArbitrary(), Floods.ToArbitrary(), (options, alerts) =>
        {
            var decided = Run(options, alerts);
            return decided.Select((d, i) => (d, i)).Where(x => x.d.Decision is AlertThrottleDecision.Suppress).All(x =>
                decided.Take(x.i).Count(e => e.Alert.Key == x.d.Alert.Key && e.Decision is AlertThrottleDecision.Deliver && x.d.Alert.Second - e.Alert.Second < options.Window.TotalSeconds) >= options.AlertsPerWindow);
        });

    [Fact]
    public void A_flood_is_cut_to_the_limit_and_the_first_alert_after_the_window_reports_how_many_were_held_back_under_one_sequence_id()
    {
        var clock = new FakeClock(Start);
        var throttle = new AlertThrottle(new AlertThrottleOptions(2, Duration.FromMinutes(10), Duration.FromDays(1)), clock);

        var flood = Enumerable.Range(0, 5).Select(_ => { clock.AdvanceSeconds(1); return throttle.Decide(Meter, "AD1"); }).ToList();
        clock.AdvanceMinutes(10);
        var after = throttle.Decide(Meter, "AD1");
        var next = throttle.Decide(Meter, "AD1");

        Assert.Equal([new AlertThrottleDecision.Deliver(null), new AlertThrottleDecision.Deliver(null)], flood.Take(2));
        var suppressed = flood.Skip(2).Cast<AlertThrottleDecision.Suppress>().Select(s => s.Throttled).ToList();
        Assert.Equal([1u, 2u, 3u], suppressed.Select(s => s.Count));
        Assert.Single(suppressed.Select(s => s.SequenceId).Distinct());
        Assert.Equal(new AlertThrottleDecision.Deliver(new ThrottledAlerts(suppressed[0].SequenceId, 3)), after);
        // Reported once: the alert after it reports nothing.
        Assert.Equal(new AlertThrottleDecision.Deliver(null), next);
        // Another device, or another code, has an allowance of its own.
        Assert.IsType<AlertThrottleDecision.Deliver>(throttle.Decide(OtherMeter, "AD1"));
        Assert.IsType<AlertThrottleDecision.Deliver>(throttle.Decide(Meter, "8F36"));
    }

    [Fact]
    public void A_later_run_of_throttled_alerts_has_a_higher_sequence_id()
    {
        var clock = new FakeClock(Start);
        var throttle = new AlertThrottle(new AlertThrottleOptions(1, Duration.FromMinutes(1), Duration.FromDays(1)), clock);

        throttle.Decide(Meter, "AD1");
        var first = Assert.IsType<AlertThrottleDecision.Suppress>(throttle.Decide(Meter, "AD1")).Throttled.SequenceId;
        clock.AdvanceMinutes(1);
        throttle.Decide(Meter, "AD1");
        var second = Assert.IsType<AlertThrottleDecision.Suppress>(throttle.Decide(Meter, "AD1")).Throttled.SequenceId;

        Assert.True(second > first, $"{second} > {first}");
    }

    [Fact]
    public void A_device_gone_quiet_costs_nothing_once_its_window_has_passed_and_a_count_waiting_to_be_reported_is_kept_only_for_the_carry_period()
    {
        var clock = new FakeClock(Start);
        var throttle = new AlertThrottle(new AlertThrottleOptions(1, Duration.FromMinutes(10), Duration.FromHours(1)), clock);

        throttle.Decide(Meter, "8F36");
        throttle.Decide(OtherMeter, "8F36");
        throttle.Decide(OtherMeter, "8F36");
        Assert.Equal(2, throttle.Tracked);

        clock.AdvanceMinutes(10);
        throttle.RemoveExpired();
        // The meter's window has passed with nothing held back; the other's count waits to be reported.
        Assert.Equal(1, throttle.Tracked);

        clock.AdvanceHours(1);
        throttle.RemoveExpired();
        Assert.Equal(0, throttle.Tracked);
    }

    [Fact]
    public void Deciding_sweeps_what_has_expired_so_an_idle_device_needs_no_call_of_its_own()
    {
        var clock = new FakeClock(Start);
        var throttle = new AlertThrottle(new AlertThrottleOptions(3, Duration.FromMinutes(5), Duration.FromHours(1)), clock);
        foreach (var device in Enumerable.Range(1, 100).Select(i => new Eui64((ulong)i)))
        {
            throttle.Decide(device, "8F36");
        }
        Assert.Equal(100, throttle.Tracked);

        clock.AdvanceMinutes(6);
        throttle.Decide(Meter, "8F36");

        Assert.Equal(1, throttle.Tracked);
    }

    [Theory]
    [InlineData(0, 60, 60)]
    [InlineData(1, 0, 60)]
    [InlineData(1, 60, 0)]
    public void Limits_that_would_throttle_nothing_or_everything_are_refused(int perWindow, int windowSeconds, int carrySeconds) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new AlertThrottleOptions(perWindow, Duration.FromSeconds(windowSeconds), Duration.FromSeconds(carrySeconds)));
}
