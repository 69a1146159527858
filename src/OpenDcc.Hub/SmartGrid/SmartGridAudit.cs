using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using OpenDcc.Core.Security;
using OpenDcc.Hub.Rest;

namespace OpenDcc.Hub.SmartGrid;

/// <summary>
/// Puts every smart-grid request of a network operator, and what it was answered, in the message log, as DUIS
/// messages are: the request as received (method, path and query, then the body) and the answer (its JSON, or the
/// problem document) under the HTTP status, both tied by the request's trace identifier. A request that fails before
/// it is answered (the caller went away) is logged with what became of it.
/// </summary>
internal static class SmartGridAudit
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static async ValueTask<object?> LogAsync(EndpointFilterInvocationContext invocation, EndpointFilterDelegate next)
    {
        var context = invocation.HttpContext;
        var clock = context.RequestServices.GetRequiredService<IClock>();
        var log = context.RequestServices.GetRequiredService<MessageLogWriter>();
        var user = context.DccUser().Id;
        var correlation = $"smart-grid {context.TraceIdentifier}";
        var received = clock.GetCurrentInstant();
        // The handler reads the body as a stream; kept so that it can be logged as received.
        context.Request.EnableBuffering();
        object? result;
        try
        {
            result = await next(invocation);
        }
        catch (Exception e)
        {
            await log.AppendAsync([new MessageLogRecord(received, MessageDirection.Inbound, user, correlation, $"Failed: {e.GetType().Name}", await RequestAsync(context.Request))], CancellationToken.None);
            throw;
        }
        var (status, answer) = result switch
        {
            IStatusCodeHttpResult { StatusCode: { } code } and IValueHttpResult { Value: { } value } => (code, JsonSerializer.SerializeToUtf8Bytes(value, value.GetType(), Json)),
            IStatusCodeHttpResult { StatusCode: { } code } => (code, []),
            _ => (StatusCodes.Status200OK, JsonSerializer.SerializeToUtf8Bytes(result, Json)),
        };
        var outcome = status.ToString(System.Globalization.CultureInfo.InvariantCulture);
        await log.AppendAsync(
        [
            new MessageLogRecord(received, MessageDirection.Inbound, user, correlation, outcome, await RequestAsync(context.Request)),
            new MessageLogRecord(clock.GetCurrentInstant(), MessageDirection.Outbound, user, correlation, outcome, answer),
        ], CancellationToken.None);
        return result;
    }

    /// <summary>
    /// The request line's method, path and query, a blank line, then the body as received: as far as it came when it
    /// broke off or went over the size limit (read again, it fails as it failed the handler, whose exception is the outcome).
    /// </summary>
    private static async Task<byte[]> RequestAsync(HttpRequest request)
    {
        using var text = new MemoryStream();
        text.Write(Encoding.UTF8.GetBytes($"{request.Method} {request.Path}{request.QueryString}\n\n"));
        request.Body.Position = 0;
        try
        {
            await request.Body.CopyToAsync(text, CancellationToken.None);
        }
        catch (Exception e) when (e is BadHttpRequestException or IOException)
        {
        }
        return text.ToArray();
    }
}
