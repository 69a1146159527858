using Microsoft.AspNetCore.Http;
using OpenDcc.Core;

namespace OpenDcc.Hub.Rest;

/// <summary>The REST API's RFC 9457 problem documents (<c>application/problem+json</c>): what is wrong, and where.</summary>
internal static class Problems
{
    /// <summary>400: a request field has a bad value; the document names the field and the value (both cut short, <see cref="Excerpt"/>).</summary>
    /// <remarks>The field is a name the sender chose where it is not one of the request's (a JSON property of any length).</remarks>
    public static IResult BadField(string field, string? value, string detail) =>
        Problem(
            $"{field}: {detail}",
            StatusCodes.Status400BadRequest,
            "Invalid request field",
            new Dictionary<string, object?> { ["field"] = Excerpt.Of(field), ["value"] = value is null ? null : Excerpt.Of(value) });

    public static IResult BadRequest(string detail) =>
        Problem(detail, StatusCodes.Status400BadRequest, "Invalid request");

    /// <summary>401, with the RFC 6750 challenge saying a bearer token is wanted.</summary>
    public static IResult Unauthorized(HttpContext context, string detail)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Response.Headers.WWWAuthenticate = "Bearer realm=\"OpenDcc\", error=\"invalid_token\"";
        return Problem(detail, StatusCodes.Status401Unauthorized, "Not authenticated");
    }

    public static IResult Forbidden(string detail) =>
        Problem(detail, StatusCodes.Status403Forbidden, "Not allowed");

    public static IResult NotFound(string detail) =>
        Problem(detail, StatusCodes.Status404NotFound, "Not found");

    public static IResult UnsupportedMediaType(string detail) =>
        Problem(detail, StatusCodes.Status415UnsupportedMediaType, "Unsupported media type");

    /// <summary>502: the device could not be read; carries the DUIS response code a DUIS user would have got.</summary>
    public static IResult DeviceFailed(string responseCode, string detail) =>
        Problem(
            detail,
            StatusCodes.Status502BadGateway,
            "The device could not be read",
            new Dictionary<string, object?> { ["duisResponseCode"] = responseCode });

    public static IResult DeadlinePassed(string detail) =>
        Problem(detail, StatusCodes.Status504GatewayTimeout, "No answer by the deadline");

    /// <summary>Every problem document's detail is cut short (<see cref="Excerpt"/>): details quote what was sent.</summary>
    private static IResult Problem(string detail, int status, string title, IDictionary<string, object?>? extensions = null) =>
        Results.Problem(detail: Excerpt.Of(detail), statusCode: status, title: title, extensions: extensions);
}
