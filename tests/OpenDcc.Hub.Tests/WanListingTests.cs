using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using NodaTime;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Wan;
using OpenDcc.Storage;

namespace OpenDcc.Hub.Tests;

/// <summary>
/// What a WAN lists of its devices is read or refused as a whole, naming the device: a listing the hub cannot take is
/// a WAN that does not speak the protocol (<see cref="WanUnavailableException"/>), not an exception of .NET's own, and
/// no key-agreement key is kept that would throw each time a command or an alert of the device is read.
/// </summary>
public sealed class WanListingTests : IAsyncLifetime
{
    private static readonly Eui64 Acb = Eui64.Parse("90-B3-D5-1F-30-00-00-02");
    private const string Meter = "00-DB-12-34-56-78-90-E5";
    private readonly string directory = Path.Combine(Path.GetTempPath(), "opendcc-listing-" + Guid.NewGuid().ToString("N"));
    private readonly ECDiffieHellman acbKey = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
    private OpenDccStore store = null!;

    public async Task InitializeAsync() => store = await OpenDccStore.OpenSqliteAsync(directory, SystemClock.Instance);

    public async Task DisposeAsync()
    {
        await store.DisposeAsync();
        acbKey.Dispose();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(directory, recursive: true);
    }

    public static TheoryData<string, string> BadListings
    {
        get
        {
            using var p384 = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP384);
            return new()
            {
                { "null", "lists no devices" },
                { "[null]", "device 0: missing" },
                { """[{"type":"ESME","status":"Commissioned"}]""", "device 0: no ID" },
                { """[{"id":"00-DB","type":"ESME","status":"Commissioned"}]""", "device 00-DB:" },
                { $$"""[{"id":"{{Meter}}","type":99,"status":"Commissioned"}]""", $"device {Meter}: type 99 is not a device type" },
                { $$"""[{"id":"{{Meter}}","type":"ESME","status":99}]""", $"device {Meter}: status 99 is not an SMI status" },
                { $$"""[{"id":"{{Meter}}","type":"ESME","status":"Commissioned","keyAgreementKey":"AAAA"}]""", $"device {Meter}: its key-agreement key is not" },
                { $$"""[{"id":"{{Meter}}","type":"ESME","status":"Commissioned","keyAgreementKey":"{{Convert.ToBase64String(p384.PublicKey.ExportSubjectPublicKeyInfo())}}"}]""", $"device {Meter}: its key-agreement key is not" },
            };
        }
    }

    [Theory]
    [MemberData(nameof(BadListings))]
    public async Task A_wan_listing_a_device_the_hub_cannot_take_is_refused_naming_it_and_nothing_is_learnt(string installed, string fault)
    {
        await using var fakeWan = await FakeWanAsync($$"""{"seed":1,"sites":0,"devices":1,"installed":{{installed}}}""");
        await using var wan = new LoopbackWan(fakeWan.Urls.Select(u => new Uri(u)).First(), Acb, acbKey.PublicKey);

        var refused = await Assert.ThrowsAsync<WanUnavailableException>(() => wan.ConnectAsync(store.Inventory));

        Assert.Contains(fault, refused.Message, StringComparison.Ordinal);
        Assert.Null(wan.FindKeyAgreementKey(Eui64.Parse(Meter)));
        Assert.Empty(await store.Inventory.FindDevicesAsync([Eui64.Parse(Meter)]));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_device_answer_longer_than_any_device_gives_is_refused_unread_as_the_wan_gone_wrong(bool declaresLength)
    {
        // One byte over the bound: declared as its Content-Length, or streamed without one.
        await using var fakeWan = await FakeWanAsync("""{"seed":1,"sites":0,"devices":0,"installed":[]}""", async context =>
        {
            var chunk = new byte[1024 * 1024];
            if (declaresLength)
            {
                context.Response.ContentLength = LoopbackWanProtocol.MaxBodyBytes + 1L;
            }
            for (var sent = 0L; sent <= LoopbackWanProtocol.MaxBodyBytes; sent += chunk.Length)
            {
                await context.Response.Body.WriteAsync(chunk.AsMemory(0, (int)Math.Min(chunk.Length, LoopbackWanProtocol.MaxBodyBytes + 1L - sent)));
            }
        });
        await using var wan = new LoopbackWan(fakeWan.Urls.Select(u => new Uri(u)).First(), Acb, acbKey.PublicKey);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));

        var refused = await Assert.ThrowsAsync<DeviceUnreachableException>(() => wan.ExchangeAsync(Eui64.Parse(Meter), [1, 2, 3], timeout.Token));

        Assert.Contains($"answered with more than {LoopbackWanProtocol.MaxBodyBytes:N0} bytes, more than any device answers: not read", refused.Message, StringComparison.Ordinal);
    }

    /// <summary>A WAN that takes the ACB key and lists <paramref name="fleet"/>, and answers exchanges with <paramref name="exchange"/> if given; nothing else.</summary>
    private static Task<WebApplication> FakeWanAsync(string fleet, RequestDelegate? exchange = null) =>
        FakeWan.StartAsync(fleet, app =>
        {
            if (exchange is not null)
            {
                app.MapPost("/devices/{device}/exchange", exchange);
            }
        });
}
