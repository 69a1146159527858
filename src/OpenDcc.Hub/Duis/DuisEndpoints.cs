using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using OpenDcc.Core.Catalogue;
using OpenDcc.Core.Duis;
using OpenDcc.Core.Security;

namespace OpenDcc.Hub.Duis;

/// <summary>The DCC Boxed web services: Send Command, Transform and Non-Device, DUIS XML in and out.</summary>
internal static class DuisEndpoints
{
    public static void MapDuisEndpoints(this IEndpointRouteBuilder routes)
    {
        foreach (var endpoint in Enum.GetValues<DuisEndpoint>())
        {
            // DUIS is XML described by its own schemas, not by the REST API's OpenAPI document.
            routes.MapPost(CommandVariant.PathOf(endpoint), (HttpContext context) => HandleAsync(context, endpoint)).ExcludeFromDescription();
        }
    }

    /// <summary>The most a request body's buffer takes before its bytes arrive: room for any DUIS request but a firmware image's.</summary>
    private const int InitialBodyBuffer = 64 * 1024;

    private static async Task HandleAsync(HttpContext context, DuisEndpoint endpoint)
    {
        var gateway = context.RequestServices.GetRequiredService<DuisGateway>();
        // A body over the largest DUIS message (a firmware update with its image inline) is refused unread; what a body
        // within it costs to parse is bounded by DuisRequestShape, checked before the parser.
        if (context.Request.ContentLength > DuisSignature.MaxMessageBytes)
        {
            context.Response.StatusCode = StatusCodes.Status413PayloadTooLarge;
            return;
        }
        // A chunked body has no Content-Length to check first: Kestrel stops reading it at the same limit.
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = DuisSignature.MaxMessageBytes;
        }
        // A body Kestrel cannot read (too large, broken off, garbled) throws BadHttpRequestException, whose status the
        // hub's exception handler answers with.
        // Sized by what arrives: a declared length alone (up to the limit, from a sender yet to send a byte of it) sets
        // the first buffer's size only up to InitialBodyBuffer.
        using var buffer = new MemoryStream(context.Request.ContentLength is { } length ? (int)Math.Min(length, InitialBodyBuffer) : 4096);
        await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
        var reply = await gateway.HandleAsync(endpoint, context.Request.ContentType, buffer.GetBuffer().AsMemory(0, (int)buffer.Length), context.RequestAborted);
        context.Response.StatusCode = reply.StatusCode;
        context.Response.ContentType = reply.ContentType;
        context.Response.ContentLength = reply.Body.Length;
        await context.Response.Body.WriteAsync(reply.Body, context.RequestAborted);
    }
}
