using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using System.Text;
using NodaTime;
using OpenDcc.Core.Identifiers;

namespace OpenDcc.Core.Parties;

/// <summary>
/// A DCC user's key to OpenDcc's REST API, sent as <c>Authorization: Bearer TOKEN</c>. The token is
/// <c>odcc_ID_SECRET</c>: a public key ID (for listing and revoking) and 256 random bits. OpenDcc keeps only the
/// token's SHA-256 — enough for a secret of that entropy, which no dictionary can guess (unlike a password) — so a
/// copy of the store does not give the key away; the token is shown once, when issued.
/// </summary>
public sealed record ApiKey(string Id, Eui64 User, Instant CreatedAt, Instant? RevokedAt = null)
{
    public const string TokenPrefix = "odcc_";

    public bool IsRevoked => RevokedAt is not null;

    /// <summary>A new key for a user, and the token to hand over (once) to whoever acts for the user.</summary>
    public static (ApiKey Key, string Token) Issue(Eui64 user, Instant now)
    {
        var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        var token = $"{TokenPrefix}{id}_{Base64Url(RandomNumberGenerator.GetBytes(32))}";
        return (new ApiKey(id, user, now), token);
    }

    /// <summary>What the store keeps of a token and looks keys up by: its SHA-256, lower-case hex.</summary>
    public static string HashOf(string token)
    {
        ArgumentNullException.ThrowIfNull(token);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));
    }

    /// <summary>Whether a text has the token's shape (prefix, 12 hex digits, 43 base64url characters).</summary>
    public static bool IsWellFormed([NotNullWhen(true)] string? token) =>
        token is { Length: 61 }
        && token.StartsWith(TokenPrefix, StringComparison.Ordinal)
        && token[17] == '_'
        && token.AsSpan(5, 12).ContainsAnyExcept("0123456789abcdef") == false
        && token.AsSpan(18).ContainsAnyExcept("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == false;

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}

/// <summary>The REST API keys, as the stores keep them: never the token, only its hash.</summary>
public interface IApiKeyStore
{
    /// <param name="tokenHash"><see cref="ApiKey.HashOf"/> of the token.</param>
    /// <exception cref="UnknownDccUserException">no user has the key's user ID.</exception>
    Task AddAsync(ApiKey key, string tokenHash, CancellationToken cancellationToken = default);

    /// <summary>The key whose token has this hash, revoked or not; null when there is none.</summary>
    Task<ApiKey?> FindByTokenHashAsync(string tokenHash, CancellationToken cancellationToken = default);

    /// <summary>A user's keys, oldest first, revoked ones included.</summary>
    Task<IReadOnlyList<ApiKey>> ListAsync(Eui64 user, CancellationToken cancellationToken = default);

    /// <returns><c>false</c> when no key has that ID or it was already revoked (its revocation time is kept).</returns>
    Task<bool> RevokeAsync(string id, Instant at, CancellationToken cancellationToken = default);
}
