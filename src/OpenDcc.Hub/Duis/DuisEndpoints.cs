using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using OpenDcc.Core.Catalogue;
using OpenDcc.Core.Duis;

namespace OpenDcc.Hub.Duis;

/// <summary>The DCC Boxed web services: Send Command, Transform and Non-Device, DUIS XML in and out.</summary>
internal static class DuisEndpoints
{
    /// <summary>
    /// Larger than any DUIS request but a firmware update with an image over about 3 MB (11.1 and 11.4 carry the image
    /// inline; the V5.1 schema allows 10,240,000 bytes): the bound on what a body costs to parse before its signature is
    /// checked (README, "Request size").
    /// </summary>
    private const int MaxRequestBytes = 4 * 1024 * 1024;

    public static void MapDuisEndpoints(this IEndpointRouteBuilder routes)
    {
        foreach (var endpoint in Enum.GetValues<DuisEndpoint>())
        {
            // DUIS is XML described by its own schemas, not by the REST API's OpenAPI document.
            routes.MapPost(CommandVariant.PathOf(endpoint), (HttpContext context) => HandleAsync(context, endpoint)).ExcludeFromDescription();
        }
    }

    private static async Task HandleAsync(HttpContext context, DuisEndpoint endpoint)
    {
        var gateway = context.RequestServices.GetRequiredService<DuisGateway>();
        if (context.Request.ContentLength > MaxRequestBytes)
        {
            context.Response.StatusCode = StatusCodes.Status413PayloadTooLarge;
            return;
        }
        // A chunked body has no Content-Length to check first: Kestrel stops reading it at the same limit.
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = MaxRequestBytes;
        }
        using var buffer = new MemoryStream(context.Request.ContentLength is { } length ? (int)length : 4096);
        try
        {
            await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            context.Response.StatusCode = StatusCodes.Status413PayloadTooLarge;
            return;
        }
        var reply = await gateway.HandleAsync(endpoint, buffer.GetBuffer().AsMemory(0, (int)buffer.Length), context.RequestAborted);
        context.Response.StatusCode = reply.StatusCode;
        context.Response.ContentType = reply.ContentType;
        context.Response.ContentLength = reply.Body.Length;
        await context.Response.Body.WriteAsync(reply.Body, context.RequestAborted);
    }
}
