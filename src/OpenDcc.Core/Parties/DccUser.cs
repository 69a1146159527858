using OpenDcc.Core.Catalogue;
using OpenDcc.Core.Identifiers;

namespace OpenDcc.Core.Parties;

/// <summary>Whether a DCC user may currently send service requests (DUIS E3 when not).</summary>
public enum DccUserStatus
{
    Active,
    Suspended,
    Withdrawn,
}

/// <summary>
/// A DCC user: a SEC party identified by its EUI-64 (the business originator ID in every RequestID),
/// holding one or more user roles, with the URL where OpenDcc delivers its asynchronous responses and alerts.
/// </summary>
public sealed record DccUser
{
    public DccUser(Eui64 id, string name, DccUserRole roles, DccUserStatus status = DccUserStatus.Active, Uri? responseUrl = null)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            throw new ArgumentException("a DCC user needs a name", nameof(name));
        }
        if (roles == DccUserRole.None)
        {
            throw new ArgumentException("a DCC user needs at least one role", nameof(roles));
        }
        Id = id;
        Name = name.Trim();
        Roles = roles;
        Status = status;
        ResponseUrl = CheckResponseUrl(responseUrl);
    }

    /// <summary>A response URL as a user may have it: absolute, http or https (or none).</summary>
    /// <exception cref="ArgumentException">any other.</exception>
    public static Uri? CheckResponseUrl(Uri? responseUrl) =>
        responseUrl is null || (responseUrl.IsAbsoluteUri && (responseUrl.Scheme == Uri.UriSchemeHttp || responseUrl.Scheme == Uri.UriSchemeHttps))
            ? responseUrl
            : throw new ArgumentException($"response URL '{responseUrl}' must be an absolute http or https URL", nameof(responseUrl));

    public Eui64 Id { get; }

    public string Name { get; }

    public DccUserRole Roles { get; }

    public DccUserStatus Status { get; init; }

    public Uri? ResponseUrl { get; }

    /// <summary>
    /// The electricity distributors the user acts for: a network operator (ED) reads smart-grid data only of MPANs
    /// whose distributor is here. Empty for users that act for none.
    /// </summary>
    public DistributorSet Distributors { get; init; }
}

public sealed class DuplicateDccUserException(Eui64 id) : Exception($"a DCC user with ID {id} already exists")
{
    public Eui64 Id { get; } = id;
}

public sealed class UnknownDccUserException(Eui64 id) : Exception($"no DCC user has ID {id}")
{
    public Eui64 Id { get; } = id;
}
