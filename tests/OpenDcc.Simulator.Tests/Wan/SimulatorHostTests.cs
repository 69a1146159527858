using System.Net;
using System.Net.Http.Json;
using System.Net.ServerSentEvents;
using System.Security.Cryptography;
using System.Text;
using NodaTime;
using NodaTime.Testing;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Wan;
using OpenDcc.Simulator.Devices;
using OpenDcc.Simulator.Wan;

namespace OpenDcc.Simulator.Tests.Wan;

/// <summary>The simulator's own process (<c>opendcc simulate</c>) as a hub or a tester reaches it over loopback.</summary>
public sealed class SimulatorHostTests : IAsyncLifetime
{
    private static readonly Eui64 Acb = Eui64.Parse("90-B3-D5-1F-30-00-00-02");
    private readonly ECDiffieHellman acbKey = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
    private SimulatedWan wan = null!;
    private SimulatorHost host = null!;
    private HttpClient client = null!;

    public async Task InitializeAsync()
    {
        // The devices hold the ACB key, as after a hub has connected; whether a hub listens for alerts is the test's.
        wan = new SimulatedWan(new SimulatedFleet(5, 4), Acb, acbKey.PublicKey, new FakeClock(Instant.FromUtc(2026, 11, 28, 9, 0)), SimulatedWanOptions.Instant);
        host = await SimulatorHost.StartAsync(wan, new IPEndPoint(IPAddress.Loopback, 0));
        client = new HttpClient(new SocketsHttpHandler())
        {
            BaseAddress = host.Url,
            DefaultRequestVersion = HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
    }

    public async Task DisposeAsync()
    {
        client.Dispose();
        await host.DisposeAsync();
        wan.Dispose();
        acbKey.Dispose();
    }

    [Theory]
    [InlineData(null, null, HttpStatusCode.UnsupportedMediaType, "Content-Type: application/json expected, none given")]
    [InlineData("{\"seconds\":600}", "application/x-www-form-urlencoded", HttpStatusCode.UnsupportedMediaType, "Content-Type: application/json expected, not 'application/x-www-form-urlencoded'")]
    [InlineData("", "application/json", HttpStatusCode.BadRequest, "the body is not the JSON expected")]
    [InlineData("{\"seconds\":", "application/json", HttpStatusCode.BadRequest, "the body is not the JSON expected")]
    [InlineData("{\"seconds\":\"600\"}", "application/json", HttpStatusCode.BadRequest, "the body is not the JSON expected at $.seconds: a value of another type than the field takes (a number is written as a JSON number, not in quotes)")]
    public async Task A_power_cut_not_sent_as_a_json_body_is_refused_with_a_problem_document_saying_what_is_wrong(string? body, string? contentType, HttpStatusCode status, string detail)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, LoopbackWanProtocol.OutagePath(3)) { Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact };
        if (body is not null)
        {
            request.Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
            request.Content.Headers.ContentType = contentType is null ? null : new(contentType);
        }
        using var response = await client.SendAsync(request);

        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(detail, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Empty(wan.Fleet[3].PowerLossesBetween(Instant.MinValue, Instant.MaxValue));
    }

    [Fact]
    public async Task A_power_cut_while_no_hub_listens_for_alerts_is_refused_409_and_accepted_once_one_listens()
    {
        using (var refused = await client.PostAsJsonAsync(LoopbackWanProtocol.OutagePath(3), new PowerCut(Seconds: 600), LoopbackWanProtocol.Json))
        {
            Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
            Assert.Contains("no hub is connected to hear the comms hub's alert", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        Assert.Empty(wan.Fleet[3].PowerLossesBetween(Instant.MinValue, Instant.MaxValue));

        // A hub listens: the alert stream is open.
        using var alerts = await client.GetAsync(LoopbackWanProtocol.AlertsPath, HttpCompletionOption.ResponseHeadersRead);
        await using var stream = await alerts.Content.ReadAsStreamAsync();
        using var posted = await client.PostAsJsonAsync(LoopbackWanProtocol.OutagePath(3), new PowerCut(Seconds: 600), LoopbackWanProtocol.Json);
        Assert.Equal(HttpStatusCode.Accepted, posted.StatusCode);

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await foreach (var item in SseParser.Create(stream).EnumerateAsync(timeout.Token))
        {
            if (item.EventType == LoopbackWanProtocol.PowerLostEvent)
            {
                Assert.Contains(wan.Fleet[3].CommsHubId.ToString(), item.Data, StringComparison.Ordinal);
                return;
            }
        }
        Assert.Fail("the alert stream ended without the comms hub's loss of power");
    }

    [Fact]
    public async Task Another_hubs_acb_key_is_refused_while_a_hub_listens_and_taken_once_none_does()
    {
        using var other = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        var othersKey = new AcbKey(Eui64.Parse("90-B3-D5-1F-30-00-00-03").ToString(), Convert.ToBase64String(other.PublicKey.ExportSubjectPublicKeyInfo()));
        var ownKey = new AcbKey(Acb.ToString(), Convert.ToBase64String(acbKey.PublicKey.ExportSubjectPublicKeyInfo()));

        using (var alerts = await client.GetAsync(LoopbackWanProtocol.AlertsPath, HttpCompletionOption.ResponseHeadersRead))
        {
            using (var refused = await client.PutAsJsonAsync(LoopbackWanProtocol.AcbPath, othersKey, LoopbackWanProtocol.Json))
            {
                Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
                Assert.Contains($"a hub with ACB {Acb} and another key is connected", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            }
            Assert.Equal(Acb, wan.Acb);
            // The hub that holds the simulator connects again with its own key: taken, as before.
            using var again = await client.PutAsJsonAsync(LoopbackWanProtocol.AcbPath, ownKey, LoopbackWanProtocol.Json);
            Assert.Equal(HttpStatusCode.NoContent, again.StatusCode);
        }

        // Its alert stream closed (the hub stopped): the next hub's key is taken.
        for (var waited = 0; host.Listening; waited += 50)
        {
            Assert.True(waited < 10_000, "the closed alert stream is still counted");
            await Task.Delay(50);
        }
        using var taken = await client.PutAsJsonAsync(LoopbackWanProtocol.AcbPath, othersKey, LoopbackWanProtocol.Json);
        Assert.Equal(HttpStatusCode.NoContent, taken.StatusCode);
        Assert.Equal(Eui64.Parse("90-B3-D5-1F-30-00-00-03"), wan.Acb);
    }

    [Fact]
    public async Task A_second_alert_stream_is_refused_while_a_hub_listens_and_opened_once_none_does()
    {
        using (var first = await client.GetAsync(LoopbackWanProtocol.AlertsPath, HttpCompletionOption.ResponseHeadersRead))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
            using var second = await client.GetAsync(LoopbackWanProtocol.AlertsPath, HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal(HttpStatusCode.Conflict, second.StatusCode);
            Assert.Contains("one hub per simulator", await second.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        for (var waited = 0; host.Listening; waited += 50)
        {
            Assert.True(waited < 10_000, "the closed alert stream is still counted");
            await Task.Delay(50);
        }
        using var next = await client.GetAsync(LoopbackWanProtocol.AlertsPath, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
    }
}
