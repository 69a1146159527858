using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using OpenDcc.Core.Catalogue;
using OpenDcc.Core.Duis;

namespace OpenDcc.Hub.Duis;

/// <summary>The DCC Boxed web services: Send Command, Transform and Non-Device, DUIS XML in and out.</summary>
internal static class DuisEndpoints
{
    /// <summary>Larger than any DUIS request (firmware images go by reference, not inline).</summary>
    private const int MaxRequestBytes = 4 * 1024 * 1024;

    public static void MapDuisEndpoints(this IEndpointRouteBuilder routes)
    {
        foreach (var endpoint in Enum.GetValues<DuisEndpoint>())
        {
            routes.MapPost(CommandVariant.PathOf(endpoint), (HttpContext context) => HandleAsync(context, endpoint));
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
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
        var reply = await gateway.HandleAsync(endpoint, buffer.GetBuffer().AsMemory(0, (int)buffer.Length), context.RequestAborted);
        context.Response.StatusCode = reply.StatusCode;
        context.Response.ContentType = reply.ContentType;
        await context.Response.Body.WriteAsync(reply.Body, context.RequestAborted);
    }
}
