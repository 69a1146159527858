using System.Xml.Linq;
using NodaTime;
using OpenDcc.Core.Duis;
using OpenDcc.Core.Identifiers;
using static OpenDcc.Hub.Tests.TestHub;

namespace OpenDcc.Hub.Tests;

/// <summary>A device's queue in its comms hub's grain, over a WAN slow enough for commands to wait.</summary>
public sealed class DeviceQueueTests : IAsyncLifetime
{
    private const string SendCommand = "/api/v1/serviceS";
    private static readonly XNamespace Sr = DuisNamespaces.Sr;
    private TestHub hub = null!;

    public async Task InitializeAsync() => hub = await TestHub.StartAsync(wanLatency: Duration.FromMilliseconds(1500));

    public async Task DisposeAsync() => await hub.DisposeAsync();

    [Fact]
    public async Task Waiting_commands_go_by_lane_prepayment_before_normal_before_bulk_one_at_a_time()
    {
        var profile = $"<sr:ReadLogPeriod><sr:StartDateTime>2026-11-01T00:00:00Z</sr:StartDateTime><sr:EndDateTime>2026-11-02T00:00:00Z</sr:EndDateTime></sr:ReadLogPeriod>";
        // The first goes out at once and takes 1.5 s on the WAN; the other three arrive meanwhile, wait behind it and
        // leave by lane, not by arrival.
        var first = await SendAsync("4.1.1");
        var bulk = await SendAsync("4.8.1", profile);
        var normal = await SendAsync("7.4");
        var prepayment = await SendAsync("4.18");

        var order = new List<ulong>();
        for (var i = 0; i < 4; i++)
        {
            var answer = XDocument.Parse(await hub.Receiver.NextAsync(TimeSpan.FromSeconds(20)));
            Assert.Equal("I0", answer.Descendants(Sr + "ResponseCode").Single().Value);
            order.Add(RequestId.Parse(answer.Descendants(Sr + "ResponseID").Single().Value).Counter);
        }

        Assert.Equal([first, prepayment, normal, bulk], order);
    }

    private async Task<ulong> SendAsync(string srv, string body = "")
    {
        var counter = hub.NextCounter();
        Assert.Equal("I99", (await hub.SendAsync(SendCommand, Request(Supplier, Meter, counter, 1, srv, body))).Code);
        return counter;
    }
}
