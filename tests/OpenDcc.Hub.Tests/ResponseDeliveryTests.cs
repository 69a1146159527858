using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using OpenDcc.Core.Delivery;
using OpenDcc.Core.Parties;
using OpenDcc.Core.Security;
using static OpenDcc.Hub.Tests.TestHub;
using Endpoint = OpenDcc.Storage.Tests.ResponseReceiver;

namespace OpenDcc.Hub.Tests;

/// <summary>The hub's delivery of queued responses to its users' response URLs, as the hub configures it (<see cref="HubOptions.Delivery"/>).</summary>
public sealed class ResponseDeliveryTests
{
    [Fact]
    public async Task Many_messages_for_one_users_endpoint_go_at_most_MaxConnectionsPerEndpoint_at_a_time_and_all_arrive()
    {
        // Each POST is held until the cap's worth are in progress (5 s at most), then answered 50 ms on: without the cap
        // all 40 would be there at once, the hub's dispatcher having 256 workers.
        const int cap = 4, messages = 40;
        // A batch the claim lease covers while it waits for the one endpoint, 4 at a time (DeliveryOptions.Validate).
        await using var hub = await TestHub.StartAsync(delivery: DeliveryOptions.Default with { MaxConnectionsPerEndpoint = cap, ClaimBatchSize = 16 });
        await using var endpoint = await Endpoint.StartAsync();
        endpoint.HoldUntilInFlight = cap;
        endpoint.Delay = TimeSpan.FromMilliseconds(50);
        await hub.Services.GetRequiredService<IPartyStore>().SetResponseUrlAsync(Supplier, endpoint.Url);
        var now = SystemClock.Instance.GetCurrentInstant();
        var payloads = Enumerable.Range(0, messages).Select(i => $"<Response n=\"{i}\"/>").ToList();
        // Queued in one go, as the hub's sender queues a response (with its log entry), and the dispatcher told.
        await hub.Services.GetRequiredService<MessageLogWriter>().AppendAsync(payloads.Select((payload, i) =>
            new MessageLogRecord(now, MessageDirection.Outbound, Supplier, $"response {i}", $"I0 queued for delivery to {endpoint.Url}", Encoding.UTF8.GetBytes(payload))
            {
                QueuedForDelivery = new QueuedDelivery(endpoint.Url, "I0"),
            }).ToList());
        hub.Services.GetRequiredService<ResponseDispatcher>().NotifyEnqueued();

        // Each delivery is recorded just after the endpoint answers it.
        var waited = Stopwatch.StartNew();
        while (await hub.Store.Delivery.CountAsync(DeliveryState.Delivered, Supplier) < messages && waited.Elapsed < TimeSpan.FromSeconds(20))
        {
            await Task.Delay(50);
        }

        Assert.Equal(messages, await hub.Store.Delivery.CountAsync(DeliveryState.Delivered, Supplier));
        Assert.Equal(cap, endpoint.MaxInFlight);
        Assert.Equal(payloads.Order(), endpoint.Received.Select(r => Encoding.UTF8.GetString(r.Body)).Order());
    }
}
