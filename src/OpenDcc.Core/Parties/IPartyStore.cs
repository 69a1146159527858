using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Security;

namespace OpenDcc.Core.Parties;

/// <summary>DCC users and their organisation certificates, as the stores keep them.</summary>
public interface IPartyStore
{
    /// <exception cref="DuplicateDccUserException">a user with that ID exists.</exception>
    Task AddUserAsync(DccUser user, CancellationToken cancellationToken = default);

    Task<DccUser?> FindUserAsync(Eui64 id, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<DccUser>> ListUsersAsync(CancellationToken cancellationToken = default);

    /// <exception cref="UnknownDccUserException">no user has that ID.</exception>
    Task SetUserStatusAsync(Eui64 id, DccUserStatus status, CancellationToken cancellationToken = default);

    /// <summary>Sets the electricity distributors the user acts for, replacing those it had.</summary>
    /// <exception cref="UnknownDccUserException">no user has that ID.</exception>
    Task SetDistributorsAsync(Eui64 id, DistributorSet distributors, CancellationToken cancellationToken = default);

    /// <summary>Sets where OpenDcc POSTs the user's asynchronous responses and alerts; null: nowhere (new ones go to the failed queue at once; those queued are sent nowhere, <c>NoResponseUrl</c>, and end in the failed queue unless a URL is set before their next attempt).</summary>
    /// <exception cref="UnknownDccUserException">no user has that ID.</exception>
    Task SetResponseUrlAsync(Eui64 id, Uri? responseUrl, CancellationToken cancellationToken = default);

    /// <summary>Binds a certificate to its user (by the EUI-64 in the certificate).</summary>
    /// <returns><c>false</c> when the same certificate was already bound.</returns>
    /// <exception cref="UnknownDccUserException">no user has the certificate's EUI-64.</exception>
    /// <exception cref="Security.DuplicateCertificateSerialException">another certificate with its issuer and serial number is stored; nothing is stored.</exception>
    Task<bool> AddCertificateAsync(OrganisationCertificate certificate, CancellationToken cancellationToken = default);

    /// <summary>The certificate an XML signature names by <c>X509IssuerSerial</c>.</summary>
    Task<OrganisationCertificate?> FindCertificateAsync(string issuerName, string serialNumber, CancellationToken cancellationToken = default);

    /// <summary>The certificates bound to the user, revoked ones too (<see cref="OrganisationCertificate.RevokedAt"/>).</summary>
    Task<IReadOnlyList<OrganisationCertificate>> ListCertificatesAsync(Eui64 entityId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Revokes the certificate with that thumbprint, recording <paramref name="at"/> as when: it stays bound (listed, with
    /// when it was revoked) but is valid for nothing from the moment it is stored, whatever a reader's clock says of
    /// <paramref name="at"/> (<see cref="OrganisationCertificate.IsValidAt"/>): a revoker's clock ahead of the hub's, or
    /// the hub's stepped back since, does not put a revocation off.
    /// </summary>
    /// <returns><c>false</c> when no certificate has that thumbprint or it was revoked already (its first revocation stands).</returns>
    Task<bool> RevokeCertificateAsync(string thumbprint, NodaTime.Instant at, CancellationToken cancellationToken = default);
}
