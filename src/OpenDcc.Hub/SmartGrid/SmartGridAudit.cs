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
/// it is answered is logged once, as far as it came, with what became of it: its body broke off (the client went
/// away before sending it all), its client went away before it was answered, or the exception it failed with.
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
        // The body is read whole before the handler runs, and not given up when the client goes away (Kestrel's size
        // limit and minimum data rate bound the read): what came of it is then logged whenever the client went. The
        // handler reads it from this one buffer, which the request's own body is replaced by.
        var line = Encoding.UTF8.GetBytes($"{context.Request.Method} {context.Request.Path}{context.Request.QueryString}\n\n");
        var body = new MemoryStream();
        context.Response.RegisterForDispose(body);
        // The request as received: its line, a blank line, then the body as far as it came.
        byte[] Request() => [.. line, .. body.GetBuffer().AsSpan(0, (int)body.Length)];
        try
        {
            await context.Request.Body.CopyToAsync(body, CancellationToken.None);
        }
        catch (Exception e)
        {
            // Kestrel's 400 here is a body that ended before its Content-Length or last chunk, and a read of a connection
            // gone fails as reset (IOException) or aborted (OperationCanceledException): the body broke off. Kestrel's
            // other refusals (an IOException too), over the size limit (413) or too slow (408), are named as thrown.
            var failure = e switch
            {
                BadHttpRequestException { StatusCode: not StatusCodes.Status400BadRequest } => e.GetType().Name,
                IOException or OperationCanceledException => "the body broke off",
                _ => e.GetType().Name,
            };
            await log.AppendAsync([new MessageLogRecord(received, MessageDirection.Inbound, user, correlation, $"Failed: {failure}", Request())], CancellationToken.None);
            throw;
        }
        body.Position = 0;
        context.Request.Body = body;
        object? result;
        try
        {
            result = await next(invocation);
        }
        catch (Exception e)
        {
            var failure = e is OperationCanceledException && context.RequestAborted.IsCancellationRequested ? "the client went away" : e.GetType().Name;
            await log.AppendAsync([new MessageLogRecord(received, MessageDirection.Inbound, user, correlation, $"Failed: {failure}", Request())], CancellationToken.None);
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
            new MessageLogRecord(received, MessageDirection.Inbound, user, correlation, outcome, Request()),
            new MessageLogRecord(clock.GetCurrentInstant(), MessageDirection.Outbound, user, correlation, outcome, answer),
        ], CancellationToken.None);
        return result;
    }
}
