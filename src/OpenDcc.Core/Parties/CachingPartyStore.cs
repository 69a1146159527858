using NodaTime;
using OpenDcc.Core.Caching;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Security;

namespace OpenDcc.Core.Parties;

/// <summary>
/// Keeps the users the gateway has just looked up, so that a user's burst of requests reads the user once, not once
/// per request. A cached user is used for at most <paramref name="freshFor"/> after it was read; changes made through
/// this store take effect at once, changes made by another process (the CLI) within <paramref name="freshFor"/>.
/// Unknown users are never cached: a user added elsewhere is found on the next request.
/// </summary>
public sealed class CachingPartyStore(IPartyStore inner, IClock clock, Duration freshFor) : IPartyStore
{
    /// <summary>How long a suspension made by another process may take to reach a running hub.</summary>
    public static readonly Duration DefaultFreshness = Duration.FromSeconds(1);

    private readonly FreshnessCache<Eui64, DccUser> users = new(clock, freshFor);

    public Task<DccUser?> FindUserAsync(Eui64 id, CancellationToken cancellationToken = default) =>
        users.GetOrReadAsync(id, inner.FindUserAsync, cancellationToken);

    public async Task AddUserAsync(DccUser user, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(user);
        users.Forget(user.Id);
        await inner.AddUserAsync(user, cancellationToken);
    }

    public Task SetUserStatusAsync(Eui64 id, DccUserStatus status, CancellationToken cancellationToken = default) =>
        users.ChangeAsync(id, () => inner.SetUserStatusAsync(id, status, cancellationToken));

    public Task SetResponseUrlAsync(Eui64 id, Uri? responseUrl, CancellationToken cancellationToken = default) =>
        users.ChangeAsync(id, () => inner.SetResponseUrlAsync(id, responseUrl, cancellationToken));

    public Task SetDistributorsAsync(Eui64 id, DistributorSet distributors, CancellationToken cancellationToken = default) =>
        users.ChangeAsync(id, () => inner.SetDistributorsAsync(id, distributors, cancellationToken));

    public Task<IReadOnlyList<DccUser>> ListUsersAsync(CancellationToken cancellationToken = default) => inner.ListUsersAsync(cancellationToken);

    public Task<bool> AddCertificateAsync(OrganisationCertificate certificate, CancellationToken cancellationToken = default) => inner.AddCertificateAsync(certificate, cancellationToken);

    public Task<OrganisationCertificate?> FindCertificateAsync(string issuerName, string serialNumber, CancellationToken cancellationToken = default) =>
        inner.FindCertificateAsync(issuerName, serialNumber, cancellationToken);

    public Task<IReadOnlyList<OrganisationCertificate>> ListCertificatesAsync(Eui64 entityId, CancellationToken cancellationToken = default) =>
        inner.ListCertificatesAsync(entityId, cancellationToken);

    public Task<bool> RevokeCertificateAsync(string thumbprint, Instant at, CancellationToken cancellationToken = default) =>
        inner.RevokeCertificateAsync(thumbprint, at, cancellationToken);
}
