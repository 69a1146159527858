using System.Xml.Linq;
using NodaTime;
using NodaTime.Testing;
using OpenDcc.Core.Alerts;
using OpenDcc.Core.Duis;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Inventory;
using static OpenDcc.Hub.Tests.TestHub;

namespace OpenDcc.Hub.Tests;

/// <summary>
/// The DCC throttles alerts per device and alert code: a comms hub and a meter flooding power outages and restorations
/// have all but the limit held back and counted, and the first alert delivered after the window reports how many, in
/// its ThrottledAlertSequenceId and ThrottledAlertCount, DSP-signed.
/// </summary>
public sealed class AlertThrottlingTests : IAsyncLifetime
{
    private static readonly XNamespace Sr = DuisNamespaces.Sr;
    private readonly FakeClock clock = new(SystemClock.Instance.GetCurrentInstant(), Duration.FromTicks(10));
    private TestHub hub = null!;

    public async Task InitializeAsync()
    {
        hub = await StartAsync(clock: clock, alertThrottle: new AlertThrottleOptions(2, Duration.FromMinutes(10), Duration.FromDays(1)));
        await hub.Store.Inventory.UpdateDeviceAsync(Meter, d => d with { CommsHub = CommsHub, Mpan = hub.World.Wan.Fleet[0].Mpan }, InventoryChange.ByOperator(clock.GetCurrentInstant()));
    }

    public async Task DisposeAsync() => await hub.DisposeAsync();

    [Fact]
    public async Task A_flood_of_outages_delivers_the_limit_per_device_and_code_and_the_first_alert_after_the_window_reports_the_rest()
    {
        // Four outages in a minute: the hub's AD1 and the meter's 8F36 four times each.
        for (var i = 0; i < 4; i++)
        {
            var now = clock.GetCurrentInstant();
            await hub.World.Wan.PowerOutageAsync(Meter, now - Duration.FromSeconds(20), now - Duration.FromSeconds(10));
            clock.AdvanceSeconds(15);
        }
        // Two of each code, each to the network operator and the supplier; none reports a throttled run yet.
        var first = await NextAsync(8);
        Assert.Equal(4, first.Count(m => m.Code == "AD1"));
        Assert.Equal(4, first.Count(m => m.Code == "8F36"));
        Assert.All(first, m => Assert.Null(m.Throttled));
        await Assert.ThrowsAsync<TimeoutException>(() => hub.Receiver.NextAsync(TimeSpan.FromSeconds(1)));
        var throttled = await LogAsync(o => o.StartsWith("DccAlertThrottled: AD1", StringComparison.Ordinal) || o.StartsWith("AlertThrottled: 8F36", StringComparison.Ordinal));
        Assert.Equal(4, throttled.Count);

        // After the window, the next outage: each alert reports the two held back.
        clock.AdvanceMinutes(10);
        var later = clock.GetCurrentInstant();
        await hub.World.Wan.PowerOutageAsync(Meter, later - Duration.FromSeconds(20), later - Duration.FromSeconds(10));
        var next = await NextAsync(4);
        Assert.Equal([Supplier, Supplier, NetworkOperator, NetworkOperator], next.Select(m => m.To).OrderBy(to => to.Value));
        Assert.All(next, m => Assert.Equal(2u, m.Throttled!.Value.Count));
        // One sequence per device and code; the log names it.
        var sequences = next.GroupBy(m => m.Code).ToDictionary(g => g.Key, g => Assert.Single(g.Select(m => m.Throttled!.Value.SequenceId).Distinct()));
        Assert.Contains(throttled, o => o.StartsWith("DccAlertThrottled: AD1", StringComparison.Ordinal) && o.EndsWith($"sequence {sequences["AD1"]}", StringComparison.Ordinal));
        Assert.Contains(throttled, o => o.StartsWith("AlertThrottled: 8F36", StringComparison.Ordinal) && o.EndsWith($"sequence {sequences["8F36"]}", StringComparison.Ordinal));
    }

    /// <summary>The next messages delivered, each DSP-signed with I0: to whom, the alert code, and the throttled run it reports.</summary>
    private async Task<List<(Eui64 To, string Code, ThrottledAlerts? Throttled)>> NextAsync(int count)
    {
        var received = new List<(Eui64, string, ThrottledAlerts?)>();
        for (var i = 0; i < count; i++)
        {
            var message = await hub.Receiver.NextAsync(TimeSpan.FromSeconds(20));
            Assert.Equal("I0", await hub.CheckSignedResponseAsync(message));
            var document = XDocument.Parse(message);
            var code = document.Descendants(Sr + "DCCAlertCode").SingleOrDefault()?.Value ?? document.Descendants(Sr + "AlertCode").Single().Value;
            var sequence = document.Descendants(Sr + "ThrottledAlertSequenceId").SingleOrDefault();
            var throttledCount = document.Descendants(Sr + "ThrottledAlertCount").SingleOrDefault();
            ThrottledAlerts? run = sequence is null ? null : new ThrottledAlerts(uint.Parse(sequence.Value, System.Globalization.CultureInfo.InvariantCulture), uint.Parse(throttledCount!.Value, System.Globalization.CultureInfo.InvariantCulture));
            received.Add((RequestId.Parse(document.Descendants(Sr + "ResponseID").Single().Value).Target, code, run));
        }
        return received;
    }

    private async Task<List<string>> LogAsync(Func<string, bool> outcome)
    {
        var outcomes = new List<string>();
        await foreach (var entry in hub.Store.MessageLog.ReadAsync())
        {
            if (outcome(entry.Record.Outcome))
            {
                outcomes.Add(entry.Record.Outcome);
            }
        }
        return outcomes;
    }
}
