using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using NodaTime.Text;
using OpenDcc.Core.Parties;

namespace OpenDcc.Hub.Rest;

/// <summary>
/// Authentication of REST requests: <c>Authorization: Bearer odcc_…</c> with a DCC user's API key (issued by
/// <c>opendcc users api-key</c>; the store holds only its hash). Unknown, revoked or malformed keys, and a missing
/// header, get 401 problem documents saying which; the user a key belongs to is then the caller. Each endpoint
/// decides what that user may do.
/// </summary>
internal static class ApiKeyAuthentication
{
    public static RouteGroupBuilder RequireApiKey(this RouteGroupBuilder group) => group.AddEndpointFilter(AuthenticateAsync);

    /// <summary>The authenticated DCC user of a request that passed <see cref="RequireApiKey"/>.</summary>
    public static DccUser DccUser(this HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return (DccUser)context.Items[typeof(DccUser)]!;
    }

    private static async ValueTask<object?> AuthenticateAsync(EndpointFilterInvocationContext invocation, EndpointFilterDelegate next)
    {
        var context = invocation.HttpContext;
        var header = context.Request.Headers.Authorization.ToString();
        if (header.Length == 0)
        {
            return Problems.Unauthorized(context, "no Authorization header: send 'Authorization: Bearer <API key>' with a key from 'opendcc users api-key'");
        }
        // Kestrel drops the space after a bare "Bearer ": the scheme is right, the key is missing.
        if (header.Trim().Equals("Bearer", StringComparison.OrdinalIgnoreCase))
        {
            return Problems.Unauthorized(context, "Authorization: no API key after Bearer; send 'Bearer <API key>' with a key from 'opendcc users api-key'");
        }
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return Problems.Unauthorized(context, $"Authorization: the {header.Split(' ')[0]} scheme is not accepted; send 'Bearer <API key>'");
        }
        var token = header[7..].Trim();
        if (!ApiKey.IsWellFormed(token))
        {
            return Problems.Unauthorized(context, "Authorization: the bearer token is not an OpenDcc API key (odcc_…)");
        }
        // Not given up when the client goes away: a request with a key that holds is in the message log even then
        // (SmartGridAudit), under the key's user, which only these two look-ups tell.
        var key = await context.RequestServices.GetRequiredService<IApiKeyStore>().FindByTokenHashAsync(ApiKey.HashOf(token), CancellationToken.None);
        if (key is null)
        {
            return Problems.Unauthorized(context, "Authorization: unknown API key");
        }
        if (key.RevokedAt is { } revoked)
        {
            return Problems.Unauthorized(context, $"Authorization: API key {key.Id} was revoked at {InstantPattern.General.Format(revoked)}");
        }
        var user = await context.RequestServices.GetRequiredService<IPartyStore>().FindUserAsync(key.User, CancellationToken.None);
        if (user is null)
        {
            return Problems.Unauthorized(context, $"Authorization: API key {key.Id} belongs to user {key.User}, who is not a DCC user");
        }
        context.Items[typeof(DccUser)] = user;
        return await next(invocation);
    }
}
