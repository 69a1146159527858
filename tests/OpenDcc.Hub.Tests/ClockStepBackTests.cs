using NodaTime;
using NodaTime.Testing;
using OpenDcc.Core.Security;
using static OpenDcc.Hub.Tests.TestHub;

namespace OpenDcc.Hub.Tests;

/// <summary>
/// The hub's clock set back (NTP, an operator) while it runs: what it read from the store before is not used as if it
/// were fresh until the clock catches up with its reading.
/// </summary>
public sealed class ClockStepBackTests : IAsyncLifetime
{
    private const string SendCommand = "/api/v1/serviceS";

    private readonly FakeClock clock = new(SystemClock.Instance.GetCurrentInstant());
    private TestHub hub = null!;

    public async Task InitializeAsync() => hub = await StartAsync(clock: clock);

    public async Task DisposeAsync() => await hub.DisposeAsync();

    [Fact]
    public async Task A_certificate_revoked_after_the_clock_stepped_back_is_refused_at_once()
    {
        Assert.Equal("I99", (await hub.SendAsync(SendCommand, Request(Supplier, Meter, hub.NextCounter(), 1, "4.1.1"))).Code);
        var certificate = Assert.Single(await hub.Store.Parties.ListCertificatesAsync(Supplier), c => c.Role == RemotePartyRole.XmlSign);

        // Two minutes back: the certificate (valid from five minutes before it was issued) is still valid then.
        clock.Reset(clock.GetCurrentInstant() - Duration.FromMinutes(2));
        // As certs revoke does it on this machine: in the store, past the hub's cache, at the clock's now.
        Assert.True(await hub.Store.Parties.RevokeCertificateAsync(certificate.Thumbprint, clock.GetCurrentInstant() - Duration.FromSeconds(1)));

        var (code, _) = await hub.SendAsync(SendCommand, Request(Supplier, Meter, hub.NextCounter(), 1, "4.1.1"));

        Assert.Equal("E42", code);
    }
}
