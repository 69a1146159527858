using System.Text;
using NodaTime;
using NodaTime.Testing;
using OpenDcc.Core.Catalogue;
using OpenDcc.Core.Duis;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Parties;
using OpenDcc.Core.Security;
using OpenDcc.Storage;

namespace OpenDcc.Hub.Tests;

/// <summary>
/// The gateway keeps the certificates that signed requests lately parsed, not every certificate that ever signed one:
/// users' certificates roll over, expire, are revoked, and users go quiet, over the months a hub runs.
/// </summary>
public sealed class CertificateCacheTests : IAsyncLifetime
{
    private static readonly Eui64 Dsp = Eui64.Parse("90-B3-D5-1F-30-00-00-01");
    private static readonly Eui64 Meter = Eui64.Parse("00-DB-12-34-56-78-90-A0");
    private readonly string directory = Path.Combine(Path.GetTempPath(), "opendcc-certcache-" + Guid.NewGuid().ToString("N"));
    private readonly FakeClock clock = new(Instant.FromUtc(2026, 11, 28, 12, 0));
    private OpenDccStore store = null!;

    public async Task InitializeAsync() => store = await OpenDccStore.OpenSqliteAsync(directory, clock);

    public async Task DisposeAsync()
    {
        await store.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(directory, recursive: true);
    }

    [Fact]
    public async Task Certificates_of_users_that_stopped_sending_are_let_go_after_the_idle_period_and_one_in_use_is_kept()
    {
        using var ca = CertificateAuthority.Create("Test OCA", clock, Duration.FromDays(3650));
        using var security = new DuisMessageSecurity(ca.Issue(Dsp, RemotePartyRole.XmlSign, "DSP", clock, Duration.FromDays(365)), store.Parties, clock);
        var signers = new List<(Eui64 User, System.Security.Cryptography.X509Certificates.X509Certificate2 Key)>();
        for (var i = 1; i <= 20; i++)
        {
            var user = new Eui64(0x90B3_D51F_3001_0000UL + (ulong)i);
            await store.Parties.AddUserAsync(new DccUser(user, $"Supplier {i}", DccUserRole.ImportSupplier));
            var key = ca.Issue(user, RemotePartyRole.XmlSign, $"Supplier {i}", clock, Duration.FromDays(365));
            await store.Parties.AddCertificateAsync(OrganisationCertificate.FromX509(key));
            signers.Add((user, key));
        }
        try
        {
            foreach (var (user, key) in signers)
            {
                Assert.Null(await VerifyAsync(security, user, key));
            }
            Assert.Equal(signers.Count, security.CertificatesHeld);

            // Only the first user goes on sending, once a minute, for the idle period and a minute more.
            for (var minute = 1; minute <= DuisMessageSecurity.KeptUnusedFor.TotalMinutes + 1; minute++)
            {
                clock.Advance(Duration.FromMinutes(1));
                Assert.Null(await VerifyAsync(security, signers[0].User, signers[0].Key));
            }

            Assert.Equal(1, security.CertificatesHeld);
            // A user back after its certificate was let go is verified as before (read from the store again).
            Assert.Null(await VerifyAsync(security, signers[1].User, signers[1].Key));
        }
        finally
        {
            foreach (var (_, key) in signers)
            {
                key.Dispose();
            }
        }
    }

    private static Task<string?> VerifyAsync(DuisMessageSecurity security, Eui64 user, System.Security.Cryptography.X509Certificates.X509Certificate2 key) =>
        security.VerifyAsync(DuisSignature.Load(DuisSignature.Sign(Encoding.UTF8.GetBytes(TestHub.Request(user, Meter, 1, 1, "4.1.1")), key)), user);
}
