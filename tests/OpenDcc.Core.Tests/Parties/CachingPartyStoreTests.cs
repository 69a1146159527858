using NodaTime;
using NodaTime.Testing;
using OpenDcc.Core.Catalogue;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Parties;
using OpenDcc.Core.Security;

namespace OpenDcc.Core.Tests.Parties;

public class CachingPartyStoreTests
{
    private static readonly Eui64 Supplier = Eui64.Parse("90-B3-D5-1F-30-01-00-00");

    private readonly FakeClock clock = new(Instant.FromUtc(2026, 11, 29, 9, 0));
    private readonly Users inner = new();

    [Fact]
    public async Task A_user_is_read_once_while_fresh_and_again_after()
    {
        await inner.AddUserAsync(new DccUser(Supplier, "Supplier", DccUserRole.ImportSupplier));
        var store = new CachingPartyStore(inner, clock, Duration.FromSeconds(1));

        await store.FindUserAsync(Supplier);
        clock.Advance(Duration.FromMilliseconds(999));
        await store.FindUserAsync(Supplier);
        Assert.Equal(1, inner.Reads);

        clock.Advance(Duration.FromMilliseconds(1));
        await store.FindUserAsync(Supplier);
        Assert.Equal(2, inner.Reads);
    }

    [Fact]
    public async Task A_suspension_made_by_another_process_is_seen_once_the_cached_user_is_stale()
    {
        await inner.AddUserAsync(new DccUser(Supplier, "Supplier", DccUserRole.ImportSupplier));
        var store = new CachingPartyStore(inner, clock, Duration.FromSeconds(1));
        await store.FindUserAsync(Supplier);

        await inner.SetUserStatusAsync(Supplier, DccUserStatus.Suspended);
        clock.Advance(Duration.FromSeconds(1));

        Assert.Equal(DccUserStatus.Suspended, (await store.FindUserAsync(Supplier))!.Status);
    }

    [Fact]
    public async Task A_suspension_made_by_another_process_is_seen_at_once_after_the_clock_stepped_back()
    {
        await inner.AddUserAsync(new DccUser(Supplier, "Supplier", DccUserRole.ImportSupplier));
        var store = new CachingPartyStore(inner, clock, Duration.FromSeconds(1));
        await store.FindUserAsync(Supplier);

        clock.Reset(clock.GetCurrentInstant() - Duration.FromHours(1));
        await inner.SetUserStatusAsync(Supplier, DccUserStatus.Suspended);

        Assert.Equal(DccUserStatus.Suspended, (await store.FindUserAsync(Supplier))!.Status);
    }

    [Fact]
    public async Task Distributors_set_through_the_store_take_effect_at_once()
    {
        await inner.AddUserAsync(new DccUser(Supplier, "DNO", DccUserRole.ElectricityDistributor));
        var store = new CachingPartyStore(inner, clock, Duration.FromSeconds(1));
        await store.FindUserAsync(Supplier);

        await store.SetDistributorsAsync(Supplier, DistributorSet.Of(Distributor.FromId(13)));

        Assert.True((await store.FindUserAsync(Supplier))!.Distributors.Contains(Distributor.FromId(13)));
    }

    [Fact]
    public async Task A_suspension_made_through_the_store_takes_effect_at_once()
    {
        await inner.AddUserAsync(new DccUser(Supplier, "Supplier", DccUserRole.ImportSupplier));
        var store = new CachingPartyStore(inner, clock, Duration.FromSeconds(1));
        await store.FindUserAsync(Supplier);

        await store.SetUserStatusAsync(Supplier, DccUserStatus.Suspended);

        Assert.Equal(DccUserStatus.Suspended, (await store.FindUserAsync(Supplier))!.Status);
    }

    [Fact]
    public async Task An_unknown_user_is_not_remembered_as_unknown()
    {
        var store = new CachingPartyStore(inner, clock, Duration.FromSeconds(1));
        Assert.Null(await store.FindUserAsync(Supplier));

        await inner.AddUserAsync(new DccUser(Supplier, "Supplier", DccUserRole.ImportSupplier));

        Assert.NotNull(await store.FindUserAsync(Supplier));
    }

    /// <summary>The store behind the cache, counting the user reads that reach it.</summary>
    private sealed class Users : IPartyStore
    {
        private readonly Dictionary<Eui64, DccUser> users = [];

        public int Reads { get; private set; }

        public Task AddUserAsync(DccUser user, CancellationToken cancellationToken = default)
        {
            users.Add(user.Id, user);
            return Task.CompletedTask;
        }

        public Task<DccUser?> FindUserAsync(Eui64 id, CancellationToken cancellationToken = default)
        {
            Reads++;
            return Task.FromResult(users.GetValueOrDefault(id));
        }

        public Task SetUserStatusAsync(Eui64 id, DccUserStatus status, CancellationToken cancellationToken = default)
        {
            users[id] = users[id] with { Status = status };
            return Task.CompletedTask;
        }

        public Task SetDistributorsAsync(Eui64 id, DistributorSet distributors, CancellationToken cancellationToken = default)
        {
            users[id] = users[id] with { Distributors = distributors };
            return Task.CompletedTask;
        }

        public Task SetResponseUrlAsync(Eui64 id, Uri? responseUrl, CancellationToken cancellationToken = default)
        {
            var user = users[id];
            users[id] = new DccUser(user.Id, user.Name, user.Roles, user.Status, responseUrl) { Distributors = user.Distributors };
            return Task.CompletedTask;
        }

        public Task<IReadOnlyList<DccUser>> ListUsersAsync(CancellationToken cancellationToken = default) => Task.FromResult<IReadOnlyList<DccUser>>([.. users.Values]);

        public Task<bool> AddCertificateAsync(OrganisationCertificate certificate, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<OrganisationCertificate?> FindCertificateAsync(string issuerName, string serialNumber, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<IReadOnlyList<OrganisationCertificate>> ListCertificatesAsync(Eui64 entityId, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<bool> RevokeCertificateAsync(string thumbprint, Instant at, CancellationToken cancellationToken = default) => throw new NotSupportedException();
    }
}
