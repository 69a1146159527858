using Microsoft.AspNetCore.Http;

namespace OpenDcc.Hub.Rest;

/// <summary>The REST API's RFC 9457 problem documents (<c>application/problem+json</c>): what is wrong, and where.</summary>
internal static class Problems
{
    /// <summary>400: a request field has a bad value; the document names the field and the value.</summary>
    public static IResult BadField(string field, string? value, string detail) =>
        Results.Problem(
            detail: $"{field}: {detail}",
            statusCode: StatusCodes.Status400BadRequest,
            title: "Invalid request field",
            extensions: new Dictionary<string, object?> { ["field"] = field, ["value"] = value });

    public static IResult BadRequest(string detail) =>
        Results.Problem(detail: detail, statusCode: StatusCodes.Status400BadRequest, title: "Invalid request");

    /// <summary>401, with the RFC 6750 challenge saying a bearer token is wanted.</summary>
    public static IResult Unauthorized(HttpContext context, string detail)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Response.Headers.WWWAuthenticate = "Bearer realm=\"OpenDcc\", error=\"invalid_token\"";
        return Results.Problem(detail: detail, statusCode: StatusCodes.Status401Unauthorized, title: "Not authenticated");
    }

    public static IResult Forbidden(string detail) =>
        Results.Problem(detail: detail, statusCode: StatusCodes.Status403Forbidden, title: "Not allowed");

    public static IResult NotFound(string detail) =>
        Results.Problem(detail: detail, statusCode: StatusCodes.Status404NotFound, title: "Not found");

    public static IResult UnsupportedMediaType(string detail) =>
        Results.Problem(detail: detail, statusCode: StatusCodes.Status415UnsupportedMediaType, title: "Unsupported media type");

    /// <summary>502: the device could not be read; carries the DUIS response code a DUIS user would have got.</summary>
    public static IResult DeviceFailed(string responseCode, string detail) =>
        Results.Problem(
            detail: detail,
            statusCode: StatusCodes.Status502BadGateway,
            title: "The device could not be read",
            extensions: new Dictionary<string, object?> { ["duisResponseCode"] = responseCode });

    public static IResult DeadlinePassed(string detail) =>
        Results.Problem(detail: detail, statusCode: StatusCodes.Status504GatewayTimeout, title: "No answer by the deadline");
}
